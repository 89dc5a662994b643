"""Moving an authorised change: a window not inside the approved one asks the approvers
again (a new round under the same rules); shrinking keeps the approvals; standard changes
are never asked; a change being implemented cannot move."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from itsmo.changes import services
from itsmo.changes.models import (
    ApprovalState,
    ChangeType,
    CloseCode,
    RequestState,
    Status,
    offered_targets,
)
from itsmo.core.errors import TransitionNotAllowed, ValidationFailed
from itsmo.core.models import JournalEntry

from .conftest import MONDAY, approve as _approve, window


def _move(change, actor, begin, end, **values):
    return services.schedule_change(
        change, actor=actor, planned_start=begin, planned_end=end, **values
    )


def test_the_approval_covers_the_window_it_was_given_for(authorised):
    assert authorised.approval == ApprovalState.APPROVED
    assert (authorised.approved_start, authorised.approved_end) == window()


def test_moving_out_of_the_approved_window_asks_the_cab_again(
    authorised, agent_mexico, cab_members
):
    begin, end = window(hours_from=24)

    found = _move(authorised, agent_mexico, begin, end)

    assert found.approval_requested_again
    authorised.refresh_from_db()
    assert authorised.status == Status.AUTHORISE
    assert authorised.approval == ApprovalState.REQUESTED
    assert authorised.planned_start == begin
    first, second = authorised.approval_requests.order_by("round")
    assert (first.round, first.state) == (1, RequestState.APPROVED)
    assert first.approvals.filter(state=RequestState.APPROVED, comment="Fine by me").count() == 2
    assert (second.round, second.name, second.policy) == (2, "CAB", "majority")
    assert second.state == RequestState.REQUESTED
    assert second.due_at - second.requested_at == dt.timedelta(hours=72)  # the rule's deadline
    assert sorted(second.approvals.values_list("approver__username", flat=True)) == [
        m.username for m in cab_members
    ]
    assert services.pending_approval(authorised, cab_members[0]).request == second


def test_the_journal_keeps_the_earlier_decisions_and_says_why(authorised, agent_mexico):
    _move(authorised, agent_mexico, *window(hours_from=24))

    entries = JournalEntry.objects.for_record(authorised)
    back = entries.get(kind="state_change", old_value="scheduled", new_value="authorise")
    assert back.body == (
        "Window moved from 2026-10-05 22:00–2026-10-06 00:00 UTC to "  # noqa: RUF001
        "2026-10-06 22:00–2026-10-07 00:00 UTC; approval requested again."  # noqa: RUF001
    )
    bodies = list(entries.values_list("body", flat=True))
    assert sum("CAB: approved. Fine by me" in body for body in bodies) == 2
    assert any(body.startswith("Approvals requested (round 2): CAB") for body in bodies)
    approvals = entries.filter(field="approval").values_list("old_value", "new_value")
    assert list(approvals)[-1] == ("approved", "requested")


def test_it_cannot_be_implemented_until_approved_again(authorised, agent_mexico, cab_members):
    _move(authorised, agent_mexico, *window(hours_from=24))

    with pytest.raises(TransitionNotAllowed):
        services.transition(authorised, Status.IMPLEMENT, actor=agent_mexico)
    with pytest.raises(ValidationFailed) as error:
        services.transition(authorised, Status.SCHEDULED, actor=agent_mexico)
    assert error.value.field == "approval"

    _approve(authorised, cab_members[1:])

    assert authorised.status == Status.SCHEDULED
    assert authorised.approval == ApprovalState.APPROVED
    assert (authorised.approved_start, authorised.approved_end) == window(hours_from=24)
    services.transition(authorised, Status.IMPLEMENT, actor=agent_mexico)
    assert authorised.status == Status.IMPLEMENT


def test_a_rejection_in_the_new_round_sends_it_back_to_new(authorised, agent_mexico, cab_members):
    _move(authorised, agent_mexico, *window(hours_from=24))

    for member in cab_members[:2]:
        services.decide(authorised, actor=member, decision="rejected", comment="Not that day")
    authorised.refresh_from_db()

    assert authorised.status == Status.NEW
    assert authorised.approval == ApprovalState.REJECTED
    assert authorised.approved_start is None
    assert authorised.approval_requests.get(round=1).state == RequestState.APPROVED


@pytest.mark.parametrize(
    ("hours_from", "hours"),
    [(0, 2), (0, 1), (1, 1), (0.5, 1)],
    ids=["same", "ends-earlier", "starts-later", "both"],
)
def test_a_window_inside_the_approved_one_keeps_the_approvals(
    authorised, agent_mexico, hours_from, hours
):
    found = _move(authorised, agent_mexico, *window(hours_from=hours_from, hours=hours))

    assert not found.approval_requested_again
    authorised.refresh_from_db()
    assert authorised.status == Status.SCHEDULED
    assert authorised.approval == ApprovalState.APPROVED
    assert (authorised.approved_start, authorised.approved_end) == window()
    assert authorised.approval_requests.count() == 1


@pytest.mark.parametrize(
    ("hours_from", "hours"),
    [(-1, 3), (0, 3), (1, 2), (-1, 2), (24, 2)],
    ids=["wider", "ends-later", "starts-later-ends-later", "starts-earlier", "another-day"],
)
def test_a_window_not_inside_the_approved_one_asks_again(
    authorised, agent_mexico, hours_from, hours
):
    found = _move(authorised, agent_mexico, *window(hours_from=hours_from, hours=hours))

    assert found.approval_requested_again
    authorised.refresh_from_db()
    assert (authorised.status, authorised.approval) == (Status.AUTHORISE, "requested")


def test_shrinking_then_widening_back_stays_within_the_approval(authorised, agent_mexico):
    _move(authorised, agent_mexico, *window(hours_from=0, hours=1))
    found = _move(authorised, agent_mexico, *window())

    assert not found.approval_requested_again
    assert authorised.status == Status.SCHEDULED


def test_after_shrinking_the_journal_names_the_approved_window(authorised, agent_mexico):
    _move(authorised, agent_mexico, *window(hours_from=0, hours=1))
    _move(authorised, agent_mexico, *window(hours_from=1, hours=2))

    back = JournalEntry.objects.for_record(authorised).get(
        new_value="authorise", old_value="scheduled"
    )
    approved = "2026-10-05 22:00–2026-10-06 00:00 UTC"  # noqa: RUF001
    assert f"outside the approved window {approved}" in back.body


def test_standard_change_is_never_asked_again(new_change, template, agent_mexico, advance, rules):
    change = new_change(ChangeType.STANDARD, template=template)
    advance(change, agent_mexico, "schedule", "scheduled")

    found = _move(change, agent_mexico, *window(hours_from=48))

    assert not found.approval_requested_again
    change.refresh_from_db()
    assert change.status == Status.SCHEDULED
    assert change.approval == ApprovalState.NOT_REQUESTED
    assert not change.approval_requests.exists()
    services.transition(change, Status.IMPLEMENT, actor=agent_mexico)


def test_emergency_change_goes_to_the_ecab_again(
    new_change, agent_mexico, rules, cab_members, advance
):
    change = new_change(ChangeType.EMERGENCY, title="Hotfix")
    advance(change, agent_mexico, "risk_low", "schedule", "authorise")
    _approve(change, cab_members[:1])
    assert change.status == Status.SCHEDULED

    found = _move(change, agent_mexico, *window(hours_from=6))

    assert found.approval_requested_again
    change.refresh_from_db()
    assert (change.status, change.approval) == (Status.AUTHORISE, ApprovalState.REQUESTED)
    request = change.approval_requests.get(round=2)
    assert (request.name, request.policy) == ("ECAB", "any")
    assert request.due_at - request.requested_at == dt.timedelta(hours=4)
    assert request.approvals.count() == 2  # the ECAB's members

    services.decide(change, actor=cab_members[1], decision="rejected", comment="Not now")
    change.refresh_from_db()
    assert change.status == Status.CANCELLED  # as on a first round


def test_high_risk_change_gets_every_applicable_rule_again(
    new_change, agent_mexico, rules, cab_members, manager_mexico, advance
):
    change = new_change()
    advance(change, agent_mexico, "assess", "risk_high", "schedule", "authorise")
    _approve(change, [*cab_members[:2], manager_mexico])
    assert change.status == Status.SCHEDULED

    _move(change, agent_mexico, *window(hours_from=24))

    assert sorted(change.approval_requests.filter(round=2).values_list("name", flat=True)) == [
        "CAB",
        "Regional IT managers (high risk)",
    ]


def test_no_applicable_rule_approves_the_new_round_at_once(new_change, agent_mexico, advance):
    change = new_change()
    advance(change, agent_mexico, "assess", "risk_low", "schedule", "authorise")
    assert change.status == Status.SCHEDULED

    found = _move(change, agent_mexico, *window(hours_from=24))

    assert found.approval_requested_again
    change.refresh_from_db()
    assert (change.status, change.approval) == (Status.SCHEDULED, ApprovalState.APPROVED)
    assert (change.approved_start, change.approved_end) == window(hours_from=24)
    moves = JournalEntry.objects.for_record(change).filter(kind="state_change")
    assert [(e.old_value, e.new_value) for e in moves][-2:] == [
        ("scheduled", "authorise"),
        ("authorise", "scheduled"),
    ]


def test_approved_without_a_window_the_first_window_becomes_the_approved_one(
    new_change, agent_mexico, rules, cab_members, advance
):
    change = new_change()
    advance(change, agent_mexico, "assess", "risk_low", "authorise")
    _approve(change, cab_members[:2])
    assert (change.status, change.approved_start) == (Status.AUTHORISE, None)

    found = _move(change, agent_mexico, *window())

    assert not found.approval_requested_again
    change.refresh_from_db()
    assert change.approval == ApprovalState.APPROVED
    assert (change.approved_start, change.approved_end) == window()

    found = _move(change, agent_mexico, *window(hours_from=24))

    assert found.approval_requested_again
    change.refresh_from_db()
    assert (change.status, change.approval) == (Status.AUTHORISE, ApprovalState.REQUESTED)
    assert change.approval_requests.filter(round=2).exists()
    note = JournalEntry.objects.for_record(change).filter(kind="comment").last()
    assert note.body.endswith("; approval requested again.")


def test_a_new_round_is_decided_on_its_own(new_change, agent_mexico, rules, cab_members, advance):
    """A round rejected earlier does not reject the next one (nor approve it)."""
    change = new_change()
    advance(change, agent_mexico, "assess", "risk_low", "schedule", "authorise")
    for member in cab_members[:2]:
        services.decide(change, actor=member, decision="rejected", comment="Rework it")
    change.refresh_from_db()
    assert change.status == Status.NEW
    advance(change, agent_mexico, "assess", "authorise")

    _approve(change, cab_members[:2])

    assert (change.status, change.approval) == (Status.SCHEDULED, ApprovalState.APPROVED)
    assert list(change.approval_requests.values_list("round", "state")) == [
        (1, RequestState.REJECTED),
        (2, RequestState.APPROVED),
    ]


def test_an_overdue_new_round_expires_as_rejected(authorised, agent_mexico):
    _move(authorised, agent_mexico, *window(hours_from=24))

    assert services.expire_overdue_approvals(now=timezone.now() + dt.timedelta(hours=73)) == 1
    authorised.refresh_from_db()
    assert (authorised.status, authorised.approval) == (Status.NEW, ApprovalState.REJECTED)


def test_the_collision_check_still_runs(authorised, new_change, agent_mexico):
    other = new_change(title="Resize the database", cis=("db",))
    _move(other, agent_mexico, *window(hours_from=24))
    version = authorised.version

    with pytest.raises(services.ScheduleConflict) as error:
        _move(authorised, agent_mexico, *window(hours_from=24))

    assert error.value.extra["collisions"][0]["change"] == other.number
    authorised.refresh_from_db()
    assert (authorised.status, authorised.approval) == (Status.SCHEDULED, ApprovalState.APPROVED)
    assert authorised.version == version and authorised.planned_start == MONDAY
    assert authorised.approval_requests.count() == 1

    found = _move(authorised, agent_mexico, *window(hours_from=24), override_reason="Same team")

    assert found.approval_requested_again and not found.is_clear
    assert authorised.status == Status.AUTHORISE
    assert authorised.schedule_override_reason == "Same team"


def test_nobody_sends_a_scheduled_change_back_to_authorise_by_hand(authorised, agent_mexico):
    assert Status.AUTHORISE not in offered_targets(Status.SCHEDULED)

    with pytest.raises(TransitionNotAllowed) as error:
        services.transition(authorised, Status.AUTHORISE, actor=agent_mexico)

    assert error.value.field == "to"
    authorised.refresh_from_db()
    assert authorised.status == Status.SCHEDULED


@pytest.mark.parametrize("state", [Status.IMPLEMENT, Status.REVIEW])
def test_a_change_being_implemented_cannot_be_moved(authorised, agent_mexico, state):
    services.transition(authorised, Status.IMPLEMENT, actor=agent_mexico)
    if state == Status.REVIEW:
        services.transition(
            authorised, Status.REVIEW, actor=agent_mexico, close_code=CloseCode.SUCCESSFUL
        )
    version = authorised.version

    with pytest.raises(TransitionNotAllowed) as error:
        _move(authorised, agent_mexico, *window(hours_from=24))

    assert error.value.field == "status"
    assert "implementation has started" in error.value.message
    authorised.refresh_from_db()
    assert (authorised.status, authorised.version) == (state, version)
    assert authorised.planned_start == MONDAY
    assert authorised.approval == ApprovalState.APPROVED
