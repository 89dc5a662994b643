"""API for SLA and OLA definitions."""

from datetime import datetime

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from itsmo.accounts.models import SupportGroup
from itsmo.api.helpers import code_of as _code
from itsmo.api.pagination import PagePagination
from itsmo.catalog.models import Service
from itsmo.core.errors import NotFound, PermissionDenied, ValidationFailed
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


class SLADefinitionPatch(Schema):
    """The fields to change (absent: unchanged; null clears a condition or a target)."""

    version: int = Field(..., description="the version you read; a stale one is a 409")
    name: str | None = Field(None, min_length=1, max_length=150)
    description: str | None = None
    service: str | None = None
    priority: int | None = Field(None, ge=1, le=5)
    country: str | None = None
    region: str | None = None
    business_unit: str | None = None
    support_group: str | None = None
    response_target_minutes: int | None = Field(None, ge=1)
    resolution_target_minutes: int | None = Field(None, ge=1)
    calendar: str | None = None
    pause_states: list[str] | None = None
    on_priority_change: PriorityChange | None = None
    warning_thresholds: list[int] | None = None
    is_active: bool | None = None


#: Fields that name another record, with how to find it; ``None`` clears them.
_REFERENCES = {
    "service": (Service, "code"),
    "country": (Country, "code"),
    "region": (Region, "code"),
    "business_unit": (BusinessUnit, "code"),
    "support_group": (SupportGroup, "code"),
    "calendar": (BusinessCalendar, "name"),
}
#: Fields that may be null (a blank condition, a missing target).
_NULLABLE = {*_REFERENCES, "priority", "response_target_minutes", "resolution_target_minutes"}


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


def _staff_definition(request, definition_id: int) -> SLADefinition:
    if not request.user.is_staff_member:
        raise PermissionDenied("SLA definitions are for service management staff")
    found = SLADefinition.objects.select_related(
        "service", "country", "region", "business_unit", "support_group", "calendar"
    ).filter(pk=definition_id)
    definition = found.first()
    if definition is None:
        raise NotFound(f"no SLA definition {definition_id}")
    return definition


@router.get(
    "/sla-definitions/{definition_id}",
    response=SLADefinitionOut,
    summary="One SLA or OLA definition (staff)",
)
def get_definition(request, definition_id: int):
    return _staff_definition(request, definition_id)


@router.patch(
    "/sla-definitions/{definition_id}",
    response=SLADefinitionOut,
    summary="Change an SLA or OLA definition (administrators, process owners)",
    description=(
        "Requires the `version` you read (stale: 409). Applies to incidents opened from now "
        "on; running clocks keep the target they started with. The kind and record type "
        "stay; `is_active: false` stops new clocks."
    ),
)
def patch_definition(request, definition_id: int, payload: SLADefinitionPatch):
    definition = _staff_definition(request, definition_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    changes = {}
    for name, value in data.items():
        if value is None and name not in _NULLABLE:
            raise ValidationFailed(f"{name} cannot be null", field=name)
        if name in _REFERENCES:
            model, attr = _REFERENCES[name]
            value = _lookup(model, value, name, attr)
        changes[name] = value
    services.update_definition(definition, actor=request.user, version=version, **changes)
    return _staff_definition(request, definition_id)
