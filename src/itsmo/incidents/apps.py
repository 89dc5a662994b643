from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "itsmo.incidents"
    label = "incidents"
    verbose_name = _("Incident management")

    def ready(self) -> None:
        from . import metrics

        metrics.register()
