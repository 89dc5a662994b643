from django.urls import path

from . import views

app_name = "knowledge"

urlpatterns = [
    path("", views.article_list, name="list"),
    path("new/", views.article_new, name="new"),
    path("resolve/<str:number>/", views.resolve_panel, name="resolve_panel"),
    path("resolve/<str:number>/apply/", views.resolve_incident, name="resolve_incident"),
    path("<str:number>/", views.article_detail, name="detail"),
    path("<str:number>/edit/", views.article_edit, name="edit"),
    path("<str:number>/transition/", views.article_transition, name="transition"),
    path("<str:number>/vote/", views.article_vote, name="vote"),
]
