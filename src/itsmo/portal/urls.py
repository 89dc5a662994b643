from django.urls import path

from itsmo.knowledge import views as knowledge

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.report, name="report"),
    path("incidents/<str:number>/", views.detail, name="detail"),
    path("incidents/<str:number>/attachments/<int:pk>/", views.download, name="attachment"),
    path("incidents/<str:number>/comment/", views.comment, name="comment"),
    path("incidents/<str:number>/reopen/", views.reopen, name="reopen"),
    path("incidents/<str:number>/survey/", views.survey, name="survey"),
    path("knowledge/suggestions/", knowledge.portal_suggestions, name="suggestions"),
    path("knowledge/<str:number>/", knowledge.portal_article, name="article"),
]
