"""The quarantine page: anonymous, end user, staff (read), administrator (retry, discard)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from itsmo.communications import intake
from itsmo.communications.models import InboundMessage
from itsmo.incidents.models import Incident

from .conftest import load_sample

pytestmark = pytest.mark.django_db

URL = reverse("communications:quarantine")


@pytest.fixture
def admin_en(admin_user):
    admin_user.language = "en"
    admin_user.save()
    return admin_user


@pytest.fixture
def quarantined(db):
    return intake.ingest(load_sample("plain.eml"))  # unknown sender


def test_anonymous_is_sent_to_the_login_page(client, quarantined):
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_end_users_may_not_see_the_quarantine(client, quarantined, end_user_mexico):
    client.force_login(end_user_mexico)
    assert client.get(URL).status_code == 403
    retry = reverse("communications:quarantine-retry", args=[quarantined.pk])
    assert client.post(retry).status_code == 403
    quarantined.refresh_from_db()
    assert quarantined.status == "quarantined"


def test_staff_see_the_list_with_the_reason_but_no_actions(client, quarantined, agent_mexico):
    client.force_login(agent_mexico)
    page = client.get(URL).content.decode()
    assert "unknown sender user.mexico@example.com" in page
    assert "Printer on floor 3 jams" in page and "Retry" not in page
    discard = reverse("communications:quarantine-discard", args=[quarantined.pk])
    client.post(discard)
    quarantined.refresh_from_db()
    assert quarantined.status == "quarantined"


def test_an_administrator_retries_after_creating_the_account(client, quarantined, admin_en, mexico):
    from tests.conftest import make_user

    client.force_login(admin_en)
    assert "Retry" in client.get(URL).content.decode()
    retry = reverse("communications:quarantine-retry", args=[quarantined.pk])
    response = client.post(retry, follow=True)
    assert "Still quarantined" in response.content.decode()
    make_user("user.mexico", ["end_user"], mexico)
    response = client.post(retry, follow=True)
    assert "Processed" in response.content.decode()
    assert Incident.objects.count() == 1
    assert "Printer on floor 3 jams" not in client.get(URL).content.decode()


def test_an_administrator_discards(client, quarantined, admin_en):
    client.force_login(admin_en)
    discard = reverse("communications:quarantine-discard", args=[quarantined.pk])
    assert client.get(discard).status_code == 405
    client.post(discard)
    assert InboundMessage.objects.get().status == "discarded"
    again = client.post(discard, follow=True)
    assert "only quarantined messages" in again.content.decode()


def test_the_admin_lists_quarantine_and_outbox(client, quarantined, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    for name in ("quarantinedmessage", "inboundmessage", "notification"):
        response = client.get(reverse(f"admin:communications_{name}_changelist"))
        assert response.status_code == 200
    page = client.get(reverse("admin:communications_quarantinedmessage_changelist"))
    assert "unknown sender" in page.content.decode()
