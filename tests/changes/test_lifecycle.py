"""The lifecycle per type, its guards, approvals and the post-implementation review."""

from __future__ import annotations

import pytest

from itsmo.changes import services
from itsmo.changes.models import (
    LIFECYCLE,
    ApprovalState,
    ChangeType,
    CloseCode,
    RequestState,
    Status,
)
from itsmo.core.errors import PermissionDenied, TransitionNotAllowed, ValidationFailed
from itsmo.core.models import JournalEntry


def test_standard_change_from_template_skips_assessment_and_cab(
    new_change, template, agent_mexico, advance
):
    change = new_change(ChangeType.STANDARD, template=template, title="Patch srv-mx-db-01")

    assert change.implementation_plan == template.implementation_plan
    assert change.risk == "low"
    assert not change.is_cab_required
    assert LIFECYCLE.refusal(change, Status.ASSESS) is not None
    advance(change, agent_mexico, "schedule", "scheduled", "implement")
    services.transition(change, Status.REVIEW, actor=agent_mexico, close_code=CloseCode.SUCCESSFUL)
    services.transition(change, Status.CLOSED, actor=agent_mexico)

    assert change.status == Status.CLOSED
    assert change.actual_start and change.actual_end and change.closed_at
    assert not change.approval_requests.exists()


def test_standard_change_needs_a_template(new_change):
    with pytest.raises(ValidationFailed) as error:
        new_change(ChangeType.STANDARD)
    assert error.value.field == "template"


def test_normal_change_goes_through_assess_authorise_and_cab(
    new_change, agent_mexico, rules, cab_members, advance
):
    change = new_change()
    advance(change, agent_mexico, "assess", "risk_low", "schedule", "authorise")

    assert change.approval == ApprovalState.REQUESTED
    request = change.approval_requests.get()
    assert request.name == "CAB" and request.policy == "majority"
    assert request.approvals.count() == 3

    services.decide(change, actor=cab_members[0], decision="approved", comment="ok")
    change.refresh_from_db()
    assert change.status == Status.AUTHORISE
    services.decide(change, actor=cab_members[1], decision="approved")
    change.refresh_from_db()

    assert change.approval == ApprovalState.APPROVED
    assert change.status == Status.SCHEDULED  # approved with a window: scheduled
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
    assert request.approvals.filter(state=RequestState.CANCELLED).count() == 1


def test_high_risk_normal_change_also_needs_the_regional_managers(
    new_change, agent_mexico, rules, cab_members, manager_mexico, advance
):
    change = new_change()
    advance(change, agent_mexico, "assess", "risk_high", "schedule", "authorise")

    assert change.risk == "high"
    assert sorted(change.approval_requests.values_list("name", flat=True)) == [
        "CAB",
        "Regional IT managers (high risk)",
    ]
    for member in cab_members[:2]:
        services.decide(change, actor=member, decision="approved")
    change.refresh_from_db()
    assert change.status == Status.AUTHORISE  # the managers have not decided yet
    services.decide(change, actor=manager_mexico, decision="approved")
    change.refresh_from_db()
    assert change.status == Status.SCHEDULED


def test_cannot_implement_without_approvals(new_change, agent_mexico, rules, advance):
    change = new_change()
    advance(change, agent_mexico, "assess", "risk_low", "schedule", "authorise")

    with pytest.raises(TransitionNotAllowed):
        services.transition(change, Status.IMPLEMENT, actor=agent_mexico)
    with pytest.raises(ValidationFailed) as error:
        services.transition(change, Status.SCHEDULED, actor=agent_mexico)
    assert error.value.field == "approval"
    change.refresh_from_db()
    assert change.status == Status.AUTHORISE


def test_rejection_sends_a_normal_change_back_to_new(
    new_change, agent_mexico, rules, cab_members, advance
):
    change = new_change()
    advance(change, agent_mexico, "assess", "risk_low", "schedule", "authorise")

    with pytest.raises(ValidationFailed) as error:
        services.decide(change, actor=cab_members[0], decision="rejected")
    assert error.value.field == "comment"
    services.decide(change, actor=cab_members[0], decision="rejected", comment="Not in Q4")
    services.decide(change, actor=cab_members[1], decision="rejected", comment="Agreed")
    change.refresh_from_db()

    assert change.status == Status.NEW
    assert change.approval == ApprovalState.REJECTED
    assert not change.approval_requests.filter(state=RequestState.REQUESTED).exists()
    bodies = list(JournalEntry.objects.for_record(change).values_list("body", flat=True))
    assert any("Not in Q4" in body for body in bodies)


def test_emergency_change_goes_to_ecab_and_rejection_cancels_it(
    new_change, agent_mexico, rules, cab_members, advance
):
    change = new_change(ChangeType.EMERGENCY, title="Hotfix")
    assert change.is_emergency
    with pytest.raises(TransitionNotAllowed):
        services.transition(change, Status.ASSESS, actor=agent_mexico)
    advance(change, agent_mexico, "risk_low", "authorise")
    assert change.approval_requests.get().name == "ECAB"

    services.decide(change, actor=cab_members[0], decision="rejected", comment="Too risky")
    change.refresh_from_db()

    assert change.status == Status.CANCELLED


