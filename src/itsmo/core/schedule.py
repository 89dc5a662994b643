"""The periodic jobs, in one place, and how a worker enqueues the ones that are due.

Apps add their periodic jobs to :data:`SCHEDULE` below (the task as a dotted path, so
this module imports nothing until a worker runs it)::

    PeriodicJob("indicators.snapshot", "itsmo.indicators.tasks.take_snapshots",
                timedelta(hours=1)),

Each job has a row in ``core.ScheduledJob``. A worker claims a due run with one
conditional ``UPDATE … WHERE next_run_at <= now`` that moves ``next_run_at`` forward;
only the worker whose update touched the row enqueues the task, so any number of
workers can run the scheduler and a run is enqueued once. PostgreSQL re-checks the
condition after the row lock is released, SQLite has a single writer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import ScheduledJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    #: A django-tasks ``Task`` or its dotted import path.
    task: Any
    interval: timedelta
    kwargs: dict[str, Any] = field(default_factory=dict)

    def resolve_task(self):
        return import_string(self.task) if isinstance(self.task, str) else self.task


SCHEDULE: list[PeriodicJob] = [
    PeriodicJob(
        "core.prune_task_results", "itsmo.core.tasks.prune_task_results", timedelta(days=1)
    ),
    PeriodicJob("slm.scan_clocks", "itsmo.slm.tasks.scan_sla_clocks", timedelta(minutes=1)),
    PeriodicJob(
        "incidents.close_resolved",
        "itsmo.incidents.tasks.close_resolved_incidents",
        timedelta(hours=1),
    ),
    PeriodicJob(
        "incidents.remind_major_updates",
        "itsmo.incidents.tasks.remind_major_updates",
        timedelta(minutes=1),
    ),
    PeriodicJob(
        "communications.send_due",
        "itsmo.communications.tasks.send_due_notifications",
        timedelta(minutes=1),
    ),
    PeriodicJob(
        "communications.poll", "itsmo.communications.tasks.poll_mailbox", timedelta(minutes=1)
    ),
    PeriodicJob(
        "problems.detect", "itsmo.problems.tasks.detect_recurring_incidents", timedelta(hours=6)
    ),
    PeriodicJob(
        "changes.expire_overdue_approvals",
        "itsmo.changes.tasks.expire_overdue_approvals",
        timedelta(minutes=15),
    ),
]


def ensure_rows(jobs: list[PeriodicJob], now: datetime) -> None:
    """Create the missing ``ScheduledJob`` rows; a new job is due at once."""
    ScheduledJob.objects.bulk_create(
        [ScheduledJob(name=job.name, next_run_at=now) for job in jobs], ignore_conflicts=True
    )


def claim(job: PeriodicJob, now: datetime) -> bool:
    """Move a due job's next run forward; ``True`` for the one caller whose update won."""
    due = Q(next_run_at__isnull=True) | Q(next_run_at__lte=now)
    won = ScheduledJob.objects.filter(due, name=job.name).update(
        last_run_at=now, next_run_at=now + job.interval
    )
    return won == 1


def enqueue_due(jobs: list[PeriodicJob] | None = None, *, now: datetime | None = None) -> list[str]:
    """Enqueue every due job this caller wins; returns the names it enqueued."""
    jobs = SCHEDULE if jobs is None else jobs
    now = now or timezone.now()
    ensure_rows(jobs, now)
    enqueued = []
    for job in jobs:
        # Claim and enqueue together: a crash between them leaves the job due.
        with transaction.atomic():
            if not claim(job, now):
                continue
            job.resolve_task().enqueue(**job.kwargs)
        logger.info("enqueued periodic job %s", job.name)
        enqueued.append(job.name)
    return enqueued
