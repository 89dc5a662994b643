"""Service-level pages: definitions read by staff, written by administrators and process
owners through the form, and the compliance report scoped to what the reader may see."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from itsmo.accounts.models import Role
from itsmo.core.errors import PermissionDenied, StaleVersion, ValidationFailed
from itsmo.organization import services as organization
from itsmo.slm import services as slm
from itsmo.slm.models import Metric, SLAClock, SLADefinition
from tests.conftest import make_user


@pytest.fixture
def process_owner(mexico):
    return make_user("owner.incident", [Role.PROCESS_OWNER], mexico)


def resolution_target(incident) -> int:
    return SLAClock.objects.get(incident=incident, metric=Metric.RESOLUTION).target_seconds


def form_data(**values) -> dict:
    data = {
        "name": "P1 critical",
        "kind": "sla",
        "priority": "1",
        "response_target_minutes": "15",
        "resolution_target_minutes": "240",
        "pause_states": ["on_hold"],
        "on_priority_change": "rebaseline",
        "warning_thresholds": "50, 75, 90",
        "is_active": "on",
    }
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


def test_staff_read_the_definitions_end_users_are_sent_to_the_portal(
    signed_in, agent_mexico, end_user_mexico, p2_sla
):
    page = signed_in(agent_mexico).get("/service-levels/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "P2 standard" in html and "1 h" in html and "24 h" in html
    assert "On hold" in html
    assert 'href="/service-levels/new/"' not in html  # agents read, they do not define
    assert signed_in(end_user_mexico).get("/service-levels/").url == "/portal/"


def test_a_process_owner_defines_an_sla_that_new_incidents_get(
    signed_in, process_owner, open_mexico_incident
):
    client = signed_in(process_owner)
    assert client.get("/service-levels/new/").status_code == 200
    response = client.post("/service-levels/new/", form_data())
    assert response.status_code == 302
    definition = SLADefinition.objects.get(name="P1 critical")
    assert (definition.priority, definition.response_target_minutes) == (1, 15)
    assert definition.warning_thresholds == [50, 75, 90]
    incident = open_mexico_incident(impact=1, urgency=1)
    assert resolution_target(incident) == 240 * 60
    assert resolution_target(open_mexico_incident(impact=1, urgency=1)) == 240 * 60


def test_a_refused_definition_shows_why_and_creates_nothing(signed_in, process_owner):
    client = signed_in(process_owner)
    response = client.post(
        "/service-levels/new/",
        form_data(response_target_minutes="", resolution_target_minutes=""),
    )
    assert response.status_code == 422
    assert "give a response or a resolution target" in response.content.decode()
    response = client.post("/service-levels/new/", form_data(warning_thresholds="50, soon"))
    assert response.status_code == 422
    assert "Write whole percentages" in response.content.decode()
    response = client.post("/service-levels/new/", form_data(warning_thresholds="50, 120"))
    assert "between 1 and 99" in response.content.decode()
    assert not SLADefinition.objects.exists()


def test_agents_may_read_a_definition_but_not_change_it(signed_in, agent_mexico, p2_sla):
    client = signed_in(agent_mexico)
    assert client.get("/service-levels/new/").status_code == 403
    page = client.get(f"/service-levels/{p2_sla.pk}/")
    assert page.status_code == 200 and "disabled" in page.content.decode()
    assert ">Save<" not in page.content.decode()
    response = client.post(
        f"/service-levels/{p2_sla.pk}/",
        form_data(name="P2 standard", priority="2", version=p2_sla.version),
    )
    assert response.status_code == 403
    p2_sla.refresh_from_db()
    assert p2_sla.resolution_target_minutes == 24 * 60


def test_an_edit_applies_to_new_incidents_and_running_clocks_keep_their_target(
    signed_in, process_owner, p2_sla, open_mexico_incident
):
    before = open_mexico_incident(impact=2, urgency=1)
    client = signed_in(process_owner)
    response = client.post(
        f"/service-levels/{p2_sla.pk}/",
        form_data(
            name="P2 standard",
            priority="2",
            kind=None,
            response_target_minutes="60",
            resolution_target_minutes="480",
            version=p2_sla.version,
        ),
    )
    assert response.status_code == 302
    after = open_mexico_incident(impact=2, urgency=1)
    assert resolution_target(before) == 24 * 3600
    assert resolution_target(after) == 8 * 3600
    page = client.get(f"/service-levels/{p2_sla.pk}/").content.decode()
    assert "1440" in page and "480" in page  # the journal shows the change


def test_a_stale_edit_is_refused_with_a_message(signed_in, process_owner, p2_sla):
    version = p2_sla.version
    slm.update_definition(p2_sla, actor=process_owner, version=version, description="Agreed")
    response = signed_in(process_owner).post(
        f"/service-levels/{p2_sla.pk}/",
        form_data(name="P2 standard", priority="2", kind=None, version=version),
    )
    assert response.status_code == 422
    assert "Someone else changed this definition" in response.content.decode()
    p2_sla.refresh_from_db()
    assert p2_sla.resolution_target_minutes == 24 * 60


def test_update_definition_rules(agent_mexico, process_owner, p2_sla):
    with pytest.raises(PermissionDenied):
        slm.update_definition(p2_sla, actor=agent_mexico, version=p2_sla.version, priority=3)
    with pytest.raises(ValidationFailed) as error:
        slm.update_definition(p2_sla, actor=process_owner, version=p2_sla.version, kind="ola")
    assert error.value.field == "kind"
    with pytest.raises(StaleVersion):
        slm.update_definition(p2_sla, actor=process_owner, version=p2_sla.version + 5, priority=3)
    slm.update_definition(p2_sla, actor=process_owner, version=p2_sla.version, is_active=False)
    p2_sla.refresh_from_db()
    assert not p2_sla.is_active and p2_sla.version == 2


def test_compliance_report_by_priority_scoped_to_the_reader(
    p2_met_and_missed, signed_in, agent_mexico, agent_brazil
):
    query = "?start=2026-09-01&end=2026-09-30&metric=resolution&group_by=priority"
    page = signed_in(agent_mexico).get("/service-levels/compliance/" + query)
    html = page.content.decode()
    assert page.status_code == 200
    assert "P2 - High" in html and "50.0 %" in html
    assert "October" not in html
    outside = signed_in(agent_brazil).get("/service-levels/compliance/" + query)
    assert "No target was decided in this period." in outside.content.decode()
    october = signed_in(agent_mexico).get(
        "/service-levels/compliance/?start=2026-10-01&end=2026-10-31"
    )
    assert "No target was decided in this period." in october.content.decode()


def test_compliance_report_refuses_an_end_before_the_start(signed_in, agent_mexico):
    query = "?start=2026-09-30&end=2026-09-01"
    page = signed_in(agent_mexico).get("/service-levels/compliance/" + query)
    assert page.status_code == 200
    assert "The end comes before the start." in page.content.decode()


# -- business calendars --------------------------------------------------------------------------


@pytest.fixture
def mexico_calendar(mexico):
    calendar = organization.create_standard_calendar("Mexico office", "America/Mexico_City", "MX")
    mexico.calendar = calendar
    mexico.save(update_fields=["calendar"])
    return calendar


def test_staff_read_the_calendars_with_hours_and_public_holidays(
    signed_in, agent_mexico, mexico_calendar
):
    client = signed_in(agent_mexico)
    listing = client.get("/service-levels/calendars/").content.decode()
    assert "Mexico office" in listing and "America/Mexico_City" in listing
    assert "Mon–Fri 08:00–18:00" in listing  # noqa: RUF001
    page = client.get(f"/service-levels/calendars/{mexico_calendar.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Independence Day" in html  # within any twelve months
    assert "Add a day" not in html  # only administrators change calendars
    response = client.post(
        f"/service-levels/calendars/{mexico_calendar.pk}/",
        {"date": "2027-03-03", "name": "Shutdown"},
    )
    assert response.status_code == 403
    assert not mexico_calendar.exceptions.exists()


def test_an_administrator_closes_a_day_and_the_clocks_count_it(
    signed_in, admin_user, mexico_calendar
):
    client = signed_in(admin_user)
    path = f"/service-levels/calendars/{mexico_calendar.pk}/"
    day = timezone.localdate() + dt.timedelta(days=30)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    before = organization.calendar_for(mexico_calendar)
    assert before.working_intervals(day)
    response = client.post(path, {"date": day.isoformat(), "name": "Plant shutdown"})
    assert response.status_code == 302
    assert "Plant shutdown" in client.get(path).content.decode()
    mexico_calendar.refresh_from_db()
    assert not organization.calendar_for(mexico_calendar).working_intervals(day)

    again = client.post(path, {"date": day.isoformat(), "name": "Twice"})
    assert again.status_code == 422
    assert "already has an exception" in again.content.decode()
    bad = client.post(path, {"date": "31/02/2027", "name": "Nope"})
    assert bad.status_code == 422 and "Enter a valid date." in bad.content.decode()
    assert mexico_calendar.exceptions.count() == 1

    removed = client.post(f"{path}exceptions/{day.isoformat()}/remove/")
    assert removed.status_code == 302
    assert not mexico_calendar.exceptions.exists()
    mexico_calendar.refresh_from_db()
    assert organization.calendar_for(mexico_calendar).working_intervals(day)
