"""Collision detection (same CI, related CIs), blackout windows, overrides, the calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from itsmo.changes import services
from itsmo.changes.models import ChangeType, Status
from itsmo.core.errors import TransitionNotAllowed, ValidationFailed
from itsmo.core.models import JournalEntry

from .conftest import MONDAY, window


@pytest.fixture
def scheduled(new_change, agent_mexico):
    """A change on the database server, Monday 22:00-24:00."""
    change = new_change(title="Patch the database", cis=("db",))
    begin, end = window()
    services.schedule_change(change, actor=agent_mexico, planned_start=begin, planned_end=end)
    return change


def test_a_clear_window_is_scheduled(scheduled):
    assert scheduled.planned_start == MONDAY
    assert scheduled.schedule_override_reason == ""


def test_same_ci_overlapping_is_refused_with_the_reason(scheduled, new_change, agent_mexico):
    other = new_change(title="Resize the database", cis=("db",))
    begin, end = window(hours_from=1)

    with pytest.raises(services.ScheduleConflict) as error:
        services.schedule_change(other, actor=agent_mexico, planned_start=begin, planned_end=end)

    assert error.value.status == 409
    [collision] = error.value.extra["collisions"]
    assert collision["change"] == scheduled.number
    assert collision["depth"] == 0
    assert "same CI" in collision["reason"]
    other.refresh_from_db()
    assert other.planned_start is None


def test_dependent_ci_collides(scheduled, new_change, agent_mexico, cmdb_mx):
    """The application runs on the database server: changing both at once collides."""
    app_change = new_change(title="Deploy ERP 7.2", cis=("app",))
    begin, end = window(hours_from=1)

    found = services.check_schedule(app_change, begin, end)

    assert [c.change for c in found.collisions] == [scheduled.number]
    assert found.collisions[0].depth == 1
    assert found.collisions[0].via == cmdb_mx["app"].number


def test_two_steps_away_collides_within_the_depth(scheduled, new_change, settings):
    switch_change = new_change(title="Switch firmware", cis=("switch",))
    begin, end = window()

    assert services.check_schedule(switch_change, begin, end).collisions
    settings.ITSMO_CHANGE_COLLISION_DEPTH = 0
    assert not services.check_schedule(switch_change, begin, end).collisions


def test_unrelated_ci_or_other_time_does_not_collide(scheduled, new_change):
    far = new_change(title="Far away", cis=("far",))
    same = new_change(title="Later", cis=("db",))

    assert services.check_schedule(far, *window()).is_clear
    assert services.check_schedule(same, *window(hours_from=2)).is_clear  # back to back


def test_cancelled_changes_do_not_collide(scheduled, new_change, agent_mexico):
    services.transition(scheduled, Status.CANCELLED, actor=agent_mexico)
    other = new_change(cis=("db",))

    assert services.check_schedule(other, *window()).is_clear


def test_override_schedules_and_journals_the_reason(scheduled, new_change, agent_mexico):
    other = new_change(title="Urgent fix", cis=("db",))
    begin, end = window(hours_from=1)

    found = services.schedule_change(
        other,
        actor=agent_mexico,
        planned_start=begin,
        planned_end=end,
        override_reason="Same team, done in sequence",
    )

    assert not found.is_clear
    other.refresh_from_db()
    assert other.planned_start == begin
    assert other.schedule_override_reason == "Same team, done in sequence"
    notes = JournalEntry.objects.for_record(other).filter(kind="work_note")
    assert any(scheduled.number in n.body and "Same team" in n.body for n in notes)


@pytest.fixture
def month_end_mexico(mexico):
    return services.create_blackout(
        actor=None,
        name="Month-end close Mexico",
        start_at=MONDAY - dt.timedelta(days=1),
        end_at=MONDAY + dt.timedelta(days=2),
        country=mexico,
    )


def test_blackout_of_the_country_refuses(month_end_mexico, new_change, agent_mexico):
    change = new_change(cis=("far",))

    with pytest.raises(services.ScheduleConflict) as error:
        services.schedule_change(
            change,
            actor=agent_mexico,
            planned_start=MONDAY,
            planned_end=MONDAY + dt.timedelta(hours=1),
        )

    assert error.value.extra["blackouts"][0]["name"] == "Month-end close Mexico"
    assert "Month-end close Mexico" in error.value.message


def test_blackout_elsewhere_does_not_apply(month_end_mexico, new_change, brazil):
    change = new_change(cis=("br",), country=brazil)

    assert services.check_schedule(change, *window()).is_clear


def test_regional_and_global_blackouts_apply(new_change, region_mexico):
    services.create_blackout(
        actor=None,
        name="Peak season",
        start_at=MONDAY,
        end_at=MONDAY + dt.timedelta(days=1),
        region=region_mexico,
    )
    services.create_blackout(
        actor=None, name="Year-end freeze", start_at=MONDAY, end_at=MONDAY + dt.timedelta(days=1)
    )
    change = new_change(cis=("far",))

    names = sorted(b.name for b in services.check_schedule(change, *window()).blackouts)
    assert names == ["Peak season", "Year-end freeze"]


def test_blackout_of_an_impacted_country_applies(new_change, brazil, mexico, agent_mexico):
    """A change in Brazil to a CI that a Mexican service runs on hits Mexico's close."""
    services.create_blackout(
        actor=None,
        name="Close MX",
        start_at=MONDAY,
        end_at=MONDAY + dt.timedelta(days=1),
        country=mexico,
    )
    change = new_change(cis=("br",), country=brazil)
    change.impact_summary = {"countries": ["MX"]}

    assert [b.name for b in services.check_schedule(change, *window()).blackouts] == ["Close MX"]


