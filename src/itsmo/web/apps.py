from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "itsmo.web"
    label = "web"
    verbose_name = "Web"
