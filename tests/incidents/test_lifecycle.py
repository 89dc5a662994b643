"""The lifecycle table: every move, its guards, and random walks through it (Hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from itsmo.core.errors import PermissionDenied, TransitionNotAllowed, ValidationFailed
from itsmo.core.states import table
from itsmo.incidents import services
from itsmo.incidents.models import LIFECYCLE, Incident, Status

EXPECTED = {
    ("new", "in_progress"),
    ("new", "on_hold"),
    ("new", "resolved"),
    ("new", "cancelled"),
    ("in_progress", "on_hold"),
    ("in_progress", "resolved"),
    ("in_progress", "cancelled"),
    ("on_hold", "in_progress"),
    ("on_hold", "resolved"),
    ("on_hold", "cancelled"),
    ("resolved", "in_progress"),
    ("resolved", "closed"),
}


def test_the_table_is_exactly_the_documented_one():
    assert set(table(LIFECYCLE)) == EXPECTED
    assert LIFECYCLE.targets_from("closed") == []
    assert LIFECYCLE.targets_from("cancelled") == []


def test_resolving_needs_a_code_and_notes(incident_mexico, agent_mexico):
    with pytest.raises(ValidationFailed) as error:
        services.transition(incident_mexico, "resolved", actor=agent_mexico)
    assert error.value.field == "resolution_code"
    with pytest.raises(ValidationFailed) as error:
        services.transition(
            incident_mexico, "resolved", actor=agent_mexico, resolution_code="fixed"
        )
    assert error.value.field == "resolution_notes"
    with pytest.raises(ValidationFailed):
        services.resolve(incident_mexico, actor=agent_mexico, code="magic", notes="x")
    incident_mexico.refresh_from_db()
    assert incident_mexico.status == Status.NEW and incident_mexico.version == 1


def test_on_hold_needs_a_reason(incident_mexico, agent_mexico):
    with pytest.raises(ValidationFailed) as error:
        services.transition(incident_mexico, "on_hold", actor=agent_mexico)
    assert error.value.field == "reason"
    services.transition(incident_mexico, "on_hold", actor=agent_mexico, reason="awaiting_vendor")
    assert incident_mexico.on_hold_reason == "awaiting_vendor"
    services.transition(incident_mexico, "in_progress", actor=agent_mexico)
    assert incident_mexico.on_hold_reason == ""


def test_reopen_counts_and_clears_the_resolution(incident_mexico, agent_mexico, end_user_mexico):
    services.resolve(incident_mexico, actor=agent_mexico, code="workaround", notes="Restarted")
    assert incident_mexico.resolved_at is not None and incident_mexico.resolved_by == agent_mexico
    services.reopen(incident_mexico, actor=end_user_mexico, reason="Broken again")
    assert incident_mexico.status == Status.IN_PROGRESS
    assert incident_mexico.reopen_count == 1
    assert incident_mexico.resolved_at is None and incident_mexico.resolution_code == ""


def test_end_users_may_only_reopen(incident_mexico, end_user_mexico, agent_mexico):
    with pytest.raises(PermissionDenied):
        services.transition(incident_mexico, "cancelled", actor=end_user_mexico)
    services.resolve(incident_mexico, actor=agent_mexico, code="fixed", notes="ok")
    with pytest.raises(PermissionDenied):
        services.transition(incident_mexico, "closed", actor=end_user_mexico)


def test_closed_and_cancelled_are_final(incident_mexico, agent_mexico):
    services.transition(incident_mexico, "cancelled", actor=agent_mexico)
    for target in ("in_progress", "resolved", "closed", "new"):
        with pytest.raises(TransitionNotAllowed):
            services.transition(incident_mexico, target, actor=agent_mexico)
    with pytest.raises(TransitionNotAllowed):
        services.update_incident(
            incident_mexico, actor=agent_mexico, version=incident_mexico.version, impact=1
        )


def test_every_state_change_is_journaled(incident_mexico, agent_mexico):
    from itsmo.core.journal import timeline

    services.transition(incident_mexico, "in_progress", actor=agent_mexico)
    services.resolve(incident_mexico, actor=agent_mexico, code="fixed", notes="Swapped toner")
    entries = [(e.kind, e.old_value, e.new_value) for e in timeline(incident_mexico)]
    assert entries[0][0] == "created"
    assert ("state_change", "new", "in_progress") in entries
    assert ("state_change", "in_progress", "resolved") in entries
    last = list(timeline(incident_mexico))[-1]
    assert "Swapped toner" in last.body and last.actor == agent_mexico


MOVES = st.lists(
    st.sampled_from([s.value for s in Status if s != Status.NEW]), min_size=1, max_size=12
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(moves=MOVES)
def test_random_walks_follow_the_table(open_mexico_incident, agent_mexico, moves):
    incident = open_mexico_incident(impact=2, urgency=2)
    reopens = 0
    for target in moves:
        before = incident.status
        allowed = LIFECYCLE.find(before, target) is not None
        try:
            services.transition(
                incident,
                target,
                actor=agent_mexico,
                reason="awaiting_caller",
                resolution_code="fixed",
                resolution_notes="done",
            )
        except TransitionNotAllowed:
            assert not allowed
            assert Incident.objects.get(pk=incident.pk).status == before
            continue
        assert allowed, (before, target)
        stored = Incident.objects.get(pk=incident.pk)
        assert stored.status == target
        if before == Status.RESOLVED and target == Status.IN_PROGRESS:
            reopens += 1
        assert stored.reopen_count == reopens
        assert (stored.resolved_at is not None) == (target in ("resolved", "closed"))
        assert (stored.on_hold_reason != "") == (target == "on_hold")
