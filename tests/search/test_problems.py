"""Full-text search over problems, on whichever engine the test database runs (SQLite FTS5
on the SQLite leg, PostgreSQL tsvector + GIN on the PostgreSQL leg)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from itsmo.accounts.models import Role
from itsmo.core.errors import StaleVersion, ValidationFailed
from itsmo.incidents.models import Incident
from itsmo.problems import services as problems
from itsmo.problems.models import Problem, Status
from itsmo.search import services as search
from itsmo.search.models import SearchDocument
from tests.conftest import make_user
from tests.search.conftest import stored

pytestmark = pytest.mark.django_db


def numbers(query, user, **kwargs):
    return [p.number for p in search.search(Problem, query, user, **kwargs)]


@pytest.fixture
def open_problem(smo_analyst, mexico):
    def make(title="Zebra printers lose their labels", **values):
        values.setdefault("country", mexico)
        return problems.open_problem(title=title, actor=smo_analyst, **values)

    return make


@pytest.fixture
def known_error(open_problem, agent_mexico):
    """A Mexico problem taken to known error, then resolved without a fixing change."""
    problem = open_problem(
        title="SAP postings time out at month-end",
        description="The FI batch holds a table lock while invoices post.",
        problem_manager=agent_mexico,
    )
    problems.transition(problem, Status.ROOT_CAUSE_ANALYSIS, actor=agent_mexico)
    problems.transition(
        problem,
        Status.KNOWN_ERROR,
        actor=agent_mexico,
        root_cause="An unbounded nightly export exhausts the Oracle undo tablespace",
        workaround="Restart the Weblogic managed server after the export",
    )
    return problem


def test_a_new_problem_is_found_by_number_title_and_description(open_problem, agent_mexico):
    problem = open_problem(
        title="Label printers jam on line 3",
        description="The Zebra ZT410 at the Monterrey plant stops after each roll.",
    )
    assert numbers(problem.number, agent_mexico) == [problem.number]
    assert numbers(problem.number.lower(), agent_mexico) == [problem.number]
    assert numbers("printers", agent_mexico) == [problem.number]
    assert numbers("print", agent_mexico) == [problem.number]  # prefix
    assert numbers("zebra monterrey", agent_mexico) == [problem.number]
    assert numbers("zebra paris", agent_mexico) == []  # every word must match


def test_root_cause_workaround_and_resolution_notes_are_found(known_error, agent_mexico):
    assert numbers("undo tablespace", agent_mexico) == [known_error.number]
    assert numbers("weblogic", agent_mexico) == [known_error.number]
    assert numbers("vendor patch", agent_mexico) == []
    problems.transition(
        known_error,
        Status.RESOLVED,
        actor=agent_mexico,
        resolution_notes="Accepted until the vendor patch ships",
    )
    assert numbers("vendor patch", agent_mexico) == [known_error.number]
    assert numbers("undo tablespace", agent_mexico) == [known_error.number]


def test_an_update_reindexes_the_text(open_problem, agent_mexico):
    problem = open_problem(title="Slow laptops", description="Boot takes minutes")
    problems.update_problem(
        problem,
        actor=agent_mexico,
        version=problem.version,
        title="Slow laptops after the BitLocker rollout",
        description="Disk encryption runs at every boot",
        root_cause="The encryption agent rescans the disk",
        workaround="Suspend BitLocker for one reboot",
    )
    assert numbers("bitlocker", agent_mexico) == [problem.number]
    assert numbers("encryption rescans", agent_mexico) == [problem.number]
    assert numbers("suspend reboot", agent_mexico) == [problem.number]
    assert numbers("minutes", agent_mexico) == []  # the old description is gone


def test_a_refused_change_leaves_the_index_as_it_was(open_problem, agent_mexico):
    problem = open_problem(title="VPN drops every hour")
    before = stored(problem)
    with pytest.raises(ValidationFailed):
        problems.update_problem(problem, actor=agent_mexico, version=problem.version, title="")
    with pytest.raises(StaleVersion):
        problems.update_problem(problem, actor=agent_mexico, version=99, title="Teams crashes")
    assert stored(problem) == before
    assert numbers("vpn", agent_mexico) == [problem.number]
    assert numbers("teams", agent_mexico) == []


def test_public_comments_are_found_and_work_notes_are_not(open_problem, agent_mexico):
    problem = open_problem(title="VPN drops")
    problems.add_comment(
        problem, actor=agent_mexico, body="Replaced the Fortinet token", internal=False
    )
    problems.add_comment(problem, actor=agent_mexico, body="the vendor is grumpy")  # a work note
    assert numbers("fortinet", agent_mexico) == [problem.number]
    assert numbers("grumpy", agent_mexico) == []
    search.reindex(Problem)  # a rebuild reads the journal the same way
    assert numbers("fortinet", agent_mexico) == [problem.number]
    assert numbers("grumpy", agent_mexico) == []


def test_title_matches_rank_above_analysis_and_comment_matches(open_problem, agent_mexico):
    in_comment = open_problem(title="Screens flicker")
    problems.add_comment(
        in_comment, actor=agent_mexico, body="maybe the docking station", internal=False
    )
    in_title = open_problem(title="Docking stations not detected")
    in_description = open_problem(title="No display", description="Behind a docking station")
    assert numbers("docking", agent_mexico) == [
        in_title.number,
        in_description.number,
        in_comment.number,
    ]


# -- scope -----------------------------------------------------------------------------------


@pytest.fixture
def world(open_problem, mexico, brazil, peru, region_brazil):
    """Matching problems in Mexico, Brazil and Peru, one of the Brazil region without a
    country, one of no region (every staff member sees it), and one that does not match."""
    return {
        "mexico": open_problem(),
        "brazil": open_problem(country=brazil),
        "peru": open_problem(country=peru),
        "region brazil": open_problem(country=None, region=region_brazil),
        "everywhere": open_problem(country=None),
        "other text": open_problem(title="Laptops will not boot", country=brazil),
    }


def make_regional_lead(region):
    lead = make_user("lead.andean", [Role.AGENT])
    lead.scope_regions.add(region)
    lead.forget_scope()
    return lead


USERS = {
    "agent brazil": lambda f: f["agent_brazil"],
    "agent mexico": lambda f: f["agent_mexico"],
    "regional lead andean": lambda f: make_regional_lead(f["region_andean"]),
    "agent without a country": lambda f: make_user("agent.nowhere", [Role.AGENT]),
    "smo analyst": lambda f: f["smo_analyst"],
    "end user mexico": lambda f: f["end_user_mexico"],
    "anonymous": lambda f: None,
}


@pytest.mark.parametrize("who", USERS)
def test_a_search_finds_exactly_the_visible_matching_problems(request, world, who):
    names = ["agent_brazil", "agent_mexico", "smo_analyst", "end_user_mexico", "region_andean"]
    user = USERS[who]({name: request.getfixturevalue(name) for name in names})
    visible = Problem.objects.visible_to(user) if user else Problem.objects.none()
    expected = sorted(visible.filter(title__icontains="zebra").values_list("number", flat=True))
    assert sorted(numbers("zebra", user)) == expected


def test_a_brazil_agent_never_finds_a_mexico_problem(world, agent_brazil, smo_analyst):
    mexico = world["mexico"]
    assert numbers(mexico.number, agent_brazil) == []
    assert sorted(numbers("zebra", agent_brazil)) == sorted(
        world[name].number for name in ("brazil", "region brazil", "everywhere")
    )
    assert numbers(mexico.number, smo_analyst) == [mexico.number]
    assert len(numbers("zebra", smo_analyst)) == 5


def test_end_users_find_no_problem(world, end_user_mexico):
    assert numbers("zebra", end_user_mexico) == []
    assert numbers(world["mexico"].number, end_user_mexico) == []


def test_documents_hold_the_problem_s_scope(world, brazil, region_brazil):
    document = SearchDocument.objects.get(problem=world["brazil"])
    assert (document.country_id, document.region_id) == (brazil.pk, brazil.region_id)
    document = SearchDocument.objects.get(problem=world["region brazil"])
    assert (document.country_id, document.region_id) == (None, region_brazil.pk)
    document = SearchDocument.objects.get(problem=world["everywhere"])
    assert (document.country_id, document.region_id) == (None, None)


def test_moving_a_problem_moves_it_to_the_new_country_s_search(
    world, agent_brazil, agent_mexico, smo_analyst, mexico, region_mexico
):
    problem = world["brazil"]
    problems.update_problem(problem, actor=smo_analyst, version=problem.version, country=mexico)
    assert problem.number not in numbers("zebra", agent_brazil)
    assert problem.number in numbers("zebra", agent_mexico)
    document = SearchDocument.objects.get(problem=problem)
    assert (document.country_id, document.region_id) == (mexico.pk, region_mexico.pk)
    # A region alone changes the scope too (the problem spans the region's countries).
    regional = world["region brazil"]
    problems.update_problem(
        regional, actor=smo_analyst, version=regional.version, region=region_mexico
    )
    assert regional.number not in numbers("zebra", agent_brazil)
    assert regional.number in numbers("zebra", agent_mexico)


# -- rebuilding ------------------------------------------------------------------------------


def test_reindex_covers_problems(
    world, known_error, agent_brazil, smo_analyst, open_mexico_incident
):
    incident = open_mexico_incident(short_description="Zebra printer jams")
    SearchDocument.objects.all().delete()
    assert numbers("zebra", smo_analyst) == []
    call_command("search_reindex", "--model", "problems", verbosity=0)
    assert len(numbers("zebra", smo_analyst)) == 5
    assert numbers("tablespace", smo_analyst) == [known_error.number]
    assert sorted(numbers("zebra", agent_brazil)) == sorted(
        world[name].number for name in ("brazil", "region brazil", "everywhere")
    )
    # Rebuilding the other record types keeps the problems' documents, and the default
    # (every type) rebuilds problems too.
    call_command("search_reindex", "--model", "incidents", verbosity=0)
    assert len(numbers("zebra", smo_analyst)) == 5
    assert [i.number for i in search.search(Incident, "zebra", smo_analyst)] == [incident.number]
    SearchDocument.objects.filter(problem__isnull=False).delete()
    call_command("search_reindex", verbosity=0)
    assert len(numbers("zebra", smo_analyst)) == 5
    assert SearchDocument.objects.filter(problem__isnull=False).count() == Problem.objects.count()


@pytest.mark.parametrize("where", ["mexico", "region brazil", "everywhere"])
def test_fresh_indexing_writes_what_a_normal_index_writes(world, where):
    problem = world[where]
    Problem.objects.filter(pk=problem.pk).update(root_cause="A worn Zebra ribbon")
    search.index(problem)
    normal = stored(problem)
    search.remove(problem)
    assert stored(problem) == ()
    problem.root_cause = "A worn Zebra ribbon"
    search.index(problem, fresh=True)
    assert stored(problem) == normal
    assert len(normal) == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_indexes_the_problems_that_exist(open_problem, agent_mexico, brazil):
    problem = open_problem(
        title="Impressoras Zebra perdem as etiquetas",
        description="A impressora fiscal da loja de São Paulo para.",
        country=brazil,
    )
    problems.add_comment(problem, actor=agent_mexico, body="Trocamos a fita", internal=False)
    problems.add_comment(problem, actor=agent_mexico, body="work note only")
    written = stored(problem)  # what the services wrote
    assert len(written) == 1
    before = [("search", "0004_search_document_scope_backfill")]
    after = [("search", "0006_search_document_problem_backfill")]
    MigrationExecutor(connection).migrate(before)
    try:
        MigrationExecutor(connection).migrate(after)
        assert stored(problem) == written
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert numbers("sao paulo", agent_mexico) == []  # a Brazil problem
    assert numbers("fita", make_user("agent.br2", [Role.AGENT], brazil)) == [problem.number]
