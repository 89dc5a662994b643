"""API for CI classes, configuration items, relationships and impact analysis."""

from datetime import datetime
from typing import Any

from django.db.models import Q
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from itsmo.accounts.models import SupportGroup
from itsmo.api.pagination import PagePagination
from itsmo.core import registry
from itsmo.core.errors import NotFound, PermissionDenied, ValidationFailed
from itsmo.organization.models import Country, Site

from . import impact as impact_analysis, services
from .models import CI, CIClass, CIStatus, Environment, Relationship, RelationshipType

router = Router(tags=["cmdb"])


def _visible_cis(user):
    if not user.is_staff_member:
        return CI.objects.none()
    return CI.objects.visible_to(user)


registry.register("ci", CI, visible=_visible_cis)


def _require_staff(request) -> None:
    if not request.user.is_staff_member:
        raise PermissionDenied("the CMDB is for service management staff")


# --- schemas ----------------------------------------------------------------------------------


class AttributeOut(Schema):
    name: str
    label: str
    type: str
    required: bool
    choices: list[str]
    declared_by: str


class CIClassOut(Schema):
    id: int
    code: str
    name: str
    parent: str | None
    description: str
    attributes: list[AttributeOut]


class CIRef(Schema):
    id: int
    number: str
    name: str


class CIOut(Schema):
    id: int
    number: str
    name: str
    ci_class: str
    serial: str
    asset_tag: str
    status: str
    environment: str
    country: str | None
    site: str | None
    owner_group: str | None
    description: str
    discovery_source: str
    last_seen_at: datetime | None
    attributes: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_ci_class(obj: CI) -> str:
        return obj.ci_class.code

    @staticmethod
    def resolve_country(obj: CI) -> str | None:
        return obj.country.code if obj.country_id else None

    @staticmethod
    def resolve_site(obj: CI) -> str | None:
        return obj.site.code if obj.site_id else None

    @staticmethod
    def resolve_owner_group(obj: CI) -> str | None:
        return obj.owner_group.code if obj.owner_group_id else None


class CIIn(Schema):
    name: str = Field(..., max_length=200)
    ci_class: str = Field(..., description="CI class code, e.g. `server`")
    serial: str = ""
    asset_tag: str = ""
    status: CIStatus = CIStatus.IN_OPERATION
    environment: Environment = Environment.PRODUCTION
    country: str | None = Field(None, description="ISO code; defaults to the site's country")
    site: str | None = Field(None, description="site code")
    owner_group: str | None = Field(None, description="support group code")
    description: str = ""
    discovery_source: str = ""
    last_seen_at: datetime | None = None
    attributes: dict[str, Any] = Field(
        default_factory=dict, description="declared attributes of the class"
    )


class CIPatch(Schema):
    version: int = Field(..., description="the version you read; a stale one is a 409")
    name: str | None = Field(None, max_length=200)
    ci_class: str | None = None
    serial: str | None = None
    asset_tag: str | None = None
    status: CIStatus | None = None
    environment: Environment | None = None
    country: str | None = None
    site: str | None = None
    owner_group: str | None = None
    description: str | None = None
    discovery_source: str | None = None
    last_seen_at: datetime | None = None
    attributes: dict[str, Any] | None = Field(None, description="replaces the whole attribute set")


class CIFilters(Schema):
    ci_class: str | None = Field(None, alias="class", description="CI class code")
    status: CIStatus | None = None
    country: str | None = Field(None, description="ISO code")
    site: str | None = Field(None, description="site code")
    service: int | None = Field(None, description="CIs linked to this service id")
    q: str | None = Field(None, description="number, name, serial or asset tag contains")


class RelationshipOut(Schema):
    id: int
    source: CIRef
    target: CIRef
    type: str
    label: str
    inverse_label: str
    discovery_source: str
    created_at: datetime

    @staticmethod
    def resolve_label(obj: Relationship) -> str:
        return str(RelationshipType(obj.type).label)


class RelationshipIn(Schema):
    source: int = Field(..., description="id of the CI that depends on / runs on / … target")
    target: int
    type: RelationshipType
    discovery_source: str = ""


class PathStepOut(Schema):
    id: int
    number: str
    name: str
    relation: str | None


