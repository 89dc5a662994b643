"""The KPIs incident management contributes to the indicator registry.

Every function takes a :class:`~itsmo.core.metrics.Slice` (period x region/country x
service). "Resolved" metrics look at incidents resolved in the period (whatever their state
now, cancelled ones excluded); "opened" ones at incidents opened in it. Times are wall-clock
(calendar) hours from opening to resolution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.db.models import Count, QuerySet
from django.utils.translation import gettext_lazy as _

from itsmo.core import metrics
from itsmo.core.metrics import Better, Metric, Slice

from .models import Incident, Status

PROCESS = "incidents"


def _scoped(slice_: Slice) -> QuerySet:
    incidents = Incident.objects.all()
    if slice_.region is not None:
        incidents = incidents.filter(region=slice_.region)
    if slice_.country is not None:
        incidents = incidents.filter(country=slice_.country)
    if slice_.service is not None:
        incidents = incidents.filter(service=slice_.service)
    return incidents


def opened(slice_: Slice) -> QuerySet:
    return _scoped(slice_).filter(opened_at__gte=slice_.start, opened_at__lt=slice_.end)


def resolved(slice_: Slice) -> QuerySet:
    return (
        _scoped(slice_)
        .filter(resolved_at__gte=slice_.start, resolved_at__lt=slice_.end)
        .exclude(status=Status.CANCELLED)
    )


def count_opened(slice_: Slice) -> int:
    return opened(slice_).count()


def count_resolved(slice_: Slice) -> int:
    return resolved(slice_).count()


def count_major(slice_: Slice) -> int:
    return opened(slice_).filter(is_major=True).count()


def counts_by_priority(slice_: Slice) -> dict[int, int]:
    rows = opened(slice_).values("priority").annotate(n=Count("pk"))
    counts = dict.fromkeys(range(1, 6), 0)
    counts.update({row["priority"]: row["n"] for row in rows})
    return counts


def percentile(values: Sequence[float], share: float) -> float | None:
    """Linear-interpolated percentile (``share`` 0-1) of ``values``; ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def resolution_hours(slice_: Slice) -> list[float]:
    return [
        (resolved_at - opened_at).total_seconds() / 3600
        for opened_at, resolved_at in resolved(slice_).values_list("opened_at", "resolved_at")
    ]


def median_hours_to_resolve(slice_: Slice) -> float | None:
    return percentile(resolution_hours(slice_), 0.5)


def p90_hours_to_resolve(slice_: Slice) -> float | None:
    return percentile(resolution_hours(slice_), 0.9)


def _share(slice_: Slice, **condition) -> float | None:
    incidents = resolved(slice_)
    total = incidents.count()
    return incidents.filter(**condition).count() / total if total else None


def share_reassigned(slice_: Slice) -> float | None:
    return _share(slice_, reassignment_count__gt=0)


def share_reopened(slice_: Slice) -> float | None:
    return _share(slice_, reopen_count__gt=0)


def share_first_contact_resolution(slice_: Slice) -> float | None:
    return _share(slice_, is_first_contact_resolution=True)


def sla_compliance(slice_: Slice) -> float | None:
    """Share of resolution SLA targets met among the clocks decided in the period."""
    from itsmo.slm import services as slm

    rows = slm.compliance(
        slice_.start,
        slice_.end,
        metric="resolution",
        service=slice_.service,
        country=slice_.country,
        region=slice_.region,
    )
    return rows[0]["compliance"] if rows else None


def _by_priority(priority: int):
    return lambda slice_: counts_by_priority(slice_)[priority]


def register() -> None:
    items = [
        Metric("incidents.opened", _("Incidents opened"), "count", Better.NEUTRAL, count_opened),
        Metric(
            "incidents.resolved", _("Incidents resolved"), "count", Better.NEUTRAL, count_resolved
        ),
        Metric("incidents.major", _("Major incidents"), "count", Better.LOWER, count_major),
        Metric(
            "incidents.time_to_resolve.median",
            _("Median time to resolve"),
            "hours",
            Better.LOWER,
            median_hours_to_resolve,
        ),
        Metric(
            "incidents.time_to_resolve.p90",
            _("90th percentile time to resolve"),
            "hours",
            Better.LOWER,
            p90_hours_to_resolve,
        ),
        Metric(
            "incidents.reassigned_share",
            _("Share of incidents reassigned"),
            "share",
            Better.LOWER,
            share_reassigned,
        ),
        Metric(
            "incidents.reopened_share",
            _("Share of incidents reopened"),
            "share",
            Better.LOWER,
            share_reopened,
        ),
        Metric(
            "incidents.fcr_share",
            _("First-contact resolution"),
            "share",
            Better.HIGHER,
            share_first_contact_resolution,
        ),
        Metric(
            "incidents.sla_compliance",
            _("Resolution SLA compliance"),
            "share",
            Better.HIGHER,
            sla_compliance,
        ),
    ]
    items += [
        Metric(
            f"incidents.opened.p{priority}",
            _("P%(priority)s incidents opened") % {"priority": priority},
            "count",
            Better.NEUTRAL,
            _by_priority(priority),
        )
        for priority in range(1, 6)
    ]
    for item in items:
        metrics.register(Metric(**{**item.__dict__, "process": PROCESS}))


