"""The problems and problem-candidates API contract."""

from __future__ import annotations

import datetime as dt

import pytest

from itsmo.problems import services
from itsmo.problems.models import CandidateState, Problem
from tests.api.conftest import assert_problem

BODY = {
    "title": "ERP posting fails at month-end",
    "description": "Postings time out when the batch runs",
    "impact": 2,
    "urgency": 1,
    "service": "erp",
    "country": "MX",
    "problem_manager": "pm.mexico",
}
UNTIL = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


@pytest.fixture
def created(api_as, agent_mexico, erp, mexico, problem_manager_mexico, server_mexico):
    body = {**BODY, "cis": [server_mexico.number]}
    response = api_as(agent_mexico).post("/problems", body)
    assert response.status_code == 201, response.content
    return response.json()


def _patch(api, path, body):
    return api.request("PATCH", path, body)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/problems"),
        ("POST", "/problems"),
        ("GET", "/problems/PRB0001001"),
        ("PATCH", "/problems/PRB0001001"),
        ("POST", "/problems/PRB0001001/transitions"),
        ("GET", "/problems/PRB0001001/incidents"),
        ("POST", "/problems/PRB0001001/incidents"),
        ("GET", "/problem-candidates"),
        ("POST", "/problem-candidates/1/accept"),
        ("POST", "/problem-candidates/1/dismiss"),
        ("POST", "/problem-candidates/1/merge"),
    ],
)
def test_anonymous_is_401(api_as, method, path):
    assert_problem(api_as(None).request(method, path, {}), 401)


def test_post_returns_201_with_number_priority_and_next_states(created, server_mexico):
    assert created["number"].startswith("PRB")
    assert created["priority"] == 2 and created["state"] == "new"
    assert created["country"] == "MX" and created["region"] == "mexico"
    assert created["cis"] == [server_mexico.number]
    assert created["problem_manager"] == "pm.mexico"
    assert set(created["next_states"]) == {"assessed", "root_cause_analysis", "cancelled"}


def test_bad_input_is_a_422_naming_the_field(api_as, agent_mexico, erp, problem_manager_mexico):
    api = api_as(agent_mexico)
    assert_problem(api.post("/problems", {**BODY, "impact": 7}), 422, "impact")
    assert_problem(api.post("/problems", {**BODY, "service": "nope"}), 422, "service")
    assert_problem(api.post("/problems", {"impact": 1}), 422, "title")
    assert_problem(api.post("/problems", {**BODY, "incidents": ["INC9"]}), 422, "incidents")
    assert Problem.objects.count() == 0


def test_end_users_are_refused(api_as, end_user_mexico, created):
    api = api_as(end_user_mexico)
    assert_problem(api.post("/problems", {"title": "x"}), 403)
    assert_problem(api.get(f"/problems/{created['number']}"), 404)
    assert api.get("/problems").json()["count"] == 0


def test_another_region_gets_404_and_an_empty_list(api_as, agent_brazil, created):
    api = api_as(agent_brazil)
    number = created["number"]
    assert_problem(api.get(f"/problems/{number}"), 404)
    assert_problem(_patch(api, f"/problems/{number}", {"version": 1, "title": "x"}), 404)
    assert_problem(api.post(f"/problems/{number}/transitions", {"to": "assessed"}), 404)
    assert api.get("/problems").json()["count"] == 0
    assert Problem.objects.get().title == BODY["title"]


def test_patch_with_a_stale_version_is_a_409_with_the_current_state(api_as, agent_mexico, created):
    api = api_as(agent_mexico)
    path = f"/problems/{created['number']}"
    ok = _patch(api, path, {"version": created["version"], "root_cause": "Table lock"})
    assert ok.status_code == 200, ok.content
    assert ok.json()["root_cause"] == "Table lock"
    stale = _patch(api, path, {"version": created["version"], "title": "Other"})
    body = assert_problem(stale, 409, "version")
    assert body["current_version"] == ok.json()["version"]
    assert body["current"]["number"] == created["number"]
    assert Problem.objects.get().title == BODY["title"]


def test_patch_fixing_changes_and_unknown_change_is_422(api_as, agent_mexico, created, change):
    api = api_as(agent_mexico)
    path = f"/problems/{created['number']}"
    bad = _patch(api, path, {"version": created["version"], "fixing_changes": ["CHG404"]})
    assert_problem(bad, 422, "fixing_changes")
    ok = _patch(api, path, {"version": created["version"], "fixing_changes": [change.number]})
    assert ok.json()["fixing_changes"] == [change.number]


