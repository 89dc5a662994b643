"""Admin: look, don't touch. Records change only through services.py (one write path,
journaled)."""

from django.contrib import admin

from itsmo.core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import BusinessProcess, RequestOffering, Service, ServiceProcess


class ServiceProcessInline(ReadOnlyInline):
    model = ServiceProcess


@admin.register(BusinessProcess)
class BusinessProcessAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "criticality", "owner", "is_active")
    search_fields = ("code", "name")


@admin.register(Service)
class ServiceAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "kind", "lifecycle", "criticality", "support_group")
    list_filter = ("kind", "lifecycle", "criticality")
    search_fields = ("code", "name")
    filter_horizontal = ("countries",)
    inlines = [ServiceProcessInline]
    readonly_fields = ("version", "created_at", "updated_at")


@admin.register(RequestOffering)
class RequestOfferingAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "service", "portal_category", "fulfilment_group", "is_active")
    list_filter = ("is_active", "portal_category")
    search_fields = ("code", "name")
