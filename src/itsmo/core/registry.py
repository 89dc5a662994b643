"""Record types by public name, with the queryset that says who may see which record.

Apps register the models that have a timeline (journal) under a URL-friendly name::

    registry.register("support-group", SupportGroup)              # uses visible_to(user)
    registry.register("user", User, visible=lambda user: ...)    # custom scope

Register at import time of the app's ``api.py`` (``itsmo.api.urls`` imports every router, so
the names exist whenever an endpoint can be reached) or in its ``AppConfig.ready()``.

Generic endpoints (the journal API, later search and exports) look a record up through
:func:`get_visible`, so a record the user may not see is reported as not found, never as
forbidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models

from .errors import NotFound

VisibleQuerySet = Callable[[object], models.QuerySet]


@dataclass(frozen=True)
class RecordType:
    name: str
    model: type[models.Model]
    visible: VisibleQuerySet

    def visible_to(self, user) -> models.QuerySet:
        return self.visible(user)


_record_types: dict[str, RecordType] = {}


def _default_visible(model: type[models.Model]) -> VisibleQuerySet:
    manager = model._default_manager
    if not hasattr(manager, "visible_to"):
        raise TypeError(
            f"{model.__name__} has no visible_to(); pass visible= to register() explicitly"
        )
    return manager.visible_to


def register(
    name: str, model: type[models.Model], *, visible: VisibleQuerySet | None = None
) -> RecordType:
    """Register ``model`` as ``name``; registering the same pair again is harmless."""
    existing = _record_types.get(name)
    if existing is not None and existing.model is not model:
        raise ValueError(f"record type {name!r} is already {existing.model.__name__}")
    record_type = RecordType(name, model, visible or _default_visible(model))
    _record_types[name] = record_type
    return record_type


def unregister(name: str) -> None:
    _record_types.pop(name, None)


def names() -> list[str]:
    return sorted(_record_types)


def get(name: str) -> RecordType:
    try:
        return _record_types[name]
    except KeyError:
        raise NotFound(f"unknown record type {name!r}", field="record_type") from None


def get_visible(name: str, pk: int, user) -> models.Model:
    """The record ``name``/``pk`` if ``user`` may see it, else :class:`NotFound`."""
    record_type = get(name)
    record = record_type.visible_to(user).filter(pk=pk).first()
    if record is None:
        raise NotFound(f"no {name} {pk}")
    return record
