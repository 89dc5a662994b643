"""Admin: look, don't touch. Records change only through services.py (one write path,
journaled); CI classes and their attributes are configuration and stay editable."""

from django.contrib import admin

from itsmo.core.admin import ReadOnlyAdmin

from .models import CI, CIAttribute, CIClass, Relationship, ServiceCI


class CIAttributeInline(admin.TabularInline):
    model = CIAttribute
    extra = 0


@admin.register(CIClass)
class CIClassAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent", "is_active")
    search_fields = ("code", "name")
    inlines = [CIAttributeInline]


@admin.register(CI)
class CIAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "name",
        "ci_class",
        "status",
        "environment",
        "country",
        "site",
        "last_seen_at",
    )
    list_filter = ("ci_class", "status", "environment", "country")
    search_fields = ("number", "name", "serial", "asset_tag")
    raw_id_fields = ("site", "owner_group")
    readonly_fields = ("number", "version", "created_at", "updated_at")
    list_select_related = ("ci_class", "country", "site")
    show_full_result_count = False


@admin.register(Relationship)
class RelationshipAdmin(ReadOnlyAdmin):
    list_display = ("source", "type", "target", "discovery_source", "created_at")
    list_filter = ("type",)
    raw_id_fields = ("source", "target")
    list_select_related = ("source", "target")
    show_full_result_count = False


@admin.register(ServiceCI)
class ServiceCIAdmin(ReadOnlyAdmin):
    list_display = ("service", "ci", "created_at")
    raw_id_fields = ("ci",)
    list_select_related = ("service", "ci")
