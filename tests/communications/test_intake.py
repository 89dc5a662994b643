"""E-mail intake with real-world samples: each behaviour, idempotency, quarantine."""

from __future__ import annotations

import pytest

from itsmo.accounts.models import User
from itsmo.communications import intake
from itsmo.communications.models import InboundMessage, Notification
from itsmo.core.journal import timeline
from itsmo.incidents import services as incidents
from itsmo.incidents.models import Attachment, Channel, Incident

pytestmark = pytest.mark.django_db


def ingest(raw: bytes) -> InboundMessage:
    return intake.ingest(raw, source="test")


def only_incident() -> Incident:
    (incident,) = Incident.objects.all()
    return incident


def test_a_plain_message_opens_an_incident_for_the_sender(sample, end_user_mexico):
    row = ingest(sample("plain.eml"))
    incident = only_incident()
    assert (row.status, row.action, row.reference) == ("processed", "opened", incident.number)
    assert incident.caller == end_user_mexico  # the address matched case-insensitively
    assert incident.channel == Channel.EMAIL
    assert incident.short_description == "Printer on floor 3 jams"
    assert "jams on every second page" in incident.description
    assert row.raw == b"" and row.sender == "user.mexico@example.com"


def test_the_same_message_twice_opens_one_incident(sample, end_user_mexico):
    first = ingest(sample("plain.eml"))
    again = ingest(sample("plain.eml"))
    assert again.pk == first.pk and again.is_duplicate
    assert Incident.objects.count() == 1 and InboundMessage.objects.count() == 1


def test_html_only_mail_becomes_text_and_the_html_is_sanitised(sample, end_user_mexico):
    row = ingest(sample("html_only.eml"))
    text = only_incident().description
    assert "Hi team," in text and "The VPN drops every 10 minutes & I lose my SAP session." in text
    assert "- Windows 11" in text and "<https://status.example.com/vpn>" in text
    assert "alert" not in text and "color: red" not in text and "<b>" not in text
    assert "<b>VPN</b>" in row.body_html
    assert "script" not in row.body_html and "onclick" not in row.body_html


def test_multipart_alternative_prefers_the_plain_part(sample, end_user_mexico):
    ingest(sample("alternative.eml"))
    incident = only_incident()
    assert incident.description == "Outlook keeps asking for my password (plain part)."
    assert not Attachment.objects.exists()  # the HTML alternative is not an attachment


@pytest.mark.parametrize(
    ("name", "subject", "fragment"),
    [
        ("latin1.eml", "Impresión fallida en la sección", "sección de señalización"),
        ("windows1252.eml", "Invoice amounts show wrong symbol", "“100 €” \u2013 it should say"),
        ("shift_jis.eml", "プリンター故障", "プリンターが動きません。"),
    ],
)
def test_non_utf8_charsets_are_decoded(sample, end_user_mexico, name, subject, fragment):
    ingest(sample(name))
    incident = only_incident()
    assert incident.short_description == subject
    assert fragment in incident.description


def test_attachments_are_kept_and_a_refused_one_is_noted(sample, end_user_mexico):
    ingest(sample("attachment.eml"))
    incident = only_incident()
    (kept,) = Attachment.objects.filter(incident=incident)
    assert (kept.name, kept.content_type) == ("report.pdf", "application/pdf")
    with kept.file.open("rb") as stored:
        assert stored.read().startswith(b"%PDF-1.4")
    notes = [e.body for e in timeline(incident) if e.kind == "work_note"]
    assert len(notes) == 1 and "fixer.exe" in notes[0] and "not allowed" in notes[0]


def test_an_inline_image_is_kept_as_an_attachment(sample, end_user_mexico):
    ingest(sample("inline_image.eml"))
    (image,) = Attachment.objects.filter(incident=only_incident())
    assert image.name == "shot1.png" and image.content_type == "image/png"
    assert only_incident().description == "See the screenshot: [image: error]"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("auto_reply.eml", "Auto-Submitted: auto-replied"),
        ("bounce.eml", "delivery report (multipart/report; delivery-status)"),
    ],
)
def test_auto_replies_and_bounces_are_ignored_with_the_reason(
    sample, end_user_mexico, name, reason
):
    row = ingest(sample(name))
    assert (row.status, row.reason) == ("ignored", reason)
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("X-Autoreply: yes", "X-Autoreply header"),
        ("Precedence: bulk", "Precedence: bulk"),
        ("Precedence: auto_reply", "Precedence: auto_reply"),
        ("Auto-Submitted: auto-generated", "Auto-Submitted: auto-generated"),
    ],
)
def test_automatic_headers_create_no_ticket(sample, end_user_mexico, header, reason):
    raw = sample("plain.eml").replace(
        b"MIME-Version: 1.0", f"{header}\r\nMIME-Version: 1.0".encode()
    )
    assert ingest(raw).reason == reason
    assert not Incident.objects.exists()


def test_auto_submitted_no_is_a_person(sample, end_user_mexico):
    raw = sample("plain.eml").replace(b"MIME-Version", b"Auto-Submitted: no\r\nMIME-Version")
    assert ingest(raw).action == "opened"


