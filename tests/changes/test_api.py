"""The changes API: create, list, detail, PATCH (409 stale, 422 naming the field),
transitions, approvals, impact, schedule (409 conflict, override), calendar, templates,
blackout windows and releases."""

from __future__ import annotations

import datetime as dt

import pytest

from itsmo.changes import services
from itsmo.changes.models import Change, Status
from tests.api.conftest import assert_problem

from .conftest import LOW_ANSWERS, MONDAY


def _iso(value):
    return value.isoformat()


@pytest.fixture
def body(cmdb_mx):
    return {
        "title": "Upgrade the database",
        "type": "normal",
        "cis": [cmdb_mx["db"].number],
        "country": "MX",
        "implementation_plan": "Stop, upgrade, start.",
        "backout_plan": "Restore the snapshot.",
    }


def test_anonymous_and_end_users_see_nothing(api_as, end_user_mexico, new_change):
    change = new_change()

    assert_problem(api_as(None).get("/changes"), 401)
    assert api_as(end_user_mexico).get("/changes").json()["count"] == 0
    assert_problem(api_as(end_user_mexico).get(f"/changes/{change.number}"), 404)
    assert_problem(api_as(end_user_mexico).post("/changes", {"title": "x"}), 403)


def test_create_read_and_list(api_as, agent_mexico, body, cmdb_mx, erp):
    client = api_as(agent_mexico)

    response = client.post("/changes", body)

    assert response.status_code == 201, response.content
    created = response.json()
    assert created["number"].startswith("CHG")
    assert created["state"] == "new"
    assert created["is_cab_required"] is True
    assert created["cis"] == [cmdb_mx["db"].number]
    assert created["impact_summary"]["services"][0]["code"] == "erp"
    assert (
        created["next_states"] == ["assess", "new", "cancelled"]
        or "assess" in created["next_states"]
    )
    listed = client.get("/changes", {"type": "normal", "country": "MX"}).json()
    assert [c["number"] for c in listed["items"]] == [created["number"]]
    assert client.get("/changes", {"type": "standard"}).json()["count"] == 0
    assert client.get(f"/changes/{created['number']}").json()["title"] == body["title"]


def test_create_names_the_bad_field(api_as, agent_mexico, body):
    client = api_as(agent_mexico)

    assert_problem(client.post("/changes", {**body, "cis": ["CI9999999"]}), 422, "cis")
    assert_problem(client.post("/changes", {**body, "type": "sideways"}), 422, "type")
    assert_problem(client.post("/changes", {**body, "type": "standard"}), 422, "template")
    assert_problem(client.post("/changes", {**body, "title": ""}), 422, "title")
    assert Change.objects.count() == 0


def test_standard_change_from_a_template(api_as, agent_mexico, template):
    client = api_as(agent_mexico)
    templates = client.get("/change-templates").json()
    assert templates["items"][0]["code"] == "patch-windows"

    response = client.post(
        "/changes", {"title": "Patch", "type": "standard", "template": "patch-windows"}
    )

    assert response.status_code == 201
    assert response.json()["implementation_plan"] == template.implementation_plan
    assert response.json()["risk"] == "low"


def test_patch_with_a_stale_version_is_a_409(api_as, agent_mexico, new_change):
    change = new_change()
    client = api_as(agent_mexico)

    first = client.request("PATCH", f"/changes/{change.number}", {"version": 1, "title": "A"})
    assert first.status_code == 200, first.content
    stale = client.request("PATCH", f"/changes/{change.number}", {"version": 1, "title": "B"})

    problem = assert_problem(stale, 409, "version")
    assert problem["current"]["title"] == "A"
    change.refresh_from_db()
    assert change.title == "A"


def test_patch_names_the_field(api_as, agent_mexico, new_change):
    change = new_change()
    client = api_as(agent_mexico)
    url = f"/changes/{change.number}"

    assert_problem(
        client.request("PATCH", url, {"version": 1, "assignee": "nobody"}), 422, "assignee"
    )
    assert_problem(client.request("PATCH", url, {"version": 1, "title": None}), 422, "title")
    bad = {"version": 1, "risk_answers": {**LOW_ANSWERS, "tested": "maybe"}}
    assert_problem(client.request("PATCH", url, bad), 422, "answers.tested")
    change.refresh_from_db()
    assert change.version == 1


