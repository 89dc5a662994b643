"""The organisation write path and loading stored calendars for SLA arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from itsmo.accounts.models import Role
from itsmo.core.errors import PermissionDenied, StaleVersion, ValidationFailed
from itsmo.core.models import JournalEntry, JournalKind
from itsmo.organization import services
from itsmo.organization.models import (
    BusinessCalendar,
    BusinessUnit,
    CalendarException,
    Country,
    Region,
    Site,
    WorkingPeriod,
)

HOUR = 3600
MEXICO = ZoneInfo("America/Mexico_City")
WEEK = [(weekday, time(8), time(18)) for weekday in range(5)]


def local(zone, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


def nothing_written() -> bool:
    return (
        not BusinessCalendar.objects.exists()
        and not WorkingPeriod.objects.exists()
        and not CalendarException.objects.exists()
        and not JournalEntry.objects.exists()
    )


@pytest.fixture
def mexico_calendar(db):
    return services.create_calendar(
        name="Mexico plants",
        time_zone="America/Mexico_City",
        holiday_country="MX",
        working_periods=WEEK,
        exceptions=[(date(2024, 12, 23), "Plant shutdown")],
    )


def test_create_calendar_with_periods_and_exceptions(mexico_calendar):
    # then the calendar, its periods and exception are stored and journaled
    assert mexico_calendar.working_periods.count() == 5
    assert mexico_calendar.exceptions.get().name == "Plant shutdown"
    entry = JournalEntry.objects.for_record(mexico_calendar).get()
    assert entry.kind == JournalKind.CREATED


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"time_zone": "Mexico/Tenochtitlan"}, "time_zone"),
        ({"working_periods": [(0, time(18), time(8))]}, "working_periods[0].end"),
        ({"working_periods": [(0, "08:00", "08:00")]}, "working_periods[0].end"),
        ({"working_periods": [(0, "8h", "18:00")]}, "working_periods[0].start"),
        ({"working_periods": [(7, time(8), time(18))]}, "working_periods[0].weekday"),
        ({"working_periods": [(0, time(8), time(12)), (0, time(11), time(18))]}, "working_periods"),
        ({"working_periods": []}, "working_periods"),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"holiday_subdivision": "ZZZ"}, "holiday_subdivision"),
        ({"name": ""}, "name"),
        ({"exceptions": [("2024-02-30", "Leap")]}, "exceptions[0].date"),
        ({"exceptions": [(date(2024, 1, 2), "")]}, "exceptions[0].name"),
    ],
)
def test_bad_calendar_input_names_the_field_and_writes_nothing(db, arguments, field):
    values = {
        "name": "Mexico plants",
        "time_zone": "America/Mexico_City",
        "holiday_country": "MX",
        "working_periods": WEEK,
    } | arguments
    with pytest.raises(ValidationFailed) as raised:
        services.create_calendar(**values)
    assert raised.value.field == field
    assert nothing_written()


def test_calendar_names_are_unique(mexico_calendar):
    with pytest.raises(ValidationFailed) as raised:
        services.create_calendar(name="Mexico plants", time_zone="UTC", is_24x7=True)
    assert raised.value.field == "name"
    assert BusinessCalendar.objects.count() == 1


def test_a_24x7_calendar_needs_no_periods(db):
    calendar = services.create_calendar(name="Data centre", time_zone="UTC", is_24x7=True)
    start = datetime(2024, 12, 25, tzinfo=UTC)
    assert services.calendar_for(calendar).add_business_seconds(start, 5 * HOUR) == datetime(
        2024, 12, 25, 5, tzinfo=UTC
    )


def test_calendar_for_applies_public_holidays_and_shutdowns(mexico_calendar):
    calendar = services.calendar_for(mexico_calendar)
    # Monday 16 September 2024 is Independence Day
    assert calendar.add_business_seconds(local(MEXICO, 2024, 9, 13, 17), 2 * HOUR) == local(
        MEXICO, 2024, 9, 17, 9
    )
    # Monday 23 December 2024 is a plant shutdown
    assert calendar.add_business_seconds(local(MEXICO, 2024, 12, 20, 17), 2 * HOUR) == local(
        MEXICO, 2024, 12, 24, 9
    )


def test_adding_an_exception_changes_the_loaded_calendar(mexico_calendar, admin_user):
    before = services.calendar_for(mexico_calendar)
    assert not before.is_working(local(MEXICO, 2024, 9, 16, 10))
    # when Independence Day is worked as normal
    services.add_calendar_exception(
        mexico_calendar,
        date=date(2024, 9, 16),
        name="Inventory day",
        is_working_day=True,
        actor=admin_user,
    )
    # then the next load sees it
    after = services.calendar_for(mexico_calendar)
    assert after.is_working(local(MEXICO, 2024, 9, 16, 10))
    assert (
        JournalEntry.objects.for_record(mexico_calendar)
        .filter(kind=JournalKind.FIELD_CHANGE, field="exception 2024-09-16")
        .exists()
    )
    # and removing it restores the holiday
    services.remove_calendar_exception(mexico_calendar, date(2024, 9, 16), actor=admin_user)
    assert not services.calendar_for(mexico_calendar).is_working(local(MEXICO, 2024, 9, 16, 10))


def test_a_duplicate_exception_is_refused(mexico_calendar):
    with pytest.raises(ValidationFailed) as raised:
        services.add_calendar_exception(mexico_calendar, date=date(2024, 12, 23), name="Again")
    assert raised.value.field == "date"


def test_set_working_periods_replaces_the_week(mexico_calendar, admin_user):
    services.set_working_periods(mexico_calendar, [(5, "09:00", "13:00")], actor=admin_user)
    calendar = services.calendar_for(mexico_calendar)
    assert calendar.is_working(local(MEXICO, 2024, 9, 7, 10))
    assert not calendar.is_working(local(MEXICO, 2024, 9, 9, 10))
    assert mexico_calendar.version == 2


def test_set_working_periods_with_bad_input_changes_nothing(mexico_calendar):
    with pytest.raises(ValidationFailed) as raised:
        services.set_working_periods(mexico_calendar, [(0, time(18), time(9))])
    assert raised.value.field == "working_periods[0].end"
    assert mexico_calendar.working_periods.count() == 5


def test_update_calendar_time_zone(mexico_calendar, admin_user):
    services.update_calendar(
        mexico_calendar, time_zone="America/Tijuana", version=1, actor=admin_user
    )
    mexico_calendar.refresh_from_db()
    assert mexico_calendar.time_zone == "America/Tijuana"
    assert services.calendar_for(mexico_calendar).time_zone == "America/Tijuana"
    assert JournalEntry.objects.for_record(mexico_calendar).filter(field="time_zone").exists()


def test_update_calendar_with_a_bad_time_zone_changes_nothing(mexico_calendar):
    with pytest.raises(ValidationFailed) as raised:
        services.update_calendar(mexico_calendar, time_zone="Nowhere/Land")
    assert raised.value.field == "time_zone"
    assert mexico_calendar.time_zone == "America/Mexico_City"
    mexico_calendar.refresh_from_db()
    assert mexico_calendar.time_zone == "America/Mexico_City"
    assert mexico_calendar.version == 1


def test_a_stale_calendar_update_is_refused(mexico_calendar):
    services.update_calendar(mexico_calendar, name="Mexico plants and offices", version=1)
    with pytest.raises(StaleVersion):
        services.update_calendar(mexico_calendar, name="Mexico", version=1)


def test_create_standard_calendar(db):
    calendar = services.create_standard_calendar("Brazil offices", "America/Sao_Paulo", "BR")
    loaded = services.calendar_for(calendar)
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    # Thursday 7 September 2023 is Independence Day
    assert loaded.add_business_seconds(local(sao_paulo, 2023, 9, 6, 17), 2 * HOUR) == local(
        sao_paulo, 2023, 9, 8, 9
    )


def test_calendar_for_country_without_a_calendar_uses_the_default_week(brazil):
    calendar = services.calendar_for_country(brazil)
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    assert calendar.time_zone == "America/Sao_Paulo"
    assert not calendar.is_working(local(sao_paulo, 2023, 9, 7, 10))
    assert calendar.is_working(local(sao_paulo, 2023, 9, 8, 17, 59))
    assert not calendar.is_working(local(sao_paulo, 2023, 9, 9, 10))


def test_calendar_for_country_with_its_own_calendar(mexico, mexico_calendar):
    services.update_country(mexico, calendar=mexico_calendar)
    calendar = services.calendar_for_country(mexico)
    assert not calendar.is_working(local(MEXICO, 2024, 12, 23, 10))


def test_organisation_records_are_created_and_journaled(db):
    region = services.create_region(code="andean", name="Andean")
    country = services.create_country(
        code="pe", name="Peru", region=region, time_zone="America/Lima", language="es"
    )
    site = services.create_site(
        code="pe-lima-plant", name="Lima plant", kind="plant", country=country, city="Lima"
    )
    unit = services.create_business_unit(code="beverages", name="Beverages")
    assert country.code == "PE"
    assert site.country == country
    assert JournalEntry.objects.filter(kind=JournalKind.CREATED).count() == 4
    assert {
        Region.objects.count(),
        Country.objects.count(),
        Site.objects.count(),
        BusinessUnit.objects.count(),
    } == {1}
    assert unit.pk is not None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_zone": "Lima/Peru"}, "time_zone"),
        ({"code": "PER"}, "code"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_country_input_names_the_field(peru, changes, field):
    with pytest.raises(ValidationFailed) as raised:
        services.update_country(peru, **changes)
    assert raised.value.field == field
    peru.refresh_from_db()
    assert (peru.name, peru.time_zone, peru.version) == ("Peru", "America/Lima", 1)


def test_bad_site_kind_is_refused(peru):
    with pytest.raises(ValidationFailed) as raised:
        services.create_site(code="x", name="X", kind="castle", country=peru)
    assert raised.value.field == "kind"
    assert not Site.objects.exists()


def test_duplicate_region_code_is_refused(region_andean):
    with pytest.raises(ValidationFailed) as raised:
        services.create_region(code="andean", name="Andes")
    assert raised.value.field == "code"


def test_only_administrators_manage_the_organisation(agent_mexico):
    assert not agent_mexico.has_role(Role.ADMINISTRATOR)
    with pytest.raises(PermissionDenied):
        services.create_calendar(name="Sneaky", time_zone="UTC", is_24x7=True, actor=agent_mexico)
    assert not BusinessCalendar.objects.exists()


DEMO_COUNTRIES = {
    "MX": "America/Mexico_City",
    "GT": "America/Guatemala",
    "DO": "America/Santo_Domingo",
    "PR": "America/Puerto_Rico",
    "PA": "America/Panama",
    "CR": "America/Costa_Rica",
    "HN": "America/Tegucigalpa",
    "SV": "America/El_Salvador",
    "CO": "America/Bogota",
    "EC": "America/Guayaquil",
    "PE": "America/Lima",
    "VE": "America/Caracas",
    "BR": "America/Sao_Paulo",
    "AR": "America/Argentina/Buenos_Aires",
    "UY": "America/Montevideo",
    "CL": "America/Santiago",
}


@pytest.mark.parametrize(("code", "zone"), sorted(DEMO_COUNTRIES.items()))
def test_standard_calendars_of_the_demo_countries(db, code, zone):
    # given the demo's Monday-Friday 08:00-18:00 calendar of each country
    stored = services.create_standard_calendar(f"{code} business hours", zone, code)
    calendar = services.calendar_for(stored)
    # then New Year's Day is a holiday and a normal Tuesday morning is working time
    assert not calendar.is_working(local(ZoneInfo(zone), 2025, 1, 1, 10))
    assert calendar.is_working(local(ZoneInfo(zone), 2025, 1, 7, 10))
    week = calendar.business_seconds(
        local(ZoneInfo(zone), 2025, 1, 6), local(ZoneInfo(zone), 2025, 1, 11)
    )
    assert week <= 50 * HOUR
