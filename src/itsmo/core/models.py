"""Base models, the journal and reference numbering shared by every record type."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Created/updated timestamps and a version number for optimistic locking."""

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        abstract = True


class JournalKind(models.TextChoices):
    CREATED = "created", _("Created")
    FIELD_CHANGE = "field_change", _("Field changed")
    STATE_CHANGE = "state_change", _("State changed")
    COMMENT = "comment", _("Comment")
    WORK_NOTE = "work_note", _("Work note")


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove a journal entry."""


class JournalQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("journal entries cannot be updated")

    def delete(self):
        raise AppendOnlyError("journal entries cannot be deleted")

    def for_record(self, record: models.Model) -> JournalQuerySet:
        return self.filter(
            content_type=ContentType.objects.get_for_model(record, for_concrete_model=False),
            object_id=record.pk,
        )

    def public(self) -> JournalQuerySet:
        return self.exclude(kind=JournalKind.WORK_NOTE)


class JournalEntry(models.Model):
    """One line of a record's timeline. Written once, never edited or deleted."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(max_length=20, choices=JournalKind.choices)
    field = models.CharField(max_length=100, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    body = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = JournalQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id", "occurred_at"])]
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.field} at {self.occurred_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("journal entries cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("journal entries cannot be deleted")

    @property
    def is_public(self) -> bool:
        return self.kind != JournalKind.WORK_NOTE


class Sequence(models.Model):
    """The last number handed out for one reference prefix (INC, PRB, CHG, REQ, CI…)."""

    prefix = models.CharField(max_length=8, primary_key=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}{self.last_value}"


class ScheduledJob(models.Model):
    """When a periodic job last ran; workers claim a run with a conditional update."""

    name = models.CharField(max_length=200, primary_key=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Generation(models.Model):
    """A token replaced whenever what it stands for changes (see ``core.config_cache``)."""

    name = models.CharField(max_length=40, primary_key=True)
    value = models.CharField(max_length=64, default="")

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"
