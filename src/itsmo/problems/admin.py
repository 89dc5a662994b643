"""Admin: problems, their tasks and the detection's candidates are looked at only; they
change through services.py (lifecycle guards, journaled)."""

from django.contrib import admin

from itsmo.core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Problem, ProblemCandidate, ProblemTask


class TaskInline(ReadOnlyInline):
    model = ProblemTask
    fields = ("number", "title", "owner", "status", "due_at", "done_at")


@admin.register(Problem)
class ProblemAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "status", "priority", "country", "opened_at")
    list_filter = ("status", "priority", "region")
    search_fields = ("number", "title")
    inlines = [TaskInline]


@admin.register(ProblemCandidate)
class ProblemCandidateAdmin(ReadOnlyAdmin):
    list_display = ("signature", "state", "incident_count", "first_at", "last_at")
    list_filter = ("state",)
    search_fields = ("signature",)
    exclude = ("incidents",)
