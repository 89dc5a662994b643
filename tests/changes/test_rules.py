"""Pure rules: approval policies, the risk questionnaire and the impact level."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from itsmo.changes import risk
from itsmo.changes.models import LIFECYCLE, Status
from itsmo.core.states import table

from .conftest import HIGH_ANSWERS, LOW_ANSWERS


@pytest.mark.parametrize(
    ("policy", "decisions", "outcome"),
    [
        ("all", ["approved", "approved"], "approved"),
        ("all", ["approved", "requested"], "requested"),
        ("all", ["approved", "rejected"], "rejected"),
        ("any", ["requested", "approved", "requested"], "approved"),
        ("any", ["rejected", "requested"], "rejected"),
        ("any", ["requested", "requested"], "requested"),
        ("majority", ["approved", "approved", "requested"], "approved"),
        ("majority", ["approved", "requested", "requested"], "requested"),
        ("majority", ["rejected", "rejected", "requested"], "rejected"),
        ("majority", ["approved", "rejected", "requested", "requested"], "requested"),
        ("majority", ["approved", "rejected", "rejected", "requested"], "rejected"),
        ("majority", ["approved", "approved", "rejected", "rejected"], "rejected"),
        ("all", [], "approved"),
    ],
)
def test_policy_outcome(policy, decisions, outcome):
    assert risk.policy_outcome(policy, decisions) == outcome


def test_unknown_policy_is_an_error():
    with pytest.raises(ValueError):
        risk.policy_outcome("dictator", ["approved"])


def test_questionnaire_levels():
    assert risk.level_for_score(risk.score(LOW_ANSWERS)) == "low"
    assert risk.level_for_score(risk.score(HIGH_ANSWERS)) == "high"
    moderate = {**LOW_ANSWERS, "tested": "partly", "outage": "short"}
    assert risk.level_for_score(risk.score(moderate)) == "moderate"


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({k: v for k, v in LOW_ANSWERS.items() if k != "tested"}, "tested"),
        ({**LOW_ANSWERS, "tested": "maybe"}, "tested"),
        ({**LOW_ANSWERS, "color": "blue"}, "color"),
    ],
)
def test_questionnaire_refuses_bad_answers(answers, field):
    with pytest.raises(risk.InvalidAnswers) as error:
        risk.score(answers)
    assert error.value.field == field


def test_high_impact_raises_the_risk_one_level():
    assert risk.combined_risk("low", 1) == "moderate"
    assert risk.combined_risk("moderate", 1) == "high"
    assert risk.combined_risk("high", 1) == "high"
    assert risk.combined_risk("low", 3) == "low"


def test_impact_level():
    assert risk.impact_level(critical_services=1, services=1, countries=1, processes=0) == 1
    assert risk.impact_level(critical_services=0, services=0, countries=3, processes=0) == 1
    assert risk.impact_level(critical_services=0, services=1, countries=1, processes=0) == 2
    assert risk.impact_level(critical_services=0, services=0, countries=1, processes=0) == 3


def test_lifecycle_table_reaches_every_state_and_final_states_are_terminal():
    edges = list(table(LIFECYCLE))
    assert {target for _s, target in edges} | {Status.NEW} == set(Status.values)
    assert not LIFECYCLE.targets_from(Status.CLOSED)
    assert not LIFECYCLE.targets_from(Status.CANCELLED)
    assert Status.CANCELLED not in LIFECYCLE.targets_from(Status.IMPLEMENT)


PATHS = {
    "standard": {"new", "scheduled", "implement", "review", "closed", "cancelled"},
    "normal": set(Status.values),
    "emergency": set(Status.values) - {"assess"},
}


@given(
    type=st.sampled_from(["standard", "normal", "emergency"]),
    choices=st.lists(st.integers(min_value=0, max_value=10), max_size=30),
    approved=st.booleans(),
    reviewed=st.booleans(),
)
def test_random_walks_stay_on_the_type_path(type, choices, approved, reviewed):
    """Whatever moves are tried, a change only visits its type's states, reaches Implement
    only approved (or standard) and Closed only with its review when one is needed."""
    import datetime as dt

    from itsmo.changes.models import Change

    start = dt.datetime(2026, 10, 5, tzinfo=dt.UTC)
    change = Change(
        type=type,
        status=Status.NEW,
        implementation_plan="plan",
        backout_plan="back out",
        risk="low",
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1),
        approval="approved" if approved else "requested",
        close_code="successful",
        review_notes="done" if reviewed else "",
    )
    for choice in choices:
        targets = LIFECYCLE.available(change)
        if not targets:
            break
        LIFECYCLE.apply(change, targets[choice % len(targets)])
        assert change.status in PATHS[type]
        if change.status == Status.IMPLEMENT:
            assert type == "standard" or approved
        if change.status == Status.CLOSED:
            assert reviewed or type == "standard"
