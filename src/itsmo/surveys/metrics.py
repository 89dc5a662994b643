"""The KPIs of satisfaction surveys: CSAT average and response rate.

Surveys are counted in the period their incident was resolved in."""

from __future__ import annotations

from django.db.models import Avg
from django.utils.translation import gettext_lazy as _

from itsmo.core import metrics
from itsmo.core.metrics import Better, Metric, Slice

from .models import Survey

PROCESS = "incidents"


def _surveys(slice_: Slice):
    surveys = Survey.objects.filter(
        incident__resolved_at__gte=slice_.start, incident__resolved_at__lt=slice_.end
    )
    if slice_.region is not None:
        surveys = surveys.filter(incident__region=slice_.region)
    if slice_.country is not None:
        surveys = surveys.filter(incident__country=slice_.country)
    if slice_.service is not None:
        surveys = surveys.filter(incident__service=slice_.service)
    return surveys


def csat_average(slice_: Slice) -> float | None:
    value = _surveys(slice_).filter(answered_at__isnull=False).aggregate(v=Avg("rating"))["v"]
    return round(value, 2) if value is not None else None


def response_rate(slice_: Slice) -> float | None:
    surveys = _surveys(slice_)
    total = surveys.count()
    if not total:
        return None
    return round(100.0 * surveys.filter(answered_at__isnull=False).count() / total, 1)


def register() -> None:
    metrics.register(
        Metric(
            "surveys.csat_average",
            _("Customer satisfaction (average rating)"),
            "rating 1-5",
            Better.HIGHER,
            compute=csat_average,
            description=_("Average rating of the answered surveys of resolved incidents."),
            process=PROCESS,
        )
    )
    metrics.register(
        Metric(
            "surveys.response_rate",
            _("Survey response rate"),
            "%",
            Better.HIGHER,
            compute=response_rate,
            description=_("Share of the surveys sent that were answered."),
            process=PROCESS,
        )
    )
