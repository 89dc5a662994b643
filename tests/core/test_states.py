"""The transition-table helper: only declared moves, guards respected, effects run."""

from dataclasses import dataclass

import pytest
from hypothesis import given, strategies as st

from itsmo.core.errors import TransitionNotAllowed
from itsmo.core.states import StateMachine, Transition


@dataclass
class Ticket:
    status: str = "new"
    resolution: str = ""
    resolved_count: int = 0


def needs_resolution(ticket, **_):
    return None if ticket.resolution else "a resolution is required"


def count_resolution(ticket, **_):
    ticket.resolved_count += 1


LIFECYCLE = StateMachine(
    "status",
    [
        Transition("new", "in_progress"),
        Transition(
            ("new", "in_progress"), "resolved", guard=needs_resolution, effect=count_resolution
        ),
        Transition("resolved", "in_progress"),
        Transition("resolved", "closed"),
        Transition(("new", "in_progress"), "cancelled"),
    ],
)
STATES = sorted(LIFECYCLE.states())


def test_guard_blocks_with_its_reason_and_leaves_state():
    ticket = Ticket(status="in_progress")
    with pytest.raises(TransitionNotAllowed, match="resolution is required"):
        LIFECYCLE.apply(ticket, "resolved")
    assert ticket.status == "in_progress"


def test_effect_runs_on_allowed_move():
    ticket = Ticket(status="in_progress", resolution="rebooted")
    assert LIFECYCLE.apply(ticket, "resolved") == ("in_progress", "resolved")
    assert (ticket.status, ticket.resolved_count) == ("resolved", 1)


def test_available_lists_only_passing_targets():
    assert sorted(LIFECYCLE.available(Ticket())) == ["cancelled", "in_progress"]
    assert sorted(LIFECYCLE.available(Ticket(resolution="x"))) == [
        "cancelled",
        "in_progress",
        "resolved",
    ]


def test_duplicate_transition_is_a_declaration_error():
    with pytest.raises(ValueError, match="duplicate"):
        StateMachine("status", [Transition("a", "b"), Transition(("a", "c"), "b")])


@given(st.lists(st.sampled_from(STATES), max_size=30), st.booleans())
def test_random_walks_only_follow_the_table(targets, has_resolution):
    ticket = Ticket(resolution="fixed" if has_resolution else "")
    for target in targets:
        before = ticket.status
        allowed = target in LIFECYCLE.available(ticket)
        if allowed:
            LIFECYCLE.apply(ticket, target)
            assert LIFECYCLE.find(before, target) is not None
            assert ticket.status == target
        else:
            with pytest.raises(TransitionNotAllowed):
                LIFECYCLE.apply(ticket, target)
            assert ticket.status == before
    assert ticket.status in STATES
