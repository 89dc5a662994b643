"""Figures over imported history that no practice app computes yet (docs/importing.md).

The changes app has no ``metrics.py`` and Itsmo has no service-desk contact record of its
own, so the first-call-resolution share of imported interactions and the change figures
used to check the BPIC 2014 import live here. Same conventions as
:mod:`itsmo.incidents.metrics`: a :class:`~itsmo.core.metrics.Slice` for the period
``[start, end)`` (and region/country), an optional queryset to narrow the records.
"""

from __future__ import annotations

from django.db.models import Count, QuerySet

from itsmo.changes.models import Change, Risk
from itsmo.core.metrics import Slice

from .models import ServiceDeskContact


def contacts_opened(slice_: Slice, contacts: QuerySet | None = None) -> QuerySet:
    """Imported service-desk contacts opened in the period."""
    scoped = ServiceDeskContact.objects.all() if contacts is None else contacts
    return scoped.filter(opened_at__gte=slice_.start, opened_at__lt=slice_.end)


def share_first_call_resolution(slice_: Slice, contacts: QuerySet | None = None) -> float | None:
    """Share of the contacts opened in the period resolved at first call (no incident)."""
    opened = contacts_opened(slice_, contacts)
    total = opened.count()
    return opened.filter(is_first_call_resolution=True).count() / total if total else None


def changes_opened(slice_: Slice, changes: QuerySet | None = None) -> QuerySet:
    """Changes whose record was opened (``created_at``) in the period."""
    scoped = Change.objects.all() if changes is None else changes
    if slice_.region is not None:
        scoped = scoped.filter(region=slice_.region)
    if slice_.country is not None:
        scoped = scoped.filter(country=slice_.country)
    return scoped.filter(created_at__gte=slice_.start, created_at__lt=slice_.end)


def change_figures(slice_: Slice, changes: QuerySet | None = None) -> dict:
    """Changes opened in the period: count, emergency, CAB-approval needed, by risk."""
    opened = changes_opened(slice_, changes)
    by_risk = dict.fromkeys([str(r) for r in Risk] + [""], 0)
    by_risk.update({row["risk"]: row["n"] for row in opened.values("risk").annotate(n=Count("pk"))})
    return {
        "changes": opened.count(),
        "emergency": opened.filter(is_emergency=True).count(),
        "cab_required": opened.filter(is_cab_required=True).count(),
        "by_risk": by_risk,
    }
