"""Notifications by e-mail: an outbox written in the caller's transaction, sent by the worker.

``notify(event, recipients, context, dedup_key)`` writes one :class:`Notification` per
recipient in the transaction of the change it announces, so a rolled-back change announces
nothing and a committed one is never forgotten. A django-tasks task delivers the rows;
delivery claims a row with one conditional ``UPDATE`` (so parallel workers never send the
same row at once), renders the event's templates in the recipient's language and time zone
and sends through Django's mail API. A failure schedules the next attempt with exponential
backoff until ``ITSMO_NOTIFICATION_MAX_ATTEMPTS``; then the row is ``failed`` (admin lists
it with the error). The periodic job :func:`send_due` sends what is due: retries, and rows
left queued by a worker that crashed.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from itsmo.core import rows as core_rows

from .models import Notification, NotificationStatus

logger = logging.getLogger(__name__)

#: The events that have templates under ``communications/email/<event>/``.
EVENTS = (
    "assignment",
    "comment",
    "resolution",
    "sla_warning",
    "sla_breach",
    "major_update",
    "major_update_reminder",
)
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_RETRY_BASE_SECONDS = 60
#: A claimed row is retried after this long if its worker never reported back.
CLAIM_LEASE = timedelta(minutes=10)
SEND_BATCH = 200

#: ``(notification, context) -> extra context``: values that exist only when the mail is
#: rendered for sending and are never stored in the outbox (a single-use link's token).
RenderHook = Callable[[Notification, dict[str, Any]], dict[str, Any] | None]
_RENDER_HOOKS: dict[str, list[RenderHook]] = {}


def add_render_hook(event: str, hook: RenderHook) -> None:
    """Call ``hook`` each time a notification of ``event`` is rendered for sending (an app
    registers it in its ``AppConfig.ready``); what it returns joins the template context."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    hooks = _RENDER_HOOKS.setdefault(event, [])
    if hook not in hooks:
        hooks.append(hook)


