from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "itsmo.catalog"
    label = "catalog"
    verbose_name = _("Service portfolio")

    def ready(self) -> None:
        from itsmo.accounts.models import SupportGroup
        from itsmo.core import config_cache

        from .models import Service

        config_cache.watch(Service, SupportGroup)
