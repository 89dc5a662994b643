"""SLA background jobs. The scan is safe to run twice and in parallel (it claims rows);
a notice batch is safe to run twice (each notice has a deduplication key)."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task


@task()
def scan_sla_clocks() -> dict:
    """Mark breached clocks and send threshold warnings (see ``services.scan_clocks``)."""
    from . import services

    result = services.scan_clocks()
    return {"breached": result.breached, "warned": result.warned}


@task()
def send_sla_notices(kind: str, notices: list[list[int]]) -> int:
    """Hand a batch of claimed warnings (``[clock id, threshold %]``) or breaches to the
    incident notifications (assignee and group manager)."""
    from itsmo.incidents import notify

    with transaction.atomic():
        notify.sla_notices(kind, [(pk, threshold) for pk, threshold in notices])
    return len(notices)
