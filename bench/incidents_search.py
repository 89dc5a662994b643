"""Search: a full-text query matching ~1 % of 1,000,000 incidents, first page ranked (PG).

    .venv/bin/python bench/incidents_search.py [--incidents 1000000] [--runs 100]

``search.search(Incident, "zebra", user)`` (one incident in a hundred holds the word), first
25 rows, for an SMO analyst (sees everything) and a regional agent (``visible_to``).
Target: p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import time

import incidents_data as data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=data.DEFAULT_INCIDENTS)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    data.setup_django()
    data.ensure_fixture(args.incidents)
    from itsmo.accounts.models import User
    from itsmo.incidents.models import Incident
    from itsmo.search import services as search

    users = [User.objects.get(username="smo"), User.objects.get(username="agent.br")]
    matches = search.search(Incident, data.SEARCH_WORD, users[0]).count()
    data.describe()
    print(f"query {data.SEARCH_WORD!r} matches {matches:,} incidents")
    for user in users:
        samples = []
        cpu = time.process_time()
        for _ in range(args.runs):
            started = time.perf_counter()
            list(search.search(Incident, data.SEARCH_WORD, user)[:25])
            samples.append(time.perf_counter() - started)
        visible = search.search(Incident, data.SEARCH_WORD, user).count()
        cpu = time.process_time() - cpu
        p = data.percentiles(samples)
        print(
            f"search as {user.username:9}: {args.runs} runs, p50 {p['p50']:.1f} ms "
            f"p95 {p['p95']:.1f} ms p99 {p['p99']:.1f} ms (target p95 < 100 ms); "
            f"{visible:,} visible; client CPU {cpu:.1f}s"
        )
    print(f"peak RSS {data.peak_rss_mb():.0f} MB; {data.machine_note()}")


if __name__ == "__main__":
    main()
