from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "itsmo.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge management")

    def ready(self) -> None:
        from . import metrics

        metrics.register()
