"""Admin: the notification outbox (with a retry action) and the inbound e-mail log, with the
quarantine as its own list. Rows change only through the services."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from itsmo.core.admin import ReadOnlyAdmin
from itsmo.core.errors import DomainError

from . import intake, services
from .models import InboundMessage, InboundStatus, Notification, QuarantinedMessage


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event", "email", "language", "status", "attempts", "sent_at",
                    "next_attempt_at", "reference")  # fmt: skip
    list_filter = ("status", "event", "language")
    search_fields = ("email", "reference", "dedup_key", "message_id", "last_error")
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["retry_now"]

    @admin.action(description=_("Send again now"))
    def retry_now(self, request, queryset):
        for notification in queryset:
            services.retry_now(notification)
        messages.success(request, _("Queued again; the worker sends them within a minute."))


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "sender", "subject", "status", "action", "reference", "reason")
    list_filter = ("status", "action", "source")
    search_fields = ("sender", "subject", "message_id", "reference", "reason")
    exclude = ("raw",)
    readonly_fields = [f.name for f in InboundMessage._meta.fields if f.name != "raw"]


@admin.register(QuarantinedMessage)
class QuarantinedMessageAdmin(InboundMessageAdmin):
    list_display = ("received_at", "sender", "subject", "reason", "size")
    list_filter = ("source",)
    actions = ["retry", "discard"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=InboundStatus.QUARANTINED)

    @admin.action(description=_("Retry the selected messages"))
    def retry(self, request, queryset):
        for row in queryset:
            try:
                result = intake.retry(row, actor=request.user)
            except DomainError as error:
                messages.error(request, error.message)
                continue
            messages.info(request, f"{row.message_id}: {result.get_status_display()}")

    @admin.action(description=_("Discard the selected messages"))
    def discard(self, request, queryset):
        for row in queryset:
            try:
                intake.discard(row, actor=request.user)
            except DomainError as error:
                messages.error(request, error.message)
