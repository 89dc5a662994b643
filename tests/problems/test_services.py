"""The problem write path: lifecycle and guards, links, tasks, candidates, scoping."""

from __future__ import annotations

import datetime as dt

import pytest

from itsmo.core.errors import (
    NotFound,
    PermissionDenied,
    StaleVersion,
    TransitionNotAllowed,
    ValidationFailed,
)
from itsmo.core.models import JournalEntry, JournalKind
from itsmo.incidents import services as incidents
from itsmo.incidents.models import Incident, Status as IncidentStatus
from itsmo.problems import services
from itsmo.problems.models import (
    LIFECYCLE,
    CandidateState,
    Problem,
    ProblemCandidate,
    ResolutionCode,
    Status,
    TaskStatus,
)
from itsmo.search import services as search

pytestmark = pytest.mark.django_db


def _states(problem):
    return list(
        JournalEntry.objects.for_record(problem)
        .filter(kind=JournalKind.STATE_CHANGE)
        .values_list("old_value", "new_value")
    )


def _found(query, user):
    """The problems ``user`` finds with the full-text search."""
    return [p.number for p in search.search(Problem, query, user)]


# -- opening ----------------------------------------------------------------------------------


def test_open_gives_a_prb_number_priority_region_and_a_journal(problem_mexico, mexico):
    assert problem_mexico.number.startswith("PRB")
    assert problem_mexico.priority == 2  # impact 2 x urgency 1
    assert problem_mexico.status == Status.NEW
    assert problem_mexico.region_id == mexico.region_id
    assert problem_mexico.assignment_group.code == "sd-mexico"  # the service's group
    kinds = set(JournalEntry.objects.for_record(problem_mexico).values_list("kind", flat=True))
    assert JournalKind.CREATED in kinds


def test_numbers_are_unique_and_increasing(agent_mexico):
    first = services.open_problem(title="A", actor=agent_mexico)
    second = services.open_problem(title="B", actor=agent_mexico)
    assert first.number < second.number


@pytest.mark.parametrize(
    ("values", "field"),
    [({"title": " "}, "title"), ({"impact": 4}, "impact"), ({"urgency": 0}, "urgency")],
)
def test_bad_input_names_the_field_and_creates_nothing(agent_mexico, values, field):
    with pytest.raises(ValidationFailed) as error:
        services.open_problem(**{"title": "x", **values}, actor=agent_mexico)
    assert error.value.field == field
    assert Problem.objects.count() == 0


def test_end_users_cannot_open_problems(end_user_mexico):
    with pytest.raises(PermissionDenied):
        services.open_problem(title="x", actor=end_user_mexico)


# -- lifecycle --------------------------------------------------------------------------------


def test_full_lifecycle_to_closed_with_a_fixing_change(problem_mexico, agent_mexico, change):
    p = problem_mexico
    services.transition(p, Status.ASSESSED, actor=agent_mexico)
    services.transition(p, Status.ROOT_CAUSE_ANALYSIS, actor=agent_mexico)
    services.update_problem(
        p, actor=agent_mexico, version=p.version, rca_method="five_whys", root_cause="Lock"
    )
    services.transition(
        p, Status.KNOWN_ERROR, actor=agent_mexico, workaround="Re-run the batch at night"
    )
    assert p.known_error_at is not None
    services.add_fixing_change(p, change, actor=agent_mexico)
    services.transition(p, Status.RESOLVED, actor=agent_mexico)
    assert p.resolution_code == ResolutionCode.FIX_APPLIED
    services.transition(p, Status.CLOSED, actor=agent_mexico)

    p.refresh_from_db()
    assert p.status == Status.CLOSED and p.closed_at is not None
    assert [new for _old, new in _states(p)] == [
        "assessed",
        "root_cause_analysis",
        "known_error",
        "resolved",
        "closed",
    ]
    changed = JournalEntry.objects.for_record(p).filter(kind=JournalKind.FIELD_CHANGE)
    assert {"rca_method", "root_cause", "workaround", "fixing_changes"} <= set(
        changed.values_list("field", flat=True)
    )


def test_assessing_needs_a_problem_manager(agent_mexico):
    problem = services.open_problem(title="No owner", actor=agent_mexico)
    with pytest.raises(ValidationFailed) as error:
        services.transition(problem, Status.ASSESSED, actor=agent_mexico)
    assert error.value.field == "problem_manager"
    problem.refresh_from_db()
    assert problem.status == Status.NEW


