"""The write path of the CMDB: CIs, relationships and service-CI links.

Every function runs in one transaction, validates everything before it writes (a refused
call changes nothing) and journals what it changed. ``actor=None`` is the system (data
migrations, the importer run by an administrator on the command line).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from itsmo.accounts.models import SupportGroup
from itsmo.core import journal
from itsmo.core.errors import NotFound, PermissionDenied, ValidationFailed
from itsmo.core.numbering import next_reference
from itsmo.core.scoping import scope_of
from itsmo.core.versioning import save_versioned
from itsmo.organization.models import Country, Site

from . import attributes as attribute_rules
from .models import (
    CI,
    CI_LIFECYCLE,
    INVERSE_LABELS,
    NUMBER_PREFIX,
    CIClass,
    CIStatus,
    Environment,
    Relationship,
    RelationshipType,
    ServiceCI,
)

#: Fields a caller may set on create and change on update (status goes through
#: :func:`transition_ci`, or through ``update_ci`` which applies the same table).
EDITABLE_FIELDS = (
    "name",
    "ci_class",
    "serial",
    "asset_tag",
    "status",
    "environment",
    "country",
    "site",
    "owner_group",
    "description",
    "discovery_source",
    "last_seen_at",
    "attributes",
)
MAX_NAME = 200


# --- reads used by the write path and by the importer ---------------------------------------


def attribute_schema(ci_class: CIClass) -> dict[str, attribute_rules.AttributeSpec]:
    """The effective declared attributes of ``ci_class`` (inherited ones included)."""
    return {
        name: attribute_rules.AttributeSpec(
            name=name,
            type=attribute.type,
            label=attribute.label,
            is_required=attribute.is_required,
            choices=tuple(attribute.choices or ()),
        )
        for name, attribute in ci_class.schema().items()
    }


def validate_attributes(ci_class: CIClass, values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Coerced attributes, or ``ValidationFailed`` with ``field="attributes.<name>"``."""
    return attribute_rules.clean(attribute_schema(ci_class), values, class_name=ci_class.name)


def find_by_identity(
    ci_class: CIClass | int, *, serial: str = "", name: str = "", site: Site | int | None = None
) -> CI | None:
    """The CI with this identity, or ``None``.

    Identity rule: class + serial number when the serial is not blank; otherwise
    class + name + site (a CI without a site matches only CIs without a site). The first
    half is also a database constraint; the second is enforced here, because imported
    data often lacks sites and an SQL unique index treats NULL sites as all different.
    """
    class_id = ci_class.pk if isinstance(ci_class, CIClass) else ci_class
    serial = (serial or "").strip()
    if serial:
        return CI.objects.filter(ci_class_id=class_id, serial=serial).first()
    name = (name or "").strip()
    if not name:
        return None
    site_id = site.pk if isinstance(site, Site) else site
    return (
        CI.objects.filter(ci_class_id=class_id, serial="", name=name, site_id=site_id)
        .order_by("pk")
        .first()
    )


def get_ci(pk: int, user) -> CI:
    """A CI the user may see, or ``NotFound`` (also for CIs of other regions)."""
    ci = (
        CI.objects.visible_to(user)
        .select_related("ci_class", "country", "site", "owner_group")
        .filter(pk=pk)
        .first()
    )
    if ci is None:
        raise NotFound(f"no configuration item {pk}")
    return ci


# --- guards -----------------------------------------------------------------------------------


def _require_staff(actor) -> None:
    if actor is not None and not actor.is_staff_member:
        raise PermissionDenied("only service management staff may change the CMDB")


def _require_visible(ci: CI, actor) -> None:
    if actor is not None and not scope_of(actor).allows(ci.country_id):
        raise NotFound(f"no configuration item {ci.pk}")


def _require_country_allowed(country_id: int | None, actor) -> None:
    if actor is None or scope_of(actor).allows(country_id):
        return
    if country_id is None:
        raise PermissionDenied(
            "only users who see every region may manage global CIs (without a country)",
            field="country",
        )
    raise PermissionDenied("you may not manage CIs of this country", field="country")


