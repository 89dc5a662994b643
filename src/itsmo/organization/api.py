"""API for regions, countries, sites, business units and business calendars.

Reference data is readable by every signed-in user and is not region-scoped (see
docs/decisions.md); only administrators change it, through ``organization.services``.
"""

from datetime import date, time

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from itsmo.accounts.models import Role
from itsmo.api.helpers import lookup, lookup_optional, require_role
from itsmo.api.pagination import PagePagination
from itsmo.core import registry

from . import services
from .models import BusinessCalendar, BusinessUnit, Country, Region, Site, SiteKind

router = Router(tags=["organization"])


def _readable_by_anyone_signed_in(model):
    """Reference data is not region-scoped: every active signed-in user reads it."""

    def visible(user):
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return model.objects.none()
        return model.objects.all()

    return visible


for _name, _model in [
    ("region", Region),
    ("country", Country),
    ("site", Site),
    ("business-unit", BusinessUnit),
    ("calendar", BusinessCalendar),
]:
    registry.register(_name, _model, visible=_readable_by_anyone_signed_in(_model))


def _require_admin(user) -> None:
    require_role(
        user, Role.ADMINISTRATOR, message="only administrators may manage the organisation"
    )


class RegionOut(Schema):
    id: int
    code: str
    name: str
    version: int


class RegionRef(Schema):
    id: int
    code: str
    name: str


class CalendarRef(Schema):
    id: int
    name: str


class CountryOut(Schema):
    id: int
    code: str
    name: str
    region: RegionRef
    time_zone: str
    language: str
    calendar: CalendarRef | None
    version: int


class CountryRef(Schema):
    id: int
    code: str
    name: str


class SiteOut(Schema):
    id: int
    code: str
    name: str
    kind: SiteKind
    country: CountryRef
    city: str
    address: str
    is_active: bool
    version: int


class BusinessUnitOut(Schema):
    id: int
    code: str
    name: str
    description: str
    version: int


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    holiday_country: str
    holiday_subdivision: str
    is_24x7: bool
    version: int


class WorkingPeriodOut(Schema):
    weekday: int
    start: time
    end: time


class CalendarExceptionOut(Schema):
    date: date
    name: str
    is_working_day: bool


class CalendarDetailOut(CalendarOut):
    working_periods: list[WorkingPeriodOut]
    exceptions: list[CalendarExceptionOut]

    @staticmethod
    def resolve_working_periods(obj) -> list:
        return list(obj.working_periods.all())

    @staticmethod
    def resolve_exceptions(obj) -> list:
        return list(obj.exceptions.all())


SLUG = r"^[-a-zA-Z0-9_]+$"


class RegionIn(Schema):
    code: str = Field(min_length=1, max_length=30, pattern=SLUG)
    name: str = Field(min_length=1, max_length=100)


class CountryIn(Schema):
    code: str = Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166 alpha-2")
    name: str = Field(min_length=1, max_length=100)
    region: str = Field(description="region code")
    time_zone: str = Field(description="IANA time zone, e.g. America/Mexico_City")
    language: str = Field("en", max_length=10)
    calendar: int | None = Field(None, description="business calendar id")


class SiteIn(Schema):
    code: str = Field(min_length=1, max_length=40, pattern=SLUG)
    name: str = Field(min_length=1, max_length=150)
    kind: SiteKind
    country: str = Field(description="ISO country code")
    city: str = Field("", max_length=100)
    address: str = ""


class BusinessUnitIn(Schema):
    code: str = Field(min_length=1, max_length=30, pattern=SLUG)
    name: str = Field(min_length=1, max_length=100)
    description: str = ""


# Regions


@router.get("/regions", response=list[RegionOut], summary="Regions")
@paginate(PagePagination)
def list_regions(request):
    return Region.objects.all()


@router.get("/regions/{region_id}", response=RegionOut, summary="A region")
def get_region(request, region_id: int):
    return get_object_or_404(Region, pk=region_id)


@router.post("/regions", response={201: RegionOut}, summary="Create a region (administrators)")
def create_region(request, payload: RegionIn):
    _require_admin(request.user)
    region = services.create_region(code=payload.code, name=payload.name, actor=request.user)
    return Status(201, region)


# Countries


@router.get("/countries", response=list[CountryOut], summary="Countries")
@paginate(PagePagination)
def list_countries(request, region: str | None = None):
    """`region`: a region code."""
    countries = Country.objects.select_related("region", "calendar")
    if region:
        countries = countries.filter(region__code=region)
    return countries


@router.get("/countries/{country_id}", response=CountryOut, summary="A country")
def get_country(request, country_id: int):
    return get_object_or_404(Country.objects.select_related("region", "calendar"), pk=country_id)


@router.post("/countries", response={201: CountryOut}, summary="Create a country (administrators)")
def create_country(request, payload: CountryIn):
    _require_admin(request.user)
    country = services.create_country(
        code=payload.code,
        name=payload.name,
        region=lookup(Region.objects, "region", code=payload.region),
        time_zone=payload.time_zone,
        language=payload.language,
        calendar=lookup_optional(BusinessCalendar.objects, "calendar", pk=payload.calendar),
        actor=request.user,
    )
    return Status(201, country)


# Sites


@router.get("/sites", response=list[SiteOut], summary="Sites")
@paginate(PagePagination)
def list_sites(request, country: str | None = None, kind: SiteKind | None = None):
    """`country`: an ISO country code; `kind`: plant, office…"""
    sites = Site.objects.select_related("country")
    if country:
        sites = sites.filter(country__code__iexact=country)
    if kind:
        sites = sites.filter(kind=kind)
    return sites


@router.get("/sites/{site_id}", response=SiteOut, summary="A site")
def get_site(request, site_id: int):
    return get_object_or_404(Site.objects.select_related("country"), pk=site_id)


@router.post("/sites", response={201: SiteOut}, summary="Create a site (administrators)")
def create_site(request, payload: SiteIn):
    _require_admin(request.user)
    site = services.create_site(
        code=payload.code,
        name=payload.name,
        kind=payload.kind,
        country=lookup(Country.objects, "country", code__iexact=payload.country),
        city=payload.city,
        address=payload.address,
        actor=request.user,
    )
    return Status(201, site)


# Business units


@router.get("/business-units", response=list[BusinessUnitOut], summary="Business units")
@paginate(PagePagination)
def list_business_units(request):
    return BusinessUnit.objects.all()


@router.get("/business-units/{unit_id}", response=BusinessUnitOut, summary="A business unit")
def get_business_unit(request, unit_id: int):
    return get_object_or_404(BusinessUnit, pk=unit_id)


@router.post(
    "/business-units",
    response={201: BusinessUnitOut},
    summary="Create a business unit (administrators)",
)
def create_business_unit(request, payload: BusinessUnitIn):
    _require_admin(request.user)
    unit = services.create_business_unit(
        code=payload.code,
        name=payload.name,
        description=payload.description,
        actor=request.user,
    )
    return Status(201, unit)


# Business calendars


@router.get("/calendars", response=list[CalendarOut], summary="Business calendars")
@paginate(PagePagination)
def list_calendars(request):
    return BusinessCalendar.objects.all()


@router.get(
    "/calendars/{calendar_id}",
    response=CalendarDetailOut,
    summary="A business calendar with its working periods and exceptions",
)
def get_calendar(request, calendar_id: int):
    calendars = BusinessCalendar.objects.prefetch_related("working_periods", "exceptions")
    return get_object_or_404(calendars, pk=calendar_id)
