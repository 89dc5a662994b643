"""Small helpers endpoints share: role checks before parsing, references by code."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet

from itsmo.core.errors import PermissionDenied, ValidationFailed


def require_role(user, *roles: str, message: str = "") -> None:
    """Refuse early (403) so that a forbidden write never reports on its input."""
    if not user.has_role(*roles):
        raise PermissionDenied(message or f"this needs the role {' or '.join(roles)}")


def lookup(queryset: QuerySet, field: str, **criteria: Any) -> Model:
    """The one object ``criteria`` name, or a 422 naming the input ``field``."""
    found = queryset.filter(**criteria).first()
    if found is None:
        value = next(iter(criteria.values()))
        raise ValidationFailed(f"unknown {field} {value!r}", field=field)
    return found


def lookup_optional(queryset: QuerySet, field: str, **criteria: Any) -> Model | None:
    if any(value in (None, "") for value in criteria.values()):
        return None
    return lookup(queryset, field, **criteria)
