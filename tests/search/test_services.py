"""Full-text search over incidents, on whichever engine the test database runs
(SQLite FTS5 on the SQLite leg, PostgreSQL tsvector + GIN on the PostgreSQL leg)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from itsmo.accounts.models import Role
from itsmo.incidents import services as incidents
from itsmo.incidents.models import Channel, Incident, Status
from itsmo.search import services as search
from itsmo.search.models import SearchDocument
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def numbers(query, user, **kwargs):
    return [i.number for i in search.search(Incident, query, user, **kwargs)]


@pytest.fixture
def caller_brazil(brazil):
    return make_user("user.brazil", [Role.END_USER], brazil)


@pytest.fixture
def brazil_incident(caller_brazil, agent_brazil):
    return incidents.open_incident(
        caller=caller_brazil,
        actor=agent_brazil,
        channel=Channel.PHONE,
        short_description="Impressora não imprime em São Paulo",
        description="A impressora fiscal da loja parou.",
    )


def test_new_incident_is_found_by_words_number_and_prefix(open_mexico_incident, agent_mexico):
    incident = open_mexico_incident(
        short_description="Label printer jams on line 3",
        description="The Zebra ZT410 at the Monterrey plant stops after each roll.",
    )
    assert numbers("printer", agent_mexico) == [incident.number]
    assert numbers("print", agent_mexico) == [incident.number]  # prefix
    assert numbers("zebra monterrey", agent_mexico) == [incident.number]
    assert numbers(incident.number.lower(), agent_mexico) == [incident.number]
    assert numbers("zebra paris", agent_mexico) == []  # every word must match


def test_accents_and_case_do_not_matter(brazil_incident, agent_brazil):
    assert numbers("SAO PAULO", agent_brazil) == [brazil_incident.number]
    assert numbers("impressora nao", agent_brazil) == [brazil_incident.number]


def test_public_comments_are_found_and_work_notes_are_not(open_mexico_incident, agent_mexico):
    incident = open_mexico_incident(short_description="VPN drops")
    incidents.add_comment(incident, actor=agent_mexico, body="Replaced the Fortinet token")
    incidents.add_comment(incident, actor=agent_mexico, body="caller is grumpy", internal=True)
    assert numbers("fortinet", agent_mexico) == [incident.number]
    assert numbers("grumpy", agent_mexico) == []


def test_updates_and_resolution_notes_are_reindexed(open_mexico_incident, agent_mexico):
    incident = open_mexico_incident(short_description="Slow laptop")
    incidents.update_incident(
        incident, actor=agent_mexico, version=incident.version, description="Disk is full"
    )
    assert numbers("disk", agent_mexico) == [incident.number]
    incidents.transition(
        incident,
        Status.RESOLVED,
        actor=agent_mexico,
        resolution_code="fixed",
        resolution_notes="Cleared the Outlook cache",
    )
    assert numbers("outlook", agent_mexico) == [incident.number]


def test_a_brazil_agent_never_finds_a_mexico_incident(
    open_mexico_incident, brazil_incident, agent_brazil, agent_mexico, smo_analyst
):
    mexico_incident = open_mexico_incident(short_description="Impressora Mexico")
    assert numbers("impressora", agent_brazil) == [brazil_incident.number]
    assert numbers(mexico_incident.number, agent_brazil) == []
    assert numbers("impressora", agent_mexico) == [mexico_incident.number]
    assert set(numbers("impressora", smo_analyst)) == {
        mexico_incident.number,
        brazil_incident.number,
    }
    assert numbers("impressora", None) == []


def test_end_users_find_only_their_own(open_mexico_incident, end_user_mexico, mexico):
    mine = open_mexico_incident(short_description="Teams crashes")
    other = make_user("other.mexico", [Role.END_USER], mexico)
    open_mexico_incident(short_description="Teams crashes too", caller=other, actor=other)
    assert numbers("teams", end_user_mexico) == [mine.number]


def test_title_matches_rank_above_comment_matches(open_mexico_incident, agent_mexico):
    in_comment = open_mexico_incident(short_description="Screen flickers")
    incidents.add_comment(in_comment, actor=agent_mexico, body="maybe the docking station")
    in_title = open_mexico_incident(short_description="Docking station not detected")
    in_description = open_mexico_incident(
        short_description="No display", description="Behind a docking station"
    )
    assert numbers("docking", agent_mexico) == [
        in_title.number,
        in_description.number,
        in_comment.number,
    ]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        None,
        '"',
        "'",
        '"unbalanced',
        "printer\"'",
        "AND",
        "OR NOT",
        "NEAR(printer)",
        "printer AND",
        "title:printer",
        "print*",
        "*",
        "-printer",
        "!printer & | <-> :*",
        "(printer",
        "\\",
        "%_%",
        "💥 printer",
        "a" * 5000,
        "x " * 500,
    ],
)
def test_special_characters_never_crash(open_mexico_incident, agent_mexico, query):
    open_mexico_incident(short_description="Label printer jams")
    found = numbers(query, agent_mexico)
    if not search.words(query):
        assert found == []


def test_operators_are_plain_words(open_mexico_incident, agent_mexico):
    incident = open_mexico_incident(short_description="Label printer jams")
    assert numbers('"printer" AND', agent_mexico) == []  # "and" is a word the record lacks
    assert numbers("(printer) -jams*", agent_mexico) == [incident.number]


def test_queryset_narrows_and_reindex_rebuilds(open_mexico_incident, agent_mexico):
    first = open_mexico_incident(short_description="Wi-Fi down", impact=1, urgency=1)
    open_mexico_incident(short_description="Wi-Fi slow")
    narrowed = Incident.objects.filter(priority=1)
    assert numbers("wi fi", agent_mexico, queryset=narrowed) == [first.number]
    SearchDocument.objects.all().delete()
    assert numbers("wi fi", agent_mexico) == []
    call_command("search_reindex", verbosity=0)
    assert len(numbers("wi fi", agent_mexico)) == 2
    assert SearchDocument.objects.count() == 2


def test_deleting_the_record_removes_its_document(open_mexico_incident, agent_mexico):
    incident = open_mexico_incident(short_description="Toner empty")
    search.remove(incident)
    assert numbers("toner", agent_mexico) == []
    search.index(incident)
    assert numbers("toner", agent_mexico) == [incident.number]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_fts")
            assert cursor.fetchone()[0] == 1


def test_api_q_uses_full_text_search(api_as, open_mexico_incident, agent_mexico, brazil_incident):
    incident = open_mexico_incident(
        short_description="SAP posting error", description="period closed"
    )
    open_mexico_incident(short_description="Other thing")
    response = api_as(agent_mexico).get("/incidents", {"q": "period clos"})
    assert response.status_code == 200, response.content
    assert [i["number"] for i in response.json()["items"]] == [incident.number]
    response = api_as(agent_mexico).get("/incidents", {"q": "impressora"})
    assert response.json()["items"] == []


def test_api_q_without_a_word_finds_nothing(api_as, open_mexico_incident, agent_mexico):
    open_mexico_incident(short_description="Label printer jams")
    assert list(search.search(Incident, "!!!", agent_mexico).order_by("-search_rank")) == []
    response = api_as(agent_mexico).get("/incidents", {"q": "!!! ¿?"})
    assert response.status_code == 200, response.content
    assert response.json()["items"] == []
