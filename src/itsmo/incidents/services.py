"""The write path of incidents: open, update, transition, assign, comment, resolve, reopen,
close, link, attach. UI, API, e-mail intake, importers and jobs all come through here.

Each operation runs in one transaction: check permission and guard, lock the row, write,
journal, update the SLA clocks (``slm.services``), and queue notifications on commit.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from itsmo.accounts.models import SupportGroup, User
from itsmo.catalog.models import Criticality, Service
from itsmo.cmdb.models import CI
from itsmo.core import config_cache, journal, numbering, rows
from itsmo.core.errors import (
    NotFound,
    PermissionDenied,
    StaleVersion,
    TransitionNotAllowed,
    ValidationFailed,
)
from itsmo.core.versioning import save_versioned
from itsmo.organization import services as organization
from itsmo.organization.models import BusinessUnit, Country, Site
from itsmo.search import services as search
from itsmo.slm import services as slm
from itsmo.surveys import services as surveys

from . import notify
from .models import (
    FINAL_STATES,
    LIFECYCLE,
    OPEN_STATES,
    Attachment,
    Category,
    Channel,
    Incident,
    OnHoldReason,
    PriorityMatrixCell,
    ResolutionCode,
    Status,
)
from .priority import priority_for

PREFIX = "INC"
#: Resolved incidents close automatically after this many days (``ITSMO_INCIDENT_AUTO_CLOSE_DAYS``).
DEFAULT_AUTO_CLOSE_DAYS = 7
DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_ATTACHMENT_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/csv",
    "message/rfc822",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.ms-excel",
)

#: Fields a PATCH may change (assignment goes through :func:`assign`).
EDITABLE_FIELDS = (
    "short_description",
    "description",
    "impact",
    "urgency",
    "category",
    "subcategory",
    "service",
    "ci",
    "country",
    "site",
    "business_unit",
    "affected_user",
    "caused_by_change",
    "problem",
    "is_first_contact_resolution",
    "is_major",
    "major_incident_coordinator",
    "major_update_interval_minutes",
    "post_incident_review",
    "post_incident_review_url",
)


def auto_close_days() -> int:
    return int(getattr(settings, "ITSMO_INCIDENT_AUTO_CLOSE_DAYS", DEFAULT_AUTO_CLOSE_DAYS))


def attachment_max_bytes() -> int:
    return int(getattr(settings, "ITSMO_ATTACHMENT_MAX_BYTES", DEFAULT_ATTACHMENT_MAX_BYTES))


def attachment_types() -> tuple[str, ...]:
    return tuple(getattr(settings, "ITSMO_ATTACHMENT_TYPES", DEFAULT_ATTACHMENT_TYPES))


# -- helpers -------------------------------------------------------------------------------


def _is_staff(actor) -> bool:
    return actor is None or actor.is_staff_member


def _require_staff(actor, what: str) -> None:
    if not _is_staff(actor):
        raise PermissionDenied(f"only service desk staff may {what}")


def _actor(actor) -> User | None:
    return actor if getattr(actor, "pk", None) else None


def priority_matrix() -> dict[tuple[int, int], int]:
    """The configured overrides of the default matrix (kept per process, see
    :mod:`itsmo.core.config_cache`)."""
    return config_cache.cached(
        "incidents.priority-matrix",
        lambda: {
            (cell.impact, cell.urgency): cell.priority for cell in PriorityMatrixCell.objects.all()
        },
    )


def compute_priority(impact: int, urgency: int) -> int:
    try:
        return priority_for(impact, urgency, priority_matrix())
    except ValueError as error:
        field = "impact" if "impact" in str(error) else "urgency"
        raise ValidationFailed(str(error), field=field) from None


def is_major_by_rule(incident: Incident) -> bool:
    """P1 on a service of top criticality makes a major incident."""
    return (
        incident.priority == 1
        and incident.service_id is not None
        and incident.service.criticality == Criticality.CRITICAL
    )


def _check_text(value: Any, field: str, *, required: bool, max_length: int | None) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise ValidationFailed(f"{field} must be text", field=field)
    if required and not text:
        raise ValidationFailed(f"{field} is required", field=field)
    if max_length and len(text) > max_length:
        raise ValidationFailed(f"{field} is longer than {max_length} characters", field=field)
    return text


def _check_level(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in (1, 2, 3):
        raise ValidationFailed(f"{field} must be 1 (high), 2 or 3 (low)", field=field)
    return value


def _check_relations(incident: Incident) -> None:
    """Invariants between the fields of an incident (in memory, before saving)."""
    if incident.site_id and incident.country_id and incident.site.country_id != incident.country_id:
        raise ValidationFailed("the site is not in the incident's country", field="site")
    if incident.site_id and not incident.country_id:
        incident.country = incident.site.country
    if incident.country_id is None:
        incident.region = None
    elif "region" in incident.country._state.fields_cache:
        incident.region = incident.country.region  # read with the country: no query later
    else:
        incident.region_id = incident.country.region_id
    if incident.subcategory_id:
        if not incident.category_id:
            incident.category = incident.subcategory.parent
        if incident.subcategory.parent_id != incident.category_id:
            raise ValidationFailed(
                "the subcategory does not belong to the category", field="subcategory"
            )
    if incident.category_id and incident.category.parent_id is not None:
        raise ValidationFailed("the category must be a top-level category", field="category")
    if incident.major_update_interval_minutes is not None and (
        incident.major_update_interval_minutes < 5
    ):
        raise ValidationFailed(
            "stakeholder updates at most every 5 minutes", field="major_update_interval_minutes"
        )
    if incident.is_major and incident.major_update_interval_minutes:
        if incident.next_major_update_at is None:
            incident.next_major_update_at = timezone.now() + timedelta(
                minutes=incident.major_update_interval_minutes
            )
    elif not incident.is_major:
        incident.next_major_update_at = None


def _check_assignment(group: SupportGroup | None, assignee: User | None) -> None:
    if group is not None and not group.is_active:
        raise ValidationFailed(f"group {group.code} is not active", field="assignment_group")
    if assignee is None:
        return
    if not assignee.is_active or not assignee.is_staff_member:
        raise ValidationFailed("the assignee must be active staff", field="assignee")
    if group is not None and not group.members.filter(pk=assignee.pk).exists():
        raise ValidationFailed(f"{assignee} is not a member of {group}", field="assignee")


def _lock(incident: Incident, version: int | None) -> Incident:
    """The row, locked for this transaction; a stale ``version`` is refused before any write."""
    locked = (
        Incident.objects.select_for_update(of=("self",))
        .select_related("service", "country", "assignment_group")
        .get(pk=incident.pk)
    )
    if version is not None and locked.version != version:
        raise StaleVersion(
            f"incident {locked.number} was changed by someone else "
            f"(you sent version {version}, it is now {locked.version})",
            current_version=locked.version,
            record=locked,
        )
    return locked


def _refuse_final(incident: Incident) -> None:
    if incident.status in FINAL_STATES:
        raise TransitionNotAllowed(
            f"incident {incident.number} is {incident.status} and cannot change", field="status"
        )


def _sync(target: Incident, source: Incident) -> None:
    """Copy the stored state of ``source`` onto the caller's object."""
    for field in Incident._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.fields_cache = dict(source._state.fields_cache)


