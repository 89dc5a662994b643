"""The search box of every page: a number opens its record, words list the best matches of
each record type, always within what the user may see."""

from __future__ import annotations

import pytest

from itsmo.knowledge import services as knowledge
from itsmo.problems import services as problems
from tests.knowledge.conftest import knowledge_manager  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def printer_incident(open_mexico_incident):
    return open_mexico_incident(
        short_description="Zebra label printer jams", description="Roll stuck at the plant"
    )


@pytest.fixture
def printer_problem(smo_analyst, mexico):
    return problems.open_problem(
        title="Zebra printers lose labels", actor=smo_analyst, country=mexico
    )


@pytest.fixture
def printer_article(agent_mexico, knowledge_manager):  # noqa: F811
    article = knowledge.create_article(
        actor=agent_mexico, title="Clear a Zebra printer jam", body="Open the cover."
    )
    knowledge.transition(article, "review", actor=agent_mexico)
    knowledge.transition(article, "published", actor=knowledge_manager)
    return article


def test_a_number_opens_its_record(signed_in, agent_mexico, printer_incident, printer_problem):
    client = signed_in(agent_mexico)
    response = client.get("/search/", {"q": printer_incident.number})
    assert response.status_code == 302
    assert response["Location"] == f"/incidents/{printer_incident.number}/"
    short = "inc" + printer_incident.number.removeprefix("INC").lstrip("0")  # inc1001
    assert client.get("/search/", {"q": short})["Location"] == response["Location"]
    assert client.get("/search/", {"q": printer_problem.number})["Location"] == (
        f"/problems/{printer_problem.number}/"
    )


def test_words_list_each_record_type_the_user_may_see(
    signed_in, agent_mexico, printer_incident, printer_problem, printer_article
):
    response = signed_in(agent_mexico).get("/search/", {"q": "zebra"})
    assert response.status_code == 200
    html = response.content.decode()
    for record in (printer_incident, printer_problem, printer_article):
        assert record.number in html
    assert "3 matches for “zebra”." in html
    assert 'id="results-problems"' in html


def test_another_region_neither_opens_nor_finds(
    signed_in, agent_brazil, printer_incident, printer_problem
):
    client = signed_in(agent_brazil)
    response = client.get("/search/", {"q": printer_incident.number})
    assert response.status_code == 200  # not a redirect: the record is not theirs to open
    html = response.content.decode()
    assert "No record numbered" in html
    assert f'href="/incidents/{printer_incident.number}/"' not in html
    html = client.get("/search/", {"q": "zebra"}).content.decode()
    assert printer_incident.number not in html and printer_problem.number not in html


def test_an_end_user_finds_their_own_incidents_and_published_articles_only(
    signed_in, end_user_mexico, printer_incident, printer_problem, printer_article
):
    client = signed_in(end_user_mexico)
    html = client.get("/search/", {"q": "zebra"}).content.decode()
    assert printer_incident.number in html and printer_article.number in html
    assert printer_problem.number not in html and 'id="results-problems"' not in html
    assert f'href="/portal/incidents/{printer_incident.number}/"' in html
    assert f'href="/portal/knowledge/{printer_article.number}/"' in html
    # An incident number opens the portal's page of it.
    response = client.get("/search/", {"q": printer_incident.number})
    assert response["Location"] == f"/portal/incidents/{printer_incident.number}/"


def test_a_query_without_words_lists_nothing(signed_in, agent_mexico, printer_incident):
    html = signed_in(agent_mexico).get("/search/", {"q": "!!! ???"}).content.decode()
    assert "Type at least one word or number." in html
    assert printer_incident.number not in html


def test_search_needs_a_signed_in_user(client):
    response = client.get("/search/", {"q": "zebra"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_every_page_has_the_search_box(signed_in, agent_mexico):
    html = signed_in(agent_mexico).get("/").content.decode()
    assert 'action="/search/"' in html and 'name="q"' in html
