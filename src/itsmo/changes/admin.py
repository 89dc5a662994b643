"""Admin: approval rules, templates and blackout windows are configuration and stay
editable; changes, approvals and releases are looked at only (they change through
services.py, journaled)."""

from django.contrib import admin

from itsmo.core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    Approval,
    ApprovalRequest,
    ApprovalRule,
    BlackoutWindow,
    Change,
    ChangeTemplate,
    Deployment,
    Release,
)


@admin.register(ApprovalRule)
class ApprovalRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "change_type",
        "min_risk",
        "source",
        "group",
        "is_cab",
        "policy",
        "deadline_hours",
        "is_active",
    )
    list_filter = ("change_type", "policy", "is_active")


@admin.register(ChangeTemplate)
class ChangeTemplateAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "service", "risk", "is_active")
    search_fields = ("code", "name")


@admin.register(BlackoutWindow)
class BlackoutWindowAdmin(admin.ModelAdmin):
    list_display = ("name", "start_at", "end_at", "region", "country", "is_active")
    list_filter = ("is_active", "region", "country")
    search_fields = ("name",)


@admin.register(Change)
class ChangeAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "title",
        "type",
        "status",
        "risk",
        "approval",
        "country",
        "planned_start",
    )
    list_filter = ("type", "status", "risk")
    search_fields = ("number", "title")


class ApprovalInline(ReadOnlyInline):
    model = Approval


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ("change", "name", "round", "policy", "state", "due_at")
    inlines = [ApprovalInline]


class DeploymentInline(ReadOnlyInline):
    model = Deployment


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    list_display = ("number", "name", "version_label", "status")
    inlines = [DeploymentInline]
