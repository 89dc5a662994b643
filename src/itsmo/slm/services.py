"""The write path of SLA definitions and clocks, the periodic scan and the compliance query.

Clocks are changed only here. ``incidents.services`` calls the ``on_…`` hooks inside its own
transaction on every change that matters (creation, state change, response, reassignment,
priority change); the numbers stored on a clock come from the pure :mod:`itsmo.slm.clock`.

Exactly-once warnings (the scan)
--------------------------------
The scan *claims* a warning or a breach with a conditional ``UPDATE`` (``… WHERE
last_warned_threshold < threshold`` / ``… WHERE state = 'running' AND due_at < now``) and, in
the same transaction, enqueues the e-mail task. django-tasks-db keeps its queue in the same
database, so the claim and the queued e-mail commit together or not at all: a crash before
commit leaves the threshold unclaimed for the next scan; after commit, no later scan can
claim it again. Delivery is therefore *at most once* per threshold: if the worker dies while
the task is sending, that e-mail is lost rather than sent twice (we prefer a missing warning
to a duplicate escalation; the clock, the breach and the UI timers remain correct).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Case, Count, F, Q, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from itsmo.core import config_cache, journal, rows
from itsmo.core.errors import PermissionDenied, ValidationFailed
from itsmo.core.versioning import save_versioned
from itsmo.organization.calendar import Calendar
from itsmo.organization.services import calendar_for, calendar_for_country, default_calendar

from . import clock as clock_math
from .models import (
    ACTIVE_CLOCK_STATES,
    ClockState,
    DefinitionKind,
    Metric,
    PriorityChange,
    RecordType,
    SLAClock,
    SLADefinition,
)

#: How many claimed notices one notification task carries.
NOTICE_BATCH = 1000


# -- definitions ---------------------------------------------------------------------------


def _require_admin(actor) -> None:
    if actor is None:
        return
    from itsmo.accounts.models import Role

    if not actor.has_role(Role.ADMINISTRATOR, Role.PROCESS_OWNER):
        raise PermissionDenied("only administrators and process owners may define SLAs")


def _check_definition(definition: SLADefinition) -> None:
    if definition.kind == DefinitionKind.SLA and not (
        definition.response_target_minutes or definition.resolution_target_minutes
    ):
        raise ValidationFailed(
            "give a response or a resolution target", field="resolution_target_minutes"
        )
    if definition.kind == DefinitionKind.OLA and not definition.resolution_target_minutes:
        raise ValidationFailed(
            "an OLA needs a target for the time with the group", field="resolution_target_minutes"
        )
    if definition.priority is not None and definition.priority not in range(1, 6):
        raise ValidationFailed("priority must be 1-5", field="priority")
    thresholds = definition.warning_thresholds
    if not isinstance(thresholds, list) or any(
        not isinstance(t, int) or isinstance(t, bool) or not 0 < t < 100 for t in thresholds
    ):
        raise ValidationFailed(
            "warning thresholds are whole percentages between 1 and 99",
            field="warning_thresholds",
        )
    definition.warning_thresholds = sorted(set(thresholds))
    from itsmo.incidents.models import Status

    states = definition.pause_states
    if not isinstance(states, list) or any(s not in Status.values for s in states):
        raise ValidationFailed(
            f"pause states must be among {', '.join(Status.values)}", field="pause_states"
        )
    if definition.on_priority_change not in PriorityChange.values:
        raise ValidationFailed("re-baseline or keep", field="on_priority_change")
    if definition.record_type not in RecordType.values:
        raise ValidationFailed("unknown record type", field="record_type")
    if SLADefinition.objects.filter(name=definition.name).exclude(pk=definition.pk).exists():
        raise ValidationFailed(f"an SLA named {definition.name!r} exists", field="name")


@transaction.atomic
def create_definition(*, actor=None, **values) -> SLADefinition:
    """Create an SLA or OLA definition; it applies to records opened from now on."""
    _require_admin(actor)
    definition = SLADefinition(**values)
    _check_definition(definition)
    definition.save()
    journal.record_created(definition, actor)
    return definition


#: What an edit may change; the kind and the record type stay (clocks exist of them).
EDITABLE_DEFINITION_FIELDS = (
    "name",
    "description",
    "service",
    "priority",
    "country",
    "region",
    "business_unit",
    "support_group",
    "response_target_minutes",
    "resolution_target_minutes",
    "calendar",
    "pause_states",
    "on_priority_change",
    "warning_thresholds",
    "is_active",
)


@transaction.atomic
def update_definition(
    definition: SLADefinition, *, actor=None, version: int | None, **changes
) -> SLADefinition:
    """Change a definition (``EDITABLE_DEFINITION_FIELDS``); a stale ``version`` is refused.

    A clock copies its target and warning thresholds when it starts, so new targets apply
    to records opened from now on (and to the clocks a later priority change re-baselines);
    the calendar and the pause states are read at each clock update, so a corrected
    calendar reaches the running clocks too. Deactivating stops new attachments.
    """
    _require_admin(actor)
    unknown = sorted(set(changes) - set(EDITABLE_DEFINITION_FIELDS))
    if unknown:
        raise ValidationFailed(f"{unknown[0]} cannot be changed", field=unknown[0])
    old = {name: getattr(definition, name) for name in changes}
    for name, value in changes.items():
        setattr(definition, name, value)
    _check_definition(definition)
    changed = {name: (old[name], getattr(definition, name)) for name in changes}
    changed = {name: pair for name, pair in changed.items() if pair[0] != pair[1]}
    if not changed:
        return definition
    save_versioned(definition, version, list(changed))
    journal.record_changes(definition, actor, changed)
    return definition


# -- calendars and matching ---------------------------------------------------------------


def calendar_for_record(definition: SLADefinition, incident) -> Calendar:
    """The definition's calendar, else the record country's, else weekdays 08-18 UTC."""
    if definition.calendar_id is not None:
        return calendar_for(definition.calendar)
    if incident.country_id is not None:
        return config_cache.cached(
            f"slm.country-calendar:{incident.country_id}",
            lambda: calendar_for_country(incident.country),
        )
    return default_calendar("UTC")


def applies(definition: SLADefinition, incident) -> bool:
    """Whether ``definition`` (active, for incidents) applies to ``incident``."""

    def any_or(value, wanted) -> bool:
        return value is None or value == wanted

    return (
        any_or(definition.priority, incident.priority)
        and any_or(definition.service_id, incident.service_id)
        and any_or(definition.country_id, incident.country_id)
        and any_or(definition.region_id, incident.region_id)
        and any_or(definition.business_unit_id, incident.business_unit_id)
        and (
            definition.kind != DefinitionKind.OLA
            or (
                incident.assignment_group_id is not None
                and any_or(definition.support_group_id, incident.assignment_group_id)
            )
        )
    )


def matching_definitions(incident, kind: str | None = DefinitionKind.SLA) -> list[SLADefinition]:
    """The active incident definitions of ``kind`` (every kind for ``None``) that apply to
    ``incident``: one read of the active definitions (a handful), matched in memory."""
    return [
        d
        for d in _active_incident_definitions()
        if (kind is None or d.kind == kind) and applies(d, incident)
    ]


def _active_incident_definitions() -> list[SLADefinition]:
    """Every active incident definition, kept per process (see
    :mod:`itsmo.core.config_cache`): every new incident reads them."""
    return config_cache.cached(
        "slm.incident-definitions",
        lambda: list(
            SLADefinition.objects.filter(is_active=True, record_type=RecordType.INCIDENT)
            .select_related("calendar")
            .order_by("pk")
        ),
    )


# -- reading and storing a clock -----------------------------------------------------------


def _parse_pauses(pauses: list) -> list[clock_math.Pause]:
    return [
        (parse_datetime(since), parse_datetime(until) if until else None) for since, until in pauses
    ]


def _pauses(clock: SLAClock) -> list[clock_math.Pause]:
    return _parse_pauses(clock.pauses)


def _refresh(clock: SLAClock, calendar: Calendar, now: datetime) -> None:
    """Recompute the stored numbers of ``clock`` from its history (in memory only)."""
    if clock.state == ClockState.CANCELLED:
        return
    pauses = _pauses(clock)
    reading = clock_math.read_clock(
        calendar, clock.started_at, pauses, clock.target_seconds, now, clock.stopped_at
    )
    clock.elapsed_business_seconds = reading.elapsed_seconds
    clock.paused_seconds = reading.paused_seconds
    clock.due_at = reading.due_at
    if reading.state == clock_math.BREACHED:
        if clock.breached_at is None:
            clock.breached_at = reading.due_at
        clock.state = ClockState.BREACHED
    else:
        clock.state = reading.state
        clock.breached_at = None
    _plan_warning(clock, calendar, pauses, now, reading)


def _plan_warning(
    clock: SLAClock,
    calendar: Calendar,
    pauses: Sequence[clock_math.Pause],
    now: datetime,
    reading: clock_math.ClockReading,
) -> None:
    threshold = clock_math.next_threshold(clock.warning_thresholds, clock.last_warned_threshold)
    if threshold is None or clock.state != ClockState.RUNNING or not clock.target_seconds:
        clock.next_warning_threshold = threshold
        clock.next_warning_at = None
        return
    clock.next_warning_threshold = threshold
    clock.next_warning_at = clock_math.reach_instant(
        calendar, clock.started_at, pauses, clock.target_seconds * threshold / 100, now
    )


_CLOCK_FIELDS = [
    "stopped_at",
    "pauses",
    "elapsed_business_seconds",
    "paused_seconds",
    "state",
    "due_at",
    "next_warning_threshold",
    "next_warning_at",
    "breached_at",
    "updated_at",
]


def _new_clock(
    incident, definition: SLADefinition, metric: str, minutes: int, start: datetime, **extra
) -> SLAClock:
    return SLAClock(
        definition=definition,
        incident=incident,
        metric=metric,
        target_seconds=minutes * 60,
        started_at=start,
        warning_thresholds=list(definition.warning_thresholds or []),
        **extra,
    )


def _initial_pauses(definition: SLADefinition, incident, start: datetime) -> list:
    if incident.status in (definition.pause_states or []):
        return [[start.isoformat(), None]]
    return []


@dataclass
class _Context:
    now: datetime
    calendars: dict[tuple, Calendar]

    def calendar(self, definition: SLADefinition, incident) -> Calendar:
        if definition.calendar_id is not None:
            key = ("definition", definition.calendar_id)
        else:
            key = ("country", incident.country_id)
        if key not in self.calendars:
            self.calendars[key] = calendar_for_record(definition, incident)
        return self.calendars[key]


def attach_clocks(incident, *, now: datetime | None = None) -> list[SLAClock]:
    """Start a clock for every target of every definition matching a new incident."""
    now = now or timezone.now()
    context = _Context(now, {})
    clocks = []
    start = incident.opened_at
    definitions = matching_definitions(incident, None)
    for definition in definitions:
        if definition.kind != DefinitionKind.SLA:
            continue
        if definition.response_target_minutes:
            stopped = {"stopped_at": incident.responded_at} if incident.responded_at else {}
            clocks.append(
                _new_clock(
                    incident,
                    definition,
                    Metric.RESPONSE,
                    definition.response_target_minutes,
                    start,
                    **stopped,
                )
            )
        if definition.resolution_target_minutes:
            clocks.append(
                _new_clock(
                    incident,
                    definition,
                    Metric.RESOLUTION,
                    definition.resolution_target_minutes,
                    start,
                    pauses=_initial_pauses(definition, incident, start),
                )
            )
    clocks += _ola_clocks(incident, start, [d for d in definitions if d.kind == DefinitionKind.OLA])
    for item in clocks:
        _refresh(item, context.calendar(item.definition, incident), now)
    return rows.insert(clocks)


def _ola_clocks(incident, start: datetime, definitions=None) -> list[SLAClock]:
    """OLA clocks for the incident's current group (``definitions``: the matching OLA
    definitions, when the caller already read them)."""
    if definitions is None:
        definitions = matching_definitions(incident, DefinitionKind.OLA)
    return [
        _new_clock(
            incident,
            definition,
            Metric.OLA,
            definition.resolution_target_minutes,
            start,
            pauses=_initial_pauses(definition, incident, start),
            **_group_of(incident),
        )
        for definition in definitions
        if definition.resolution_target_minutes
    ]


def _group_of(incident) -> dict:
    """The incident's group for an OLA clock: the object when it is already in memory."""
    if "assignment_group" in incident._state.fields_cache:
        return {"support_group": incident.assignment_group}
    return {"support_group_id": incident.assignment_group_id}


