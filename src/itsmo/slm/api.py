"""API for SLA and OLA definitions."""

from datetime import datetime

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from itsmo.accounts.models import SupportGroup
from itsmo.api.helpers import code_of as _code
from itsmo.api.pagination import PagePagination
from itsmo.catalog.models import Service
from itsmo.core.errors import PermissionDenied, ValidationFailed
from itsmo.organization.models import BusinessCalendar, BusinessUnit, Country, Region

from . import services
from .models import DefinitionKind, PriorityChange, RecordType, SLADefinition

router = Router(tags=["slm"])


class SLADefinitionOut(Schema):
    id: int
    name: str
    kind: str
    record_type: str
    description: str
    service: str | None
    priority: int | None
    country: str | None
    region: str | None
    business_unit: str | None
    support_group: str | None
    response_target_minutes: int | None
    resolution_target_minutes: int | None
    calendar: str | None
    pause_states: list[str]
    on_priority_change: str
    warning_thresholds: list[int]
    is_active: bool
    version: int
    created_at: datetime

    @staticmethod
    def resolve_service(obj: SLADefinition) -> str | None:
        return _code(obj.service)

    @staticmethod
    def resolve_country(obj: SLADefinition) -> str | None:
        return _code(obj.country)

    @staticmethod
    def resolve_region(obj: SLADefinition) -> str | None:
        return _code(obj.region)

    @staticmethod
    def resolve_business_unit(obj: SLADefinition) -> str | None:
        return _code(obj.business_unit)

    @staticmethod
    def resolve_support_group(obj: SLADefinition) -> str | None:
        return _code(obj.support_group)

    @staticmethod
    def resolve_calendar(obj: SLADefinition) -> str | None:
        return _code(obj.calendar, "name")


class SLADefinitionIn(Schema):
    name: str = Field(..., min_length=1, max_length=150)
    kind: DefinitionKind = DefinitionKind.SLA
    record_type: RecordType = RecordType.INCIDENT
    description: str = ""
    service: str | None = Field(None, description="service code; blank = any")
    priority: int | None = Field(None, ge=1, le=5, description="blank = any")
    country: str | None = Field(None, description="ISO code; blank = any")
    region: str | None = Field(None, description="region code; blank = any")
    business_unit: str | None = Field(None, description="business unit code; blank = any")
    support_group: str | None = Field(None, description="OLA: support group code")
    response_target_minutes: int | None = Field(None, ge=1)
    resolution_target_minutes: int | None = Field(None, ge=1)
    calendar: str | None = Field(None, description="calendar name; blank = the country's")
    pause_states: list[str] = Field(default_factory=lambda: ["on_hold"])
    on_priority_change: PriorityChange = PriorityChange.REBASELINE
    warning_thresholds: list[int] = Field(default_factory=lambda: [50, 75, 90])
    is_active: bool = True


def _lookup(model, value: str | None, field: str, attr: str = "code"):
    if not value:
        return None
    found = model.objects.filter(**{f"{attr}__iexact": value}).first()
    if found is None:
        raise ValidationFailed(f"no {field} {value!r}", field=field)
    return found


@router.get(
    "/sla-definitions",
    response=list[SLADefinitionOut],
    summary="SLA and OLA definitions (staff)",
)
@paginate(PagePagination)
def list_definitions(request, kind: DefinitionKind | None = None, active: bool | None = None):
    if not request.user.is_staff_member:
        raise PermissionDenied("SLA definitions are for service management staff")
    definitions = SLADefinition.objects.select_related(
        "service", "country", "region", "business_unit", "support_group", "calendar"
    )
    if kind:
        definitions = definitions.filter(kind=kind)
    if active is not None:
        definitions = definitions.filter(is_active=active)
    return definitions.order_by("name", "pk")


@router.post(
    "/sla-definitions",
    response={201: SLADefinitionOut},
    summary="Define an SLA or OLA (administrators, process owners)",
    description="Applies to incidents opened from now on; blank conditions match anything.",
)
def create_definition(request, payload: SLADefinitionIn):
    data = payload.dict()
    data["service"] = _lookup(Service, data["service"], "service")
    data["country"] = _lookup(Country, data["country"], "country")
    data["region"] = _lookup(Region, data["region"], "region")
    data["business_unit"] = _lookup(BusinessUnit, data["business_unit"], "business_unit")
    data["support_group"] = _lookup(SupportGroup, data["support_group"], "support_group")
    data["calendar"] = _lookup(BusinessCalendar, data["calendar"], "calendar", "name")
    definition = services.create_definition(actor=request.user, **data)
    return Status(201, definition)
