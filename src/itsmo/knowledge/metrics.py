"""The KPIs knowledge management contributes to the indicator registry.

Knowledge is company-wide, so articles published are counted per period (and per service);
the uses of articles are counted on the incidents they resolved, so they follow the
incident's region, country and service like every incident KPI.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from itsmo.core import metrics
from itsmo.core.metrics import Better, Metric, Slice
from itsmo.incidents import metrics as incident_metrics

from .models import Article, ArticleUse

PROCESS = "knowledge"


def published(slice_: Slice) -> QuerySet:
    articles = Article.objects.filter(published_at__gte=slice_.start, published_at__lt=slice_.end)
    if slice_.service is not None:
        articles = articles.filter(services=slice_.service)
    return articles


def count_published(slice_: Slice) -> int:
    return published(slice_).count()


def count_resolved_with_article(slice_: Slice) -> int:
    """Incidents resolved in the period with a knowledge article."""
    incidents = incident_metrics.resolved(slice_)
    return incidents.filter(pk__in=ArticleUse.objects.values("incident_id")).count()


def share_resolved_with_article(slice_: Slice) -> float | None:
    """Of the incidents resolved in the period, the share resolved with an article."""
    total = incident_metrics.resolved(slice_).count()
    if not total:
        return None
    return count_resolved_with_article(slice_) / total


def register() -> None:
    items = [
        Metric(
            "knowledge.articles_published",
            _("Knowledge articles published"),
            "count",
            Better.HIGHER,
            count_published,
        ),
        Metric(
            "knowledge.incidents_resolved_with_article",
            _("Incidents resolved with a knowledge article"),
            "count",
            Better.HIGHER,
            count_resolved_with_article,
        ),
        Metric(
            "knowledge.resolved_with_article_share",
            _("Share of incidents resolved with a knowledge article"),
            "share",
            Better.HIGHER,
            share_resolved_with_article,
        ),
    ]
    for item in items:
        metrics.register(Metric(**{**item.__dict__, "process": PROCESS}))
