"""Periodic jobs: a due run is enqueued once, however many workers race for it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from itsmo.core import schedule
from itsmo.core.models import ScheduledJob
from itsmo.core.tasks import prune_task_results

JOB = schedule.PeriodicJob(
    "test.prune",
    "itsmo.core.tasks.prune_task_results",
    timedelta(hours=1),
    kwargs={"min_age_days": 30},
)


def test_the_schedule_lists_the_task_result_pruning():
    names = [job.name for job in schedule.SCHEDULE]
    assert "core.prune_task_results" in names
    assert len(names) == len(set(names))
    for job in schedule.SCHEDULE:
        assert job.resolve_task() is not None


def test_a_new_job_is_due_at_once_and_then_after_its_interval(db):
    now = timezone.now()

    assert schedule.enqueue_due([JOB], now=now) == ["test.prune"]
    assert schedule.enqueue_due([JOB], now=now + timedelta(minutes=59)) == []
    assert schedule.enqueue_due([JOB], now=now + timedelta(hours=1)) == ["test.prune"]

    results = DBTaskResult.objects.filter(task_path="itsmo.core.tasks.prune_task_results")
    assert results.count() == 2
    assert all(result.task_result.kwargs == {"min_age_days": 30} for result in results)
    row = ScheduledJob.objects.get(name="test.prune")
    assert row.next_run_at == now + timedelta(hours=2)


def test_the_second_claim_of_the_same_run_loses(db):
    now = timezone.now()
    schedule.ensure_rows([JOB], now)

    assert [schedule.claim(JOB, now), schedule.claim(JOB, now)] == [True, False]


def test_racing_workers_enqueue_a_due_run_once(transactional_db):
    now = timezone.now()
    schedule.ensure_rows([JOB], now - timedelta(minutes=1))
    racers = 6
    barrier = threading.Barrier(racers)
    won: list[str] = []
    errors: list[BaseException] = []

    def race():
        try:
            barrier.wait()
            for _attempt in range(50):
                try:
                    won.extend(schedule.enqueue_due([JOB], now=now))
                    return
                except OperationalError:  # SQLite: locked; a worker retries on its next tick
                    continue
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert won == ["test.prune"]
    assert DBTaskResult.objects.count() == 1


@pytest.fixture
def finished_results(db):
    def make(days_ago: int, status: str = "SUCCESSFUL") -> str:
        result = prune_task_results.enqueue()
        DBTaskResult.objects.filter(id=result.id).update(
            status=status, finished_at=timezone.now() - timedelta(days=days_ago)
        )
        return result.id

    return make


def test_pruning_deletes_old_finished_results_only(finished_results):
    old_ok, old_failed, recent = (
        finished_results(30),
        finished_results(20, "FAILED"),
        finished_results(1),
    )
    waiting = prune_task_results.enqueue().id

    assert prune_task_results.call(min_age_days=14) == 2
    assert prune_task_results.call(min_age_days=14) == 0  # safe to run twice

    remaining = set(DBTaskResult.objects.values_list("id", flat=True))
    assert {str(pk) for pk in remaining} == {recent, waiting}
    assert not {old_ok, old_failed} & {str(pk) for pk in remaining}


def test_worker_batch_enqueues_due_jobs_and_runs_them(transactional_db):
    call_command("worker", batch=True, startup_delay=False, verbosity=0)

    result = DBTaskResult.objects.get(task_path="itsmo.core.tasks.prune_task_results")
    assert result.status == "SUCCESSFUL"
    assert ScheduledJob.objects.get(name="core.prune_task_results").next_run_at > timezone.now()

    assert DBTaskResult.objects.count() == len(schedule.SCHEDULE)

    call_command("worker", batch=True, startup_delay=False, verbosity=0)
    assert DBTaskResult.objects.count() == len(schedule.SCHEDULE)  # not due again yet
