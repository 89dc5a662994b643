"""The demo problems: known errors for the planted recurring incidents, one candidate left."""

from __future__ import annotations

import pytest

from itsmo.core import demo
from itsmo.problems.models import CandidateState, Problem, ProblemCandidate, Status
from itsmo.search import services as search


@pytest.fixture(autouse=True)
def tasks_at_once(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.mark.django_db(transaction=False)
def test_the_demo_has_known_errors_and_a_candidate_to_accept():
    ctx = demo.run(scale="small", password="demo-password-1", only=["problems"])

    problems = list(Problem.objects.all())
    assert len(problems) == 3
    known = [p for p in problems if p.status == Status.KNOWN_ERROR]
    assert len(known) == 2 and all(p.root_cause and p.workaround for p in known)
    assert all(p.incidents.exists() for p in problems)
    proposed = ProblemCandidate.objects.filter(state=CandidateState.PROPOSED)
    assert proposed.exists()
    assert ctx.data["problem_candidates"]
    # The planted burst on a recurring CI left unlinked is among the proposals.
    assert any(c.incident_count >= 5 and c.ci_id for c in proposed)
    # Each problem manager can see the problem they manage, and find it by its number and by
    # the words of its analysis.
    for problem in problems:
        assert Problem.objects.visible_to(problem.problem_manager).filter(pk=problem.pk).exists()
        found = search.search(Problem, problem.number, problem.problem_manager)
        assert list(found) == [problem]
    for problem in known:
        found = search.search(Problem, problem.root_cause, problem.problem_manager)
        assert problem in found
