"""Knowledge KPIs: articles published, incidents resolved with an article and their share."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from itsmo.core import metrics
from itsmo.core.metrics import Slice
from itsmo.incidents import services as incidents
from itsmo.knowledge import services

pytestmark = pytest.mark.django_db


def test_knowledge_registers_its_metrics():
    ids = {m.id for m in metrics.all_metrics(process="knowledge")}
    assert ids == {
        "knowledge.articles_published",
        "knowledge.incidents_resolved_with_article",
        "knowledge.resolved_with_article_share",
    }


def test_counts_and_share(published, open_mexico_incident, agent_mexico, mexico, brazil):
    now = timezone.now()
    today = Slice(now - timedelta(hours=1), now + timedelta(hours=1))
    with_article = open_mexico_incident(short_description="Printer jams")
    without = open_mexico_incident(short_description="Mouse broken")
    services.resolve_with_article(with_article, published, actor=agent_mexico)
    incidents.resolve(without, actor=agent_mexico, code="fixed", notes="New mouse")

    assert metrics.compute("knowledge.articles_published", today) == 1
    assert metrics.compute("knowledge.incidents_resolved_with_article", today) == 1
    assert metrics.compute("knowledge.resolved_with_article_share", today) == 0.5
    elsewhere = Slice(today.start, today.end, country=brazil)
    assert metrics.compute("knowledge.resolved_with_article_share", elsewhere) is None