def test_known_error_needs_root_cause_and_workaround(problem_mexico, agent_mexico):
    p = problem_mexico
    services.transition(p, Status.ROOT_CAUSE_ANALYSIS, actor=agent_mexico)
    with pytest.raises(ValidationFailed) as error:
        services.transition(p, Status.KNOWN_ERROR, actor=agent_mexico, workaround="Retry")
    assert error.value.field == "root_cause"
    with pytest.raises(ValidationFailed) as error:
        services.transition(p, Status.KNOWN_ERROR, actor=agent_mexico, root_cause="Lock")
    assert error.value.field == "workaround"
    p.refresh_from_db()
    assert p.status == Status.ROOT_CAUSE_ANALYSIS and p.workaround == "" and p.root_cause == ""
    services.transition(
        p, Status.KNOWN_ERROR, actor=agent_mexico, root_cause="Lock", workaround="Retry"
    )
    assert p.status == Status.KNOWN_ERROR


def test_resolving_needs_a_fixing_change_or_a_reason(problem_mexico, agent_mexico):
    p = problem_mexico
    services.transition(p, Status.ROOT_CAUSE_ANALYSIS, actor=agent_mexico)
    with pytest.raises(ValidationFailed) as error:
        services.transition(p, Status.RESOLVED, actor=agent_mexico)
    assert error.value.field == "resolution_notes"
    with pytest.raises(ValidationFailed) as error:
        services.transition(p, Status.RESOLVED, actor=agent_mexico, resolution_code="fix_applied")
    assert error.value.field == "fixing_changes"
    services.transition(
        p,
        Status.RESOLVED,
        actor=agent_mexico,
        resolution_code="risk_accepted",
        resolution_notes="The ERP is replaced next quarter",
    )
    assert p.status == Status.RESOLVED and p.resolution_code == "risk_accepted"
    services.transition(p, Status.ROOT_CAUSE_ANALYSIS, actor=agent_mexico)  # reopen
    p.refresh_from_db()
    assert p.resolved_at is None and p.resolution_code == ""


def test_cancel_needs_a_reason_and_a_final_state_refuses_changes(problem_mexico, agent_mexico):
    with pytest.raises(ValidationFailed) as error:
        services.transition(problem_mexico, Status.CANCELLED, actor=agent_mexico)
    assert error.value.field == "note"
    services.transition(problem_mexico, Status.CANCELLED, actor=agent_mexico, note="Duplicate")
    with pytest.raises(TransitionNotAllowed):
        services.update_problem(problem_mexico, actor=agent_mexico, version=None, title="x")


def test_a_move_outside_the_table_is_refused(problem_mexico, agent_mexico):
    with pytest.raises(TransitionNotAllowed):
        services.transition(problem_mexico, Status.CLOSED, actor=agent_mexico)
    with pytest.raises(ValidationFailed):
        services.transition(problem_mexico, "nowhere", actor=agent_mexico)


def test_every_state_is_reachable_and_closed_is_final():
    assert LIFECYCLE.states() == set(Status.values)
    assert LIFECYCLE.targets_from(Status.CLOSED) == []
    assert LIFECYCLE.targets_from(Status.CANCELLED) == []


def test_a_stale_version_is_refused_and_nothing_changes(problem_mexico, agent_mexico):
    version = problem_mexico.version
    services.update_problem(problem_mexico, actor=agent_mexico, version=version, title="New")
    with pytest.raises(StaleVersion) as error:
        services.update_problem(problem_mexico, actor=agent_mexico, version=version, title="Old")
    assert error.value.current_version == version + 1
    problem_mexico.refresh_from_db()
    assert problem_mexico.title == "New"


def test_impact_and_urgency_recompute_the_priority(problem_mexico, agent_mexico):
    services.update_problem(
        problem_mexico, actor=agent_mexico, version=problem_mexico.version, impact=1, urgency=1
    )
    assert problem_mexico.priority == 1


# -- linked incidents -------------------------------------------------------------------------


def test_linking_from_the_problem_goes_through_the_incident(
    problem_mexico, incident_mexico, agent_mexico
):
    version = incident_mexico.version
    services.link_incidents(problem_mexico, [incident_mexico], actor=agent_mexico)
    incident_mexico.refresh_from_db()
    assert incident_mexico.problem_id == problem_mexico.pk
    assert incident_mexico.version == version + 1
    assert JournalEntry.objects.for_record(incident_mexico).filter(field="problem").exists()
    assert JournalEntry.objects.for_record(problem_mexico).filter(field="incidents+").exists()

    services.unlink_incident(problem_mexico, incident_mexico, actor=agent_mexico)
    incident_mexico.refresh_from_db()
    assert incident_mexico.problem_id is None


