"""CMDB health: stale CIs, orphans and duplicate candidates. Reads only.

Every function takes an optional ``user``; with one, only CIs the user may see count.
Retired CIs are left out of every check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone

from .models import CI, CIStatus, Relationship, ServiceCI

DEFAULT_STALE_DAYS = 30


def _cis(user=None):
    cis = CI.objects.visible_to(user) if user is not None else CI.objects.all()
    return cis.exclude(status=CIStatus.RETIRED)


def stale_cis(days: int = DEFAULT_STALE_DAYS, *, now: datetime | None = None, user=None):
    """CIs discovery has not seen for ``days`` days.

    A CI that came from a discovery source but was never seen counts as stale; a CI
    maintained by hand (no discovery source, never seen) does not.
    """
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return (
        _cis(user)
        .filter(
            Q(last_seen_at__lt=cutoff) | (Q(last_seen_at__isnull=True) & ~Q(discovery_source=""))
        )
        .order_by("last_seen_at", "number")
    )


def orphan_cis(user=None):
    """CIs with no relationship in either direction and no service."""
    return (
        _cis(user)
        .filter(
            ~Exists(Relationship.objects.filter(source=OuterRef("pk"))),
            ~Exists(Relationship.objects.filter(target=OuterRef("pk"))),
            ~Exists(ServiceCI.objects.filter(ci=OuterRef("pk"))),
        )
        .order_by("number")
    )


@dataclass(frozen=True)
class DuplicateGroup:
    reason: str  # "same_class_and_name" | "same_serial"
    key: str
    ci_ids: list[int]


def duplicate_candidates(user=None, *, limit: int = 500) -> list[DuplicateGroup]:
    """Groups of CIs that are probably the same thing.

    Same class and the same name ignoring case and surrounding spaces (whatever the site),
    or the same serial number in different classes (the database already refuses the same
    serial twice within a class).
    """
    cis = _cis(user)
    groups: list[DuplicateGroup] = []
    names = (
        cis.annotate(key=Lower("name"))
        .values("ci_class_id", "key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("-n", "key")[:limit]
    )
    for row in names:
        ids = list(
            cis.annotate(key=Lower("name"))
            .filter(ci_class_id=row["ci_class_id"], key=row["key"])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        groups.append(DuplicateGroup("same_class_and_name", row["key"], ids))
    serials = (
        cis.exclude(serial="")
        .values("serial")
        .annotate(classes=Count("ci_class", distinct=True))
        .filter(classes__gt=1)
        .order_by("serial")[:limit]
    )
    for row in serials:
        ids = list(cis.filter(serial=row["serial"]).order_by("pk").values_list("pk", flat=True))
        groups.append(DuplicateGroup("same_serial", row["serial"], ids))
    return groups
