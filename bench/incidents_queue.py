"""Queue: first page of open incidents for a group, by priority then age, 1M incidents (PG).

    .venv/bin/python bench/incidents_queue.py [--incidents 1000000] [--runs 300]

Measures the ORM query an agent's queue runs (``visible_to`` of a regional agent, the
group, open states, ``ORDER BY priority, opened_at``, 25 rows) and the whole
``GET /api/v1/incidents`` call in process (with pagination's count). Target: p95 < 30 ms.
"""

from __future__ import annotations

import argparse
import time

import incidents_data as data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=data.DEFAULT_INCIDENTS)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    data.setup_django()
    data.ensure_fixture(args.incidents)
    from django.test import Client

    from itsmo.accounts.models import SupportGroup, User
    from itsmo.incidents.models import OPEN_STATES, Incident

    smo = User.objects.get(username="smo")
    groups = list(SupportGroup.objects.filter(incidents__isnull=False).distinct()[:20])
    client = Client()
    client.force_login(smo)
    orm, api = [], []
    cpu = time.process_time()
    for run in range(args.runs):
        group = groups[run % len(groups)]
        started = time.perf_counter()
        page = list(
            Incident.objects.visible_to(smo)
            .filter(assignment_group=group, status__in=OPEN_STATES)
            .select_related("caller", "service", "country", "assignee")
            .order_by("priority", "opened_at", "id")[:25]
        )
        orm.append(time.perf_counter() - started)
        assert page
        started = time.perf_counter()
        response = client.get(
            "/api/v1/incidents",
            {
                "assignment_group": group.code,
                "state": ["new", "in_progress", "on_hold"],
                "ordering": "priority",
                "page_size": 25,
            },
            HTTP_HOST="localhost",
        )
        api.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:300]
    cpu = time.process_time() - cpu
    data.describe()
    for name, samples in (("ORM query", orm), ("API GET", api)):
        p = data.percentiles(samples)
        print(
            f"queue {name:9}: {len(samples)} runs over {len(groups)} groups, p50 {p['p50']:.1f} ms"
            f" p95 {p['p95']:.1f} ms p99 {p['p99']:.1f} ms (target p95 < 30 ms)"
        )
    print(f"client CPU {cpu:.1f}s; peak RSS {data.peak_rss_mb():.0f} MB; {data.machine_note()}")


if __name__ == "__main__":
    main()