def _active_clocks(incident) -> list[SLAClock]:
    return list(
        SLAClock.objects.select_for_update(of=("self",))
        .filter(incident=incident, state__in=ACTIVE_CLOCK_STATES | {ClockState.BREACHED})
        .filter(stopped_at__isnull=True)
        .select_related("definition", "definition__calendar")
    )


def _save(clocks: Iterable[SLAClock], now: datetime) -> None:
    clocks = list(clocks)
    for item in clocks:
        item.updated_at = now
    if clocks:
        SLAClock.objects.bulk_update(clocks, _CLOCK_FIELDS)


def _open_pause(clock: SLAClock, at: datetime) -> None:
    if not clock.pauses or clock.pauses[-1][1] is not None:
        clock.pauses = [*clock.pauses, [at.isoformat(), None]]


def _close_pause(clock: SLAClock, at: datetime) -> None:
    if clock.pauses and clock.pauses[-1][1] is None:
        clock.pauses = [*clock.pauses[:-1], [clock.pauses[-1][0], at.isoformat()]]


def on_state_change(
    incident, old: str, new: str, *, now: datetime | None = None, resolved_at=None
) -> None:
    """Pause, resume, stop, cancel or resume-after-reopen the incident's clocks."""
    now = now or timezone.now()
    context = _Context(now, {})
    changed: list[SLAClock] = []
    if new == "in_progress" and old == "resolved" and resolved_at is not None:
        _resume_after_reopen(incident, resolved_at, now)
    for item in _active_clocks(incident):
        definition = item.definition
        if new == "cancelled":
            _close_pause(item, now)
            item.stopped_at = now
            item.state = ClockState.CANCELLED
            item.next_warning_at = None
            changed.append(item)
            continue
        if new == "resolved":
            _close_pause(item, now)
            item.stopped_at = now
        elif new in (definition.pause_states or []):
            _open_pause(item, now)
        else:
            _close_pause(item, now)
        _refresh(item, context.calendar(definition, incident), now)
        changed.append(item)
    _save({id(c): c for c in changed}.values(), now)


