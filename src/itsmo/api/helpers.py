"""Small helpers endpoints share: role checks before parsing, references by code."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone

from itsmo.core import rows
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


def code_of(related, attr: str = "code") -> str | None:
    """The code (or ``attr``) of a linked record, for an output schema; ``None`` when unset."""
    return getattr(related, attr) if related is not None else None


def by_code(model, value: str | None, field: str, attr: str = "code"):
    """The ``model`` row whose ``attr`` is ``value`` (any case); empty is ``None``, an unknown
    value a 422 naming ``field``."""
    return found_or_422(
        lambda wanted: model.objects.filter(**{f"{attr}__iexact": wanted}).first(), value, field
    )


def found_or_422(find, value: str | None, field: str):
    """What ``find(value)`` returns; empty is ``None``, nothing found a 422 naming ``field``
    (``find`` may read a reference cache, e.g. ``catalog.services.service_by_code``)."""
    if value in (None, ""):
        return None
    found = find(value)
    if found is None:
        raise ValidationFailed(f"no {field} {value!r}", field=field)
    return found


def active_user(username: str | None, field: str):
    """The active user named ``username`` (any case); empty is ``None``, else a 422."""
    from itsmo.accounts.models import User

    if not username:
        return None
    # The name as written first (one kept statement on the unique index), then any case.
    user = rows.get(User, "username = %s AND is_active", [username])
    if user is None:
        user = User.objects.filter(username__iexact=username, is_active=True).first()
    if user is None:
        raise ValidationFailed(f"no active user {username!r}", field=field)
    return user


def aware(value: datetime | None, user) -> datetime | None:
    """A date-time without an offset is read in the user's time zone (else the server's)."""
    if value is None or timezone.is_aware(value):
        return value
    zone = zoneinfo.ZoneInfo(user.time_zone) if user.time_zone else timezone.get_default_timezone()
    return timezone.make_aware(value, zone)
