"""Business calendars: working time arithmetic for SLA clocks. Pure: no ORM, values in and out.

A :class:`Calendar` is an IANA time zone, weekly working periods in local wall-clock time
(weekday 0 = Monday), non-working dates (public holidays, plant shutdowns), dates worked
anyway (a public holiday worked as normal), and a 24x7 flag.

Semantics
---------
* An instant is *working* when it lies in one of the half-open UTC intervals ``[start, end)``
  obtained by mapping each working period of each local date to UTC. Business time between
  two instants is the total length of working intervals between them.
* ``add_business_seconds(start, n)`` returns the *earliest* instant at which ``n`` business
  seconds have elapsed since ``start``; when ``start`` is outside working time the count
  starts at the next working period. A target reached exactly at the end of a period stays
  there (a deadline of Friday 18:00, not Monday 08:00). ``n == 0`` returns ``start``.
* Dates worked anyway beat holidays. A worked date whose weekday has no periods (a Saturday
  made up for a bridge holiday) uses the periods of the first weekday that has some.
* An end time of ``00:00`` means midnight at the end of the day (24:00).
* A 24x7 calendar is working at every instant, holidays included.

Local times that do not exist or exist twice (DST changes)
---------------------------------------------------------
A local wall-clock time maps to *the first instant at which the local clock shows that time
or later*:

* nonexistent (the clock jumps forward, e.g. 02:30 on the night New York springs forward, or
  00:00 in Santiago when DST starts at midnight): the instant of the jump, so a period
  02:30-04:00 on that night starts when the clock jumps to 03:00 and lasts one hour;
* ambiguous (the clock is set back and repeats an hour): the first occurrence, so a period
  00:00-08:00 on that night lasts nine real hours, as the people working it experience.

Periods are therefore measured in real elapsed time, which is what SLAs are about: a working
day shortened or lengthened by a DST change counts one hour less or more.

Performance
-----------
Instants are handled as integer microseconds since the epoch, so all arithmetic is exact.
Working intervals are built once per calendar per block of 52 weeks (UTC) and kept with a
running total; a query is then two binary searches plus a sum of whole-block totals, however
long the duration.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Calendar", "YearlyDates"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECONDS = 1_000_000
_DAY_US = 86_400 * MICROSECONDS
_BLOCK_DAYS = 364
_BLOCK_US = _BLOCK_DAYS * _DAY_US
#: Give up after this many consecutive blocks (≈ years) without any working time.
MAX_EMPTY_BLOCKS = 8
_MAX_CACHED_BLOCKS = 256
_MIDNIGHT = time(0)

Period = tuple[time, time]


def to_microseconds(instant: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    try:
        delta = instant - EPOCH
    except TypeError as error:  # naive: cannot subtract from an aware datetime
        raise ValueError(f"{instant!r} is naive; business time needs aware datetimes") from error
    return (delta.days * 86_400 + delta.seconds) * MICROSECONDS + delta.microseconds


def from_microseconds(value: int) -> datetime:
    """The aware UTC datetime ``value`` microseconds after the epoch."""
    days, rest = divmod(value, _DAY_US)
    seconds, microseconds = divmod(rest, MICROSECONDS)
    return EPOCH + timedelta(days, seconds, microseconds)  # positional: much faster


def _duration_us(seconds: float) -> int:
    value = seconds * MICROSECONDS if isinstance(seconds, int) else round(seconds * MICROSECONDS)
    if value < 0:
        raise ValueError("a business duration cannot be negative")
    return value


class YearlyDates:
    """A lazy set of dates, loaded one year at a time (public holidays) plus fixed extras.

    ``loader(year)`` returns the dates of that year; it is called at most once per year.
    """

    __slots__ = ("_extra", "_loader", "_years")

    def __init__(self, loader: Callable[[int], Iterable[date]], extra: Iterable[date] = ()):
        self._loader = loader
        self._extra = frozenset(extra)
        self._years: dict[int, frozenset[date]] = {}

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        if day in self._extra:
            return True
        year = self._years.get(day.year)
        if year is None:
            year = self._years[day.year] = frozenset(self._loader(day.year))
        return day in year

    def __repr__(self) -> str:
        return f"YearlyDates(extra={sorted(self._extra)!r}, loaded={sorted(self._years)!r})"


class _Block:
    """Working intervals of one 52-week UTC block, with running business totals."""

    __slots__ = ("before", "ends", "starts", "through", "total")

    def __init__(
        self, starts: list[int], ends: list[int], before: list[int], through: list[int], total: int
    ) -> None:
        self.starts = starts
        self.ends = ends
        self.before = before  # business µs in the block before interval i starts
        self.through = through  # business µs in the block up to the end of interval i
        self.total = total


def _normalise_weekly(
    weekly: Mapping[int, Iterable[Period]] | Sequence[Iterable[Period]],
) -> tuple[tuple[Period, ...], ...]:
    """Seven sorted tuples of periods, Monday first, from a mapping or a 7-item sequence."""
    days: list[list[Period]] = [[] for _ in range(7)]
    if isinstance(weekly, Mapping):
        items = weekly.items()
    elif len(weekly) == 7:
        items = enumerate(weekly)
    else:
        raise ValueError("weekly periods are a mapping weekday -> periods, or 7 lists")
    for weekday, periods in items:
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {weekday!r}")
        for start, end in periods:
            if not isinstance(start, time) or not isinstance(end, time):
                raise ValueError("working periods are pairs of datetime.time")
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("working period times are local: give them without tzinfo")
            if end != _MIDNIGHT and end <= start:
                raise ValueError(f"working period {start:%H:%M}-{end:%H:%M} ends before it starts")
            days[weekday].append((start, end))
    for weekday, periods in enumerate(days):
        periods.sort()
        for (_, end), (start, _) in itertools.pairwise(periods):
            if end == _MIDNIGHT or start < end:
                raise ValueError(f"working periods overlap on weekday {weekday}")
    return tuple(tuple(periods) for periods in days)


@dataclass(frozen=True)
class Calendar:
    """Working time of a place. Build once, query many times (it caches its intervals)."""

    time_zone: str
    weekly: Mapping[int, Iterable[Period]] = field(default_factory=dict)
    holidays: Container[date] = frozenset()
    working_dates: Iterable[date] = frozenset()
    is_24x7: bool = False
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    _blocks: dict[int, _Block] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
            raise ValueError(f"{self.time_zone!r} is not an IANA time zone") from error
        weekly = _normalise_weekly(self.weekly)
        if not self.is_24x7 and not any(weekly):
            raise ValueError("the calendar has no working time: give working periods or 24x7")
        holidays = self.holidays
        if isinstance(holidays, set | list | tuple):
            holidays = frozenset(holidays)
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "working_dates", frozenset(self.working_dates))
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_blocks", {})

    @classmethod
    def standard(
        cls,
        time_zone: str,
        *,
        hours: tuple[tuple[int, int], tuple[int, int]] = ((8, 0), (18, 0)),
        weekdays: Iterable[int] = range(5),
        holidays: Container[date] = frozenset(),
        working_dates: Iterable[date] = frozenset(),
    ) -> Calendar:
        """The same hours every working weekday (Monday to Friday 08:00-18:00 by default)."""
        return cls(time_zone, standard_weekly(hours, weekdays), holidays, working_dates)

    @classmethod
    def always(cls, time_zone: str = "UTC") -> Calendar:
        """A 24x7 calendar."""
        return cls(time_zone, is_24x7=True)

    # -- public API on datetimes -------------------------------------------------------------

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Business seconds from ``start`` to ``end`` (0 when ``end <= start``)."""
        return self.business_us(to_microseconds(start), to_microseconds(end)) / MICROSECONDS

    def business_time(self, start: datetime, end: datetime) -> timedelta:
        """Business time from ``start`` to ``end``, exact to the microsecond."""
        return timedelta(
            microseconds=self.business_us(to_microseconds(start), to_microseconds(end))
        )

    def business_minutes_between(self, start: datetime, end: datetime) -> float:
        return self.business_seconds(start, end) / 60

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The earliest instant ``seconds`` business seconds after ``start`` (UTC)."""
        return from_microseconds(self.add_us(to_microseconds(start), _duration_us(seconds)))

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant ``duration`` of business time after ``start`` (UTC)."""
        micro = duration // timedelta(microseconds=1)
        return from_microseconds(self.add_us(to_microseconds(start), micro))

    def add_business_minutes(self, start: datetime, minutes: float) -> datetime:
        return self.add_business_seconds(start, minutes * 60)

    def is_working(self, instant: datetime) -> bool:
        return self.is_working_us(to_microseconds(instant))

    def next_working_instant(self, instant: datetime) -> datetime:
        """``instant`` itself when it is working time, else the start of the next period."""
        return from_microseconds(self.next_working_us(to_microseconds(instant)))

    def working_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The UTC working intervals of a local date (empty on holidays and days off)."""
        return [
            (from_microseconds(start), from_microseconds(end))
            for start, end in self._day_intervals(day)
        ]

    # -- the same on integer microseconds since the epoch ------------------------------------

    def business_us(self, start: int, end: int) -> int:
        if end <= start:
            return 0
        if self.is_24x7:
            return end - start
        first, last = start // _BLOCK_US, end // _BLOCK_US
        block = self._blocks.get(first) or self._block(first)
        if first != last:
            total = block.total - _elapsed(block, start)
            for index in range(first + 1, last):
                total += self._block(index).total
            return total + _elapsed(self._block(last), end)
        # The common case, inlined: both ends in one block.
        starts, ends, before = block.starts, block.ends, block.before
        low = bisect.bisect_right(starts, start) - 1
        high = bisect.bisect_right(starts, end, max(low, 0)) - 1
        if high < 0:
            return 0
        elapsed = before[high] + min(end, ends[high]) - starts[high]
        if low >= 0:
            elapsed -= before[low] + min(start, ends[low]) - starts[low]
        return elapsed

    def add_us(self, start: int, duration: int) -> int:
        if duration <= 0:
            if duration < 0:
                raise ValueError("a business duration cannot be negative")
            return start
        if self.is_24x7:
            return start + duration
        index = start // _BLOCK_US
        block = self._blocks.get(index) or self._block(index)
        starts = block.starts
        position = bisect.bisect_right(starts, start) - 1
        target = duration
        if position >= 0:
            target += block.before[position] + min(start, block.ends[position]) - starts[position]
        if target <= block.total:
            position = bisect.bisect_left(block.through, target, max(position, 0))
            return starts[position] + target - block.before[position]
        empty = 0
        while target > block.total:
            target -= block.total
            empty = empty + 1 if block.total == 0 else 0
            if empty > MAX_EMPTY_BLOCKS:
                raise ValueError(f"no working time in {self.time_zone} calendar for years")
            index += 1
            block = self._block(index)
        position = bisect.bisect_left(block.through, target)
        return block.starts[position] + target - block.before[position]

    def is_working_us(self, instant: int) -> bool:
        if self.is_24x7:
            return True
        block = self._block(instant // _BLOCK_US)
        position = bisect.bisect_right(block.starts, instant) - 1
        return position >= 0 and instant < block.ends[position]

    def next_working_us(self, instant: int) -> int:
        if self.is_24x7:
            return instant
        index = instant // _BLOCK_US
        block = self._block(index)
        position = bisect.bisect_right(block.starts, instant) - 1
        if position >= 0 and instant < block.ends[position]:
            return instant
        position += 1
        empty = 0
        while position >= len(block.starts):
            empty += 1
            if empty > MAX_EMPTY_BLOCKS:
                raise ValueError(f"no working time in {self.time_zone} calendar for years")
            index += 1
            block = self._block(index)
            position = 0
        return block.starts[position]

    # -- building intervals ------------------------------------------------------------------

    def periods_on(self, day: date) -> tuple[Period, ...]:
        """The local working periods of ``day`` after holidays and worked dates."""
        weekly: tuple[tuple[Period, ...], ...] = self.weekly  # type: ignore[assignment]
        periods = weekly[day.weekday()]
        if day in self.working_dates:  # type: ignore[operator]
            return periods or next(p for p in weekly if p)
        if not periods or day in self.holidays:
            return ()
        return periods

    def _day_intervals(self, day: date) -> list[tuple[int, int]]:
        intervals = []
        for start, end in self.periods_on(day):
            start_us = self._local_us(day, start)
            if end == _MIDNIGHT:
                end_us = self._local_us(day + timedelta(days=1), end)
            else:
                end_us = self._local_us(day, end)
            if end_us > start_us:
                intervals.append((start_us, end_us))
        return intervals

    def _local_us(self, day: date, at: time) -> int:
        """First instant at which the local clock shows ``day at`` or later (see module doc)."""
        local = datetime.combine(day, at, self._zone)
        earlier = to_microseconds(local)  # fold=0: offset before a transition
        later = to_microseconds(local.replace(fold=1))
        if earlier <= later:  # unambiguous, or ambiguous: take the first occurrence
            return earlier
        # In a gap: the clock jumped over ``at``; find the jump, between later and earlier.
        low, high = later // MICROSECONDS, -(-earlier // MICROSECONDS)
        offset = self._offset_at(low)
        while high - low > 1:
            middle = (low + high) // 2
            if self._offset_at(middle) == offset:
                low = middle
            else:
                high = middle
        return high * MICROSECONDS

    def _offset_at(self, seconds: int) -> timedelta | None:
        return datetime.fromtimestamp(seconds, self._zone).utcoffset()

    def _block(self, index: int) -> _Block:
        block = self._blocks.get(index)
        if block is None:
            if len(self._blocks) >= _MAX_CACHED_BLOCKS:
                self._blocks.clear()
            block = self._blocks[index] = self._build_block(index)
        return block

    def _build_block(self, index: int) -> _Block:
        low, high = index * _BLOCK_US, (index + 1) * _BLOCK_US
        day = from_microseconds(low).date() - timedelta(days=2)
        last = from_microseconds(high).date() + timedelta(days=1)
        starts: list[int] = []
        ends: list[int] = []
        before: list[int] = []
        through: list[int] = []
        total = 0
        while day <= last:
            for start, end in self._day_intervals(day):
                start, end = max(start, low), min(end, high)
                if end <= start:
                    continue
                starts.append(start)
                ends.append(end)
                before.append(total)
                total += end - start
                through.append(total)
            day += timedelta(days=1)
        return _Block(starts, ends, before, through, total)


def _elapsed(block: _Block, instant: int) -> int:
    """Business µs in ``block`` from its start up to ``instant`` (inside the block)."""
    position = bisect.bisect_right(block.starts, instant) - 1
    if position < 0:
        return 0
    start = block.starts[position]
    return block.before[position] + min(instant, block.ends[position]) - start


def standard_weekly(
    hours: tuple[tuple[int, int], tuple[int, int]] = ((8, 0), (18, 0)),
    weekdays: Iterable[int] = range(5),
) -> dict[int, Sequence[Period]]:
    period = (time(*hours[0]), time(*hours[1]))
    return {day: [period] for day in weekdays}