class AffectedCIOut(Schema):
    id: int
    number: str
    name: str
    ci_class: str
    country: str | None
    status: str
    depth: int
    is_visible: bool
    parents: list[int]
    path: list[PathStepOut]

    @staticmethod
    def resolve_parents(obj) -> list[int]:
        return [parent for parent, _ in obj.parents]


class AffectedServiceOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    criticality: int
    depth: int
    via: list[int]
    countries: list[str]
    path: list[PathStepOut]


class ProcessServiceOut(Schema):
    service: int
    weight: int


class AffectedProcessOut(Schema):
    id: int
    code: str
    name: str
    criticality: int
    weight: int
    services: list[ProcessServiceOut]
    countries: list[str]

    @staticmethod
    def resolve_services(obj) -> list[dict]:
        return [{"service": s, "weight": w} for s, w in obj.services]


class ImpactOut(Schema):
    roots: list[int]
    depth: int
    total: int
    truncated: bool
    countries: list[str]
    cis: list[AffectedCIOut]
    services: list[AffectedServiceOut]
    business_processes: list[AffectedProcessOut]


# --- lookups ----------------------------------------------------------------------------------


def _lookup(model, field: str, value: str | None, name: str):
    if value is None:
        return None
    found = model.objects.filter(**{field: value}).first()
    if found is None:
        raise ValidationFailed(f"unknown {model._meta.verbose_name} {value!r}", field=name)
    return found


def _resolve(values: dict[str, Any]) -> dict[str, Any]:
    """Codes in the payload → the objects the services take."""
    resolved = dict(values)
    if "ci_class" in resolved:
        if resolved["ci_class"] is None:
            raise ValidationFailed("a CI needs a class", field="ci_class")
        resolved["ci_class"] = _lookup(CIClass, "code", resolved["ci_class"], "ci_class")
    if "country" in resolved:
        resolved["country"] = _lookup(Country, "code__iexact", resolved["country"], "country")
    if "site" in resolved:
        resolved["site"] = _lookup(Site, "code", resolved["site"], "site")
    if "owner_group" in resolved:
        resolved["owner_group"] = _lookup(
            SupportGroup, "code", resolved["owner_group"], "owner_group"
        )
    for key in ("status", "environment"):
        if resolved.get(key) is not None:
            resolved[key] = str(
                resolved[key].value if hasattr(resolved[key], "value") else resolved[key]
            )
    return resolved


def _get_ci(request, ci_id: int) -> CI:
    _require_staff(request)
    return services.get_ci(ci_id, request.user)


# --- CI classes -------------------------------------------------------------------------------


@router.get("/ci-classes", response=list[CIClassOut], summary="CI classes and their attributes")
def list_ci_classes(request):
    classes = list(
        CIClass.objects.filter(is_active=True)
        .select_related("parent")
        .prefetch_related("attributes")
    )
    by_pk = {c.pk: c for c in classes}
    result = []
    for ci_class in classes:
        if ci_class.parent_id in by_pk:
            ci_class.parent = by_pk[ci_class.parent_id]
        attributes = [
            {
                "name": a.name,
                "label": a.label,
                "type": a.type,
                "required": a.is_required,
                "choices": list(a.choices or []),
                "declared_by": by_pk.get(a.ci_class_id, ci_class).code,
            }
            for a in ci_class.schema().values()
        ]
        result.append(
            {
                "id": ci_class.pk,
                "code": ci_class.code,
                "name": ci_class.name,
                "parent": ci_class.parent.code if ci_class.parent_id else None,
                "description": ci_class.description,
                "attributes": attributes,
            }
        )
    return result


# --- CIs --------------------------------------------------------------------------------------


@router.get(
    "/cis",
    response=list[CIOut],
    summary="Configuration items",
    description="Only CIs of countries you may see. Filter by class, status, country, "
    "site, service and free text.",
)
@paginate(PagePagination)
def list_cis(request, filters: Query[CIFilters]):
    _require_staff(request)
    cis = CI.objects.visible_to(request.user).select_related(
        "ci_class", "country", "site", "owner_group"
    )
    if filters.ci_class:
        cis = cis.filter(ci_class__code=filters.ci_class)
    if filters.status:
        cis = cis.filter(status=filters.status)
    if filters.country:
        cis = cis.filter(country__code__iexact=filters.country)
    if filters.site:
        cis = cis.filter(site__code=filters.site)
    if filters.service:
        cis = cis.filter(service_links__service_id=filters.service)
    if filters.q:
        q = filters.q.strip()
        cis = cis.filter(Q(number__iexact=q) | Q(name__icontains=q) | Q(serial=q) | Q(asset_tag=q))
    return cis.order_by("number")


