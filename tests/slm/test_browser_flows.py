"""End to end in a real browser: a process owner defines a P1 SLA from the navigation,
then reads this month's compliance by priority, where a met and a breached P2 incident
make 50 %; an administrator closes a day on a business calendar and opens it again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from itsmo.accounts.models import Role
from itsmo.incidents import services
from itsmo.organization import services as organization
from itsmo.slm.models import SLADefinition
from tests.browser import MARKS, screenshot
from tests.conftest import make_user

pytestmark = MARKS


@pytest.fixture
def process_owner(mexico):
    return make_user("owner.incident", [Role.PROCESS_OWNER], mexico)


def test_process_owner_defines_an_sla_and_reads_compliance(
    sign_in, process_owner, p2_sla, open_mexico_incident, agent_mexico
):
    now = timezone.now()
    on_time = open_mexico_incident(impact=2, urgency=1)
    late = open_mexico_incident(impact=2, urgency=1, opened_at=now - dt.timedelta(days=20))
    for incident in (on_time, late):
        services.resolve(incident, actor=agent_mexico, code="fixed", notes="done")

    page = sign_in(process_owner)
    page.click("#site-nav a[href='/service-levels/']")
    expect(page.locator(".slm-table")).to_contain_text("P2 standard")
    page.get_by_role("link", name="New definition").click()
    page.fill("#id_name", "P1 critical")
    page.select_option("#id_priority", label="P1 - Critical")
    page.fill("#id_response_target_minutes", "15")
    page.fill("#id_resolution_target_minutes", "240")
    screenshot(page, "slm-new-definition")
    page.get_by_role("button", name="Create definition").click()
    page.wait_for_url("**/service-levels/")
    expect(page.locator(".messages")).to_contain_text("Definition “P1 critical” created.")
    row = page.locator(".slm-table tr", has_text="P1 critical")
    expect(row).to_contain_text("15 min")
    expect(row).to_contain_text("4 h")
    screenshot(page, "slm-definitions")
    definition = SLADefinition.objects.get(name="P1 critical")
    assert (definition.priority, definition.pause_states) == (1, ["on_hold"])

    page.get_by_role("link", name="Compliance").click()
    page.select_option("#id_group_by", label="Priority")
    page.select_option("#id_metric", label="Resolution")
    page.get_by_role("button", name="Show").click()
    report = page.locator(".slm-compliance")
    expect(report).to_contain_text("P2 - High")
    expect(report.locator("tbody tr")).to_have_count(1)
    expect(report.locator("tbody tr")).to_contain_text("50.0 %")
    expect(page.locator(".slm-summary__big")).to_have_text("50.0 %")
    screenshot(page, "slm-compliance")


def test_administrator_closes_a_day_on_a_business_calendar(sign_in, admin_user, mexico):
    calendar = organization.create_standard_calendar("Mexico office", "America/Mexico_City", "MX")
    day = timezone.localdate() + dt.timedelta(days=40)
    page = sign_in(admin_user)
    page.goto("/service-levels/")
    page.get_by_role("link", name="Calendars").click()
    page.get_by_role("link", name="Mexico office").click()
    expect(page.locator(".slm-week")).to_contain_text("08:00–18:00")  # noqa: RUF001
    expect(page.locator(".slm-days")).to_contain_text("Independence Day")
    page.fill("#id_date", day.isoformat())
    page.fill("#id_name", "Plant shutdown")
    page.get_by_role("button", name="Add day").click()
    expect(page.locator(".messages")).to_contain_text(f"{day.isoformat()} added to the calendar.")
    row = page.locator(".slm-days tr", has_text="Plant shutdown")
    expect(row).to_contain_text("Closed")
    screenshot(page, "slm-calendar")
    assert calendar.exceptions.get().date == day
    row.get_by_role("button", name="Remove").click()
    expect(page.locator(".messages")).to_contain_text("removed from the calendar")
    assert not calendar.exceptions.exists()
