from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("", views.home, name="home"),
    path("queues/", views.queue, name="queues"),
    path("queues/<slug:key>/", views.queue, name="queue"),
    path("all/", views.queue, {"key": "all"}, name="list"),
    path("new/", views.new, name="new"),
    path("bulk-assign/", views.bulk_assign, name="bulk_assign"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/sla/", views.sla, name="sla"),
    path("<str:number>/attachments/<int:pk>/", views.download, name="attachment"),
    path("<str:number>/fields/", views.update_fields, name="update"),
    path("<str:number>/transition/", views.transition, name="transition"),
    path("<str:number>/assign/", views.assign, name="assign"),
    path("<str:number>/comment/", views.comment, name="comment"),
    path("<str:number>/major-update/", views.major_update, name="major_update"),
]
