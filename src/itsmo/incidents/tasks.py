"""Incident background jobs: e-mails and the automatic closure. Each is safe to run twice
(closing skips what is already closed; a mail task sends what it was given once)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task

logger = logging.getLogger(__name__)


def _language(user) -> str:
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def _send(template: str, recipients, context: dict) -> int:
    """Render ``template`` per recipient language (first line: subject) and send it."""
    sent = 0
    seen = set()
    for user in recipients:
        if user is None or not user.email or user.email in seen or not user.is_active:
            continue
        seen.add(user.email)
        with translation.override(_language(user)):
            text = render_to_string(template, {**context, "recipient": user})
        subject, _, body = text.strip().partition("\n")
        sent += send_mail(subject.strip(), body.strip() + "\n", None, [user.email])
    return sent


@task()
def send_incident_mail(kind: str, incident_id: int, extra: dict | None = None) -> int:
    from itsmo.core.models import JournalEntry

    from .models import Incident

    extra = extra or {}
    incident = (
        Incident.objects.select_related("caller", "assignee", "assignment_group")
        .filter(pk=incident_id)
        .first()
    )
    if incident is None:
        return 0
    context = {"incident": incident, "base_url": getattr(settings, "ITSMO_BASE_URL", "")}
    if kind == "assigned":
        recipients = [incident.assignee] if incident.assignee_id else []
        group = incident.assignment_group
        if not recipients and group is not None and group.manager_id:
            recipients = [group.manager]
    elif kind == "resolved":
        recipients = [incident.caller]
    elif kind in ("comment", "major_update"):
        entry = JournalEntry.objects.filter(pk=extra.get("entry_id")).first()
        if entry is None:
            return 0
        context["entry"] = entry
        recipients = [incident.caller, *incident.watchers.all()]
        if kind == "major_update" and incident.major_incident_coordinator_id:
            recipients.append(incident.major_incident_coordinator)
        author = extra.get("author_id")
        recipients = [r for r in recipients if r.pk != author]
    else:
        raise ValueError(f"unknown incident mail {kind!r}")
    return _send(f"incidents/email/{kind}.txt", recipients, context)


@task()
def send_sla_notices(kind: str, notices: list[list[int]]) -> int:
    from itsmo.slm.models import SLAClock

    thresholds = {pk: threshold for pk, threshold in notices}
    clocks = SLAClock.objects.filter(pk__in=thresholds).select_related(
        "definition",
        "incident__assignee",
        "incident__assignment_group__manager",
        "support_group__manager",
    )
    sent = 0
    for clock in clocks:
        incident = clock.incident
        group = clock.support_group or incident.assignment_group
        recipients = [incident.assignee, group.manager if group is not None else None]
        sent += _send(
            f"incidents/email/sla_{kind}.txt",
            recipients,
            {"incident": incident, "clock": clock, "threshold": thresholds[clock.pk]},
        )
    return sent


@task()
def close_resolved_incidents() -> int:
    """Close incidents resolved more than ``ITSMO_INCIDENT_AUTO_CLOSE_DAYS`` days ago."""
    from . import services

    return services.close_resolved_older_than(services.auto_close_days())