# -- baselines of imported history ------------------------------------------------------------
# The figures an import is checked against (docs/importing.md, "Metric definitions"). Each
# takes the slice and, optionally, the incidents to look at (``incidents=`` a queryset such as
# ``Incident.objects.filter(external_source="servicenow")``); "opened" means opened in
# ``[start, end)``, "resolved" resolved in it (cancelled excluded); times are calendar hours.


def _baseline_scope(slice_: Slice, incidents: QuerySet | None) -> QuerySet:
    scoped = _scoped(slice_)
    return scoped if incidents is None else scoped.filter(pk__in=incidents.values("pk"))


def opened_among(slice_: Slice, incidents: QuerySet | None = None) -> QuerySet:
    return _baseline_scope(slice_, incidents).filter(
        opened_at__gte=slice_.start, opened_at__lt=slice_.end
    )


def resolved_among(slice_: Slice, incidents: QuerySet | None = None) -> QuerySet:
    return (
        _baseline_scope(slice_, incidents)
        .filter(resolved_at__gte=slice_.start, resolved_at__lt=slice_.end)
        .exclude(status=Status.CANCELLED)
    )


def count_distinct_incidents(slice_: Slice, incidents: QuerySet | None = None) -> int:
    """Incidents opened in the period (each counted once, whatever its history)."""
    return opened_among(slice_, incidents).count()


def count_incidents_resolved(slice_: Slice, incidents: QuerySet | None = None) -> int:
    return resolved_among(slice_, incidents).count()


def hours_opened_to_resolved(slice_: Slice, incidents: QuerySet | None = None) -> list[float]:
    """Calendar hours from opening to resolution of the incidents resolved in the period."""
    rows = resolved_among(slice_, incidents).values_list("opened_at", "resolved_at")
    return [(resolved_at - opened_at).total_seconds() / 3600 for opened_at, resolved_at in rows]


def median_hours_opened_to_resolved(slice_: Slice, incidents: QuerySet | None = None):
    return percentile(hours_opened_to_resolved(slice_, incidents), 0.5)


def p90_hours_opened_to_resolved(slice_: Slice, incidents: QuerySet | None = None):
    return percentile(hours_opened_to_resolved(slice_, incidents), 0.9)


def _opened_share(slice_: Slice, incidents: QuerySet | None, **condition) -> float | None:
    opened_ = opened_among(slice_, incidents)
    total = opened_.count()
    return opened_.filter(**condition).count() / total if total else None


def share_opened_reassigned(slice_: Slice, incidents: QuerySet | None = None) -> float | None:
    """Share of the incidents opened in the period reassigned at least once."""
    return _opened_share(slice_, incidents, reassignment_count__gte=1)


def share_opened_reopened(slice_: Slice, incidents: QuerySet | None = None) -> float | None:
    """Share of the incidents opened in the period reopened at least once."""
    return _opened_share(slice_, incidents, reopen_count__gte=1)


def counts_opened_by_priority(slice_: Slice, incidents: QuerySet | None = None) -> dict[int, int]:
    rows = opened_among(slice_, incidents).values("priority").annotate(n=Count("pk"))
    counts = dict.fromkeys(range(1, 6), 0)
    counts.update({row["priority"]: row["n"] for row in rows})
    return counts


def count_linked_to_problems(slice_: Slice, incidents: QuerySet | None = None) -> int:
    """Incidents opened in the period that are linked to a problem."""
    return opened_among(slice_, incidents).filter(problem__isnull=False).count()


def count_linked_to_changes(slice_: Slice, incidents: QuerySet | None = None) -> int:
    """Incidents opened in the period caused by a change or (imported history) related to
    one: the source's related-change link is kept by the import until incidents hold one."""
    from django.apps import apps
    from django.db.models import Q

    linked = Q(caused_by_change__isnull=False)
    if apps.is_installed("itsmo.imports"):
        linked |= Q(import_record__related_change__isnull=False)
    return opened_among(slice_, incidents).filter(linked).count()


def baseline_figures(slice_: Slice, incidents: QuerySet | None = None) -> dict:
    """Every figure above at once (the import's report and its agreement test use it)."""
    hours = hours_opened_to_resolved(slice_, incidents)
    return {
        "distinct_incidents": count_distinct_incidents(slice_, incidents),
        "resolved": count_incidents_resolved(slice_, incidents),
        "median_hours_to_resolve": percentile(hours, 0.5),
        "p90_hours_to_resolve": percentile(hours, 0.9),
        "share_reassigned": share_opened_reassigned(slice_, incidents),
        "share_reopened": share_opened_reopened(slice_, incidents),
        "by_priority": counts_opened_by_priority(slice_, incidents),
        "linked_to_problems": count_linked_to_problems(slice_, incidents),
        "linked_to_changes": count_linked_to_changes(slice_, incidents),
    }