def test_a_closed_incident_can_still_be_linked(problem_mexico, incident_mexico, agent_mexico):
    incidents.resolve(incident_mexico, actor=agent_mexico, code="fixed", notes="Restarted")
    incidents.transition(incident_mexico, IncidentStatus.CLOSED, actor=agent_mexico)
    services.link_incidents(problem_mexico, [incident_mexico], actor=agent_mexico)
    assert Incident.objects.get(pk=incident_mexico.pk).problem_id == problem_mexico.pk


def test_linking_from_the_incident_side_shows_on_the_problem(
    problem_mexico, incident_mexico, agent_mexico
):
    incidents.update_incident(
        incident_mexico, actor=agent_mexico, version=incident_mexico.version, problem=problem_mexico
    )
    assert list(problem_mexico.incidents.all()) == [incident_mexico]


def test_unlinking_an_incident_of_another_problem_is_refused(
    problem_mexico, incident_mexico, agent_mexico
):
    with pytest.raises(ValidationFailed):
        services.unlink_incident(problem_mexico, incident_mexico, actor=agent_mexico)


# -- tasks ------------------------------------------------------------------------------------


def test_tasks_have_owners_a_small_lifecycle_and_are_journaled(
    problem_mexico, agent_mexico, problem_manager_mexico
):
    task = services.add_task(
        problem_mexico, actor=agent_mexico, title="Collect DB locks", owner=agent_mexico
    )
    assert task.number.startswith("PTASK") and task.status == TaskStatus.OPEN
    services.update_task(task, actor=agent_mexico, status=TaskStatus.DONE)
    assert task.status == TaskStatus.DONE and task.done_at is not None
    services.update_task(task, actor=agent_mexico, owner=problem_manager_mexico)
    task.refresh_from_db()
    assert task.owner == problem_manager_mexico
    fields = set(JournalEntry.objects.for_record(problem_mexico).values_list("field", flat=True))
    assert "tasks+" in fields and f"{task.number} state" in fields
    assert f"{task.number} owner" in fields
    with pytest.raises(ValidationFailed):
        services.add_task(problem_mexico, actor=agent_mexico, title="")


# -- scoping ----------------------------------------------------------------------------------


def test_an_agent_of_another_region_does_not_see_the_problem(
    problem_mexico, agent_brazil, agent_mexico, smo_analyst, end_user_mexico
):
    assert services.get_visible(problem_mexico.number, agent_mexico) == problem_mexico
    assert services.get_visible(problem_mexico.number, smo_analyst) == problem_mexico
    for user in (agent_brazil, end_user_mexico, None):
        with pytest.raises(NotFound):
            services.get_visible(problem_mexico.number, user)


def test_a_problem_spanning_regions_is_visible_to_all_staff(agent_mexico, agent_brazil):
    problem = services.open_problem(title="Global e-mail outage", actor=agent_mexico)
    assert services.get_visible(problem.number, agent_brazil) == problem


def test_a_new_country_brings_its_region(problem_mexico, agent_mexico, agent_brazil, brazil):
    services.update_problem(
        problem_mexico, actor=agent_mexico, version=problem_mexico.version, country=brazil
    )
    problem_mexico.refresh_from_db()
    assert (problem_mexico.country, problem_mexico.region) == (brazil, brazil.region)
    assert services.get_visible(problem_mexico.number, agent_brazil) == problem_mexico
    assert _found("month-end", agent_brazil) == [problem_mexico.number]
    assert _found("month-end", agent_mexico) == []


# -- search -----------------------------------------------------------------------------------


def test_each_write_of_searched_text_reindexes_the_problem(problem_mexico, agent_mexico, change):
    p = problem_mexico
    assert _found("postings batch", agent_mexico) == [p.number]
    services.transition(p, Status.ROOT_CAUSE_ANALYSIS, actor=agent_mexico)
    refused = dict(root_cause="Spooler handles leak", workaround="")
    with pytest.raises(ValidationFailed):
        services.transition(p, Status.KNOWN_ERROR, actor=agent_mexico, **refused)
    assert _found("spooler", agent_mexico) == []  # refused: nothing written, nothing indexed
    services.transition(
        p,
        Status.KNOWN_ERROR,
        actor=agent_mexico,
        root_cause="Spooler handles leak",
        workaround="Restart the print queue",
    )
    assert _found("spooler", agent_mexico) == [p.number]
    assert _found("print queue", agent_mexico) == [p.number]
    services.add_fixing_change(p, change, actor=agent_mexico)
    services.transition(
        p, Status.RESOLVED, actor=agent_mexico, resolution_notes="Driver 4.2 deployed"
    )
    assert _found("driver deployed", agent_mexico) == [p.number]
    services.transition(p, Status.ROOT_CAUSE_ANALYSIS, actor=agent_mexico)  # reopen
    assert _found("driver deployed", agent_mexico) == [p.number]  # the notes stay
    services.add_comment(p, actor=agent_mexico, body="Vendor ticket 77123", internal=False)
    services.add_comment(p, actor=agent_mexico, body="Escalated to Zeus")
    assert _found("77123", agent_mexico) == [p.number]
    assert _found("zeus", agent_mexico) == []  # a work note


