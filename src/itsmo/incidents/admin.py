"""Admin: incidents and their categories are looked at only (they change through
services.py, journaled: ``POST /api/v1/incident-categories`` adds a category); the priority
matrix is configuration and stays editable here: a cell overrides ITIL's default 3x3, every
process sees the change at its next read (``core.config_cache``)."""

from django.contrib import admin

from itsmo.core.admin import ReadOnlyAdmin

from .models import Category, Incident, PriorityMatrixCell


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ("number", "short_description", "status", "priority", "country", "opened_at")
    list_filter = ("status", "priority", "channel", "is_major", "region")
    search_fields = ("number", "short_description")
    exclude = ("watchers",)


@admin.register(Category)
class CategoryAdmin(ReadOnlyAdmin):
    list_display = ("name", "parent", "service", "is_active", "sort_order")
    list_filter = ("is_active",)
    search_fields = ("name",)


@admin.register(PriorityMatrixCell)
class PriorityMatrixAdmin(admin.ModelAdmin):
    list_display = ("impact", "urgency", "priority")
