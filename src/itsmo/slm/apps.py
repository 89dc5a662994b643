from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlmConfig(AppConfig):
    name = "itsmo.slm"
    label = "slm"
    verbose_name = _("Service level management")

    def ready(self) -> None:
        from itsmo.core import config_cache

        from .models import SLADefinition

        config_cache.watch(SLADefinition)