def test_emergency_change_any_ecab_member_approves(
    new_change, agent_mexico, rules, cab_members, advance
):
    change = new_change(ChangeType.EMERGENCY, title="Hotfix")
    advance(change, agent_mexico, "risk_low", "schedule", "authorise")

    services.decide(change, actor=cab_members[1], decision="approved")
    change.refresh_from_db()

    assert change.status == Status.SCHEDULED


def test_only_a_listed_approver_decides(new_change, agent_mexico, rules, advance):
    change = new_change()
    advance(change, agent_mexico, "assess", "risk_low", "schedule", "authorise")

    with pytest.raises(PermissionDenied):
        services.decide(change, actor=agent_mexico, decision="approved")


def test_no_applicable_rule_approves_at_once(new_change, agent_mexico, advance):
    change = new_change()
    advance(change, agent_mexico, "assess", "risk_low", "schedule", "authorise")

    assert change.approval == ApprovalState.APPROVED
    assert change.status == Status.SCHEDULED


def test_overdue_approvals_expire_as_rejected(new_change, agent_mexico, rules, advance):
    import datetime as dt

    from django.utils import timezone

    change = new_change()
    advance(change, agent_mexico, "assess", "risk_low", "schedule", "authorise")

    assert services.expire_overdue_approvals(now=timezone.now() + dt.timedelta(hours=71)) == 0
    assert services.expire_overdue_approvals(now=timezone.now() + dt.timedelta(hours=73)) == 1
    change.refresh_from_db()
    assert change.status == Status.NEW
    assert change.approval == ApprovalState.REJECTED


@pytest.mark.parametrize(
    ("missing", "field"),
    [("implementation_plan", "implementation_plan"), ("backout_plan", "backout_plan")],
)
def test_assessment_needs_the_plans(new_change, agent_mexico, missing, field):
    change = new_change(**{missing: ""})

    with pytest.raises(ValidationFailed) as error:
        services.transition(change, Status.ASSESS, actor=agent_mexico)

    assert error.value.field == field
    change.refresh_from_db()
    assert change.status == Status.NEW


def test_authorisation_needs_the_risk(new_change, agent_mexico, advance):
    change = new_change()
    advance(change, agent_mexico, "assess")

    with pytest.raises(ValidationFailed) as error:
        services.transition(change, Status.AUTHORISE, actor=agent_mexico)
    assert error.value.field == "risk"


def _implemented(change, actor, advance, rules_cab, close_code):
    advance(change, actor, "assess", "risk_low", "schedule", "authorise")
    for member in rules_cab[:2]:
        services.decide(change, actor=member, decision="approved")
    change.refresh_from_db()
    services.transition(change, Status.IMPLEMENT, actor=actor)
    with pytest.raises(ValidationFailed) as error:
        services.transition(change, Status.REVIEW, actor=actor)
    assert error.value.field == "close_code"
    services.transition(change, Status.REVIEW, actor=actor, close_code=close_code)
    return change


@pytest.mark.parametrize("outcome", list(CloseCode))
def test_pir_is_mandatory_for_normal_changes(
    new_change, agent_mexico, rules, cab_members, advance, outcome
):
    change = _implemented(new_change(), agent_mexico, advance, cab_members, outcome)

    with pytest.raises(ValidationFailed) as error:
        services.transition(change, Status.CLOSED, actor=agent_mexico)
    assert error.value.field == "review_notes"
    services.update_change(
        change, actor=agent_mexico, version=change.version, review_notes="Went as planned."
    )
    services.transition(change, Status.CLOSED, actor=agent_mexico)

    assert change.status == Status.CLOSED
    assert change.close_code == outcome
    assert change.reviewed_by == agent_mexico


def test_failed_standard_change_needs_a_pir(new_change, template, agent_mexico, advance):
    change = new_change(ChangeType.STANDARD, template=template)
    advance(change, agent_mexico, "schedule", "scheduled", "implement")
    services.transition(change, Status.REVIEW, actor=agent_mexico, close_code=CloseCode.FAILED)

    with pytest.raises(ValidationFailed):
        services.transition(change, Status.CLOSED, actor=agent_mexico)


def test_closed_change_cannot_change(new_change, template, agent_mexico, advance):
    change = new_change(ChangeType.STANDARD, template=template)
    advance(change, agent_mexico, "cancelled")

    with pytest.raises(TransitionNotAllowed):
        services.update_change(change, actor=agent_mexico, version=change.version, title="x")


def test_plans_are_frozen_during_implementation(new_change, template, agent_mexico, advance):
    change = new_change(ChangeType.STANDARD, template=template)
    advance(change, agent_mexico, "schedule", "scheduled", "implement")

    with pytest.raises(ValidationFailed) as error:
        services.update_change(
            change, actor=agent_mexico, version=change.version, backout_plan="none"
        )
    assert error.value.field == "backout_plan"


def test_end_user_cannot_raise_changes(end_user_mexico, mexico):
    with pytest.raises(PermissionDenied):
        services.create_change(actor=end_user_mexico, title="Mine", country=mexico)


def test_every_state_change_is_journaled(new_change, template, agent_mexico, advance):
    change = new_change(ChangeType.STANDARD, template=template)
    advance(change, agent_mexico, "schedule", "scheduled", "implement")

    moves = JournalEntry.objects.for_record(change).filter(kind="state_change")
    assert [(e.old_value, e.new_value) for e in moves] == [
        ("new", "scheduled"),
        ("scheduled", "implement"),
    ]
