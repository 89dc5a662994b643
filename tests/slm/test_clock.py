"""SLA clock arithmetic (pure): a hand-worked case across a holiday, and properties."""

from __future__ import annotations

import datetime as dt

from hypothesis import assume, given, settings, strategies as st

from itsmo.organization.calendar import Calendar
from itsmo.organization.services import default_calendar
from itsmo.slm import clock
from tests.slm.conftest import at

MEXICO = Calendar.standard(
    "America/Mexico_City", holidays=frozenset({dt.date(2026, 9, 16), dt.date(2026, 11, 16)})
)
HOUR = 3600


def test_p2_opened_friday_17h_in_mexico_before_independence_day():
    """Opened Friday 11 September 2026 17:00 in Mexico City (UTC-6), 24 business hours:
    Friday 17-18 (1 h), Monday 14th 08-18 (10 h, 11), Tuesday 15th (10 h, 21), Wednesday
    16th is Independence Day, Thursday 17th 08:00 + 3 h = 11:00 local = 17:00 UTC."""
    calendar = default_calendar("America/Mexico_City", "MX")
    start = at("2026-09-11T17:00:00-06:00")
    reading = clock.read_clock(calendar, start, [], 24 * HOUR, now=start)
    assert reading.due_at == at("2026-09-17T11:00:00-06:00") == at("2026-09-17T17:00:00+00:00")
    assert reading.state == clock.RUNNING and reading.elapsed_seconds == 0


def test_on_hold_over_the_weekend_costs_nothing_and_monday_hold_moves_the_due():
    start = at("2026-09-11T17:00:00-06:00")
    # On hold from Friday 17:30 to Monday 10:00: 0.5 h Friday + 2 h Monday of business time.
    pauses = [(at("2026-09-11T17:30:00-06:00"), at("2026-09-14T10:00:00-06:00"))]
    reading = clock.read_clock(MEXICO, start, pauses, 24 * HOUR, now=at("2026-09-14T12:00-06:00"))
    assert reading.paused_seconds == 2.5 * HOUR
    assert reading.elapsed_seconds == 0.5 * HOUR + 2 * HOUR
    assert reading.due_at == at("2026-09-17T13:30:00-06:00")
    assert reading.due_at == MEXICO.add_business_seconds(start, 24 * HOUR + 2.5 * HOUR)


def test_an_open_pause_projects_the_due_from_now_and_keeps_the_state_paused():
    start = at("2026-09-14T08:00:00-06:00")
    pauses = [(at("2026-09-14T09:00:00-06:00"), None)]
    reading = clock.read_clock(MEXICO, start, pauses, 4 * HOUR, now=at("2026-09-14T12:00-06:00"))
    assert reading.state == clock.PAUSED and reading.is_paused
    assert reading.elapsed_seconds == HOUR
    assert reading.due_at == at("2026-09-14T15:00:00-06:00")


def test_breached_is_strictly_past_the_target_and_stays_breached_while_paused():
    start = at("2026-09-14T08:00:00-06:00")
    exactly = clock.read_clock(MEXICO, start, [], HOUR, now=at("2026-09-14T09:00-06:00"))
    assert exactly.state == clock.RUNNING and exactly.percentage == 100
    stopped = clock.read_clock(
        MEXICO, start, [], HOUR, now=at("2026-09-15T09:00-06:00"), stopped_at=exactly.due_at
    )
    assert stopped.state == clock.ACHIEVED
    late = clock.read_clock(
        MEXICO,
        start,
        [(at("2026-09-14T10:00-06:00"), None)],
        HOUR,
        now=at("2026-09-14T11:00-06:00"),
    )
    assert late.state == clock.BREACHED and late.due_at == at("2026-09-14T09:00-06:00")


def test_a_24x7_calendar_counts_wall_time():
    calendar = Calendar.always()
    start = at("2026-09-16T00:00:00+00:00")
    reading = clock.read_clock(calendar, start, [], HOUR, now=start + dt.timedelta(minutes=30))
    assert reading.elapsed_seconds == 1800 and reading.percentage == 50
    assert reading.due_at == start + dt.timedelta(hours=1)


# -- properties --------------------------------------------------------------------------

BASE = at("2026-09-07T00:00:00+00:00")  # a Monday; the range spans Independence Day
offsets = st.integers(min_value=0, max_value=21 * 24 * 60)  # minutes within three weeks


def instant(minutes: int) -> dt.datetime:
    return BASE + dt.timedelta(minutes=minutes)


@st.composite
def pause_lists(draw):
    spans = draw(st.lists(st.tuples(offsets, st.integers(0, 4 * 24 * 60)), max_size=4))
    return [(instant(a), instant(a + length)) for a, length in spans]


targets = st.integers(min_value=1, max_value=60 * HOUR)


@settings(max_examples=150, deadline=None)
@given(start=offsets, pauses=pause_lists(), target=targets, now=offsets)
def test_elapsed_is_between_zero_and_wall_time(start, pauses, target, now):
    assume(now >= start)
    reading = clock.read_clock(MEXICO, instant(start), pauses, target, instant(now))
    assert 0 <= reading.elapsed_seconds <= (now - start) * 60
    business = MEXICO.business_seconds(instant(start), instant(now))
    assert abs(reading.elapsed_seconds + reading.paused_seconds - business) < 1e-6


@settings(max_examples=150, deadline=None)
@given(start=offsets, pauses=pause_lists(), target=targets, now=offsets)
def test_pausing_never_brings_the_due_earlier(start, pauses, target, now):
    without = clock.read_clock(MEXICO, instant(start), [], target, instant(now))
    with_pauses = clock.read_clock(MEXICO, instant(start), pauses, target, instant(now))
    assert with_pauses.due_at >= without.due_at
    assert with_pauses.elapsed_seconds <= without.elapsed_seconds


@settings(max_examples=150, deadline=None)
@given(start=offsets, pauses=pause_lists(), target=targets)
def test_due_is_start_plus_target_plus_pauses_when_the_pauses_come_first(start, pauses, target):
    now = instant(60 * 24 * 60)  # long after everything
    reading = clock.read_clock(MEXICO, instant(start), pauses, target, now)
    assume(all(until <= reading.due_at for _, until in pauses))
    expected = MEXICO.add_business_seconds(instant(start), target + reading.paused_seconds)
    assert reading.due_at == expected


@settings(max_examples=100, deadline=None)
@given(start=offsets, pauses=pause_lists(), target=targets, a=offsets, b=offsets)
def test_elapsed_never_goes_backwards_and_breach_is_for_good(start, pauses, target, a, b):
    first, second = sorted((a, b))
    early = clock.read_clock(MEXICO, instant(start), pauses, target, instant(first))
    late = clock.read_clock(MEXICO, instant(start), pauses, target, instant(second))
    assert late.elapsed_seconds >= early.elapsed_seconds
    if early.state == clock.BREACHED:
        assert late.state == clock.BREACHED
    assert (late.state == clock.BREACHED) == (late.elapsed_seconds > target)


@settings(max_examples=100, deadline=None)
@given(start=offsets, target=targets, share=st.integers(1, 99))
def test_a_warning_instant_is_where_the_percentage_is_reached(start, target, share):
    reached = clock.reach_instant(MEXICO, instant(start), [], target * share / 100, instant(start))
    reading = clock.read_clock(MEXICO, instant(start), [], target, reached)
    assert abs(reading.percentage - share) < 1e-6
