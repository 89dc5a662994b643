from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProblemsConfig(AppConfig):
    name = "itsmo.problems"
    label = "problems"
    verbose_name = _("Problem management")

    def ready(self) -> None:
        from . import metrics

        metrics.register()
