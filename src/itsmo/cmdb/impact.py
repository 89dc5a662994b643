"""Impact analysis and service dependency trees, each one recursive SQL statement.

Direction (see docs/decisions.md, "CMDB"): for every relationship type the source
consumes or is made of the target, so a failure of the target impacts the source.

* :func:`impact` walks **upstream** from failed CIs: edges ``target = current`` lead to
  their ``source``. It returns the affected CIs (depth and the shortest path that explains
  each), the services those CIs deliver, the business processes of those services and the
  countries affected.
* :func:`service_dependencies` walks **downstream** from the CIs of a service: edges
  ``source = current`` lead to their ``target``; the services delivered by those CIs are
  the services this one depends on.

Both queries are breadth-first with ``UNION`` over ids only, ``(ci, depth)``: a CI reached
through several parents at the same depth is one row, the depth limit bounds cycles (a
cycle can only re-add a CI at a greater depth, at most ``depth`` times), and no path
string is carried, so diamonds (a VM on two clustered hosts, a site on two WAN links) do
not multiply rows the way path enumeration does. The walk stops after ``max_walk`` rows
(breadth-first, so the closest CIs are the ones found; the result says ``truncated`` and
``capped``). Only then are the (at most ``limit``) closest CIs read, with the edges
towards the roots among them: a CI's parents are its neighbours found one step closer,
and its explaining path follows its first parent (lowest id), always a shortest path to a
root. Services are looked up per affected CI. Retired CIs are not walked through (a
retired application is not impacted any more).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction

from itsmo.core.scoping import scope_of
from itsmo.organization.models import Country, SiteKind

from .models import CI, CIClass, CIStatus, Relationship, RelationshipType, ServiceCI

DEFAULT_DEPTH = 10
MAX_DEPTH = 25
#: At most this many CIs (the closest first) are returned; ``total`` still counts all.
DEFAULT_LIMIT = 5000
#: The walk stops after this many (CI, depth) rows (``settings.ITSMO_IMPACT_MAX_WALK``):
#: a core router's upstream is most of a data centre and is reported ``truncated``, with
#: ``total`` counting the CIs found so far. The closest CIs are always the ones found.
DEFAULT_MAX_WALK = 50_000
#: Relationship types along which a failure propagates (all of them, by convention).
PROPAGATING_TYPES: tuple[str, ...] = tuple(RelationshipType.values)
HIDDEN_NAME = "(not visible to you)"


@dataclass(slots=True)
class PathStep:
    id: int
    number: str
    name: str
    relation: str | None  # how this CI relates to the previous step ("depends_on"…)


@dataclass
class AffectedCI:
    id: int
    number: str
    name: str
    ci_class: str
    country: str | None
    status: str
    depth: int
    parents: list[tuple[int, str]]  # (CI id one step closer to the root, relationship type)
    path: list[PathStep] = field(default_factory=list)
    is_visible: bool = True


@dataclass
class AffectedService:
    id: int
    code: str
    name: str
    kind: str
    criticality: int
    depth: int
    via: list[int]  # affected CIs linked to this service (closest first)
    countries: list[str]
    path: list[PathStep] = field(default_factory=list)


@dataclass
class AffectedProcess:
    id: int
    code: str
    name: str
    criticality: int
    weight: int  # the highest weight among the affected services supporting it
    services: list[tuple[int, int]]  # (service id, weight)
    countries: list[str]


@dataclass
class ImpactResult:
    roots: list[int]
    depth: int
    cis: list[AffectedCI]
    services: list[AffectedService]
    business_processes: list[AffectedProcess]
    countries: list[str]
    total: int  # affected CIs found (roots included), even when ``cis`` is truncated
    truncated: bool  # ``cis`` is not everything: the limit or the walk cap was reached
    capped: bool = False  # the walk was cut at max_walk rows: ``total`` is a lower bound


@dataclass
class DependencyResult:
    service_id: int
    depth: int
    cis: list[AffectedCI]  # the service's own CIs at depth 0, what they depend on below
    services: list[AffectedService]  # other services this one depends on through its CIs
    total: int
    truncated: bool
    capped: bool = False


def _tables() -> dict[str, str]:
    q = connection.ops.quote_name
    from itsmo.organization.models import Site

    return {
        "ci": q(CI._meta.db_table),
        "class": q(CIClass._meta.db_table),
        "country": q(Country._meta.db_table),
        "rel": q(Relationship._meta.db_table),
        "link": q(ServiceCI._meta.db_table),
        "site": q(Site._meta.db_table),
    }


def _clamp_depth(depth: int | None) -> int:
    if depth is None:
        return DEFAULT_DEPTH
    return max(0, min(int(depth), MAX_DEPTH))


def _max_walk() -> int:
    from django.conf import settings

    return int(getattr(settings, "ITSMO_IMPACT_MAX_WALK", DEFAULT_MAX_WALK))


def _walk_sql(*, upstream: bool, seed_sql: str, exclude_service: bool) -> str:
    """The one statement: walk ids, then CI rows, service rows and the totals, tagged by kind.

    Parameters, in order: the seed's, depth, types, retired status, walk cap, CI limit, the
    types again (parents), the data-centre kind and, with ``exclude_service``, the service.
    """
    t = _tables()
    near, far = ("target_id", "source_id") if upstream else ("source_id", "target_id")
    types = ", ".join(["%s"] * len(PROPAGATING_TYPES))
    service_filter = "AND sc.service_id <> %s" if exclude_service else ""
    if connection.vendor == "postgresql":
        # Probe the link table once per affected CI through its ci_id index: the planner
        # cannot estimate the walk's size and otherwise hashes every link (and used to
        # read every linked CI). OFFSET 0 keeps it from flattening the LATERAL away.
        links = (
            f"CROSS JOIN LATERAL (SELECT sc.service_id, sc.ci_id FROM {t['link']} sc "
            f"WHERE sc.ci_id = b.ci_id {service_filter} OFFSET 0) AS sc"
        )
    else:
        links = f"JOIN {t['link']} sc ON sc.ci_id = b.ci_id {service_filter}"
    return f"""
        WITH RECURSIVE walk(ci_id, depth) AS (
            {seed_sql}
            UNION
            SELECT r.{far}, w.depth + 1
            FROM walk w
            JOIN {t["rel"]} r ON r.{near} = w.ci_id
            JOIN {t["ci"]} n ON n.id = r.{far}
            WHERE w.depth < %s AND r.type IN ({types}) AND n.status <> %s
        ),
        capped AS (SELECT ci_id, depth FROM walk LIMIT %s),
        best AS (SELECT ci_id, MIN(depth) AS depth FROM capped GROUP BY ci_id),
        shown AS (SELECT ci_id, depth FROM best ORDER BY depth, ci_id LIMIT %s)
        SELECT 'n', (SELECT COUNT(*) FROM best), CAST(NULL AS INTEGER),
               (SELECT COUNT(*) FROM capped), CAST(NULL AS VARCHAR(60)),
               CAST(NULL AS VARCHAR(20)), CAST(NULL AS VARCHAR(200)), CAST(NULL AS VARCHAR(2)),
               CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR(20)), CAST(NULL AS INTEGER)
        UNION ALL
        SELECT 'c', s.ci_id, s.depth, NULL, cls.code, c.number, c.name, co.code,
               c.country_id, c.status, NULL
        FROM shown s
        JOIN {t["ci"]} c ON c.id = s.ci_id
        JOIN {t["class"]} cls ON cls.id = c.ci_class_id
        LEFT JOIN {t["country"]} co ON co.id = c.country_id
        UNION ALL
        SELECT 'p', s.ci_id, NULL, r.{near}, r.type, NULL, NULL, NULL, NULL, NULL, NULL
        FROM shown s
        JOIN {t["rel"]} r ON r.{far} = s.ci_id
        WHERE r.type IN ({types}) AND r.{near} IN (SELECT ci_id FROM shown)
        UNION ALL
        SELECT 's', x.service_id, x.depth, MIN(x.ci_id), NULL, NULL, NULL, x.country_code,
               x.country_id, NULL, x.central
        FROM (
            SELECT sc.service_id, b.depth, sc.ci_id, c.country_id, co.code AS country_code,
                   CASE WHEN c.country_id IS NULL OR st.kind = %s THEN 1 ELSE 0 END AS central
            FROM best b
            {links}
            JOIN {t["ci"]} c ON c.id = b.ci_id
            LEFT JOIN {t["site"]} st ON st.id = c.site_id
            LEFT JOIN {t["country"]} co ON co.id = c.country_id
        ) AS x
        GROUP BY x.service_id, x.depth, x.country_id, x.country_code, x.central
    """


#: PostgreSQL only: memory for the walk's de-duplication and the sorts of one statement,
#: so a wide upstream does not spill to disk (restored right after the statement).
WORK_MEM = "64MB"


def _run(sql: str, params: Sequence) -> list[tuple]:
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            return cursor.fetchall()
    nested = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        # set_config(..., true) is SET LOCAL: it ends with our transaction, or would last
        # until the end of an enclosing one (ATOMIC_REQUESTS, a test): then put it back.
        cursor.execute(
            "SELECT current_setting('work_mem'), set_config('work_mem', %s, true)", [WORK_MEM]
        )
        previous = cursor.fetchone()[0]
        try:
            cursor.execute(sql, list(params))
            return cursor.fetchall()
        finally:
            if nested:
                cursor.execute("SELECT set_config('work_mem', %s, true)", [previous])


def _walk_params(
    seed: list, depth: int, limit: int, max_walk: int, exclude_service: int | None
) -> list:
    params: list = [
        *seed,
        depth,
        *PROPAGATING_TYPES,
        CIStatus.RETIRED,
        max_walk,
        limit,
        *PROPAGATING_TYPES,
        SiteKind.DATA_CENTRE,
    ]
    if exclude_service is not None:
        params.append(exclude_service)
    return params


def _build(
    rows: list[tuple], max_walk: int, user
) -> tuple[int, dict[int, AffectedCI], list[tuple], bool, bool]:
    """CIs from the ``c`` rows, their parents from the ``p`` rows, the ``s`` rows as they are.

    A ``p`` row is an edge from a returned CI towards the roots; it is a parent when its
    other end is exactly one step closer (the walk found it at the CI's depth - 1).
    """
    total = walk_rows = 0
    cis: dict[int, AffectedCI] = {}
    edges: list[tuple] = []
    service_rows: list[tuple] = []
    scope = scope_of(user) if user is not None else None
    for row in rows:
        kind = row[0]
        if kind == "n":
            total, walk_rows = int(row[1]), int(row[3])
        elif kind == "s":
            service_rows.append(row)
        elif kind == "p":
            edges.append((row[1], row[3], row[4]))
        else:
            _, ci_id, depth, _, class_code, number, name, country, country_id, status, _ = row
            visible = scope is None or scope.allows(country_id)
            cis[ci_id] = AffectedCI(
                id=ci_id,
                number=number,
                name=name if visible else HIDDEN_NAME,
                ci_class=class_code,
                country=country,
                status=status,
                depth=depth,
                parents=[],
                is_visible=visible,
            )
    for ci_id, via_id, via_type in sorted(edges):
        node, parent = cis[ci_id], cis[via_id]
        if parent.depth == node.depth - 1:
            node.parents.append((via_id, via_type))
    capped = walk_rows >= max_walk  # a walk of exactly max_walk rows counts as cut
    _assign_paths(cis)
    return total, cis, service_rows, capped or total > len(cis), capped


def _assign_paths(cis: dict[int, AffectedCI]) -> None:
    """Give every CI its path from a root through each step's first parent at minimum depth.

    A step's ``relation`` is the type of the edge between it and the previous step. CIs
    are visited by depth, so a parent's path is known before its children's; a parent
    missing from a truncated result starts the path where the result does.
    """
    paths: dict[int, list[PathStep]] = {}
    for node in sorted(cis.values(), key=lambda n: n.depth):
        parent_id, relation = node.parents[0] if node.parents else (None, None)
        step = PathStep(node.id, node.number, node.name, relation)
        parent_path = paths.get(parent_id) if parent_id is not None else None
        node.path = paths[node.id] = [*parent_path, step] if parent_path else [step]


def _services(service_rows: list[tuple], cis: dict[int, AffectedCI]) -> list[AffectedService]:
    from itsmo.catalog.models import Service

    if not service_rows:
        return []
    by_service: dict[int, list[tuple]] = defaultdict(list)
    for row in service_rows:
        by_service[row[1]].append(row)
    services = Service.objects.filter(pk__in=by_service).prefetch_related("countries")
    result = []
    for service in services:
        rows = sorted(by_service[service.pk], key=lambda r: (r[2], r[3]))
        offered = {c.code for c in service.countries.all()}
        affected: set[str] = set()
        for row in rows:
            country, is_central = row[7], bool(row[10])
            if is_central:
                affected |= offered or ({country} if country else set())
            elif country is not None:
                affected.add(country)
        via = list(dict.fromkeys(row[3] for row in rows))
        best_via = cis.get(via[0])
        result.append(
            AffectedService(
                id=service.pk,
                code=service.code,
                name=service.name,
                kind=service.kind,
                criticality=service.criticality,
                depth=rows[0][2],
                via=via,
                countries=sorted(affected),
                path=list(best_via.path) if best_via else [],
            )
        )
    result.sort(key=lambda s: (s.depth, s.criticality, s.name))
    return result


def _processes(services: list[AffectedService]) -> list[AffectedProcess]:
    from itsmo.catalog.models import ServiceProcess

    by_id = {s.id: s for s in services}
    processes: dict[int, AffectedProcess] = {}
    links = (
        ServiceProcess.objects.filter(service_id__in=by_id)
        .select_related("business_process")
        .order_by("business_process__name")
    )
    for link in links:
        process = link.business_process
        entry = processes.get(process.pk)
        if entry is None:
            entry = processes[process.pk] = AffectedProcess(
                id=process.pk,
                code=process.code,
                name=process.name,
                criticality=process.criticality,
                weight=0,
                services=[],
                countries=[],
            )
        entry.services.append((link.service_id, link.weight))
        entry.weight = max(entry.weight, link.weight)
        entry.countries = sorted(set(entry.countries) | set(by_id[link.service_id].countries))
    return sorted(processes.values(), key=lambda p: (p.criticality, -p.weight, p.name))


def impact(
    ci_ids: Iterable[int],
    *,
    depth: int | None = DEFAULT_DEPTH,
    limit: int = DEFAULT_LIMIT,
    max_walk: int | None = None,
    user=None,
) -> ImpactResult:
    """Everything upstream of the CIs ``ci_ids`` (the roots, depth 0).

    ``user`` (optional) redacts the names of affected CIs outside the user's scope: the
    impact is real wherever it lands, but names are shown only where the user may look.
    ``max_walk`` (default ``settings.ITSMO_IMPACT_MAX_WALK``) bounds the walk's rows.
    """
    roots = sorted({int(pk) for pk in ci_ids})
    depth = _clamp_depth(depth)
    if not roots:
        return ImpactResult([], depth, [], [], [], [], 0, False)
    t = _tables()
    max_walk = _max_walk() if max_walk is None else max_walk
    seed = f"SELECT c.id, 0 FROM {t['ci']} c WHERE c.id IN ({', '.join(['%s'] * len(roots))})"
    sql = _walk_sql(upstream=True, seed_sql=seed, exclude_service=False)
    rows = _run(sql, _walk_params(roots, depth, limit, max_walk, None))
    total, cis, service_rows, truncated, capped = _build(rows, max_walk, user)
    services = _services(service_rows, cis)
    processes = _processes(services)
    countries = {node.country for node in cis.values() if node.country}
    for service in services:
        countries |= set(service.countries)
    ordered = sorted(cis.values(), key=lambda n: (n.depth, n.number))
    return ImpactResult(
        roots=[r for r in roots if r in cis],
        depth=depth,
        cis=ordered,
        services=services,
        business_processes=processes,
        countries=sorted(countries),
        total=total,
        truncated=truncated,
        capped=capped,
    )


def service_dependencies(
    service,
    *,
    depth: int | None = DEFAULT_DEPTH,
    limit: int = DEFAULT_LIMIT,
    max_walk: int | None = None,
    user=None,
) -> DependencyResult:
    """The CIs delivering ``service`` and everything they depend on, downstream."""
    service_id = getattr(service, "pk", service)
    depth = _clamp_depth(depth)
    t = _tables()
    max_walk = _max_walk() if max_walk is None else max_walk
    seed = f"SELECT sc.ci_id, 0 FROM {t['link']} sc WHERE sc.service_id = %s"
    sql = _walk_sql(upstream=False, seed_sql=seed, exclude_service=True)
    rows = _run(sql, _walk_params([service_id], depth, limit, max_walk, service_id))
    total, cis, service_rows, truncated, capped = _build(rows, max_walk, user)
    ordered = sorted(cis.values(), key=lambda n: (n.depth, n.number))
    return DependencyResult(
        service_id=service_id,
        depth=depth,
        cis=ordered,
        services=_services(service_rows, cis),
        total=total,
        truncated=truncated,
        capped=capped,
    )