def _clean_values(ci: CI, values: Mapping[str, Any]) -> None:
    """Validate and apply ``values`` to the unsaved/in-memory ``ci`` (nothing is written)."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed(f"{name!r} cannot be set", field=name)
    for key, value in values.items():
        if key in {
            "ci_class",
            "country",
            "site",
            "owner_group",
            "last_seen_at",
            "attributes",
            "status",
        }:
            continue
        if not isinstance(value, str):
            raise ValidationFailed(f"{key} must be text", field=key)
        setattr(ci, key, value.strip())
    if "ci_class" in values:
        if not isinstance(values["ci_class"], CIClass):
            raise ValidationFailed("unknown CI class", field="ci_class")
        ci.ci_class = values["ci_class"]
    if not ci.name:
        raise ValidationFailed("a CI needs a name", field="name")
    if len(ci.name) > MAX_NAME:
        raise ValidationFailed(f"at most {MAX_NAME} characters", field="name")
    for key in ("serial", "asset_tag", "discovery_source"):
        if len(getattr(ci, key)) > 100:
            raise ValidationFailed("at most 100 characters", field=key)
    if ci.environment not in Environment.values:
        raise ValidationFailed(f"unknown environment {ci.environment!r}", field="environment")
    if "owner_group" in values:
        group = values["owner_group"]
        if group is not None and not isinstance(group, SupportGroup):
            raise ValidationFailed("unknown support group", field="owner_group")
        ci.owner_group = group
    if "site" in values:
        site = values["site"]
        if site is not None and not isinstance(site, Site):
            raise ValidationFailed("unknown site", field="site")
        ci.site = site
    if "country" in values:
        country = values["country"]
        if country is not None and not isinstance(country, Country):
            raise ValidationFailed("unknown country", field="country")
        ci.country = country
    if ci.site is not None:
        if "country" not in values and "site" in values:
            ci.country = ci.site.country
        elif ci.country_id != ci.site.country_id:
            raise ValidationFailed(
                f"site {ci.site} is not in {ci.country or 'no country'}", field="site"
            )
    if "last_seen_at" in values:
        seen = values["last_seen_at"]
        if seen is not None and not isinstance(seen, datetime):
            raise ValidationFailed("expected a date and time", field="last_seen_at")
        ci.last_seen_at = seen
    if "attributes" in values or "ci_class" in values:
        ci.attributes = validate_attributes(ci.ci_class, values.get("attributes", ci.attributes))


def _check_identity(ci: CI) -> None:
    other = find_by_identity(ci.ci_class, serial=ci.serial, name=ci.name, site=ci.site_id)
    if other is not None and other.pk != ci.pk:
        field = "serial" if ci.serial else "name"
        raise ValidationFailed(
            f"{other.number} already has this identity "
            f"({'class + serial' if ci.serial else 'class + name + site'})",
            field=field,
        )


# --- CIs --------------------------------------------------------------------------------------


@transaction.atomic
def create_ci(
    *, actor, name: str, ci_class: CIClass, status: str = CIStatus.IN_OPERATION, **values: Any
) -> CI:
    """Create a CI; ``values`` are any of :data:`EDITABLE_FIELDS`."""
    _require_staff(actor)
    if status not in CIStatus.values:
        raise ValidationFailed(f"unknown status {status!r}", field="status")
    if not isinstance(ci_class, CIClass):
        raise ValidationFailed("unknown CI class", field="ci_class")
    ci = CI(ci_class=ci_class, status=status)
    values = {**values, "name": name, "ci_class": ci_class}
    values.setdefault("attributes", {})
    _clean_values(ci, values)
    _require_country_allowed(ci.country_id, actor)
    _check_identity(ci)
    ci.number = next_reference(NUMBER_PREFIX)
    ci.save()
    journal.record_created(ci, actor)
    return ci


def _snapshot(ci: CI) -> dict[str, Any]:
    values = {name: getattr(ci, name) for name in EDITABLE_FIELDS if name != "attributes"}
    values.update({f"attributes.{k}": v for k, v in (ci.attributes or {}).items()})
    return values


@transaction.atomic
def update_ci(ci: CI, *, actor, version: int | None, **values: Any) -> CI:
    """Change fields of ``ci`` if ``version`` is still current (``StaleVersion`` otherwise).

    ``attributes`` replaces the whole attribute set. A ``status`` change follows the
    CI lifecycle table.
    """
    _require_staff(actor)
    _require_visible(ci, actor)
    before = _snapshot(ci)
    old_status, old_country_id = ci.status, ci.country_id
    status = values.pop("status", None)
    if status is not None and status != ci.status:
        if status not in CIStatus.values:
            raise ValidationFailed(f"unknown status {status!r}", field="status")
        CI_LIFECYCLE.apply(ci, status)
    _clean_values(ci, values)
    if ci.country_id != old_country_id:
        _require_country_allowed(ci.country_id, actor)
    _check_identity(ci)
    save_versioned(ci, version, list(EDITABLE_FIELDS))
    after = _snapshot(ci)
    # "last seen" moves on every discovery run: it is a reading, not a change to journal.
    changes = {
        key: (before.get(key), after.get(key))
        for key in before.keys() | after.keys()
        if key not in {"status", "last_seen_at"} and before.get(key) != after.get(key)
    }
    journal.record_changes(ci, actor, dict(sorted(changes.items())))
    if ci.status != old_status:
        journal.record_state_change(ci, actor, "status", old_status, ci.status)
    return ci


@transaction.atomic
def transition_ci(ci: CI, to: str, *, actor, version: int | None = None, note: str = "") -> CI:
    _require_staff(actor)
    _require_visible(ci, actor)
    old, new = CI_LIFECYCLE.apply(ci, to)
    save_versioned(ci, version, ["status"])
    journal.record_state_change(ci, actor, "status", old, new, note=note)
    return ci


def retire_ci(ci: CI, *, actor, version: int | None = None, note: str = "") -> CI:
    return transition_ci(ci, CIStatus.RETIRED, actor=actor, version=version, note=note)


# --- relationships ----------------------------------------------------------------------------


def _contains_path(container_id: int, part_id: int) -> bool:
    """Whether ``container_id`` already (transitively) contains ``part_id``."""
    table = connection.ops.quote_name(Relationship._meta.db_table)
    sql = f"""
        WITH RECURSIVE parts(id) AS (
            SELECT CAST(%s AS BIGINT)
            UNION
            SELECT r.target_id FROM parts p
            JOIN {table} r ON r.source_id = p.id AND r.type = %s
        )
        SELECT 1 FROM parts WHERE id = %s LIMIT 1
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [container_id, RelationshipType.CONTAINS, part_id])
        return cursor.fetchone() is not None


