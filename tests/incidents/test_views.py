"""The agent workspace: permissions per view, queues, keyset pages, record actions."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from itsmo.accounts import services as accounts
from itsmo.accounts.models import Role
from itsmo.core.models import JournalEntry, JournalKind
from itsmo.incidents import services, workspace
from itsmo.incidents.models import Channel, Incident, Status
from itsmo.surveys.models import Survey
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _login(client, user):
    accounts.update_preferences(user, language="en")
    client.force_login(user)
    return client


def _pages(number):
    return [
        ("incidents:queues", []),
        ("incidents:list", []),
        ("incidents:queue", ["breaching"]),
        ("incidents:new", []),
        ("incidents:detail", [number]),
        ("incidents:sla", [number]),
    ]


ACTIONS = ["update", "transition", "assign", "comment", "major_update"]


# -- permission matrix ------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in_everywhere(client, incident_mexico):
    for name, args in _pages(incident_mexico.number):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302, name
        assert response["Location"].startswith("/accounts/login/"), name
    for action in ACTIONS:
        response = client.post(reverse(f"incidents:{action}", args=[incident_mexico.number]))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_an_end_user_cannot_open_the_agent_workspace(client, end_user_mexico, incident_mexico):
    _login(client, end_user_mexico)
    for name, args in _pages(incident_mexico.number):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302, name
        assert response["Location"] == reverse("portal:home"), name
    version = incident_mexico.version
    for action in ACTIONS:
        response = client.post(
            reverse(f"incidents:{action}", args=[incident_mexico.number]),
            {"to": "cancelled", "version": version, "body": "x", "short_description": "x"},
        )
        assert response.status_code == 403, action
    response = client.post(reverse("incidents:bulk_assign"), {"numbers": [incident_mexico.number]})
    assert response.status_code == 403
    incident_mexico.refresh_from_db()
    assert incident_mexico.version == version
    assert incident_mexico.status == Status.NEW


def test_an_agent_of_another_region_gets_404_and_changes_nothing(
    client, agent_brazil, incident_mexico
):
    _login(client, agent_brazil)
    for name in ("incidents:detail", "incidents:sla"):
        assert client.get(reverse(name, args=[incident_mexico.number])).status_code == 404
    version = incident_mexico.version
    for action in ACTIONS:
        response = client.post(
            reverse(f"incidents:{action}", args=[incident_mexico.number]),
            {"to": "cancelled", "version": version, "body": "hello", "short_description": "x"},
        )
        assert response.status_code == 404, action
    incident_mexico.refresh_from_db()
    assert incident_mexico.version == version
    assert incident_mexico.status == Status.NEW
    response = client.get(reverse("incidents:list"))
    assert incident_mexico.number not in response.content.decode()


def test_bulk_assign_skips_what_the_agent_may_not_see(
    client, agent_brazil, field_brazil, incident_mexico
):
    _login(client, agent_brazil)
    response = client.post(
        reverse("incidents:bulk_assign"),
        {"numbers": [incident_mexico.number], "group": field_brazil.pk},
        follow=True,
    )
    assert "not assigned" in response.content.decode()
    incident_mexico.refresh_from_db()
    assert incident_mexico.assignment_group != field_brazil


# -- queues and the list ----------------------------------------------------------------------


def test_queues_show_the_agents_work(client, agent_mexico, desk_mexico, open_mexico_incident):
    mine = open_mexico_incident(
        short_description="Mine", assignment_group=desk_mexico, assignee=agent_mexico
    )
    free = open_mexico_incident(short_description="Nobody's", assignment_group=desk_mexico)
    major = open_mexico_incident(short_description="Big one", is_major=True)
    _login(client, agent_mexico)

    def numbers(url):
        return set(re.findall(r"INC\d+", client.get(url).content.decode()))

    assert numbers(reverse("incidents:queues")) == {mine.number}
    assert numbers(reverse("incidents:queue", args=["unassigned"])) == {free.number}
    assert numbers(reverse("incidents:queue", args=["groups"])) == {mine.number, free.number}
    assert numbers(reverse("incidents:queue", args=["major"])) == {major.number}
    assert numbers(reverse("incidents:list")) == {mine.number, free.number, major.number}
    assert client.get(reverse("incidents:queue", args=["nope"])).status_code == 404


def test_filters_narrow_the_list(client, agent_mexico, open_mexico_incident):
    p2 = open_mexico_incident(short_description="VPN drops", impact=2, urgency=2)
    p5 = open_mexico_incident(short_description="Mouse squeaks")
    _login(client, agent_mexico)
    url = reverse("incidents:list")

    text = client.get(url, {"q": "vpn"}).content.decode()
    assert p2.number in text and p5.number not in text
    text = client.get(url, {"priority": "5"}).content.decode()
    assert p5.number in text and p2.number not in text
    text = client.get(url, {"assignee": "none", "state": "open"}).content.decode()
    assert p2.number in text and p5.number in text


def test_keyset_pages_walk_the_queue_in_priority_order_without_gaps(
    client, agent_mexico, open_mexico_incident
):
    opened = [
        open_mexico_incident(short_description=f"Case {i}", impact=1 + i % 3, urgency=3)
        for i in range(7)
    ]
    _login(client, agent_mexico)
    seen, url, params = [], reverse("incidents:list"), {}
    for _page in range(10):
        incidents = workspace.with_sla(Incident.objects.visible_to(agent_mexico))
        page = workspace.keyset_page(incidents, size=3, **params)
        seen += [i.number for i in page.rows]
        if not page.next_cursor:
            break
        params = {"after": page.next_cursor}
    expected = sorted(opened, key=lambda i: (i.priority, i.opened_at, i.pk))
    assert seen == [i.number for i in expected]
    # 7 rows in pages of 3: the last page holds one; going back gives rows 4-6 again.
    assert len(page.rows) == 1
    back = workspace.keyset_page(Incident.objects.all(), size=3, before=page.previous_cursor)
    assert [i.number for i in back.rows] == seen[3:6]
    assert back.next_cursor and not back.is_first
    # The view accepts the cursor too.
    first = workspace.keyset_page(Incident.objects.all(), size=3)
    response = client.get(url, {"after": first.next_cursor})
    assert response.status_code == 200


def test_a_forged_cursor_means_the_first_page(agent_mexico, open_mexico_incident):
    open_mexico_incident()
    page = workspace.keyset_page(Incident.objects.all(), after="not-a-cursor")
    assert page.is_first and len(page.rows) == 1


def test_bulk_assign_goes_through_the_service_and_journals_each(
    client, agent_mexico, desk_mexico, open_mexico_incident
):
    first = open_mexico_incident(short_description="One")
    second = open_mexico_incident(short_description="Two")
    _login(client, agent_mexico)

    response = client.post(
        reverse("incidents:bulk_assign"),
        {
            "numbers": [first.number, second.number],
            "group": desk_mexico.pk,
            "to_me": "1",
            "next": reverse("incidents:list"),
        },
    )

    assert response.status_code == 302
    for incident in (first, second):
        incident.refresh_from_db()
        assert incident.assignee == agent_mexico
        assert incident.assignment_group == desk_mexico
        assert JournalEntry.objects.for_record(incident).filter(field="assignee").count() == 1


def test_bulk_assign_only_returns_to_this_site(client, agent_mexico, incident_mexico):
    _login(client, agent_mexico)
    response = client.post(
        reverse("incidents:bulk_assign"),
        {"numbers": [incident_mexico.number], "to_me": "1", "next": "//evil.example/"},
    )
    assert response["Location"] == reverse("incidents:queues")


def test_bulk_assign_needs_a_selection(client, agent_mexico):
    _login(client, agent_mexico)
    response = client.post(reverse("incidents:bulk_assign"), {"to_me": "1"}, follow=True)
    assert "Select at least one incident." in response.content.decode()


# -- the record -------------------------------------------------------------------------------


def test_record_view_shows_header_sla_in_the_users_time_zone_and_timeline(
    client, agent_mexico, desk_mexico, open_mexico_incident, p2_sla
):
    accounts.update_preferences(agent_mexico, time_zone="America/Mexico_City", language="en")
    incident = open_mexico_incident(impact=1, urgency=2, assignment_group=desk_mexico)
    services.add_comment(incident, actor=agent_mexico, body="Called the user", internal=True)
    services.add_comment(incident, actor=agent_mexico, body="We are on it", internal=False)
    _login(client, agent_mexico)

    response = client.get(reverse("incidents:detail", args=[incident.number]))

    text = response.content.decode()
    assert response.status_code == 200
    assert incident.number in text and "P2" in text
    assert "data-countdown" in text
    clock = workspace.sla_clocks(incident)[0]
    local = clock.due_at.astimezone(dt.timezone(dt.timedelta(hours=-6)))
    assert local.isoformat()[:16] in text  # the due instant in Mexico City time
    assert "timeline__entry--work_note" in text and "timeline__entry--comment" in text
    # Transitions come from the lifecycle table: from New.
    for label in ("Start work", "Put on hold", "Resolve", "Cancel"):
        assert label in text


def test_resolving_without_code_or_notes_shows_form_errors(client, agent_mexico, incident_mexico):
    _login(client, agent_mexico)
    response = client.post(
        reverse("incidents:transition", args=[incident_mexico.number]),
        {"to": "resolved", "version": incident_mexico.version},
    )
    text = response.content.decode()
    assert response.status_code == 422
    assert "Choose a resolution code." in text
    assert "Write what was done to resolve it." in text
    incident_mexico.refresh_from_db()
    assert incident_mexico.status == Status.NEW


def test_on_hold_needs_a_reason(client, agent_mexico, incident_mexico):
    _login(client, agent_mexico)
    response = client.post(
        reverse("incidents:transition", args=[incident_mexico.number]),
        {"to": "on_hold", "version": incident_mexico.version},
    )
    assert response.status_code == 422
    assert "Say what the incident is waiting for." in response.content.decode()


def test_resolving_with_a_code_resolves_and_creates_the_survey(
    client, agent_mexico, incident_mexico
):
    _login(client, agent_mexico)
    response = client.post(
        reverse("incidents:transition", args=[incident_mexico.number]),
        {
            "to": "resolved",
            "version": incident_mexico.version,
            "resolution_code": "fixed",
            "resolution_notes": "Replaced the toner",
        },
    )
    assert response.status_code == 302
    incident_mexico.refresh_from_db()
    assert incident_mexico.status == Status.RESOLVED
    assert incident_mexico.resolution_code == "fixed"
    assert Survey.objects.filter(incident=incident_mexico).exists()


def test_a_stale_version_shows_the_conflict_with_current_values(
    client, agent_mexico, incident_mexico
):
    read_version = incident_mexico.version
    services.update_incident(
        incident_mexico, actor=agent_mexico, version=read_version, short_description="Theirs"
    )
    _login(client, agent_mexico)

    response = client.post(
        reverse("incidents:update", args=[incident_mexico.number]),
        {"version": read_version, "short_description": "Mine", "impact": 2, "urgency": 2},
    )

    text = response.content.decode()
    assert response.status_code == 409
    assert "Someone else changed this incident" in text
    assert "Theirs" in text  # the current value
    assert 'value="Mine"' in text  # the agent's edit is kept in the form
    incident_mexico.refresh_from_db()
    assert incident_mexico.short_description == "Theirs"
    assert f'name="version" value="{incident_mexico.version}"' in text


def test_saving_fields_journals_only_what_changed_and_rules_still_apply(
    client, agent_mexico, open_mexico_incident, erp
):
    incident = open_mexico_incident(service=erp, impact=2, urgency=2)
    _login(client, agent_mexico)
    response = client.post(
        reverse("incidents:update", args=[incident.number]),
        {
            "version": incident.version,
            "short_description": incident.short_description,
            "service": erp.pk,
            "impact": 1,
            "urgency": 1,
        },
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.priority == 1
    assert incident.is_major  # P1 on a critical service, by rule
    fields = set(
        JournalEntry.objects.for_record(incident)
        .filter(kind=JournalKind.FIELD_CHANGE)
        .values_list("field", flat=True)
    )
    assert fields == {"impact", "urgency", "priority", "is_major", "major_incident_coordinator"}


def test_saving_fields_recomputes_priority(client, agent_mexico, incident_mexico):
    _login(client, agent_mexico)
    response = client.post(
        reverse("incidents:update", args=[incident_mexico.number]),
        {
            "version": incident_mexico.version,
            "short_description": "Printer on fire",
            "impact": 1,
            "urgency": 1,
        },
    )
    assert response.status_code == 302
    incident_mexico.refresh_from_db()
    assert incident_mexico.priority == 1
    assert incident_mexico.short_description == "Printer on fire"


def test_assign_to_me_and_functional_escalation_counts(
    client, agent_mexico, incident_mexico, l2_mexico
):
    _login(client, agent_mexico)
    url = reverse("incidents:assign", args=[incident_mexico.number])
    assert client.post(url, {"version": incident_mexico.version, "to_me": "1"}).status_code == 302
    incident_mexico.refresh_from_db()
    assert incident_mexico.assignee == agent_mexico

    response = client.post(url, {"version": incident_mexico.version, "group": l2_mexico.pk})
    assert response.status_code == 302
    incident_mexico.refresh_from_db()
    assert incident_mexico.assignment_group == l2_mexico
    assert incident_mexico.reassignment_count == 1


def test_assigning_someone_outside_the_group_is_a_form_error(
    client, agent_mexico, incident_mexico, mexico, desk_mexico, l2_mexico
):
    specialist = make_user("specialist.mexico", [Role.AGENT], mexico)
    l2_mexico.members.add(specialist)
    _login(client, agent_mexico)
    response = client.post(
        reverse("incidents:assign", args=[incident_mexico.number]),
        {"version": incident_mexico.version, "group": desk_mexico.pk, "assignee": specialist.pk},
    )
    assert response.status_code == 422
    assert "is not a member of" in response.content.decode()
    incident_mexico.refresh_from_db()
    assert incident_mexico.assignee is None


def test_comment_and_work_note_are_journaled_differently(client, agent_mexico, incident_mexico):
    _login(client, agent_mexico)
    url = reverse("incidents:comment", args=[incident_mexico.number])
    client.post(url, {"body": "Internal detail", "kind": "work_note"})
    response = client.post(url, {"body": "Hello caller", "kind": "comment"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Hello caller" in response.content.decode()
    kinds = dict(
        JournalEntry.objects.for_record(incident_mexico)
        .filter(kind__in=[JournalKind.COMMENT, JournalKind.WORK_NOTE])
        .values_list("body", "kind")
    )
    assert kinds == {"Internal detail": JournalKind.WORK_NOTE, "Hello caller": JournalKind.COMMENT}
    assert client.post(url, {"body": " ", "kind": "comment"}).status_code == 422


def test_major_incident_updates(client, agent_mexico, open_mexico_incident):
    incident = open_mexico_incident(is_major=True)
    _login(client, agent_mexico)
    response = client.post(
        reverse("incidents:major_update", args=[incident.number]), {"body": "ETA 30 min"}
    )
    assert response.status_code == 302
    assert JournalEntry.objects.for_record(incident).filter(body="ETA 30 min").exists()


def test_agents_record_phone_incidents(client, agent_mexico, end_user_mexico, desk_mexico):
    _login(client, agent_mexico)
    response = client.post(
        reverse("incidents:new"),
        {
            "caller": end_user_mexico.email,
            "channel": Channel.PHONE,
            "short_description": "Cannot print",
            "impact": 2,
            "urgency": 3,
            "assignment_group": desk_mexico.pk,
            "assign_to_me": "on",
        },
    )
    assert response.status_code == 302
    incident = Incident.objects.get(short_description="Cannot print")
    assert response["Location"] == reverse("incidents:detail", args=[incident.number])
    assert incident.channel == Channel.PHONE
    assert incident.caller == end_user_mexico
    assert incident.assignee == agent_mexico
    assert incident.opened_by == agent_mexico

    response = client.post(reverse("incidents:new"), {"caller": "ghost", "short_description": ""})
    assert response.status_code == 422
    assert "No active user" in response.content.decode()
