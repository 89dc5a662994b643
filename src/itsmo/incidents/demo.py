"""Demo incidents: twelve months of service desk work across the 16 countries.

Volume: ``small`` 1,500, ``medium`` 60,000, ``large`` 250,000 incidents. Weekly seasonality
(Mondays busiest, weekends quiet) and month-end peaks (finance close), during local working
hours mostly. Regions differ in maturity (:data:`MATURITY`): Mexico responds and resolves
fast with few reassignments; CARICAM, the newest region, is slow, reassigns more and often
leaves the CI empty. A few CIs fail again and again (recurring incidents), a handful of P1s
on critical services become major incidents. SLA definitions per priority come from
``slm.services``; about a quarter of the callers answer the satisfaction survey.

The bulk path
-------------
Opening 60,000 incidents through ``open_incident``/``transition``/``assign`` takes far too
long for ``loaddemo``, so each incident is first *planned* (:class:`Plan`: the opening values
and the timed events) and then written in bulk by :func:`write_bulk`, which computes what the
services would have stored and inserts it with ``bulk_create``:

* the incident row (priority from ``incidents.priority``, major by the same rule, numbers
  from ``core.numbering.next_values``, the version and timestamps the services leave);
* the journal entries of each event, at the event's time (``created``, ``is_major``,
  state changes with their notes, assignment changes, comments and work notes);
* the SLA clocks, replaying the ``slm.services`` hooks (attach, response, pause, resume,
  stop) in memory with the same pure clock code (``slm.clock`` through the services'
  refresh helper), refreshed at each event's time;
* a survey per resolved incident when the ``surveys`` app is installed;
* the search documents (``search.index_many``).

:func:`write_with_services` replays the same plan through the services (with the clock set
to each event's time); ``tests/incidents/test_demo.py`` proves both give the same records.
Not replayed: e-mail notifications (history is not announced again). OLA definitions are
not supported by the bulk path (the demo defines none). After loading, clocks of incidents
still open are refreshed to now, as the periodic scan would, and breaches and warnings
that lie in the past count as already notified.
"""

from __future__ import annotations

import hashlib
import itertools
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from itsmo.catalog.models import Criticality
from itsmo.cmdb.models import CI
from itsmo.core import numbering
from itsmo.core.demo import DemoContext, step
from itsmo.core.models import JournalEntry, JournalKind
from itsmo.slm import services as slm
from itsmo.slm.models import (
    ClockState,
    DefinitionKind,
    Metric,
    RecordType,
    SLAClock,
    SLADefinition,
)

from . import services
from .models import Category, Incident, OnHoldReason, ResolutionCode, Status
from .priority import priority_for

COUNTS = {"small": 1_500, "medium": 60_000, "large": 250_000}
MAJOR_INCIDENTS = {"small": 3, "medium": 8, "large": 15}
NEWEST_REGION = "caricam"
SURVEY_SHARE = 0.25


@dataclass(frozen=True)
class Maturity:
    response_minutes: float  # mean wall-clock minutes to first response
    resolution_hours: float  # mean hours from response to resolution
    reassign: float  # chance of a functional escalation
    second_reassign: float  # chance of one more, after the first
    missing_ci: float  # chance the CI is left empty
    hold: float  # chance of an on-hold stretch


MATURITY = {
    "mexico": Maturity(10, 5, 0.18, 0.05, 0.05, 0.10),
    "brazil": Maturity(20, 9, 0.25, 0.10, 0.12, 0.15),
    "south-cone": Maturity(25, 11, 0.28, 0.12, 0.15, 0.15),
    "andean": Maturity(35, 16, 0.33, 0.15, 0.25, 0.20),
    NEWEST_REGION: Maturity(70, 30, 0.45, 0.25, 0.45, 0.25),
}

