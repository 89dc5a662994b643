from django.urls import path

from . import views

app_name = "changes"

urlpatterns = [
    path("", views.change_list, name="list"),
    path("new/", views.new, name="new"),
    path("calendar/", views.change_calendar, name="calendar"),
    path("releases/", views.release_list, name="releases"),
    path("releases/<str:number>/", views.release_detail, name="release"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/fields/", views.update_fields, name="update"),
    path("<str:number>/risk/", views.assess_risk, name="risk"),
    path("<str:number>/schedule/", views.schedule, name="schedule"),
    path("<str:number>/transition/", views.transition, name="transition"),
    path("<str:number>/review/", views.review, name="review"),
    path("<str:number>/approval/", views.decide, name="decide"),
    path("<str:number>/comment/", views.comment, name="comment"),
]
