"""Every API failure is RFC 9457 problem+json, whatever raised it."""

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.test import RequestFactory

from itsmo.api.urls import api
from itsmo.core.errors import (
    NotFound,
    PermissionDenied,
    StaleVersion,
    TransitionNotAllowed,
    ValidationFailed,
)
from itsmo.organization.models import Region

from .conftest import assert_problem


def test_anonymous_gets_401_with_bearer_challenge(api_as):
    response = api_as(None).get("/regions")

    body = assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert body["instance"] == "/api/v1/regions"


def test_unknown_bearer_token_is_401(api_as, client):
    response = client.get("/api/v1/regions", HTTP_AUTHORIZATION="Bearer itsmo_not-a-token")

    assert_problem(response, 401)


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_url_under_the_api_is_a_404_problem(api_as, agent_mexico, method):
    response = getattr(api_as(agent_mexico), method)("/no-such-thing/42")

    body = assert_problem(response, 404)
    assert "/api/v1/no-such-thing/42" in body["detail"]


def test_unknown_url_is_404_even_for_anonymous(api_as):
    assert_problem(api_as(None).get("/nope"), 404)


def test_wrong_method_is_a_405_problem_naming_the_allowed_ones(api_as, agent_mexico):
    response = api_as(agent_mexico).delete("/regions")

    body = assert_problem(response, 405)
    assert "GET" in response["Allow"]
    assert "GET" in body["allowed"]


def test_missing_object_from_get_object_or_404_is_a_problem(api_as, agent_mexico):
    assert_problem(api_as(agent_mexico).get("/regions/999999"), 404)


def test_path_parameter_of_wrong_type_is_422_naming_it(api_as, agent_mexico):
    assert_problem(api_as(agent_mexico).get("/regions/abc"), 422, field="region_id")


def test_query_parameter_of_wrong_value_is_422_naming_it(api_as, agent_mexico):
    response = api_as(agent_mexico).get("/sites", {"kind": "castle"})

    assert_problem(response, 422, field="kind")


@pytest.mark.parametrize("page_size", [501, 10_000])
def test_page_size_above_500_is_refused_naming_page_size(api_as, agent_mexico, page_size):
    response = api_as(agent_mexico).get("/regions", {"page_size": page_size})

    body = assert_problem(response, 422, field="page_size")
    assert "500" in body["detail"]


def test_page_zero_is_refused_naming_page(api_as, agent_mexico):
    assert_problem(api_as(agent_mexico).get("/regions", {"page": 0}), 422, field="page")


def test_page_size_500_is_allowed_and_pages_are_counted(api_as, agent_mexico):
    Region.objects.bulk_create(Region(code=f"r{i}", name=f"Region {i:02}") for i in range(7))

    everything = api_as(agent_mexico).get("/regions", {"page_size": 500})
    second = api_as(agent_mexico).get("/regions", {"page": 2, "page_size": 3})

    assert everything.status_code == 200
    assert everything.json()["count"] == 8  # with the agent's region, Mexico
    assert second.json() == {
        **second.json(),
        "count": 8,
        "page": 2,
        "page_size": 3,
        "pages": 3,
    }
    assert [r["name"] for r in second.json()["items"]] == ["Region 02", "Region 03", "Region 04"]


def test_malformed_json_body_is_a_problem(api_as, agent_mexico):
    response = api_as(agent_mexico).client.post(
        "/api/v1/tokens",
        "{not json",
        content_type="application/json",
        **api_as(agent_mexico).headers,
    )

    assert_problem(response, 400)


@pytest.mark.parametrize(
    ("error", "status", "field"),
    [
        (ValidationFailed("bad code", field="code"), 422, "code"),
        (NotFound("no such thing"), 404, None),
        (PermissionDenied("not yours"), 403, None),
        (TransitionNotAllowed("closed is final", field="status"), 409, "status"),
        (DjangoPermissionDenied("no"), 403, None),
        (Http404("gone"), 404, None),
    ],
)
def test_domain_errors_map_to_their_status(error, status, field):
    request = RequestFactory().get("/api/v1/anything")

    response = api.on_exception(request, error)

    body = assert_problem(response, status, field=field)
    assert body["instance"] == "/api/v1/anything"


def test_stale_version_is_409_with_the_current_version():
    class Record:
        def api_snapshot(self):
            return {"version": 4}

    request = RequestFactory().post("/api/v1/anything")
    error = StaleVersion("changed by someone else", current_version=4, record=Record())

    response = api.on_exception(request, error)

    body = assert_problem(response, 409, field="version")
    assert body["current_version"] == 4
    assert body["current"] == {"version": 4}


def test_unexpected_error_is_a_500_problem_without_internals(caplog):
    request = RequestFactory().get("/api/v1/anything")

    response = api.on_exception(request, RuntimeError("secret internals"))

    body = assert_problem(response, 500)
    assert "secret internals" not in response.content.decode()
    assert body["title"] == "Internal server error"


def test_api_root_is_a_problem_pointing_at_the_docs(client):
    response = client.get("/api/v1/")

    body = assert_problem(response, 404)
    assert "/api/v1/docs" in body["detail"]


def test_trailing_slash_is_not_redirected_but_a_404_problem(api_as, agent_mexico):
    assert_problem(api_as(agent_mexico).get("/regions/"), 404)


def test_absurd_page_number_is_refused_not_a_database_error(api_as, agent_mexico):
    response = api_as(agent_mexico).get("/regions", {"page": 10**25})

    assert_problem(response, 422, field="page")


@pytest.mark.parametrize("header", [{}, {"HTTP_AUTHORIZATION": "Bearer itsmo_revoked"}])
def test_anonymous_write_is_401_not_a_csrf_403(db, header):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)

    response = client.post("/api/v1/tokens", "{}", content_type="application/json", **header)

    assert_problem(response, 401)


def test_signed_in_session_write_still_needs_csrf(api_as, agent_mexico):
    client = api_as(agent_mexico, session=True, enforce_csrf=True)

    body = assert_problem(client.post("/tokens", {"name": "laptop"}), 403)
    assert "CSRF" in body["detail"]


def test_nul_character_in_a_body_field_is_422_naming_it(api_as, admin_user):
    response = api_as(admin_user).post("/business-units", {"code": "bu", "name": "a\x00b"})

    assert_problem(response, 422, field="name")


def test_nul_character_in_a_query_parameter_is_422_naming_it(api_as, agent_mexico):
    assert_problem(api_as(agent_mexico).get("/users", {"q": "a\x00"}), 422, field="q")
