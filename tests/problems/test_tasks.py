"""The detection job, its schedule entry and ``itsmo problems detect``."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from itsmo.core.schedule import SCHEDULE
from itsmo.problems.models import ProblemCandidate
from itsmo.problems.tasks import detect_recurring_incidents

pytestmark = pytest.mark.django_db


def test_the_job_is_scheduled_every_six_hours():
    job = next(j for j in SCHEDULE if j.name == "problems.detect")
    assert job.resolve_task() is detect_recurring_incidents
    assert job.interval.total_seconds() == 6 * 3600


def test_the_command_proposes_candidates_and_is_safe_to_run_twice(recurring):
    out = io.StringIO()
    call_command("problems_detect", "--since", "2026-08-01", "--until", "2026-10-01", stdout=out)
    assert "1 candidate(s)" in out.getvalue()
    call_command("problems_detect", "--since", "2026-08-01", "--until", "2026-10-01", stdout=out)
    assert ProblemCandidate.objects.count() == 1


def test_the_command_refuses_a_bad_date(db):
    with pytest.raises(CommandError, match="--since"):
        call_command("problems_detect", "--since", "yesterday")


def test_the_task_runs(recurring, frozen_october):
    result = detect_recurring_incidents.enqueue()
    assert result.return_value == 1
    assert ProblemCandidate.objects.count() == 1


@pytest.fixture
def frozen_october(monkeypatch):
    import datetime as dt

    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 10, 1, tzinfo=dt.UTC))
