from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("services/", views.service_list, name="services"),
    path("services/<int:pk>/", views.service_detail, name="service"),
    path("processes/", views.process_list, name="processes"),
    path("processes/<int:pk>/", views.process_detail, name="process"),
    path("portal/", views.portal, name="portal"),
    path("portal/<int:pk>/", views.offering_detail, name="offering"),
]
