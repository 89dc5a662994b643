from django.urls import path

from . import views

app_name = "communications"

urlpatterns = [
    path("quarantine/", views.quarantine, name="quarantine"),
    path("quarantine/<int:pk>/retry/", views.quarantine_retry, name="quarantine-retry"),
    path("quarantine/<int:pk>/discard/", views.quarantine_discard, name="quarantine-discard"),
]