# -- opening ---------------------------------------------------------------------------------


def open_incident(
    *,
    caller: User,
    short_description: str,
    channel: str,
    actor: User | None,
    description: str = "",
    impact: int = 3,
    urgency: int = 3,
    service: Service | None = None,
    ci: CI | None = None,
    country: Country | None = None,
    site: Site | None = None,
    business_unit: BusinessUnit | None = None,
    category: Category | None = None,
    subcategory: Category | None = None,
    affected_user: User | None = None,
    assignment_group: SupportGroup | None = None,
    assignee: User | None = None,
    is_major: bool = False,
    watchers: Iterable[User] = (),
    idempotency_key: str = "",
    external_source: str = "",
    external_reference: str = "",
    opened_at: datetime | None = None,
) -> Incident:
    """Open an incident: number, priority, clocks, journal, notifications.

    With an ``idempotency_key``, the same key from the same actor returns the incident the
    first call opened (``incident.is_replay`` is then ``True``) instead of a new one; the
    same holds for an ``external_reference`` from the same ``external_source``.
    """
    actor = _actor(actor)
    if actor is not None and not actor.is_staff_member:
        if caller.pk != actor.pk:
            raise PermissionDenied("you may only report incidents for yourself")
        if assignment_group or assignee or is_major or affected_user not in (None, actor):
            raise PermissionDenied("end users may not assign or flag incidents")
    if not caller.is_active:
        raise ValidationFailed("the caller is not an active user", field="caller")
    if channel not in Channel.values:
        raise ValidationFailed(
            f"channel must be one of {', '.join(Channel.values)}", field="channel"
        )
    key = (idempotency_key or "").strip()
    if len(key) > 200:
        raise ValidationFailed(
            "the idempotency key is longer than 200 characters", field="idempotency_key"
        )
    existing = _replay(actor, key, external_source, external_reference)
    if existing is not None:
        return existing
    incident = Incident(
        caller=caller,
        affected_user=affected_user,
        opened_by=actor,
        channel=channel,
        short_description=_check_text(
            short_description, "short_description", required=True, max_length=200
        ),
        description=_check_text(description, "description", required=False, max_length=None),
        impact=_check_level(impact, "impact"),
        urgency=_check_level(urgency, "urgency"),
        service=service,
        ci=ci,
        country=country or (site.country if site else None) or _country_of(caller),
        site=site,
        business_unit=business_unit,
        category=category,
        subcategory=subcategory,
        assignment_group=assignment_group or (service.support_group if service else None),
        assignee=assignee,
        is_major=bool(is_major),
        idempotency_key=key,
        external_source=(external_source or "").strip(),
        external_reference=(external_reference or "").strip(),
        opened_at=opened_at or timezone.now(),
    )
    if ci is not None and incident.country is None:
        incident.country = ci.country
    incident.priority = compute_priority(incident.impact, incident.urgency)
    incident.is_major = incident.is_major or is_major_by_rule(incident)
    _check_assignment(incident.assignment_group, assignee)
    incident.tier = incident.assignment_group.tier if incident.assignment_group else ""
    _check_relations(incident)
    try:
        with transaction.atomic():
            incident.number = numbering.next_reference(PREFIX)
            rows.insert([incident])
            with rows.batch():  # independent writes: one round trip on PostgreSQL
                journal.record_created(incident, actor, at=incident.opened_at)
                if incident.is_major:
                    journal.record_changes(incident, actor, {"is_major": (False, True)})
                incident.started_clocks = slm.attach_clocks(incident)
                search.index(incident, fresh=True)
            watchers = [w for w in watchers if w is not None]
            if watchers:
                incident.watchers.add(*watchers)
            if incident.assignee_id or incident.assignment_group_id:
                notify.assigned(incident, new=True)
    except IntegrityError:
        existing = _replay(actor, key, external_source, external_reference)
        if existing is None:
            raise
        return existing
    incident.is_replay = False
    return incident


