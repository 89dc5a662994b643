"""E-mail intake: a message opens an incident or comments on one, through incidents.services.

``ingest(raw)`` is the one entry point (the IMAP poller, ``itsmo mail ingest`` and the
quarantine's retry all use it). It is idempotent on the Message-ID: an
:class:`InboundMessage` row with a unique ``message_id`` is written in the same transaction
as the incident or comment, so a message ingested twice (a crash before the IMAP flag was
set, two pollers) acts once.

What a message does:

- automatic mail (auto-replies, out-of-office, bounces, delivery reports, our own
  notifications) is recorded as *ignored* with the reason;
- a reply — an incident number in the subject, or an In-Reply-To/References naming a
  notification we sent or a message we received — becomes a public comment on that incident
  by the sender, if the sender may see it (otherwise it opens a new incident);
- a reply to a closed or cancelled incident opens a new incident that names the old one;
- anything else opens an incident for the sender (channel ``email``);
- attachments (inline images included) go through ``incidents.services.add_attachment``; one
  it refuses (size, type) is named in a work note on the incident;
- a message that cannot be read, or whose processing fails (unknown sender, a refused
  service call, any error) is *quarantined* with the reason and its bytes, for an
  administrator to retry or discard. Nothing is dropped.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from itsmo.accounts import services as accounts
from itsmo.accounts.models import Role, User
from itsmo.core.errors import DomainError, NotFound, PermissionDenied
from itsmo.incidents import services as incidents
from itsmo.incidents.models import FINAL_STATES, Channel

from .models import InboundAction, InboundMessage, InboundStatus, Notification
from .parsing import ParsedMail, UnreadableMail, message_id_of, parse, strip_quoted

logger = logging.getLogger(__name__)

SOURCE = "email"
MAX_RAW_BYTES = 50 * 1024 * 1024


class Quarantine(Exception):
    """Processing refused on purpose: the message goes to the quarantine with this reason."""


@dataclass
class Outcome:
    action: str
    reference: str
    reason: str = ""


def unknown_sender_domains() -> list[str]:
    """Domains whose unknown senders get an end-user account (``*``: any domain)."""
    return [d.lower().lstrip("@") for d in getattr(settings, "ITSMO_MAIL_CREATE_USERS_FOR", [])]


def own_addresses() -> set[str]:
    addresses = {settings.DEFAULT_FROM_EMAIL, getattr(settings, "ITSMO_MAIL_REPLY_TO", "")}
    addresses.add(getattr(settings, "ITSMO_IMAP_USER", ""))
    return {a.strip().lower() for a in addresses if a and "@" in a}


# -- entry points -----------------------------------------------------------------------------


def ingest(raw: bytes, *, source: str = "") -> InboundMessage:
    """Act on one message (bytes as received); returns its row. ``row.is_duplicate`` is
    ``True`` when the Message-ID was seen before (nothing is done again)."""
    message_id = message_id_of(raw)
    existing = InboundMessage.objects.filter(message_id=message_id).first()
    if existing is not None:
        existing.is_duplicate = True
        return existing
    row = _run(raw, InboundMessage(message_id=message_id, source=source[:40], size=len(raw)))
    return row


def retry(row: InboundMessage, *, actor: User | None) -> InboundMessage:
    """Process a quarantined message again (after the cause was fixed)."""
    _require_admin(actor)
    if row.status != InboundStatus.QUARANTINED:
        raise DomainError(_("only quarantined messages can be retried"), field="status")
    return _run(bytes(row.raw), row)


@transaction.atomic
def discard(row: InboundMessage, *, actor: User | None) -> InboundMessage:
    """Give up on a quarantined message; its Message-ID stays known, its bytes are dropped."""
    _require_admin(actor)
    updated = InboundMessage.objects.filter(pk=row.pk, status=InboundStatus.QUARANTINED).update(
        status=InboundStatus.DISCARDED,
        raw=b"",
        processed_at=timezone.now(),
        reason=f"{row.reason}\nDiscarded by {actor or 'the system'}."[:5000].strip(),
    )
    if not updated:
        raise DomainError(_("only quarantined messages can be discarded"), field="status")
    row.refresh_from_db()
    return row


def _require_admin(actor) -> None:
    if actor is not None and not (actor.is_superuser or actor.has_role(Role.ADMINISTRATOR)):
        raise PermissionDenied(_("only administrators may retry or discard e-mail"))


# -- processing -------------------------------------------------------------------------------


def _run(raw: bytes, row: InboundMessage) -> InboundMessage:
    row.is_duplicate = False
    parsed: ParsedMail | None = None
    try:
        if len(raw) > MAX_RAW_BYTES:
            raise Quarantine(f"the message is larger than {MAX_RAW_BYTES} bytes")
        parsed = parse(raw)
        _describe(row, parsed)
        with transaction.atomic():
            outcome = _apply(parsed)
            row.status = (
                InboundStatus.IGNORED if outcome.action == "ignored" else (InboundStatus.PROCESSED)
            )
            row.action = "" if outcome.action == "ignored" else outcome.action
            row.reference = outcome.reference
            row.reason = outcome.reason
            row.raw = b""
            row.processed_at = timezone.now()
            row.save()
        return row
    except IntegrityError as error:
        # Another process ingested the same Message-ID at the same moment?
        existing = None
        if row.pk is None:
            existing = InboundMessage.objects.filter(message_id=row.message_id).first()
        if existing is not None:
            existing.is_duplicate = True
            return existing
        reason = f"IntegrityError: {error}"
    except (UnreadableMail, Quarantine, DomainError) as error:
        reason = getattr(error, "message", None) or str(error)
    except Exception as error:  # never drop a message, whatever went wrong
        logger.exception("e-mail %s could not be processed", row.message_id)
        reason = f"{type(error).__name__}: {error}"
    with transaction.atomic():
        if parsed is not None:
            _describe(row, parsed)
        row.status = InboundStatus.QUARANTINED
        row.action = InboundAction.NONE
        row.reason = str(reason)[:5000]
        row.raw = raw
        row.processed_at = None
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            existing = InboundMessage.objects.get(message_id=row.message_id)
            existing.is_duplicate = True
            return existing
    logger.warning("e-mail %s quarantined: %s", row.message_id, reason)
    return row


def _describe(row: InboundMessage, parsed: ParsedMail) -> None:
    row.sender = parsed.sender[:254]
    row.subject = parsed.subject[:255]
    row.body_html = parsed.html


def _apply(parsed: ParsedMail) -> Outcome:
    if parsed.automatic:
        return Outcome("ignored", "", parsed.automatic)
    if parsed.sender in own_addresses():
        return Outcome("ignored", "", "sent by Itsmo itself (mail loop)")
    user = _sender(parsed)
    target = _replied_incident(parsed, user)
    if target is not None and target.status not in FINAL_STATES:
        body = strip_quoted(parsed.text) or parsed.topic or "(empty message)"
        incidents.add_comment(target, actor=user, body=body)
        _attach(target, user, parsed)
        return Outcome(InboundAction.COMMENTED, target.number)
    description = parsed.text
    if target is not None:
        description = (
            f"Follow-up to {target.number} ({target.get_status_display()}).\n\n{description}"
        )
    incident = incidents.open_incident(
        caller=user,
        actor=user,
        channel=Channel.EMAIL,
        short_description=(parsed.topic or "(no subject)")[:200],
        description=description,
        external_source=SOURCE,
        external_reference=_external_reference(parsed.message_id),
    )
    if not getattr(incident, "is_replay", False):
        _attach(incident, user, parsed)
    return Outcome(InboundAction.OPENED, incident.number)


def _external_reference(message_id: str) -> str:
    if len(message_id) <= 100:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()


def _sender(parsed: ParsedMail) -> User:
    users = list(User.objects.filter(email__iexact=parsed.sender, is_active=True)[:2])
    if len(users) > 1:
        raise Quarantine(f"more than one active user has the address {parsed.sender}")
    if users:
        return users[0]
    domains = unknown_sender_domains()
    domain = parsed.sender.rpartition("@")[2]
    if "*" not in domains and domain not in domains:
        raise Quarantine(
            f"unknown sender {parsed.sender}: no active user has this address and "
            f"ITSMO_MAIL_CREATE_USERS_FOR does not include {domain}"
        )
    if User.objects.filter(email__iexact=parsed.sender).exists():
        raise Quarantine(f"the account of {parsed.sender} is inactive")
    first, _sep, last = parsed.sender_name.partition(" ")
    return accounts.create_user(
        username=_free_username(parsed.sender),
        email=parsed.sender,
        password=None,
        first_name=first[:150],
        last_name=last[:150],
        roles=[Role.END_USER],
        actor=None,
    )


def _free_username(address: str) -> str:
    base = address[:140]
    name, n = base, 1
    while User.objects.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _replied_incident(parsed: ParsedMail, user: User):
    """The incident this message answers, if the sender may see it."""
    numbers = parsed.subject_references()
    ids = [*parsed.in_reply_to, *reversed(parsed.references)]
    if ids:
        numbers += list(
            Notification.objects.filter(message_id__in=ids)
            .exclude(reference="")
            .values_list("reference", flat=True)
        )
        numbers += list(
            InboundMessage.objects.filter(message_id__in=ids)
            .exclude(reference="")
            .values_list("reference", flat=True)
        )
    for number in dict.fromkeys(numbers):
        try:
            return incidents.get_visible(number, user)
        except NotFound:
            continue
    return None


def _attach(incident, user: User, parsed: ParsedMail) -> None:
    refused = []
    for item in parsed.attachments:
        try:
            incidents.add_attachment(
                incident, actor=user, file=ContentFile(item.data, name=item.name), name=item.name
            )
        except DomainError as error:
            refused.append(f"{item.name}: {error.message}")
    if refused:
        note = "Attachments of the e-mail that were not kept:\n" + "\n".join(
            f"- {line}" for line in refused
        )
        incidents.add_comment(incident, actor=None, body=note, internal=True)
