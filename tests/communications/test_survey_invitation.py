"""The satisfaction-survey invitation is the resolution e-mail: one mail through the outbox
(retries, deduplication) to a real SMTP server, carrying a single-use link whose token is
issued when the mail is sent; only its hash is stored."""

from __future__ import annotations

import re

import pytest

from itsmo.communications import services
from itsmo.communications.models import Notification
from itsmo.incidents import notify, services as incidents
from itsmo.surveys import services as surveys
from itsmo.surveys.models import Survey

from .test_notifications import smtp  # noqa: F401  (aiosmtpd on 127.0.0.1)

pytestmark = pytest.mark.django_db

LINK = re.compile(r"/surveys/([^/\s\"]+)/")


@pytest.fixture
def incident(end_user_mexico, agent_mexico, desk_mexico):
    return incidents.open_incident(
        caller=end_user_mexico,
        actor=agent_mexico,
        channel="phone",
        short_description="Printer jams",
        assignment_group=desk_mexico,
    )


def _resolve(incident, agent, capture, notes="Rebooted"):
    with capture(execute=True):
        return incidents.resolve(incident, actor=agent, code="fixed", notes=notes)


def _mails_to(server, address):
    return [message for to, message in server.messages if to == [address]]


def _token(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return LINK.search(text).group(1)


def test_resolving_sends_one_mail_that_is_resolution_and_invitation(
    smtp,  # noqa: F811
    incident,
    agent_mexico,
    end_user_mexico,
    django_capture_on_commit_callbacks,
):
    smtp.start()
    _resolve(incident, agent_mexico, django_capture_on_commit_callbacks)

    (message,) = _mails_to(smtp, end_user_mexico.email)
    assert message["Subject"].startswith(f"[{incident.number}]")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Rebooted" in text  # the resolution notes
    assert "El enlace funciona una sola vez" in text  # the caller reads Spanish
    token = _token(message)
    assert f"/surveys/{token}/" in html
    survey = Survey.objects.get(incident=incident)
    assert survey.token_hash == surveys.hash_token(token) and survey.sent_at is not None
    row = Notification.objects.get(event="resolution")
    assert row.status == "sent" and token not in str(row.context)  # never in the outbox
    assert surveys.answer(token, 5).rating == 5
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.answer(token, 1)


def test_a_retried_delivery_issues_a_fresh_token_and_only_the_delivered_one_works(
    smtp,  # noqa: F811
    incident,
    agent_mexico,
    end_user_mexico,
    django_capture_on_commit_callbacks,
):
    # the server is down when the resolution is committed: the attempt fails, is retried
    _resolve(incident, agent_mexico, django_capture_on_commit_callbacks)
    row = Notification.objects.get(event="resolution")
    assert (row.status, row.attempts) == ("queued", 1)
    hash_of_failed_attempt = Survey.objects.get().token_hash
    smtp.start()
    assert services.send_due(now=row.next_attempt_at) == 1

    (message,) = _mails_to(smtp, end_user_mexico.email)
    token = _token(message)
    survey = Survey.objects.get()
    assert survey.token_hash == surveys.hash_token(token) != hash_of_failed_attempt
    assert surveys.answer(token, 4).rating == 4


def test_the_invitation_is_deduplicated_like_every_notification(
    smtp,  # noqa: F811
    incident,
    agent_mexico,
    end_user_mexico,
    django_capture_on_commit_callbacks,
):
    smtp.start()
    resolved = _resolve(incident, agent_mexico, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        notify.resolved(resolved)  # a retried job announcing the same resolution
    assert services.send_due() == 0
    assert len(_mails_to(smtp, end_user_mexico.email)) == 1
    assert Notification.objects.filter(event="resolution").count() == 1


def test_no_link_once_answered_and_a_new_link_after_a_reopen(
    smtp,  # noqa: F811
    incident,
    agent_mexico,
    end_user_mexico,
    django_capture_on_commit_callbacks,
):
    smtp.start()
    _resolve(incident, agent_mexico, django_capture_on_commit_callbacks)
    first = _token(_mails_to(smtp, end_user_mexico.email)[0])

    incidents.reopen(incident, actor=end_user_mexico, reason="Still jams")
    _resolve(incident, agent_mexico, django_capture_on_commit_callbacks, notes="New roller")
    second_mail = _mails_to(smtp, end_user_mexico.email)[1]
    second = _token(second_mail)
    assert second != first
    with pytest.raises(surveys.NotFound):
        surveys.answer(first, 5)  # the link of the first resolution is gone
    surveys.answer(second, 2, "Took two tries")

    incidents.reopen(incident, actor=end_user_mexico, reason="Again")
    _resolve(incident, agent_mexico, django_capture_on_commit_callbacks, notes="Replaced")
    third_mail = _mails_to(smtp, end_user_mexico.email)[2]
    assert "Replaced" in third_mail.get_body(("plain",)).get_content()
    assert not LINK.search(third_mail.get_body(("plain",)).get_content())
    assert Survey.objects.get().rating == 2  # answered once, kept
    assert len(_mails_to(smtp, end_user_mexico.email)) == 3


def test_a_mail_sent_after_a_reopen_carries_no_link(
    smtp,  # noqa: F811
    incident,
    agent_mexico,
    end_user_mexico,
):
    # resolved and reopened before the worker sent the resolution mail
    incidents.resolve(incident, actor=agent_mexico, code="fixed", notes="Rebooted")
    incidents.reopen(incident, actor=end_user_mexico, reason="No")
    smtp.start()
    assert services.send_due() == 1
    (message,) = _mails_to(smtp, end_user_mexico.email)
    assert not LINK.search(message.get_body(("plain",)).get_content())
    assert Survey.objects.get().sent_at is None


def test_only_the_caller_gets_a_link(incident, agent_mexico, end_user_mexico):
    incidents.resolve(incident, actor=agent_mexico, code="fixed", notes="Rebooted")
    (row,) = services.notify("resolution", [agent_mexico], {"incident": incident})
    _subject, text, _html = services.render(row)
    assert not LINK.search(text)
    assert Survey.objects.get().sent_at is None
