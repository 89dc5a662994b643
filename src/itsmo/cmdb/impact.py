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

Both queries are breadth-first with ``UNION`` over ``(ci, depth, via, type)``: a CI that is
reached twice at the same depth through the same edge is one row, the depth limit bounds
cycles (a cycle can only re-add a CI at a greater depth, at most ``depth`` times), and no
path string is carried, so diamonds (a VM on two clustered hosts, a site on two WAN links)
do not multiply rows the way path enumeration does. Each CI's explaining path is rebuilt
from its first parent at its minimum depth, which is always a shortest path to a root.
Retired CIs are not walked through (a retired application is not impacted any more).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection

from itsmo.core.scoping import scope_of
from itsmo.organization.models import Country, SiteKind

from .models import CI, CIClass, CIStatus, Relationship, RelationshipType, ServiceCI

DEFAULT_DEPTH = 10
MAX_DEPTH = 25
#: At most this many walk rows are turned into CIs in a result; ``total`` still counts all.
DEFAULT_LIMIT = 5000
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
    truncated: bool


@dataclass
class DependencyResult:
    service_id: int
    depth: int
    cis: list[AffectedCI]  # the service's own CIs at depth 0, what they depend on below
    services: list[AffectedService]  # other services this one depends on through its CIs
    total: int
    truncated: bool


def _tables() -> dict[str, str]:
    q = connection.ops.quote_name
    from itsmo.organization.models import Site

    return {
        "ci": q(CI._meta.db_table),
        "rel": q(Relationship._meta.db_table),
        "link": q(ServiceCI._meta.db_table),
        "site": q(Site._meta.db_table),
    }


def _clamp_depth(depth: int | None) -> int:
    if depth is None:
        return DEFAULT_DEPTH
    return max(0, min(int(depth), MAX_DEPTH))


#: Columns of a walk's seed row after (id, depth): no parent yet, then the CI's own fields.
_SEED_COLUMNS = (
    "CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR(20)), c.number, c.name, "
    "c.ci_class_id, c.country_id, c.status"
)


def _walk_sql(*, upstream: bool, seed_sql: str, exclude_service: bool) -> str:
    """The one statement: walk, then CI rows, service rows and the total, tagged by kind."""
    t = _tables()
    near, far = ("target_id", "source_id") if upstream else ("source_id", "target_id")
    types = ", ".join(["%s"] * len(PROPAGATING_TYPES))
    service_filter = "AND sc.service_id <> %s" if exclude_service else ""
    return f"""
        WITH RECURSIVE walk(ci_id, depth, via_id, via_type, number, name, class_id, country_id,
                            status) AS (
            {seed_sql}
            UNION
            SELECT r.{far}, w.depth + 1, w.ci_id, r.type, n.number, n.name, n.ci_class_id,
                   n.country_id, n.status
            FROM walk w
            JOIN {t["rel"]} r ON r.{near} = w.ci_id
            JOIN {t["ci"]} n ON n.id = r.{far}
            WHERE w.depth < %s AND r.type IN ({types}) AND n.status <> %s
        ),
        best AS (SELECT ci_id, MIN(depth) AS depth FROM walk GROUP BY ci_id)
        SELECT 'n', COUNT(*), CAST(NULL AS INTEGER), CAST(NULL AS BIGINT),
               CAST(NULL AS VARCHAR(20)), CAST(NULL AS VARCHAR(20)), CAST(NULL AS VARCHAR(200)),
               CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR(20)),
               CAST(NULL AS INTEGER)
        FROM best
        UNION ALL
        SELECT * FROM (
            SELECT 'c', w.ci_id, w.depth, w.via_id, w.via_type, w.number, w.name,
                   w.class_id, w.country_id, w.status, CAST(NULL AS INTEGER)
            FROM walk w
            JOIN best b ON b.ci_id = w.ci_id AND b.depth = w.depth
            ORDER BY w.depth, w.ci_id, w.via_id
            LIMIT %s
        ) AS cis
        UNION ALL
        SELECT 's', x.service_id, x.depth, MIN(x.ci_id), NULL, NULL, NULL, NULL,
               x.country_id, NULL, x.central
        FROM (
            SELECT sc.service_id, b.depth, sc.ci_id, c.country_id,
                   CASE WHEN c.country_id IS NULL OR st.kind = %s THEN 1 ELSE 0 END AS central
            FROM best b
            JOIN {t["link"]} sc ON sc.ci_id = b.ci_id {service_filter}
            JOIN {t["ci"]} c ON c.id = b.ci_id
            LEFT JOIN {t["site"]} st ON st.id = c.site_id
        ) AS x
        GROUP BY x.service_id, x.depth, x.country_id, x.central
    """