def _resume_after_reopen(incident, resolved_at: datetime, now: datetime) -> None:
    """Clocks stopped by the resolution run again; the time spent resolved is a pause."""
    context = _Context(now, {})
    resumed = list(
        SLAClock.objects.select_for_update(of=("self",))
        .filter(incident=incident, stopped_at=resolved_at)
        .exclude(metric=Metric.RESPONSE)
        .exclude(state=ClockState.CANCELLED)
        .select_related("definition", "definition__calendar")
    )
    for item in resumed:
        if item.metric == Metric.OLA and item.support_group_id != incident.assignment_group_id:
            continue
        item.pauses = [*item.pauses, [resolved_at.isoformat(), now.isoformat()]]
        item.stopped_at = None
        item.state = ClockState.RUNNING
        _refresh(item, context.calendar(item.definition, incident), now)
    _save(resumed, now)


def on_response(incident, *, at: datetime) -> None:
    """The first response: response clocks stop."""
    context = _Context(at, {})
    clocks = [c for c in _active_clocks(incident) if c.metric == Metric.RESPONSE]
    for item in clocks:
        _close_pause(item, at)
        item.stopped_at = at
        _refresh(item, context.calendar(item.definition, incident), at)
    _save(clocks, at)


def on_reassignment(incident, old_group_id: int | None, *, now: datetime | None = None) -> None:
    """Functional escalation: the old group's OLA clocks stop, the new group's start."""
    now = now or timezone.now()
    context = _Context(now, {})
    stopped = [
        c
        for c in _active_clocks(incident)
        if c.metric == Metric.OLA and c.support_group_id != incident.assignment_group_id
    ]
    for item in stopped:
        _close_pause(item, now)
        item.stopped_at = now
        _refresh(item, context.calendar(item.definition, incident), now)
    _save(stopped, now)
    if incident.assignment_group_id is None or incident.status not in (
        "new",
        "in_progress",
        "on_hold",
    ):
        return
    already = set(
        SLAClock.objects.filter(
            incident=incident,
            metric=Metric.OLA,
            support_group_id=incident.assignment_group_id,
            stopped_at__isnull=True,
        ).values_list("definition_id", flat=True)
    )
    new = [c for c in _ola_clocks(incident, now) if c.definition_id not in already]
    for item in new:
        _refresh(item, context.calendar(item.definition, incident), now)
    SLAClock.objects.bulk_create(new)


