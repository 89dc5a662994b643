from django.urls import path

from . import views

app_name = "cmdb"

urlpatterns = [
    path("", views.ci_list, name="list"),
    path("health/", views.health_view, name="health"),
    path("<int:pk>/", views.ci_detail, name="detail"),
    path("<int:pk>/impact/", views.ci_impact, name="impact"),
    path("<int:pk>/edit/", views.ci_edit, name="edit"),
    path("<int:pk>/retire/", views.ci_retire, name="retire"),
]
