"""The incident bench fixture: the demo organisation plus N incidents on PostgreSQL.

Shared by ``incidents_intake.py``, ``incidents_queue.py``, ``incidents_search.py`` and
``sla_breach_scan.py``; run alone it builds (or checks) the fixture and prints its size.

* Organisation, people, groups and services: the demo pipeline (``organization``,
  ``accounts``, ``catalog`` steps at scale small), through the services.
* SLA definitions P1-P5 (response and resolution): ``slm.services.create_definition``.
* Incidents: one set-based ``INSERT … SELECT generate_series`` (the bulk fast path of a
  bench fixture, like the CMDB bench's COPY): no journal entries and no clocks. About 3 %
  are open (new, in progress, on hold), the rest resolved or closed, opened over the last
  twelve months in id order. One incident in a hundred mentions ``zebra`` (half in the
  short description, half in the description): the search bench's 1 % query.
* Search documents: one ``INSERT … SELECT to_tsvector('simple', …)`` with the GIN index
  dropped during the load and rebuilt after (the same vector and scope copy
  :mod:`itsmo.search` writes: the generated text is already lower-case ASCII words).

An existing fixture with the requested number of incidents (up to 5 % more, which intake
runs add) is reused.

    .venv/bin/python bench/incidents_data.py [--incidents 1000000]

Database: ITSMO_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/itsmo_bench_incidents.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/itsmo_bench_incidents"
DEFAULT_INCIDENTS = 1_000_000
SEARCH_WORD = "zebra"

_WORDS = """
printer laptop network vpn email outlook teams sap invoice order delivery handheld scanner
label warehouse forklift router switch wifi password account locked screen keyboard mouse
battery slow error timeout crash freeze update install license backup disk memory server
database report dashboard payroll expense approval workflow portal browser certificate token
phone headset camera projector meeting room badge door access folder share permission sync
mobile tablet app route sales truck gps fuel pallet stock picking shipment customer credit
pricing promotion ticket queue login reset blocked virus spam phishing firewall link outage
latency packet loss dns dhcp ip address cable port power ups rack storage quota archive
"""
VOCABULARY = _WORDS.split()


def database_url() -> str:
    return os.environ.setdefault("ITSMO_DATABASE_URL", DEFAULT_URL)


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    try:
        psycopg.connect(url, connect_timeout=5).close()
        return
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            raise
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    print(f"created database {name}", flush=True)


def setup_django() -> None:
    url = database_url()
    ensure_database(url)
    os.environ.setdefault("ITSMO_VAR_DIR", tempfile.mkdtemp(prefix="itsmo-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsmo.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99 of ``samples`` (seconds) in milliseconds."""
    ordered = sorted(samples)

    def at(share: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": 1000 * ordered[-1]}


def machine_note() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


def table_size(table: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size(%s))", [table])
        return cursor.fetchone()[0]


# -- reference data ----------------------------------------------------------------------------


def reference_data() -> None:
    """The demo organisation (small) and SLA definitions, once."""
    from itsmo.core import demo
    from itsmo.slm import services as slm
    from itsmo.slm.models import SLADefinition

    if not demo.is_loaded():
        started = time.perf_counter()
        demo.run(scale="small", password=demo.generate_password(), only=["catalog"])
        print(f"demo organisation loaded in {time.perf_counter() - started:.1f}s", flush=True)
    targets = {1: (15, 4 * 60), 2: (30, 8 * 60), 3: (60, 24 * 60), 4: (4 * 60, 40 * 60)}
    targets[5] = (8 * 60, 80 * 60)
    for priority, (response, resolution) in targets.items():
        if not SLADefinition.objects.filter(name=f"Bench P{priority}").exists():
            slm.create_definition(
                name=f"Bench P{priority}",
                priority=priority,
                response_target_minutes=response,
                resolution_target_minutes=resolution,
            )


def incident_count() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM incidents_incident")
        return cursor.fetchone()[0]


def _secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = %s AND NOT x.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
        """,
        [table],
    )
    return cursor.fetchall()


def load_incidents(total: int) -> None:
    """Replace every incident with ``total`` generated ones (set-based, one transaction)."""
    from django.db import connection, transaction

    from itsmo.accounts.models import Role, SupportGroup, User
    from itsmo.catalog.models import Service
    from itsmo.core import numbering
    from itsmo.organization.models import Country

    countries = list(Country.objects.order_by("pk").values_list("pk", "region_id"))
    groups = list(
        SupportGroup.objects.filter(is_active=True).order_by("pk").values_list("pk", "tier")
    )
    callers = list(
        User.objects.filter(role_grants__role=Role.END_USER)
        .order_by("pk")
        .values_list("pk", flat=True)
    ) or list(User.objects.order_by("pk").values_list("pk", flat=True))
    services = list(Service.objects.order_by("pk").values_list("pk", flat=True))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE incidents_incident CASCADE")
        dropped = []
        for table in ("incidents_incident", "search_searchdocument"):
            for name, definition in _secondary_indexes(cursor, table):
                cursor.execute(f'DROP INDEX "{name}"')
                dropped.append(definition)
        first = numbering.next_values("INC", total)[0]
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            """
            INSERT INTO incidents_incident (
                number, caller_id, opened_by_id, channel, short_description, description,
                impact, urgency, priority, status, on_hold_reason, tier, reassignment_count,
                reopen_count, is_first_contact_resolution, resolution_code, resolution_notes,
                caused_by_change_id, problem_id, is_major, post_incident_review,
                post_incident_review_url, opened_at, responded_at, resolved_at, closed_at,
                external_source, external_reference, idempotency_key, created_at, updated_at,
                version, country_id, region_id, assignment_group_id, service_id)
            SELECT
                'INC' || lpad((%(first)s + g - 1)::text, 7, '0'),
                (%(callers)s::bigint[])[1 + (g * 7919) %% %(ncallers)s],
                NULL,
                (ARRAY['portal','email','phone','api','event','walk_in'])[1 + g %% 6],
                w1 || ' ' || w2 || ' ' || w3 || CASE WHEN g %% 200 = 37 THEN ' zebra' ELSE '' END,
                'the ' || w2 || ' ' || w4 || ' ' || w1 || ' since ' || w3 || ' at the site'
                    || CASE WHEN g %% 200 = 137 THEN ' zebra printer' ELSE '' END,
                impact, urgency, impact + urgency - 1,
                CASE WHEN o < 0.012 THEN 'new' WHEN o < 0.024 THEN 'in_progress'
                     WHEN o < 0.03 THEN 'on_hold' WHEN g > %(total)s - %(total)s / 50
                     THEN 'resolved' ELSE 'closed' END,
                CASE WHEN o >= 0.024 AND o < 0.03 THEN 'awaiting_caller' ELSE '' END,
                (%(tiers)s::text[])[gi], 0, 0, false,
                CASE WHEN o < 0.03 THEN '' ELSE 'fixed' END,
                CASE WHEN o < 0.03 THEN '' ELSE 'replaced the ' || w4 END,
                NULL, NULL, false, '', '',
                opened, opened + interval '20 minutes',
                CASE WHEN o < 0.03 THEN NULL ELSE opened + interval '6 hours' END,
                CASE WHEN o < 0.03 OR g > %(total)s - %(total)s / 50 THEN NULL
                     ELSE opened + interval '8 days' END,
                '', '', '', opened, opened, 1,
                (%(countries)s::bigint[])[ci], (%(regions)s::bigint[])[ci],
                (%(groups)s::bigint[])[gi],
                (%(services)s::bigint[])[1 + (g * 31) %% %(nservices)s]
            FROM (
                SELECT g,
                    random() AS o,
                    1 + floor(random() * 3)::int AS impact,
                    1 + floor(random() * 3)::int AS urgency,
                    1 + (g * 13) %% %(ncountries)s AS ci,
                    1 + floor(random() * %(ngroups)s)::int AS gi,
                    now() - interval '365 days' * (1 - g::float / %(total)s)
                        - interval '1 hour' * random() AS opened,
                    (%(words)s::text[])[1 + floor(random() * %(nwords)s)::int] AS w1,
                    (%(words)s::text[])[1 + floor(random() * %(nwords)s)::int] AS w2,
                    (%(words)s::text[])[1 + floor(random() * %(nwords)s)::int] AS w3,
                    (%(words)s::text[])[1 + floor(random() * %(nwords)s)::int] AS w4
                FROM generate_series(1::bigint, %(total)s) AS g
            ) AS source
            """,
            {
                "first": first,
                "total": total,
                "callers": callers,
                "ncallers": len(callers),
                "countries": [c for c, _ in countries],
                "regions": [r for _, r in countries],
                "ncountries": len(countries),
                "groups": [g for g, _ in groups],
                "tiers": [t for _, t in groups],
                "ngroups": len(groups),
                "services": services,
                "nservices": len(services),
                "words": VOCABULARY,
                "nwords": len(VOCABULARY),
            },
        )
        print(f"  incidents inserted in {time.perf_counter() - started:.1f}s", flush=True)
        cursor.execute(
            """
            INSERT INTO search_searchdocument (
                incident_id, country_id, region_id, vector, updated_at)
            SELECT id, country_id, region_id,
                setweight(to_tsvector('simple', lower(number || ' ' || short_description)), 'A')
                || setweight(to_tsvector('simple', description || ' ' || resolution_notes), 'B'),
                now()
            FROM incidents_incident
            """
        )
        print(f"  search documents in {time.perf_counter() - started:.1f}s", flush=True)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for definition in dropped:
            cursor.execute(definition)
        print(f"  indexes rebuilt in {time.perf_counter() - started:.1f}s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE incidents_incident")
        cursor.execute("VACUUM ANALYZE search_searchdocument")


def ensure_fixture(total: int) -> None:
    """Organisation, SLA definitions and ``total`` incidents (reused when the count matches)."""
    reference_data()
    have = incident_count()
    if total <= have <= total * 1.05:  # intake runs add a few thousand
        print(f"reusing {have:,} incidents", flush=True)
        return
    print(f"generating {total:,} incidents (found {have:,})…", flush=True)
    started = time.perf_counter()
    load_incidents(total)
    print(f"generated {total:,} incidents in {time.perf_counter() - started:.1f}s", flush=True)


def describe() -> None:
    print(
        f"data: {incident_count():,} incidents; incidents_incident "
        f"{table_size('incidents_incident')}, search_searchdocument "
        f"{table_size('search_searchdocument')}, sla clocks {table_size('slm_slaclock')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=DEFAULT_INCIDENTS)
    args = parser.parse_args()
    setup_django()
    ensure_fixture(args.incidents)
    describe()
    print(f"machine: {machine_note()}")


if __name__ == "__main__":
    main()