def test_end_before_start_is_refused(new_change, agent_mexico):
    change = new_change()
    with pytest.raises(ValidationFailed) as error:
        services.schedule_change(
            change, actor=agent_mexico, planned_start=MONDAY, planned_end=MONDAY
        )
    assert error.value.field == "planned_end"


def test_implementing_change_cannot_be_rescheduled(new_change, template, agent_mexico, advance):
    change = new_change(ChangeType.STANDARD, template=template)
    advance(change, agent_mexico, "schedule", "scheduled", "implement")

    with pytest.raises(TransitionNotAllowed):
        services.schedule_change(
            change,
            actor=agent_mexico,
            planned_start=MONDAY,
            planned_end=MONDAY + dt.timedelta(hours=1),
        )


def test_calendar_filters_by_country_service_and_ci(
    scheduled, new_change, agent_mexico, smo_analyst, brazil, erp, cmdb_mx, month_end_mexico
):
    brazilian = new_change(title="Brazil", cis=("br",), country=brazil)
    services.schedule_change(
        brazilian,
        actor=agent_mexico,
        planned_start=MONDAY,
        planned_end=MONDAY + dt.timedelta(hours=3),
    )
    services.update_change(scheduled, actor=agent_mexico, version=scheduled.version, services=[erp])
    start, end = MONDAY - dt.timedelta(days=3), MONDAY + dt.timedelta(days=4)

    everything, blackouts = services.calendar(smo_analyst, start, end)
    assert {c.number for c in everything} == {scheduled.number, brazilian.number}
    assert [b.name for b in blackouts] == ["Month-end close Mexico"]
    in_brazil, blackouts = services.calendar(smo_analyst, start, end, country=brazil)
    assert [c.number for c in in_brazil] == [brazilian.number]
    assert list(blackouts) == []
    on_erp, _ = services.calendar(smo_analyst, start, end, service=erp)
    assert [c.number for c in on_erp] == [scheduled.number]
    on_db, _ = services.calendar(smo_analyst, start, end, ci=cmdb_mx["db"])
    assert [c.number for c in on_db] == [scheduled.number]
    mine, _ = services.calendar(agent_mexico, start, end)  # Mexico's scope only
    assert [c.number for c in mine] == [scheduled.number]
