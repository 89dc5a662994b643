"""The change pages through the Django test client: list, new (from a template), the
record (risk, schedule with conflicts and override, lifecycle, approvals, PIR), the
calendar and releases."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from itsmo.accounts import services as accounts
from itsmo.changes import services
from itsmo.changes.models import Change, ChangeType, Status

from .conftest import LOW_ANSWERS, MONDAY


@pytest.fixture
def browser(agent_mexico):
    accounts.update_preferences(agent_mexico, language="en")
    client = Client()
    client.force_login(agent_mexico)
    return client


def test_anonymous_is_sent_to_sign_in_and_end_users_away(client, end_user_mexico):
    assert client.get("/changes/").status_code == 302
    client.force_login(end_user_mexico)
    assert client.get("/changes/").status_code == 302


def test_list_and_navigation(browser, new_change):
    change = new_change()

    page = browser.get("/changes/")

    assert page.status_code == 200
    assert change.number in page.content.decode()
    home = browser.get("/").content.decode()
    assert 'href="/changes/"' in home
    assert browser.get("/changes/", {"type": "standard"}).content.decode().count(change.number) == 0


def test_new_standard_change_from_template(browser, template, mexico):
    form = browser.get("/changes/new/", {"template": template.code})
    assert form.status_code == 200
    assert template.implementation_plan in form.content.decode()

    response = browser.post(
        "/changes/new/",
        {
            "type": "standard",
            "template": template.code,
            "title": "Patch April",
            "country": mexico.pk,
            "implementation_plan": template.implementation_plan,
            "backout_plan": template.backout_plan,
        },
    )

    change = Change.objects.get()
    assert response.status_code == 302
    assert change.type == ChangeType.STANDARD and change.template == template


def test_new_change_errors_are_shown(browser):
    response = browser.post("/changes/new/", {"type": "standard", "title": "No template"})

    assert response.status_code == 422
    assert "template" in response.content.decode()
    assert not Change.objects.exists()


def test_change_page_shows_everything(browser, new_change, rules):
    change = new_change()

    page = browser.get(f"/changes/{change.number}/").content.decode()

    for section in ("state", "details", "risk", "schedule", "approvals", "caused", "timeline"):
        assert f'id="{section}"' in page
    assert 'name="tested"' in page  # the risk questionnaire
    assert 'value="assess"' in page  # the next step of a normal change


def test_other_region_gets_a_404(client, agent_brazil, new_change):
    change = new_change()
    client.force_login(agent_brazil)

    assert client.get(f"/changes/{change.number}/").status_code == 404


def test_risk_schedule_conflict_and_override(browser, new_change, agent_mexico):
    first = new_change()
    services.schedule_change(
        first, actor=agent_mexico, planned_start=MONDAY, planned_end=MONDAY + dt.timedelta(hours=2)
    )
    change = new_change(title="Second")
    url = f"/changes/{change.number}"

    assert browser.post(f"{url}/risk/", {"version": 1, **LOW_ANSWERS}).status_code == 302
    change.refresh_from_db()
    assert change.risk
    window = {
        "version": change.version,
        "planned_start": "2026-10-05T00:00",  # wide: whatever the user's time zone
        "planned_end": "2026-10-06T23:00",
    }
    refused = browser.post(f"{url}/schedule/", window)
    assert refused.status_code == 409
    assert first.number in refused.content.decode()
    change.refresh_from_db()
    assert change.planned_start is None

    accepted = browser.post(f"{url}/schedule/", {**window, "override_reason": "Vendor on site"})
    assert accepted.status_code == 302
    change.refresh_from_db()
    assert change.schedule_override_reason == "Vendor on site"


def test_lifecycle_buttons_approvals_and_review(client, browser, new_change, rules, cab_members):
    change = new_change()
    url = f"/changes/{change.number}"
    services.assess_risk(change, actor=None, answers=LOW_ANSWERS)
    services.schedule_change(
        change, actor=None, planned_start=MONDAY, planned_end=MONDAY + dt.timedelta(hours=1)
    )
    assert (
        browser.post(f"{url}/transition/", {"to": "assess", "version": change.version}).status_code
        == 302
    )
    change.refresh_from_db()
    assert (
        browser.post(
            f"{url}/transition/", {"to": "authorise", "version": change.version}
        ).status_code
        == 302
    )
    stale = browser.post(f"{url}/transition/", {"to": "new", "version": 1})
    assert stale.status_code == 409

    client.force_login(cab_members[0])
    page = client.get(f"{url}/").content.decode()
    assert 'value="approved"' in page
    assert client.post(f"{url}/approval/", {"decision": "approved"}).status_code == 302
    client.force_login(cab_members[1])
    assert (
        client.post(f"{url}/approval/", {"decision": "approved", "comment": "Go"}).status_code
        == 302
    )
    change.refresh_from_db()
    assert change.status == Status.SCHEDULED

    services.transition(change, Status.IMPLEMENT, actor=None)
    refused = browser.post(f"{url}/transition/", {"to": "review", "version": change.version})
    assert refused.status_code == 422
    assert (
        browser.post(
            f"{url}/transition/",
            {"to": "review", "version": change.version, "close_code": "failed"},
        ).status_code
        == 302
    )
    change.refresh_from_db()
    assert (
        browser.post(
            f"{url}/review/",
            {
                "version": change.version,
                "close_code": "backed_out",
                "review_notes": "Backed out at 02:00.",
            },
        ).status_code
        == 302
    )
    change.refresh_from_db()
    assert change.review_notes and change.close_code == "backed_out"
    assert "Backed out at 02:00." in browser.get(f"{url}/").content.decode()


def test_moving_an_authorised_change_warns_then_shows_the_new_round(
    client, browser, authorised, cab_members
):
    url = f"/changes/{authorised.number}"
    page = browser.get(f"{url}/").content.decode()
    assert 'id="reapproval-warning"' in page  # before submitting: what a move will do
    assert 'id="reapproval"' not in page

    moved = browser.post(
        f"{url}/schedule/",
        {
            "version": authorised.version,
            "planned_start": "2026-10-08T22:00",  # days away whatever the user's time zone
            "planned_end": "2026-10-08T23:30",
        },
        follow=True,
    )

    assert moved.status_code == 200
    html = moved.content.decode()
    assert "its approvers are asked again" in html  # the message after the move
    assert 'id="reapproval"' in html and "Approval requested again (round 2)" in html
    assert 'id="earlier-rounds"' in html and "Fine by me" in html  # earlier decisions
    assert 'id="reapproval-warning"' not in html
    authorised.refresh_from_db()
    assert authorised.status == Status.AUTHORISE
    client.force_login(cab_members[2])
    assert 'value="approved"' in client.get(f"{url}/").content.decode()


def test_shrinking_on_the_page_keeps_the_approval(browser, authorised, agent_mexico):
    import zoneinfo

    from django.utils import timezone

    zone = zoneinfo.ZoneInfo(agent_mexico.time_zone) if agent_mexico.time_zone else None
    start = timezone.localtime(authorised.planned_start, zone)  # as the page shows it
    response = browser.post(
        f"/changes/{authorised.number}/schedule/",
        {
            "version": authorised.version,
            "planned_start": start.strftime("%Y-%m-%dT%H:%M"),
            "planned_end": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )

    assert response.status_code == 302
    authorised.refresh_from_db()
    assert (authorised.status, authorised.approval) == (Status.SCHEDULED, "approved")


def test_a_change_being_implemented_has_no_schedule_form(browser, authorised):
    services.transition(authorised, Status.IMPLEMENT, actor=None)

    page = browser.get(f"/changes/{authorised.number}/").content.decode()

    assert "the window can no longer be moved" in page
    assert f"/changes/{authorised.number}/schedule/" not in page
    refused = browser.post(
        f"/changes/{authorised.number}/schedule/",
        {
            "version": authorised.version,
            "planned_start": "2026-10-08T22:00",
            "planned_end": "2026-10-08T23:30",
        },
    )
    assert refused.status_code == 422
    authorised.refresh_from_db()
    assert authorised.planned_start == MONDAY


def test_caused_incidents_are_listed(browser, new_change, agent_mexico, end_user_mexico):
    from itsmo.incidents import services as incidents

    change = new_change()
    incident = incidents.open_incident(
        caller=end_user_mexico, actor=agent_mexico, short_description="ERP down", channel="phone"
    )
    incidents.update_incident(
        incident, actor=agent_mexico, version=incident.version, caused_by_change=change
    )

    assert incident.number in browser.get(f"/changes/{change.number}/").content.decode()


@pytest.mark.parametrize("view", ["month", "week"])
def test_calendar(browser, new_change, agent_mexico, mexico, view):
    change = new_change()
    services.schedule_change(
        change, actor=agent_mexico, planned_start=MONDAY, planned_end=MONDAY + dt.timedelta(hours=2)
    )
    services.create_blackout(
        actor=None,
        name="Month-end MX",
        country=mexico,
        start_at=MONDAY,
        end_at=MONDAY + dt.timedelta(days=1),
    )

    page = browser.get("/changes/calendar/", {"view": view, "date": "2026-10-06", "country": "MX"})

    assert page.status_code == 200
    html = page.content.decode()
    assert change.number in html and "Month-end MX" in html
    other = browser.get(
        "/changes/calendar/", {"view": view, "date": "2026-10-06", "country": "BR"}
    ).content.decode()
    assert change.number not in other


def test_releases_pages(browser, new_change, agent_mexico, mexico):
    change = new_change()
    created = browser.post("/changes/releases/", {"name": "ERP", "version_label": "7.2"})
    assert created.status_code == 302
    release = services.Release.objects.get()
    services.add_to_release(change, release, actor=agent_mexico)
    url = f"/changes/releases/{release.number}/"
    assert (
        browser.post(
            url,
            {
                "country": mexico.pk,
                "planned_start": "2026-10-10T22:00",
                "planned_end": "2026-10-11T02:00",
            },
        ).status_code
        == 302
    )

    page = browser.get(url).content.decode()
    assert change.number in page and "Mexico" in page
    assert release.number in browser.get("/changes/releases/").content.decode()
