"""CMDB fixtures: the Colombian distribution centre story and a Mexican data centre."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from itsmo.accounts import services as accounts
from itsmo.catalog import services as catalog
from itsmo.cmdb import services as cmdb
from itsmo.organization.models import Site, SiteKind


@pytest.fixture
def dc_bogota(colombia):
    return Site.objects.create(
        code="dc-bogota",
        name="Bogotá distribution centre",
        kind=SiteKind.DISTRIBUTION_CENTRE,
        country=colombia,
    )


@pytest.fixture
def datacentre_mexico(mexico):
    return Site.objects.create(
        code="dc-mx-qro", name="Querétaro data centre", kind=SiteKind.DATA_CENTRE, country=mexico
    )


@pytest.fixture
def sales(db):
    return catalog.create_business_process(actor=None, code="sales", name="Sales", criticality=1)


@pytest.fixture
def route_sales(sales, mexico, colombia, brazil):
    service = catalog.create_service(
        actor=None,
        code="route-sales",
        name="Handheld Route Sales",
        kind="business",
        lifecycle="catalogue",
        criticality=1,
        countries=[mexico, colombia, brazil],
    )
    catalog.set_business_processes(service, {sales: 80}, actor=None)
    return service


@pytest.fixture
def story(classes, dc_bogota, datacentre_mexico, route_sales):
    """WAN link ← router ← handhelds (Colombia); route sales app in the Mexican DC."""
    wan = cmdb.create_ci(
        actor=None,
        name="WAN MPLS Bogotá DC",
        ci_class=classes["link"],
        site=dc_bogota,
        attributes={"carrier": "Claro", "link_type": "mpls"},
    )
    router = cmdb.create_ci(
        actor=None,
        name="rt-bog-dc-01",
        ci_class=classes["network_device"],
        site=dc_bogota,
        attributes={"device_type": "router"},
    )
    handhelds = cmdb.create_ci(
        actor=None, name="Handheld fleet Bogotá DC", ci_class=classes["handheld"], site=dc_bogota
    )
    server = cmdb.create_ci(
        actor=None,
        name="srv-mx-rs-01",
        ci_class=classes["server"],
        site=datacentre_mexico,
        serial="SN-RS-01",
    )
    app = cmdb.create_ci(
        actor=None,
        name="Route Sales backend",
        ci_class=classes["business_application"],
        site=datacentre_mexico,
    )
    cmdb.add_relationship(actor=None, source=router, target=wan, type="connects_to")
    cmdb.add_relationship(actor=None, source=handhelds, target=router, type="depends_on")
    cmdb.add_relationship(actor=None, source=app, target=server, type="runs_on")
    cmdb.add_relationship(actor=None, source=handhelds, target=app, type="depends_on")
    cmdb.link_service(route_sales, handhelds, actor=None)
    cmdb.link_service(route_sales, app, actor=None)
    return {"wan": wan, "router": router, "handhelds": handhelds, "server": server, "app": app}


class Api:
    """The test client on /api/v1/ with a bearer token (or anonymous)."""

    def __init__(self, client, token: str | None) -> None:
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def get(self, path, params=None):
        return self.client.get("/api/v1" + path, params or {}, **self.headers)

    def post(self, path, body):
        return self.client.post(
            "/api/v1" + path, json.dumps(body), content_type="application/json", **self.headers
        )

    def patch(self, path, body):
        return self.client.patch(
            "/api/v1" + path, json.dumps(body), content_type="application/json", **self.headers
        )

    def delete(self, path):
        return self.client.delete("/api/v1" + path, **self.headers)


@pytest.fixture
def api_as(db):
    def make(user=None) -> Api:
        token = accounts.issue_token(user, "tests")[1] if user is not None else None
        return Api(Client(), token)

    return make
