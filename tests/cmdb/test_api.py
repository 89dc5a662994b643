"""API contract of the CMDB: CIs, relationships, impact, CI classes."""

from __future__ import annotations

import pytest

from itsmo.cmdb import services as cmdb
from itsmo.cmdb.models import CI, Relationship
from itsmo.core.models import JournalEntry

PROBLEM = "application/problem+json"


@pytest.fixture
def mexico_server(classes, mexico):
    return cmdb.create_ci(
        actor=None,
        name="srv-mx-01",
        ci_class=classes["server"],
        country=mexico,
        serial="MX-001",
        attributes={"cpu_count": 8, "ip_address": "10.0.0.1"},
    )


@pytest.mark.parametrize(
    "path", ["/cis", "/cis/1", "/cis/1/impact", "/relationships", "/ci-classes"]
)
def test_anonymous_is_401(api_as, path):
    response = api_as(None).get(path)
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


def test_end_user_may_not_read_the_cmdb(api_as, end_user_mexico, mexico_server):
    assert api_as(end_user_mexico).get("/cis").status_code == 403
    assert api_as(end_user_mexico).get(f"/cis/{mexico_server.pk}").status_code == 403


def test_agent_of_brazil_gets_404_for_a_mexico_ci(api_as, agent_brazil, mexico_server):
    api = api_as(agent_brazil)
    for path in (f"/cis/{mexico_server.pk}", f"/cis/{mexico_server.pk}/impact"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == PROBLEM
    response = api.patch(f"/cis/{mexico_server.pk}", {"version": 1, "name": "x"})
    assert response.status_code == 404
    assert api.get("/cis").json()["count"] == 0
    mexico_server.refresh_from_db()
    assert mexico_server.name == "srv-mx-01"


def test_agent_of_mexico_lists_and_filters(api_as, agent_mexico, mexico_server, classes, mexico):
    cmdb.create_ci(
        actor=None,
        name="vm-mx-01",
        ci_class=classes["virtual_machine"],
        country=mexico,
        status="planned",
    )
    api = api_as(agent_mexico)
    body = api.get("/cis").json()
    assert body["count"] == 2 and body["page"] == 1
    assert [ci["name"] for ci in api.get("/cis", {"class": "server"}).json()["items"]] == [
        "srv-mx-01"
    ]
    assert api.get("/cis", {"status": "planned"}).json()["count"] == 1
    assert api.get("/cis", {"country": "mx", "q": "vm-"}).json()["count"] == 1
    assert api.get("/cis", {"country": "BR"}).json()["count"] == 0
    detail = api.get(f"/cis/{mexico_server.pk}").json()
    assert detail["number"].startswith("CI") and len(detail["number"]) == 9
    assert detail["attributes"] == {"cpu_count": 8, "ip_address": "10.0.0.1"}
    assert detail["ci_class"] == "server" and detail["country"] == "MX"


def test_create_ci(api_as, agent_mexico, mexico):
    response = api_as(agent_mexico).post(
        "/cis",
        {
            "name": "db-mx-01",
            "ci_class": "database_instance",
            "country": "MX",
            "attributes": {"engine": "postgresql", "port": "5432"},
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["attributes"] == {"engine": "postgresql", "port": 5432}
    assert body["version"] == 1
    ci = CI.objects.get(pk=body["id"])
    assert JournalEntry.objects.for_record(ci).filter(kind="created").exists()


def test_create_ci_in_another_country_is_refused(api_as, agent_mexico, brazil):
    response = api_as(agent_mexico).post(
        "/cis", {"name": "x", "ci_class": "server", "country": "BR"}
    )
    assert response.status_code == 403
    assert not CI.objects.exists()


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"cpu_count": "many"}, "attributes.cpu_count"),
        ({"colour": "red"}, "attributes.colour"),
        ({"ip_address": "999.1.1.1"}, "attributes.ip_address"),
    ],
)
def test_bad_attribute_is_422_naming_the_field(
    api_as, agent_mexico, mexico_server, attributes, field
):
    api = api_as(agent_mexico)
    response = api.patch(f"/cis/{mexico_server.pk}", {"version": 1, "attributes": attributes})
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert response.json()["field"] == field
    mexico_server.refresh_from_db()
    assert mexico_server.version == 1
    assert mexico_server.attributes == {"cpu_count": 8, "ip_address": "10.0.0.1"}
    response = api.post(
        "/cis", {"name": "y", "ci_class": "server", "country": "MX", "attributes": attributes}
    )
    assert response.status_code == 422 and response.json()["field"] == field


def test_unknown_class_is_422(api_as, agent_mexico, mexico):
    response = api_as(agent_mexico).post(
        "/cis", {"name": "x", "ci_class": "toaster", "country": "MX"}
    )
    assert response.status_code == 422 and response.json()["field"] == "ci_class"


