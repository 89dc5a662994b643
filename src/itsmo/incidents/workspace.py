"""Reads for the agent workspace: queues, filters, keyset pages, SLA timers, CI impact.

Everything starts from ``Incident.objects.visible_to(user)``; writes go through
:mod:`itsmo.incidents.services` (``bulk_assign`` only loops over ``services.assign``).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Exists, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from itsmo.accounts.models import SupportGroup, User
from itsmo.catalog.models import Lifecycle, Service
from itsmo.cmdb.models import CI
from itsmo.core import journal
from itsmo.core.errors import DomainError
from itsmo.organization.models import Country
from itsmo.slm.models import ClockState, SLAClock

from . import services
from .models import OPEN_STATES, Incident

#: "Breaching soon": an SLA clock due within this window (or already breached).
BREACHING_WINDOW = timedelta(hours=4)
PAGE_SIZE = 25


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    description: str


QUEUES = (
    Queue("mine", _("My work"), _("Open incidents assigned to you.")),
    Queue("groups", _("My groups"), _("Open incidents of the groups you belong to.")),
    Queue("unassigned", _("Unassigned"), _("Open incidents of your groups with no assignee.")),
    Queue("breaching", _("Breaching soon"), _("Open incidents whose SLA is due within 4 hours.")),
    Queue("major", _("Major incidents"), _("Open major incidents.")),
    Queue("all", _("All visible"), _("Every incident you may see, in any state.")),
)
QUEUE_KEYS = tuple(q.key for q in QUEUES)


def get_queue(key: str) -> Queue | None:
    return next((q for q in QUEUES if q.key == key), None)


def with_sla(incidents: QuerySet) -> QuerySet:
    """Annotate ``next_due_at`` (the nearest due instant of a running clock) and
    ``is_breached`` (a clock breached)."""
    running = SLAClock.objects.filter(incident=OuterRef("pk"), state=ClockState.RUNNING)
    return incidents.annotate(
        next_due_at=Subquery(
            running.order_by().values("incident").annotate(m=Min("due_at")).values("m")[:1]
        ),
        is_breached=Exists(
            SLAClock.objects.filter(incident=OuterRef("pk"), state=ClockState.BREACHED)
        ),
    )


def queue_incidents(key: str, user, *, now: datetime | None = None) -> QuerySet:
    incidents = Incident.objects.visible_to(user)
    if key == "all":
        return incidents
    incidents = incidents.filter(status__in=OPEN_STATES)
    if key == "mine":
        return incidents.filter(assignee=user)
    if key == "groups":
        return incidents.filter(assignment_group__members=user)
    if key == "unassigned":
        return incidents.filter(assignment_group__members=user, assignee__isnull=True)
    if key == "breaching":
        horizon = (now or timezone.now()) + BREACHING_WINDOW
        return incidents.filter(
            Exists(
                SLAClock.objects.filter(
                    incident=OuterRef("pk"),
                    state__in=(ClockState.RUNNING, ClockState.BREACHED),
                    due_at__lte=horizon,
                )
            )
        )
    if key == "major":
        return incidents.filter(is_major=True)
    raise ValueError(f"unknown queue {key!r}")


def queue_counts(user) -> dict[str, int]:
    return {q.key: queue_incidents(q.key, user).count() for q in QUEUES if q.key != "all"}


def filter_incidents(incidents: QuerySet, data: dict, user) -> QuerySet:
    """Apply the cleaned filters of ``IncidentFilterForm``."""
    state = data.get("state")
    if state == "open":
        incidents = incidents.filter(status__in=OPEN_STATES)
    elif state:
        incidents = incidents.filter(status=state)
    if data.get("priority"):
        incidents = incidents.filter(priority=int(data["priority"]))
    if data.get("group"):
        incidents = incidents.filter(assignment_group=data["group"])
    assignee = data.get("assignee")
    if assignee == "me":
        incidents = incidents.filter(assignee=user)
    elif assignee == "none":
        incidents = incidents.filter(assignee__isnull=True)
    elif assignee:
        incidents = incidents.filter(assignee_id=int(assignee))
    if data.get("service"):
        incidents = incidents.filter(service=data["service"])
    if data.get("country"):
        incidents = incidents.filter(country=data["country"])
    text = (data.get("q") or "").strip()
    if text:
        incidents = incidents.filter(
            Q(number__iexact=text)
            | Q(short_description__icontains=text)
            | Q(description__icontains=text)
        )
    return incidents


# -- keyset pagination -----------------------------------------------------------------------

#: Sort key → the columns of the keyset, each (field, descending). The last one is unique.
SORTS = {
    "priority": (("priority", False), ("opened_at", False), ("id", False)),
    "newest": (("opened_at", True), ("id", True)),
    "oldest": (("opened_at", False), ("id", False)),
    "updated": (("updated_at", True), ("id", True)),
}
SORT_LABELS = {
    "priority": _("Priority"),
    "newest": _("Newest"),
    "oldest": _("Oldest"),
    "updated": _("Recently updated"),
}
_DATETIME_FIELDS = {"opened_at", "updated_at"}


def encode_cursor(values: list) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, columns) -> list | None:
    """The values of a cursor, or ``None`` if it is not one of ours (then: first page)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        return None
    if not isinstance(values, list) or len(values) != len(columns):
        return None
    decoded = []
    for (name, _desc), value in zip(columns, values, strict=True):
        if name in _DATETIME_FIELDS:
            value = parse_datetime(value) if isinstance(value, str) else None
            if value is None:
                return None
        elif not isinstance(value, int) or isinstance(value, bool):
            return None
        decoded.append(value)
    return decoded


