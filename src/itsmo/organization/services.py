"""The write path for regions, countries, sites, business units and business calendars.

Every function validates first and raises :class:`~itsmo.core.errors.ValidationFailed` naming
the offending field, so bad input changes nothing; then it writes in one transaction and
journals the change. ``calendar_for`` and ``calendar_for_country`` turn stored calendars into
the pure :class:`~itsmo.organization.calendar.Calendar` the SLA clocks compute with.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import Any

import holidays as holidays_package
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction

from itsmo.accounts.models import Role
from itsmo.core import config_cache, journal
from itsmo.core.errors import PermissionDenied, ValidationFailed
from itsmo.core.versioning import save_versioned

from .calendar import Calendar, YearlyDates, standard_weekly
from .models import (
    BusinessCalendar,
    BusinessUnit,
    CalendarException,
    Country,
    Region,
    Site,
    SiteKind,
    WorkingPeriod,
)

DEFAULT_HOURS = ((8, 0), (18, 0))
DEFAULT_WEEKDAYS = range(5)


# -- helpers -----------------------------------------------------------------------------------


def _require_admin(actor) -> None:
    if actor is not None and not actor.has_role(Role.ADMINISTRATOR):
        raise PermissionDenied("only administrators may manage the organisation")


def _clean(record: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Run the model's field validators and uniqueness checks as a domain error."""
    try:
        record.full_clean(exclude=list(exclude))
    except ValidationError as error:
        name, messages = next(iter(error.message_dict.items()))
        raise ValidationFailed(
            messages[0], field=None if name == NON_FIELD_ERRORS else name
        ) from error


def _create(record: models.Model, actor) -> models.Model:
    _clean(record)
    with transaction.atomic():
        record.save()
        journal.record_created(record, actor)
    return record


def _update(
    record: models.Model,
    changes: Mapping[str, Any],
    allowed: Iterable[str],
    *,
    version: int | None,
    actor,
    check=None,
) -> models.Model:
    """Apply ``changes`` to ``allowed`` fields, validate, save with the version, journal."""
    allowed = set(allowed)
    unknown = set(changes) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed(f"{name!r} cannot be changed here", field=name)
    old = {name: getattr(record, name) for name in changes}
    for name, value in changes.items():
        setattr(record, name, value)
    try:
        _clean(record)
        if check is not None:
            check(record)
    except ValidationFailed:
        for name, value in old.items():
            setattr(record, name, value)
        raise
    changed = {
        name: (old[name], getattr(record, name))
        for name in changes
        if old[name] != getattr(record, name)
    }
    with transaction.atomic():
        save_versioned(record, version, list(changed))
        if changed:
            journal.record_changes(record, actor, changed)
    return record


# -- regions, countries, sites, business units -------------------------------------------------


def create_region(*, code: str, name: str, actor=None) -> Region:
    _require_admin(actor)
    return _create(Region(code=code.strip(), name=name.strip()), actor)


def update_region(region: Region, *, version: int | None = None, actor=None, **changes) -> Region:
    _require_admin(actor)
    return _update(region, changes, ("code", "name"), version=version, actor=actor)


def create_country(
    *,
    code: str,
    name: str,
    region: Region,
    time_zone: str,
    language: str = "en",
    calendar: BusinessCalendar | None = None,
    actor=None,
) -> Country:
    _require_admin(actor)
    country = Country(
        code=code.strip().upper(),
        name=name.strip(),
        region=region,
        time_zone=time_zone,
        language=language,
        calendar=calendar,
    )
    return _create(country, actor)


def update_country(
    country: Country, *, version: int | None = None, actor=None, **changes
) -> Country:
    _require_admin(actor)
    allowed = ("name", "region", "time_zone", "language", "calendar")
    return _update(country, changes, allowed, version=version, actor=actor)


def create_site(
    *,
    code: str,
    name: str,
    kind: str,
    country: Country,
    city: str = "",
    address: str = "",
    actor=None,
) -> Site:
    _require_admin(actor)
    if kind not in SiteKind.values:
        raise ValidationFailed(f"unknown site kind {kind!r}", field="kind")
    site = Site(
        code=code.strip(), name=name.strip(), kind=kind, country=country, city=city, address=address
    )
    return _create(site, actor)


def update_site(site: Site, *, version: int | None = None, actor=None, **changes) -> Site:
    _require_admin(actor)
    allowed = ("name", "kind", "country", "city", "address", "is_active")
    return _update(site, changes, allowed, version=version, actor=actor)


def create_business_unit(
    *, code: str, name: str, description: str = "", actor=None
) -> BusinessUnit:
    _require_admin(actor)
    unit = BusinessUnit(code=code.strip(), name=name.strip(), description=description)
    return _create(unit, actor)


