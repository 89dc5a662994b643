"""Satisfaction surveys: created on resolution, e-mailed with a single-use link, answered once
through the page, the portal or ``POST /api/v1/surveys/{token}``."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse

from itsmo.core import metrics
from itsmo.core.metrics import Slice
from itsmo.incidents import services as incidents
from itsmo.surveys import services
from itsmo.surveys.models import Survey
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(incident_mexico, agent_mexico, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return incidents.resolve(
            incident_mexico, actor=agent_mexico, code="fixed", notes="Rebooted"
        )


@pytest.fixture
def token(resolved):
    """The token of the link in the invitation e-mail."""
    invitation = next(m for m in mail.outbox if "/surveys/" in m.body)
    return re.search(r"/surveys/([^/\s]+)/", invitation.body).group(1)


def test_resolving_creates_one_survey_and_mails_the_caller_a_link(resolved, end_user_mexico, token):
    survey = Survey.objects.get(incident=resolved)
    assert survey.sent_at is not None and survey.answered_at is None
    assert survey.token_hash == services.hash_token(token)  # only the hash is stored
    assert token not in survey.token_hash
    invitation = next(m for m in mail.outbox if "/surveys/" in m.body)
    assert invitation.to == [end_user_mexico.email]
    assert resolved.number in invitation.subject


def test_resolving_again_after_a_reopen_keeps_one_survey_per_incident(
    resolved, agent_mexico, end_user_mexico, token, django_capture_on_commit_callbacks
):
    incidents.reopen(resolved, actor=end_user_mexico, reason="Still broken")
    with django_capture_on_commit_callbacks(execute=True):
        incidents.resolve(resolved, actor=agent_mexico, code="fixed", notes="Now really")
    assert Survey.objects.filter(incident=resolved).count() == 1
    with pytest.raises(services.NotFound):
        services.answer(token, 5)  # the first link was replaced by the new one


def test_a_token_answers_once(token):
    survey = services.answer(token, 4, "Quick")
    assert (survey.rating, survey.comment) == (4, "Quick")
    with pytest.raises(services.AlreadyAnswered):
        services.answer(token, 1)
    survey.refresh_from_db()
    assert survey.rating == 4


@pytest.mark.parametrize("rating", [0, 6, True, "5", None])
def test_a_rating_is_a_whole_number_from_1_to_5(token, rating):
    with pytest.raises(services.ValidationFailed) as error:
        services.answer(token, rating)
    assert error.value.field == "rating"
    assert Survey.objects.get().answered_at is None


# -- API contract -----------------------------------------------------------------------------


def test_api_answers_without_authentication(api_as, token, resolved):
    response = api_as(None).post(f"/surveys/{token}", {"rating": 5, "comment": "Great"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["incident"] == resolved.number
    assert body["rating"] == 5 and body["comment"] == "Great"
    assert body["answered_at"]


def test_api_second_answer_is_a_409(api_as, token):
    api_as(None).post(f"/surveys/{token}", {"rating": 5})
    assert_problem(api_as(None).post(f"/surveys/{token}", {"rating": 1}), 409)
    assert Survey.objects.get().rating == 5


def test_api_unknown_token_is_a_404(api_as, db):
    assert_problem(api_as(None).post("/surveys/nope", {"rating": 5}), 404)


@pytest.mark.parametrize("rating", [0, 9, "great"])
def test_api_bad_rating_is_a_422_naming_the_field(api_as, token, rating):
    response = api_as(None).post(f"/surveys/{token}", {"rating": rating})
    body = assert_problem(response, 422)
    assert "rating" in str(body)
    assert Survey.objects.get().answered_at is None


def test_api_missing_rating_is_a_422(api_as, token):
    body = assert_problem(api_as(None).post(f"/surveys/{token}", {"comment": "x"}), 422)
    assert "rating" in str(body)


# -- the page behind the link -----------------------------------------------------------------


def test_the_page_works_without_signing_in_and_only_once(client, token, resolved):
    url = reverse("surveys:answer", args=[token])
    page = client.get(url)
    assert page.status_code == 200
    assert resolved.short_description in page.content.decode()

    response = client.post(url, {"rating": "3", "comment": "OK"})
    assert response.status_code == 200
    assert Survey.objects.get().rating == 3

    again = client.post(url, {"rating": "1"})
    assert "already been answered" in again.content.decode()
    assert Survey.objects.get().rating == 3


def test_the_page_shows_a_missing_rating(client, token):
    response = client.post(reverse("surveys:answer", args=[token]), {"comment": "x"})
    assert "Choose a rating from 1 to 5." in response.content.decode()
    assert Survey.objects.get().answered_at is None


def test_an_unknown_link_is_a_404(client, db):
    assert client.get(reverse("surveys:answer", args=["nope"])).status_code == 404


# -- metrics ----------------------------------------------------------------------------------


def test_csat_and_response_rate_are_registered(token, open_mexico_incident, agent_mexico):
    other = open_mexico_incident(short_description="Second")
    incidents.resolve(other, actor=agent_mexico, code="fixed", notes="Done")
    services.answer(token, 4)
    now = dt.datetime.now(dt.UTC)
    period = Slice(now - dt.timedelta(days=1), now + dt.timedelta(days=1))

    assert metrics.compute("surveys.csat_average", period) == 4
    assert metrics.compute("surveys.response_rate", period) == 50.0
    empty = Slice(now - dt.timedelta(days=9), now - dt.timedelta(days=8))
    assert metrics.compute("surveys.csat_average", empty) is None
    assert metrics.compute("surveys.response_rate", empty) is None
