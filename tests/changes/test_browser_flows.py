"""End to end in a real browser: a normal change is raised and assessed; a window that
collides with another change is refused with the collision and changes nothing, a free one
is taken; the CAB members authorise it and it shows on the change calendar.

The window is set before authorisation: re-scheduling an authorised change is not covered."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from itsmo.changes.models import ApprovalRequest, ApprovalState, Change, ChangeType, Risk, Status
from itsmo.core import journal
from tests.browser import MARKS, TIME_ZONE, screenshot

pytestmark = MARKS

LOCAL = ZoneInfo(TIME_ZONE)  # the signed-in users' time zone
FIELD_FORMAT = "%Y-%m-%dT%H:%M"  # what a datetime-local field takes
TITLE = "Upgrade the ERP database to version 16"


def evening(days_ahead: int, hour: int = 20, hours: int = 2) -> tuple[dt.datetime, dt.datetime]:
    """A window ``days_ahead`` days from today, in the users' time zone."""
    day = timezone.now().astimezone(LOCAL).date() + dt.timedelta(days=days_ahead)
    start = dt.datetime.combine(day, dt.time(hour), tzinfo=LOCAL)
    return start, start + dt.timedelta(hours=hours)


@pytest.fixture
def switch_firmware(new_change, advance, agent_mexico):
    """A change to the core switch (connected to the database server) in ten days' evening."""
    change = new_change(title="Replace the core switch firmware", cis=("switch",))
    return advance(change, agent_mexico, "schedule", start_end=evening(10))


def _lifecycle_step(page, label: str) -> None:
    step = page.locator("#state details", has=page.locator("summary", has_text=label))
    step.locator("summary").click()
    step.get_by_role("button", name=label).click()


def _schedule(page, start: dt.datetime, end: dt.datetime) -> None:
    page.fill("#id_planned_start", start.strftime(FIELD_FORMAT))
    page.fill("#id_planned_end", end.strftime(FIELD_FORMAT))
    page.get_by_role("button", name="Check and schedule").click()


