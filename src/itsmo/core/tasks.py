"""Core background jobs. Each loads what it needs and is safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

#: Finished task results older than this are deleted by :func:`prune_task_results`.
TASK_RESULT_RETENTION_DAYS = 14


@task()
def prune_task_results(min_age_days: int = TASK_RESULT_RETENTION_DAYS) -> int:
    """Delete finished (successful or failed) task results older than ``min_age_days``.

    The same query as django-tasks-db's ``prune_db_task_results`` command, over every
    queue; returns how many were deleted.
    """
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - timedelta(days=min_age_days)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lte=cutoff).delete()
    return deleted
