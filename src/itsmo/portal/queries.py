"""Reads of the portal: only the incidents the user reported or is affected by."""

from __future__ import annotations

from django.db.models import Q

from itsmo.core.errors import NotFound
from itsmo.incidents.models import Incident


def own_incidents(user):
    return (
        Incident.objects.visible_to(user)
        .filter(Q(caller=user) | Q(affected_user=user))
        .select_related("service")
        .order_by("-opened_at", "-id")
    )


def get_own(number: str, user) -> Incident:
    incident = (
        own_incidents(user)
        .select_related("caller", "assignee", "assignment_group")
        .filter(number=number.upper())
        .first()
    )
    if incident is None:
        raise NotFound(f"no incident {number}")
    return incident