#: service code -> (category, [(subcategory, short description, description)])
CATEGORIES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "sap-sales": (
        "Application",
        [
            ("Sales orders", "Cannot save sales order", "VA01 ends with a pricing error."),
            ("Billing", "Invoice not printed", "Billing output stuck in the spool queue."),
            ("Pricing", "Wrong price on order", "Condition record missing for the customer."),
        ],
    ),
    "route-sales": (
        "Mobility",
        [
            ("Handheld", "Handheld does not sync", "Route sales handheld cannot upload orders."),
            ("Printer", "Route printer not printing", "Bluetooth printer paired but silent."),
        ],
    ),
    "plant-mes": (
        "Manufacturing",
        [
            ("Line terminal", "Line terminal frozen", "MES terminal on the line stopped."),
            ("Batch", "Batch record not closing", "Batch release blocked in MES."),
        ],
    ),
    "wms": (
        "Logistics",
        [
            ("Scanner", "RF scanner cannot log in", "Warehouse RF gun rejects the user."),
            ("Picking", "Picking list missing", "Wave released but no picking list."),
        ],
    ),
    "email": (
        "Collaboration",
        [
            ("Mailbox", "Mailbox full", "Outlook says the mailbox is over quota."),
            ("Outlook", "Outlook keeps asking password", "Credential prompt loops."),
        ],
    ),
}
GENERIC = (
    "Workplace",
    [
        ("Laptop", "Laptop very slow", "Startup takes ten minutes, fan always on."),
        ("Network", "No network at desk", "Port at the desk has no link light."),
        ("Access", "Account locked", "Locked after password change."),
        ("Printer", "Printer jams", "Office printer jams on every page."),
    ],
)
RESOLUTIONS = [
    (ResolutionCode.FIXED, "Replaced the faulty part and tested with the caller."),
    (ResolutionCode.WORKAROUND, "Workaround in place; root cause goes to problem management."),
    (ResolutionCode.USER_EDUCATION, "Explained the procedure to the caller."),
    (ResolutionCode.NO_FAULT_FOUND, "Could not reproduce; the caller confirms it works."),
]
#: weekday (Monday 0) -> relative volume
WEEKDAY_WEIGHT = (1.35, 1.15, 1.1, 1.05, 0.95, 0.25, 0.15)
SLA_TARGETS = {  # priority: (response, resolution) in business minutes
    1: (15, 4 * 60),
    2: (30, 8 * 60),
    3: (60, 3 * 10 * 60),
    4: (4 * 60, 5 * 10 * 60),
    5: (8 * 60, 10 * 10 * 60),
}
IMPACT_URGENCY = [((1, 2), 3), ((2, 1), 3), ((2, 2), 14), ((2, 3), 18), ((3, 2), 22), ((3, 3), 40)]


# -- the plan --------------------------------------------------------------------------------


@dataclass
class Event:
    at: datetime
    kind: str  # start, hold, resume, assign, comment, resolve, close
    actor: Any = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    opened_at: datetime
    actor: Any
    values: dict[str, Any]
    events: list[Event]
    survey: tuple[datetime, int, str] | None = None  # answered at, rating, comment


def _month_end_weight(day: date) -> float:
    next_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    left = (next_month - day).days
    return 1.6 if left <= 3 else 1.25 if day.day <= 2 else 1.0


