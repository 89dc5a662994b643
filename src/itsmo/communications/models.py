"""Communications: the outbox of e-mail notifications and the log of inbound e-mail.

Every write goes through :mod:`itsmo.communications.services` (notifications) and
:mod:`itsmo.communications.intake` (inbound mail).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """One e-mail to one recipient, written in the transaction of the change it announces.

    ``context`` is JSON: plain values, records as ``{"$model": "app.model", "pk": 1}``
    references that are loaded again when the mail is rendered (in the recipient's
    language, at sending time) and datetimes as ``{"$datetime": "<ISO 8601>"}``.
    ``dedup_key`` is unique: an event never mails anyone twice.
    """

    event = models.CharField(_("event"), max_length=40)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    email = models.EmailField(_("e-mail address"), max_length=254)
    language = models.CharField(_("language"), max_length=10)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    context = models.JSONField(_("context"), default=dict, blank=True)
    #: The record the mail is about (``INC0001234``): replies to the mail comment on it.
    reference = models.CharField(_("reference"), max_length=40, blank=True, db_index=True)
    dedup_key = models.CharField(_("deduplication key"), max_length=200, unique=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=NotificationStatus.choices,
        default=NotificationStatus.QUEUED,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    #: When a queued notification may be (re)tried; a claim moves it forward by a lease.
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="queued"),
                name="notification_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.email}"


class InboundStatus(models.TextChoices):
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    QUARANTINED = "quarantined", _("Quarantined")
    DISCARDED = "discarded", _("Discarded")


class InboundAction(models.TextChoices):
    OPENED = "opened", _("Opened an incident")
    COMMENTED = "commented", _("Commented on an incident")
    NONE = "", _("Nothing")


class InboundMessage(models.Model):
    """Every e-mail Itsmo received, once per Message-ID (a message without one is known by
    the SHA-256 of its bytes). Quarantined messages keep their bytes for a retry."""

    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    status = models.CharField(_("status"), max_length=12, choices=InboundStatus.choices)
    action = models.CharField(
        _("action"), max_length=12, choices=InboundAction.choices, blank=True, default=""
    )
    reason = models.TextField(_("reason"), blank=True)
    source = models.CharField(_("source"), max_length=40, blank=True)
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    reference = models.CharField(_("incident"), max_length=40, blank=True, db_index=True)
    body_html = models.TextField(_("HTML body (sanitised)"), blank=True)
    raw = models.BinaryField(_("raw message"), blank=True, default=b"")
    size = models.PositiveIntegerField(_("size"), default=0)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("inbound e-mail")
        verbose_name_plural = _("inbound e-mails")

    def __str__(self) -> str:
        return f"{self.sender or '?'}: {self.subject or self.message_id}"


class QuarantinedMessage(InboundMessage):
    """The quarantined inbound messages, as their own admin list."""

    class Meta:
        proxy = True
        verbose_name = _("quarantined e-mail")
        verbose_name_plural = _("quarantined e-mails")
