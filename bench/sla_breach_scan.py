"""SLA breach scan over 100,000 running clocks (PG): ``slm.services.scan_clocks``.

    .venv/bin/python bench/sla_breach_scan.py [--clocks 100000]

Each run replaces the bench clocks with ``--clocks`` running resolution clocks on open
incidents of the incident fixture (one ``INSERT … SELECT``): due instants spread from
five days ago to ten days ahead, so about a third breach and many cross a warning
threshold since the last scan. Then one scan, timed. Target: < 10 s.
"""

from __future__ import annotations

import argparse
import time

import incidents_data as data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=data.DEFAULT_INCIDENTS)
    parser.add_argument("--clocks", type=int, default=100_000)
    args = parser.parse_args()
    data.setup_django()
    data.ensure_fixture(args.incidents)
    from django.db import connection, transaction

    from itsmo.slm import services as slm
    from itsmo.slm.models import SLADefinition

    definition = SLADefinition.objects.order_by("pk").first()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM slm_slaclock")
        cursor.execute(
            """
            INSERT INTO slm_slaclock (definition_id, incident_id, metric, target_seconds,
                started_at, pauses, elapsed_business_seconds, paused_seconds, state, due_at,
                warning_thresholds, last_warned_threshold, next_warning_threshold,
                next_warning_at, claim_token, is_imported, imported_outcome, created_at,
                updated_at)
            SELECT %s, i.id, 'resolution', 36000, now() - interval '3 days', '[]', 0, 0,
                'running', now() + interval '1 hour' * (360 * r - 120), '[50, 75, 90]', 0, 50,
                now() + interval '1 hour' * (360 * r - 180), '', false, '', now(), now()
            FROM (SELECT id, random() AS r FROM incidents_incident
                  ORDER BY status IN ('new', 'in_progress', 'on_hold') DESC, id DESC
                  LIMIT %s) AS i
            """,
            [definition.pk, args.clocks],
        )
        cursor.execute("DELETE FROM django_tasks_database_dbtaskresult")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE slm_slaclock")
    data.describe()
    started, cpu = time.perf_counter(), time.process_time()
    result = slm.scan_clocks()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"scan of {args.clocks:,} running clocks: {elapsed:.2f}s (target < 10 s), client CPU "
        f"{cpu:.2f}s; breached {result.breached:,}, warned {result.warned:,}"
    )
    print(f"peak RSS {data.peak_rss_mb():.0f} MB; {data.machine_note()}")


if __name__ == "__main__":
    main()