def _country_of(user: User):
    """The user's country with its region (from the reference cache when not read yet)."""
    if user.country_id is None or "country" in user._state.fields_cache:
        return user.country
    return organization.country_by_id(user.country_id) or user.country


def _replay(actor, key: str, source: str, reference: str) -> Incident | None:
    found = None
    if key:
        found = Incident.objects.filter(opened_by=actor, idempotency_key=key).first()
    if found is None and reference:
        found = Incident.objects.filter(
            external_source=(source or "").strip(), external_reference=reference.strip()
        ).first()
    if found is not None:
        found.is_replay = True
    return found


# -- updating --------------------------------------------------------------------------------


@transaction.atomic
def update_incident(
    incident: Incident, *, actor: User | None, version: int | None, **changes: Any
) -> Incident:
    """Change fields of an incident (``EDITABLE_FIELDS``); a stale ``version`` gets a 409.

    A new impact or urgency recomputes the priority (and re-baselines the SLA clocks); a P1
    on a critical service becomes a major incident (the flag is never cleared by rule).
    """
    actor = _actor(actor)
    _require_staff(actor, "edit incidents")
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationFailed(f"{unknown[0]} cannot be changed here", field=unknown[0])
    locked = _lock(incident, version)
    _refuse_final(locked)
    before = {name: getattr(locked, name) for name in (*EDITABLE_FIELDS, "priority")}
    for name, value in changes.items():
        if name == "short_description":
            value = _check_text(value, name, required=True, max_length=200)
        elif name in ("description", "post_incident_review"):
            value = _check_text(value, name, required=False, max_length=None)
        elif name in ("impact", "urgency"):
            value = _check_level(value, name)
        elif name in ("is_major", "is_first_contact_resolution"):
            value = bool(value)
        setattr(locked, name, value)
    locked.priority = compute_priority(locked.impact, locked.urgency)
    if "is_major" not in changes and is_major_by_rule(locked):
        locked.is_major = True  # by rule; a flag set or cleared by hand wins
    if locked.is_major and not before["is_major"] and not locked.major_incident_coordinator_id:
        locked.major_incident_coordinator = actor
    _check_relations(locked)
    after = {name: getattr(locked, name) for name in before}
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    if not changed:
        _sync(incident, locked)
        return incident
    fields = [name for name in changed] + ["region", "next_major_update_at"]
    save_versioned(locked, version if version is not None else locked.version, fields)
    journal.record_changes(locked, actor, changed)
    if "priority" in changed or any(
        name in changed for name in ("service", "country", "business_unit")
    ):
        slm.on_priority_change(locked)
    if any(name in changed for name in ("short_description", "description", "country")):
        search.index(locked)  # the text, or the scope the search document carries
    _sync(incident, locked)
    return incident


