"""The task queue: django-tasks-db's database backend, with a cheaper enqueue.

Every new incident enqueues the delivery of its notification, so the queue row is written
on the hot path. The backend builds the same ``DBTaskResult`` row as django-tasks-db does
and inserts it with a kept statement (:func:`itsmo.core.rows.insert`) instead of
``objects.create()``; everything else (workers, results, retries) is the library's.
"""

from __future__ import annotations

from django_tasks_db.backend import DatabaseBackend as LibraryDatabaseBackend
from django_tasks_db.compat import normalize_json
from django_tasks_db.models import DBTaskResult

from . import rows


class DatabaseBackend(LibraryDatabaseBackend):
    def _task_to_db_task(self, task, args, kwargs) -> DBTaskResult:
        (result,) = rows.insert(
            [
                DBTaskResult(
                    id=self._get_id(),
                    args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
                    priority=task.priority,
                    task_path=task.module_path,
                    queue_name=task.queue_name,
                    run_after=task.run_after,
                    backend_name=self.alias,
                )
            ]
        )
        return result
