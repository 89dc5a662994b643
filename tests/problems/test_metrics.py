"""The problem KPIs registered with the indicator registry."""

from __future__ import annotations

import datetime as dt

import pytest

from itsmo.core import metrics
from itsmo.core.metrics import Slice
from itsmo.problems import services
from itsmo.problems.models import Status

pytestmark = pytest.mark.django_db
YEAR = Slice(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC))


def test_problem_metrics_are_registered():
    ids = {m.id for m in metrics.all_metrics("problems")}
    assert {"problems.opened", "problems.known_errors", "problems.candidates_pending"} <= ids


def test_counts_shares_and_candidates(recurring, agent_mexico, mexico, brazil, frozen_in_2026):
    candidate = services.detect_candidates(until=dt.datetime(2026, 10, 1, tzinfo=dt.UTC))[0]
    assert metrics.compute("problems.candidates_pending", YEAR) == 1
    problem = services.accept_candidate(candidate, actor=agent_mexico)
    services.transition(problem, Status.ROOT_CAUSE_ANALYSIS, actor=agent_mexico)
    services.transition(
        problem, Status.KNOWN_ERROR, actor=agent_mexico, root_cause="Lock", workaround="Retry"
    )
    assert metrics.compute("problems.opened", YEAR) == 1
    assert metrics.compute("problems.known_errors", YEAR) == 1
    assert metrics.compute("problems.incidents_with_problem_share", YEAR) == 1.0
    assert metrics.compute("problems.candidates_pending", YEAR) == 0
    assert metrics.compute("problems.opened", Slice(YEAR.start, YEAR.end, country=brazil)) == 0
    assert metrics.compute("problems.time_to_known_error.median", YEAR) == 0.0


@pytest.fixture
def frozen_in_2026(monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 10, 2, tzinfo=dt.UTC))