def test_our_own_notifications_coming_back_are_ignored(sample, end_user_mexico, settings):
    settings.DEFAULT_FROM_EMAIL = "user.mexico@example.com"
    assert ingest(sample("plain.eml")).reason == "sent by Itsmo itself (mail loop)"


def test_a_reply_with_the_number_in_the_subject_is_a_public_comment(
    sample, end_user_mexico, agent_mexico, mailoutbox, django_capture_on_commit_callbacks
):
    ingest(sample("plain.eml"))
    incident = only_incident()
    incidents.assign(incident, actor=agent_mexico, assignee=agent_mexico)
    with django_capture_on_commit_callbacks(execute=True):
        row = ingest(sample("reply_subject.eml", NUMBER=incident.number))
    assert (row.action, row.reference) == ("commented", incident.number)
    comments = [e for e in timeline(incident) if e.kind == "comment"]
    assert [c.body for c in comments] == ["It works again after the restart, thanks!"]
    assert comments[0].actor == end_user_mexico
    assert Incident.objects.count() == 1
    assert [m.to for m in mailoutbox] == [[agent_mexico.email]]  # the assignee hears of it


def test_a_reply_by_in_reply_to_to_our_notification_is_a_comment(
    sample, end_user_mexico, agent_mexico, django_capture_on_commit_callbacks
):
    ingest(sample("plain.eml"))
    incident = only_incident()
    with django_capture_on_commit_callbacks(execute=True):
        incidents.add_comment(incident, actor=agent_mexico, body="Please restart it")
    sent = Notification.objects.get(event="comment")
    row = ingest(sample("reply_in_reply_to.eml", MSGID=sent.message_id))
    assert (row.action, row.reference) == ("commented", incident.number)
    last = [e for e in timeline(incident) if e.kind == "comment"][-1]
    assert last.body == "Still broken on my side."  # the quoted original is cut


def test_a_reply_to_a_message_we_received_is_a_comment(sample, end_user_mexico):
    first = ingest(sample("plain.eml"))
    ingest(sample("reply_in_reply_to.eml", MSGID=first.message_id))
    assert Incident.objects.count() == 1
    assert [e.body for e in timeline(only_incident()) if e.kind == "comment"]


def test_a_reply_about_an_incident_the_sender_cannot_see_opens_a_new_one(
    sample, end_user_mexico, agent_mexico, mexico
):
    from tests.conftest import make_user

    other = make_user("other.user", ["end_user"], mexico)
    theirs = incidents.open_incident(
        caller=other, actor=agent_mexico, channel="phone", short_description="Theirs"
    )
    row = ingest(sample("reply_subject.eml", NUMBER=theirs.number))
    assert row.action == "opened" and row.reference != theirs.number
    assert not [e for e in timeline(theirs) if e.kind == "comment"]


def test_a_reply_to_a_closed_incident_opens_a_follow_up(sample, end_user_mexico, agent_mexico):
    ingest(sample("plain.eml"))
    old = only_incident()
    incidents.transition(old, "cancelled", actor=agent_mexico, note="duplicate")
    row = ingest(sample("reply_subject.eml", NUMBER=old.number))
    new = Incident.objects.get(number=row.reference)
    assert row.action == "opened" and new.pk != old.pk
    assert new.description.startswith(f"Follow-up to {old.number}")


def test_garbage_is_quarantined_with_the_reason_and_kept(sample):
    raw = sample("garbage.eml")
    row = ingest(raw)
    assert row.status == "quarantined" and row.reason == "the message has no headers"
    assert bytes(row.raw) == raw and row.message_id.startswith("<sha256:")
    assert ingest(raw).pk == row.pk  # known by its bytes: not quarantined twice


def test_an_unknown_sender_is_quarantined_then_retried_once_the_account_exists(
    sample, admin_user, mexico
):
    row = ingest(sample("plain.eml"))
    assert row.status == "quarantined" and "unknown sender user.mexico@example.com" in row.reason
    from tests.conftest import make_user

    make_user("user.mexico", ["end_user"], mexico)
    retried = intake.retry(row, actor=admin_user)
    assert (retried.status, retried.action) == ("processed", "opened")
    assert retried.raw == b"" and only_incident().caller.username == "user.mexico"


def test_unknown_senders_of_listed_domains_get_an_end_user_account(sample, settings, db):
    settings.ITSMO_MAIL_CREATE_USERS_FOR = ["example.com"]
    row = ingest(sample("plain.eml"))
    user = User.objects.get(email="user.mexico@example.com")
    assert (user.first_name, user.last_name) == ("Ana", "López")
    assert not user.has_usable_password() and not user.is_staff_member
    assert row.action == "opened" and only_incident().caller == user


def test_a_failing_service_quarantines_and_changes_nothing(sample, end_user_mexico, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(intake.incidents, "open_incident", broken)
    row = ingest(sample("plain.eml"))
    assert row.status == "quarantined" and row.reason == "RuntimeError: database hiccup"
    assert not Incident.objects.exists()


def test_discard_needs_an_administrator(sample, agent_mexico, admin_user):
    from itsmo.core.errors import PermissionDenied

    row = ingest(sample("garbage.eml"))
    with pytest.raises(PermissionDenied):
        intake.discard(row, actor=agent_mexico)
    row = intake.discard(row, actor=admin_user)
    assert row.status == "discarded" and bytes(row.raw) == b""
