"""Properties of business time arithmetic, checked with Hypothesis on varied calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest
from hypothesis import given, settings, strategies as st

from itsmo.organization.calendar import Calendar, YearlyDates

CALENDARS = {
    "mexico office": Calendar.standard(
        "America/Mexico_City",
        holidays=YearlyDates(
            lambda year: holidays.country_holidays("MX", years=year), extra={date(2025, 12, 24)}
        ),
    ),
    "new york night shifts": Calendar(
        "America/New_York",
        {
            5: [(time(22), time(0))],
            6: [(time(0), time(8)), (time(20), time(23, 30))],
            2: [(time(1, 30), time(2, 30)), (time(9), time(17))],
        },
        holidays={date(2024, 12, 25)},
    ),
    "santiago split day": Calendar(
        "America/Santiago",
        {day: [(time(8, 30), time(13)), (time(14), time(18, 15))] for day in range(6)},
        working_dates={date(2024, 9, 22)},
    ),
    "madrid weekends": Calendar(
        "Europe/Madrid", {5: [(time(0), time(0))], 6: [(time(2), time(3))]}
    ),
    "chatham 24x7": Calendar.always("Pacific/Chatham"),
    "kolkata across block edges": Calendar("Asia/Kolkata", {3: [(time(4), time(7))]}),
    "sparse": Calendar("Asia/Kolkata", {3: [(time(11, 15), time(11, 16))]}),
}

instants = st.datetimes(
    min_value=datetime(2023, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
durations = st.integers(min_value=0, max_value=60 * 86_400)
calendars = st.sampled_from(sorted(CALENDARS))

checks = settings(max_examples=300, deadline=None)


@checks
@given(calendars, instants, durations)
def test_adding_then_measuring_gives_the_duration_back(name, start, seconds):
    calendar = CALENDARS[name]
    end = calendar.add_business_seconds(start, seconds)
    assert end >= start
    assert calendar.business_seconds(start, end) == seconds


@checks
@given(calendars, instants, st.integers(min_value=1, max_value=60 * 86_400))
def test_the_deadline_is_the_earliest_instant(name, start, seconds):
    calendar = CALENDARS[name]
    end = calendar.add_business_seconds(start, seconds)
    assert calendar.business_seconds(start, end - timedelta(microseconds=1)) < seconds
    assert calendar.is_working(end - timedelta(microseconds=1))


@checks
@given(calendars, instants, instants)
def test_business_time_never_exceeds_wall_time(name, start, end):
    calendar = CALENDARS[name]
    business = calendar.business_seconds(start, end)
    assert 0 <= business <= max(0.0, (end - start).total_seconds())


@checks
@given(calendars, st.lists(instants, min_size=3, max_size=3, unique=True))
def test_business_time_is_additive_and_monotonic(name, moments):
    calendar = CALENDARS[name]
    first, middle, last = sorted(moments)
    whole = calendar.business_time(first, last)
    assert whole == calendar.business_time(first, middle) + calendar.business_time(middle, last)
    assert calendar.business_time(first, middle) <= whole


@checks
@given(calendars, instants, durations, durations)
def test_adding_is_monotonic_and_composes(name, start, shorter, longer):
    calendar = CALENDARS[name]
    shorter, longer = sorted((shorter, longer))
    assert calendar.add_business_seconds(start, shorter) <= calendar.add_business_seconds(
        start, longer
    )
    if shorter > 0:
        midway = calendar.add_business_seconds(start, shorter)
        assert calendar.add_business_seconds(midway, longer - shorter) == (
            calendar.add_business_seconds(start, longer)
        )


@checks
@given(calendars, instants)
def test_next_working_instant_is_working_and_skips_only_idle_time(name, instant):
    calendar = CALENDARS[name]
    after = calendar.next_working_instant(instant)
    assert after >= instant
    assert calendar.is_working(after)
    assert calendar.business_seconds(instant, after) == 0
    assert calendar.is_working(instant) == (after == instant)


def reference_business_seconds(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Day by day over the local working intervals: slow, obviously right."""
    total = timedelta()
    day = start.date() - timedelta(days=2)
    while day <= end.date() + timedelta(days=1):
        for low, high in calendar.working_intervals(day):
            overlap = min(high, end) - max(low, start)
            total += max(overlap, timedelta())
        day += timedelta(days=1)
    return total.total_seconds()


@pytest.mark.parametrize("name", sorted(set(CALENDARS) - {"chatham 24x7"}))
@settings(max_examples=60, deadline=None)
@given(start=instants, span=st.integers(min_value=0, max_value=40 * 86_400))
def test_block_arithmetic_matches_a_day_by_day_reference(name, start, span):
    calendar = CALENDARS[name]
    end = start + timedelta(seconds=span)
    assert calendar.business_seconds(start, end) == reference_business_seconds(calendar, start, end)
