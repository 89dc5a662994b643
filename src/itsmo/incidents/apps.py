from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "itsmo.incidents"
    label = "incidents"
    verbose_name = _("Incident management")

    def ready(self) -> None:
        from itsmo.core import config_cache

        from . import metrics
        from .models import PriorityMatrixCell

        config_cache.watch(PriorityMatrixCell)
        metrics.register()
