"""Opening, updating, major incidents, escalation, comments, parents, attachments, closing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from itsmo.core.errors import PermissionDenied, StaleVersion, ValidationFailed
from itsmo.core.journal import timeline
from itsmo.incidents import services
from itsmo.incidents.models import Attachment, Category, Incident, Status
from itsmo.organization.models import Site, SiteKind


def test_opening_sets_number_country_region_group_tier_and_journal(
    open_mexico_incident, erp, mexico, region_mexico, desk_mexico
):
    incident = open_mexico_incident(service=erp, impact=2, urgency=3)
    assert incident.number.startswith("INC") and len(incident.number) == 10
    assert incident.country == mexico and incident.region == region_mexico
    assert incident.assignment_group == desk_mexico and incident.tier == "l1"
    assert incident.priority == 4 and incident.status == Status.NEW
    assert [e.kind for e in timeline(incident)] == ["created"]
    assert incident.is_replay is False


def test_bad_input_changes_nothing(open_mexico_incident):
    for values, field in [
        ({"short_description": "  "}, "short_description"),
        ({"impact": 0}, "impact"),
        ({"urgency": 7}, "urgency"),
        ({"channel": "pigeon"}, "channel"),
    ]:
        with pytest.raises(ValidationFailed) as error:
            open_mexico_incident(**values)
        assert error.value.field == field
    assert Incident.objects.count() == 0


def test_end_users_report_only_for_themselves(open_mexico_incident, end_user_mexico, agent_mexico):
    with pytest.raises(PermissionDenied):
        open_mexico_incident(caller=agent_mexico, actor=end_user_mexico)
    incident = open_mexico_incident(actor=end_user_mexico, channel="portal")
    assert incident.caller == end_user_mexico and incident.opened_by == end_user_mexico


def test_the_same_idempotency_key_returns_the_same_incident(open_mexico_incident, agent_mexico):
    first = open_mexico_incident(idempotency_key="abc-1")
    again = open_mexico_incident(idempotency_key="abc-1", short_description="other text")
    assert again.pk == first.pk and again.is_replay
    assert open_mexico_incident(idempotency_key="abc-2").pk != first.pk
    assert Incident.objects.count() == 2


def test_an_external_reference_is_imported_once(open_mexico_incident):
    first = open_mexico_incident(external_source="legacy", external_reference="42")
    again = open_mexico_incident(external_source="legacy", external_reference="42")
    assert again.pk == first.pk
    assert open_mexico_incident(external_source="other", external_reference="42").pk != first.pk


def test_site_and_categories_are_checked(open_mexico_incident, brazil, mexico):
    site_br = Site.objects.create(code="sp", name="SP", kind=SiteKind.OFFICE, country=brazil)
    with pytest.raises(ValidationFailed) as error:
        open_mexico_incident(site=site_br, country=mexico)
    assert error.value.field == "site"
    hardware = Category.objects.create(name="Hardware")
    printer = Category.objects.create(name="Printer", parent=hardware)
    software = Category.objects.create(name="Software")
    with pytest.raises(ValidationFailed):
        open_mexico_incident(category=software, subcategory=printer)
    incident = open_mexico_incident(subcategory=printer)
    assert incident.category == hardware


def test_p1_on_a_critical_service_is_a_major_incident(open_mexico_incident, erp, email_service):
    assert open_mexico_incident(service=erp, impact=1, urgency=1).is_major
    assert not open_mexico_incident(service=erp, impact=1, urgency=2).is_major
    assert not open_mexico_incident(service=email_service, impact=1, urgency=1).is_major
    assert open_mexico_incident(service=email_service, is_major=True).is_major


def test_raising_the_priority_makes_it_major_and_names_a_coordinator(
    open_mexico_incident, erp, agent_mexico
):
    incident = open_mexico_incident(service=erp, impact=2, urgency=1)
    services.update_incident(incident, actor=agent_mexico, version=incident.version, impact=1)
    assert incident.priority == 1 and incident.is_major
    assert incident.major_incident_coordinator == agent_mexico
    fields = {e.field for e in timeline(incident) if e.kind == "field_change"}
    assert {"impact", "priority", "is_major"} <= fields


def test_a_stale_version_is_refused_and_changes_nothing(incident_mexico, agent_mexico):
    version = incident_mexico.version
    services.update_incident(incident_mexico, actor=agent_mexico, version=version, urgency=1)
    with pytest.raises(StaleVersion) as error:
        services.update_incident(
            incident_mexico, actor=agent_mexico, version=version, short_description="x"
        )
    assert error.value.current_version == version + 1
    incident_mexico.refresh_from_db()
    assert incident_mexico.short_description == "Printer jams"


def test_end_users_cannot_edit(incident_mexico, end_user_mexico):
    with pytest.raises(PermissionDenied):
        services.update_incident(
            incident_mexico, actor=end_user_mexico, version=incident_mexico.version, impact=1
        )


def test_functional_escalation_counts_and_the_tier_follows(
    incident_mexico,
    agent_mexico,
    l2_mexico,
    desk_mexico,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        services.assign(incident_mexico, actor=agent_mexico, assignee=agent_mexico)
    assert incident_mexico.reassignment_count == 0
    assert [m.to for m in mailoutbox] == [[agent_mexico.email]]
    services.assign(incident_mexico, actor=agent_mexico, group=l2_mexico, note="needs SAP")
    assert incident_mexico.assignment_group == l2_mexico and incident_mexico.tier == "l2"
    assert incident_mexico.assignee is None and incident_mexico.reassignment_count == 1
    services.assign(incident_mexico, actor=agent_mexico, group=desk_mexico)
    assert incident_mexico.reassignment_count == 2 and incident_mexico.tier == "l1"
    entries = list(timeline(incident_mexico))
    assert any(e.kind == "work_note" and e.body == "needs SAP" for e in entries)
    assert sum(e.field == "assignment_group" for e in entries) == 2


def test_the_assignee_must_be_in_the_group(incident_mexico, agent_mexico, agent_brazil):
    with pytest.raises(ValidationFailed) as error:
        services.assign(incident_mexico, actor=agent_mexico, assignee=agent_brazil)
    assert error.value.field == "assignee"


def test_comments_and_work_notes(
    incident_mexico, agent_mexico, end_user_mexico, mailoutbox, django_capture_on_commit_callbacks
):
    with pytest.raises(PermissionDenied):
        services.add_comment(incident_mexico, actor=end_user_mexico, body="x", internal=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_comment(incident_mexico, actor=agent_mexico, body="Looking", internal=True)
        assert mailoutbox == []
        services.add_comment(incident_mexico, actor=agent_mexico, body="On my way")
    assert [m.to for m in mailoutbox] == [[end_user_mexico.email]]
    assert "On my way" in mailoutbox[0].body
    incident_mexico.refresh_from_db()
    assert incident_mexico.responded_at is not None  # the first public answer of staff
    kinds = [e.kind for e in timeline(incident_mexico, include_internal=False)]
    assert "work_note" not in kinds and "comment" in kinds


def test_resolving_the_parent_resolves_its_children(
    open_mexico_incident, agent_mexico, mailoutbox, django_capture_on_commit_callbacks
):
    parent = open_mexico_incident(short_description="WAN down")
    children = [open_mexico_incident(short_description=f"No network {i}") for i in range(2)]
    for child in children:
        services.link_parent(child, parent, actor=agent_mexico)
    with pytest.raises(ValidationFailed):
        services.link_parent(parent, children[0], actor=agent_mexico)  # a cycle
    with django_capture_on_commit_callbacks(execute=True):
        services.resolve(parent, actor=agent_mexico, code="fixed", notes="Router replaced")
    for child in children:
        child.refresh_from_db()
        assert child.status == Status.RESOLVED
        assert child.resolution_code == "resolved_by_parent"
        assert parent.number in child.resolution_notes
    numbers = {parent.number, *(child.number for child in children)}
    resolution_mails = {m.subject[1:11] for m in mailoutbox if m.subject.startswith("[")}
    assert resolution_mails == numbers  # each one's caller hears of its resolution


def test_attachments_are_checked_and_stored(incident_mexico, agent_mexico, settings):
    settings.ITSMO_ATTACHMENT_MAX_BYTES = 1000
    with pytest.raises(ValidationFailed) as error:
        services.add_attachment(
            incident_mexico, actor=agent_mexico, file=SimpleUploadedFile("x.exe", b"MZ")
        )
    assert error.value.field == "file"
    with pytest.raises(ValidationFailed):
        services.add_attachment(
            incident_mexico, actor=agent_mexico, file=SimpleUploadedFile("big.txt", b"x" * 1001)
        )
    attachment = services.add_attachment(
        incident_mexico,
        actor=agent_mexico,
        file=SimpleUploadedFile("../../error log.txt", b"stack trace", "application/x-evil"),
    )
    assert attachment.name == "error log.txt" and attachment.content_type == "text/plain"
    assert attachment.size == 11
    with attachment.file.open("rb") as stored:
        assert stored.read() == b"stack trace"
    assert Attachment.objects.filter(incident=incident_mexico).count() == 1


def test_major_incident_updates_go_to_stakeholders(
    open_mexico_incident,
    erp,
    agent_mexico,
    end_user_mexico,
    mailoutbox,
    frozen,
    django_capture_on_commit_callbacks,
):
    incident = open_mexico_incident(service=erp, impact=1, urgency=1)
    services.update_incident(
        incident, actor=agent_mexico, version=incident.version, major_update_interval_minutes=30
    )
    assert incident.next_major_update_at == frozen.now + dt.timedelta(minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_major_update(incident, actor=agent_mexico, body="Vendor engaged")
    assert [m.to for m in mailoutbox] == [[end_user_mexico.email]]
    with pytest.raises(ValidationFailed):
        services.post_major_update(
            open_mexico_incident(), actor=agent_mexico, body="Not a major incident"
        )


def test_resolved_incidents_close_after_n_days(
    open_mexico_incident, agent_mexico, frozen, end_user_mexico
):
    old = open_mexico_incident()
    services.resolve(old, actor=agent_mexico, code="fixed", notes="ok")
    reopened = open_mexico_incident()
    services.resolve(reopened, actor=agent_mexico, code="fixed", notes="ok")
    frozen.advance(days=3)
    services.reopen(reopened, actor=end_user_mexico)
    recent = open_mexico_incident()
    services.resolve(recent, actor=agent_mexico, code="fixed", notes="ok")
    frozen.advance(days=4, minutes=1)
    assert services.close_resolved_older_than(7) == 1
    assert services.close_resolved_older_than(7) == 0  # safe to run twice
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == Status.CLOSED and old.closed_at == frozen.now
    assert recent.status == Status.RESOLVED


def test_watchers(incident_mexico, end_user_mexico, agent_brazil):
    services.set_watchers(incident_mexico, actor=end_user_mexico, add=[end_user_mexico])
    assert list(incident_mexico.watchers.all()) == [end_user_mexico]
    with pytest.raises(PermissionDenied):
        services.set_watchers(incident_mexico, actor=end_user_mexico, add=[agent_brazil])
