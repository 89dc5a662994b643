from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "itsmo.surveys"
    label = "surveys"
    verbose_name = _("Satisfaction surveys")

    def ready(self) -> None:
        from itsmo.communications import services as communications

        from . import metrics, services

        metrics.register()
        # The survey link travels in the resolution e-mail, issued when it is sent.
        communications.add_render_hook("resolution", services.invitation_context)