def test_a_normal_change_is_assessed_scheduled_authorised_by_the_cab_and_on_the_calendar(
    sign_in, agent_mexico, cab_members, rules, cmdb_mx, switch_firmware
):
    # The requester raises the change from the change list.
    page = sign_in(agent_mexico)
    page.click("#site-nav a[href='/changes/']")
    page.get_by_role("link", name="New change").click()
    page.select_option("#id_type", label="Normal")
    page.fill("#id_title", TITLE)
    page.fill("#id_description", "The vendor ends support of version 14 in March.")
    page.select_option("#id_country", label="Mexico")
    page.select_option("#id_services", label="ERP")
    page.fill("#id_cis", cmdb_mx["db"].number)
    page.fill("#id_implementation_plan", "Stop the ERP, upgrade the database, start the ERP.")
    page.fill("#id_backout_plan", "Restore last night's snapshot.")
    page.fill("#id_test_plan", "Post a test invoice.")
    screenshot(page, "changes-new")
    page.get_by_role("button", name="Raise the change").click()
    page.wait_for_url(re.compile(r"/changes/CHG\d+/$"))

    change = Change.objects.get(title=TITLE)
    expect(page.locator(".messages")).to_contain_text(f"Change {change.number} raised.")
    assert (change.type, change.status, change.requester) == (
        ChangeType.NORMAL,
        Status.NEW,
        agent_mexico,
    )
    assert [link.ci for link in change.ci_links.all()] == [cmdb_mx["db"]]

    # Assessment: the risk questionnaire, then the window.
    _lifecycle_step(page, "Request assessment")
    expect(page.locator(".messages")).to_contain_text(f"{change.number} is now Assess.")
    risk = page.locator("#risk")
    risk.locator("summary").click()
    for answer in ("Yes, fully", "Yes, back-out tested", "No outage", "Often", "One team"):
        risk.get_by_label(answer, exact=True).check()
    risk.get_by_role("button", name="Assess the risk").click()
    expect(page.locator(".messages")).to_contain_text("Risk assessed: Low")
    change.refresh_from_db()
    before = (change.version, len(list(journal.timeline(change))))

    # The evening of the switch change collides: refused, with the collision, nothing saved.
    busy_start, _busy_end = evening(10)
    _schedule(page, busy_start + dt.timedelta(hours=1), busy_start + dt.timedelta(hours=3))
    conflicts = page.locator("#schedule-conflicts")
    expect(conflicts).to_contain_text("Not scheduled: the window collides.")
    expect(conflicts).to_be_in_viewport()  # the answer opens at the schedule, not the top
    expect(conflicts.get_by_role("link", name=switch_firmware.number)).to_be_visible()
    expect(conflicts).to_contain_text("Replace the core switch firmware")
    expect(conflicts).to_contain_text("1 relationship step from")
    expect(page.locator("#schedule")).to_contain_text(
        "To schedule it anyway, give the reason for overriding these conflicts."
    )
    expect(page.locator("#schedule dl")).to_contain_text("not scheduled")
    screenshot(page, "changes-collision")
    change.refresh_from_db()
    assert (change.planned_start, change.planned_end, change.status) == (None, None, Status.ASSESS)
    assert (change.version, len(list(journal.timeline(change)))) == before

    # The next evening is free.
    start, end = evening(11)
    _schedule(page, start, end)
    expect(page.locator(".messages")).to_contain_text(
        "Scheduled; no collision and no blackout window."
    )
    change.refresh_from_db()
    assert (change.status, change.risk) == (Status.ASSESS, Risk.LOW)
    assert (change.planned_start, change.planned_end) == (start, end)

    # Authorisation: the CAB is asked.
    _lifecycle_step(page, "Request authorisation")
    expect(page.locator(".messages")).to_contain_text(f"{change.number} is now Authorise.")
    expect(page.locator("#approvals h3")).to_have_text("CAB Requested")
    expect(page.locator("#approvals li")).to_have_text(
        ["cab.1: Requested", "cab.2: Requested", "cab.3: Requested"]
    )
    screenshot(page, "changes-authorise")
    change.refresh_from_db()
    assert (change.status, change.approval) == (Status.AUTHORISE, ApprovalState.REQUESTED)
    request = ApprovalRequest.objects.get(change=change)
    assert sorted(a.approver.username for a in request.approvals.all()) == [
        "cab.1",
        "cab.2",
        "cab.3",
    ]

    # Two of the three CAB members approve (a majority); the change is then scheduled.
    for member, comment in zip(cab_members[:2], ("Tested in staging.", "Fine by me."), strict=True):
        approver = sign_in(member)
        approver.click("#site-nav a[href='/changes/']")
        approver.get_by_role("link", name=change.number).click()
        approvals = approver.locator("#approvals")
        expect(approvals).to_contain_text("Your decision is requested (CAB).")
        approvals.get_by_label("Comment").fill(comment)
        approvals.get_by_role("button", name="Approve").click()
        expect(approver.locator(".messages")).to_contain_text("Your decision is recorded.")
        expect(approver.locator("#approvals")).to_contain_text(f"{member.username}: Approved")
    expect(approver.locator(".page-header .chg-state")).to_have_text("Scheduled")
    screenshot(approver, "changes-approved")
    change.refresh_from_db()
    assert (change.status, change.approval) == (Status.SCHEDULED, ApprovalState.APPROVED)
    assert sorted((a.approver.username, a.state, a.comment) for a in request.approvals.all()) == [
        ("cab.1", "approved", "Tested in staging."),
        ("cab.2", "approved", "Fine by me."),
        ("cab.3", "cancelled", ""),
    ]

    # The change calendar shows it on its evening, in the requester's time.
    page.click("#site-nav a[href='/changes/']")
    page.get_by_role("link", name="Calendar").click()
    page.fill("#id_date", start.date().isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/changes/calendar/\?.*date="))
    link = f"a[href='/changes/{change.number}/']"
    item = page.locator(f".chg-calendar {link}")
    expect(item).to_have_count(1)
    expect(item).to_have_text(f"20:00 {change.number} {TITLE}")
    day = page.locator(".chg-calendar td", has=page.locator(link))
    expect(day.locator(".chg-calendar__date")).to_have_text(f"{start.day} {start:%b}")
    screenshot(page, "changes-calendar")
