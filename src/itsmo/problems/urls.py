from django.urls import path

from . import views

app_name = "problems"

urlpatterns = [
    path("", views.problem_list, name="list"),
    path("new/", views.new, name="new"),
    path("candidates/", views.candidates, name="candidates"),
    path("candidates/<int:pk>/accept/", views.candidate_accept, name="candidate_accept"),
    path("candidates/<int:pk>/merge/", views.candidate_merge, name="candidate_merge"),
    path("candidates/<int:pk>/dismiss/", views.candidate_dismiss, name="candidate_dismiss"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/fields/", views.update_fields, name="update"),
    path("<str:number>/analysis/", views.update_analysis, name="analysis"),
    path("<str:number>/transition/", views.transition, name="transition"),
    path("<str:number>/incidents/", views.link_incidents, name="link_incidents"),
    path(
        "<str:number>/incidents/<str:incident>/remove/",
        views.unlink_incident,
        name="unlink_incident",
    ),
    path("<str:number>/tasks/", views.add_task, name="add_task"),
    path("<str:number>/tasks/<str:task>/state/", views.task_state, name="task_state"),
    path("<str:number>/comment/", views.comment, name="comment"),
]