class Planner:
    """Turns the demo organisation into incident plans (deterministic per seed)."""

    def __init__(self, ctx: DemoContext, now: datetime) -> None:
        self.ctx = ctx
        self.rng = ctx.random
        self.now = now
        data = ctx.data
        self.countries = data["countries"]
        self.country_codes = list(self.countries)
        self.country_by_pk = {c.pk: c for c in self.countries.values()}
        self.country_weights = [data["country_data"][c].weight for c in self.country_codes]
        self.region_code = {r.pk: code for code, r in data["regions"].items()}
        self.groups = data["groups"]
        self.services = [s for s in data["services"].values() if s.lifecycle != "retired"]
        users = data["users"]
        end_users = [users[name] for name in data["people"].get("end_users", [])]
        self.callers: dict[int, list] = {}
        for user in end_users:
            self.callers.setdefault(user.country_id, []).append(user)
        self.all_callers = end_users
        self.members = {code: list(g.members.all()) for code, g in self.groups.items()}
        self.cis: dict[int, list[int]] = {}
        for pk, country_id in CI.objects.filter(country__isnull=False).values_list(
            "pk", "country_id"
        ):
            self.cis.setdefault(country_id, []).append(pk)
        # Every CI a plan may name, read once (a query per CI made medium scale crawl).
        self.ci_objects: dict[int, CI] = CI.objects.only(
            "pk", "number", "name", "country_id", "site_id"
        ).in_bulk()
        troubled = [pk for pks in self.cis.values() for pk in pks[:1]]
        self.rng.shuffle(troubled)
        self.recurring = troubled[:5]
        self.days = self._day_weights()
        self.categories = self._categories()

    def _day_weights(self) -> tuple[list[date], list[float]]:
        first = (self.now - timedelta(days=365)).date()
        days = [first + timedelta(days=n) for n in range(366)]
        weights = [WEEKDAY_WEIGHT[d.weekday()] * _month_end_weight(d) for d in days]
        return days, weights

    def _categories(self) -> dict[str, tuple[Category, list[tuple[Category, str, str]]]]:
        """The category tree (configuration: ``Category`` rows, no service writes them)."""
        made = {}
        for key, (name, subs) in [*CATEGORIES.items(), ("*", GENERIC)]:
            root, _ = Category.objects.get_or_create(name=name, parent=None)
            children = [
                (Category.objects.get_or_create(name=sub, parent=root)[0], short, text)
                for sub, short, text in subs
            ]
            made[key] = (root, children)
        return made

    def ci(self, pk: int | None) -> CI | None:
        if pk is None:
            return None
        return self.ci_objects[pk]

    def _member(self, code: str):
        members = self.members.get(code) or []
        return self.rng.choice(members) if members else None

    def opening_time(self, country) -> datetime:
        rng = self.rng
        day = rng.choices(*self.days)[0]
        hour = min(23.99, max(0.0, rng.gauss(12.5, 3.2)))
        local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(country.time_zone))
        return (local + timedelta(hours=hour)).astimezone(UTC).replace(microsecond=0)

    def plan(self, major: bool = False) -> Plan | None:
        rng = self.rng
        code = rng.choices(self.country_codes, self.country_weights)[0]
        country = self.countries[code]
        region = self.region_code[country.region_id]
        maturity = MATURITY[region]
        opened = self.opening_time(country)
        if opened >= self.now:
            return None
        service = rng.choice(self.services)
        recurring = rng.random() < 0.03
        if major:
            service = rng.choice(
                [s for s in self.services if s.criticality == Criticality.CRITICAL]
            )
            impact, urgency = 1, 1
        else:
            impact, urgency = rng.choices(*zip(*IMPACT_URGENCY, strict=True))[0]
        root, subs = self.categories.get(service.code, self.categories["*"])
        subcategory, short, text = rng.choice(subs)
        ci_pk = None
        if recurring:
            ci_pk = rng.choice(self.recurring)
            short = "Recurring failure: " + short
        elif rng.random() >= maturity.missing_ci and self.cis.get(country.pk):
            ci_pk = rng.choice(self.cis[country.pk])
        ci = self.ci(ci_pk)
        if ci is not None and ci.country_id:
            country = self.country_by_pk.get(ci.country_id, country)
        callers = self.callers.get(country.pk) or self.all_callers
        desk = f"sd-{self.region_code[country.region_id]}"
        actor = self._member(desk)
        values = dict(
            caller=rng.choice(callers),
            short_description=short,
            description=text,
            channel=rng.choice(["portal", "email", "phone", "phone", "walk_in"]),
            impact=impact,
            urgency=urgency,
            service=service,
            ci=ci,
            country=country,
            category=root,
            subcategory=subcategory,
            assignment_group=self.groups[desk],
            assignee=actor,
        )
        events: list[Event] = []
        at = opened + timedelta(minutes=1 + rng.expovariate(1 / maturity.response_minutes))
        events.append(Event(at, "start", actor))
        holder, _group_code = actor, desk
        total_hours = rng.expovariate(1 / maturity.resolution_hours) * (0.4 if major else 1)
        step_at = lambda share: at + timedelta(hours=total_hours * share)  # noqa: E731
        if rng.random() < maturity.reassign or major:
            escalations = [f"field-{code.lower()}", f"network-{region}"]
            if service.support_group_id:
                escalations.append(service.support_group.code)
            target = rng.choice([g for g in escalations if g in self.groups])
            holder = self._member(target) or holder
            events.append(Event(step_at(0.2), "assign", actor, {"group": target}))
            if rng.random() < maturity.second_reassign:
                back = rng.choice([g for g in escalations if g in self.groups and g != target])
                events.append(Event(step_at(0.4), "assign", holder, {"group": back}))
                holder, _group_code = self._member(back) or holder, back
        if rng.random() < maturity.hold:
            events.append(Event(step_at(0.5), "hold", holder, {"reason": "awaiting_caller"}))
            events.append(Event(step_at(0.7), "resume", holder))
        if rng.random() < 0.3:
            body = rng.choice(["Checked remotely.", "Asked the caller for a screenshot."])
            events.append(Event(step_at(0.6), "comment", holder, {"body": body}))
        if rng.random() < 0.2:
            events.append(
                Event(step_at(0.65), "comment", holder, {"body": "Logs attached.", "internal": 1})
            )
        code_, notes = rng.choice(RESOLUTIONS)
        resolved_at = step_at(1.0) + timedelta(minutes=1)
        events.append(Event(resolved_at, "resolve", holder, {"code": code_, "notes": notes}))
        closing = resolved_at + timedelta(days=services.auto_close_days())
        events.append(Event(closing, "close", None))
        events.sort(key=lambda e: e.at)
        for previous, event in itertools.pairwise(events):
            if event.at <= previous.at:
                event.at = previous.at + timedelta(seconds=1)
        events = [e for e in events if e.at < self.now]
        survey = None
        if any(e.kind == "resolve" for e in events) and rng.random() < SURVEY_SHARE:
            answered = resolved_at + timedelta(hours=rng.uniform(1, 48))
            if answered < self.now:
                fast = maturity.resolution_hours < 10
                rating = rng.choice([5, 5, 4, 4, 3] if fast else [5, 4, 3, 3, 2, 1])
                survey = (answered, rating, rng.choice(["", "Thanks!", "Took too long."]))
        return Plan(opened, actor, values, events, survey)


