"""Hand-worked cases for the pure business calendar."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from itsmo.organization.calendar import Calendar, YearlyDates

HOUR = 3600
MEXICO = ZoneInfo("America/Mexico_City")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
NEW_YORK = ZoneInfo("America/New_York")
SANTIAGO = ZoneInfo("America/Santiago")
MADRID = ZoneInfo("Europe/Madrid")


def local(zone, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


@pytest.fixture(scope="module")
def mexico_calendar():
    return Calendar.standard("America/Mexico_City", holidays=holidays.country_holidays("MX"))


@pytest.fixture(scope="module")
def brazil_calendar():
    return Calendar.standard("America/Sao_Paulo", holidays=holidays.country_holidays("BR"))


def test_friday_evening_to_monday_morning(mexico_calendar):
    # given Friday 6 September 2024, 17:00 in Mexico City (one working hour left)
    start = local(MEXICO, 2024, 9, 6, 17)
    # when two business hours are added
    deadline = mexico_calendar.add_business_seconds(start, 2 * HOUR)
    # then the clock resumes on Monday at 08:00 and ends at 09:00
    assert deadline == local(MEXICO, 2024, 9, 9, 9)
    assert deadline.tzinfo is UTC
    assert mexico_calendar.business_seconds(start, deadline) == 2 * HOUR


def test_a_deadline_at_the_end_of_the_day_stays_there(mexico_calendar):
    start = local(MEXICO, 2024, 9, 6, 16)
    assert mexico_calendar.add_business_seconds(start, 2 * HOUR) == local(MEXICO, 2024, 9, 6, 18)


def test_counting_starts_at_the_next_working_period(mexico_calendar):
    # given a Saturday morning
    start = local(MEXICO, 2024, 9, 7, 10)
    # then one business hour ends on Monday at 09:00, and nothing counts before Monday
    assert mexico_calendar.add_business_seconds(start, HOUR) == local(MEXICO, 2024, 9, 9, 9)
    assert mexico_calendar.business_seconds(start, local(MEXICO, 2024, 9, 9, 8)) == 0


def test_zero_duration_returns_the_start(mexico_calendar):
    start = local(MEXICO, 2024, 9, 7, 10)
    assert mexico_calendar.add_business_seconds(start, 0) == start


def test_mexican_independence_day_is_skipped(mexico_calendar):
    # given Friday 13 September 2024, 17:00; Monday 16 September is a national holiday
    start = local(MEXICO, 2024, 9, 13, 17)
    # when two business hours are added
    deadline = mexico_calendar.add_business_seconds(start, 2 * HOUR)
    # then the deadline is Tuesday 09:00
    assert deadline == local(MEXICO, 2024, 9, 17, 9)
    assert mexico_calendar.business_seconds(start, local(MEXICO, 2024, 9, 17, 18)) == 11 * HOUR


def test_brazilian_independence_day_is_skipped(brazil_calendar):
    # given Wednesday 6 September 2023, 17:00 in São Paulo; Thursday 7 September is a holiday
    start = local(SAO_PAULO, 2023, 9, 6, 17)
    deadline = brazil_calendar.add_business_seconds(start, 2 * HOUR)
    assert deadline == local(SAO_PAULO, 2023, 9, 8, 9)
    assert brazil_calendar.business_minutes_between(start, deadline) == 120


def test_plant_shutdown_is_not_working_time():
    # given Monday 23 December 2024 is a plant shutdown
    calendar = Calendar.standard("America/Mexico_City", holidays={date(2024, 12, 23)})
    # when two hours are added on Friday 20 December at 17:00
    deadline = calendar.add_business_seconds(local(MEXICO, 2024, 12, 20, 17), 2 * HOUR)
    # then the clock skips the shutdown
    assert deadline == local(MEXICO, 2024, 12, 24, 9)
    assert not calendar.is_working(local(MEXICO, 2024, 12, 23, 10))


def test_a_public_holiday_worked_as_normal():
    calendar = Calendar.standard(
        "America/Mexico_City",
        holidays=YearlyDates(lambda year: holidays.country_holidays("MX", years=year)),
        working_dates={date(2024, 9, 16)},
    )
    deadline = calendar.add_business_seconds(local(MEXICO, 2024, 9, 13, 17), 2 * HOUR)
    assert deadline == local(MEXICO, 2024, 9, 16, 9)


def test_a_worked_saturday_uses_the_first_working_weekday_hours():
    calendar = Calendar.standard("America/Bogota", working_dates={date(2024, 9, 7)})
    start, end = calendar.working_intervals(date(2024, 9, 7))[0]
    assert (start, end) == (
        local(ZoneInfo("America/Bogota"), 2024, 9, 7, 8),
        local(ZoneInfo("America/Bogota"), 2024, 9, 7, 18),
    )


def test_new_york_spring_forward_weekend():
    # given New York office hours; clocks spring forward on Sunday 10 March 2024
    calendar = Calendar.standard("America/New_York")
    start = local(NEW_YORK, 2024, 3, 8, 17)  # 22:00 UTC (EST)
    # when two business hours are added
    deadline = calendar.add_business_seconds(start, 2 * HOUR)
    # then Monday 09:00 is in EDT, i.e. 13:00 UTC
    assert deadline == datetime(2024, 3, 11, 13, tzinfo=UTC)
    assert calendar.business_seconds(start, deadline) == 2 * HOUR


def test_24x7_counts_real_time_across_a_dst_change():
    calendar = Calendar.always("America/New_York")
    start, end = local(NEW_YORK, 2024, 3, 9, 12), local(NEW_YORK, 2024, 3, 10, 12)
    assert calendar.business_seconds(start, end) == 23 * HOUR
    assert calendar.add_business_seconds(start, 23 * HOUR) == end
    assert calendar.is_working(local(NEW_YORK, 2024, 12, 25, 3))


def test_24x7_ignores_holidays():
    calendar = Calendar("America/Mexico_City", holidays={date(2024, 9, 16)}, is_24x7=True)
    start = local(MEXICO, 2024, 9, 16)
    assert calendar.business_seconds(start, start + timedelta(days=1)) == 24 * HOUR


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2024, 3, 10), 7),  # spring forward: 02:00 does not exist
        (date(2024, 11, 3), 9),  # fall back: 01:00-02:00 happens twice
        (date(2024, 3, 17), 8),
    ],
)
def test_night_shift_in_new_york_lasts_real_elapsed_time(day, hours):
    calendar = Calendar("America/New_York", {6: [(time(0), time(8))]})
    ((start, end),) = calendar.working_intervals(day)
    assert end - start == timedelta(hours=hours)
    assert calendar.business_seconds(start - timedelta(hours=1), end + timedelta(hours=1)) == (
        hours * HOUR
    )


def test_a_period_starting_in_the_spring_forward_gap_starts_at_the_jump():
    # given a Sunday period 02:30-04:00; on 10 March 2024 the clock jumps from 02:00 to 03:00
    calendar = Calendar("America/New_York", {6: [(time(2, 30), time(4))]})
    ((start, end),) = calendar.working_intervals(date(2024, 3, 10))
    # then it starts at the jump (03:00 EDT = 07:00 UTC) and lasts one hour
    assert start == datetime(2024, 3, 10, 7, tzinfo=UTC)
    assert end == local(NEW_YORK, 2024, 3, 10, 4)


def test_santiago_midnight_dst_change():
    # given a Saturday 22:00-24:00 and Sunday 00:00-08:00 shift in Santiago; on Sunday
    # 8 September 2024 the clock jumps from 00:00 to 01:00
    calendar = Calendar("America/Santiago", {5: [(time(22), time(0))], 6: [(time(0), time(8))]})
    start = local(SANTIAGO, 2024, 9, 7, 21)
    end = local(SANTIAGO, 2024, 9, 8, 9)
    # then the weekend shift holds nine real hours, without a hole at midnight
    assert calendar.business_seconds(start, end) == 9 * HOUR
    assert calendar.add_business_seconds(start, 2 * HOUR) == datetime(2024, 9, 8, 4, tzinfo=UTC)
    assert calendar.is_working(datetime(2024, 9, 8, 4, tzinfo=UTC))


def test_madrid_dst_change_weekend():
    # given Madrid office hours; clocks go forward on Sunday 31 March 2024
    calendar = Calendar.standard("Europe/Madrid")
    start = local(MADRID, 2024, 3, 29, 17)  # 16:00 UTC (CET)
    deadline = calendar.add_business_seconds(start, 2 * HOUR)
    assert deadline == datetime(2024, 4, 1, 7, tzinfo=UTC)  # 09:00 CEST
    # and back on Sunday 27 October 2024
    start = local(MADRID, 2024, 10, 25, 17)  # 15:00 UTC (CEST)
    assert calendar.add_business_seconds(start, 2 * HOUR) == datetime(2024, 10, 28, 8, tzinfo=UTC)


def test_is_working_and_next_working_instant(mexico_calendar):
    friday_close = local(MEXICO, 2024, 9, 6, 18)
    assert mexico_calendar.is_working(friday_close - timedelta(microseconds=1))
    assert not mexico_calendar.is_working(friday_close)
    assert mexico_calendar.next_working_instant(friday_close) == local(MEXICO, 2024, 9, 9, 8)
    monday = local(MEXICO, 2024, 9, 9, 10)
    assert mexico_calendar.next_working_instant(monday) == monday


def test_large_durations_cross_years_exactly(mexico_calendar):
    start = local(MEXICO, 2023, 12, 29, 12)
    duration = 3000 * HOUR  # about 14 months of office hours
    deadline = mexico_calendar.add_business_seconds(start, duration)
    assert deadline.year == 2025
    assert mexico_calendar.business_seconds(start, deadline) == duration


def test_minutes_and_timedelta_helpers(mexico_calendar):
    start = local(MEXICO, 2024, 9, 6, 17)
    assert mexico_calendar.add_business_minutes(start, 90) == local(MEXICO, 2024, 9, 9, 8, 30)
    assert mexico_calendar.add_business_time(start, timedelta(minutes=90)) == local(
        MEXICO, 2024, 9, 9, 8, 30
    )
    assert mexico_calendar.business_time(start, local(MEXICO, 2024, 9, 9, 8, 30)) == timedelta(
        minutes=90
    )


def test_end_before_start_is_zero(mexico_calendar):
    start = local(MEXICO, 2024, 9, 6, 12)
    assert mexico_calendar.business_seconds(start, start - timedelta(hours=3)) == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "IANA"),
        ({"weekly": {}}, "no working time"),
        ({"weekly": {7: [(time(8), time(18))]}}, "weekday"),
        ({"weekly": {0: [(time(18), time(8))]}}, "ends before"),
        ({"weekly": {0: [(time(8), time(12)), (time(11), time(18))]}}, "overlap"),
    ],
)
def test_bad_calendars_are_refused(arguments, message):
    values = {"time_zone": "America/Lima", "weekly": {0: [(time(8), time(18))]}} | arguments
    with pytest.raises(ValueError, match=message):
        Calendar(**values)


def test_naive_datetimes_and_negative_durations_are_refused(mexico_calendar):
    with pytest.raises(ValueError, match="naive"):
        mexico_calendar.business_seconds(datetime(2024, 1, 1), datetime(2024, 1, 2))
    with pytest.raises(ValueError, match="negative"):
        mexico_calendar.add_business_seconds(local(MEXICO, 2024, 1, 1), -1)


class Everything:
    def __contains__(self, day):
        return True


def test_a_calendar_where_every_day_is_a_holiday_stops_with_a_clear_error():
    calendar = Calendar.standard("America/Lima", holidays=Everything())
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="no working time"):
        calendar.add_business_seconds(start, HOUR)
    with pytest.raises(ValueError, match="no working time"):
        calendar.next_working_instant(start)


def test_a_period_split_by_an_internal_block_boundary_counts_in_full():
    # given a Thursday 04:00-07:00 period in Kolkata (UTC+05:30); the engine's 52-week
    # blocks start on Thursdays at 00:00 UTC, i.e. 05:30 in Kolkata, inside the period
    calendar = Calendar("Asia/Kolkata", {3: [(time(4), time(7))]})
    boundary = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=364 * 54)
    assert boundary.weekday() == 3
    hour = timedelta(hours=1)
    # then time on both sides of the boundary counts, and arithmetic crosses it exactly
    assert calendar.business_seconds(boundary - hour, boundary + hour) == 2 * HOUR
    assert calendar.business_seconds(boundary - 3 * hour, boundary + 3 * hour) == 3 * HOUR
    assert calendar.add_business_seconds(boundary - hour, 2 * HOUR) == boundary + hour
    assert calendar.is_working(boundary)
    assert calendar.next_working_instant(boundary) == boundary
    # 05:30-07:00 this week, then 04:00-04:30 next Thursday (Wednesday 23:00 UTC)
    assert calendar.add_business_seconds(boundary, 2 * HOUR) == boundary + timedelta(days=7) - hour


def test_a_calendar_can_be_copied_with_changes():
    # given an office calendar
    office = Calendar.standard("America/Lima")
    # when it is copied as 24x7 or rebuilt from its normalised week
    always = dataclasses.replace(office, is_24x7=True)
    same = Calendar("America/Lima", office.weekly)
    # then the copies behave as expected and compare by value
    saturday = local(ZoneInfo("America/Lima"), 2024, 9, 7, 10)
    assert always.is_working(saturday)
    assert not office.is_working(saturday)
    assert same == office