def max_attempts() -> int:
    return int(getattr(settings, "ITSMO_NOTIFICATION_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))


def retry_delay(attempts: int) -> timedelta:
    """After the ``attempts``-th failure: base, 2 x base, 4 x base … capped at six hours."""
    base = int(getattr(settings, "ITSMO_NOTIFICATION_RETRY_SECONDS", DEFAULT_RETRY_BASE_SECONDS))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


# -- context as JSON -------------------------------------------------------------------------


def _dump(value: Any) -> Any:
    if isinstance(value, models.Model):
        return {"$model": value._meta.label_lower, "pk": value.pk}
    if isinstance(value, dict):
        return {str(k): _dump(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    return value


def _load(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$model", "pk"}:
            model = apps.get_model(value["$model"])
            return model._default_manager.get(pk=value["pk"])
        if set(value) == {"$datetime"}:
            return datetime.fromisoformat(value["$datetime"])
        return {k: _load(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_load(v) for v in value]
    return value


def _message_id() -> str:
    domain = getattr(settings, "ITSMO_MAIL_DOMAIN", "") or (
        settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "itsmo.invalid"
    )
    return make_msgid("itsmo", domain=domain)


# -- writing the outbox -----------------------------------------------------------------------


def notify(
    event: str,
    recipients: Iterable[Any],
    context: dict[str, Any],
    *,
    dedup_key: str = "",
    reference: str = "",
    in_transaction: bool = False,
    new_key: bool = False,
) -> list[Notification]:
    """Queue ``event`` for each recipient (a user, or a bare e-mail address).

    Inactive users, users without an address and repeated addresses are skipped. With a
    ``dedup_key`` each recipient gets the event at most once, ever (the key is stored as
    ``<dedup_key>:<address>``); ``new_key=True`` says the key names a record created in
    this transaction, so it cannot have been used (the rows are inserted without the
    savepoint that a possible duplicate needs). Delivery is enqueued on commit, or at once
    with ``in_transaction=True`` or the database task backend: then the task commits (or
    rolls back) together with the rows. Returns the rows this call created.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    key = dedup_key or f"{event}:{uuid.uuid4().hex}"
    payload = _dump(context)
    now = timezone.now()
    rows, seen = [], set()
    for recipient in recipients:
        if recipient is None:
            continue
        if isinstance(recipient, str):
            user, address = None, recipient.strip()
        else:
            user, address = recipient, (recipient.email or "").strip()
            if not user.is_active:
                continue
        if not address or address.lower() in seen:
            continue
        seen.add(address.lower())
        rows.append(
            Notification(
                event=event,
                recipient=user,
                email=address,
                language=(getattr(user, "language", "") or settings.LANGUAGE_CODE),
                time_zone=getattr(user, "time_zone", "") or "",
                context=payload,
                reference=reference,
                dedup_key=f"{key}:{address.lower()}"[:200],
                message_id=_message_id(),
                created_at=now,
                next_attempt_at=now,
            )
        )
    if not rows:
        return []
    created = core_rows.insert(rows) if new_key else _insert_new(rows)
    ids = [row.pk for row in created]
    if ids:
        from . import tasks

        if in_transaction or _commits_with_data(tasks.deliver_notifications):
            tasks.deliver_notifications.enqueue(ids=ids)
        else:
            transaction.on_commit(lambda: tasks.deliver_notifications.enqueue(ids=ids))
    return created


def _insert_new(rows: list[Notification]) -> list[Notification]:
    """Insert the rows whose deduplication key is new; returns those, with their ids.

    Most events are new (their key names a fresh record), so the rows are inserted at once;
    only when one of them was sent before does a second try leave the known keys out."""
    try:
        with transaction.atomic():
            return core_rows.insert(rows)
    except IntegrityError:
        pass
    with transaction.atomic():
        keys = [row.dedup_key for row in rows]
        existing = set(
            Notification.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True)
        )
        fresh = [row for row in rows if row.dedup_key not in existing]
        Notification.objects.bulk_create(fresh, ignore_conflicts=True)
        return list(Notification.objects.filter(dedup_key__in=[r.dedup_key for r in fresh]))


def _commits_with_data(task) -> bool:
    """Whether ``task`` is enqueued as a row of this database: then it is written in the
    same transaction as the notifications (one commit, and a rollback drops both)."""
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task.get_backend(), DatabaseBackend)


# -- sending ----------------------------------------------------------------------------------


def render(notification: Notification) -> tuple[str, str, str]:
    """Subject, text and HTML of a notification, in its language and time zone.

    The event's render hooks run first (see :func:`add_render_hook`): rendering is part of
    sending, so a hook may issue something fresh for this mail, such as a survey link."""
    context = _load(notification.context)
    context.update(
        {
            "recipient": notification.recipient,
            "base_url": getattr(settings, "ITSMO_BASE_URL", "").rstrip("/"),
            "reference": notification.reference,
        }
    )
    for hook in _RENDER_HOOKS.get(notification.event, ()):
        context.update(hook(notification, context) or {})
    folder = f"communications/email/{notification.event}"
    language = notification.language or settings.LANGUAGE_CODE
    zone = notification.time_zone or settings.TIME_ZONE
    with translation.override(language), timezone.override(zone):
        subject = render_to_string(f"{folder}/subject.txt", context)
        text = render_to_string(f"{folder}/body.txt", context)
        html = render_to_string(f"{folder}/body.html", context)
    subject = " ".join(subject.split())[:250]
    return subject, text.strip() + "\n", html


def build_message(notification: Notification, connection=None) -> EmailMultiAlternatives:
    subject, text, html = render(notification)
    headers = {
        "Message-ID": notification.message_id,
        # RFC 3834: auto-responders must not answer (no loops with our own intake).
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    if notification.reference:
        headers["X-Itsmo-Reference"] = notification.reference
    reply_to = getattr(settings, "ITSMO_MAIL_REPLY_TO", "")
    message = EmailMultiAlternatives(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        [notification.email],
        headers=headers,
        reply_to=[reply_to] if reply_to else None,
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    notification.subject = subject
    return message


def _claim(pk: int, now: datetime) -> bool:
    """Take a due queued row for one attempt; only one caller wins."""
    won = Notification.objects.filter(
        pk=pk, status=NotificationStatus.QUEUED, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_LEASE)
    return won == 1


def deliver(ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Send the due queued notifications among ``ids``; returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    connection = None
    try:
        for pk in ids:
            if not _claim(pk, now):
                continue
            notification = Notification.objects.select_related("recipient").get(pk=pk)
            try:
                if connection is None:
                    connection = get_connection(fail_silently=False)
                build_message(notification, connection).send()
            except ObjectDoesNotExist as error:
                _failed(notification, now, f"the record is gone: {error}", final=True)
                continue
            except Exception as error:  # SMTP, DNS, template: recorded, retried
                logger.warning("notification %s to %s failed: %s", pk, notification.email, error)
                _failed(notification, now, f"{type(error).__name__}: {error}")
                if connection is not None:
                    with contextlib.suppress(Exception):
                        connection.close()
                    connection = None
                continue
            Notification.objects.filter(pk=pk).update(
                status=NotificationStatus.SENT,
                sent_at=timezone.now(),
                last_error="",
                subject=notification.subject,
            )
            sent += 1
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()
    return sent


def _failed(notification: Notification, now: datetime, error: str, final: bool = False) -> None:
    attempts = notification.attempts
    if final or attempts >= max_attempts():
        changes = {"status": NotificationStatus.FAILED}
    else:
        changes = {"next_attempt_at": now + retry_delay(attempts)}
    Notification.objects.filter(pk=notification.pk).update(last_error=error[:2000], **changes)


def due_ids(now: datetime | None = None, limit: int = SEND_BATCH) -> list[int]:
    now = now or timezone.now()
    return list(
        Notification.objects.filter(status=NotificationStatus.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def send_due(now: datetime | None = None) -> int:
    """Send every queued notification that is due (the periodic job)."""
    now = now or timezone.now()
    total = 0
    while True:
        ids = due_ids(now)
        if not ids:
            return total
        total += deliver(ids, now=now)
        if len(ids) < SEND_BATCH:
            return total


@transaction.atomic
def retry_now(notification: Notification) -> None:
    """Queue a failed (or waiting) notification again, due at once (admin action)."""
    Notification.objects.filter(pk=notification.pk).exclude(status=NotificationStatus.SENT).update(
        status=NotificationStatus.QUEUED, next_attempt_at=timezone.now(), attempts=0
    )