def test_transitions_through_the_lifecycle_and_guard_errors(api_as, agent_mexico, created):
    api = api_as(agent_mexico)
    path = f"/problems/{created['number']}/transitions"
    assert api.post(path, {"to": "root_cause_analysis"}).status_code == 200
    refused = api.post(path, {"to": "known_error", "root_cause": "Lock"})
    assert_problem(refused, 422, "workaround")
    known = api.post(path, {"to": "known_error", "root_cause": "Lock", "workaround": "Retry"})
    assert known.status_code == 200 and known.json()["state"] == "known_error"
    assert_problem(api.post(path, {"to": "closed"}), 409)
    assert_problem(api.post(path, {"to": "resolved"}), 422, "resolution_notes")
    resolved = api.post(
        path,
        {"to": "resolved", "resolution_code": "risk_accepted", "resolution_notes": "Replaced"},
    )
    assert resolved.json()["state"] == "resolved"
    assert_problem(api.post(path, {"to": "nowhere"}), 422, "to")


def test_link_list_and_unlink_incidents(api_as, agent_mexico, created, incident_mexico):
    api = api_as(agent_mexico)
    path = f"/problems/{created['number']}/incidents"
    linked = api.post(path, {"incidents": [incident_mexico.number]})
    assert linked.status_code == 200, linked.content
    assert [i["number"] for i in linked.json()] == [incident_mexico.number]
    listed = api.get(path).json()
    assert listed["count"] == 1 and listed["items"][0]["number"] == incident_mexico.number
    incident = api.get(f"/incidents/{incident_mexico.number}").json()
    assert incident["problem"] == created["number"]
    assert_problem(api.post(path, {"incidents": ["INC404"]}), 422, "incidents")
    gone = api.delete(f"{path}/{incident_mexico.number}")
    assert gone.status_code == 204
    assert api.get(path).json()["count"] == 0


def test_linking_from_the_incident_side_by_patch(api_as, agent_mexico, created, incident_mexico):
    api = api_as(agent_mexico)
    response = _patch(
        api,
        f"/incidents/{incident_mexico.number}",
        {"version": incident_mexico.version, "problem": created["number"]},
    )
    assert response.status_code == 200, response.content
    problem = api.get(f"/problems/{created['number']}").json()
    assert problem["incident_count"] == 1


def test_tasks_by_api(api_as, agent_mexico, created):
    api = api_as(agent_mexico)
    path = f"/problems/{created['number']}/tasks"
    task = api.post(path, {"title": "Collect locks", "owner": "agent.mexico"})
    assert task.status_code == 201, task.content
    number = task.json()["number"]
    done = _patch(api, f"{path}/{number}", {"state": "done"})
    assert done.status_code == 200 and done.json()["state"] == "done"
    assert_problem(api.post(path, {"title": "x", "owner": "nobody"}), 422, "owner")
    detail = api.get(f"/problems/{created['number']}").json()
    assert [t["state"] for t in detail["tasks"]] == ["done"]


def test_list_filters_and_ordering(api_as, agent_mexico, created):
    api = api_as(agent_mexico)
    assert api.get("/problems", {"state": "new"}).json()["count"] == 1
    assert api.get("/problems", {"state": "closed"}).json()["count"] == 0
    assert api.get("/problems", {"q": "month-end"}).json()["count"] == 1
    assert api.get("/problems", {"priority": 2, "country": "MX"}).json()["count"] == 1
    assert_problem(api.get("/problems", {"ordering": "nope"}), 422, "ordering")


def test_list_q_is_full_text_search_in_the_user_s_scope(
    api_as, agent_mexico, agent_brazil, smo_analyst, created, brazil
):
    number = created["number"]
    api = api_as(agent_mexico)
    patched = _patch(
        api,
        f"/problems/{number}",
        {"version": created["version"], "root_cause": "The FI batch holds a table lock"},
    )
    assert patched.status_code == 200, patched.content
    other = services.open_problem(
        title="Month-end close is slow",
        description="Slower than the ERP postings",
        actor=smo_analyst,
        country=brazil,
    )
    for query in (number, number.lower(), "month-end ERP", "postings time", "table lock"):
        response = api.get("/problems", {"q": query})
        assert response.status_code == 200, response.content
        assert [p["number"] for p in response.json()["items"]] == [number], query
    assert api.get("/problems", {"q": "table lock", "state": "closed"}).json()["count"] == 0
    assert api.get("/problems", {"q": "!!!"}).json()["count"] == 0  # no word: nothing
    # Another region's agent never finds the Mexico problem, by number or by text.
    brazil_api = api_as(agent_brazil)
    assert brazil_api.get("/problems", {"q": number}).json()["count"] == 0
    found = brazil_api.get("/problems", {"q": "month-end"}).json()["items"]
    assert [p["number"] for p in found] == [other.number]
    # The SMO analyst finds both, the better match (ERP in the title) first whatever the
    # ordering, which then orders equal matches.
    smo = api_as(smo_analyst)
    for ordering in ("number", "-number"):
        found = smo.get("/problems", {"q": "erp", "ordering": ordering}).json()["items"]
        assert [p["number"] for p in found] == [number, other.number]


