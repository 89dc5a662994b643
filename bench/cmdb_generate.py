"""Generate a large, realistic CMDB on PostgreSQL through COPY (the bench fixture).

Topology, per 1,000,000 CIs (sizes scale with ``--cis``): 16 countries with 12 sites each
(plants, distribution centres, offices) plus two data centres (Querétaro, Campinas).
Every site has two WAN links, two routers on both links, switches on both routers and
access points; data centres have four core routers (the big hubs). In the data centres:
racks containing hypervisor hosts (clusters of 16, each host on two switches and a storage
array), VMs running on two hosts of a cluster, database instances and applications on VMs,
business applications depending on applications and cloud services. Handhelds (at the
distribution centres) roam on two access points and depend on their country's route-sales
and device-management applications; end-user devices hang off a switch and depend on
their country's e-mail and identity applications. ~40 services and 8 business processes
are linked to the business applications. About 3 relationships per CI.

The load is a bench fixture, not an import: CIs and relationships are written with COPY,
**without journal entries**, after dropping the secondary indexes and foreign keys of the
two big tables (recreated and validated afterwards, all in one transaction).

    .venv/bin/python bench/cmdb_generate.py [--cis 1000000] [--seed 7]

Database: ITSMO_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/itsmo_bench
(created when missing).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from array import array
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/itsmo_bench"
DEFAULT_CIS = 1_000_000
RELATIONSHIP_TYPES = ("depends_on", "runs_on", "connects_to", "contains")
DEPENDS_ON, RUNS_ON, CONNECTS_TO, CONTAINS = range(4)

COUNTRIES = [  # code, name, region, time zone, data centre serving it
    ("MX", "Mexico", "mexico", "America/Mexico_City", "mx"),
    ("GT", "Guatemala", "central-america", "America/Guatemala", "mx"),
    ("SV", "El Salvador", "central-america", "America/El_Salvador", "mx"),
    ("HN", "Honduras", "central-america", "America/Tegucigalpa", "mx"),
    ("CR", "Costa Rica", "central-america", "America/Costa_Rica", "mx"),
    ("PA", "Panama", "central-america", "America/Panama", "mx"),
    ("DO", "Dominican Republic", "caribbean", "America/Santo_Domingo", "mx"),
    ("CO", "Colombia", "andean", "America/Bogota", "mx"),
    ("EC", "Ecuador", "andean", "America/Guayaquil", "br"),
    ("PE", "Peru", "andean", "America/Lima", "br"),
    ("VE", "Venezuela", "andean", "America/Caracas", "br"),
    ("BR", "Brazil", "south", "America/Sao_Paulo", "br"),
    ("AR", "Argentina", "south", "America/Argentina/Buenos_Aires", "br"),
    ("UY", "Uruguay", "south", "America/Montevideo", "br"),
    ("CL", "Chile", "south", "America/Santiago", "br"),
    ("PY", "Paraguay", "south", "America/Asuncion", "br"),
]
SITES_PER_COUNTRY = (("plant", 2), ("distribution_centre", 8), ("office", 2))


def database_url() -> str:
    return os.environ.setdefault("ITSMO_DATABASE_URL", DEFAULT_URL)


def ensure_database(url: str) -> None:
    """Create the bench database when missing (connecting to ``postgres``, else ``test``)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    try:
        psycopg.connect(url, connect_timeout=5).close()
        return
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            raise
    for maintenance in ("postgres", "test"):
        admin = urlunsplit(parts._replace(path=f"/{maintenance}"))
        try:
            with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
                print(f"created database {name}", flush=True)
                return
        except psycopg.errors.DuplicateDatabase:
            return
        except psycopg.OperationalError:
            continue
    raise SystemExit(f"cannot create database {name} at {url}")


