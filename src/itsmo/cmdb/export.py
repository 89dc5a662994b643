"""CSV export of CIs and relationships, in the format the importer reads.

Only what ``visible_to(user)`` lets the user see (``user=None``: everything, for the
command line run by an administrator). Rows are streamed: the export of a million CIs
never holds them in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import IO

from django.db.models import Q, QuerySet

from itsmo.core.errors import PermissionDenied, ValidationFailed

from .importer import ATTRIBUTE_PREFIX, CI_COLUMNS, RELATIONSHIP_COLUMNS
from .models import CI, CIAttribute, CIClass, Relationship

CHUNK = 2000


def filtered_cis(
    user=None,
    *,
    ci_class: str | None = None,
    country: str | None = None,
    status: str | None = None,
    site: str | None = None,
) -> QuerySet[CI]:
    """The CIs to export: visible to ``user`` (all for ``None``), filtered by codes."""
    if user is not None and not getattr(user, "is_staff_member", False):
        raise PermissionDenied("the CMDB is for service management staff")
    cis = CI.objects.all() if user is None else CI.objects.visible_to(user)
    if ci_class:
        if not CIClass.objects.filter(code=ci_class).exists():
            raise ValidationFailed(f"unknown CI class {ci_class!r}", field="class")
        cis = cis.filter(ci_class__code=ci_class)
    if country:
        cis = cis.filter(country__code__iexact=country)
    if status:
        cis = cis.filter(status=status)
    if site:
        cis = cis.filter(site__code=site)
    return cis


def attribute_names(cis: QuerySet[CI]) -> list[str]:
    """Names of every attribute declared by the classes (and their ancestors) of ``cis``."""
    class_ids = set(cis.order_by().values_list("ci_class_id", flat=True).distinct())
    classes = {c.pk: c for c in CIClass.objects.all()}
    lineage: set[int] = set()
    for class_id in class_ids:
        node = classes.get(class_id)
        while node is not None and node.pk not in lineage:
            lineage.add(node.pk)
            node = classes.get(node.parent_id)
    names = CIAttribute.objects.filter(ci_class_id__in=lineage).values_list("name", flat=True)
    return sorted(set(names))


def ci_header(attributes: Iterable[str]) -> list[str]:
    return ["number", *CI_COLUMNS, *(f"{ATTRIBUTE_PREFIX}{name}" for name in attributes)]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def ci_rows(cis: QuerySet[CI], attributes: list[str]) -> Iterator[list[str]]:
    """The header, then one row per CI (ordered by number)."""
    yield ci_header(attributes)
    query = cis.select_related("ci_class", "country", "site", "owner_group").order_by("number")
    for ci in query.iterator(chunk_size=CHUNK):
        values = ci.attributes or {}
        yield [
            ci.number,
            ci.ci_class.code,
            ci.name,
            ci.serial,
            ci.asset_tag,
            ci.status,
            ci.environment,
            ci.country.code if ci.country_id else "",
            ci.site.code if ci.site_id else "",
            ci.owner_group.code if ci.owner_group_id else "",
            ci.discovery_source,
            ci.last_seen_at.isoformat() if ci.last_seen_at else "",
            ci.description,
            *(_cell(values.get(name)) for name in attributes),
        ]


def relationship_rows(cis: QuerySet[CI]) -> Iterator[list[str]]:
    """The header, then every relationship whose both ends are in ``cis`` (by CI number)."""
    yield list(RELATIONSHIP_COLUMNS)
    ids = cis.order_by().values("pk")
    relationships = (
        Relationship.objects.filter(Q(source__in=ids) & Q(target__in=ids))
        .values_list("source__number", "type", "target__number", "discovery_source")
        .order_by("source__number", "type", "target__number")
    )
    for source, type_, target, discovery in relationships.iterator(chunk_size=CHUNK):
        yield [source, "", "", "", "", type_, target, "", "", "", "", discovery]


def write_csv(rows: Iterable[list[str]], out: IO[str]) -> int:
    """Write rows; returns the number of data rows (the header excluded)."""
    writer = csv.writer(out, lineterminator="\n")
    count = -1
    for row in rows:
        writer.writerow(row)
        count += 1
    return max(count, 0)


def export_cis(out: IO[str], user=None, **filters) -> int:
    cis = filtered_cis(user, **filters)
    return write_csv(ci_rows(cis, attribute_names(cis)), out)


def export_relationships(out: IO[str], user=None, **filters) -> int:
    return write_csv(relationship_rows(filtered_cis(user, **filters)), out)


class _Echo:
    def write(self, value: str) -> str:
        return value


def stream_csv(rows: Iterable[list[str]]) -> Iterator[str]:
    """CSV lines one by one, for a streaming HTTP response."""
    writer = csv.writer(_Echo(), lineterminator="\n")
    for row in rows:
        yield writer.writerow(row)
