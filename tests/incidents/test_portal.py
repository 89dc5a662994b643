"""The self-service portal: report, follow own tickets, comment, reopen, rate."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from itsmo.accounts import services as accounts
from itsmo.accounts.models import Role
from itsmo.catalog.models import Lifecycle, Service
from itsmo.core.models import JournalEntry, JournalKind
from itsmo.incidents import services
from itsmo.incidents.models import Channel, Incident, Status
from itsmo.surveys.models import Survey
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def caller(client, end_user_mexico):
    accounts.update_preferences(end_user_mexico, language="en")
    client.force_login(end_user_mexico)
    return end_user_mexico


@pytest.fixture
def resolved(incident_mexico, agent_mexico):
    return services.resolve(incident_mexico, actor=agent_mexico, code="fixed", notes="Rebooted")


def test_anonymous_is_sent_to_sign_in(client, incident_mexico):
    for url in (
        reverse("portal:home"),
        reverse("portal:report"),
        reverse("portal:detail", args=[incident_mexico.number]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_home_lists_own_tickets_only(client, caller, incident_mexico, open_mexico_incident, mexico):
    someone = make_user("someone.else", [Role.END_USER], mexico)
    theirs = open_mexico_incident(caller=someone, short_description="Not yours")
    text = client.get(reverse("portal:home")).content.decode()
    assert incident_mexico.number in text
    assert theirs.number not in text
    assert reverse("catalog:portal") in text  # the catalogue is one click away
    assert client.get(reverse("portal:detail", args=[theirs.number])).status_code == 404


def test_staff_see_only_their_own_tickets_in_the_portal(client, agent_mexico, incident_mexico):
    client.force_login(agent_mexico)
    assert incident_mexico.number not in client.get(reverse("portal:home")).content.decode()
    response = client.get(reverse("portal:detail", args=[incident_mexico.number]))
    assert response.status_code == 404


def test_report_an_incident_with_an_attachment(client, caller, desk_mexico, settings, tmp_path):
    erp = Service.objects.create(
        code="erp",
        name="ERP",
        lifecycle=Lifecycle.CATALOGUE,
        is_portal_visible=True,
        support_group=desk_mexico,
    )
    hidden = Service.objects.create(code="core-net", name="Core network", is_portal_visible=False)
    form_page = client.get(reverse("portal:report")).content.decode()
    assert "ERP" in form_page and "Core network" not in form_page

    response = client.post(
        reverse("portal:report"),
        {
            "service": erp.pk,
            "short_description": "Invoices do not print",
            "description": "Since this morning",
            "attachments": [SimpleUploadedFile("error.png", b"\x89PNG fake", "image/png")],
        },
    )

    incident = Incident.objects.get(short_description="Invoices do not print")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:detail", args=[incident.number])
    assert incident.channel == Channel.PORTAL
    assert incident.caller == caller
    assert incident.assignment_group == desk_mexico  # from the service
    assert [a.name for a in incident.attachments.all()] == ["error.png"]
    attachment = incident.attachments.get()
    download = client.get(reverse("portal:attachment", args=[incident.number, attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"\x89PNG fake"
    response = client.post(reverse("portal:report"), {"service": hidden.pk})
    assert response.status_code == 422


def test_a_forbidden_attachment_type_opens_nothing(client, caller):
    response = client.post(
        reverse("portal:report"),
        {
            "short_description": "Virus?",
            "attachments": [SimpleUploadedFile("setup.exe", b"MZ")],
        },
    )
    assert response.status_code == 422
    assert "not accepted" in response.content.decode()
    assert not Incident.objects.exists()


def test_internal_attachments_stay_internal(client, caller, incident_mexico, agent_mexico):
    internal = services.add_attachment(
        incident_mexico,
        actor=agent_mexico,
        file=SimpleUploadedFile("notes.txt", b"internal"),
        internal=True,
    )
    url = reverse("portal:attachment", args=[incident_mexico.number, internal.pk])
    assert client.get(url).status_code == 404
    client.force_login(agent_mexico)
    staff_url = reverse("incidents:attachment", args=[incident_mexico.number, internal.pk])
    assert client.get(staff_url).status_code == 200


def test_comment_and_no_work_notes_shown(client, caller, incident_mexico, agent_mexico):
    services.add_comment(incident_mexico, actor=agent_mexico, body="Secret note", internal=True)
    services.add_comment(incident_mexico, actor=agent_mexico, body="We are on it")
    url = reverse("portal:detail", args=[incident_mexico.number])
    text = client.get(url).content.decode()
    assert "We are on it" in text and "Secret note" not in text

    response = client.post(
        reverse("portal:comment", args=[incident_mexico.number]), {"body": "Thanks"}
    )
    assert response.status_code == 302
    entry = JournalEntry.objects.for_record(incident_mexico).get(body="Thanks")
    assert entry.kind == JournalKind.COMMENT


def test_reopen_within_the_window_needs_a_reason(client, caller, resolved):
    url = reverse("portal:reopen", args=[resolved.number])
    assert "Reopen" in client.get(reverse("portal:detail", args=[resolved.number])).content.decode()
    response = client.post(url, {"reason": ""})
    assert response.status_code == 422
    assert "Tell us what is still wrong." in response.content.decode()

    assert client.post(url, {"reason": "Still broken"}).status_code == 302
    resolved.refresh_from_db()
    assert resolved.status == Status.IN_PROGRESS
    assert resolved.reopen_count == 1


def test_closed_incidents_cannot_be_reopened(client, caller, resolved):
    services.transition(resolved, Status.CLOSED, actor=None)
    text = client.get(reverse("portal:detail", args=[resolved.number])).content.decode()
    assert "Not solved? Reopen it" not in text
    response = client.post(reverse("portal:reopen", args=[resolved.number]), {"reason": "x"})
    assert response.status_code == 422
    resolved.refresh_from_db()
    assert resolved.status == Status.CLOSED


def test_the_portal_shows_and_takes_the_pending_survey(client, caller, resolved):
    assert "How did we do?" in client.get(reverse("portal:home")).content.decode()
    url = reverse("portal:survey", args=[resolved.number])

    assert client.post(url, {"rating": "9"}).status_code == 422
    assert client.post(url, {"rating": "5", "comment": "Fast"}).status_code == 302
    survey = Survey.objects.get(incident=resolved)
    assert (survey.rating, survey.comment) == (5, "Fast")
    assert client.post(url, {"rating": "1"}).status_code == 422  # single use
    survey.refresh_from_db()
    assert survey.rating == 5
    assert "How did we do?" not in client.get(reverse("portal:home")).content.decode()


def test_the_portal_speaks_the_users_language(client, caller):
    accounts.update_preferences(caller, language="es")
    text = client.get(reverse("portal:home")).content.decode()
    assert '<html lang="es">' in text