def _run(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def _walk_params(depth: int, limit: int, exclude_service: int | None) -> list:
    params: list = [depth, *PROPAGATING_TYPES, CIStatus.RETIRED, limit, SiteKind.DATA_CENTRE]
    if exclude_service is not None:
        params.append(exclude_service)
    return params


def _build(
    rows: list[tuple], limit: int, user
) -> tuple[int, dict[int, AffectedCI], list[tuple], bool]:
    total = 0
    cis: dict[int, AffectedCI] = {}
    service_rows: list[tuple] = []
    ci_rows = 0
    classes = dict(CIClass.objects.values_list("pk", "code"))
    countries = dict(Country.objects.values_list("pk", "code"))
    scope = scope_of(user) if user is not None else None
    for row in rows:
        kind = row[0]
        if kind == "n":
            total = int(row[1])
        elif kind == "s":
            service_rows.append(row)
        else:
            ci_rows += 1
            _, ci_id, depth, via_id, via_type, number, name, class_id, country_id, status, _ = row
            node = cis.get(ci_id)
            if node is None:
                visible = scope is None or scope.allows(country_id)
                node = cis[ci_id] = AffectedCI(
                    id=ci_id,
                    number=number,
                    name=name if visible else HIDDEN_NAME,
                    ci_class=classes.get(class_id, ""),
                    country=countries.get(country_id),
                    status=status,
                    depth=depth,
                    parents=[],
                    is_visible=visible,
                )
            if via_id is not None:
                node.parents.append((via_id, via_type))
    truncated = ci_rows >= limit and total > len(cis)
    _assign_paths(cis)
    return total, cis, service_rows, truncated


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
    country_codes = dict(Country.objects.values_list("pk", "code"))
    result = []
    for service in services:
        rows = sorted(by_service[service.pk], key=lambda r: (r[2], r[3]))
        offered = {c.code for c in service.countries.all()}
        affected: set[str] = set()
        for row in rows:
            country_id, is_central = row[8], bool(row[10])
            if is_central:
                affected |= offered or ({country_codes[country_id]} if country_id else set())
            elif country_id is not None:
                affected.add(country_codes[country_id])
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
    user=None,
) -> ImpactResult:
    """Everything upstream of the CIs ``ci_ids`` (the roots, depth 0).

    ``user`` (optional) redacts the names of affected CIs outside the user's scope: the
    impact is real wherever it lands, but names are shown only where the user may look.
    """
    roots = sorted({int(pk) for pk in ci_ids})
    depth = _clamp_depth(depth)
    if not roots:
        return ImpactResult([], depth, [], [], [], [], 0, False)
    t = _tables()
    seed = (
        f"SELECT c.id, 0, {_SEED_COLUMNS} "
        f"FROM {t['ci']} c WHERE c.id IN ({', '.join(['%s'] * len(roots))})"
    )
    sql = _walk_sql(upstream=True, seed_sql=seed, exclude_service=False)
    rows = _run(sql, [*roots, *_walk_params(depth, limit, None)])
    total, cis, service_rows, truncated = _build(rows, limit, user)
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
    )


def service_dependencies(
    service, *, depth: int | None = DEFAULT_DEPTH, limit: int = DEFAULT_LIMIT, user=None
) -> DependencyResult:
    """The CIs delivering ``service`` and everything they depend on, downstream."""
    service_id = getattr(service, "pk", service)
    depth = _clamp_depth(depth)
    t = _tables()
    seed = (
        f"SELECT c.id, 0, {_SEED_COLUMNS} "
        f"FROM {t['link']} sc JOIN {t['ci']} c ON c.id = sc.ci_id WHERE sc.service_id = %s"
    )
    sql = _walk_sql(upstream=False, seed_sql=seed, exclude_service=True)
    rows = _run(sql, [service_id, *_walk_params(depth, limit, service_id)])
    total, cis, service_rows, truncated = _build(rows, limit, user)
    ordered = sorted(cis.values(), key=lambda n: (n.depth, n.number))
    return DependencyResult(
        service_id=service_id,
        depth=depth,
        cis=ordered,
        services=_services(service_rows, cis),
        total=total,
        truncated=truncated,
    )
