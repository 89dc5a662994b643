from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationConfig(AppConfig):
    name = "itsmo.organization"
    label = "organization"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from itsmo.core import config_cache

        from .models import BusinessCalendar, CalendarException, Country, Region, WorkingPeriod

        config_cache.watch(BusinessCalendar, CalendarException, Country, Region, WorkingPeriod)
