"""Service portfolio pages: services, business processes and the portal catalogue."""

from __future__ import annotations

import pytest

from itsmo.catalog import services as catalog
from itsmo.cmdb import services as cmdb
from itsmo.cmdb.demo import ensure_standard_classes
from itsmo.cmdb.models import CIClass


@pytest.fixture
def sales(db):
    return catalog.create_business_process(actor=None, code="sales", name="Sales", criticality=1)


@pytest.fixture
def portfolio(sales, mexico, colombia):
    route_sales = catalog.create_service(
        actor=None,
        code="route-sales",
        name="Handheld Route Sales",
        lifecycle="catalogue",
        criticality=1,
        countries=[mexico, colombia],
        is_portal_visible=True,
        portal_description="Route sales on the handhelds.",
    )
    catalog.set_business_processes(route_sales, {sales: 80}, actor=None)
    wan = catalog.create_service(
        actor=None, code="wan", name="WAN", kind="technical", lifecycle="catalogue"
    )
    catalog.create_request_offering(
        actor=None,
        code="new-handheld",
        name="New handheld",
        service=route_sales,
        portal_category="Devices",
        description="A route-sales handheld.",
        form_definition=[
            {"name": "route", "label": "Sales route", "type": "text", "required": True},
            {
                "name": "model",
                "label": "Model",
                "type": "choice",
                "options": ["Zebra TC52", "Honeywell CT40"],
            },
        ],
    )
    ensure_standard_classes()  # a transactional test may have flushed the seeded classes
    classes = {c.code: c for c in CIClass.objects.all()}
    link = cmdb.create_ci(
        actor=None, name="WAN MPLS Bogotá", ci_class=classes["link"], country=colombia
    )
    server = cmdb.create_ci(
        actor=None, name="hhs-co-01", ci_class=classes["server"], country=colombia
    )
    cmdb.add_relationship(actor=None, source=server, target=link, type="connects_to")
    cmdb.link_service(route_sales, server, actor=None)
    cmdb.link_service(wan, link, actor=None)
    return {"route_sales": route_sales, "wan": wan, "server": server, "link": link}


@pytest.mark.parametrize(
    "path",
    ["/catalog/services/", "/catalog/services/1/", "/catalog/processes/", "/catalog/portal/"],
)
def test_anonymous_is_sent_to_sign_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_service_list_and_filters(signed_in, agent_mexico, portfolio):
    client = signed_in(agent_mexico)
    html = client.get("/catalog/services/").content.decode()
    assert "Handheld Route Sales" in html and "WAN" in html
    technical = client.get("/catalog/services/", {"kind": "technical"}).context["services"]
    assert [s.name for s in technical] == ["WAN"]
    found = client.get("/catalog/services/", {"q": "route"}).context["services"]
    assert [s.name for s in found] == ["Handheld Route Sales"]


def test_service_page_shows_processes_and_the_dependency_tree(signed_in, agent_mexico, portfolio):
    client = signed_in(agent_mexico)
    response = client.get(f"/catalog/services/{portfolio['route_sales'].pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sales" in html and "80%" in html
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert ">WAN<" in svg  # depends on the WAN service through its CIs
    # The CIs are in Colombia: an agent of Mexico sees that they exist, not their names.
    assert ">hhs-co-01<" not in svg and "(not visible to you)" in svg


def test_staff_of_the_region_see_the_cis(signed_in, smo_analyst, portfolio):
    html = (
        signed_in(smo_analyst)
        .get(f"/catalog/services/{portfolio['route_sales'].pk}/")
        .content.decode()
    )
    assert ">hhs-co-01<" in html and ">WAN MPLS Bogotá<" in html


def test_end_users_see_the_service_but_not_its_cis(signed_in, end_user_mexico, portfolio):
    response = signed_in(end_user_mexico).get(f"/catalog/services/{portfolio['route_sales'].pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Handheld Route Sales" in html and "<svg" not in html and "hhs-co-01" not in html


def test_unknown_service_is_404(signed_in, agent_mexico, db):
    assert signed_in(agent_mexico).get("/catalog/services/999/").status_code == 404


def test_business_processes(signed_in, agent_mexico, portfolio, sales):
    client = signed_in(agent_mexico)
    assert "Handheld Route Sales" in client.get("/catalog/processes/").content.decode()
    detail = client.get(f"/catalog/processes/{sales.pk}/").content.decode()
    assert "Handheld Route Sales" in detail and "80%" in detail


def test_portal_lists_offerings_by_service_and_is_honest_about_ordering(
    signed_in, end_user_mexico, portfolio
):
    client = signed_in(end_user_mexico)
    html = client.get("/catalog/portal/").content.decode()
    assert "Handheld Route Sales" in html and "New handheld" in html
    assert "Ordering from it comes with request fulfilment in a later release" in html
    offering = portfolio["route_sales"].request_offerings.get()
    detail = client.get(f"/catalog/portal/{offering.pk}/").content.decode()
    assert "Sales route" in detail and "Honeywell CT40" in detail
    assert "<form" not in detail.split('id="main"')[1]  # nothing to submit yet