def on_priority_change(incident, *, now: datetime | None = None) -> list[SLAClock]:
    """Re-baseline: clocks of definitions that no longer match are cancelled and the newly
    matching definitions start from the incident's opening, with the same pause history.
    Definitions set to *keep* keep their clocks, and no new clock replaces them."""
    now = now or timezone.now()
    context = _Context(now, {})
    matching = {d.pk: d for d in matching_definitions(incident, DefinitionKind.SLA)}
    current = list(
        SLAClock.objects.select_for_update(of=("self",))
        .filter(incident=incident, metric__in=[Metric.RESPONSE, Metric.RESOLUTION])
        .exclude(state=ClockState.CANCELLED)
        .select_related("definition")
    )
    kept_metrics = set()
    history: dict[str, SLAClock] = {}
    cancelled = []
    for item in current:
        keep = (
            item.definition_id in matching
            or item.definition.on_priority_change == PriorityChange.KEEP
        )
        if keep:
            kept_metrics.add(item.metric)
            continue
        history[item.metric] = item
        item.state = ClockState.CANCELLED
        item.stopped_at = item.stopped_at or now
        item.next_warning_at = None
        cancelled.append(item)
    _save(cancelled, now)
    have = {(c.definition_id, c.metric) for c in current if c.state != ClockState.CANCELLED}
    created = []
    for definition in matching.values():
        targets = [
            (Metric.RESPONSE, definition.response_target_minutes),
            (Metric.RESOLUTION, definition.resolution_target_minutes),
        ]
        for metric, minutes in targets:
            if not minutes or (definition.pk, metric) in have or metric in kept_metrics:
                continue
            previous = history.get(metric)
            extra = {}
            if previous is not None:
                extra["pauses"] = list(previous.pauses)
                extra["last_warned_threshold"] = previous.last_warned_threshold
            elif metric == Metric.RESOLUTION:
                extra["pauses"] = _initial_pauses(definition, incident, now)
            if metric == Metric.RESPONSE and incident.responded_at:
                extra["stopped_at"] = incident.responded_at
            if metric == Metric.RESOLUTION and incident.resolved_at:
                extra["stopped_at"] = incident.resolved_at
            created.append(
                _new_clock(incident, definition, metric, minutes, incident.opened_at, **extra)
            )
    for item in created:
        _refresh(item, context.calendar(item.definition, incident), now)
    return SLAClock.objects.bulk_create(created)


