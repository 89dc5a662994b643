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
