"""API for the service portfolio: business processes, services, request offerings."""

from datetime import datetime
from typing import Any

from django.db.models import Q
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from itsmo.accounts.models import SupportGroup, User
from itsmo.api.pagination import PagePagination
from itsmo.cmdb import impact as impact_analysis
from itsmo.cmdb.api import AffectedCIOut, AffectedServiceOut
from itsmo.core import registry
from itsmo.core.errors import NotFound, PermissionDenied, ValidationFailed
from itsmo.organization.models import BusinessCalendar, Country

from . import services
from .models import (
    BusinessProcess,
    Criticality,
    Lifecycle,
    RequestOffering,
    Service,
    ServiceKind,
)

router = Router(tags=["catalog"])


def _visible_services(user):
    return Service.objects.all() if user.is_authenticated else Service.objects.none()


def _visible_processes(user):
    return (
        BusinessProcess.objects.all() if user.is_authenticated else BusinessProcess.objects.none()
    )


registry.register("service", Service, visible=_visible_services)
registry.register("business-process", BusinessProcess, visible=_visible_processes)


# --- schemas ----------------------------------------------------------------------------------


class BusinessProcessOut(Schema):
    id: int
    code: str
    name: str
    criticality: int
    owner: str | None
    description: str
    is_active: bool
    version: int

    @staticmethod
    def resolve_owner(obj: BusinessProcess) -> str | None:
        return obj.owner.username if obj.owner_id else None


class BusinessProcessIn(Schema):
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=150)
    criticality: Criticality = Criticality.MEDIUM
    owner: str | None = Field(None, description="username")
    description: str = ""


class ServiceProcessOut(Schema):
    id: int
    code: str
    name: str
    weight: int


class ServiceOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    lifecycle: str
    criticality: int
    owner: str | None
    support_group: str | None
    service_hours: str | None
    countries: list[str]
    business_processes: list[ServiceProcessOut]
    description: str
    portal_description: str
    is_portal_visible: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_owner(obj: Service) -> str | None:
        return obj.owner.username if obj.owner_id else None

    @staticmethod
    def resolve_support_group(obj: Service) -> str | None:
        return obj.support_group.code if obj.support_group_id else None

    @staticmethod
    def resolve_service_hours(obj: Service) -> str | None:
        return obj.service_hours.name if obj.service_hours_id else None

    @staticmethod
    def resolve_countries(obj: Service) -> list[str]:
        return sorted(c.code for c in obj.countries.all())

    @staticmethod
    def resolve_business_processes(obj: Service) -> list[dict]:
        return [
            {
                "id": link.business_process_id,
                "code": link.business_process.code,
                "name": link.business_process.name,
                "weight": link.weight,
            }
            for link in obj.process_links.all()
        ]


class ServiceIn(Schema):
    code: str = Field(..., max_length=60)
    name: str = Field(..., max_length=150)
    kind: ServiceKind = ServiceKind.BUSINESS
    lifecycle: Lifecycle = Lifecycle.PIPELINE
    criticality: Criticality = Criticality.MEDIUM
    owner: str | None = Field(None, description="username")
    support_group: str | None = Field(None, description="support group code")
    service_hours: str | None = Field(None, description="business calendar name")
    countries: list[str] = Field(default_factory=list, description="ISO codes")
    business_processes: dict[str, int] = Field(
        default_factory=dict, description="business process code → weight 0-100"
    )
    description: str = ""
    portal_description: str = ""
    is_portal_visible: bool = False


class ServicePatch(Schema):
    version: int
    code: str | None = None
    name: str | None = None
    kind: ServiceKind | None = None
    lifecycle: Lifecycle | None = None
    criticality: Criticality | None = None
    owner: str | None = None
    support_group: str | None = None
    service_hours: str | None = None
    countries: list[str] | None = None
    business_processes: dict[str, int] | None = None
    description: str | None = None
    portal_description: str | None = None
    is_portal_visible: bool | None = None


class ServiceFilters(Schema):
    kind: ServiceKind | None = None
    lifecycle: Lifecycle | None = None
    country: str | None = Field(None, description="offered in this country (ISO code)")
    business_process: str | None = Field(None, description="business process code")
    q: str | None = None


class DependenciesOut(Schema):
    service_id: int
    depth: int
    total: int
    truncated: bool
    cis: list[AffectedCIOut]
    services: list[AffectedServiceOut]


class RequestOfferingOut(Schema):
    id: int
    code: str
    name: str
    service: int
    service_name: str
    description: str
    form_definition: list[dict[str, Any]]
    fulfilment_group: str | None
    portal_category: str
    is_active: bool
    version: int

    @staticmethod
    def resolve_service(obj: RequestOffering) -> int:
        return obj.service_id

    @staticmethod
    def resolve_service_name(obj: RequestOffering) -> str:
        return obj.service.name

    @staticmethod
    def resolve_fulfilment_group(obj: RequestOffering) -> str | None:
        return obj.fulfilment_group.code if obj.fulfilment_group_id else None


# --- helpers ----------------------------------------------------------------------------------


def _lookup(model, field: str, value, name: str):
    if value is None:
        return None
    found = model.objects.filter(**{field: value}).first()
    if found is None:
        raise ValidationFailed(f"unknown {model._meta.verbose_name} {value!r}", field=name)
    return found


