"""API for regions, countries, sites, business units and business calendars.

Reference data is readable by every signed-in user and is not region-scoped (see
docs/decisions.md); only administrators change it, through ``organization.services``.
"""

from datetime import date, time

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import paginate

from itsmo.api.pagination import PagePagination

from .models import BusinessCalendar, BusinessUnit, Country, Region, Site, SiteKind

router = Router(tags=["organization"])


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


# Regions


@router.get("/regions", response=list[RegionOut], summary="Regions")
@paginate(PagePagination)
def list_regions(request):
    return Region.objects.all()


@router.get("/regions/{region_id}", response=RegionOut, summary="A region")
def get_region(request, region_id: int):
    return get_object_or_404(Region, pk=region_id)


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


# Business units


@router.get("/business-units", response=list[BusinessUnitOut], summary="Business units")
@paginate(PagePagination)
def list_business_units(request):
    return BusinessUnit.objects.all()


@router.get("/business-units/{unit_id}", response=BusinessUnitOut, summary="A business unit")
def get_business_unit(request, unit_id: int):
    return get_object_or_404(BusinessUnit, pk=unit_id)


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
