"""The incidents and SLA definitions API contract."""

from __future__ import annotations

import pytest

from itsmo.incidents.models import Incident
from itsmo.slm.models import SLADefinition
from tests.api.conftest import ApiClient, assert_problem

BODY = {
    "short_description": "Cannot post invoices",
    "description": "SAP says 'period closed'",
    "impact": 2,
    "urgency": 1,
    "service": "erp",
}


@pytest.fixture
def created(api_as, agent_mexico, erp, p2_sla, end_user_mexico):
    response = api_as(agent_mexico).post("/incidents", {**BODY, "caller": "user.mexico"})
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/incidents"),
        ("POST", "/incidents"),
        ("GET", "/incidents/INC0001001"),
        ("GET", "/incidents/INC0001001/journal"),
        ("GET", "/incidents/INC0001001/slas"),
        ("POST", "/incidents/INC0001001/comments"),
        ("POST", "/incidents/INC0001001/transitions"),
        ("GET", "/sla-definitions"),
        ("POST", "/sla-definitions"),
        ("GET", "/sla-definitions/1"),
        ("PATCH", "/sla-definitions/1"),
    ],
)
def test_anonymous_is_401(api_as, method, path):
    assert_problem(api_as(None).request(method, path, {}), 401)


def test_post_returns_201_with_number_priority_state_and_slas(created, mexico):
    assert created["number"].startswith("INC")
    assert created["priority"] == 2 and created["state"] == "new"
    assert created["caller"] == "user.mexico" and created["country"] == "MX"
    assert created["assignment_group"] == "sd-mexico" and created["tier"] == "l1"
    assert {s["metric"] for s in created["slas"]} == {"response", "resolution"}
    assert all(s["due_at"] for s in created["slas"])
    assert created["version"] == 1 and "in_progress" in created["next_states"]


def test_intake_is_a_fixed_handful_of_statements_with_everything_done(
    api_as, agent_mexico, erp, p2_sla, end_user_mexico, django_assert_max_num_queries
):
    """The hot write: number, incident, journal, clocks, search document, the group's
    notification and its delivery, with configuration read from the per-process cache."""
    api = api_as(agent_mexico)
    assert api.post("/incidents", {**BODY, "caller": "user.mexico"}).status_code == 201  # warm
    with django_assert_max_num_queries(13):
        response = api.post("/incidents", {**BODY, "caller": "user.mexico"})
    assert response.status_code == 201
    incident = Incident.objects.get(number=response.json()["number"])
    assert incident.sla_clocks.count() == len(response.json()["slas"]) == 2
    assert incident.search_document.pk
    assert response.json()["slas"][0]["id"] in set(incident.sla_clocks.values_list("pk", flat=True))


