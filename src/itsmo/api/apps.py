from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "itsmo.api"
    label = "api"
    verbose_name = "API"
