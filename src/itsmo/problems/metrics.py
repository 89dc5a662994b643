"""The KPIs problem management contributes to the indicator registry.

Every function takes a :class:`~itsmo.core.metrics.Slice` (period x region/country x
service). "Opened", "known error" and "resolved" count the problems that reached that point
in the period; the share of incidents with a problem looks at incidents opened in it.
"""

from __future__ import annotations

from statistics import median

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from itsmo.core import metrics
from itsmo.core.metrics import Better, Metric, Slice
from itsmo.incidents.models import Incident, Status as IncidentStatus

from .models import CandidateState, Problem, ProblemCandidate

PROCESS = "problems"


def _scoped(model, slice_: Slice) -> QuerySet:
    records = model.objects.all()
    if slice_.region is not None:
        records = records.filter(region=slice_.region)
    if slice_.country is not None:
        records = records.filter(country=slice_.country)
    if slice_.service is not None:
        records = records.filter(service=slice_.service)
    return records


def _between(records: QuerySet, field: str, slice_: Slice) -> QuerySet:
    return records.filter(**{f"{field}__gte": slice_.start, f"{field}__lt": slice_.end})


def count_opened(slice_: Slice) -> int:
    return _between(_scoped(Problem, slice_), "opened_at", slice_).count()


def count_known_errors(slice_: Slice) -> int:
    return _between(_scoped(Problem, slice_), "known_error_at", slice_).count()


def count_resolved(slice_: Slice) -> int:
    return _between(_scoped(Problem, slice_), "resolved_at", slice_).count()


def median_days_to_known_error(slice_: Slice) -> float | None:
    rows = _between(_scoped(Problem, slice_), "known_error_at", slice_).values_list(
        "opened_at", "known_error_at"
    )
    days = [(known - opened).total_seconds() / 86400 for opened, known in rows]
    return round(median(days), 2) if days else None


def share_incidents_with_problem(slice_: Slice) -> float | None:
    incidents = _between(_scoped(Incident, slice_), "opened_at", slice_).exclude(
        status=IncidentStatus.CANCELLED
    )
    total = incidents.count()
    if not total:
        return None
    return round(incidents.filter(problem__isnull=False).count() / total, 4)


def count_pending_candidates(slice_: Slice) -> int:
    candidates = ProblemCandidate.objects.filter(
        state=CandidateState.PROPOSED, detected_at__lt=slice_.end
    )
    if slice_.country is not None:
        candidates = candidates.filter(countries=slice_.country)
    elif slice_.region is not None:
        candidates = candidates.filter(countries__region=slice_.region)
    if slice_.service is not None:
        candidates = candidates.filter(service=slice_.service)
    return candidates.distinct().count()


def register() -> None:
    items = [
        Metric("problems.opened", _("Problems opened"), "count", Better.NEUTRAL, count_opened),
        Metric(
            "problems.known_errors",
            _("Problems that became known errors"),
            "count",
            Better.HIGHER,
            count_known_errors,
        ),
        Metric("problems.resolved", _("Problems resolved"), "count", Better.HIGHER, count_resolved),
        Metric(
            "problems.time_to_known_error.median",
            _("Median time to known error"),
            "days",
            Better.LOWER,
            median_days_to_known_error,
        ),
        Metric(
            "problems.incidents_with_problem_share",
            _("Share of incidents linked to a problem"),
            "share",
            Better.NEUTRAL,
            share_incidents_with_problem,
        ),
        Metric(
            "problems.candidates_pending",
            _("Recurring-incident candidates waiting for a decision"),
            "count",
            Better.LOWER,
            count_pending_candidates,
        ),
    ]
    for item in items:
        metrics.register(Metric(**{**item.__dict__, "process": PROCESS}))
