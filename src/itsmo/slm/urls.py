from django.urls import path

from . import views

app_name = "slm"

urlpatterns = [
    path("", views.definition_list, name="definitions"),
    path("new/", views.definition_new, name="new"),
    path("compliance/", views.compliance, name="compliance"),
    path("calendars/", views.calendar_list, name="calendars"),
    path("calendars/<int:pk>/", views.calendar_detail, name="calendar"),
    path(
        "calendars/<int:pk>/exceptions/<str:day>/remove/",
        views.calendar_exception_remove,
        name="calendar_exception_remove",
    ),
    path("<int:pk>/", views.definition_edit, name="edit"),
]
