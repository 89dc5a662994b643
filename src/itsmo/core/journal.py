"""Write and read record timelines (the journal)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from . import rows
from .models import JournalEntry, JournalKind


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _entry(record: models.Model, kind: str, actor, at: datetime | None, **values) -> JournalEntry:
    now = timezone.now()
    return JournalEntry(
        content_type=ContentType.objects.get_for_model(record, for_concrete_model=False),
        object_id=record.pk,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        occurred_at=at or now,
        recorded_at=now,
        **values,
    )


def record_created(record: models.Model, actor, *, at: datetime | None = None) -> JournalEntry:
    entry = _entry(record, JournalKind.CREATED, actor, at, new_value=_text(record))
    rows.insert([entry])
    return entry


def record_changes(
    record: models.Model,
    actor,
    changes: Mapping[str, tuple[Any, Any]],
    *,
    at: datetime | None = None,
) -> list[JournalEntry]:
    """Journal field changes given as ``{field: (old, new)}``; unchanged values are skipped."""
    entries = [
        _entry(
            record,
            JournalKind.FIELD_CHANGE,
            actor,
            at,
            field=name,
            old_value=_text(old),
            new_value=_text(new),
        )
        for name, (old, new) in changes.items()
        if _text(old) != _text(new)
    ]
    return rows.insert(entries)


def record_state_change(
    record: models.Model,
    actor,
    field: str,
    old: Any,
    new: Any,
    *,
    note: str = "",
    at: datetime | None = None,
) -> JournalEntry:
    entry = _entry(
        record,
        JournalKind.STATE_CHANGE,
        actor,
        at,
        field=field,
        old_value=_text(old),
        new_value=_text(new),
        body=note,
    )
    entry.save()
    return entry


def add_comment(
    record: models.Model, actor, body: str, *, internal: bool = False, at: datetime | None = None
) -> JournalEntry:
    kind = JournalKind.WORK_NOTE if internal else JournalKind.COMMENT
    entry = _entry(record, kind, actor, at, body=body)
    entry.save()
    return entry


def timeline(record: models.Model, *, include_internal: bool = True) -> Iterable[JournalEntry]:
    entries = JournalEntry.objects.for_record(record).select_related("actor")
    return entries if include_internal else entries.public()
