"""Incident notifications: a small hook the services call; e-mails go out through the worker.

Each function enqueues a django-tasks task (:mod:`itsmo.incidents.tasks`) that renders a
translatable template in the recipient's language and sends it with Django's ``send_mail``
(so through ``EMAIL_BACKEND``). Record notifications are enqueued on commit, so a rolled-back
change announces nothing. SLA notices are enqueued *inside* the scan's transaction, together
with the claim (see ``slm.services``). The full notification layer (preferences, digests,
retries) will replace the bodies of these functions, not their callers.
"""

from __future__ import annotations

from django.db import transaction

from . import tasks


def _later(kind: str, incident_id: int, **extra) -> None:
    transaction.on_commit(
        lambda: tasks.send_incident_mail.enqueue(kind=kind, incident_id=incident_id, extra=extra)
    )


def assigned(incident) -> None:
    """The assignee (or, without one, the group's mailbox) learns of a new assignment."""
    _later("assigned", incident.pk)


def resolved(incident) -> None:
    """The caller learns the incident is resolved and may reopen it."""
    _later("resolved", incident.pk)


def public_comment(incident, entry_id: int, author_id: int | None) -> None:
    """The caller and watchers (not the author) get a public comment."""
    _later("comment", incident.pk, entry_id=entry_id, author_id=author_id)


def major_incident_update(incident, entry_id: int) -> None:
    """Stakeholders of a major incident (caller, watchers, coordinator) get the update."""
    _later("major_update", incident.pk, entry_id=entry_id)


def sla_notices(kind: str, notices: list[tuple[int, int]]) -> None:
    """Warnings (``kind="warning"``, threshold %) or breaches of SLA clocks, to the assignee
    and the group manager (hierarchical escalation). Enqueued in the caller's transaction."""
    tasks.send_sla_notices.enqueue(kind=kind, notices=[list(n) for n in notices])
