"""Checks run over every operation the API publishes, so new endpoints inherit them."""

import re

import pytest

from itsmo.api.urls import api
from itsmo.organization.models import Site, SiteKind

from .conftest import assert_problem
from .test_accounts_api import _group_body


def _operations():
    spec = api.get_openapi_schema()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def _concrete(path: str) -> str:
    path = path.replace("{record_type}", "user")
    return re.sub(r"\{[^}]+\}", "1", path).removeprefix("/api/v1")


SECURED = [(path, method) for path, method, op in _operations() if op.get("security")]


#: Operations meant to be reached without signing in; add to it deliberately.
INTENTIONALLY_PUBLIC = {
    ("/api/v1/surveys/{token}", "POST"),  # a satisfaction survey answered from an e-mail link
}


def test_every_operation_requires_authentication_unless_listed():
    public = {(path, method) for path, method, op in _operations() if not op.get("security")}

    assert public <= INTENTIONALLY_PUBLIC


@pytest.mark.parametrize(("path", "method"), SECURED)
def test_anonymous_gets_a_401_problem_everywhere(api_as, db, path, method):
    response = api_as(None).request(method, _concrete(path), {})

    assert_problem(response, 401)


@pytest.mark.parametrize("path", sorted({path for path, _method in SECURED}))
def test_unsupported_method_is_a_405_problem_everywhere(api_as, agent_mexico, path):
    item = api.get_openapi_schema()["paths"][path]
    method = next(m for m in ("PUT", "DELETE", "POST") if m.lower() not in item)
    client = api_as(agent_mexico)

    response = client.client.generic(method, "/api/v1" + _concrete(path), **client.headers)

    assert_problem(response, 405)


# Query budgets: a list costs the same number of queries for 3 rows or 30.


def _queries_for(django_assert_max_num_queries, client, path, budget):
    with django_assert_max_num_queries(budget):
        response = client.get(path, {"page_size": 500})
    assert response.status_code == 200
    return response.json()["count"]


def test_user_list_query_budget(api_as, admin_user, mexico, django_assert_max_num_queries):
    from tests.conftest import make_user

    for number in range(30):
        make_user(f"user{number:02}", ["agent", "end_user"], mexico)

    count = _queries_for(django_assert_max_num_queries, api_as(admin_user), "/users", 8)

    assert count == 31


def test_support_group_list_query_budget(
    api_as, admin_user, smo_analyst, region_mexico, mexico, django_assert_max_num_queries
):
    client = api_as(admin_user)
    for number in range(30):
        body = _group_body(
            code=f"g{number:02}",
            name=f"Group {number:02}",
            region="mexico",
            country="MX",
            members=[],
            manager="smo.analyst",
        )
        assert client.post("/support-groups", body).status_code == 201

    count = _queries_for(django_assert_max_num_queries, api_as(smo_analyst), "/support-groups", 8)

    assert count == 30


def test_site_and_country_list_query_budget(
    api_as, agent_mexico, mexico, calendar_mexico, django_assert_max_num_queries
):
    Site.objects.bulk_create(
        Site(code=f"s{n}", name=f"Site {n}", kind=SiteKind.OFFICE, country=mexico)
        for n in range(30)
    )
    client = api_as(agent_mexico)

    assert _queries_for(django_assert_max_num_queries, client, "/sites", 8) == 30
    assert _queries_for(django_assert_max_num_queries, client, "/countries", 8) == 1
