"""Regions, countries, sites, business units and business calendars."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from itsmo.core.models import TimeStampedModel


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not an IANA time zone"), params={"value": value})


class Region(TimeStampedModel):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class BusinessCalendar(TimeStampedModel):
    """Working hours per weekday in a time zone, plus public and custom holidays.

    ``holiday_country`` (ISO 3166 alpha-2) and ``holiday_subdivision`` select the public
    holidays from the ``holidays`` package; :class:`CalendarException` rows add custom
    non-working days (plant shutdowns) or cancel a public holiday.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    holiday_country = models.CharField(_("holiday country"), max_length=2, blank=True)
    holiday_subdivision = models.CharField(_("holiday subdivision"), max_length=10, blank=True)
    is_24x7 = models.BooleanField(_("24×7"), default=False)  # noqa: RUF001

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name


class WorkingPeriod(models.Model):
    """A span of working time on a weekday (0 = Monday), local to the calendar's time zone."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="working_periods"
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=[
            (i, name)
            for i, name in enumerate(
                [
                    _("Monday"),
                    _("Tuesday"),
                    _("Wednesday"),
                    _("Thursday"),
                    _("Friday"),
                    _("Saturday"),
                    _("Sunday"),
                ]
            )
        ],
    )
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="working_period_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="working_period_weekday_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"  # noqa: RUF001


class CalendarException(models.Model):
    """A custom non-working day (plant shutdown) or a public holiday worked as normal."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="exceptions"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)
    is_working_day = models.BooleanField(
        _("working day"),
        default=False,
        help_text=_("Tick to work on a day the public calendar marks as a holiday."),
    )

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"], name="calendar_exception_unique_date"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Country(TimeStampedModel):
    code = models.CharField(_("ISO code"), max_length=2, unique=True)
    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="countries")
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    language = models.CharField(_("default language"), max_length=10, default="en")
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL, related_name="countries"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")

    def __str__(self) -> str:
        return self.name


class SiteKind(models.TextChoices):
    PLANT = "plant", _("Plant")
    DISTRIBUTION_CENTRE = "distribution_centre", _("Distribution centre")
    OFFICE = "office", _("Office")
    DATA_CENTRE = "data_centre", _("Data centre")
    SALES_BRANCH = "sales_branch", _("Sales branch")


class Site(TimeStampedModel):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=30, choices=SiteKind.choices)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="sites")
    city = models.CharField(_("city"), max_length=100, blank=True)
    address = models.TextField(_("address"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["country__name", "name"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return self.name


class BusinessUnit(TimeStampedModel):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business unit")
        verbose_name_plural = _("business units")

    def __str__(self) -> str:
        return self.name