# -- candidates -------------------------------------------------------------------------------


UNTIL = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def test_detection_proposes_recurring_incidents_with_the_evidence(recurring, server_mexico, mexico):
    found = services.detect_candidates(until=UNTIL)
    assert len(found) == 1
    candidate = found[0]
    assert candidate.state == CandidateState.PROPOSED
    assert candidate.incident_count == 5
    assert set(candidate.incidents.all()) == set(recurring)
    assert candidate.ci == server_mexico
    assert list(candidate.countries.all()) == [mexico]
    assert candidate.first_at == recurring[0].opened_at
    assert candidate.last_at == recurring[-1].opened_at
    # Run again: the same signature is updated, not duplicated.
    again = services.detect_candidates(until=UNTIL)
    assert [c.pk for c in again] == [candidate.pk]
    assert ProblemCandidate.objects.count() == 1


def test_accept_creates_the_problem_and_links_every_incident(recurring, agent_mexico, mexico):
    candidate = services.detect_candidates(until=UNTIL)[0]
    problem = services.accept_candidate(candidate, actor=agent_mexico)
    assert problem.number.startswith("PRB")
    assert problem.country == mexico and problem.problem_manager == agent_mexico
    assert set(problem.incidents.all()) == set(recurring)
    candidate.refresh_from_db()
    assert candidate.state == CandidateState.ACCEPTED and candidate.problem == problem
    assert services.detect_candidates(until=UNTIL) == []  # linked now: nothing to propose


def test_an_accepted_candidate_is_searchable_at_once(recurring, agent_mexico, agent_brazil):
    candidate = services.detect_candidates(until=UNTIL)[0]
    problem = services.accept_candidate(candidate, actor=agent_mexico, title="ERP batch stalls")
    assert _found("erp batch stalls", agent_mexico) == [problem.number]
    assert _found("recurring pattern", agent_mexico) == [problem.number]  # the evidence
    assert _found("erp batch stalls", agent_brazil) == []


def test_accepting_twice_is_refused(recurring, agent_mexico):
    candidate = services.detect_candidates(until=UNTIL)[0]
    services.accept_candidate(candidate, actor=agent_mexico)
    with pytest.raises(TransitionNotAllowed):
        services.accept_candidate(candidate, actor=agent_mexico)
    assert Problem.objects.count() == 1


def test_merge_links_the_incidents_to_an_existing_problem(recurring, problem_mexico, agent_mexico):
    candidate = services.detect_candidates(until=UNTIL)[0]
    services.merge_candidate(candidate, problem_mexico, actor=agent_mexico)
    assert problem_mexico.incidents.count() == 5
    candidate.refresh_from_db()
    assert candidate.state == CandidateState.MERGED and candidate.problem == problem_mexico


def test_a_dismissed_signature_is_never_proposed_again(recurring, agent_mexico):
    candidate = services.detect_candidates(until=UNTIL)[0]
    services.dismiss_candidate(candidate, actor=agent_mexico, reason="Known planned outage")
    assert services.detect_candidates(until=UNTIL) == []
    candidate.refresh_from_db()
    assert candidate.state == CandidateState.DISMISSED
    assert candidate.dismiss_reason == "Known planned outage"
    assert Problem.objects.count() == 0


def test_candidates_are_scoped_by_their_countries(recurring, agent_brazil, agent_mexico):
    candidate = services.detect_candidates(until=UNTIL)[0]
    assert services.get_visible_candidate(candidate.pk, agent_mexico) == candidate
    with pytest.raises(NotFound):
        services.get_visible_candidate(candidate.pk, agent_brazil)


def test_a_known_error_publishes_its_workaround_as_an_article(problem_mexico, agent_mexico):
    from itsmo.knowledge.models import Article, ArticleType, State

    p = problem_mexico
    services.transition(p, Status.ASSESSED, actor=agent_mexico)
    services.transition(p, Status.ROOT_CAUSE_ANALYSIS, actor=agent_mexico)
    services.transition(
        p,
        Status.KNOWN_ERROR,
        actor=agent_mexico,
        root_cause="The label printer driver leaks spooler handles.",
        workaround="Restart the print spooler service, then reprint the batch.",
    )
    article = Article.objects.get(problem=p)
    assert article.article_type == ArticleType.KNOWN_ERROR
    assert article.state == State.PUBLISHED
    assert "Restart the print spooler" in article.translations.get().body