def setup_django() -> None:
    """Settings for a bench run: the bench database, a throw-away var dir, migrated."""
    url = database_url()
    ensure_database(url)
    os.environ.setdefault("ITSMO_VAR_DIR", tempfile.mkdtemp(prefix="itsmo-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsmo.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- reference data -------------------------------------------------------------------------


def reference_data() -> dict:
    """Regions, countries, sites, support groups, services, processes (idempotent, ORM)."""
    from itsmo.accounts.models import SupportGroup
    from itsmo.catalog.models import BusinessProcess, Service, ServiceProcess
    from itsmo.organization.models import Country, Region, Site

    countries = {}
    for code, name, region_code, zone, _dc in COUNTRIES:
        region, _ = Region.objects.get_or_create(
            code=region_code, defaults={"name": region_code.replace("-", " ").title()}
        )
        countries[code], _ = Country.objects.get_or_create(
            code=code, defaults={"name": name, "region": region, "time_zone": zone}
        )
    sites = {"dc": {}}
    for key, code, name, country in (
        ("mx", "dc-mx-qro", "Querétaro data centre", "MX"),
        ("br", "dc-br-cps", "Campinas data centre", "BR"),
    ):
        sites["dc"][key], _ = Site.objects.get_or_create(
            code=code, defaults={"name": name, "kind": "data_centre", "country": countries[country]}
        )
    for code, *_ in COUNTRIES:
        for kind, count in SITES_PER_COUNTRY:
            for number in range(1, count + 1):
                site_code = f"{code.lower()}-{kind.replace('_', '-')}-{number:02d}"
                sites.setdefault(code, []).append(
                    Site.objects.get_or_create(
                        code=site_code,
                        defaults={
                            "name": f"{code} {kind} {number}",
                            "kind": kind,
                            "country": countries[code],
                        },
                    )[0]
                )
    groups = []
    for code, *_ in COUNTRIES:
        groups.append(
            SupportGroup.objects.get_or_create(
                code=f"infra-{code.lower()}",
                defaults={
                    "name": f"Infrastructure {code}",
                    "tier": "l2",
                    "region": countries[code].region,
                    "country": countries[code],
                },
            )[0]
        )
    processes = []
    for index, name in enumerate(
        [
            "Sales",
            "Production",
            "Logistics",
            "Shipping",
            "Finance",
            "HR",
            "Procurement",
            "Marketing",
        ]
    ):
        processes.append(
            BusinessProcess.objects.get_or_create(
                code=name.lower(), defaults={"name": name, "criticality": 1 + index % 4}
            )[0]
        )
    services = []
    for index in range(40):
        name = "Handheld Route Sales" if index == 0 else f"Bench service {index:02d}"
        service, created = Service.objects.get_or_create(
            code=f"bench-{index:02d}",
            defaults={"name": name, "kind": "business", "criticality": 1 + index % 4},
        )
        if created:
            service.countries.set(countries.values())
            ServiceProcess.objects.create(
                service=service,
                business_process=processes[index % len(processes)],
                weight=50 + index % 50,
            )
        services.append(service)
    return {"countries": countries, "sites": sites, "groups": groups, "services": services}


# --- generation -----------------------------------------------------------------------------


class Graph:
    """CIs as parallel lists and relationships as integer arrays (ids are 1-based)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rows: list[tuple] = []  # (class, name, serial, country_id, site_id, group, attrs)
        self.source = array("l")
        self.target = array("l")
        self.type = array("b")
        self.links: list[tuple[int, int]] = []  # (service id, CI id)

    def ci(
        self,
        ci_class: str,
        name: str,
        site,
        *,
        serial: str = "",
        country=None,
        group=None,
        attributes: dict | None = None,
    ) -> int:
        country_id = site.country_id if site is not None else country.pk
        self.rows.append(
            (
                ci_class,
                name,
                serial,
                country_id,
                site.pk if site else None,
                group.pk if group else None,
                attributes or {},
            )
        )
        return len(self.rows)

    def edge(self, source: int, target: int, kind: int) -> None:
        self.source.append(source)
        self.target.append(target)
        self.type.append(kind)

    def pick(self, items: list[int], count: int) -> list[int]:
        return self.rng.sample(items, min(count, len(items)))


def plan(total: int) -> dict[str, int]:
    share = {
        "handheld": 0.33,
        "end_user_device": 0.25,
        "virtual_machine": 0.12,
        "application": 0.08,
        "database_instance": 0.04,
        "server": 0.04,
        "business_application": 0.01,
        "cloud_service": 0.005,
        "storage": 0.001,
        "switch": 0.03,
    }
    counts = {name: max(1, int(total * value)) for name, value in share.items()}
    counts["rack"] = max(1, counts["server"] // 20)
    return counts


def generate(total: int, seed: int, ref: dict) -> Graph:
    rng = random.Random(seed)
    graph = Graph(rng)
    counts = plan(total)
    countries, sites, groups = ref["countries"], ref["sites"], ref["groups"]
    site_list = [s for code, *_ in COUNTRIES for s in sites[code]]
    dcs = sites["dc"]
    group_of = {c.pk: groups[i] for i, c in enumerate(countries.values())}

    # Network of every site: 2 WAN links, 2 routers on both; data centres: 4 core routers.
    routers: dict[int, list[int]] = {}
    for site in [*dcs.values(), *site_list]:
        group = group_of[site.country_id]
        is_dc = site.kind == "data_centre"
        links = [
            graph.ci(
                "link",
                f"wan-{site.code}-{n}",
                site,
                group=group,
                serial=f"CIR-{site.code}-{n}",
                attributes={"carrier": "Carrier", "link_type": "mpls"},
            )
            for n in range(1, (4 if is_dc else 2) + 1)
        ]
        routers[site.pk] = []
        for n in range(1, (4 if is_dc else 2) + 1):
            router = graph.ci(
                "network_device",
                f"rt-{site.code}-{n}",
                site,
                group=group,
                serial=f"RT-{site.code}-{n}",
                attributes={"device_type": "router"},
            )
            routers[site.pk].append(router)
            for link in links:
                graph.edge(router, link, CONNECTS_TO)
    # Switches and access points, spread by how many devices a site carries.
    weight = {site.pk: (40 if site.kind == "distribution_centre" else 10) for site in site_list}
    for site in dcs.values():
        weight[site.pk] = 60
    all_sites = [*dcs.values(), *site_list]
    weights = [weight[s.pk] for s in all_sites]
    switches: dict[int, list[int]] = {s.pk: [] for s in all_sites}
    for n in range(counts["switch"]):
        site = (
            all_sites[n % len(all_sites)]
            if n < len(all_sites)
            else rng.choices(all_sites, weights)[0]
        )
        switch = graph.ci(
            "network_device",
            f"sw-{site.code}-{n:06d}",
            site,
            serial=f"SW{n:08d}",
            attributes={"device_type": "switch"},
        )
        switches[site.pk].append(switch)
        for router in graph.pick(routers[site.pk], 2):
            graph.edge(switch, router, CONNECTS_TO)
    # Data-centre compute: storage, racks, hosts in clusters of 16, VMs, DBs, applications.
    compute = {}
    for key, site in dcs.items():
        share = 0.5
        storage = [
            graph.ci(
                "storage",
                f"san-{key}-{n:03d}",
                site,
                serial=f"SAN-{key}-{n:04d}",
                attributes={"storage_type": "san"},
            )
            for n in range(max(1, int(counts["storage"] * share)))
        ]
        hosts = []
        rack = None
        for n in range(max(16, int(counts["server"] * share))):
            if n % 20 == 0:
                rack = graph.ci(
                    "rack", f"rack-{key}-{n // 20:05d}", site, attributes={"equipment_type": "rack"}
                )
            host = graph.ci(
                "server",
                f"esx-{key}-{n:06d}",
                site,
                serial=f"ESX-{key}-{n:07d}",
                attributes={"cpu_count": 64, "memory_gb": 1024},
            )
            hosts.append(host)
            graph.edge(rack, host, CONTAINS)
            for switch in graph.pick(switches[site.pk], 2):
                graph.edge(host, switch, CONNECTS_TO)
            graph.edge(host, storage[n % len(storage)], DEPENDS_ON)
        clusters = [hosts[i : i + 16] for i in range(0, len(hosts), 16)]
        vms = []
        for n in range(max(8, int(counts["virtual_machine"] * share))):
            vm = graph.ci(
                "virtual_machine",
                f"vm-{key}-{n:07d}",
                site,
                attributes={"hypervisor": "vmware", "cpu_count": 4},
            )
            vms.append(vm)
            for host in graph.pick(clusters[n % len(clusters)], 2):
                graph.edge(vm, host, RUNS_ON)
        databases = []
        for n in range(max(4, int(counts["database_instance"] * share))):
            db = graph.ci(
                "database_instance",
                f"db-{key}-{n:06d}",
                site,
                attributes={"engine": "postgresql", "port": 5432},
            )
            databases.append(db)
            graph.edge(db, rng.choice(vms), RUNS_ON)
            graph.edge(db, rng.choice(storage), DEPENDS_ON)
        applications = []
        for n in range(max(8, int(counts["application"] * share))):
            app = graph.ci(
                "application", f"app-{key}-{n:06d}", site, attributes={"vendor": "Vendor"}
            )
            graph.edge(app, rng.choice(vms), RUNS_ON)
            graph.edge(app, rng.choice(databases), DEPENDS_ON)
            if applications:
                graph.edge(app, rng.choice(applications), DEPENDS_ON)
            applications.append(app)
        compute[key] = {"site": site, "applications": applications}
    clouds = [
        graph.ci(
            "cloud_service",
            f"cloud-{n:05d}",
            None,
            country=countries["MX"],
            attributes={"provider": "aws"},
        )
        for n in range(counts["cloud_service"])
    ]
    # Business applications; per country the route-sales, device-management, e-mail and
    # identity ones are the hubs the devices depend on.
    business = []
    services = ref["services"]
    per_country = {}
    for code, _name, _region, _zone, dc in COUNTRIES:
        site = compute[dc]["site"]
        names = ("route-sales", "mdm", "email", "identity")
        per_country[code] = {}
        for name in names:
            app = graph.ci("business_application", f"{name}-{code.lower()}", site)
            per_country[code][name] = app
            for target in graph.pick(compute[dc]["applications"], 4):
                graph.edge(app, target, DEPENDS_ON)
            service = services[0] if name == "route-sales" else services[1 + names.index(name)]
            graph.links.append((service.pk, app))
    for n in range(max(1, counts["business_application"] - 64)):
        dc = "mx" if n % 2 == 0 else "br"
        app = graph.ci("business_application", f"bizapp-{n:05d}", compute[dc]["site"])
        business.append(app)
        for target in graph.pick(compute[dc]["applications"], rng.randint(3, 5)):
            graph.edge(app, target, DEPENDS_ON)
        if clouds and n % 3 == 0:
            graph.edge(app, rng.choice(clouds), DEPENDS_ON)
        graph.links.append((services[5 + n % 35].pk, app))
    # Access points, then the devices on them.
    access_points: dict[int, list[int]] = {s.pk: [] for s in site_list}
    used = len(graph.rows)
    remaining = total - used - counts["handheld"] - counts["end_user_device"]
    site_weights = [weight[s.pk] for s in site_list]
    for n in range(max(len(site_list), remaining)):
        site = site_list[n] if n < len(site_list) else rng.choices(site_list, site_weights)[0]
        ap = graph.ci(
            "network_device",
            f"ap-{site.code}-{n:06d}",
            site,
            serial=f"AP{n:08d}",
            attributes={"device_type": "access_point"},
        )
        access_points[site.pk].append(ap)
        graph.edge(ap, rng.choice(switches[site.pk]), CONNECTS_TO)
    code_of = {c.pk: c.code for c in countries.values()}
    centres = [s for s in site_list if s.kind == "distribution_centre"]
    for n in range(counts["handheld"]):
        site = centres[n % len(centres)]
        hubs = per_country[code_of[site.country_id]]
        handheld = graph.ci(
            "handheld",
            f"hh-{site.code}-{n:07d}",
            site,
            serial=f"HH{n:09d}",
            attributes={"model": "TC52", "route": f"R{n % 400:03d}"},
        )
        for ap in graph.pick(access_points[site.pk], 2):
            graph.edge(handheld, ap, CONNECTS_TO)
        graph.edge(handheld, hubs["route-sales"], DEPENDS_ON)
        graph.edge(handheld, hubs["mdm"], DEPENDS_ON)
    devices = []
    for n in range(max(0, total - len(graph.rows))):
        site = site_list[n % len(site_list)]
        hubs = per_country[code_of[site.country_id]]
        device = graph.ci(
            "end_user_device",
            f"pc-{site.code}-{n:07d}",
            site,
            serial=f"PC{n:09d}",
            attributes={"device_type": "laptop"},
        )
        switch = rng.choice(switches[site.pk])
        devices.append((device, switch, site.pk))
        graph.edge(device, switch, CONNECTS_TO)
        graph.edge(device, hubs["email"], DEPENDS_ON)
        graph.edge(device, hubs["identity"], DEPENDS_ON)
    # Docking stations on a second switch, up to three relationships per CI on average.
    for device, first, site_id in devices[: max(0, 3 * total - len(graph.source))]:
        others = [s for s in graph.pick(switches[site_id], 2) if s != first]
        if others:
            graph.edge(device, others[0], CONNECTS_TO)
    return graph


# --- loading --------------------------------------------------------------------------------

CI_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "version",
    "number",
    "name",
    "ci_class_id",
    "serial",
    "asset_tag",
    "status",
    "environment",
    "country_id",
    "site_id",
    "owner_group_id",
    "description",
    "discovery_source",
    "last_seen_at",
    "attributes",
)
REL_COLUMNS = ("id", "source_id", "target_id", "type", "discovery_source", "created_at")


def _secondary(cursor, tables: tuple[str, ...]) -> tuple[list[str], list[str], list[str]]:
    """DROP and CREATE statements for the non-primary indexes and constraints of tables."""
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY(%s) AND c.contype <> 'p'
        ORDER BY c.contype DESC""",
        [list(tables)],
    )
    constraints = cursor.fetchall()
    owned = {name for _, name, _ in constraints}
    cursor.execute(
        """
        SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.tablename = ANY(%s) AND i.indexname NOT LIKE '%%_pkey'""",
        [list(tables)],
    )
    indexes = [row for row in cursor.fetchall() if row[1] not in owned]
    drops = [f'ALTER TABLE {t} DROP CONSTRAINT "{n}"' for t, n, _ in constraints]
    drops += [f'DROP INDEX "{n}"' for _, n, _ in indexes]
    creates = [d for _, _, d in indexes]
    adds = [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, d in constraints]
    return drops, creates, adds


def load(graph: Graph) -> dict[str, float]:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from itsmo.cmdb.models import CI, CIClass, Relationship, ServiceCI
    from itsmo.core.models import JournalEntry, Sequence

    ci_table, rel_table = CI._meta.db_table, Relationship._meta.db_table
    assert {f.column for f in CI._meta.concrete_fields} == set(CI_COLUMNS)
    assert {f.column for f in Relationship._meta.concrete_fields} == set(REL_COLUMNS)
    classes = dict(CIClass.objects.values_list("code", "pk"))
    now = datetime.now(UTC)
    stamp = now.isoformat()
    timings = {}
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.monotonic()
        ct = ContentType.objects.get_for_model(CI, for_concrete_model=False)
        cursor.execute(
            f"DELETE FROM {JournalEntry._meta.db_table} WHERE content_type_id = %s", [ct.pk]
        )
        cursor.execute(
            f"TRUNCATE {rel_table}, {ServiceCI._meta.db_table}, {ci_table} RESTART IDENTITY CASCADE"
        )
        drops, creates, adds = _secondary(cursor, (ci_table, rel_table))
        for statement in drops:
            cursor.execute(statement)
        timings["prepare"] = time.monotonic() - started

        started = time.monotonic()
        pg = cursor.cursor  # the psycopg cursor under Django's wrapper
        rng = random.Random(1)
        with pg.copy(f"COPY {ci_table} ({', '.join(CI_COLUMNS)}) FROM STDIN") as copy:
            buffer = []
            for index, (ci_class, name, serial, country, site, group, attrs) in enumerate(
                graph.rows, start=1
            ):
                status = "retired" if index % 50 == 0 else "in_operation"
                seen = (now - timedelta(days=rng.randint(0, 60))).isoformat()
                buffer.append(
                    f"{index}\t{stamp}\t{stamp}\t1\tCI{1000 + index:07d}\t{name}\t"
                    f"{classes[ci_class]}\t{serial}\t\t{status}\tproduction\t"
                    f"{country if country is not None else chr(92) + 'N'}\t"
                    f"{site if site is not None else chr(92) + 'N'}\t"
                    f"{group if group is not None else chr(92) + 'N'}\t\tbench\t{seen}\t"
                    f"{json.dumps(attrs)}\n"
                )
                if len(buffer) >= 20_000:
                    copy.write("".join(buffer))
                    buffer = []
            copy.write("".join(buffer))
        timings["copy_cis"] = time.monotonic() - started

        started = time.monotonic()
        types = RELATIONSHIP_TYPES
        with pg.copy(f"COPY {rel_table} ({', '.join(REL_COLUMNS)}) FROM STDIN") as copy:
            buffer = []
            for index in range(len(graph.source)):
                buffer.append(
                    f"{index + 1}\t{graph.source[index]}\t{graph.target[index]}\t"
                    f"{types[graph.type[index]]}\tbench\t{stamp}\n"
                )
                if len(buffer) >= 50_000:
                    copy.write("".join(buffer))
                    buffer = []
            copy.write("".join(buffer))
        with pg.copy(
            f"COPY {ServiceCI._meta.db_table} (service_id, ci_id, created_at) FROM STDIN"
        ) as copy:
            copy.write("".join(f"{s}\t{c}\t{stamp}\n" for s, c in graph.links))
        timings["copy_relationships"] = time.monotonic() - started

        started = time.monotonic()
        for statement in creates + adds:
            cursor.execute(statement)
        for table in (ci_table, rel_table):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        Sequence.objects.update_or_create(
            prefix="CI", defaults={"last_value": 1000 + len(graph.rows)}
        )
        timings["indexes_and_constraints"] = time.monotonic() - started
    # VACUUM sets the visibility map (index-only scans without heap fetches) and ANALYZE
    # the statistics: what autovacuum does some time after a bulk load in production.
    started = time.monotonic()
    with connection.cursor() as cursor:
        for table in (ci_table, rel_table, ServiceCI._meta.db_table):
            cursor.execute(f"VACUUM ANALYZE {table}")
    timings["vacuum_analyze"] = time.monotonic() - started
    return timings


def counts() -> tuple[int, int]:
    from django.db import connection

    from itsmo.cmdb.models import CI, Relationship

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {CI._meta.db_table}")
        cis = cursor.fetchone()[0]
        cursor.execute(f"SELECT COUNT(*) FROM {Relationship._meta.db_table}")
        return cis, cursor.fetchone()[0]


def build(total: int, seed: int) -> None:
    started = time.monotonic()
    ref = reference_data()
    graph = generate(total, seed, ref)
    generated = time.monotonic() - started
    cis, relationships = len(graph.rows), len(graph.source)
    print(
        f"generated {cis:,} CIs and {relationships:,} relationships in memory in {generated:.1f} s",
        flush=True,
    )
    print("loading through COPY (bench fixture: no journal entries are written)", flush=True)
    started = time.monotonic()
    timings = load(graph)
    elapsed = time.monotonic() - started
    rows = cis + relationships
    print("  " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    print(
        f"loaded {cis:,} CIs + {relationships:,} relationships in {elapsed:.1f} s "
        f"({rows / elapsed:,.0f} rows/s; COPY alone "
        f"{rows / (timings['copy_cis'] + timings['copy_relationships']):,.0f} rows/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cis",
        type=int,
        default=DEFAULT_CIS,
        help="number of CIs (default: %(default)s; ~3 relationships each)",
    )
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("the bench fixture needs PostgreSQL (ITSMO_DATABASE_URL)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"== CMDB generator: {options.cis:,} CIs into {connection.settings_dict['NAME']}",
        flush=True,
    )
    build(options.cis, options.seed)


if __name__ == "__main__":
    main()
