"""Benchmark the business-calendar engine on the 16 demo countries.

Pure Python, no Django: builds each country's Monday-Friday 08:00-18:00 calendar with its
real IANA zone and public holidays (``holidays`` package), generates random
(start, duration, country) cases with a fixed seed, then times ``add_business_seconds`` and
``business_seconds`` over all of them, checks every round trip, and samples per-call latency.

    .venv/bin/python bench/business_time.py [--cases 1000000] [--seed 20240916]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import holidays

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from itsmo.organization.calendar import Calendar, YearlyDates

COUNTRIES = {
    "MX": "America/Mexico_City",
    "GT": "America/Guatemala",
    "DO": "America/Santo_Domingo",
    "PR": "America/Puerto_Rico",
    "PA": "America/Panama",
    "CR": "America/Costa_Rica",
    "HN": "America/Tegucigalpa",
    "SV": "America/El_Salvador",
    "CO": "America/Bogota",
    "EC": "America/Guayaquil",
    "PE": "America/Lima",
    "VE": "America/Caracas",
    "BR": "America/Sao_Paulo",
    "AR": "America/Argentina/Buenos_Aires",
    "UY": "America/Montevideo",
    "CL": "America/Santiago",
}
FIRST = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 3 * 365 * 86_400  # starts over 2024-2026
SAMPLE = 20_000
MINUTE, HOUR = 60, 3600


class Phase:
    """Time a block by the wall clock and by this process's CPU time.

    CPU time is the figure to compare across runs on a shared machine: other processes
    competing for the cores stretch the wall clock, not this process's CPU time.
    """

    def __init__(self, name: str, calls: int) -> None:
        self.name, self.calls = name, calls

    def __enter__(self) -> Phase:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc_info) -> None:
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        print(
            f"{self.name + ':':22} wall {wall:5.2f} s = {self.calls / wall:>9,.0f} calls/s"
            f" | CPU {cpu:5.2f} s = {self.calls / cpu:>9,.0f} calls/s"
        )


def build_calendars() -> list[Calendar]:
    def loader(code: str):
        return lambda year: holidays.country_holidays(code, years=year).keys()

    return [
        Calendar.standard(zone, holidays=YearlyDates(loader(code)))
        for code, zone in COUNTRIES.items()
    ]


def duration(rng: random.Random) -> int:
    """Typical SLA targets: mostly hours, some days, a few up to two working weeks."""
    draw = rng.random()
    if draw < 0.6:
        return rng.randrange(15 * MINUTE, 10 * HOUR)
    if draw < 0.9:
        return rng.randrange(10 * HOUR, 50 * HOUR)
    return rng.randrange(50 * HOUR, 100 * HOUR + 1)


def percentiles(samples_ns: list[int]) -> str:
    cuts = statistics.quantiles(samples_ns, n=100)
    p50, p95, p99 = (cuts[index] / 1000 for index in (49, 94, 98))
    return f"p50 {p50:.2f} µs  p95 {p95:.2f} µs  p99 {p99:.2f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240916)
    options = parser.parse_args()
    began = time.perf_counter()

    clock = time.perf_counter()
    calendars = build_calendars()
    rng = random.Random(options.seed)
    chosen = [rng.choice(calendars) for _ in range(options.cases)]
    starts = [
        FIRST
        + timedelta(seconds=rng.randrange(SPAN_SECONDS), microseconds=rng.randrange(1_000_000))
        for _ in range(options.cases)
    ]
    durations = [duration(rng) for _ in range(options.cases)]
    print(f"cases: {options.cases:,} over {len(calendars)} countries, seed {options.seed}")
    print(f"generate cases: {time.perf_counter() - clock:.2f} s")

    clock = time.perf_counter()
    for calendar in calendars:  # first touch: holidays and interval blocks for 2024-2027
        for year in range(2024, 2028):
            calendar.business_seconds(
                datetime(year, 1, 1, tzinfo=UTC), datetime(year, 12, 31, tzinfo=UTC)
            )
    print(
        f"warm-up (holidays + interval blocks, 16 calendars x 4 years): "
        f"{time.perf_counter() - clock:.3f} s"
    )

    with Phase("add_business_seconds", options.cases):
        ends = [
            calendar.add_business_seconds(start, seconds)
            for calendar, start, seconds in zip(chosen, starts, durations, strict=True)
        ]
    with Phase("business_seconds", options.cases):
        measured = [
            calendar.business_seconds(start, end)
            for calendar, start, end in zip(chosen, starts, ends, strict=True)
        ]

    wrong = sum(1 for got, want in zip(measured, durations, strict=True) if got != want)
    print(f"round trips business_seconds(s, add(s, n)) != n: {wrong}")

    timer = time.perf_counter_ns
    indices = rng.sample(range(options.cases), min(SAMPLE, options.cases))
    add_ns, between_ns = [], []
    for index in indices:
        calendar, start, seconds, end = (
            chosen[index],
            starts[index],
            durations[index],
            ends[index],
        )
        tick = timer()
        calendar.add_business_seconds(start, seconds)
        add_ns.append(timer() - tick)
        tick = timer()
        calendar.business_seconds(start, end)
        between_ns.append(timer() - tick)
    gaps = []
    for _ in range(1000):
        tick = timer()
        gaps.append(timer() - tick)
    overhead = statistics.median(gaps)
    print(f"latency over {len(indices):,} sampled calls (timer overhead ~{overhead} ns included)")
    print(f"  add_business_seconds: {percentiles(add_ns)}")
    print(f"  business_seconds:     {percentiles(between_ns)}")

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS: {peak / 1024:.0f} MiB (mostly the 1M cases held in lists)")
    print(
        f"total wall time: {time.perf_counter() - began:.1f} s, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    if wrong:
        raise SystemExit("round trips failed")


if __name__ == "__main__":
    main()
