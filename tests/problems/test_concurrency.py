"""Concurrent analysts: a candidate is accepted once, stale problem writes lose. Real threads
against the real database (``transaction=True``)."""

from __future__ import annotations

import datetime as dt

import pytest

from itsmo.core.errors import StaleVersion, TransitionNotAllowed
from itsmo.problems import services
from itsmo.problems.models import CandidateState, Problem, ProblemCandidate
from tests.concurrency import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)
UNTIL = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def test_a_candidate_accepted_by_two_analysts_at_once_makes_one_problem(recurring, agent_mexico):
    candidate = services.detect_candidates(until=UNTIL)[0]

    def work(index):
        return services.accept_candidate(
            ProblemCandidate.objects.get(pk=candidate.pk), actor=agent_mexico
        ).number

    results = run_in_threads(3, work)
    numbers = [r for r in results if isinstance(r, str)]
    assert len(numbers) == 1, results
    assert all(isinstance(r, TransitionNotAllowed) for r in results if r not in numbers)
    assert Problem.objects.count() == 1
    assert Problem.objects.get().incidents.count() == 5
    assert ProblemCandidate.objects.get().state == CandidateState.ACCEPTED


def test_two_edits_of_the_same_version_one_wins(problem_mexico, agent_mexico):
    version = problem_mexico.version

    def work(index):
        return services.update_problem(
            Problem.objects.get(pk=problem_mexico.pk),
            actor=agent_mexico,
            version=version,
            title=f"Edit {index}",
        ).title

    results = run_in_threads(2, work)
    assert sum(isinstance(r, str) for r in results) == 1, results
    assert sum(isinstance(r, StaleVersion) for r in results) == 1
