"""CMDB pages: access, region scoping, filters, impact graph, health, edit and retire."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from itsmo.cmdb import services as cmdb
from itsmo.cmdb.models import CI, CIStatus


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
    "path", ["/cmdb/", "/cmdb/1/", "/cmdb/1/impact/", "/cmdb/health/", "/cmdb/1/edit/"]
)
def test_anonymous_is_sent_to_sign_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_end_users_do_not_see_the_cmdb(signed_in, end_user_mexico, mexico_server):
    client = signed_in(end_user_mexico)
    assert client.get("/cmdb/").status_code == 403
    assert client.get(f"/cmdb/{mexico_server.pk}/").status_code == 403


def test_a_ci_of_another_region_is_404(signed_in, agent_brazil, mexico_server):
    client = signed_in(agent_brazil)
    for suffix in ("", "impact/", "edit/"):
        assert client.get(f"/cmdb/{mexico_server.pk}/{suffix}").status_code == 404
    response = client.post(f"/cmdb/{mexico_server.pk}/retire/", {"version": 1})
    assert response.status_code == 404
    mexico_server.refresh_from_db()
    assert mexico_server.status == CIStatus.IN_OPERATION
    assert "srv-mx-01" not in client.get("/cmdb/").content.decode()


def test_list_filters(signed_in, smo_analyst, story, mexico_server, route_sales):
    client = signed_in(smo_analyst)

    def names(**params) -> set[str]:
        response = client.get("/cmdb/", params)
        assert response.status_code == 200
        return {ci.name for ci in response.context["page"].object_list}

    everything = names()
    assert {"WAN MPLS Bogotá DC", "srv-mx-01", "Route Sales backend"} <= everything
    assert names(ci_class="link") == {"WAN MPLS Bogotá DC"}
    assert names(country="MX") == {"srv-mx-01", "srv-mx-rs-01", "Route Sales backend"}
    assert names(service="route-sales") == {"Handheld fleet Bogotá DC", "Route Sales backend"}
    assert names(q="bogotá") == {"WAN MPLS Bogotá DC", "Handheld fleet Bogotá DC"}
    assert names(q=mexico_server.number) == {"srv-mx-01"}
    cmdb.retire_ci(mexico_server, actor=None)
    assert names(status="retired") == {"srv-mx-01"}
    assert names(status="nonsense") == everything  # an invalid filter is ignored


def test_list_is_paginated(signed_in, agent_mexico, classes, mexico):
    for n in range(55):
        cmdb.create_ci(
            actor=None, name=f"laptop-{n:02d}", ci_class=classes["end_user_device"], country=mexico
        )
    client = signed_in(agent_mexico)
    first = client.get("/cmdb/", {"q": "laptop"})
    assert len(first.context["page"].object_list) == 50
    assert "page=2" in first.content.decode()
    second = client.get("/cmdb/", {"q": "laptop", "page": 2})
    assert len(second.context["page"].object_list) == 5


def test_ci_page(signed_in, smo_analyst, story):
    client = signed_in(smo_analyst)
    response = client.get(f"/cmdb/{story['wan'].pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Carrier" in html and "Claro" in html  # attribute label from the class schema
    assert "rt-bog-dc-01" in html and "connected from" in html  # incoming relationship
    handhelds = client.get(f"/cmdb/{story['handhelds'].pk}/").content.decode()
    assert "Handheld Route Sales" in handhelds  # linked service
    assert "depends on" in handhelds
    assert "created" in handhelds  # the journal


def test_impact_page_draws_the_story(signed_in, smo_analyst, story):
    client = signed_in(smo_analyst)
    response = client.get(f"/cmdb/{story['wan'].pk}/impact/")
    assert response.status_code == 200
    html = response.content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    for label in (
        "WAN MPLS Bogotá DC",
        "rt-bog-dc-01",
        "Handheld fleet Bogotá DC",
        "Handheld Route Sales",
        "Sales",
        "Colombia",
    ):
        assert f">{label}<" in svg, label
    assert f'href="/cmdb/{story["router"].pk}/impact/"' in svg
    assert "<script" not in svg
    shallow = client.get(f"/cmdb/{story['wan'].pk}/impact/", {"depth": 1}).content.decode()
    assert ">Handheld fleet Bogotá DC<" not in shallow


def test_health_page(signed_in, smo_analyst, classes, mexico):
    long_ago = timezone.now() - timedelta(days=90)
    cmdb.create_ci(
        actor=None,
        name="old-switch",
        ci_class=classes["network_device"],
        country=mexico,
        discovery_source="snmp",
        last_seen_at=long_ago,
        attributes={"device_type": "switch"},
    )
    for serial in ("A1", "A2"):
        cmdb.create_ci(
            actor=None,
            name="LT-MX-0001" if serial == "A1" else "lt-mx-0001",
            ci_class=classes["end_user_device"],
            country=mexico,
            serial=serial,
        )
    client = signed_in(smo_analyst)
    response = client.get("/cmdb/health/", {"days": 30})
    assert [ci.name for ci in response.context["stale"]] == ["old-switch"]
    assert "old-switch" in {ci.name for ci in response.context["orphans"]}
    assert "lt-mx-0001" in response.content.decode()  # duplicate candidate
    assert client.get("/cmdb/health/", {"days": 365}).context["stale_total"] == 0


def test_retire(signed_in, agent_mexico, mexico_server):
    client = signed_in(agent_mexico)
    stale = client.post(f"/cmdb/{mexico_server.pk}/retire/", {"version": 99}, follow=True)
    assert "Someone else changed this CI" in stale.content.decode()
    mexico_server.refresh_from_db()
    assert mexico_server.status == CIStatus.IN_OPERATION
    client.post(f"/cmdb/{mexico_server.pk}/retire/", {"version": mexico_server.version})
    mexico_server.refresh_from_db()
    assert mexico_server.status == CIStatus.RETIRED


def edit_data(ci: CI, **changes) -> dict:
    data = {
        "version": ci.version,
        "name": ci.name,
        "serial": ci.serial,
        "asset_tag": ci.asset_tag,
        "status": ci.status,
        "environment": ci.environment,
        "owner_group": "",
        "description": ci.description,
    }
    data.update({f"attr_{k}": v for k, v in ci.attributes.items()})
    data.update(changes)
    return data


def test_edit_saves_through_the_service(signed_in, agent_mexico, mexico_server):
    client = signed_in(agent_mexico)
    assert client.get(f"/cmdb/{mexico_server.pk}/edit/").status_code == 200
    response = client.post(
        f"/cmdb/{mexico_server.pk}/edit/",
        edit_data(mexico_server, name="srv-mx-01b", attr_cpu_count="16"),
    )
    assert response.status_code == 302
    mexico_server.refresh_from_db()
    assert mexico_server.name == "srv-mx-01b"
    assert mexico_server.attributes["cpu_count"] == 16


def test_edit_reports_a_conflict_and_a_bad_attribute(signed_in, agent_mexico, mexico_server):
    client = signed_in(agent_mexico)
    data = edit_data(mexico_server, name="mine")
    cmdb.update_ci(mexico_server, actor=None, version=mexico_server.version, name="theirs")
    conflict = client.post(f"/cmdb/{mexico_server.pk}/edit/", data)
    assert conflict.status_code == 200
    assert "Someone else changed this CI" in conflict.content.decode()
    mexico_server.refresh_from_db()
    assert mexico_server.name == "theirs"
    bad = client.post(
        f"/cmdb/{mexico_server.pk}/edit/", edit_data(mexico_server, attr_cpu_count="many")
    )
    assert bad.status_code == 200
    assert "expected an integer" in bad.content.decode()