def test_risk_answers_score_the_risk(api_as, agent_mexico, new_change):
    change = new_change()
    response = api_as(agent_mexico).request(
        "PATCH", f"/changes/{change.number}", {"version": 1, "risk_answers": LOW_ANSWERS}
    )

    assert response.status_code == 200, response.content
    assert response.json()["risk"] in ("low", "moderate")
    assert response.json()["risk_score"] == 0


def test_transition_refusals(api_as, agent_mexico, new_change):
    change = new_change(implementation_plan="")
    client = api_as(agent_mexico)
    url = f"/changes/{change.number}/transitions"

    assert_problem(client.post(url, {"to": "implement"}), 409)
    assert_problem(client.post(url, {"to": "assess"}), 422, "implementation_plan")
    assert_problem(client.post(url, {"to": "flying"}), 422, "to")
    change.refresh_from_db()
    assert change.status == Status.NEW


def test_full_normal_flow_over_the_api(api_as, agent_mexico, body, rules, cab_members):
    client = api_as(agent_mexico)
    number = client.post("/changes", body).json()["number"]
    url = f"/changes/{number}"
    assert client.post(f"{url}/transitions", {"to": "assess"}).status_code == 200
    version = client.get(url).json()["version"]
    assert (
        client.request("PATCH", url, {"version": version, "risk_answers": LOW_ANSWERS}).status_code
        == 200
    )
    schedule = {"planned_start": _iso(MONDAY), "planned_end": _iso(MONDAY + dt.timedelta(hours=2))}
    assert client.post(f"{url}/schedule", schedule).status_code == 200
    assert client.post(f"{url}/transitions", {"to": "authorise"}).status_code == 200

    approvals = client.get(f"{url}/approvals").json()
    assert approvals["approval"] == "requested"
    assert approvals["requests"][0]["policy"] == "majority"
    assert_problem(client.post(f"{url}/approvals", {"decision": "approved"}), 403)
    for member in cab_members[:2]:
        answer = api_as(member).post(f"{url}/approvals", {"decision": "approved", "comment": "ok"})
        assert answer.status_code == 200, answer.content
    assert answer.json()["approval"] == "approved"
    assert client.get(url).json()["state"] == "scheduled"
    assert client.post(f"{url}/transitions", {"to": "implement"}).status_code == 200
    assert_problem(client.post(f"{url}/transitions", {"to": "review"}), 422, "close_code")
    done = client.post(f"{url}/transitions", {"to": "review", "close_code": "successful"})
    assert done.json()["close_code"] == "successful"
    assert_problem(client.post(f"{url}/transitions", {"to": "closed"}), 422, "review_notes")
    version = client.get(url).json()["version"]
    assert (
        client.request("PATCH", url, {"version": version, "review_notes": "Fine."}).status_code
        == 200
    )
    assert client.post(f"{url}/transitions", {"to": "closed"}).json()["state"] == "closed"


