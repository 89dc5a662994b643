"""Collision and blackout check when scheduling a change into a busy week (PostgreSQL).

Fixture, in its own database ``itsmo_bench_changes`` (created when missing, reused when
it already holds the fixture): a realistic CMDB from ``bench/cmdb_generate.py`` (default
200,000 CIs, ~3 relationships each), month-end blackout windows for the 16 countries over
two years, a global peak-season freeze and two regional blackouts inside the week, and
**10,000 changes scheduled in one week** (bulk-written, no journal: a fixture, not
history), each on one to three CIs drawn from servers, VMs, database instances,
applications, business applications and network devices (the CIs changes are made to), in
windows of one to six hours.

Then, for ``--samples`` new changes (each on one to three such CIs, a tenth of them on a
hub: a hypervisor host, storage array or router), it times

* ``check``: ``changes.services.check_schedule`` — the CMDB walk to related CIs (depth
  ``ITSMO_CHANGE_COLLISION_DEPTH``, default 2, both directions), the overlapping changes
  on them and the blackout windows of the countries touched: what ``POST
  /api/v1/changes/{number}/schedule`` runs before it answers 200 or 409;
* ``schedule``: ``changes.services.schedule_change`` with an override reason (the check
  plus the versioned write and the journal entries), rolled back after each sample;

and prints p50/p95/p99, how many samples collided, and the peak RSS of the process.
Target: p95 < 200 ms for the check.

    .venv/bin/python bench/changes_collision.py [--cis 200000] [--changes 10000]
        [--samples 300] [--rebuild]

Database: ITSMO_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/itsmo_bench_changes.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault(
    "ITSMO_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/itsmo_bench_changes"
)

import cmdb_generate

TARGET_P95_MS = 200.0
#: The week the fixture fills (a Monday, UTC).
WEEK = datetime(2027, 3, 8, tzinfo=UTC)
CHANGED_CLASSES = [
    "server",
    "virtual_machine",
    "database_instance",
    "application",
    "business_application",
    "network_device",
]
HUB_PREFIXES = ("esx-", "san-", "rt-")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def candidate_cis(rng: random.Random) -> tuple[list[tuple[int, int | None]], list[int]]:
    """(id, country id) of the CIs changes are made to, and the hub CIs among them."""
    from django.db import connection

    from itsmo.cmdb.models import CI, CIClass

    class_ids = list(CIClass.objects.filter(code__in=CHANGED_CLASSES).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, country_id, name FROM {CI._meta.db_table} "
            "WHERE ci_class_id = ANY(%s) AND status <> 'retired'",
            [class_ids],
        )
        rows = cursor.fetchall()
    hubs = [pk for pk, _c, name in rows if name.startswith(HUB_PREFIXES)]
    return [(pk, country) for pk, country, _name in rows], hubs


def build_fixture(total_changes: int, seed: int) -> None:
    """Blackout windows and ``total_changes`` changes scheduled in :data:`WEEK` (bulk)."""
    from django.db import connection, transaction

    from itsmo.changes.models import BlackoutWindow, Change, ChangeCI, ChangeType, Status
    from itsmo.core import numbering
    from itsmo.organization.models import Country

    rng = random.Random(seed)
    started = time.monotonic()
    countries = {c.pk: c for c in Country.objects.all()}
    cis, _hubs = candidate_cis(rng)
    with transaction.atomic():
        windows = []
        for month in range(24):
            first = datetime(2026 + month // 12, 1 + month % 12, 1, tzinfo=UTC)
            for country in countries.values():
                start = first - timedelta(days=2)
                windows.append(
                    BlackoutWindow(
                        name=f"Month-end close {country.code} {first:%Y-%m}",
                        start_at=start,
                        end_at=start + timedelta(days=3),
                        country=country,
                    )
                )
        windows.append(
            BlackoutWindow(
                name="Peak season 2026",
                start_at=datetime(2026, 12, 15, tzinfo=UTC),
                end_at=datetime(2027, 1, 2, tzinfo=UTC),
            )
        )
        regions = sorted({c.region_id for c in countries.values()})
        for index, region_id in enumerate(regions[:2]):  # blackouts inside the busy week
            start = WEEK + timedelta(days=2 + 2 * index)
            windows.append(
                BlackoutWindow(
                    name=f"Regional sales push {index + 1}",
                    start_at=start,
                    end_at=start + timedelta(days=1),
                    region_id=region_id,
                )
            )
        BlackoutWindow.objects.bulk_create(windows)
        numbers = numbering.next_references("CHG", total_changes)
        changes = []
        picks = []
        for number in numbers:
            chosen = rng.sample(cis, rng.choice([1, 1, 2, 3]))
            country = countries.get(chosen[0][1])
            start = WEEK + timedelta(minutes=rng.randrange(0, 7 * 24 * 60, 15))
            changes.append(
                Change(
                    number=number,
                    title=f"Bench change {number}",
                    type=rng.choice([ChangeType.STANDARD, ChangeType.NORMAL]),
                    status=Status.SCHEDULED,
                    approval="approved",
                    risk="low",
                    country=country,
                    region_id=country.region_id if country else None,
                    planned_start=start,
                    planned_end=start + timedelta(hours=rng.randint(1, 6)),
                    implementation_plan="bench",
                    backout_plan="bench",
                )
            )
            picks.append([pk for pk, _country in chosen])
        Change.objects.bulk_create(changes, batch_size=2000)
        links = [
            ChangeCI(change_id=change.pk, ci_id=pk)
            for change, chosen in zip(changes, picks, strict=True)
            for pk in chosen
        ]
        ChangeCI.objects.bulk_create(links, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"fixture: {len(windows)} blackout windows, {total_changes:,} changes on "
        f"{len(links):,} CIs in the week of {WEEK:%Y-%m-%d}, in {time.monotonic() - started:.1f} s",
        flush=True,
    )


def sample_changes(count: int, seed: int) -> list:
    """``count`` new changes (not yet scheduled) on one to three CIs, a tenth on a hub."""
    from django.db import transaction

    from itsmo.changes.models import Change, ChangeCI, ChangeType
    from itsmo.core import numbering
    from itsmo.organization.models import Country

    rng = random.Random(seed)
    cis, hubs = candidate_cis(rng)
    countries = {c.pk: c for c in Country.objects.all()}
    country_of = dict(cis)
    made = []
    with transaction.atomic():
        numbers = numbering.next_references("CHG", count)
        for index, number in enumerate(numbers):
            chosen = [pk for pk, _c in rng.sample(cis, rng.choice([1, 1, 2, 3]))]
            if index % 10 == 0 and hubs:
                chosen[0] = rng.choice(hubs)
            country = countries.get(country_of.get(chosen[0])) or rng.choice(
                list(countries.values())
            )
            change = Change.objects.create(
                number=number,
                title=f"Sample {number}",
                type=ChangeType.NORMAL,
                country=country,
                region_id=country.region_id,
                implementation_plan="bench",
                backout_plan="bench",
            )
            ChangeCI.objects.bulk_create(ChangeCI(change=change, ci_id=pk) for pk in set(chosen))
            made.append(change)
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cis", type=int, default=200_000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="drop and regenerate the fixture")
    options = parser.parse_args()
    if options.rebuild:
        drop_database(os.environ["ITSMO_DATABASE_URL"])
    cmdb_generate.setup_django()
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        raise SystemExit("this bench runs on PostgreSQL (ITSMO_DATABASE_URL)")
    from itsmo.changes import services
    from itsmo.changes.models import Change, Status

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    cis, relationships = cmdb_generate.counts()
    if cis < options.cis * 0.95:
        print(f"database holds {cis:,} CIs: generating ~{options.cis:,}", flush=True)
        cmdb_generate.build(options.cis, 7)
        cis, relationships = cmdb_generate.counts()
    in_week = Change.objects.filter(
        status=Status.SCHEDULED, planned_start__gte=WEEK, planned_start__lt=WEEK + timedelta(7)
    ).count()
    if in_week < options.changes:
        build_fixture(options.changes - in_week, options.seed)
        in_week = options.changes
    else:
        print("reusing the fixture (--rebuild regenerates it)", flush=True)
    print(
        f"== collision + blackout check: {in_week:,} changes scheduled in one week, "
        f"{cis:,} CIs, {relationships:,} relationships ({connection.settings_dict['NAME']})",
        flush=True,
    )
    samples = sample_changes(options.samples, options.seed + 1)
    rng = random.Random(options.seed + 2)
    windows = []
    for _ in samples:
        start = WEEK + timedelta(minutes=rng.randrange(0, 7 * 24 * 60, 15))
        windows.append((start, start + timedelta(hours=rng.randint(1, 4))))
    for change, (start, end) in zip(samples[:5], windows[:5], strict=True):
        services.check_schedule(change, start, end)  # warm the caches
    check_ms, schedule_ms, collided, blackout_hits, found_total = [], [], 0, 0, 0
    for change, (start, end) in zip(samples, windows, strict=True):
        began = time.perf_counter()
        found = services.check_schedule(change, start, end)
        check_ms.append((time.perf_counter() - began) * 1000)
        collided += bool(found.collisions)
        blackout_hits += bool(found.blackouts)
        found_total += len(found.collisions)
    for change, (start, end) in zip(samples, windows, strict=True):
        began = time.perf_counter()
        with transaction.atomic():
            services.schedule_change(
                change,
                actor=None,
                planned_start=start,
                planned_end=end,
                override_reason="bench",
            )
            schedule_ms.append((time.perf_counter() - began) * 1000)
            transaction.set_rollback(True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'what':<10}{'samples':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, values in (("check", check_ms), ("schedule", schedule_ms)):
        print(
            f"{name:<10}{len(values):>8}{percentile(values, 0.5):>9.1f}"
            f"{percentile(values, 0.95):>9.1f}{percentile(values, 0.99):>9.1f}"
            f"{max(values):>9.1f}"
        )
    print(
        f"samples colliding with another change: {collided}/{len(samples)} "
        f"({found_total} collisions in all); in a blackout window: {blackout_hits}"
    )
    print(f"peak RSS {peak_mb:.0f} MB; load average {os.getloadavg()[0]:.1f} at the end")
    p95 = percentile(check_ms, 0.95)
    verdict = "met" if p95 < TARGET_P95_MS else "NOT met"
    print(f"target p95 < {TARGET_P95_MS:.0f} ms for the check: {verdict} (p95 {p95:.1f} ms)")
    with transaction.atomic():
        Change.objects.filter(pk__in=[c.pk for c in samples]).delete()


def drop_database(url: str) -> None:
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    for maintenance in ("postgres", "test"):
        admin = urlunsplit(parts._replace(path=f"/{maintenance}"))
        try:
            with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                print(f"dropped database {name}", flush=True)
                return
        except psycopg.OperationalError:
            continue


if __name__ == "__main__":
    main()