def refresh_clocks(incident, *, now: datetime | None = None) -> None:
    """Bring the stored numbers of the incident's moving clocks up to ``now``."""
    now = now or timezone.now()
    context = _Context(now, {})
    clocks = _active_clocks(incident)
    for item in clocks:
        _refresh(item, context.calendar(item.definition, incident), now)
    _save(clocks, now)


# -- the periodic scan ---------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    breached: int
    warned: int


def _enqueue_notices(kind: str, notices: list[tuple[int, int]]) -> None:
    """Queue the claimed notices in batches, in the caller's (the claim's) transaction.

    The scan stays set-based: writing one notification per clock is the worker's job."""
    from . import tasks

    for index in range(0, len(notices), NOTICE_BATCH):
        batch = [list(notice) for notice in notices[index : index + NOTICE_BATCH]]
        tasks.send_sla_notices.enqueue(kind=kind, notices=batch)


def scan_clocks(now: datetime | None = None) -> ScanResult:
    """Mark breaches and send warnings: set-based, crash-safe, exactly one claim each.

    1. One ``UPDATE`` turns every running clock whose due instant has passed into a breach.
    2. Breaches not yet announced (from step 1 or found by a service) are claimed with one
       ``UPDATE`` and their e-mails queued in the same transaction.
    3. Warnings: one ``UPDATE`` claims every running clock whose ``next_warning_at`` has
       passed (``last_warned_threshold`` moves up to that threshold, only if still below);
       the claimed rows get their next threshold planned and their e-mails queued. This
       repeats while a clock crossed several thresholds since the last scan.
    """
    now = now or timezone.now()
    warned = 0
    with transaction.atomic():
        breached = SLAClock.objects.filter(
            state=ClockState.RUNNING, due_at__lt=now, is_imported=False
        ).update(
            state=ClockState.BREACHED,
            breached_at=F("due_at"),
            next_warning_at=None,
            updated_at=now,
        )
        token = uuid.uuid4().hex
        SLAClock.objects.filter(
            state=ClockState.BREACHED,
            breach_notified_at__isnull=True,
            stopped_at__isnull=True,
            is_imported=False,
        ).update(breach_notified_at=now, claim_token=token)
        notices = list(
            SLAClock.objects.filter(claim_token=token, breach_notified_at=now).values_list(
                "pk", "target_seconds"
            )
        )
        _enqueue_notices("breach", [(pk, 100) for pk, _ in notices])
    for _ in range(10):
        claimed = _claim_warnings(now)
        if not claimed:
            break
        warned += claimed
    return ScanResult(breached=breached, warned=warned)