# -- lifecycle -------------------------------------------------------------------------------


@transaction.atomic
def transition(
    incident: Incident,
    to: str,
    *,
    actor: User | None,
    version: int | None = None,
    reason: str = "",
    resolution_code: str = "",
    resolution_notes: str = "",
    note: str = "",
    now: datetime | None = None,
) -> Incident:
    """Move the incident along its lifecycle (see ``models.LIFECYCLE``).

    ``reason`` is the on-hold reason; resolving needs ``resolution_code`` and
    ``resolution_notes``. End users may only reopen their own resolved incidents.
    """
    actor = _actor(actor)
    now = now or timezone.now()
    locked = _lock(incident, version)
    if to not in Status.values:
        raise ValidationFailed(f"unknown state {to!r}", field="to")
    if actor is not None and not actor.is_staff_member:
        reopen = locked.status == Status.RESOLVED and to == Status.IN_PROGRESS
        own = actor.pk in (locked.caller_id, locked.affected_user_id)
        if not (reopen and own):
            raise PermissionDenied("you may only reopen your own resolved incidents")
    old = locked.status
    previous_resolved_at = locked.resolved_at
    touched = ["status"]
    if to == Status.ON_HOLD:
        if reason and reason not in OnHoldReason.values:
            raise ValidationFailed(
                f"reason must be one of {', '.join(OnHoldReason.values)}", field="reason"
            )
        locked.on_hold_reason = reason
        touched.append("on_hold_reason")
    if to == Status.RESOLVED:
        if resolution_code and resolution_code not in ResolutionCode.values:
            raise ValidationFailed(
                f"resolution_code must be one of {', '.join(ResolutionCode.values)}",
                field="resolution_code",
            )
        locked.resolution_code = resolution_code or locked.resolution_code
        locked.resolution_notes = (resolution_notes or "").strip() or locked.resolution_notes
        touched += ["resolution_code", "resolution_notes"]
    if LIFECYCLE.find(old, to) is not None:
        refusal = LIFECYCLE.refusal(locked, to, actor=actor)
        if refusal is not None:
            if to == Status.ON_HOLD:
                field = "reason"
            elif not locked.resolution_code:
                field = "resolution_code"
            else:
                field = "resolution_notes"
            raise ValidationFailed(refusal, field=field)
    LIFECYCLE.apply(locked, to, actor=actor)
    if old == Status.ON_HOLD:
        locked.on_hold_reason = ""
        touched.append("on_hold_reason")
    first_response = old == Status.NEW and to != Status.CANCELLED and locked.responded_at is None
    if first_response:
        locked.responded_at = now
        touched.append("responded_at")
    if to == Status.RESOLVED:
        locked.resolved_at = now
        locked.resolved_by = actor
        touched += ["resolved_at", "resolved_by"]
    elif to == Status.CLOSED:
        locked.closed_at = now
        touched.append("closed_at")
    elif to == Status.CANCELLED:
        locked.cancelled_at = now
        touched.append("cancelled_at")
    elif old == Status.RESOLVED and to == Status.IN_PROGRESS:
        locked.reopen_count += 1
        locked.resolved_at = None
        locked.resolved_by = None
        locked.resolution_code = ""
        locked.resolution_notes = ""
        touched += ["reopen_count", "resolved_at", "resolved_by"]
        touched += ["resolution_code", "resolution_notes"]
    save_versioned(locked, locked.version, sorted(set(touched)))
    body = note or ""
    if to == Status.ON_HOLD:
        body = f"{OnHoldReason(locked.on_hold_reason).label}. {body}".strip()
    if to == Status.RESOLVED:
        body = f"{ResolutionCode(locked.resolution_code).label}: {locked.resolution_notes}"
    journal.record_state_change(locked, actor, "status", old, to, note=str(body), at=now)
    if first_response:
        slm.on_response(locked, at=now)
    slm.on_state_change(locked, old, to, now=now, resolved_at=previous_resolved_at)
    if to == Status.RESOLVED or old == Status.RESOLVED:
        search.index(locked)  # the resolution notes are searchable
    if to == Status.RESOLVED:
        notify.resolved(locked)
        surveys.on_resolved(locked)
        _resolve_children(locked, actor, now)
    _sync(incident, locked)
    return incident