def update_business_unit(
    unit: BusinessUnit, *, version: int | None = None, actor=None, **changes
) -> BusinessUnit:
    _require_admin(actor)
    allowed = ("code", "name", "description")
    return _update(unit, changes, allowed, version=version, actor=actor)


# -- business calendars ------------------------------------------------------------------------

PeriodInput = tuple[int, time | str, time | str] | Mapping[str, Any]


def _parse_time(value: time | str, field: str) -> time:
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValidationFailed("give working times without a time zone", field=field)
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError as error:
        raise ValidationFailed(f"{value!r} is not a time (HH:MM)", field=field) from error


def _parse_periods(periods: Iterable[PeriodInput]) -> list[tuple[int, time, time]]:
    parsed = []
    for index, period in enumerate(periods):
        prefix = f"working_periods[{index}]"
        if isinstance(period, Mapping):
            weekday, start, end = period.get("weekday"), period.get("start"), period.get("end")
        else:
            try:
                weekday, start, end = period
            except (TypeError, ValueError) as error:
                raise ValidationFailed(
                    "a working period is (weekday, start, end)", field=prefix
                ) from error
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValidationFailed(
                "weekday must be 0 (Monday) to 6 (Sunday)", field=f"{prefix}.weekday"
            )
        start = _parse_time(start, f"{prefix}.start")
        end = _parse_time(end, f"{prefix}.end")
        if end <= start:
            raise ValidationFailed(
                f"the period ends ({end:%H:%M}) before it starts ({start:%H:%M})",
                field=f"{prefix}.end",
            )
        parsed.append((weekday, start, end))
    by_day: dict[int, list[tuple[time, time]]] = {}
    for weekday, start, end in parsed:
        by_day.setdefault(weekday, []).append((start, end))
    for weekday, spans in by_day.items():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start < end:
                raise ValidationFailed(
                    f"working periods overlap on weekday {weekday}", field="working_periods"
                )
    return parsed


def _check_holiday_country(calendar: BusinessCalendar) -> None:
    calendar.holiday_country = (calendar.holiday_country or "").strip().upper()
    calendar.holiday_subdivision = (calendar.holiday_subdivision or "").strip().upper()
    supported = holidays_package.list_supported_countries()
    if calendar.holiday_country and calendar.holiday_country not in supported:
        raise ValidationFailed(
            f"no public holidays known for {calendar.holiday_country!r}", field="holiday_country"
        )
    if calendar.holiday_subdivision:
        if not calendar.holiday_country:
            raise ValidationFailed(
                "a subdivision needs a holiday country", field="holiday_subdivision"
            )
        if calendar.holiday_subdivision not in supported[calendar.holiday_country]:
            raise ValidationFailed(
                f"{calendar.holiday_subdivision!r} is not a subdivision of "
                f"{calendar.holiday_country}",
                field="holiday_subdivision",
            )


def _check_has_working_time(is_24x7: bool, periods: list) -> None:
    if not is_24x7 and not periods:
        raise ValidationFailed(
            "a calendar needs working periods unless it is 24x7", field="working_periods"
        )


def _parse_exceptions(exceptions: Iterable[Any]) -> list[CalendarException]:
    rows, seen = [], set()
    for index, item in enumerate(exceptions):
        if isinstance(item, Mapping):
            day, name = item.get("date"), item.get("name", "")
            is_working_day = bool(item.get("is_working_day", False))
        else:
            day, name, *rest = item
            is_working_day = bool(rest[0]) if rest else False
        row = _exception(day, name, is_working_day, field=f"exceptions[{index}]")
        if row.date in seen:
            raise ValidationFailed(f"{row.date} is listed twice", field=f"exceptions[{index}].date")
        seen.add(row.date)
        rows.append(row)
    return rows


def _exception(day: Any, name: str, is_working_day: bool, *, field: str) -> CalendarException:
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day)
        except ValueError as error:
            raise ValidationFailed(f"{day!r} is not a date", field=f"{field}.date") from error
    if not isinstance(day, date):
        raise ValidationFailed("an exception needs a date", field=f"{field}.date")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("an exception needs a name", field=f"{field}.name")
    if len(name) > 100:
        raise ValidationFailed("the name is longer than 100 characters", field=f"{field}.name")
    return CalendarException(date=day, name=name, is_working_day=is_working_day)


