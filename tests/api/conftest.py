"""Fixtures for API tests: clients signed in with a bearer token or a session, and data."""

import datetime as dt
import json

import pytest
from django.test import Client

from itsmo.accounts import services as accounts
from itsmo.organization.models import (
    BusinessCalendar,
    BusinessUnit,
    CalendarException,
    Site,
    SiteKind,
    WorkingPeriod,
)

PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users are created with a password in every test; PBKDF2 would dominate the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class ApiClient:
    """The Django test client pointed at /api/v1/, authenticated one way or another."""

    def __init__(self, client: Client, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = headers or {}

    def _url(self, path: str) -> str:
        return "/api/v1" + path

    def get(self, path: str, params: dict | None = None, **extra):
        return self.client.get(self._url(path), params or {}, **self.headers, **extra)

    def post(self, path: str, body=None, **extra):
        data = json.dumps(body if body is not None else {})
        return self.client.post(
            self._url(path), data, content_type="application/json", **self.headers, **extra
        )

    def delete(self, path: str, **extra):
        return self.client.delete(self._url(path), **self.headers, **extra)

    def request(self, method: str, path: str, body=None):
        data = json.dumps(body) if body is not None else ""
        return self.client.generic(
            method, self._url(path), data, content_type="application/json", **self.headers
        )


@pytest.fixture
def api_as(db):
    """``api_as(user)`` is a client sending a fresh bearer token of ``user``; ``None`` is
    anonymous; ``api_as(user, session=True)`` signs in with a browser session instead."""

    def make(user=None, *, session: bool = False, enforce_csrf: bool = False) -> ApiClient:
        client = Client(enforce_csrf_checks=enforce_csrf)
        if user is None:
            return ApiClient(client)
        if session:
            client.force_login(user)
            return ApiClient(client)
        _token, secret = accounts.issue_token(user, "tests")
        return ApiClient(client, {"HTTP_AUTHORIZATION": f"Bearer {secret}"})

    return make


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    if field is not None:
        assert body["field"] == field, body
    return body


@pytest.fixture
def plant_monterrey(mexico):
    return Site.objects.create(
        code="mty-plant",
        name="Monterrey plant",
        kind=SiteKind.PLANT,
        country=mexico,
        city="Monterrey",
    )


@pytest.fixture
def office_sao_paulo(brazil):
    return Site.objects.create(
        code="sp-office",
        name="São Paulo office",
        kind=SiteKind.OFFICE,
        country=brazil,
        city="São Paulo",
    )


@pytest.fixture
def business_unit_beverages(db):
    return BusinessUnit.objects.create(code="beverages", name="Beverages")


@pytest.fixture
def calendar_mexico(mexico):
    calendar = BusinessCalendar.objects.create(
        name="Mexico office hours", time_zone="America/Mexico_City", holiday_country="MX"
    )
    for weekday in range(5):
        WorkingPeriod.objects.create(
            calendar=calendar, weekday=weekday, start=dt.time(9), end=dt.time(18)
        )
    CalendarException.objects.create(
        calendar=calendar, date=dt.date(2026, 12, 24), name="Plant shutdown"
    )
    mexico.calendar = calendar
    mexico.save(update_fields=["calendar"])
    return calendar