# -- the service path (the reference) --------------------------------------------------------


@contextmanager
def frozen_now(at: datetime):
    """``timezone.now()`` returns ``at`` inside the block (replaying history)."""
    original = timezone.now
    timezone.now = lambda: at
    try:
        yield
    finally:
        timezone.now = original


def write_with_services(plan: Plan) -> Incident:
    """Replay ``plan`` through the incidents services, each call at its event's time."""
    with frozen_now(plan.opened_at):
        incident = services.open_incident(actor=plan.actor, opened_at=plan.opened_at, **plan.values)
    for event in plan.events:
        with frozen_now(event.at):
            if event.kind == "start":
                services.transition(incident, Status.IN_PROGRESS, actor=event.actor, now=event.at)
            elif event.kind == "hold":
                services.transition(
                    incident,
                    Status.ON_HOLD,
                    actor=event.actor,
                    reason=event.values["reason"],
                    now=event.at,
                )
            elif event.kind == "resume":
                services.transition(incident, Status.IN_PROGRESS, actor=event.actor, now=event.at)
            elif event.kind == "assign":
                group = support_group(event.values["group"])
                services.assign(incident, actor=event.actor, group=group)
            elif event.kind == "comment":
                services.add_comment(
                    incident,
                    actor=event.actor,
                    body=event.values["body"],
                    internal=bool(event.values.get("internal")),
                )
            elif event.kind == "resolve":
                services.transition(
                    incident,
                    Status.RESOLVED,
                    actor=event.actor,
                    resolution_code=event.values["code"],
                    resolution_notes=event.values["notes"],
                    now=event.at,
                )
            elif event.kind == "close":
                services.transition(
                    incident, Status.CLOSED, actor=None, note=CLOSE_NOTE, now=event.at
                )
    return incident


CLOSE_NOTE = f"Closed automatically {services.auto_close_days()} days after resolution"


def support_group(code: str):
    """The support group with this code (looked up each time: no cache outlives a run)."""
    from itsmo.accounts.models import SupportGroup

    return SupportGroup.objects.get(code=code)


# -- the bulk path ----------------------------------------------------------------------------