def test_idempotency_key_gives_201_then_200_with_the_same_incident(api_as, agent_mexico, erp):
    api = api_as(agent_mexico)
    first = api.post("/incidents", BODY, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/incidents", BODY, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    other_user = api_as(agent_mexico).post("/incidents", BODY, HTTP_IDEMPOTENCY_KEY="k-2")
    assert other_user.json()["number"] != first.json()["number"]
    assert Incident.objects.count() == 2


def test_bad_input_is_a_422_with_the_field(api_as, agent_mexico):
    api = api_as(agent_mexico)
    assert_problem(api.post("/incidents", {**BODY, "impact": 5}), 422, "impact")
    assert_problem(api.post("/incidents", {**BODY, "service": "nope"}), 422, "service")
    assert_problem(api.post("/incidents", {"impact": 1}), 422, "short_description")
    assert Incident.objects.count() == 0


def test_end_users_see_only_their_own_incidents(
    api_as, created, end_user_mexico, mexico, agent_mexico
):
    from tests.conftest import make_user

    neighbour = make_user("neighbour", ["end_user"], mexico)
    own = api_as(end_user_mexico)
    assert own.get("/incidents").json()["count"] == 1
    assert own.get(f"/incidents/{created['number']}").status_code == 200
    other = api_as(neighbour)
    assert other.get("/incidents").json()["count"] == 0
    assert_problem(other.get(f"/incidents/{created['number']}"), 404)
    assert_problem(other.get(f"/incidents/{created['number']}/journal"), 404)
    # an end user reports for themselves; may not post internal notes
    mine = other.post("/incidents", {"short_description": "Mouse broken", "service": "erp"})
    assert mine.status_code == 201 and mine.json()["caller"] == "neighbour"
    assert_problem(
        other.post("/incidents", {"short_description": "x", "caller": "agent.mexico"}), 403
    )
    assert_problem(
        own.post(f"/incidents/{created['number']}/comments", {"body": "x", "internal": True}),
        403,
    )


def test_brazil_agent_gets_404_for_a_mexico_incident(api_as, created, agent_brazil):
    api = api_as(agent_brazil)
    number = created["number"]
    for path in (f"/incidents/{number}", f"/incidents/{number}/slas"):
        assert_problem(api.get(path), 404)
    response = api.client.patch(
        f"/api/v1/incidents/{number}",
        '{"version": 1, "impact": 1}',
        content_type="application/json",
        **api.headers,
    )
    assert_problem(response, 404)
    assert_problem(api.post(f"/incidents/{number}/transitions", {"to": "cancelled"}), 404)
    assert api.get("/incidents").json()["count"] == 0
    assert Incident.objects.get(number=number).impact == 2


def _patch(api: ApiClient, number: str, body: dict):
    import json

    return api.client.patch(
        f"/api/v1/incidents/{number}",
        json.dumps(body),
        content_type="application/json",
        **api.headers,
    )


def test_patch_needs_the_version_and_a_stale_one_is_409(api_as, created, agent_mexico, l2_mexico):
    api = api_as(agent_mexico)
    number = created["number"]
    assert_problem(_patch(api, number, {"impact": 1}), 422, "version")
    ok = _patch(api, number, {"version": 1, "impact": 1, "assignment_group": "l2-erp-mx"})
    assert ok.status_code == 200, ok.content
    body = ok.json()
    assert body["priority"] == 1 and body["is_major"] and body["version"] == 3
    assert body["assignment_group"] == "l2-erp-mx" and body["reassignment_count"] == 1
    stale = assert_problem(_patch(api, number, {"version": 1, "urgency": 3}), 409, "version")
    assert stale["current_version"] == 3
    assert stale["current"]["priority"] == 1 and stale["current"]["state"] == "new"
    assert Incident.objects.get(number=number).urgency == 1


def test_transitions_and_their_guards(api_as, created, agent_mexico, end_user_mexico):
    api = api_as(agent_mexico)
    url = f"/incidents/{created['number']}/transitions"
    assert_problem(api.post(url, {"to": "closed"}), 409)
    assert_problem(api.post(url, {"to": "on_hold"}), 422, "reason")
    held = api.post(url, {"to": "on_hold", "reason": "awaiting_caller"})
    assert held.status_code == 200 and held.json()["on_hold_reason"] == "awaiting_caller"
    paused = [s for s in held.json()["slas"] if s["metric"] == "resolution"]
    assert paused[0]["state"] == "paused"
    assert_problem(api.post(url, {"to": "resolved"}), 422, "resolution_code")
    done = api.post(
        url, {"to": "resolved", "resolution_code": "fixed", "resolution_notes": "Reopened period"}
    )
    assert done.status_code == 200 and done.json()["state"] == "resolved"
    reopened = api_as(end_user_mexico).post(url, {"to": "in_progress", "note": "still broken"})
    assert reopened.status_code == 200 and reopened.json()["reopen_count"] == 1
    assert_problem(api.post(url, {"to": "in_progress", "version": 1}), 409, "version")


def test_comments_and_journal(api_as, created, agent_mexico, end_user_mexico):
    number = created["number"]
    agent = api_as(agent_mexico)
    note = agent.post(f"/incidents/{number}/comments", {"body": "check logs", "internal": True})
    assert note.status_code == 201 and note.json()["kind"] == "work_note"
    reply = api_as(end_user_mexico).post(f"/incidents/{number}/comments", {"body": "thanks"})
    assert reply.status_code == 201 and reply.json()["kind"] == "comment"
    staff_view = [e["kind"] for e in agent.get(f"/incidents/{number}/journal").json()["items"]]
    user_view = [
        e["kind"]
        for e in api_as(end_user_mexico).get(f"/incidents/{number}/journal").json()["items"]
    ]
    assert "work_note" in staff_view and "work_note" not in user_view
    assert user_view[0] == "created"


def test_list_filters_and_ordering(api_as, agent_mexico, erp, end_user_mexico):
    api = api_as(agent_mexico)
    for impact in (1, 2, 3):
        api.post("/incidents", {**BODY, "impact": impact, "caller": "user.mexico"})
    assert api.get("/incidents", {"priority": [1, 2]}).json()["count"] == 2
    assert api.get("/incidents", {"state": "new", "country": "mx"}).json()["count"] == 3
    assert api.get("/incidents", {"service": "erp", "q": "invoices"}).json()["count"] == 3
    assert api.get("/incidents", {"assignment_group": "sd-mexico"}).json()["count"] == 3
    assert api.get("/incidents", {"assignee": "me"}).json()["count"] == 0
    ordered = api.get("/incidents", {"ordering": "priority"}).json()["items"]
    assert [i["priority"] for i in ordered] == [1, 2, 3]
    assert_problem(api.get("/incidents", {"ordering": "password"}), 422, "ordering")
    assert api.get("/incidents", {"opened_after": "2999-01-01T00:00:00Z"}).json()["count"] == 0


def test_slas_endpoint(api_as, created, agent_mexico):
    slas = api_as(agent_mexico).get(f"/incidents/{created['number']}/slas").json()
    resolution = next(s for s in slas if s["metric"] == "resolution")
    assert resolution["target_minutes"] == 24 * 60 and resolution["definition"] == "P2 standard"


def test_sla_definitions(api_as, admin_user, agent_mexico, end_user_mexico, p2_sla):
    assert api_as(agent_mexico).get("/sla-definitions").json()["count"] == 1
    assert_problem(api_as(end_user_mexico).get("/sla-definitions"), 403)
    body = {"name": "MX P1", "priority": 1, "country": "MX", "resolution_target_minutes": 240}
    assert_problem(api_as(agent_mexico).post("/sla-definitions", body), 403)
    assert_problem(api_as(admin_user).post("/sla-definitions", {**body, "country": "ZZ"}), 422)
    created = api_as(admin_user).post("/sla-definitions", body)
    assert created.status_code == 201, created.content
    assert created.json()["country"] == "MX" and created.json()["pause_states"] == ["on_hold"]
    assert SLADefinition.objects.count() == 2


def test_patch_sla_definition(api_as, admin_user, agent_mexico, end_user_mexico, p2_sla):
    path = f"/sla-definitions/{p2_sla.pk}"
    read = api_as(agent_mexico).get(path).json()
    assert (read["name"], read["version"]) == ("P2 standard", 1)
    assert_problem(api_as(end_user_mexico).get(path), 403)
    assert_problem(api_as(agent_mexico).get("/sla-definitions/999999"), 404)
    change = {"version": 1, "resolution_target_minutes": 480, "country": "MX"}
    assert_problem(api_as(agent_mexico).request("PATCH", path, change), 403)
    admin = api_as(admin_user)
    assert_problem(admin.request("PATCH", path, {**change, "country": "ZZ"}), 422, "country")
    assert_problem(admin.request("PATCH", path, {"version": 1, "name": None}), 422, "name")
    assert_problem(
        admin.request("PATCH", path, {"version": 1, "warning_thresholds": [100]}),
        422,
        "warning_thresholds",
    )
    changed = admin.request("PATCH", path, change)
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["resolution_target_minutes"], body["country"], body["version"]) == (480, "MX", 2)
    assert_problem(admin.request("PATCH", path, {"version": 1, "is_active": False}), 409)
    cleared = admin.request("PATCH", path, {"version": 2, "country": None}).json()
    assert cleared["country"] is None and cleared["version"] == 3
    p2_sla.refresh_from_db()
    assert p2_sla.is_active and p2_sla.resolution_target_minutes == 480


def test_the_journal_registry_knows_incidents(api_as, created, agent_mexico, agent_brazil):
    pk = Incident.objects.get(number=created["number"]).pk
    assert api_as(agent_mexico).get(f"/journal/incident/{pk}").status_code == 200
    assert_problem(api_as(agent_brazil).get(f"/journal/incident/{pk}"), 404)