def test_patch_with_version(api_as, agent_mexico, mexico_server):
    api = api_as(agent_mexico)
    response = api.patch(
        f"/cis/{mexico_server.pk}",
        {
            "version": 1,
            "name": "srv-mx-01-renamed",
            "status": "under_maintenance",
            "attributes": {"cpu_count": "16"},
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["name"], body["status"], body["version"]) == (
        "srv-mx-01-renamed",
        "under_maintenance",
        2,
    )
    assert body["attributes"] == {"cpu_count": 16}
    fields = set(JournalEntry.objects.for_record(mexico_server).values_list("field", flat=True))
    assert {"name", "status", "attributes.cpu_count", "attributes.ip_address"} <= fields


def test_stale_patch_is_409_with_the_current_state(api_as, agent_mexico, mexico_server):
    cmdb.update_ci(mexico_server, actor=None, version=1, name="changed-elsewhere")
    response = api_as(agent_mexico).patch(
        f"/cis/{mexico_server.pk}", {"version": 1, "name": "mine"}
    )
    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["current_version"] == 2
    assert body["current"]["name"] == "changed-elsewhere"
    mexico_server.refresh_from_db()
    assert mexico_server.name == "changed-elsewhere"


def test_status_transition_not_allowed_is_409(api_as, agent_mexico, mexico_server):
    cmdb.retire_ci(mexico_server, actor=None)
    response = api_as(agent_mexico).patch(
        f"/cis/{mexico_server.pk}", {"version": 2, "status": "under_maintenance"}
    )
    assert response.status_code == 409
    assert response.json()["field"] == "status"


def test_relationships(api_as, agent_mexico, mexico_server, classes, mexico):
    vm = cmdb.create_ci(
        actor=None, name="vm-mx-01", ci_class=classes["virtual_machine"], country=mexico
    )
    api = api_as(agent_mexico)
    response = api.post(
        "/relationships", {"source": vm.pk, "target": mexico_server.pk, "type": "runs_on"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["label"] == "runs on" and body["inverse_label"] == "hosts"
    duplicate = api.post(
        "/relationships", {"source": vm.pk, "target": mexico_server.pk, "type": "runs_on"}
    )
    assert duplicate.status_code == 422 and duplicate.json()["field"] == "target"
    itself = api.post("/relationships", {"source": vm.pk, "target": vm.pk, "type": "runs_on"})
    assert itself.status_code == 422 and itself.json()["field"] == "target"
    missing = api.post("/relationships", {"source": vm.pk, "target": 999999, "type": "runs_on"})
    assert missing.status_code == 422 and missing.json()["field"] == "target"
    assert api.get("/relationships", {"ci": mexico_server.pk}).json()["count"] == 1
    assert api.delete(f"/relationships/{body['id']}").status_code == 204
    assert not Relationship.objects.exists()


def test_relationship_to_another_region_is_refused(
    api_as, agent_brazil, mexico_server, classes, brazil
):
    own = cmdb.create_ci(actor=None, name="srv-br", ci_class=classes["server"], country=brazil)
    response = api_as(agent_brazil).post(
        "/relationships", {"source": own.pk, "target": mexico_server.pk, "type": "depends_on"}
    )
    assert response.status_code == 422 and response.json()["field"] == "target"
    assert not Relationship.objects.exists()


def test_impact_endpoint_tells_the_story(api_as, smo_analyst, story):
    response = api_as(smo_analyst).get(f"/cis/{story['wan'].pk}/impact", {"depth": 8})
    assert response.status_code == 200
    body = response.json()
    assert body["countries"] == ["CO"]
    assert [s["code"] for s in body["services"]] == ["route-sales"]
    [process] = body["business_processes"]
    assert process["code"] == "sales" and process["countries"] == ["CO"]
    handhelds = next(c for c in body["cis"] if c["id"] == story["handhelds"].pk)
    assert [step["id"] for step in handhelds["path"]] == [
        story["wan"].pk,
        story["router"].pk,
        story["handhelds"].pk,
    ]
    assert (
        api_as(smo_analyst).get(f"/cis/{story['wan'].pk}/impact", {"depth": 99}).status_code == 422
    )


def test_impact_redacts_cis_outside_the_scope(api_as, classes, agent_mexico, mexico, brazil):
    root = cmdb.create_ci(actor=None, name="core-mx", ci_class=classes["server"], country=mexico)
    remote = cmdb.create_ci(
        actor=None, name="secret-br", ci_class=classes["application"], country=brazil
    )
    cmdb.add_relationship(actor=None, source=remote, target=root, type="depends_on")
    body = api_as(agent_mexico).get(f"/cis/{root.pk}/impact").json()
    hidden = next(c for c in body["cis"] if c["id"] == remote.pk)
    assert hidden["is_visible"] is False and "secret" not in hidden["name"]


def test_ci_classes_with_inherited_attributes(api_as, agent_mexico):
    body = api_as(agent_mexico).get("/ci-classes").json()
    by_code = {c["code"]: c for c in body}
    vm = by_code["virtual_machine"]
    assert vm["parent"] == "server"
    names = {a["name"]: a for a in vm["attributes"]}
    assert names["hypervisor"]["declared_by"] == "virtual_machine"
    assert names["cpu_count"]["declared_by"] == "server"
    assert {"server", "handheld", "link", "network_device", "cloud_service"} <= set(by_code)