def _after(columns, values, *, backwards: bool) -> Q:
    """Rows strictly after ``values`` in the order ``columns`` (before it if ``backwards``)."""
    condition = Q(pk__in=[])
    for i, (name, descending) in enumerate(columns):
        greater = descending == backwards
        step = Q(**{f"{name}__{'gt' if greater else 'lt'}": values[i]})
        for j in range(i):
            step &= Q(**{columns[j][0]: values[j]})
        condition |= step
    return condition


def _order(columns, *, backwards: bool) -> list[str]:
    return [("-" if descending != backwards else "") + name for name, descending in columns]


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None = None
    previous_cursor: str | None = None
    is_first: bool = True
    sort: str = "priority"
    size: int = PAGE_SIZE
    extra: dict = field(default_factory=dict)


def keyset_page(
    incidents: QuerySet,
    *,
    sort: str = "priority",
    after: str = "",
    before: str = "",
    size: int = PAGE_SIZE,
) -> KeysetPage:
    """One page of ``incidents`` in ``sort`` order, ``size + 1`` rows fetched, no OFFSET."""
    columns = SORTS.get(sort) or SORTS["priority"]
    backwards = False
    values = None
    if before:
        values = decode_cursor(before, columns)
        backwards = values is not None
    elif after:
        values = decode_cursor(after, columns)
    if values is not None:
        incidents = incidents.filter(_after(columns, values, backwards=backwards))
    rows = list(incidents.order_by(*_order(columns, backwards=backwards))[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()

    def key(row):
        return encode_cursor([getattr(row, name) for name, _desc in columns])

    page = KeysetPage(rows=rows, sort=sort if sort in SORTS else "priority", size=size)
    page.is_first = values is None or (backwards and not more)
    if rows:
        if backwards or more:
            page.next_cursor = key(rows[-1])
        if not page.is_first:
            page.previous_cursor = key(rows[0])
    return page


# -- choices for forms ------------------------------------------------------------------------


def assignable_groups(user) -> QuerySet:
    return SupportGroup.objects.visible_to(user).filter(is_active=True).order_by("name")


def assignable_people(user) -> QuerySet:
    return (
        User.objects.filter(is_active=True, support_groups__in=assignable_groups(user))
        .distinct()
        .order_by("display_name", "username")
    )


def visible_countries(user) -> QuerySet:
    scope = user.scope()
    countries = Country.objects.order_by("name")
    return countries if scope.is_global else countries.filter(pk__in=scope.country_ids)


def catalogue_services() -> QuerySet:
    return Service.objects.exclude(lifecycle=Lifecycle.RETIRED).order_by("name")


def portal_services() -> QuerySet:
    return Service.objects.filter(is_portal_visible=True, lifecycle=Lifecycle.CATALOGUE).order_by(
        "name"
    )


def find_ci(number: str, user) -> CI | None:
    return CI.objects.visible_to(user).filter(number__iexact=number.strip()).first()


def find_user(login: str) -> User | None:
    login = login.strip()
    return (
        User.objects.filter(is_active=True)
        .filter(Q(username__iexact=login) | Q(email__iexact=login))
        .first()
    )


# -- the record view --------------------------------------------------------------------------


def sla_clocks(incident) -> list[SLAClock]:
    from itsmo.slm import services as slm

    return slm.clock_summary(incident)


def timeline(incident, *, include_internal: bool = True):
    return list(journal.timeline(incident, include_internal=include_internal))


def attachment(incident, pk: int, *, include_internal: bool):
    """An attachment of ``incident`` (already checked visible), or ``None``."""
    attachments = incident.attachments.all()
    if not include_internal:
        attachments = attachments.filter(is_internal=False)
    return attachments.filter(pk=pk).first()


def reopen_deadline(incident) -> datetime | None:
    """Until when the caller may reopen (resolved incidents close after N days)."""
    if not incident.can_reopen() or incident.resolved_at is None:
        return None
    return incident.resolved_at + timedelta(days=services.auto_close_days())


@dataclass
class ImpactSummary:
    services: list
    processes: list
    countries: list
    total: int


def ci_impact(incident, user) -> ImpactSummary | None:
    if not incident.ci_id:
        return None
    from itsmo.cmdb import impact

    result = impact.impact([incident.ci_id], user=user)
    return ImpactSummary(
        services=sorted(result.services, key=lambda s: (s.depth, -s.criticality))[:6],
        processes=sorted(result.business_processes, key=lambda p: -p.weight)[:6],
        countries=result.countries,
        total=result.total,
    )


def bulk_assign(numbers, *, actor, group=None, assignee=None) -> tuple[list, list]:
    """Assign each visible incident through ``services.assign`` (each one journaled).

    Returns ``(assigned numbers, [(number, message), …])``."""
    done, failed = [], []
    for number in dict.fromkeys(numbers):
        try:
            incident = services.get_visible(number, actor)
            services.assign(incident, actor=actor, group=group, assignee=assignee)
        except DomainError as error:
            failed.append((number, error.message))
        else:
            done.append(incident.number)
    return done, failed
