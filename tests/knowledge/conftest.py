"""Knowledge fixtures: authors, a knowledge manager, articles in each state."""

from __future__ import annotations

import pytest

from itsmo.accounts.models import Role
from itsmo.catalog.models import Criticality, Lifecycle, Service
from itsmo.knowledge import services
from itsmo.knowledge.models import ArticleType
from tests.conftest import make_user
from tests.incidents.conftest import (  # noqa: F401
    api_as,
    incident_mexico,
    mail_and_tasks,
    open_mexico_incident,
)


@pytest.fixture
def erp(desk_mexico):
    return Service.objects.create(
        code="erp",
        name="ERP",
        criticality=Criticality.CRITICAL,
        lifecycle=Lifecycle.CATALOGUE,
        support_group=desk_mexico,
    )


@pytest.fixture
def knowledge_manager(mexico):
    return make_user("km.mexico", [Role.GROUP_MANAGER], mexico, language="en")


@pytest.fixture
def draft(agent_mexico, erp):
    return services.create_article(
        actor=agent_mexico,
        title="Reset the VPN token",
        body="## Steps\n\n1. Open the token app\n2. Press **reset**",
        services=[erp],
    )


@pytest.fixture
def publish(knowledge_manager, agent_mexico):
    def make(title: str, body: str, **values):
        article = services.create_article(actor=agent_mexico, title=title, body=body, **values)
        services.transition(article, "review", actor=agent_mexico)
        services.transition(article, "published", actor=knowledge_manager)
        return services.reload(article)

    return make


@pytest.fixture
def published(publish, erp):
    return publish(
        "Printer jams on every page",
        "Open tray 2 and remove the torn sheet; clean the fuser roller.",
        services=[erp],
        article_type=ArticleType.HOW_TO,
    )