class BulkWriter:
    """Computes what the services store for each plan and writes it in bulk."""

    def __init__(self) -> None:
        if SLADefinition.objects.filter(is_active=True, kind=DefinitionKind.OLA).exists():
            raise RuntimeError(
                "active OLA definitions exist: load demo incidents before defining OLAs"
            )
        self.content_type = ContentType.objects.get_for_model(Incident, for_concrete_model=False)
        self.matrix = services.priority_matrix()
        self.definitions: dict[tuple, list[SLADefinition]] = {}
        self.active_definitions = list(
            SLADefinition.objects.filter(is_active=True, kind=DefinitionKind.SLA)
            .select_related("calendar")
            .order_by("pk")
        )
        self.context = slm._Context(timezone.now(), {})
        self.groups: dict[str, Any] = {}

    def _definitions(self, incident: Incident) -> list[SLADefinition]:
        key = (
            incident.priority,
            incident.service_id,
            incident.country_id,
            incident.region_id,
            incident.business_unit_id,
        )
        if key not in self.definitions:
            self.definitions[key] = [
                d
                for d in self.active_definitions
                if d.record_type == RecordType.INCIDENT and slm.applies(d, incident)
            ]
        return self.definitions[key]

    def _group(self, code: str):
        if code not in self.groups:
            self.groups[code] = support_group(code)
        return self.groups[code]

    def _journal(self, entries, incident, kind, actor, at, **values) -> None:
        entries.append(
            JournalEntry(
                content_type=self.content_type,
                object_id=incident.pk,
                kind=kind,
                actor=actor if getattr(actor, "pk", None) else None,
                occurred_at=at,
                recorded_at=at,
                **values,
            )
        )

    def _refresh(self, clock: SLAClock, incident: Incident, at: datetime) -> None:
        slm._refresh(clock, self.context.calendar(clock.definition, incident), at)
        clock.updated_at = at

    def build(self, plan: Plan, number: str, pk: int) -> tuple[Incident, list, list]:
        """The incident, its journal entries and its clocks (the incident's ``pk`` is set)."""
        values = plan.values
        incident = Incident(
            pk=pk,
            number=number,
            opened_by=plan.actor,
            opened_at=plan.opened_at,
            created_at=plan.opened_at,
            updated_at=plan.opened_at,
            **values,
        )
        incident.region_id = incident.country.region_id if incident.country_id else None
        incident.priority = priority_for(incident.impact, incident.urgency, self.matrix)
        incident.is_major = incident.is_major or services.is_major_by_rule(incident)
        incident.tier = incident.assignment_group.tier if incident.assignment_group else ""
        entries: list[JournalEntry] = []
        self._journal(
            entries, incident, JournalKind.CREATED, plan.actor, plan.opened_at,
            new_value=str(incident),
        )  # fmt: skip
        if incident.is_major:
            self._journal(
                entries, incident, JournalKind.FIELD_CHANGE, plan.actor, plan.opened_at,
                field="is_major", old_value="False", new_value="True",
            )  # fmt: skip
        clocks: list[SLAClock] = []
        for definition in self._definitions(incident):
            for metric, minutes in (
                (Metric.RESPONSE, definition.response_target_minutes),
                (Metric.RESOLUTION, definition.resolution_target_minutes),
            ):
                if minutes:
                    clocks.append(
                        slm._new_clock(incident, definition, metric, minutes, plan.opened_at)
                    )
        for clock in clocks:
            self._refresh(clock, incident, plan.opened_at)
        for event in plan.events:
            getattr(self, f"_on_{event.kind}")(incident, event, entries, clocks)
        return incident, entries, clocks

    # each handler mirrors the service of the same name -------------------------------------

    def _active(self, clocks):
        states = {ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED}
        return [c for c in clocks if c.state in states and c.stopped_at is None]

    def _save(self, incident: Incident, at: datetime) -> None:
        incident.version += 1
        incident.updated_at = at

    def _state(self, incident, event, entries, clocks, to: str, body: str = "") -> None:
        at, old = event.at, incident.status
        incident.status = to
        if old == Status.ON_HOLD:
            incident.on_hold_reason = ""
        first_response = old == Status.NEW and to != Status.CANCELLED and not incident.responded_at
        if first_response:
            incident.responded_at = at
        self._save(incident, at)
        self._journal(
            entries, incident, JournalKind.STATE_CHANGE, event.actor, at,
            field="status", old_value=old, new_value=to, body=body,
        )  # fmt: skip
        if first_response:
            for clock in self._active(clocks):
                if clock.metric == Metric.RESPONSE:
                    slm._close_pause(clock, at)
                    clock.stopped_at = at
                    self._refresh(clock, incident, at)
        for clock in self._active(clocks):
            pause_states = clock.definition.pause_states or []
            if to == Status.RESOLVED:
                slm._close_pause(clock, at)
                clock.stopped_at = at
            elif to in pause_states:
                slm._open_pause(clock, at)
            else:
                slm._close_pause(clock, at)
            self._refresh(clock, incident, at)

    def _on_start(self, incident, event, entries, clocks) -> None:
        self._state(incident, event, entries, clocks, Status.IN_PROGRESS)

    def _on_resume(self, incident, event, entries, clocks) -> None:
        self._state(incident, event, entries, clocks, Status.IN_PROGRESS)

    def _on_hold(self, incident, event, entries, clocks) -> None:
        incident.on_hold_reason = event.values["reason"]
        body = f"{OnHoldReason(incident.on_hold_reason).label}."
        self._state(incident, event, entries, clocks, Status.ON_HOLD, body)

    def _on_resolve(self, incident, event, entries, clocks) -> None:
        incident.resolution_code = event.values["code"]
        incident.resolution_notes = event.values["notes"].strip()
        incident.resolved_at = event.at
        incident.resolved_by = event.actor
        body = f"{ResolutionCode(incident.resolution_code).label}: {incident.resolution_notes}"
        self._state(incident, event, entries, clocks, Status.RESOLVED, body)

    def _on_close(self, incident, event, entries, clocks) -> None:
        incident.closed_at = event.at
        self._state(incident, event, entries, clocks, Status.CLOSED, CLOSE_NOTE)

    def _on_assign(self, incident, event, entries, clocks) -> None:
        group = self._group(event.values["group"])
        if group.pk == incident.assignment_group_id:
            return
        before = {
            "assignment_group": incident.assignment_group,
            "assignee": incident.assignee,
            "tier": incident.tier,
        }
        if group.pk != incident.assignment_group_id and incident.assignment_group_id:
            incident.reassignment_count += 1
        after = {"assignment_group": group, "assignee": None, "tier": group.tier}
        incident.assignment_group, incident.assignee, incident.tier = group, None, group.tier
        self._save(incident, event.at)
        for name in before:
            old, new = before[name], after[name]
            old_text, new_text = ("" if v is None else str(v) for v in (old, new))
            if old != new and old_text != new_text:
                self._journal(
                    entries, incident, JournalKind.FIELD_CHANGE, event.actor, event.at,
                    field=name, old_value=old_text, new_value=new_text,
                )  # fmt: skip

    def _on_comment(self, incident, event, entries, clocks) -> None:
        internal = bool(event.values.get("internal"))
        kind = JournalKind.WORK_NOTE if internal else JournalKind.COMMENT
        self._journal(entries, incident, kind, event.actor, event.at, body=event.values["body"])
        actor = event.actor
        staff = actor is not None and actor.is_staff_member
        if internal or not staff or incident.responded_at:
            return
        incident.responded_at = event.at
        for clock in self._active(clocks):
            if clock.metric == Metric.RESPONSE:
                slm._close_pause(clock, event.at)
                clock.stopped_at = event.at
                self._refresh(clock, incident, event.at)


