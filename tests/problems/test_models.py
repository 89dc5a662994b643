"""The transition tables, checked as tables (no database)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, strategies as st

from itsmo.core.errors import TransitionNotAllowed
from itsmo.problems.models import (
    FINAL_STATES,
    LIFECYCLE,
    OPEN_STATES,
    TASK_LIFECYCLE,
    Status,
    TaskStatus,
)


@dataclass
class Record:
    """Just what the guards read; a problem with everything documented."""

    status: str = Status.NEW
    problem_manager_id: int | None = 1
    root_cause: str = "Lock"
    workaround: str = "Retry"
    resolution_notes: str = "Risk accepted"
    pk = None

    def has_fixing_change(self) -> bool:
        return False


@given(st.lists(st.sampled_from(Status.values), max_size=30))
def test_any_walk_stays_in_the_table_and_final_states_are_final(targets):
    record = Record()
    for target in targets:
        before = record.status
        allowed = LIFECYCLE.find(before, target) is not None
        try:
            LIFECYCLE.apply(record, target, note="why")
        except TransitionNotAllowed:
            assert not allowed
            assert record.status == before
        else:
            assert allowed and before not in FINAL_STATES
        assert record.status in Status.values


def test_every_open_state_can_be_cancelled_and_only_open_states():
    for state in Status.values:
        can = LIFECYCLE.find(state, Status.CANCELLED) is not None
        assert can == (state in OPEN_STATES)


@pytest.mark.parametrize(
    ("values", "target"),
    [
        ({"problem_manager_id": None}, Status.ASSESSED),
        ({"root_cause": " "}, Status.KNOWN_ERROR),
        ({"workaround": ""}, Status.KNOWN_ERROR),
    ],
)
def test_guards_refuse_what_is_missing(values, target):
    source = Status.ROOT_CAUSE_ANALYSIS if target == Status.KNOWN_ERROR else Status.NEW
    record = Record(status=source, **values)
    assert LIFECYCLE.refusal(record, target) is not None


def test_resolving_without_a_change_needs_a_reason_and_cancelling_a_note():
    record = Record(status=Status.KNOWN_ERROR, resolution_notes="")
    assert LIFECYCLE.refusal(record, Status.RESOLVED) is not None
    assert LIFECYCLE.refusal(record, Status.CANCELLED) is not None
    assert LIFECYCLE.refusal(record, Status.CANCELLED, note="duplicate") is None


def test_tasks_go_between_open_and_done():
    assert TASK_LIFECYCLE.states() == set(TaskStatus.values)
    assert TASK_LIFECYCLE.targets_from(TaskStatus.OPEN) == [TaskStatus.DONE]