def create_calendar(
    *,
    name: str,
    time_zone: str,
    holiday_country: str = "",
    holiday_subdivision: str = "",
    is_24x7: bool = False,
    working_periods: Iterable[PeriodInput] = (),
    exceptions: Iterable[Any] = (),
    actor=None,
) -> BusinessCalendar:
    """Create a calendar with its working periods and custom exceptions, all or nothing.

    ``working_periods`` are ``(weekday, start, end)`` (or mappings with those keys), times as
    ``datetime.time`` or ``"HH:MM"``; ``exceptions`` are ``(date, name, is_working_day)``.
    """
    _require_admin(actor)
    calendar = BusinessCalendar(
        name=(name or "").strip(),
        time_zone=time_zone,
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
        is_24x7=is_24x7,
    )
    _clean(calendar)
    _check_holiday_country(calendar)
    periods = _parse_periods(working_periods)
    _check_has_working_time(is_24x7, periods)
    rows = _parse_exceptions(exceptions)
    with transaction.atomic():
        calendar.save()
        WorkingPeriod.objects.bulk_create(
            [
                WorkingPeriod(calendar=calendar, weekday=weekday, start=start, end=end)
                for weekday, start, end in periods
            ]
        )
        for row in rows:
            row.calendar = calendar
        CalendarException.objects.bulk_create(rows)
        journal.record_created(calendar, actor)
    return calendar


def create_standard_calendar(
    name: str,
    time_zone: str,
    holiday_country: str,
    hours: tuple[tuple[int, int], tuple[int, int]] = DEFAULT_HOURS,
    weekdays: Iterable[int] = DEFAULT_WEEKDAYS,
    *,
    holiday_subdivision: str = "",
    actor=None,
) -> BusinessCalendar:
    """The same working hours on each of ``weekdays`` (Monday to Friday 08:00-18:00)."""
    try:
        start, end = time(*hours[0]), time(*hours[1])
    except (TypeError, ValueError, IndexError) as error:
        raise ValidationFailed(
            "hours are ((start hour, minute), (end hour, minute))", field="hours"
        ) from error
    return create_calendar(
        name=name,
        time_zone=time_zone,
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
        working_periods=[(weekday, start, end) for weekday in weekdays],
        actor=actor,
    )


def update_calendar(
    calendar: BusinessCalendar, *, version: int | None = None, actor=None, **changes
) -> BusinessCalendar:
    """Change the name, time zone, holiday country/subdivision or the 24x7 flag."""
    _require_admin(actor)

    def check(record: BusinessCalendar) -> None:
        _check_holiday_country(record)
        _check_has_working_time(record.is_24x7, list(record.working_periods.all()))

    allowed = ("name", "time_zone", "holiday_country", "holiday_subdivision", "is_24x7")
    return _update(calendar, changes, allowed, version=version, actor=actor, check=check)


def _describe_periods(periods: Iterable[tuple[int, time, time]]) -> str:
    return ", ".join(
        f"{weekday}:{start:%H:%M}-{end:%H:%M}" for weekday, start, end in sorted(periods)
    )


def set_working_periods(
    calendar: BusinessCalendar,
    periods: Iterable[PeriodInput],
    *,
    version: int | None = None,
    actor=None,
) -> BusinessCalendar:
    """Replace the calendar's weekly working periods."""
    _require_admin(actor)
    parsed = _parse_periods(periods)
    _check_has_working_time(calendar.is_24x7, parsed)
    old = [(p.weekday, p.start, p.end) for p in calendar.working_periods.all()]
    with transaction.atomic():
        save_versioned(calendar, version, [])
        calendar.working_periods.all().delete()
        WorkingPeriod.objects.bulk_create(
            [
                WorkingPeriod(calendar=calendar, weekday=weekday, start=start, end=end)
                for weekday, start, end in parsed
            ]
        )
        journal.record_changes(
            calendar,
            actor,
            {"working_periods": (_describe_periods(old), _describe_periods(parsed))},
        )
    return calendar


def add_calendar_exception(
    calendar: BusinessCalendar,
    *,
    date: date | str,
    name: str,
    is_working_day: bool = False,
    actor=None,
) -> CalendarException:
    """A custom non-working day (plant shutdown) or a public holiday worked as normal."""
    _require_admin(actor)
    row = _exception(date, name, is_working_day, field="exception")
    row.calendar = calendar
    if calendar.exceptions.filter(date=row.date).exists():
        raise ValidationFailed(f"{row.date} already has an exception", field="date")
    kind = "working day" if row.is_working_day else "closed"
    with transaction.atomic():
        save_versioned(calendar, None, [])
        row.save()
        journal.record_changes(
            calendar, actor, {f"exception {row.date}": ("", f"{row.name} ({kind})")}
        )
    return row


def remove_calendar_exception(calendar: BusinessCalendar, day: date, *, actor=None) -> None:
    _require_admin(actor)
    row = calendar.exceptions.filter(date=day).first()
    if row is None:
        raise ValidationFailed(f"{day} has no exception", field="date")
    with transaction.atomic():
        save_versioned(calendar, None, [])
        row.delete()
        journal.record_changes(calendar, actor, {f"exception {day}": (row.name, "")})


