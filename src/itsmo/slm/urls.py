from django.urls import path

from . import views

app_name = "slm"

urlpatterns = [
    path("", views.definition_list, name="definitions"),
    path("new/", views.definition_new, name="new"),
    path("compliance/", views.compliance, name="compliance"),
    path("<int:pk>/", views.definition_edit, name="edit"),
]
