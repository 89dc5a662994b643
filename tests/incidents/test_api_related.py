"""The incident API around the record: attachments, watchers, parent and children,
categories and the priority matrix. Every endpoint: anonymous, no permission, other
region, allowed; a refusal changes nothing."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from itsmo.core.models import JournalEntry
from itsmo.incidents.models import Attachment, Category, Incident, PriorityMatrixCell
from tests.api.conftest import ApiClient, assert_problem

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def number(incident_mexico):
    return incident_mexico.number


def _upload(api: ApiClient, number: str, name: str = "screen.png", content=PNG, **form):
    data = {"file": SimpleUploadedFile(name, content), **form}
    return api.client.post(f"/api/v1/incidents/{number}/attachments", data, **api.headers)


def _patch(api: ApiClient, number: str, body: dict):
    return api.client.patch(
        f"/api/v1/incidents/{number}",
        json.dumps(body),
        content_type="application/json",
        **api.headers,
    )


def _journal_fields(incident) -> list[str]:
    return list(JournalEntry.objects.for_record(incident).values_list("field", flat=True))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/incidents/INC0001001/attachments"),
        ("POST", "/incidents/INC0001001/attachments"),
        ("GET", "/incidents/INC0001001/attachments/1"),
        ("GET", "/incidents/INC0001001/watchers"),
        ("POST", "/incidents/INC0001001/watchers"),
        ("DELETE", "/incidents/INC0001001/watchers/agent.mexico"),
        ("GET", "/incidents/INC0001001/children"),
        ("GET", "/incident-categories"),
        ("POST", "/incident-categories"),
        ("GET", "/priority-matrix"),
    ],
)
def test_anonymous_is_401(api_as, method, path):
    assert_problem(api_as(None).request(method, path, {}), 401)


# -- attachments -----------------------------------------------------------------------------


def test_staff_upload_list_and_download(api_as, agent_mexico, number, incident_mexico):
    api = api_as(agent_mexico)
    created = _upload(api, number)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "screen.png" and body["content_type"] == "image/png"
    assert body["size"] == len(PNG) and body["uploaded_by"] == "agent.mexico"
    assert not body["internal"]
    assert [a["id"] for a in api.get(f"/incidents/{number}/attachments").json()] == [body["id"]]

    download = api.get(f"/incidents/{number}/attachments/{body['id']}")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in _journal_fields(incident_mexico)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("big.png", PNG + b"\x00" * 200),  # over the limit
        ("tool.exe", b"MZ"),  # not an allowed type
        ("noext", b"data"),  # unknown type
    ],
)
def test_a_refused_file_is_a_422_naming_file_and_stores_nothing(
    api_as, agent_mexico, number, settings, name, content
):
    settings.ITSMO_ATTACHMENT_MAX_BYTES = 100
    assert_problem(_upload(api_as(agent_mexico), number, name, content), 422, "file")
    assert not Attachment.objects.exists()


def test_a_missing_file_is_a_422_naming_file(api_as, agent_mexico, number):
    api = api_as(agent_mexico)
    response = api.client.post(
        f"/api/v1/incidents/{number}/attachments", {"internal": "false"}, **api.headers
    )
    assert_problem(response, 422, "file")


def test_the_caller_sees_public_attachments_only(api_as, agent_mexico, end_user_mexico, number):
    staff = api_as(agent_mexico)
    internal = _upload(staff, number, "logs.txt", b"secret", internal="true").json()
    assert internal["internal"] is True
    caller = api_as(end_user_mexico)
    public = _upload(caller, number, "photo.jpg", b"\xff\xd8\xff")
    assert public.status_code == 201, public.content
    public_id = public.json()["id"]

    assert [a["id"] for a in caller.get(f"/incidents/{number}/attachments").json()] == [public_id]
    assert caller.get(f"/incidents/{number}/attachments/{public_id}").status_code == 200
    assert_problem(caller.get(f"/incidents/{number}/attachments/{internal['id']}"), 404)
    assert len(staff.get(f"/incidents/{number}/attachments").json()) == 2
    # and an end user may not add an internal one
    assert_problem(_upload(caller, number, "x.txt", b"x", internal="true"), 403)
    assert Attachment.objects.count() == 2


def test_attachments_are_scoped_by_region_and_incident(
    api_as, agent_mexico, agent_brazil, number, open_mexico_incident
):
    attachment = _upload(api_as(agent_mexico), number).json()
    other = api_as(agent_brazil)
    assert_problem(other.get(f"/incidents/{number}/attachments"), 404)
    assert_problem(other.get(f"/incidents/{number}/attachments/{attachment['id']}"), 404)
    assert_problem(_upload(other, number, "b.png"), 404)
    assert Attachment.objects.count() == 1
    # the id of an attachment of another incident is not found through this one
    second = open_mexico_incident(short_description="Other").number
    assert_problem(
        api_as(agent_mexico).get(f"/incidents/{second}/attachments/{attachment['id']}"), 404
    )


# -- watchers --------------------------------------------------------------------------------


def test_staff_add_and_remove_watchers_journaled(
    api_as, agent_mexico, end_user_mexico, number, incident_mexico, smo_analyst
):
    api = api_as(agent_mexico)
    assert api.get(f"/incidents/{number}/watchers").json() == []
    added = api.post(f"/incidents/{number}/watchers", {"username": "smo.analyst"})
    assert added.status_code == 201, added.content
    assert [w["username"] for w in added.json()] == ["smo.analyst"]
    again = api.post(f"/incidents/{number}/watchers", {"username": "SMO.analyst"})
    assert again.status_code == 201 and len(again.json()) == 1
    assert [w["username"] for w in api.get(f"/incidents/{number}/watchers").json()] == [
        "smo.analyst"
    ]
    assert "watchers+" in _journal_fields(incident_mexico)

    assert api.delete(f"/incidents/{number}/watchers/smo.analyst").status_code == 204
    assert not incident_mexico.watchers.exists()
    assert "watchers-" in _journal_fields(incident_mexico)
    assert_problem(api.delete(f"/incidents/{number}/watchers/smo.analyst"), 404, "username")
    assert_problem(api.delete(f"/incidents/{number}/watchers/nobody"), 404, "username")


def test_an_unknown_watcher_is_a_422(api_as, agent_mexico, number, incident_mexico):
    api = api_as(agent_mexico)
    assert_problem(
        api.post(f"/incidents/{number}/watchers", {"username": "nobody"}), 422, "username"
    )
    assert_problem(api.post(f"/incidents/{number}/watchers", {}), 422, "username")
    assert not incident_mexico.watchers.exists()


def test_end_users_watch_only_themselves(
    api_as, end_user_mexico, agent_mexico, number, incident_mexico
):
    caller = api_as(end_user_mexico)
    assert_problem(caller.post(f"/incidents/{number}/watchers", {"username": "agent.mexico"}), 403)
    assert not incident_mexico.watchers.exists()
    mine = caller.post(f"/incidents/{number}/watchers", {"username": "user.mexico"})
    assert mine.status_code == 201
    api_as(agent_mexico).post(f"/incidents/{number}/watchers", {"username": "agent.mexico"})
    assert_problem(caller.delete(f"/incidents/{number}/watchers/agent.mexico"), 403)
    assert incident_mexico.watchers.count() == 2
    assert caller.delete(f"/incidents/{number}/watchers/user.mexico").status_code == 204


def test_watchers_of_another_region_are_404(api_as, agent_brazil, number, incident_mexico):
    api = api_as(agent_brazil)
    assert_problem(api.get(f"/incidents/{number}/watchers"), 404)
    assert_problem(api.post(f"/incidents/{number}/watchers", {"username": "agent.brazil"}), 404)
    assert not incident_mexico.watchers.exists()


# -- parent and children ---------------------------------------------------------------------


def test_children_follow_the_parent_resolution(
    api_as, agent_mexico, open_mexico_incident, desk_mexico
):
    api = api_as(agent_mexico)
    parent = open_mexico_incident(short_description="ERP down", assignment_group=desk_mexico)
    children = [open_mexico_incident(short_description=f"Cannot post {n}") for n in range(2)]
    for child in children:
        linked = _patch(api, child.number, {"version": child.version, "parent": parent.number})
        assert linked.status_code == 200, linked.content
        assert linked.json()["parent"] == parent.number
        assert linked.json()["version"] == child.version + 1
    listed = api.get(f"/incidents/{parent.number}/children").json()
    assert [i["number"] for i in listed["items"]] == [c.number for c in children]

    resolved = api.post(
        f"/incidents/{parent.number}/transitions",
        {"to": "resolved", "resolution_code": "fixed", "resolution_notes": "Restarted ERP"},
    )
    assert resolved.status_code == 200, resolved.content
    for child in children:
        body = api.get(f"/incidents/{child.number}").json()
        assert body["state"] == "resolved" and body["resolution_code"] == "resolved_by_parent"
        assert parent.number in body["resolution_notes"]
    states = api.get(f"/incidents/{parent.number}/children").json()["items"]
    assert {i["state"] for i in states} == {"resolved"}


def test_parent_patch_refusals_change_nothing(
    api_as, agent_mexico, agent_brazil, open_mexico_incident, brazil, end_user_mexico
):
    from itsmo.incidents import services

    api = api_as(agent_mexico)
    child = open_mexico_incident(short_description="Child")
    parent = open_mexico_incident(short_description="Parent")
    hidden = services.open_incident(
        caller=agent_brazil, actor=agent_brazil, channel="phone", short_description="BR"
    )
    assert_problem(_patch(api, child.number, {"version": 1, "parent": "INC9999999"}), 422, "parent")
    assert_problem(
        _patch(api, child.number, {"version": 1, "parent": hidden.number}), 422, "parent"
    )
    assert_problem(_patch(api, child.number, {"version": 1, "parent": child.number}), 422, "parent")
    assert_problem(
        _patch(api, child.number, {"version": 7, "parent": parent.number}), 409, "version"
    )
    assert_problem(
        _patch(api_as(agent_brazil), child.number, {"version": 1, "parent": parent.number}), 404
    )
    assert_problem(
        _patch(api_as(end_user_mexico), child.number, {"version": 1, "parent": parent.number}),
        403,
    )
    # a parent and another field in one PATCH: one version check, both or nothing
    assert_problem(
        _patch(api, child.number, {"version": 1, "impact": 9, "parent": parent.number}), 422
    )
    stored = Incident.objects.get(pk=child.pk)
    assert stored.parent_id is None and stored.version == 1 and stored.impact == 3
    both = _patch(api, child.number, {"version": 1, "impact": 1, "parent": parent.number})
    assert both.status_code == 200, both.content
    assert both.json()["parent"] == parent.number and both.json()["impact"] == 1
    # a cycle is refused, and null unlinks
    assert_problem(
        _patch(api, parent.number, {"version": parent.version, "parent": child.number}),
        422,
        "parent",
    )
    version = both.json()["version"]
    unlinked = _patch(api, child.number, {"version": version, "parent": None})
    assert unlinked.status_code == 200 and unlinked.json()["parent"] is None
    assert api.get(f"/incidents/{parent.number}/children").json()["count"] == 0


def test_children_of_another_region_are_404(api_as, agent_brazil, number):
    assert_problem(api_as(agent_brazil).get(f"/incidents/{number}/children"), 404)


# -- categories ------------------------------------------------------------------------------


def test_categories_as_a_tree_and_created_by_administrators(
    api_as, admin_user, agent_mexico, end_user_mexico, erp
):
    admin = api_as(admin_user)
    hardware = admin.post("/incident-categories", {"name": "Hardware", "sort_order": 2})
    assert hardware.status_code == 201, hardware.content
    software = admin.post("/incident-categories", {"name": "Software", "sort_order": 1}).json()
    printer = admin.post(
        "/incident-categories", {"name": "Printer", "parent": hardware.json()["id"]}
    )
    assert printer.status_code == 201
    erp_only = admin.post(
        "/incident-categories", {"name": "Posting", "parent": software["id"], "service": "erp"}
    ).json()
    assert erp_only["service"] == "erp"
    Category.objects.create(name="Retired", is_active=False)

    tree = api_as(end_user_mexico).get("/incident-categories").json()
    assert [c["name"] for c in tree] == ["Software", "Hardware"]
    assert [c["name"] for c in tree[0]["children"]] == ["Posting"]
    assert [c["name"] for c in tree[1]["children"]] == ["Printer"]
    assert tree[1]["children"][0]["children"] == []

    journal = JournalEntry.objects.for_record(Category.objects.get(name="Printer"))
    assert journal.filter(kind="created", actor=admin_user).exists()


def test_category_refusals_change_nothing(api_as, admin_user, agent_mexico):
    admin = api_as(admin_user)
    top = admin.post("/incident-categories", {"name": "Network"}).json()
    sub = admin.post("/incident-categories", {"name": "VPN", "parent": top["id"]}).json()
    before = Category.objects.count()
    assert_problem(api_as(agent_mexico).post("/incident-categories", {"name": "X"}), 403)
    assert_problem(admin.post("/incident-categories", {"name": "network"}), 422, "name")
    assert_problem(admin.post("/incident-categories", {"name": "  "}), 422, "name")
    assert_problem(
        admin.post("/incident-categories", {"name": "Deep", "parent": sub["id"]}), 422, "parent"
    )
    assert_problem(
        admin.post("/incident-categories", {"name": "Lost", "parent": 999999}), 422, "parent"
    )
    assert_problem(
        admin.post("/incident-categories", {"name": "Y", "service": "nope"}), 422, "service"
    )
    assert Category.objects.count() == before


def test_categories_for_a_service(api_as, admin_user, agent_mexico, erp, email_service):
    admin = api_as(admin_user)
    admin.post("/incident-categories", {"name": "General"})
    admin.post("/incident-categories", {"name": "ERP", "service": "erp"})
    admin.post("/incident-categories", {"name": "Mail", "service": "email"})
    api = api_as(agent_mexico)
    assert [c["name"] for c in api.get("/incident-categories", {"service": "erp"}).json()] == [
        "ERP",
        "General",
    ]
    assert len(api.get("/incident-categories").json()) == 3
    assert_problem(api.get("/incident-categories", {"service": "nope"}), 422, "service")


# -- priority matrix -------------------------------------------------------------------------


def test_the_priority_matrix_with_its_overrides(api_as, end_user_mexico):
    api = api_as(end_user_mexico)
    cells = api.get("/priority-matrix").json()
    assert [(c["impact"], c["urgency"], c["priority"]) for c in cells] == [
        (1, 1, 1), (1, 2, 2), (1, 3, 3),
        (2, 1, 2), (2, 2, 3), (2, 3, 4),
        (3, 1, 3), (3, 2, 4), (3, 3, 5),
    ]  # fmt: skip
    assert all(c["is_default"] for c in cells) and cells[0]["label"] == "P1"
    PriorityMatrixCell.objects.create(impact=2, urgency=1, priority=1)
    cell = next(
        c for c in api.get("/priority-matrix").json() if (c["impact"], c["urgency"]) == (2, 1)
    )
    assert (cell["priority"], cell["label"], cell["is_default"]) == (1, "P1", False)