def _claim_warnings(now: datetime) -> int:
    with transaction.atomic():
        token = uuid.uuid4().hex
        claimed = SLAClock.objects.filter(
            state=ClockState.RUNNING,
            next_warning_at__lte=now,
            next_warning_threshold__gt=F("last_warned_threshold"),
        ).update(
            last_warned_threshold=F("next_warning_threshold"),
            next_warning_at=None,
            claim_token=token,
            updated_at=now,
        )
        if not claimed:
            return 0
        rows = list(
            SLAClock.objects.filter(claim_token=token)
            .order_by("pk")
            .values_list(
                "pk",
                "started_at",
                "pauses",
                "target_seconds",
                "warning_thresholds",
                "last_warned_threshold",
                "definition__calendar_id",
                "incident__country_id",
            )
        )
        calendars = _ScanCalendars()
        planned = []
        for pk, started, pauses, target, thresholds, warned, calendar_id, country_id in rows:
            threshold = clock_math.next_threshold(thresholds, warned)
            at = None
            if threshold is not None:
                at = clock_math.reach_instant(
                    calendars.get(calendar_id, country_id),
                    started,
                    _parse_pauses(pauses),
                    target * threshold / 100,
                    now,
                )
            planned.append((threshold, at, pk))
        _write_next_warnings(planned)
        _enqueue_notices("warning", [(row[0], row[5]) for row in rows])
    return claimed


class _ScanCalendars:
    """Calendars by (definition calendar, incident country), built once per scan."""

    def __init__(self) -> None:
        self._cache: dict[tuple, Calendar] = {}

    def get(self, calendar_id: int | None, country_id: int | None) -> Calendar:
        key = (calendar_id, None) if calendar_id else (None, country_id)
        if key not in self._cache:
            from itsmo.organization.models import BusinessCalendar, Country

            if calendar_id:
                calendar = calendar_for(BusinessCalendar.objects.get(pk=calendar_id))
            elif country_id:
                country = Country.objects.select_related("calendar").get(pk=country_id)
                calendar = calendar_for_country(country)
            else:
                calendar = default_calendar("UTC")
            self._cache[key] = calendar
        return self._cache[key]