@router.post("/cis", response={201: CIOut}, summary="Create a CI")
def create_ci(request, payload: CIIn):
    _require_staff(request)
    values = _resolve(payload.model_dump())
    ci = services.create_ci(actor=request.user, **values)
    return Status(201, services.get_ci(ci.pk, request.user))


@router.get("/cis/{ci_id}", response=CIOut, summary="A configuration item")
def get_ci(request, ci_id: int):
    return _get_ci(request, ci_id)


@router.patch(
    "/cis/{ci_id}",
    response=CIOut,
    summary="Change a CI",
    description="Send the `version` you read. If someone changed the CI since, the "
    "answer is 409 with `current_version` and the `current` state.",
)
def update_ci(request, ci_id: int, payload: CIPatch):
    ci = _get_ci(request, ci_id)
    values = payload.model_dump(exclude_unset=True)
    version = values.pop("version")
    services.update_ci(ci, actor=request.user, version=version, **_resolve(values))
    return services.get_ci(ci.pk, request.user)


@router.get(
    "/cis/{ci_id}/impact",
    response=ImpactOut,
    summary="Impact analysis",
    description="Everything upstream of the CI that a failure of it impacts: CIs "
    "(with depth and the path that explains each), the services they "
    "deliver, the business processes of those services and the countries "
    "affected. Names of CIs outside your scope are redacted.",
)
def ci_impact(
    request,
    ci_id: int,
    depth: int = Query(impact_analysis.DEFAULT_DEPTH, ge=0, le=impact_analysis.MAX_DEPTH),
):
    ci = _get_ci(request, ci_id)
    return impact_analysis.impact([ci.pk], depth=depth, user=request.user)


# --- relationships ----------------------------------------------------------------------------


@router.get(
    "/relationships",
    response=list[RelationshipOut],
    summary="Relationships",
    description="With `ci`, the relationships from and to that CI.",
)
@paginate(PagePagination)
def list_relationships(request, ci: int | None = None, type: RelationshipType | None = None):
    _require_staff(request)
    visible = CI.objects.visible_to(request.user)
    relationships = Relationship.objects.filter(
        source__in=visible, target__in=visible
    ).select_related("source", "target")
    if ci is not None:
        _get_ci(request, ci)
        relationships = relationships.filter(Q(source_id=ci) | Q(target_id=ci))
    if type is not None:
        relationships = relationships.filter(type=type)
    return relationships.order_by("id")


def _ci_for_relationship(request, ci_id: int, field: str) -> CI:
    try:
        return services.get_ci(ci_id, request.user)
    except NotFound:
        raise ValidationFailed(f"no configuration item {ci_id}", field=field) from None


@router.post("/relationships", response={201: RelationshipOut}, summary="Relate two CIs")
def create_relationship(request, payload: RelationshipIn):
    _require_staff(request)
    source = _ci_for_relationship(request, payload.source, "source")
    target = _ci_for_relationship(request, payload.target, "target")
    relationship = services.add_relationship(
        actor=request.user,
        source=source,
        target=target,
        type=str(payload.type.value),
        discovery_source=payload.discovery_source,
    )
    return Status(201, relationship)


@router.delete(
    "/relationships/{relationship_id}", response={204: None}, summary="Remove a relationship"
)
def delete_relationship(request, relationship_id: int):
    _require_staff(request)
    visible = CI.objects.visible_to(request.user)
    relationship = (
        Relationship.objects.filter(pk=relationship_id, source__in=visible, target__in=visible)
        .select_related("source", "target")
        .first()
    )
    if relationship is None:
        raise NotFound(f"no relationship {relationship_id}")
    services.remove_relationship(relationship, actor=request.user)
    return Status(204, None)