def _resolve_children(parent: Incident, actor, now: datetime) -> None:
    for child in Incident.objects.filter(parent=parent, status__in=OPEN_STATES).order_by("pk"):
        transition(
            child,
            Status.RESOLVED,
            actor=actor,
            resolution_code=ResolutionCode.RESOLVED_BY_PARENT,
            resolution_notes=f"Resolved with {parent.number}: {parent.resolution_notes}",
            now=now,
        )


def resolve(
    incident: Incident,
    *,
    actor: User | None,
    code: str,
    notes: str,
    version: int | None = None,
) -> Incident:
    return transition(
        incident,
        Status.RESOLVED,
        actor=actor,
        version=version,
        resolution_code=code,
        resolution_notes=notes,
    )


def reopen(incident: Incident, *, actor: User | None, reason: str = "", version=None) -> Incident:
    """Back to in progress from resolved (the caller is not satisfied); counts a reopen."""
    return transition(incident, Status.IN_PROGRESS, actor=actor, version=version, note=reason)


def close_resolved_older_than(days: int, *, now: datetime | None = None) -> int:
    """Close incidents resolved at least ``days`` days ago (the periodic job); one
    transaction per incident, so a crash part-way leaves the rest for the next run."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    closed = 0
    ids = Incident.objects.filter(status=Status.RESOLVED, resolved_at__lte=cutoff).values_list(
        "pk", flat=True
    )
    for pk in list(ids[:5000]):
        incident = Incident(pk=pk)
        try:
            transition(
                incident,
                Status.CLOSED,
                actor=None,
                note=f"Closed automatically {days} days after resolution",
                now=now,
            )
            closed += 1
        except TransitionNotAllowed:
            continue  # reopened in the meantime
    return closed


# -- assignment (functional escalation) ------------------------------------------------------


@transaction.atomic
def assign(
    incident: Incident,
    *,
    actor: User | None,
    group: SupportGroup | None = None,
    assignee: User | None = None,
    version: int | None = None,
    note: str = "",
) -> Incident:
    """Assign to a group and/or a person. Moving to another group is a functional escalation:
    counted, journaled, the tier follows the group and the OLA clocks switch groups."""
    actor = _actor(actor)
    _require_staff(actor, "assign incidents")
    locked = _lock(incident, version)
    _refuse_final(locked)
    new_group = group if group is not None else locked.assignment_group
    if assignee is None and group is not None and group.pk != locked.assignment_group_id:
        new_assignee = None
    else:
        new_assignee = assignee if assignee is not None else locked.assignee
    _check_assignment(new_group, new_assignee)
    before = {
        "assignment_group": locked.assignment_group,
        "assignee": locked.assignee,
        "tier": locked.tier,
    }
    old_group_id = locked.assignment_group_id
    group_changed = (new_group.pk if new_group else None) != old_group_id
    locked.assignment_group = new_group
    locked.assignee = new_assignee
    locked.tier = new_group.tier if new_group else ""
    if group_changed and old_group_id is not None:
        locked.reassignment_count += 1
    after = {"assignment_group": new_group, "assignee": new_assignee, "tier": locked.tier}
    changes = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    if not changes:
        _sync(incident, locked)
        return incident
    save_versioned(
        locked,
        locked.version,
        ["assignment_group", "assignee", "tier", "reassignment_count"],
    )
    journal.record_changes(locked, actor, changes)
    if note.strip():
        journal.add_comment(locked, actor, note.strip(), internal=True)
    if group_changed:
        slm.on_reassignment(locked, old_group_id)
    if "assignee" in changes or group_changed:
        notify.assigned(locked)
    _sync(incident, locked)
    return incident


# -- comments, watchers, major-incident updates ----------------------------------------------


@transaction.atomic
def add_comment(incident: Incident, *, actor: User | None, body: str, internal: bool = False):
    """A public comment (the caller sees it) or an internal work note (staff only).

    The first public comment of staff on a new incident counts as the response."""
    actor = _actor(actor)
    text = _check_text(body, "body", required=True, max_length=20000)
    if internal and not _is_staff(actor):
        raise PermissionDenied("only staff may write internal work notes")
    locked = _lock(incident, None)
    if locked.status in FINAL_STATES:
        raise TransitionNotAllowed(f"incident {locked.number} is {locked.status}", field="status")
    entry = journal.add_comment(locked, actor, text, internal=internal)
    if not internal and actor is not None and actor.is_staff_member and not locked.responded_at:
        now = timezone.now()
        Incident.objects.filter(pk=locked.pk).update(responded_at=now)
        locked.responded_at = now
        slm.on_response(locked, at=now)
    if not internal:
        search.index(locked)
        notify.public_comment(locked, entry.pk, actor.pk if actor else None)
    _sync(incident, locked)
    return entry


@transaction.atomic
def post_major_update(incident: Incident, *, actor: User | None, body: str):
    """A timed public update to the stakeholders of a major incident."""
    actor = _actor(actor)
    _require_staff(actor, "post major-incident updates")
    locked = _lock(incident, None)
    if not locked.is_major:
        raise ValidationFailed(f"{locked.number} is not a major incident", field="is_major")
    text = _check_text(body, "body", required=True, max_length=20000)
    entry = journal.add_comment(locked, actor, text, internal=False)
    search.index(locked)
    if locked.major_update_interval_minutes:
        next_at = timezone.now() + timedelta(minutes=locked.major_update_interval_minutes)
        Incident.objects.filter(pk=locked.pk).update(next_major_update_at=next_at)
        locked.next_major_update_at = next_at
    notify.major_incident_update(locked, entry.pk)
    _sync(incident, locked)
    return entry


@transaction.atomic
def set_watchers(incident: Incident, *, actor: User | None, add=(), remove=()) -> Incident:
    actor = _actor(actor)
    locked = _lock(incident, None)
    others = any(u.pk != getattr(actor, "pk", None) for u in [*add, *remove])
    if actor is not None and not actor.is_staff_member and others:
        raise PermissionDenied("you may only watch or unwatch yourself")
    added = [u for u in add if not locked.watchers.filter(pk=u.pk).exists()]
    removed = [u for u in remove if locked.watchers.filter(pk=u.pk).exists()]
    if added:
        locked.watchers.add(*added)
    if removed:
        locked.watchers.remove(*removed)
    changes = {}
    if added:
        changes["watchers+"] = ("", ", ".join(str(u) for u in added))
    if removed:
        changes["watchers-"] = (", ".join(str(u) for u in removed), "")
    journal.record_changes(locked, actor, changes)
    return incident


# -- parent / child ---------------------------------------------------------------------------


@transaction.atomic
def link_parent(
    child: Incident, parent: Incident | None, *, actor: User | None, version: int | None = None
) -> Incident:
    """Make ``child`` follow ``parent`` (its resolution resolves the child); ``None`` unlinks."""
    actor = _actor(actor)
    _require_staff(actor, "link incidents")
    locked = _lock(child, version)
    _refuse_final(locked)
    if parent is not None:
        if parent.pk == locked.pk:
            raise ValidationFailed("an incident cannot be its own parent", field="parent")
        if parent.status not in OPEN_STATES:
            raise ValidationFailed(f"{parent.number} is not open", field="parent")
        ancestor = parent
        seen = set()
        while ancestor is not None and ancestor.pk not in seen:
            if ancestor.pk == locked.pk:
                raise ValidationFailed("that would make a cycle of parents", field="parent")
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
    before = locked.parent.number if locked.parent_id else ""
    locked.parent = parent
    save_versioned(locked, locked.version, ["parent"])
    journal.record_changes(locked, actor, {"parent": (before, parent.number if parent else "")})
    _sync(child, locked)
    return child


@transaction.atomic
def link_problem(
    incident: Incident, problem, *, actor: User | None, version: int | None = None
) -> Incident:
    """Relate the incident to ``problem`` (``None`` unlinks), in any state: a closed incident
    still counts as evidence of its problem. Used by problem management."""
    actor = _actor(actor)
    _require_staff(actor, "link incidents to problems")
    locked = _lock(incident, version)
    if locked.problem_id == (problem.pk if problem is not None else None):
        _sync(incident, locked)
        return incident
    before = locked.problem.number if locked.problem_id else ""
    locked.problem = problem
    save_versioned(locked, locked.version, ["problem"])
    journal.record_changes(locked, actor, {"problem": (before, problem.number if problem else "")})
    _sync(incident, locked)
    return incident


# -- attachments -----------------------------------------------------------------------------


@transaction.atomic
def add_attachment(
    incident: Incident,
    *,
    actor: User | None,
    file,
    name: str = "",
    internal: bool = False,
) -> Attachment:
    """Store a file through Django's storage after checking size and type.

    The type is taken from the file name's extension (what a browser will open it as), not
    from what the client claims, and must be in ``ITSMO_ATTACHMENT_TYPES``."""
    actor = _actor(actor)
    if internal and not _is_staff(actor):
        raise PermissionDenied("only staff may add internal attachments")
    name = (name or getattr(file, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed(
            "the attachment needs a file name (at most 200 characters)", field="name"
        )
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
        file.seek(0)
    if size > attachment_max_bytes():
        raise ValidationFailed(
            f"{name} is {size} bytes; the limit is {attachment_max_bytes()}", field="file"
        )
    content_type, _ = mimetypes.guess_type(name)
    if content_type not in attachment_types():
        raise ValidationFailed(
            f"files of type {content_type or 'unknown'} are not allowed", field="file"
        )
    locked = _lock(incident, None)
    _refuse_final(locked)
    attachment = Attachment(
        incident=locked,
        name=name,
        content_type=content_type,
        size=size,
        is_internal=internal,
        uploaded_by=actor,
    )
    attachment.file.save(name, file if isinstance(file, File) else File(file), save=False)
    attachment.save()
    journal.record_changes(locked, actor, {"attachment": ("", name)})
    return attachment


# -- reading ---------------------------------------------------------------------------------


#: What a detail view reads on every incident, joined in the one query that loads it. The
#: other links (site, categories, parent, coordinator, problem, change...) are often empty
#: and load on first use: on PostgreSQL, planning a join of all fifteen tables costs more
#: (5-9 ms) than the handful of primary-key reads it saves (~0.2 ms each).
_DETAIL_RELATED = (
    "caller",
    "service",
    "country__region",
    "assignment_group",
    "assignee",
)


def reload(incident: Incident) -> Incident:
    """The incident as stored now, with what a detail view shows."""
    return Incident.objects.select_related(*_DETAIL_RELATED).get(pk=incident.pk)


def get_visible(number: str, user) -> Incident:
    """The incident ``number`` if ``user`` may see it, else :class:`NotFound`."""
    incident = (
        Incident.objects.visible_to(user)
        .select_related(*_DETAIL_RELATED)
        .filter(number=number.upper())
        .first()
    )
    if incident is None:
        raise NotFound(f"no incident {number}")
    return incident


@transaction.atomic
def patch_incident(
    incident: Incident,
    *,
    actor: User | None,
    version: int,
    assignment: dict[str, Any] | None = None,
    **changes: Any,
) -> Incident:
    """Field changes and (optionally) an assignment in one transaction, one version check.

    ``assignment`` holds ``group`` and/or ``assignee`` for :func:`assign`."""
    _lock(incident, version)
    if changes:
        update_incident(incident, actor=actor, version=version, **changes)
    if assignment:
        assign(incident, actor=actor, **assignment)
    return incident


# -- watchers, parent by PATCH, categories (API) -----------------------------------------------


def add_watcher(incident: Incident, *, actor: User | None, user: User) -> Incident:
    """``user`` watches ``incident`` (gets its public comments); journaled. End users may
    only add themselves. Adding a watcher twice changes nothing."""
    if not user.is_active:
        raise ValidationFailed(f"{user.username} is not an active user", field="username")
    return set_watchers(incident, actor=actor, add=[user])


def remove_watcher(incident: Incident, *, actor: User | None, user: User) -> Incident:
    """``user`` stops watching ``incident``; journaled. A user who was not watching is a
    :class:`NotFound`."""
    if not incident.watchers.filter(pk=user.pk).exists():
        raise NotFound(f"{user.username} does not watch {incident.number}", field="username")
    return set_watchers(incident, actor=actor, remove=[user])


#: ``patch_with_parent(parent=KEEP_PARENT)`` leaves the parent link as it is.
KEEP_PARENT = object()


@transaction.atomic
def patch_with_parent(
    incident: Incident,
    *,
    actor: User | None,
    version: int,
    parent: Any = KEEP_PARENT,
    assignment: dict[str, Any] | None = None,
    **changes: Any,
) -> Incident:
    """:func:`patch_incident` and :func:`link_parent` (``None`` unlinks) in one transaction,
    against the one ``version`` the client read."""
    patch_incident(incident, actor=actor, version=version, assignment=assignment, **changes)
    if parent is KEEP_PARENT:
        return incident
    current = Incident.objects.filter(pk=incident.pk).values_list("parent_id", flat=True).get()
    if current != (parent.pk if parent is not None else None):
        link_parent(incident, parent, actor=actor)
    return incident


@transaction.atomic
def create_category(
    *,
    actor: User | None,
    name: str,
    parent: Category | None = None,
    service: Service | None = None,
    sort_order: int = 0,
) -> Category:
    """A new incident category (``parent``: a top-level category, making a subcategory);
    administrators only. Names are unique among siblings."""
    from itsmo.accounts.models import Role

    actor = _actor(actor)
    if actor is not None and not actor.has_role(Role.ADMINISTRATOR):
        raise PermissionDenied("only administrators may define incident categories")
    name = _check_text(name, "name", required=True, max_length=100)
    if parent is not None and parent.parent_id is not None:
        raise ValidationFailed(
            "categories have two levels: the parent must be a top-level category",
            field="parent",
        )
    if not isinstance(sort_order, int) or isinstance(sort_order, bool) or sort_order < 0:
        raise ValidationFailed("sort_order must be a whole number from 0", field="sort_order")
    siblings = Category.objects.filter(parent=parent, name__iexact=name)
    if siblings.exists():
        raise ValidationFailed(f"there already is a category {name!r} here", field="name")
    try:
        with transaction.atomic():
            category = Category.objects.create(
                name=name, parent=parent, service=service, sort_order=sort_order
            )
    except IntegrityError:
        raise ValidationFailed(f"there already is a category {name!r} here", field="name") from None
    journal.record_created(category, actor)
    return category


# -- major-incident update reminders (the periodic job) ---------------------------------------


def remind_overdue_major_updates(now: datetime | None = None, *, limit: int = 1000) -> int:
    """Remind the coordinators of open major incidents whose stakeholder update is overdue
    (``next_major_update_at`` passed without :func:`post_major_update`); returns how many.

    Exactly once per due instant, with any number of workers and across crashes: each due
    incident is claimed with one conditional ``UPDATE`` that moves ``next_major_update_at``
    from the instant just read to the next slot of the interval after ``now``; only the
    caller whose update touched the row queues the reminder, in the same transaction (a
    crash rolls both back and the incident stays due). The reminder's deduplication key
    names the due instant, too. Still no update at the next slot: another reminder.
    """
    now = now or timezone.now()
    due = (
        Incident.objects.filter(
            is_major=True,
            status__in=OPEN_STATES,
            next_major_update_at__lte=now,
            major_update_interval_minutes__gt=0,
        )
        .order_by("next_major_update_at", "pk")
        .values_list("pk", "next_major_update_at", "major_update_interval_minutes")
    )
    reminded = 0
    for pk, due_at, minutes in list(due[:limit]):
        interval = timedelta(minutes=minutes)
        next_at = due_at + ((now - due_at) // interval + 1) * interval
        with transaction.atomic():
            claimed = Incident.objects.filter(
                pk=pk, is_major=True, status__in=OPEN_STATES, next_major_update_at=due_at
            ).update(next_major_update_at=next_at)
            if not claimed:
                continue  # an update was posted, or another worker claimed it
            incident = Incident.objects.select_related(
                "major_incident_coordinator", "assignee", "assignment_group__manager"
            ).get(pk=pk)
            notify.major_update_reminder(incident, due_at)
        reminded += 1
    return reminded