def test_schedule_conflict_is_a_409_listing_collisions_and_blackouts(
    api_as, agent_mexico, new_change, mexico
):
    first = new_change()
    services.schedule_change(
        first, actor=agent_mexico, planned_start=MONDAY, planned_end=MONDAY + dt.timedelta(hours=2)
    )
    services.create_blackout(
        actor=None,
        name="Close MX",
        country=mexico,
        start_at=MONDAY,
        end_at=MONDAY + dt.timedelta(hours=6),
    )
    second = new_change(title="Second")
    client = api_as(agent_mexico)
    window = {
        "planned_start": _iso(MONDAY + dt.timedelta(hours=1)),
        "planned_end": _iso(MONDAY + dt.timedelta(hours=3)),
    }

    refused = client.post(f"/changes/{second.number}/schedule", window)

    problem = assert_problem(refused, 409)
    assert problem["collisions"][0]["change"] == first.number
    assert problem["blackouts"][0]["name"] == "Close MX"
    second.refresh_from_db()
    assert second.planned_start is None

    accepted = client.post(
        f"/changes/{second.number}/schedule", {**window, "override_reason": "Regulatory deadline"}
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["overridden"] is True
    assert accepted.json()["change"]["schedule_override_reason"] == "Regulatory deadline"


def test_rescheduling_an_authorised_change_asks_for_approval_again(
    api_as, agent_mexico, authorised, cab_members
):
    client = api_as(agent_mexico)
    url = f"/changes/{authorised.number}"
    assert "authorise" not in client.get(url).json()["next_states"]
    moved = {
        "planned_start": _iso(MONDAY + dt.timedelta(days=1)),
        "planned_end": _iso(MONDAY + dt.timedelta(days=1, hours=2)),
    }

    answer = client.post(f"{url}/schedule", moved)

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["state"] == "authorise"
    assert body["approval"] == "requested"
    assert body["approval_requested_again"] is True
    assert body["change"]["state"] == "authorise"
    assert body["change"]["approval"] == "requested"
    assert dt.datetime.fromisoformat(body["change"]["approved_start"]) == MONDAY
    approvals = client.get(f"{url}/approvals").json()
    assert approvals["approval"] == "requested"
    assert [(r["round"], r["state"]) for r in approvals["requests"]] == [
        (1, "approved"),
        (2, "requested"),
    ]
    assert_problem(client.post(f"{url}/transitions", {"to": "implement"}), 409)
    assert_problem(client.post(f"{url}/transitions", {"to": "scheduled"}), 422, "approval")
    for member in cab_members[:2]:
        api_as(member).post(f"{url}/approvals", {"decision": "approved", "comment": "ok"})
    assert client.get(url).json()["state"] == "scheduled"


def test_shrinking_the_window_keeps_the_approval(api_as, agent_mexico, authorised):
    inside = {
        "planned_start": _iso(MONDAY + dt.timedelta(minutes=30)),
        "planned_end": _iso(MONDAY + dt.timedelta(hours=1)),
    }

    answer = api_as(agent_mexico).post(f"/changes/{authorised.number}/schedule", inside)

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["state"], body["approval"]) == ("scheduled", "approved")
    assert body["approval_requested_again"] is False


def test_a_change_being_implemented_cannot_be_rescheduled(
    api_as, agent_mexico, authorised, agent_brazil
):
    services.transition(authorised, Status.IMPLEMENT, actor=agent_mexico)
    url = f"/changes/{authorised.number}/schedule"
    moved = {
        "planned_start": _iso(MONDAY + dt.timedelta(days=1)),
        "planned_end": _iso(MONDAY + dt.timedelta(days=1, hours=2)),
    }

    problem = assert_problem(api_as(agent_mexico).post(url, moved), 409, "status")

    assert "implementation has started" in problem["detail"]
    assert_problem(api_as(None).post(url, moved), 401)
    assert_problem(api_as(agent_brazil).post(url, moved), 404)
    authorised.refresh_from_db()
    assert authorised.planned_start == MONDAY and authorised.status == Status.IMPLEMENT


def test_nobody_sends_a_change_back_to_authorise_by_hand(api_as, agent_mexico, authorised):
    url = f"/changes/{authorised.number}/transitions"

    assert_problem(api_as(agent_mexico).post(url, {"to": "authorise"}), 409, "to")
    authorised.refresh_from_db()
    assert authorised.status == Status.SCHEDULED


def test_calendar_route_is_not_a_change_number(api_as, agent_mexico, new_change, mexico):
    change = new_change()
    services.schedule_change(
        change, actor=agent_mexico, planned_start=MONDAY, planned_end=MONDAY + dt.timedelta(hours=2)
    )
    client = api_as(agent_mexico)

    response = client.get(
        "/changes/calendar", {"from": "2026-10-01", "to": "2026-11-01", "country": "MX"}
    )

    assert response.status_code == 200, response.content
    assert [c["number"] for c in response.json()["changes"]] == [change.number]
    assert_problem(client.get("/changes/calendar", {"from": "2026-10-01"}), 422, "to")
    assert_problem(
        client.get("/changes/calendar", {"from": "2026-10-01", "to": "2027-10-01"}), 422, "to"
    )


