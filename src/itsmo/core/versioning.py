"""Optimistic locking: a write names the version it read; a stale one is refused."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import F

from . import config_cache
from .errors import StaleVersion


def save_versioned(record: models.Model, expected_version: int | None, fields: list[str]) -> None:
    """Write ``fields`` of ``record`` only if the stored version is ``expected_version``.

    On success the record's version is incremented in memory too. On a stale version,
    :class:`StaleVersion` carries the current stored record and nothing is written. The
    write is an ``UPDATE``, which sends no ``post_save``: a configuration model (see
    :mod:`itsmo.core.config_cache`) announces its change here instead.
    """
    model = type(record)
    version = record.version if expected_version is None else expected_version
    values: dict[str, Any] = {
        name: getattr(record, model._meta.get_field(name).attname) for name in fields
    }
    if any(f.name == "updated_at" for f in model._meta.fields):
        from django.utils import timezone

        values["updated_at"] = timezone.now()
        record.updated_at = values["updated_at"]
    updated = model._base_manager.filter(pk=record.pk, version=version).update(
        version=F("version") + 1, **values
    )
    if not updated:
        current = model._base_manager.get(pk=record.pk)
        raise StaleVersion(
            f"{model._meta.verbose_name} was changed by someone else "
            f"(you sent version {version}, it is now {current.version})",
            current_version=current.version,
            record=current,
        )
    record.version = version + 1
    config_cache.bulk_written(model)