def _describe(relationship_type: str, other: CI, *, inverse: bool = False) -> str:
    label = (
        INVERSE_LABELS[relationship_type] if inverse else RelationshipType(relationship_type).label
    )
    return f"{label} {other.number} {other.name}"


@transaction.atomic
def add_relationship(
    *, actor, source: CI, target: CI, type: str, discovery_source: str = ""
) -> Relationship:
    """Relate ``source`` to ``target`` ("source depends on / runs on / … target")."""
    _require_staff(actor)
    if type not in RelationshipType.values:
        raise ValidationFailed(
            f"unknown relationship type {type!r}; expected one of "
            f"{', '.join(RelationshipType.values)}",
            field="type",
        )
    if source is None:
        raise ValidationFailed("source CI not found", field="source")
    if target is None:
        raise ValidationFailed("target CI not found", field="target")
    _require_visible(source, actor)
    _require_visible(target, actor)
    if source.pk == target.pk:
        raise ValidationFailed("a CI cannot be related to itself", field="target")
    if Relationship.objects.filter(source=source, target=target, type=type).exists():
        raise ValidationFailed(
            f"{source.number} already {RelationshipType(type).label} {target.number}",
            field="target",
        )
    if type == RelationshipType.CONTAINS and _contains_path(target.pk, source.pk):
        raise ValidationFailed(
            f"{target.number} already contains {source.number}: containment cannot form a cycle",
            field="target",
        )
    relationship = Relationship.objects.create(
        source=source, target=target, type=type, discovery_source=discovery_source[:100]
    )
    journal.record_changes(source, actor, {"relationships": ("", _describe(type, target))})
    journal.record_changes(
        target, actor, {"relationships": ("", _describe(type, source, inverse=True))}
    )
    return relationship


@transaction.atomic
def remove_relationship(relationship: Relationship, *, actor) -> None:
    _require_staff(actor)
    source, target = relationship.source, relationship.target
    _require_visible(source, actor)
    _require_visible(target, actor)
    journal.record_changes(
        source, actor, {"relationships": (_describe(relationship.type, target), "")}
    )
    journal.record_changes(
        target, actor, {"relationships": (_describe(relationship.type, source, inverse=True), "")}
    )
    relationship.delete()


# --- service links ----------------------------------------------------------------------------


@transaction.atomic
def link_service(service, ci: CI, *, actor) -> ServiceCI:
    """Record that ``ci`` delivers ``service``."""
    _require_staff(actor)
    _require_visible(ci, actor)
    if ServiceCI.objects.filter(service=service, ci=ci).exists():
        raise ValidationFailed(f"{ci.number} is already linked to {service}", field="ci")
    link = ServiceCI.objects.create(service=service, ci=ci)
    journal.record_changes(ci, actor, {"services": ("", str(service))})
    journal.record_changes(service, actor, {"cis": ("", str(ci))})
    return link


@transaction.atomic
def unlink_service(service, ci: CI, *, actor) -> None:
    _require_staff(actor)
    _require_visible(ci, actor)
    deleted, _ = ServiceCI.objects.filter(service=service, ci=ci).delete()
    if not deleted:
        raise NotFound(f"{ci.number} is not linked to {service}")
    journal.record_changes(ci, actor, {"services": (str(service), "")})
    journal.record_changes(service, actor, {"cis": (str(ci), "")})
