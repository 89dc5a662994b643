"""Administrators create reference data; everyone else is refused and nothing changes."""

import pytest

from itsmo.core.models import JournalEntry
from itsmo.organization.models import BusinessUnit, Country, Region, Site

from .conftest import assert_problem


@pytest.fixture
def bodies(region_mexico, mexico, calendar_mexico):
    return {
        "/regions": {"code": "southern-cone", "name": "Southern Cone"},
        "/countries": {
            "code": "gt",
            "name": "Guatemala",
            "region": "mexico",
            "time_zone": "America/Guatemala",
            "language": "es",
            "calendar": calendar_mexico.pk,
        },
        "/sites": {
            "code": "gdl-dc",
            "name": "Guadalajara DC",
            "kind": "distribution_centre",
            "country": "MX",
            "city": "Guadalajara",
        },
        "/business-units": {"code": "snacks", "name": "Snacks", "description": "Salty"},
    }


MODELS = {
    "/regions": Region,
    "/countries": Country,
    "/sites": Site,
    "/business-units": BusinessUnit,
}


def counts():
    return {path: model.objects.count() for path, model in MODELS.items()}


@pytest.mark.parametrize("path", list(MODELS))
def test_anonymous_is_refused(api_as, bodies, path):
    before = counts()

    assert_problem(api_as(None).post(path, bodies[path]), 401)
    assert counts() == before


@pytest.mark.parametrize("path", list(MODELS))
@pytest.mark.parametrize("user", ["agent_mexico", "smo_analyst", "end_user_mexico"])
def test_non_administrators_are_refused(api_as, request, bodies, path, user):
    client = api_as(request.getfixturevalue(user))
    before = counts()

    assert_problem(client.post(path, bodies[path]), 403)
    assert counts() == before


def test_refusal_comes_before_reading_the_input(api_as, agent_mexico, db):
    # well-formed, so only the references (checked in the endpoint) are wrong
    body = {"code": "XX", "name": "X", "region": "atlantis", "time_zone": "Nowhere/City"}

    assert_problem(api_as(agent_mexico).post("/countries", body), 403)


@pytest.mark.parametrize("path", list(MODELS))
def test_administrator_creates(api_as, admin_user, bodies, path):
    response = api_as(admin_user).post(path, bodies[path])

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["version"] == 1
    record = MODELS[path].objects.get(pk=body["id"])
    assert JournalEntry.objects.for_record(record).filter(actor=admin_user).count() == 1


def test_created_country_is_uppercased_and_linked(api_as, admin_user, bodies, calendar_mexico):
    body = api_as(admin_user).post("/countries", bodies["/countries"]).json()

    assert body["code"] == "GT"
    assert body["region"]["code"] == "mexico"
    assert body["calendar"]["id"] == calendar_mexico.pk


@pytest.mark.parametrize(
    ("path", "overrides", "field"),
    [
        ("/regions", {"code": "mexico"}, "code"),  # taken
        ("/regions", {"code": "has spaces"}, "code"),
        ("/regions", {"name": ""}, "name"),
        ("/countries", {"region": "atlantis"}, "region"),
        ("/countries", {"time_zone": "Mars/Olympus"}, "time_zone"),
        ("/countries", {"code": "MX"}, "code"),  # taken
        ("/countries", {"code": "GTM"}, "code"),
        ("/countries", {"calendar": 999999}, "calendar"),
        ("/sites", {"kind": "castle"}, "kind"),
        ("/sites", {"country": "ZZ"}, "country"),
        ("/business-units", {"name": ""}, "name"),
    ],
)
def test_invalid_input_names_the_field_and_changes_nothing(
    api_as, admin_user, bodies, path, overrides, field
):
    before = counts()

    response = api_as(admin_user).post(path, {**bodies[path], **overrides})

    assert_problem(response, 422, field=field)
    assert counts() == before


def test_missing_fields_are_all_listed(api_as, admin_user, db):
    response = api_as(admin_user).post("/sites", {"name": "Nameless"})

    body = assert_problem(response, 422)
    assert {e["field"] for e in body["errors"]} == {"code", "kind", "country"}


def test_reference_data_timeline_is_readable_by_anyone_signed_in(
    api_as, admin_user, end_user_mexico, bodies
):
    region = api_as(admin_user).post("/regions", bodies["/regions"]).json()

    response = api_as(end_user_mexico).get(f"/journal/region/{region['id']}")

    assert response.status_code == 200
    assert [e["kind"] for e in response.json()["items"]] == ["created"]