def days_off(calendar: BusinessCalendar, start: date, end: date) -> list[dict[str, Any]]:
    """The calendar's public holidays and its own exceptions from ``start`` to ``end``
    (both included), by date, for people to read: each with ``date``, ``name``, ``source``
    (``"public"`` or ``"custom"``) and ``is_working_day`` (a custom exception that works a
    public holiday). Weekends without working periods are not listed."""
    found: dict[date, dict[str, Any]] = {}
    if calendar.holiday_country and not calendar.is_24x7:
        named = holidays_package.country_holidays(
            calendar.holiday_country,
            subdiv=calendar.holiday_subdivision or None,
            years=range(start.year, end.year + 1),
        )
        for day, name in named.items():
            if start <= day <= end:
                found[day] = {
                    "date": day,
                    "name": name,
                    "source": "public",
                    "is_working_day": False,
                }
    for row in calendar.exceptions.filter(date__gte=start, date__lte=end):
        found[row.date] = {
            "date": row.date,
            "name": row.name,
            "source": "custom",
            "is_working_day": row.is_working_day,
            "public_name": found.get(row.date, {}).get("name", ""),
        }
    return [found[day] for day in sorted(found)]


# -- reading calendars for SLA arithmetic ------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def public_holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    """Public holidays of a country (and subdivision) in one year, from ``holidays``."""
    if not country:
        return frozenset()
    return frozenset(
        holidays_package.country_holidays(country, subdiv=subdivision or None, years=year).keys()
    )


def _holiday_loader(country: str, subdivision: str):
    return functools.partial(public_holidays, country, subdivision)


_CALENDARS: dict[tuple, Calendar] = {}
_MAX_CALENDARS = 1024


def _remember(key: tuple, build) -> Calendar:
    calendar = _CALENDARS.get(key)
    if calendar is None:
        if len(_CALENDARS) >= _MAX_CALENDARS:
            _CALENDARS.clear()
        calendar = _CALENDARS[key] = build()
    return calendar


def calendar_for(calendar: BusinessCalendar) -> Calendar:
    """The pure calendar of a stored one: periods, public holidays (lazily per year), exceptions.

    Cached per calendar version: every service above that changes a calendar, its periods or
    its exceptions bumps the version.
    """
    key = ("calendar", calendar.pk, calendar.version, calendar.updated_at)
    return _remember(key, lambda: _build(calendar))


def _build(calendar: BusinessCalendar) -> Calendar:
    weekly: dict[int, list[tuple[time, time]]] = {}
    for period in WorkingPeriod.objects.filter(calendar=calendar):
        weekly.setdefault(period.weekday, []).append((period.start, period.end))
    closed, worked = set(), set()
    for row in CalendarException.objects.filter(calendar=calendar):
        (worked if row.is_working_day else closed).add(row.date)
    holidays = YearlyDates(
        _holiday_loader(calendar.holiday_country, calendar.holiday_subdivision), extra=closed
    )
    return Calendar(calendar.time_zone, weekly, holidays, worked, calendar.is_24x7)


def default_calendar(time_zone: str, holiday_country: str = "") -> Calendar:
    """Monday to Friday 08:00-18:00 in ``time_zone`` with the country's public holidays."""
    country = holiday_country.upper()
    if country not in holidays_package.list_supported_countries():
        country = ""

    def build() -> Calendar:
        return Calendar(
            time_zone,
            standard_weekly(DEFAULT_HOURS, DEFAULT_WEEKDAYS),
            YearlyDates(_holiday_loader(country, "")),
        )

    return _remember(("default", time_zone, country), build)


def calendar_for_country(country: Country) -> Calendar:
    """The country's calendar, or the default working week in its time zone and holidays."""
    if country.calendar_id is not None:
        return calendar_for(country.calendar)
    return default_calendar(country.time_zone, country.code)


# -- reference reads (kept per process) ------------------------------------------------------


def _countries() -> dict:
    """Every country with its region, by id and by lower-case code (see
    :mod:`itsmo.core.config_cache`): each new incident reads its country."""

    def load() -> dict:
        rows = list(Country.objects.select_related("region"))
        return {"id": {c.pk: c for c in rows}, "code": {c.code.lower(): c for c in rows}}

    return config_cache.cached("organization.countries", load)


def country_by_id(pk: int | None) -> Country | None:
    """The country ``pk`` with its region, from this process's reference cache."""
    return None if pk is None else _countries()["id"].get(pk)


def country_by_code(code: str | None) -> Country | None:
    """The country whose ISO code is ``code`` (any case), from the reference cache."""
    return _countries()["code"].get(code.strip().lower()) if code else None
