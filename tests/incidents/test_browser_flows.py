"""End to end in a real browser: an agent works a queue and resolves with a code, the caller
rates it in the portal; an end user reports an incident from the portal."""

from __future__ import annotations

import re

from itsmo.incidents import services
from itsmo.incidents.models import Channel, Incident, Status
from itsmo.surveys.models import Survey
from tests.browser import MARKS

pytestmark = MARKS


def test_agent_resolves_from_the_queue_and_the_caller_rates_it(
    live_server, sign_in, agent_mexico, end_user_mexico, desk_mexico, any_sla
):
    incident = services.open_incident(
        caller=end_user_mexico,
        actor=end_user_mexico,
        channel=Channel.PORTAL,
        short_description="Label printer offline",
        assignment_group=None,
    )
    services.assign(incident, actor=agent_mexico, group=desk_mexico)

    # The agent finds it in "Unassigned", opens it, takes it and resolves it with a code.
    page = sign_in(agent_mexico)
    page.goto(f"{live_server.url}/incidents/queues/unassigned/")
    row = page.locator("tr", has_text="Label printer offline")
    assert row.locator(".countdown").inner_text().startswith("in ")  # live SLA countdown
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(f"{live_server.url}/incidents/{incident.number}/")
    page.keyboard.press("?")
    assert page.locator("#shortcuts").is_visible()
    page.keyboard.press("Escape")

    page.click("#assign button[name=to_me]")
    page.wait_for_url(f"{live_server.url}/incidents/{incident.number}/")
    assert "assigned" in page.locator(".messages").inner_text()

    page.click("#transition-resolved summary")
    page.click("#transition-resolved button[type=submit]")  # nothing filled in: refused
    assert "Choose a resolution code." in page.locator("#transition-resolved").inner_text()
    page.select_option("#transition-resolved select[name=resolution_code]", "fixed")
    page.fill("#transition-resolved textarea[name=resolution_notes]", "Restarted the spooler")
    page.click("#transition-resolved button[type=submit]")
    page.wait_for_url(re.compile(rf"/incidents/{incident.number}/(#.*)?$"))
    assert "Resolved" in page.locator(".record__crumbs").inner_text()

    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    assert incident.assignee == agent_mexico
    assert incident.resolution_code == "fixed"

    # The caller sees the survey in the portal and rates it.
    caller = sign_in(end_user_mexico)
    caller.goto(f"{live_server.url}/portal/")
    caller.click(f".survey-callout a[href*='{incident.number}']")
    caller.click("#survey .rating__option:has-text('Very satisfied')")
    caller.fill("#survey textarea[name=comment]", "Quick and friendly")
    caller.click("#survey button[type=submit]")
    caller.wait_for_url(f"{live_server.url}/portal/incidents/{incident.number}/")
    assert "Thank you" in caller.locator(".messages").inner_text()

    survey = Survey.objects.get(incident=incident)
    assert (survey.rating, survey.comment) == (5, "Quick and friendly")


def test_end_user_reports_an_incident_from_the_portal(
    live_server, sign_in, end_user_mexico, desk_mexico, tmp_path
):
    screenshot = tmp_path / "screen.png"
    screenshot.write_bytes(b"\x89PNG\r\n\x1a\n fake")
    page = sign_in(end_user_mexico)
    page.click("#site-nav a[href='/portal/']")
    page.click("a[href='/portal/report/']")
    page.fill("#id_short_description", "Scanner shows paper jam")
    page.fill("#id_description", "Since the update this morning")
    page.set_input_files("#id_attachments", str(screenshot))
    page.click(".portal-form button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/incidents/INC\d+/$"))

    incident = Incident.objects.get(short_description="Scanner shows paper jam")
    assert incident.number in page.locator(".record__crumbs").inner_text()
    assert incident.channel == Channel.PORTAL
    assert incident.caller == end_user_mexico
    assert [a.name for a in incident.attachments.all()] == ["screen.png"]
    page.goto(f"{live_server.url}/portal/")
    assert "Scanner shows paper jam" in page.locator(".ticket-list").first.inner_text()
