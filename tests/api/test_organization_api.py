"""Reference data: readable by every signed-in user in every region, not region-scoped."""

import pytest

from .conftest import assert_problem

LISTS = ["/regions", "/countries", "/sites", "/business-units", "/calendars"]


@pytest.mark.parametrize("path", LISTS)
def test_anonymous_is_refused(api_as, path, region_mexico):
    assert_problem(api_as(None).get(path), 401)


@pytest.mark.parametrize("path", LISTS)
def test_every_signed_in_user_may_read_reference_data(api_as, end_user_mexico, path):
    response = api_as(end_user_mexico).get(path)

    assert response.status_code == 200
    assert set(response.json()) == {"items", "count", "page", "page_size", "pages"}


def test_regions_list_and_detail(api_as, agent_brazil, region_mexico, region_brazil):
    client = api_as(agent_brazil)

    listed = client.get("/regions").json()
    detail = client.get(f"/regions/{region_mexico.pk}")

    assert [r["code"] for r in listed["items"]] == ["brazil", "mexico"]
    assert detail.status_code == 200
    assert detail.json() == {
        "id": region_mexico.pk,
        "code": "mexico",
        "name": "Mexico",
        "version": 1,
    }


def test_countries_filter_by_region(api_as, agent_brazil, mexico, brazil, colombia, peru):
    response = api_as(agent_brazil).get("/countries", {"region": "andean"})

    assert [c["code"] for c in response.json()["items"]] == ["CO", "PE"]
    assert response.json()["items"][0]["region"]["code"] == "andean"


def test_country_detail_of_another_region_is_visible(api_as, agent_brazil, mexico, calendar_mexico):
    """A Brazil agent picks Mexico as the affected country of a traveller's ticket."""
    response = api_as(agent_brazil).get(f"/countries/{mexico.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "MX"
    assert body["time_zone"] == "America/Mexico_City"
    assert body["calendar"] == {"id": calendar_mexico.pk, "name": "Mexico office hours"}


def test_unknown_country_is_404(api_as, agent_brazil, brazil):
    assert_problem(api_as(agent_brazil).get("/countries/999999"), 404)


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({}, ["sp-office", "mty-plant"]),
        ({"country": "mx"}, ["mty-plant"]),
        ({"kind": "office"}, ["sp-office"]),
        ({"country": "MX", "kind": "office"}, []),
    ],
)
def test_sites_filter_by_country_and_kind(
    api_as, agent_brazil, plant_monterrey, office_sao_paulo, params, codes
):
    response = api_as(agent_brazil).get("/sites", params)

    assert response.status_code == 200
    assert [s["code"] for s in response.json()["items"]] == codes


def test_site_detail(api_as, agent_brazil, plant_monterrey):
    body = api_as(agent_brazil).get(f"/sites/{plant_monterrey.pk}").json()

    assert body["kind"] == "plant"
    assert body["country"]["code"] == "MX"
    assert body["city"] == "Monterrey"


def test_business_units(api_as, end_user_mexico, business_unit_beverages):
    client = api_as(end_user_mexico)

    listed = client.get("/business-units").json()
    detail = client.get(f"/business-units/{business_unit_beverages.pk}").json()

    assert [u["code"] for u in listed["items"]] == ["beverages"]
    assert detail["name"] == "Beverages"


def test_calendar_detail_has_working_periods_and_exceptions(api_as, agent_brazil, calendar_mexico):
    response = api_as(agent_brazil).get(f"/calendars/{calendar_mexico.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["time_zone"] == "America/Mexico_City"
    assert body["holiday_country"] == "MX"
    assert len(body["working_periods"]) == 5
    assert body["working_periods"][0] == {"weekday": 0, "start": "09:00:00", "end": "18:00:00"}
    assert body["exceptions"] == [
        {"date": "2026-12-24", "name": "Plant shutdown", "is_working_day": False}
    ]


def test_calendar_list_is_a_summary(api_as, agent_brazil, calendar_mexico):
    items = api_as(agent_brazil).get("/calendars").json()["items"]

    assert [c["name"] for c in items] == ["Mexico office hours"]
    assert "working_periods" not in items[0]


def test_session_sign_in_reads_too(api_as, agent_brazil, region_brazil):
    response = api_as(agent_brazil, session=True).get("/regions")

    assert response.status_code == 200


def test_inactive_user_session_is_refused(api_as, agent_brazil, region_brazil):
    client = api_as(agent_brazil, session=True)
    agent_brazil.is_active = False
    agent_brazil.save(update_fields=["is_active"])

    assert_problem(client.get("/regions"), 401)
