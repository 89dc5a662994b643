from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "itsmo.core"
    label = "core"
    verbose_name = "Core"
