"""Notifications: the outbox, deduplication, languages, and delivery to a real SMTP server
(aiosmtpd on 127.0.0.1) including retries after the server was down."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from itsmo.communications import services
from itsmo.communications.models import Notification
from itsmo.incidents import services as incidents

from .conftest import free_port, wait_for_port

pytestmark = pytest.mark.django_db


class Collector:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted"


class SMTPServer:
    """aiosmtpd on a fixed free port, which can be started after a first failed attempt."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = Collector()
        self.controller = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return self.handler.messages


@pytest.fixture
def smtp(settings):
    server = SMTPServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "itsmo@itsmo.example"
    yield server
    server.stop()


@pytest.fixture
def incident(end_user_mexico, agent_mexico, desk_mexico):
    return incidents.open_incident(
        caller=end_user_mexico,
        actor=agent_mexico,
        channel="phone",
        short_description="Printer jams",
        assignment_group=desk_mexico,
    )


def test_notifications_arrive_in_the_recipients_language(
    smtp, incident, agent_mexico, end_user_mexico, django_capture_on_commit_callbacks
):
    smtp.start()
    assert end_user_mexico.language == "es"
    with django_capture_on_commit_callbacks(execute=True):
        incidents.add_comment(incident, actor=agent_mexico, body="Reinicie la impresora")
    ((to, message),) = smtp.messages
    assert to == [end_user_mexico.email]
    assert message["Subject"] == f"[{incident.number}] nuevo comentario: Printer jams"
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Reinicie la impresora" in text and "Reinicie la impresora" in html
    assert '<html lang="es">' in html
    row = Notification.objects.get()
    assert (row.status, row.attempts, row.language) == ("sent", 1, "es")
    assert message["Message-ID"] == row.message_id and row.reference == incident.number


def test_english_and_portuguese_recipients_each_get_their_language(
    smtp, incident, agent_mexico, brazil, django_capture_on_commit_callbacks
):
    from tests.conftest import make_user

    smtp.start()
    english = make_user("watcher.en", ["end_user"], brazil, language="en")
    portuguese = make_user("watcher.pt", ["end_user"], brazil)
    incidents.set_watchers(incident, actor=agent_mexico, add=[english, portuguese])
    with django_capture_on_commit_callbacks(execute=True):
        incidents.add_comment(incident, actor=agent_mexico, body="Update")
    subjects = {to[0]: m["Subject"] for to, m in smtp.messages}
    assert subjects[english.email] == f"[{incident.number}] new comment: Printer jams"
    assert subjects[portuguese.email].startswith(f"[{incident.number}] novo comentário")


def test_a_failed_delivery_is_retried_with_backoff_once_the_server_is_up(
    smtp, incident, agent_mexico, end_user_mexico, django_capture_on_commit_callbacks
):
    # the server is down: the first attempt fails and is recorded
    with django_capture_on_commit_callbacks(execute=True):
        incidents.add_comment(incident, actor=agent_mexico, body="First try")
    row = Notification.objects.get()
    assert (row.status, row.attempts) == ("queued", 1)
    assert "ConnectionRefusedError" in row.last_error
    first_retry = row.next_attempt_at
    assert services.send_due() == 0  # not due yet
    # still down at the first retry: the next wait doubles
    services.send_due(now=first_retry)
    row.refresh_from_db()
    assert row.attempts == 2
    assert row.next_attempt_at - first_retry == services.retry_delay(2) == dt.timedelta(minutes=2)
    smtp.start()
    assert services.send_due(now=row.next_attempt_at) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, "")
    assert [to for to, _ in smtp.messages] == [[end_user_mexico.email]]


def test_after_the_last_attempt_the_notification_fails_visibly(
    smtp, incident, end_user_mexico, settings
):
    settings.ITSMO_NOTIFICATION_MAX_ATTEMPTS = 2
    (row,) = services.notify("resolution", [end_user_mexico], {"incident": incident})
    services.deliver([row.pk])
    row.refresh_from_db()
    services.send_due(now=row.next_attempt_at)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 2) and row.last_error
    assert services.send_due(now=row.next_attempt_at + dt.timedelta(days=1)) == 0
    services.retry_now(row)  # the admin action
    smtp.start()
    assert services.send_due() == 1


def test_a_row_left_queued_by_a_crashed_worker_is_sent_by_the_periodic_job(
    smtp, incident, end_user_mexico
):
    smtp.start()
    services.notify("resolution", [end_user_mexico], {"incident": incident})
    # no on-commit delivery happened (the worker died): the sweep sends it
    assert services.send_due() == 1
    assert services.send_due() == 0
    assert len(smtp.messages) == 1


def test_a_claimed_row_is_not_sent_twice(smtp, incident, end_user_mexico):
    smtp.start()
    (row,) = services.notify("resolution", [end_user_mexico], {"incident": incident})
    assert services.deliver([row.pk]) == 1
    assert services.deliver([row.pk]) == 0
    assert len(smtp.messages) == 1


def test_an_event_never_mails_the_same_person_twice(incident, end_user_mexico, agent_mexico):
    key = "sla-warning:42:50"
    first = services.notify("sla_warning", [end_user_mexico, agent_mexico], {}, dedup_key=key)
    again = services.notify("sla_warning", [end_user_mexico], {}, dedup_key=key)
    assert len(first) == 2 and again == []
    assert Notification.objects.filter(dedup_key__startswith=key).count() == 2


def test_inactive_and_addressless_recipients_are_skipped(incident, end_user_mexico, agent_mexico):
    agent_mexico.is_active = False
    agent_mexico.save()
    end_user_mexico.email = ""
    assert services.notify("comment", [agent_mexico, end_user_mexico, None], {}) == []


def test_a_rolled_back_change_announces_nothing(incident, end_user_mexico, mailoutbox):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        services.notify("resolution", [end_user_mexico], {"incident": incident})
        raise RuntimeError("rollback")
    assert not Notification.objects.exists() and mailoutbox == []


@pytest.mark.parametrize("event", services.EVENTS)
def test_every_event_renders_in_every_language(event, any_sla, incident, end_user_mexico):
    from itsmo.core import journal
    from itsmo.slm.models import SLAClock

    entry = journal.add_comment(incident, None, "Body text")
    clock = SLAClock.objects.filter(incident=incident).first()
    assert clock is not None
    context = {"incident": incident, "entry": entry, "clock": clock, "threshold": 75}
    for language in ("en", "es", "pt"):
        row = Notification(event=event, email="x@example.com", language=language)
        row.context = services._dump(context)
        subject, text, html = services.render(row)
        assert incident.number in subject and "{%" not in text + html
        assert f'lang="{language}"' in html


def test_the_sla_scan_mails_warnings_once(
    p2_sla, open_mexico_incident, frozen, manager_mexico, desk_mexico_managed, mailoutbox
):
    from itsmo.slm import services as slm

    incident = open_mexico_incident(impact=2, urgency=1, assignment_group=desk_mexico_managed)
    mailoutbox.clear()
    frozen.set(frozen.now + dt.timedelta(days=5))
    slm.scan_clocks(frozen.now)
    slm.scan_clocks(frozen.now)
    keys = list(
        Notification.objects.filter(event__startswith="sla_").values_list("dedup_key", flat=True)
    )
    assert len(keys) == 3 and len(set(keys)) == len(mailoutbox) == 3  # breach, 50 %, 75 %
    assert all(k.startswith(("sla-warning:", "sla-breach:")) for k in keys)
    assert all(m.subject.startswith(f"[{incident.number}] SLA") for m in mailoutbox)