def test_impact(api_as, agent_mexico, new_change, cmdb_mx):
    change = new_change(cis=("db",))

    impact = api_as(agent_mexico).get(f"/changes/{change.number}/impact").json()

    assert {c["number"] for c in impact["cis"]} == {cmdb_mx["db"].number, cmdb_mx["app"].number}
    assert [s["code"] for s in impact["services"]] == ["erp"]


def test_other_region_cannot_see_or_touch(api_as, agent_brazil, new_change):
    change = new_change()
    client = api_as(agent_brazil)

    assert client.get("/changes").json()["count"] == 0
    for response in (
        client.get(f"/changes/{change.number}"),
        client.post(f"/changes/{change.number}/transitions", {"to": "assess"}),
        client.get(f"/changes/{change.number}/impact"),
        client.post(
            f"/changes/{change.number}/schedule",
            {"planned_start": _iso(MONDAY), "planned_end": _iso(MONDAY + dt.timedelta(hours=1))},
        ),
    ):
        assert_problem(response, 404)
    change.refresh_from_db()
    assert change.status == Status.NEW and change.planned_start is None


def test_releases(api_as, agent_mexico, new_change):
    change = new_change()
    client = api_as(agent_mexico)

    created = client.post(
        "/releases", {"name": "ERP", "version_label": "7.2", "changes": [change.number]}
    )
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    assert created.json()["changes"] == [change.number]
    deployment = client.post(
        f"/releases/{number}/deployments",
        {
            "country": "MX",
            "planned_start": _iso(MONDAY),
            "planned_end": _iso(MONDAY + dt.timedelta(hours=4)),
        },
    )
    assert deployment.status_code == 201, deployment.content
    assert client.get(f"/releases/{number}").json()["status"] == "scheduled"
    done = client.post(
        f"/releases/{number}/deployments/{deployment.json()['id']}", {"status": "deployed"}
    )
    assert done.json()["status"] == "deployed"
    assert client.get(f"/releases/{number}").json()["status"] == "deployed"
    assert client.get("/releases").json()["count"] == 1
    assert_problem(
        client.post(
            f"/releases/{number}/deployments",
            {"planned_start": _iso(MONDAY), "planned_end": _iso(MONDAY)},
        ),
        422,
    )


def test_blackouts_api(api_as, agent_mexico, manager_mexico):
    window = {
        "name": "Peak",
        "country": "MX",
        "start_at": _iso(MONDAY),
        "end_at": _iso(MONDAY + dt.timedelta(days=1)),
    }

    assert_problem(api_as(agent_mexico).post("/change-blackouts", window), 403)
    assert api_as(manager_mexico).post("/change-blackouts", window).status_code == 201
    assert api_as(agent_mexico).get("/change-blackouts").json()["count"] == 1


def test_journal_and_risk_questions(api_as, agent_mexico, agent_brazil, new_change):
    change = new_change()

    timeline = api_as(agent_mexico).get(f"/journal/change/{change.pk}")
    assert timeline.status_code == 200
    assert timeline.json()["items"][0]["kind"] == "created"
    assert_problem(api_as(agent_brazil).get(f"/journal/change/{change.pk}"), 404)
    questions = api_as(agent_mexico).get("/change-risk-questions").json()
    assert [q["key"] for q in questions][:2] == ["tested", "backout"]


def test_templates_are_defined_by_change_managers(api_as, agent_mexico, manager_mexico):
    body = {
        "code": "dns-record",
        "name": "DNS record",
        "implementation_plan": "Add the record.",
        "backout_plan": "Delete the record.",
    }

    assert_problem(api_as(agent_mexico).post("/change-templates", body), 403)
    created = api_as(manager_mexico).post("/change-templates", body)
    assert created.status_code == 201, created.content
    assert_problem(api_as(manager_mexico).post("/change-templates", body), 422, "code")
