"""Impact analysis latency on the generated CMDB (PostgreSQL), by kind of CI.

Reuses the data loaded by bench/cmdb_generate.py when the database already holds about
``--cis`` CIs; generates it otherwise. Then times ``itsmo.cmdb.impact.impact([ci], depth=8)``
(the function behind ``GET /api/v1/cis/{id}/impact``: one recursive query plus building the
result) for random samples of

* leaf CIs: handhelds and end-user devices (nothing depends on them);
* mid CIs: VMs, database instances, applications (a typical upstream);
* hub CIs: hypervisor hosts, storage arrays, distribution-centre routers;
* core CIs: data-centre core routers and WAN links (everything of a data centre depends
  on them: the worst case, few samples within a time budget).

and prints p50/p95/p99, the size of the upstream found and how many samples hit the walk
cap (``capped``: ``--max-walk``, default ``settings.ITSMO_IMPACT_MAX_WALK``; their upstream
is a lower bound). Target: p95 < 50 ms for a CI with a typical upstream. ``--explain``
prints EXPLAIN ANALYZE of the slowest sample of each kind (with the statement's work_mem).

    .venv/bin/python bench/cmdb_impact.py [--cis 1000000] [--samples 200] [--depth 8]
        [--max-walk 50000] [--explain]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cmdb_generate

TARGET_P95_MS = 50.0
KINDS = {
    "leaf": (["handheld", "end_user_device"], None),
    "mid": (["virtual_machine", "database_instance", "application"], None),
    "hub": (["server", "storage", "network_device"], ("esx-", "san-", "rt-")),
    "core": (["network_device", "link"], ("rt-dc-", "wan-dc-")),
}


def sample_ids(kind: str, count: int, seed: int) -> list[int]:
    from django.db import connection

    from itsmo.cmdb.models import CI, CIClass

    classes, prefixes = KINDS[kind]
    class_ids = list(CIClass.objects.filter(code__in=classes).values_list("pk", flat=True))
    table = CI._meta.db_table
    where = "ci_class_id = ANY(%s) AND status <> 'retired'"
    params: list = [class_ids]
    if prefixes:
        where += " AND (" + " OR ".join(["name LIKE %s"] * len(prefixes)) + ")"
        params += [f"{p}%" for p in prefixes]
        if kind == "hub":
            where += (
                " AND name NOT LIKE 'rt-dc-%%' AND (name NOT LIKE 'rt-%%' OR name LIKE "
                "'%%distribution-centre%%')"
            )
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [seed / 1000])
        cursor.execute(
            f"SELECT id FROM {table} WHERE {where} ORDER BY random() LIMIT %s", [*params, count]
        )
        return [row[0] for row in cursor.fetchall()]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def explain(ci_id: int, depth: int, max_walk: int | None) -> str:
    """EXPLAIN ANALYZE of the recursive statement ``impact()`` really runs for ``ci_id``."""
    from django.db import connection, transaction

    from itsmo.cmdb.impact import WORK_MEM, impact

    captured: list[tuple[str, list]] = []

    def capture(execute, sql, params, many, context):
        if "WITH RECURSIVE" in sql:
            captured.append((sql, list(params or [])))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        impact([ci_id], depth=depth, max_walk=max_walk)
    sql, params = captured[0]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [WORK_MEM])
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def measure(kind: str, ids: list[int], depth: int, budget: float, max_walk: int | None) -> dict:
    from itsmo.cmdb.impact import impact

    times, totals, slowest, capped = [], [], (0.0, None), 0
    started = time.monotonic()
    for ci_id in ids:
        t0 = time.perf_counter()
        result = impact([ci_id], depth=depth, max_walk=max_walk)
        elapsed = (time.perf_counter() - t0) * 1000
        times.append(elapsed)
        totals.append(result.total)
        capped += result.capped
        if elapsed > slowest[0]:
            slowest = (elapsed, ci_id)
        if time.monotonic() - started > budget:
            break
    return {
        "kind": kind,
        "n": len(times),
        "p50": percentile(times, 0.5),
        "p95": percentile(times, 0.95),
        "p99": percentile(times, 0.99),
        "max": max(times),
        "upstream_median": statistics.median(totals),
        "upstream_max": max(totals),
        "slowest": slowest[1],
        "capped": capped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cis", type=int, default=cmdb_generate.DEFAULT_CIS)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help="seconds at most per kind of CI (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--max-walk",
        type=int,
        default=None,
        help="walk cap in (CI, depth) rows (default: settings.ITSMO_IMPACT_MAX_WALK or 50,000)",
    )
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE the slowest sample of each kind"
    )
    options = parser.parse_args()
    cmdb_generate.setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("this bench runs on PostgreSQL (ITSMO_DATABASE_URL)")
    cis, relationships = cmdb_generate.counts()
    if cis < options.cis * 0.95:
        print(f"database holds {cis:,} CIs, not ~{options.cis:,}: generating", flush=True)
        cmdb_generate.build(options.cis, 7)
        cis, relationships = cmdb_generate.counts()
    else:
        print("reusing the loaded CMDB (bench/cmdb_generate.py regenerates it)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"== impact analysis, depth <= {options.depth}, on {cis:,} CIs and "
        f"{relationships:,} relationships ({connection.settings_dict['NAME']})",
        flush=True,
    )
    from itsmo.cmdb.impact import impact

    for warm in sample_ids("mid", 5, options.seed + 1):
        impact([warm], depth=options.depth, max_walk=options.max_walk)
    print(
        f"{'kind':<6}{'samples':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'upstream p50':>14}{'upstream max':>14}{'capped':>8}"
    )
    results = []
    for kind in KINDS:
        count = options.samples if kind != "core" else min(options.samples, 20)
        ids = sample_ids(kind, count, options.seed)
        if not ids:
            print(f"{kind:<6} no CIs of this kind")
            continue
        result = measure(kind, ids, options.depth, options.budget, options.max_walk)
        results.append(result)
        print(
            f"{kind:<6}{result['n']:>8}{result['p50']:>9.1f}{result['p95']:>9.1f}"
            f"{result['p99']:>9.1f}{result['max']:>9.1f}{result['upstream_median']:>14,.0f}"
            f"{result['upstream_max']:>14,}{result['capped']:>8}",
            flush=True,
        )
    typical = [r for r in results if r["kind"] in ("leaf", "mid")]
    worst = max((r["p95"] for r in typical), default=0.0)
    verdict = "met" if worst < TARGET_P95_MS else "NOT met"
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print(
        f"target p95 < {TARGET_P95_MS:.0f} ms for a typical upstream (leaf, mid): {verdict} "
        f"(worst p95 {worst:.1f} ms); hub and core CIs are reported, not targeted"
    )
    if options.explain:
        for result in results:
            print(f"\n-- EXPLAIN ANALYZE, slowest {result['kind']} CI {result['slowest']}")
            print(explain(result["slowest"], options.depth, options.max_walk))


if __name__ == "__main__":
    main()
