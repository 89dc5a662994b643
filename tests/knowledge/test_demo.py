"""The demo knowledge base, written through the services."""

from __future__ import annotations

import pytest

from itsmo.core.demo import DemoContext
from itsmo.knowledge import demo
from itsmo.knowledge.models import Article, State
from itsmo.search import services as search

pytestmark = pytest.mark.django_db


def test_demo_articles_are_published_translated_and_searchable(
    agent_mexico, knowledge_manager, end_user_mexico, erp
):
    ctx = DemoContext(seed=1, scale="small", password="x")
    ctx.data.update(
        users={"agent.mx": agent_mexico, "manager.mx": knowledge_manager},
        services={"sap-sales": erp},
    )

    demo.load_knowledge(ctx)

    articles = Article.objects.all()
    published = articles.filter(state=State.PUBLISHED)
    assert 20 <= articles.count() <= 40
    assert published.count() == articles.count() - 3
    assert published.filter(translations__language="es").exists()
    assert published.filter(translations__language="pt").exists()
    assert Article.objects.filter(services=erp).count() == 3
    found = list(search.search(Article, "impressora", end_user_mexico))
    assert [a.title for a in found] == ["Office printer jams on every page"]
