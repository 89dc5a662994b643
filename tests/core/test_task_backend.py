"""Itsmo's task backend writes queue rows the django-tasks-db worker runs, like the
library's own enqueue, only cheaper."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult, get_date_max

from itsmo.core import tasks
from itsmo.core.task_backend import DatabaseBackend

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_enqueued_task_is_a_ready_row_that_the_worker_runs(settings):
    settings.TASKS = {"default": {"BACKEND": "itsmo.core.task_backend.DatabaseBackend"}}
    assert isinstance(tasks.prune_task_results.get_backend(), DatabaseBackend)

    result = tasks.prune_task_results.enqueue(min_age_days=30)

    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "READY"
    assert row.run_after == get_date_max()  # the library's own pre_save rule still applies
    assert row.args_kwargs == {"args": [], "kwargs": {"min_age_days": 30}}
    assert row.task_path == "itsmo.core.tasks.prune_task_results"

    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)

    row.refresh_from_db()
    assert row.status == "SUCCESSFUL"
    assert row.return_value == 0
