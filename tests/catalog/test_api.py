"""API contract of the portfolio."""

from __future__ import annotations

import pytest

from itsmo.catalog import services as catalog
from itsmo.catalog.models import Service


@pytest.mark.parametrize(
    "path",
    [
        "/business-processes",
        "/services",
        "/services/1",
        "/services/1/dependencies",
        "/request-offerings",
    ],
)
def test_anonymous_is_401(api_as, path):
    assert api_as(None).get(path).status_code == 401


def test_lists(api_as, agent_brazil, route_sales):
    api = api_as(agent_brazil)
    [process] = api.get("/business-processes").json()
    assert process["code"] == "sales"
    body = api.get("/services", {"country": "CO"}).json()
    assert body["count"] == 1
    service = body["items"][0]
    assert service["business_processes"] == [
        {"id": process["id"], "code": "sales", "name": "Sales", "weight": 80}
    ]
    assert api.get("/services", {"country": "PE"}).json()["count"] == 0
    assert api.get(f"/services/{route_sales.pk}").json()["countries"] == ["BR", "CO", "MX"]
    assert api.get("/services/999999").status_code == 404


def test_end_users_see_the_catalogue_only(api_as, end_user_mexico, route_sales):
    pipeline = catalog.create_service(actor=None, code="next", name="Next thing")
    catalog.create_request_offering(
        actor=None, code="laptop", name="New laptop", service=route_sales
    )
    catalog.create_request_offering(actor=None, code="soon", name="Soon", service=pipeline)
    api = api_as(end_user_mexico)
    assert [s["code"] for s in api.get("/services").json()["items"]] == ["route-sales"]
    assert api.get(f"/services/{pipeline.pk}").status_code == 404
    assert [o["code"] for o in api.get("/request-offerings").json()["items"]] == ["laptop"]
    assert api.get(f"/services/{route_sales.pk}/dependencies").status_code == 403


def test_create_and_patch_service(api_as, smo_analyst, agent_mexico, sales, mexico):
    body = {
        "code": "mail",
        "name": "Corporate E-mail",
        "kind": "technical",
        "countries": ["MX"],
        "business_processes": {"sales": 20},
    }
    assert api_as(agent_mexico).post("/services", body).status_code == 403
    response = api_as(smo_analyst).post("/services", body)
    assert response.status_code == 201, response.json()
    service = response.json()
    assert service["business_processes"][0]["weight"] == 20
    bad = api_as(smo_analyst).post(
        "/services", {**body, "code": "m2", "name": "M2", "countries": ["XX"]}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "countries"
    patched = api_as(smo_analyst).patch(
        f"/services/{service['id']}", {"version": 1, "lifecycle": "catalogue"}
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    stale = api_as(smo_analyst).patch(f"/services/{service['id']}", {"version": 1, "name": "x"})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    assert Service.objects.get(pk=service["id"]).name == "Corporate E-mail"


def test_dependencies(api_as, smo_analyst, route_sales, classes, mexico):
    from itsmo.cmdb import services as cmdb

    app = cmdb.create_ci(actor=None, name="app", ci_class=classes["application"], country=mexico)
    server = cmdb.create_ci(actor=None, name="srv", ci_class=classes["server"], country=mexico)
    cmdb.add_relationship(actor=None, source=app, target=server, type="runs_on")
    cmdb.link_service(route_sales, app, actor=None)
    body = api_as(smo_analyst).get(f"/services/{route_sales.pk}/dependencies").json()
    assert [(c["name"], c["depth"]) for c in body["cis"]] == [("app", 0), ("srv", 1)]
