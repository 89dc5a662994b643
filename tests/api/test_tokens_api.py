"""Personal API tokens: hashed at rest, secret shown once, revocable, expiring."""

import datetime as dt

import pytest
from django.utils import timezone

from itsmo.accounts import services as accounts
from itsmo.accounts.models import ApiToken, hash_token

from .conftest import assert_problem


def bearer(client, secret, path="/api/v1/me"):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/tokens"), ("POST", "/tokens"), ("DELETE", "/tokens/1")]
)
def test_anonymous_is_refused(api_as, method, path, db):
    response = api_as(None).request(method, path, {"name": "ci"})

    assert_problem(response, 401)
    assert not ApiToken.objects.exists()


def test_create_returns_the_secret_once_and_stores_only_its_hash(api_as, agent_brazil, client):
    api = api_as(agent_brazil, session=True)

    response = api.post("/tokens", {"name": "laptop"})

    assert response.status_code == 201
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("itsmo_")
    token = ApiToken.objects.get(pk=body["id"])
    assert token.user == agent_brazil
    assert token.token_hash == hash_token(secret)
    stored = [str(v) for v in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert not any(secret in value for value in stored)
    assert secret[:12] == body["prefix"]
    # the secret works and is never shown again
    assert bearer(client, secret).json()["username"] == "agent.brazil"
    listed = api.get("/tokens").json()["items"]
    assert [t["name"] for t in listed] == ["laptop"]
    assert "secret" not in listed[0]
    assert secret not in api.get("/tokens").content.decode()


def test_create_with_expiry(api_as, agent_brazil):
    expires = timezone.now() + dt.timedelta(days=30)

    response = api_as(agent_brazil).post(
        "/tokens", {"name": "ci", "expires_at": expires.isoformat()}
    )

    assert response.status_code == 201
    assert ApiToken.objects.get(pk=response.json()["id"]).expires_at == expires


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({}, "name"),
        ({"name": "old", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "bad", "expires_at": "tomorrow"}, "expires_at"),
    ],
)
def test_invalid_token_request_names_the_field(api_as, agent_brazil, body, field):
    api = api_as(agent_brazil, session=True)

    assert_problem(api.post("/tokens", body), 422, field=field)
    assert not ApiToken.objects.exists()


def test_list_shows_only_your_own_tokens(api_as, agent_brazil, agent_mexico):
    accounts.issue_token(agent_mexico, "mexico's")
    api = api_as(agent_brazil)  # issues one named "tests"

    names = [t["name"] for t in api.get("/tokens").json()["items"]]

    assert names == ["tests"]


def test_revoked_token_is_refused(api_as, agent_brazil, client):
    token, secret = accounts.issue_token(agent_brazil, "laptop")
    api = api_as(agent_brazil, session=True)

    response = api.delete(f"/tokens/{token.pk}")

    assert response.status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert_problem(bearer(client, secret), 401)
    assert api.get("/tokens").json()["items"][0]["is_usable"] is False


def test_a_token_may_revoke_itself(api_as, agent_brazil, client):
    token, secret = accounts.issue_token(agent_brazil, "self")

    response = client.delete(f"/api/v1/tokens/{token.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert response.status_code == 204
    assert_problem(bearer(client, secret), 401)


def test_expired_token_is_refused(agent_brazil, client):
    token, secret = accounts.issue_token(agent_brazil, "short")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(1))

    assert_problem(bearer(client, secret), 401)


def test_token_of_an_inactive_user_is_refused(agent_brazil, client):
    _token, secret = accounts.issue_token(agent_brazil, "laptop")
    agent_brazil.is_active = False
    agent_brazil.save(update_fields=["is_active"])

    assert_problem(bearer(client, secret), 401)


def test_someone_elses_token_cannot_be_revoked(api_as, agent_brazil, agent_mexico):
    token, _secret = accounts.issue_token(agent_mexico, "mexico's")

    response = api_as(agent_brazil).delete(f"/tokens/{token.pk}")

    assert_problem(response, 404)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_unknown_token_is_404(api_as, agent_brazil):
    assert_problem(api_as(agent_brazil).delete("/tokens/999999"), 404)


def test_expiry_without_offset_is_read_in_the_users_time_zone(api_as, agent_brazil):
    response = api_as(agent_brazil).post(
        "/tokens", {"name": "ci", "expires_at": "2099-01-01T09:00:00"}
    )

    assert response.status_code == 201
    expires_at = ApiToken.objects.get(pk=response.json()["id"]).expires_at
    assert expires_at == dt.datetime(2099, 1, 1, 12, 0, tzinfo=dt.UTC)  # São Paulo is UTC-3