def _resolve(values: dict[str, Any]) -> tuple[dict[str, Any], dict | None]:
    resolved = dict(values)
    for key in ("kind", "lifecycle", "criticality"):
        if resolved.get(key) is not None and hasattr(resolved[key], "value"):
            resolved[key] = resolved[key].value
    if "owner" in resolved:
        resolved["owner"] = _lookup(User, "username", resolved["owner"], "owner")
    if "support_group" in resolved:
        resolved["support_group"] = _lookup(
            SupportGroup, "code", resolved["support_group"], "support_group"
        )
    if "service_hours" in resolved:
        resolved["service_hours"] = _lookup(
            BusinessCalendar, "name", resolved["service_hours"], "service_hours"
        )
    if resolved.get("countries") is not None:
        codes = [c.upper() for c in resolved["countries"]]
        countries = list(Country.objects.filter(code__in=codes))
        missing = sorted(set(codes) - {c.code for c in countries})
        if missing:
            raise ValidationFailed(f"unknown country {missing[0]!r}", field="countries")
        resolved["countries"] = countries
    weights = resolved.pop("business_processes", None)
    processes = None
    if weights is not None:
        found = {p.code: p for p in BusinessProcess.objects.filter(code__in=list(weights))}
        for code in weights:
            if code not in found:
                raise ValidationFailed(
                    f"unknown business process {code!r}", field=f"business_processes.{code}"
                )
        processes = {found[code]: weight for code, weight in weights.items()}
    return resolved, processes


def _services():
    return Service.objects.select_related(
        "owner", "support_group", "service_hours"
    ).prefetch_related("countries", "process_links__business_process")


def _get_service(service_id: int) -> Service:
    service = _services().filter(pk=service_id).first()
    if service is None:
        raise NotFound(f"no service {service_id}")
    return service


def _require_staff(request) -> None:
    if not request.user.is_staff_member:
        raise PermissionDenied("the service portfolio is managed by service management staff")


# --- business processes -----------------------------------------------------------------------


@router.get("/business-processes", response=list[BusinessProcessOut], summary="Business processes")
def list_business_processes(request):
    return BusinessProcess.objects.select_related("owner").order_by("criticality", "name")


@router.post(
    "/business-processes", response={201: BusinessProcessOut}, summary="Create a business process"
)
def create_business_process(request, payload: BusinessProcessIn):
    values = payload.model_dump()
    values["criticality"] = int(values["criticality"])
    values["owner"] = _lookup(User, "username", values["owner"], "owner")
    return Status(201, services.create_business_process(actor=request.user, **values))


# --- services ---------------------------------------------------------------------------------


@router.get(
    "/services",
    response=list[ServiceOut],
    summary="Services of the portfolio",
    description="End users see the services of the catalogue only.",
)
@paginate(PagePagination)
def list_services(request, filters: Query[ServiceFilters]):
    query = _services()
    if not request.user.is_staff_member:
        query = query.filter(lifecycle=Lifecycle.CATALOGUE)
    if filters.kind:
        query = query.filter(kind=filters.kind)
    if filters.lifecycle:
        query = query.filter(lifecycle=filters.lifecycle)
    if filters.country:
        query = query.filter(countries__code__iexact=filters.country)
    if filters.business_process:
        query = query.filter(process_links__business_process__code=filters.business_process)
    if filters.q:
        query = query.filter(Q(name__icontains=filters.q) | Q(code__icontains=filters.q))
    return query.distinct().order_by("name")


@router.post("/services", response={201: ServiceOut}, summary="Create a service")
def create_service(request, payload: ServiceIn):
    values, processes = _resolve(payload.model_dump())
    service = services.create_service(actor=request.user, **values)
    if processes:
        services.set_business_processes(service, processes, actor=request.user)
    return Status(201, _get_service(service.pk))


@router.get("/services/{service_id}", response=ServiceOut, summary="A service")
def get_service(request, service_id: int):
    service = _get_service(service_id)
    if not request.user.is_staff_member and service.lifecycle != Lifecycle.CATALOGUE:
        raise NotFound(f"no service {service_id}")
    return service


@router.patch(
    "/services/{service_id}",
    response=ServiceOut,
    summary="Change a service",
    description="Send the `version` you read; a stale one is a 409.",
)
def update_service(request, service_id: int, payload: ServicePatch):
    service = _get_service(service_id)
    values = payload.model_dump(exclude_unset=True)
    version = values.pop("version")
    values, processes = _resolve(values)
    services.update_service(service, actor=request.user, version=version, **values)
    if processes is not None:
        services.set_business_processes(service, processes, actor=request.user)
    return _get_service(service_id)


@router.get(
    "/services/{service_id}/dependencies",
    response=DependenciesOut,
    summary="Dependency tree of a service",
    description="The CIs that deliver the service (depth 0) and everything they "
    "depend on, with the path to each, plus the other services this one "
    "depends on through them. Names of CIs outside your scope are "
    "redacted.",
)
def service_dependencies(
    request,
    service_id: int,
    depth: int = Query(impact_analysis.DEFAULT_DEPTH, ge=0, le=impact_analysis.MAX_DEPTH),
):
    _require_staff(request)
    service = _get_service(service_id)
    return impact_analysis.service_dependencies(service, depth=depth, user=request.user)


# --- request offerings ------------------------------------------------------------------------


@router.get(
    "/request-offerings",
    response=list[RequestOfferingOut],
    summary="Request offerings (the portal catalogue)",
    description="End users see active offerings of services in the catalogue.",
)
@paginate(PagePagination)
def list_request_offerings(
    request, service: int | None = None, category: str | None = None, q: str | None = None
):
    query = RequestOffering.objects.select_related("service", "fulfilment_group")
    if not request.user.is_staff_member:
        query = query.filter(is_active=True, service__lifecycle=Lifecycle.CATALOGUE)
    if service is not None:
        query = query.filter(service_id=service)
    if category:
        query = query.filter(portal_category__iexact=category)
    if q:
        query = query.filter(Q(name__icontains=q) | Q(description__icontains=q))
    return query.order_by("portal_category", "name")