def _write_next_warnings(planned: list[tuple[int | None, datetime | None, int]]) -> None:
    """``UPDATE`` each claimed clock's next threshold, as one batched statement."""
    if not planned:
        return
    table = connection.ops.quote_name(SLAClock._meta.db_table)
    sql = f"UPDATE {table} SET next_warning_threshold = %s, next_warning_at = %s WHERE id = %s"
    with connection.cursor() as cursor:
        cursor.executemany(sql, planned)


# -- compliance ----------------------------------------------------------------------------

#: Dimensions a compliance query can group by, and the column each reads.
DIMENSIONS = {
    "service": "incident__service",
    "priority": "incident__priority",
    "group": "incident__assignment_group",
    "country": "incident__country",
    "region": "incident__region",
    "metric": "metric",
    "definition": "definition",
    "kind": "definition__kind",
    "month": "month",
}


def compliance(
    start: datetime,
    end: datetime,
    *,
    group_by: Sequence[str] = (),
    kind: str | None = DefinitionKind.SLA,
    metric: str | None = None,
    service=None,
    priority: int | None = None,
    group=None,
    country=None,
    region=None,
    user=None,
) -> list[dict]:
    """Share of SLA targets met among the clocks decided in ``[start, end)``.

    A clock is decided when it stops (achieved or breached at the stop) or breaches while
    running. Imported clocks count with the outcome the source recorded. Each row holds the
    ``group_by`` dimensions (ids; ``month`` as a date), ``total``, ``met``, ``breached`` and
    ``compliance`` (0-1, ``None`` for no clocks). OLA rows group by the clock's group.
    ``user`` limits the rows to incidents that user may see.
    """
    unknown = [d for d in group_by if d not in DIMENSIONS]
    if unknown:
        raise ValidationFailed(f"cannot group by {', '.join(unknown)}", field="group_by")
    clocks = SLAClock.objects.annotate(decided_at=Coalesce("stopped_at", "breached_at")).filter(
        decided_at__gte=start, decided_at__lt=end
    )
    clocks = clocks.exclude(state=ClockState.CANCELLED)
    if kind:
        clocks = clocks.filter(definition__kind=kind)
    if metric:
        clocks = clocks.filter(metric=metric)
    if service is not None:
        clocks = clocks.filter(incident__service=service)
    if priority is not None:
        clocks = clocks.filter(incident__priority=priority)
    if group is not None:
        field = "support_group" if kind == DefinitionKind.OLA else "incident__assignment_group"
        clocks = clocks.filter(**{field: group})
    if country is not None:
        clocks = clocks.filter(incident__country=country)
    if region is not None:
        clocks = clocks.filter(incident__region=region)
    if user is not None:
        from itsmo.incidents.models import Incident

        clocks = clocks.filter(incident__in=Incident.objects.visible_to(user).values("pk"))
    columns = dict(DIMENSIONS)
    if kind == DefinitionKind.OLA:
        columns["group"] = "support_group"
    names = {}
    if "month" in group_by:
        clocks = clocks.annotate(month=TruncMonth("decided_at"))
    for dimension in group_by:
        names[dimension] = columns[dimension]
    met = Q(imported_outcome="met") | Q(imported_outcome="", state=ClockState.ACHIEVED)
    rows = (
        clocks.values(*names.values())
        .annotate(
            total=Count("pk"),
            met=Count(Case(When(met, then=1))),
        )
        .order_by(*names.values())
    )
    result = []
    for row in rows:
        item = {dimension: row[column] for dimension, column in names.items()}
        item["total"] = row["total"]
        item["met"] = row["met"]
        item["breached"] = row["total"] - row["met"]
        item["compliance"] = row["met"] / row["total"] if row["total"] else None
        result.append(item)
    return result


def clock_summary(incident) -> list[SLAClock]:
    return list(
        SLAClock.objects.filter(incident=incident)
        .select_related("definition", "support_group")
        .order_by("metric", "pk")
    )
