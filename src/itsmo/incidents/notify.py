"""Incident notifications: who hears of what. The services call these inside their
transaction; :func:`itsmo.communications.services.notify` writes the outbox rows there
(so a rolled-back change announces nothing) and the worker sends them with retries.

Each event has a deduplication key, so the same event never mails the same person twice
(a retried job, a re-run scan): ``sla-warning:<clock>:<threshold>``, ``comment:<entry>`` …
"""

from __future__ import annotations

from itsmo.accounts.models import User
from itsmo.communications import services as communications
from itsmo.core import rows


def assigned(incident, *, new: bool = False) -> None:
    """The assignee (or, without one, the group's manager) learns of a new assignment
    (``new``: of an incident opened in this transaction)."""
    recipients = [incident.assignee] if incident.assignee_id else []
    group = incident.assignment_group
    if not recipients and group is not None and group.manager_id:
        # Read now: the group may come from the reference cache, its manager must not.
        recipients = [rows.get(User, "id = %s", [group.manager_id])]
    communications.notify(
        "assignment",
        recipients,
        {"incident": incident},
        dedup_key=f"assignment:{incident.pk}:{incident.version}:{incident.assignee_id or 0}",
        reference=incident.number,
        new_key=new,
    )


def resolved(incident) -> None:
    """The caller learns the incident is resolved and may reopen it. This one mail is also
    the satisfaction-survey invitation: ``surveys`` adds a single-use link when it is sent
    (see ``surveys.services.invitation_context``)."""
    at = incident.resolved_at.isoformat() if incident.resolved_at else incident.version
    communications.notify(
        "resolution",
        [incident.caller],
        {"incident": incident},
        dedup_key=f"resolution:{incident.pk}:{at}",
        reference=incident.number,
    )


def _stakeholders(incident, author_id: int | None = None) -> list:
    recipients = [incident.caller, *incident.watchers.all()]
    return [r for r in recipients if r is not None and r.pk != author_id]


def public_comment(incident, entry_id: int, author_id: int | None) -> None:
    """The caller, the watchers and the assignee (not the author) get a public comment: a
    caller's reply by e-mail reaches the agent working the incident."""
    from itsmo.core.models import JournalEntry

    recipients = _stakeholders(incident, author_id)
    if incident.assignee_id and incident.assignee_id != author_id:
        recipients.append(incident.assignee)
    communications.notify(
        "comment",
        recipients,
        {"incident": incident, "entry": JournalEntry(pk=entry_id)},
        dedup_key=f"comment:{entry_id}",
        reference=incident.number,
    )


def major_incident_update(incident, entry_id: int) -> None:
    """Stakeholders of a major incident (caller, watchers, coordinator) get the update."""
    from itsmo.core.models import JournalEntry

    recipients = _stakeholders(incident)
    if incident.major_incident_coordinator_id:
        recipients.append(incident.major_incident_coordinator)
    communications.notify(
        "major_update",
        recipients,
        {"incident": incident, "entry": JournalEntry(pk=entry_id)},
        dedup_key=f"major-update:{entry_id}",
        reference=incident.number,
    )


def major_update_reminder(incident, due_at) -> None:
    """The coordinator of a major incident (without one: the assignee and the group's
    manager) learns that the stakeholder update due at ``due_at`` was not posted. Once per
    due instant; written and enqueued in the transaction of the job's claim."""
    if incident.major_incident_coordinator_id:
        recipients = [incident.major_incident_coordinator]
    else:
        group = incident.assignment_group
        recipients = [incident.assignee, group.manager if group is not None else None]
    communications.notify(
        "major_update_reminder",
        recipients,
        {"incident": incident, "due_at": due_at},
        dedup_key=f"major-update-reminder:{incident.pk}:{due_at.isoformat()}",
        reference=incident.number,
        in_transaction=True,
    )


def sla_notices(kind: str, notices: list[tuple[int, int]]) -> None:
    """Warnings (``kind="warning"``, threshold %) or breaches of SLA clocks, to the assignee
    and the group manager (hierarchical escalation). Written in the scan's transaction,
    together with its claim, and enqueued there too (see ``communications.services``)."""
    from itsmo.slm.models import SLAClock

    thresholds = dict(notices)
    clocks = SLAClock.objects.filter(pk__in=thresholds).select_related(
        "incident__assignee",
        "incident__assignment_group__manager",
        "support_group__manager",
    )
    for clock in clocks:
        incident = clock.incident
        group = clock.support_group or incident.assignment_group
        threshold = thresholds[clock.pk]
        communications.notify(
            f"sla_{kind}",
            [incident.assignee, group.manager if group is not None else None],
            {"incident": incident, "clock": clock, "threshold": threshold},
            dedup_key=f"sla-{kind}:{clock.pk}:{threshold}",
            reference=incident.number,
            in_transaction=True,
        )
