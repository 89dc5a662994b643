"""SLA clock arithmetic. Pure: a calendar, a start, pause intervals, a target and "now" in;
elapsed business time, the due instant, the percentage and the state out. No ORM.

Semantics
---------
* The clock counts business time (per the calendar) from ``start`` to ``now`` (or to
  ``stopped_at`` when it has stopped), minus the business time inside pause intervals.
  Time outside working hours never counts, paused or not.
* ``due_at`` is the earliest instant at which the counted time reaches the target. When all
  pauses lie before it, ``due_at == calendar.add_business_seconds(start, target + paused)``.
  While the clock is paused the due instant is projected as if it resumed *now*: it moves
  later for as long as the pause lasts, never earlier.
* ``state``: ``breached`` once the counted time exceeds the target (strictly: reaching the
  target at the due instant exactly is still met), for good; otherwise ``achieved`` when
  stopped, ``paused`` inside an open pause, ``running`` else.
* Pause intervals may overlap, be unsorted or reach outside ``[start, end]``: they are
  clipped and merged. An open pause is ``(since, None)``.

Everything is computed on integer microseconds, so the properties hold exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from itsmo.organization.calendar import (
    MICROSECONDS,
    Calendar,
    from_microseconds,
    to_microseconds,
)

RUNNING = "running"
PAUSED = "paused"
ACHIEVED = "achieved"
BREACHED = "breached"

Pause = tuple[datetime, datetime | None]


@dataclass(frozen=True)
class ClockReading:
    elapsed_seconds: float
    paused_seconds: float
    due_at: datetime
    percentage: float
    state: str
    is_paused: bool


def _merge(pauses: Iterable[Pause], start: int, end: int) -> tuple[list[tuple[int, int]], bool]:
    """Pause intervals clipped to ``[start, end]``, sorted and merged; and whether one is open."""
    spans: list[tuple[int, int]] = []
    is_open = False
    for since, until in pauses:
        low = max(to_microseconds(since), start)
        if until is None:
            is_open = is_open or to_microseconds(since) <= end
            high = end
        else:
            high = min(to_microseconds(until), end)
        if high > low:
            spans.append((low, high))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for low, high in spans:
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged, is_open


def _segments(start: int, end: int, pauses: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The running stretches of ``[start, end]``: what the merged pauses leave."""
    segments = []
    cursor = start
    for low, high in pauses:
        if low > cursor:
            segments.append((cursor, low))
        cursor = max(cursor, high)
    if end > cursor:
        segments.append((cursor, end))
    return segments


def _reach(
    calendar: Calendar, segments: Sequence[tuple[int, int]], end: int, amount: int
) -> tuple[int, int]:
    """The instant the counted time reaches ``amount`` µs, and the time counted up to ``end``.

    When the amount is not reached by ``end``, the instant is projected from ``end`` on.
    """
    counted = 0
    reached: int | None = None
    for low, high in segments:
        length = calendar.business_us(low, high)
        if reached is None and counted + length >= amount:
            reached = calendar.add_us(low, amount - counted)
        counted += length
    if reached is None:
        reached = calendar.add_us(end, amount - counted)
    return reached, counted


def read_clock(
    calendar: Calendar,
    start: datetime,
    pauses: Iterable[Pause],
    target_seconds: float,
    now: datetime,
    stopped_at: datetime | None = None,
) -> ClockReading:
    """Where a clock stands at ``now``."""
    if target_seconds < 0:
        raise ValueError("the target must not be negative")
    start_us = to_microseconds(start)
    end_us = to_microseconds(now if stopped_at is None else min(now, stopped_at))
    end_us = max(end_us, start_us)
    merged, is_open = _merge(pauses, start_us, end_us)
    segments = _segments(start_us, end_us, merged)
    target_us = round(target_seconds * MICROSECONDS)
    due_us, elapsed_us = _reach(calendar, segments, end_us, target_us)
    paused_us = sum(calendar.business_us(low, high) for low, high in merged)
    is_paused = is_open and stopped_at is None
    if elapsed_us > target_us:
        state = BREACHED
    elif stopped_at is not None:
        state = ACHIEVED
    elif is_paused:
        state = PAUSED
    else:
        state = RUNNING
    percentage = 100.0 * elapsed_us / target_us if target_us else 100.0
    return ClockReading(
        elapsed_seconds=elapsed_us / MICROSECONDS,
        paused_seconds=paused_us / MICROSECONDS,
        due_at=from_microseconds(due_us),
        percentage=percentage,
        state=state,
        is_paused=is_paused,
    )


def reach_instant(
    calendar: Calendar,
    start: datetime,
    pauses: Iterable[Pause],
    seconds: float,
    now: datetime,
) -> datetime:
    """When a running clock's counted time reaches ``seconds`` (a warning threshold, say)."""
    start_us = to_microseconds(start)
    end_us = max(to_microseconds(now), start_us)
    merged, _ = _merge(pauses, start_us, end_us)
    instant, _ = _reach(
        calendar, _segments(start_us, end_us, merged), end_us, round(seconds * MICROSECONDS)
    )
    return from_microseconds(instant)


def next_threshold(thresholds: Iterable[int], last_warned: int) -> int | None:
    """The lowest threshold above ``last_warned`` (``None`` when none is left)."""
    pending = sorted(t for t in thresholds if t > last_warned)
    return pending[0] if pending else None