def write_bulk(plans: list[Plan], *, now: datetime | None = None, log=lambda m: None) -> list:
    """Write ``plans`` the fast way; with ``now``, bring open incidents' clocks up to it."""
    if not plans:
        return []
    writer = BulkWriter()
    numbers = numbering.next_references(services.PREFIX, len(plans))
    start = (Incident.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    incidents, entries, clocks = [], [], []
    for offset, (plan, number) in enumerate(zip(plans, numbers, strict=True)):
        incident, journal, clock_rows = writer.build(plan, number, start + offset)
        incidents.append(incident)
        entries += journal
        clocks += clock_rows
    if now is not None:
        for clock in clocks:
            if clock.stopped_at is None and clock.state != ClockState.CANCELLED:
                writer._refresh(clock, clock.incident, now)
                _as_notified(clock, now)
    with _historical_timestamps(Incident, SLAClock):
        Incident.objects.bulk_create(incidents, batch_size=2000)
        JournalEntry.objects.bulk_create(entries, batch_size=5000)
        SLAClock.objects.bulk_create(clocks, batch_size=5000)
    _fix_sequence(Incident)
    _surveys(plans, incidents)
    from itsmo.search import services as search

    search.index_many(Incident, [i.pk for i in incidents])
    log(f"    {len(incidents)} incidents, {len(entries)} journal entries, {len(clocks)} clocks")
    return incidents


@contextmanager
def _historical_timestamps(*models):
    """``bulk_create`` keeps the ``updated_at`` we computed (``auto_now`` would say today)."""
    fields = [f for m in models for f in m._meta.concrete_fields if getattr(f, "auto_now", 0)]
    for item in fields:
        item.auto_now = False
    try:
        yield
    finally:
        for item in fields:
            item.auto_now = True


def _as_notified(clock: SLAClock, now: datetime) -> None:
    """History is not announced again: past warnings and breaches count as sent."""
    if clock.breached_at is not None and clock.breached_at <= now:
        clock.breach_notified_at = clock.breached_at
    passed = [t for t in clock.warning_thresholds if t <= clock.percentage]
    if passed:
        clock.last_warned_threshold = max(passed)
        clock.next_warning_threshold = next(
            (t for t in sorted(clock.warning_thresholds) if t > max(passed)), None
        )
        if clock.next_warning_threshold is None or clock.state != ClockState.RUNNING:
            clock.next_warning_at = None


def _fix_sequence(model) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(sql)


def _surveys(plans: list[Plan], incidents: list[Incident]) -> None:
    """What ``surveys.on_resolved`` leaves (one survey per resolved incident), plus the
    answers of the callers who replied."""
    if not apps.is_installed("itsmo.surveys"):
        return
    from itsmo.surveys.models import Survey

    rows = []
    for plan, incident in zip(plans, incidents, strict=True):
        if incident.resolved_at is None:
            continue
        digest = hashlib.sha256(f"demo-survey:{incident.number}".encode()).hexdigest()
        survey = Survey(incident_id=incident.pk, token_hash=digest)
        if plan.survey is not None:
            survey.answered_at, survey.rating, survey.comment = plan.survey
        rows.append(survey)
    Survey.objects.bulk_create(rows, batch_size=5000)


# -- the demo step -----------------------------------------------------------------------------


def create_sla_definitions() -> list[SLADefinition]:
    made = []
    for priority, (response, resolution) in SLA_TARGETS.items():
        name = f"P{priority} incidents"
        existing = SLADefinition.objects.filter(name=name).first()
        made.append(
            existing
            or slm.create_definition(
                name=name,
                priority=priority,
                response_target_minutes=response,
                resolution_target_minutes=resolution,
                description=f"Respond within {response} and resolve within {resolution} "
                "business minutes of the country's calendar.",
            )
        )
    return made


def plans_for(ctx: DemoContext, now: datetime, count: int) -> list[Plan]:
    planner = Planner(ctx, now)
    plans = [planner.plan(major=True) for _ in range(MAJOR_INCIDENTS[ctx.scale])]
    while len(plans) < count:
        plans.append(planner.plan())
    plans = [p for p in plans if p is not None]
    plans.sort(key=lambda p: p.opened_at)
    return plans


@step("incidents", after=["cmdb", "catalog", "accounts"])
def load_incidents(ctx: DemoContext) -> None:
    now = timezone.now().replace(microsecond=0)
    create_sla_definitions()
    plans = plans_for(ctx, now, COUNTS[ctx.scale])
    batch = 5000
    for start in range(0, len(plans), batch):
        write_bulk(plans[start : start + batch], now=now, log=ctx.log)
    ctx.data["incident_count"] = len(plans)