# -- candidates -------------------------------------------------------------------------------


@pytest.fixture
def candidate(recurring):
    return services.detect_candidates(until=UNTIL)[0]


def test_candidates_list_and_accept(api_as, agent_mexico, candidate, recurring):
    api = api_as(agent_mexico)
    listed = api.get("/problem-candidates").json()
    assert listed["count"] == 1
    item = listed["items"][0]
    assert item["incident_count"] == 5 and item["countries"] == ["MX"]
    assert item["incidents"] == [i.number for i in recurring]
    accepted = api.post(f"/problem-candidates/{candidate.pk}/accept", {"title": "ERP timeouts"})
    assert accepted.status_code == 201, accepted.content
    problem = accepted.json()
    assert problem["title"] == "ERP timeouts" and problem["incident_count"] == 5
    assert_problem(api.post(f"/problem-candidates/{candidate.pk}/accept", {}), 409)
    assert api.get("/problem-candidates").json()["count"] == 0
    assert api.get("/problem-candidates", {"state": "accepted"}).json()["count"] == 1


def test_candidate_merge_and_dismiss(api_as, agent_mexico, candidate, created):
    api = api_as(agent_mexico)
    bad = api.post(f"/problem-candidates/{candidate.pk}/merge", {"problem": "PRB404"})
    assert_problem(bad, 422, "problem")
    merged = api.post(f"/problem-candidates/{candidate.pk}/merge", {"problem": created["number"]})
    assert merged.status_code == 200, merged.content
    assert merged.json()["incident_count"] == 5
    dismissed = api.post(f"/problem-candidates/{candidate.pk}/dismiss", {"reason": "x"})
    assert_problem(dismissed, 409)


def test_dismiss_by_api_is_remembered(api_as, agent_mexico, candidate):
    api = api_as(agent_mexico)
    response = api.post(f"/problem-candidates/{candidate.pk}/dismiss", {"reason": "Planned"})
    assert response.status_code == 200 and response.json()["state"] == CandidateState.DISMISSED
    assert services.detect_candidates(until=UNTIL) == []


def test_candidates_of_another_region_are_404(api_as, agent_brazil, candidate):
    api = api_as(agent_brazil)
    assert api.get("/problem-candidates").json()["count"] == 0
    assert_problem(api.post(f"/problem-candidates/{candidate.pk}/accept", {}), 404)
    assert Problem.objects.count() == 0


def test_the_journal_of_a_problem_is_scoped(api_as, agent_mexico, agent_brazil, created):
    problem = Problem.objects.get(number=created["number"])
    entries = api_as(agent_mexico).get(f"/journal/problem/{problem.pk}").json()
    assert entries["count"] >= 1
    assert_problem(api_as(agent_brazil).get(f"/journal/problem/{problem.pk}"), 404)


def test_list_query_budgets(
    api_as, agent_mexico, candidate, created, django_assert_max_num_queries
):
    api = api_as(agent_mexico)
    with django_assert_max_num_queries(12):
        assert api.get("/problem-candidates").json()["count"] == 1
    with django_assert_max_num_queries(10):
        assert api.get("/problems").json()["count"] == 1


def test_work_notes_by_api(api_as, agent_mexico, agent_brazil, created):
    path = f"/problems/{created['number']}/comments"
    response = api_as(agent_mexico).post(path, {"body": "Vendor case 42"})
    assert response.status_code == 201 and response.json()["kind"] == "work_note"
    assert_problem(api_as(agent_mexico).post(path, {"body": ""}), 422, "body")
    assert_problem(api_as(agent_brazil).post(path, {"body": "x"}), 404)
