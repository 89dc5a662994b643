"""The search document's copy of the record's scope, and fresh indexing, on both engines."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from itsmo.accounts.models import Role
from itsmo.incidents import services as incidents
from itsmo.incidents.models import Channel, Incident
from itsmo.knowledge import services as knowledge
from itsmo.knowledge.models import Article
from itsmo.organization.models import Country
from itsmo.search import services as search
from itsmo.search.models import SearchDocument
from tests.conftest import make_user
from tests.search.conftest import stored

pytestmark = pytest.mark.django_db


def numbers(query, user, model=Incident):
    return sorted(record.number for record in search.search(model, query, user))


@pytest.fixture
def peru(region_andean):
    return Country.objects.create(
        code="PE", name="Peru", region=region_andean, time_zone="America/Lima", language="es"
    )


@pytest.fixture
def caller_brazil(brazil):
    return make_user("user.brazil", [Role.END_USER], brazil)


@pytest.fixture
def open_incident(smo_analyst):
    def make(caller, short_description="Zebra printer jams", **values):
        return incidents.open_incident(
            caller=caller,
            actor=smo_analyst,
            channel=Channel.PHONE,
            short_description=short_description,
            **values,
        )

    return make


@pytest.fixture
def world(open_incident, caller_brazil, end_user_mexico, brazil, peru, region_brazil):
    """Matching incidents in Brazil, Mexico, Peru, one with only the Brazil region, one with
    no scope at all, one of a Mexican caller in Brazil, and one in Brazil that does not match."""
    nowhere = make_user("user.nowhere", [Role.END_USER])
    made = {
        "brazil": open_incident(caller_brazil),
        "mexico": open_incident(end_user_mexico),
        "peru": open_incident(caller_brazil, country=peru),
        "region brazil": open_incident(nowhere),
        "unscoped": open_incident(nowhere),
        "mexican caller in brazil": open_incident(end_user_mexico, country=brazil),
        "other text": open_incident(caller_brazil, short_description="Laptop will not boot"),
    }
    # A record with a region and no country (an import can hold one); re-indexed like a
    # service that changes the scope does.
    Incident.objects.filter(pk=made["region brazil"].pk).update(region=region_brazil)
    search.index(made["region brazil"])
    return made


def make_regional_lead(region):
    lead = make_user("lead.andean", [Role.AGENT])
    lead.scope_regions.add(region)
    lead.forget_scope()
    return lead


def make_two_country_agent(mexico, brazil):
    agent = make_user("agent.mx.br", [Role.AGENT], mexico)
    agent.scope_countries.add(brazil)
    agent.forget_scope()
    return agent


USERS = {
    "agent brazil": lambda f: f["agent_brazil"],
    "agent mexico": lambda f: f["agent_mexico"],
    "agent mexico and brazil": lambda f: make_two_country_agent(f["mexico"], f["brazil"]),
    "regional lead andean": lambda f: make_regional_lead(f["region_andean"]),
    "agent without a country": lambda f: make_user("agent.nowhere", [Role.AGENT]),
    "smo analyst": lambda f: f["smo_analyst"],
    "end user brazil": lambda f: f["caller_brazil"],
    "end user mexico": lambda f: f["end_user_mexico"],
    "anonymous": lambda f: None,
}


@pytest.mark.parametrize("who", USERS)
def test_a_search_finds_exactly_the_visible_matching_incidents(request, world, who):
    names = [
        "agent_brazil",
        "agent_mexico",
        "smo_analyst",
        "caller_brazil",
        "end_user_mexico",
        "mexico",
        "brazil",
        "region_andean",
    ]
    user = USERS[who]({name: request.getfixturevalue(name) for name in names})
    visible = Incident.objects.visible_to(user) if user else Incident.objects.none()
    expected = sorted(
        visible.filter(short_description__icontains="zebra").values_list("number", flat=True)
    )
    assert numbers("zebra", user) == expected


def test_a_regional_agent_finds_their_country_and_their_region_without_a_country(
    world, agent_brazil
):
    assert numbers("zebra", agent_brazil) == sorted(
        world[name].number for name in ("brazil", "region brazil", "mexican caller in brazil")
    )


def test_end_users_find_their_incidents_in_any_country(world, end_user_mexico):
    assert numbers("zebra", end_user_mexico) == sorted(
        world[name].number for name in ("mexico", "mexican caller in brazil")
    )


def test_documents_hold_the_scope_and_articles_none(world, agent_mexico, brazil):
    document = SearchDocument.objects.get(incident=world["brazil"])
    assert (document.country_id, document.region_id) == (brazil.pk, brazil.region_id)
    document = SearchDocument.objects.get(incident=world["region brazil"])
    assert (document.country_id, document.region_id) == (None, brazil.region_id)
    article = knowledge.create_article(actor=agent_mexico, title="Zebra labels", body="Load")
    document = SearchDocument.objects.get(article=article)
    assert (document.country_id, document.region_id) == (None, None)


def test_articles_stay_company_wide_for_staff(agent_mexico, agent_brazil, end_user_mexico):
    article = knowledge.create_article(actor=agent_mexico, title="Zebra labels", body="Load")
    assert list(search.search(Article, "zebra", agent_brazil)) == [article]
    assert list(search.search(Article, "zebra", end_user_mexico)) == []  # a draft


def test_the_scope_follows_a_country_change_when_the_record_is_reindexed(
    world, agent_brazil, agent_mexico, mexico
):
    incident = world["brazil"]
    Incident.objects.filter(pk=incident.pk).update(country=mexico, region=mexico.region)
    # Not re-indexed yet: the stale copy hides the record; it never shows it to Brazil.
    assert incident.number not in numbers("zebra", agent_brazil)
    assert incident.number not in numbers("zebra", agent_mexico)
    search.index(incident)
    assert incident.number not in numbers("zebra", agent_brazil)
    assert incident.number in numbers("zebra", agent_mexico)
    document = SearchDocument.objects.get(incident=incident)
    assert (document.country_id, document.region_id) == (mexico.pk, mexico.region_id)


def test_reindex_rebuilds_the_scope(world, agent_mexico, mexico):
    incident = world["brazil"]
    Incident.objects.filter(pk=incident.pk).update(country=mexico, region=mexico.region)
    search.reindex(Incident)
    assert incident.number in numbers("zebra", agent_mexico)


def test_changing_the_country_of_an_incident_moves_it_to_the_new_country_s_search(
    world, agent_brazil, agent_mexico, smo_analyst, mexico
):
    incident = world["brazil"]
    incidents.update_incident(incident, actor=smo_analyst, version=incident.version, country=mexico)
    assert incident.number not in numbers("zebra", agent_brazil)
    assert incident.number in numbers("zebra", agent_mexico)


# -- fresh indexing ----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["brazil", "region brazil", "unscoped"])
def test_fresh_indexing_writes_what_a_normal_index_writes(world, where):
    incident = Incident.objects.get(pk=world[where].pk)
    Incident.objects.filter(pk=incident.pk).update(resolution_notes="Swapped the Zebra ribbon")
    incident.resolution_notes = "Swapped the Zebra ribbon"
    search.index(incident)
    normal = stored(incident)
    search.remove(incident)
    assert stored(incident) == ()
    search.index(incident, fresh=True)
    assert stored(incident) == normal
    assert len(normal) == 1


def test_fresh_indexing_is_one_insert_and_reads_nothing(open_incident, caller_brazil, agent_brazil):
    incident = open_incident(caller_brazil, short_description="Scanner gun offline")
    search.remove(incident)
    with CaptureQueriesContext(connection) as queries:
        search.index(incident, fresh=True)
    statements = [query["sql"].lstrip().upper() for query in queries.captured_queries]
    assert all(sql.startswith("INSERT") for sql in statements), statements
    if connection.vendor == "postgresql":
        assert len(statements) == 1
    assert numbers("scanner", agent_brazil) == [incident.number]


def test_fresh_indexing_refuses_a_record_that_already_has_a_document(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        search.index(world["brazil"], fresh=True)


def test_fresh_indexing_an_article_reads_its_translations(agent_mexico, agent_brazil):
    article = knowledge.create_article(actor=agent_mexico, title="Zebra labels", body="Load")
    search.remove(article)
    search.index(article, fresh=True)
    assert list(search.search(Article, "zebra", agent_brazil)) == [article]
