"""The write path of changes: create, update, assess risk and impact, schedule (with the
collision and blackout check), transition, approve or reject, review; templates, approval
rules, blackout windows and releases. UI, API, demo and jobs all come through here.

Each operation runs in one transaction: check permission and guard, lock the row, write,
journal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from itsmo.accounts.models import SupportGroup, User
from itsmo.catalog.models import Criticality, Service
from itsmo.cmdb import impact as cmdb_impact
from itsmo.cmdb.models import CI
from itsmo.core import journal, numbering
from itsmo.core.errors import (
    DomainError,
    NotFound,
    PermissionDenied,
    StaleVersion,
    TransitionNotAllowed,
    ValidationFailed,
)
from itsmo.core.versioning import save_versioned
from itsmo.organization.models import Country, Region

from . import collisions, risk
from .models import (
    FINAL_STATES,
    LIFECYCLE,
    SCHEDULABLE_STATES,
    Approval,
    ApprovalRequest,
    ApprovalRule,
    ApprovalState,
    ApproverSource,
    BlackoutWindow,
    Change,
    ChangeCI,
    ChangeTemplate,
    ChangeType,
    CloseCode,
    Deployment,
    DeploymentStatus,
    Policy,
    Release,
    ReleaseStatus,
    RequestState,
    Risk,
    Status,
)

PREFIX = "CHG"
RELEASE_PREFIX = "REL"

#: Fields an update may change (state, schedule, risk and approvals have their own calls).
EDITABLE_FIELDS = (
    "title",
    "description",
    "requester",
    "change_manager",
    "assignee",
    "assignment_group",
    "country",
    "implementation_plan",
    "backout_plan",
    "test_plan",
    "is_cab_required",
    "services",
    "cis",
    "release",
    "close_code",
    "close_notes",
    "review_notes",
)
#: Fields frozen once the change is being implemented (what was approved is what runs).
_FROZEN_FROM_IMPLEMENT = frozenset(
    {"implementation_plan", "backout_plan", "cis", "services", "country", "is_cab_required"}
)


class ScheduleConflict(DomainError):
    """The planned window collides with other changes or blackout windows."""

    status = 409
    title = "Schedule conflict"


# -- helpers -------------------------------------------------------------------------------


def _actor(actor) -> User | None:
    return actor if getattr(actor, "pk", None) else None


def _require_staff(actor, what: str) -> None:
    if actor is not None and not actor.is_staff_member:
        raise PermissionDenied(f"only IT staff may {what}")


def _text(value: Any, field: str, *, required: bool = False, max_length: int | None = None):
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be text", field=field)
    value = value.strip()
    if required and not value:
        raise ValidationFailed(f"{field} is required", field=field)
    if max_length and len(value) > max_length:
        raise ValidationFailed(f"{field} is longer than {max_length} characters", field=field)
    return value


def _check_people(change: Change) -> None:
    for name in ("change_manager", "assignee"):
        person = getattr(change, name)
        if person is not None and (not person.is_active or not person.is_staff_member):
            raise ValidationFailed(f"the {name.replace('_', ' ')} must be active staff", field=name)
    group = change.assignment_group
    if group is not None and not group.is_active:
        raise ValidationFailed(f"group {group.code} is not active", field="assignment_group")
    if (
        group is not None
        and change.assignee is not None
        and not group.members.filter(pk=change.assignee.pk).exists()
    ):
        raise ValidationFailed(f"{change.assignee} is not a member of {group}", field="assignee")


def _lock(change: Change, version: int | None) -> Change:
    locked = Change.objects.select_for_update(of=("self",)).get(pk=change.pk)
    if version is not None and locked.version != version:
        raise StaleVersion(
            f"change {locked.number} was changed by someone else "
            f"(you sent version {version}, it is now {locked.version})",
            current_version=locked.version,
            record=locked,
        )
    return locked


def _refuse_final(change: Change) -> None:
    if change.status in FINAL_STATES:
        raise TransitionNotAllowed(
            f"change {change.number} is {change.status} and cannot change", field="status"
        )


def _sync(target: Change, source: Change) -> None:
    for field in Change._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.fields_cache = {}


def _set_cis(change: Change, cis: Iterable[CI]) -> None:
    wanted = {ci.pk for ci in cis}
    current = set(change.ci_links.values_list("ci_id", flat=True))
    if wanted - current:
        ChangeCI.objects.bulk_create(ChangeCI(change=change, ci_id=pk) for pk in wanted - current)
    if current - wanted:
        ChangeCI.objects.filter(change=change, ci_id__in=current - wanted).delete()


def _numbers(items: Iterable, attr: str) -> str:
    return ", ".join(sorted(str(getattr(i, attr)) for i in items))


def _window_text(start: datetime | None, end: datetime | None) -> str:
    """A window as the journal writes it (UTC; the page shows it in the reader's zone)."""
    if start is None or end is None:
        return "no window"
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    return f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M} UTC"  # noqa: RUF001


# -- creating and updating -------------------------------------------------------------------


def create_change(
    *,
    actor: User | None,
    title: str,
    type: str = ChangeType.NORMAL,
    template: ChangeTemplate | None = None,
    description: str = "",
    requester: User | None = None,
    change_manager: User | None = None,
    assignee: User | None = None,
    assignment_group: SupportGroup | None = None,
    services: Iterable[Service] = (),
    cis: Iterable[CI] = (),
    country: Country | None = None,
    implementation_plan: str = "",
    backout_plan: str = "",
    test_plan: str = "",
    is_cab_required: bool | None = None,
    release: Release | None = None,
    external_source: str = "",
    external_reference: str = "",
    created_at: datetime | None = None,
) -> Change:
    """Raise a change. A standard change comes from an active template: its plans, risk and
    group are the template's (pre-approved, no CAB). A normal change needs the CAB unless
    told otherwise; an emergency change goes to the ECAB."""
    actor = _actor(actor)
    _require_staff(actor, "raise changes")
    if type not in ChangeType.values:
        raise ValidationFailed(f"type must be one of {', '.join(ChangeType.values)}", field="type")
    services = list(services)
    cis = list(cis)
    if type == ChangeType.STANDARD:
        if template is None:
            raise ValidationFailed("a standard change is raised from a template", field="template")
        if not template.is_active:
            raise ValidationFailed(f"template {template.code} is retired", field="template")
        implementation_plan = implementation_plan or template.implementation_plan
        backout_plan = backout_plan or template.backout_plan
        test_plan = test_plan or template.test_plan
        assignment_group = assignment_group or template.assignment_group
        if template.service_id and not services:
            services = [template.service]
    change = Change(
        title=_text(title, "title", required=True, max_length=200),
        description=_text(description, "description"),
        type=type,
        template=template,
        requester=requester or actor,
        change_manager=change_manager,
        assignee=assignee,
        assignment_group=assignment_group,
        country=country
        or (cis[0].country if cis and cis[0].country_id else None)
        or getattr(requester or actor, "country", None),
        implementation_plan=_text(implementation_plan, "implementation_plan"),
        backout_plan=_text(backout_plan, "backout_plan"),
        test_plan=_text(test_plan, "test_plan"),
        is_emergency=type == ChangeType.EMERGENCY,
        is_cab_required=(type != ChangeType.STANDARD)
        if is_cab_required is None
        else bool(is_cab_required) and type != ChangeType.STANDARD,
        release=release,
        external_source=(external_source or "").strip(),
        external_reference=(external_reference or "").strip(),
        created_at=created_at or timezone.now(),
    )
    if type == ChangeType.STANDARD:
        change.risk = template.risk
    change.region_id = change.country.region_id if change.country_id else None
    _check_people(change)
    with transaction.atomic():
        change.number = numbering.next_reference(PREFIX)
        change.save()
        if services:
            change.services.set(services)
        if cis:
            _set_cis(change, cis)
        journal.record_created(change, actor, at=change.created_at)
        if cis:
            _store_impact(change, user=None)
            Change.objects.filter(pk=change.pk).update(
                impact=change.impact,
                impact_summary=change.impact_summary,
                impact_assessed_at=change.impact_assessed_at,
            )
    return change


@transaction.atomic
def update_change(
    change: Change, *, actor: User | None, version: int | None, **changes: Any
) -> Change:
    """Change fields (``EDITABLE_FIELDS``); a stale ``version`` is a 409. New CIs re-run the
    impact analysis (and re-combine the risk when it was assessed)."""
    actor = _actor(actor)
    _require_staff(actor, "edit changes")
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationFailed(f"{unknown[0]} cannot be changed here", field=unknown[0])
    locked = _lock(change, version)
    _refuse_final(locked)
    if locked.status in (Status.IMPLEMENT, Status.REVIEW):
        frozen = sorted(set(changes) & _FROZEN_FROM_IMPLEMENT)
        if frozen:
            raise ValidationFailed(
                f"{frozen[0]} cannot change once the change is being implemented",
                field=frozen[0],
            )
    log: dict[str, tuple[Any, Any]] = {}
    touched: list[str] = []
    cis_changed = False
    for name, value in changes.items():
        if name == "services":
            before = _numbers(locked.services.all(), "code")
            locked.services.set(list(value))
            log[name] = (before, _numbers(value, "code"))
            continue
        if name == "cis":
            before = _numbers(CI.objects.filter(change_links__change=locked), "number")
            _set_cis(locked, list(value))
            after = _numbers(value, "number")
            log[name] = (before, after)
            cis_changed = before != after
            continue
        if name == "title":
            value = _text(value, name, required=True, max_length=200)
        elif name in (
            "description",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "close_notes",
            "review_notes",
        ):
            value = _text(value, name)
        elif name == "is_cab_required":
            value = bool(value) and locked.type != ChangeType.STANDARD
        elif name == "close_code":
            value = value or ""
            if value and value not in CloseCode.values:
                raise ValidationFailed(
                    f"close_code must be one of {', '.join(CloseCode.values)}", field=name
                )
            if value and locked.status not in (Status.IMPLEMENT, Status.REVIEW):
                raise ValidationFailed(
                    "the close code is the outcome of the implementation", field=name
                )
        elif name == "review_notes" and locked.status != Status.REVIEW:
            raise ValidationFailed("the review is written in the Review state", field=name)
        log[name] = (getattr(locked, name), value)
        setattr(locked, name, value)
        touched.append(name)
    if "review_notes" in changes and locked.review_notes:
        locked.reviewed_at = timezone.now()
        locked.reviewed_by = actor
        touched += ["reviewed_at", "reviewed_by"]
    if "country" in changes:
        locked.region_id = locked.country.region_id if locked.country_id else None
        touched.append("region")
    _check_people(locked)
    if cis_changed:
        _store_impact(locked, user=None)
        touched += ["impact", "impact_summary", "impact_assessed_at", "risk"]
    save_versioned(locked, locked.version, sorted(set(touched)))
    journal.record_changes(locked, actor, log)
    _sync(change, locked)
    return change


# -- risk and impact --------------------------------------------------------------------------


def _store_impact(change: Change, *, user) -> None:
    """Run the CMDB impact analysis on the change's CIs and keep its summary on the change."""
    ci_ids = list(change.ci_links.values_list("ci_id", flat=True))
    result = cmdb_impact.impact(ci_ids, limit=500, user=user)
    critical = [s for s in result.services if s.criticality == Criticality.CRITICAL]
    change.impact = risk.impact_level(
        critical_services=len(critical),
        services=len(result.services),
        countries=len(result.countries),
        processes=len(result.business_processes),
    )
    change.impact_summary = {
        "ci_count": result.total,
        "truncated": result.truncated,
        "cis": [c.number for c in result.cis[:50]],
        "services": [
            {"code": s.code, "name": s.name, "criticality": s.criticality} for s in result.services
        ],
        "business_processes": [
            {"code": p.code, "name": p.name, "criticality": p.criticality}
            for p in result.business_processes
        ],
        "countries": result.countries,
    }
    change.impact_assessed_at = timezone.now()
    if change.risk_answers:
        level = risk.level_for_score(change.risk_score or 0)
        change.risk = risk.combined_risk(level, change.impact)


def impact_analysis(change: Change, user=None) -> cmdb_impact.ImpactResult:
    """The full CMDB impact of the change's CIs (names redacted outside ``user``'s scope)."""
    ci_ids = list(change.ci_links.values_list("ci_id", flat=True))
    return cmdb_impact.impact(ci_ids, user=user)


@transaction.atomic
def assess_risk(
    change: Change,
    *,
    actor: User | None,
    answers: Mapping[str, str],
    version: int | None = None,
) -> Change:
    """Score the questionnaire, re-run the impact analysis and store the combined risk."""
    actor = _actor(actor)
    _require_staff(actor, "assess changes")
    locked = _lock(change, version)
    _refuse_final(locked)
    if locked.status not in SCHEDULABLE_STATES:
        raise ValidationFailed("the risk is assessed before implementation", field="answers")
    try:
        value = risk.score(dict(answers))
    except risk.InvalidAnswers as error:
        raise ValidationFailed(str(error), field=f"answers.{error.field}") from None
    before = (locked.risk, locked.impact)
    locked.risk_answers = dict(answers)
    locked.risk_score = value
    _store_impact(locked, user=None)
    locked.risk = risk.combined_risk(risk.level_for_score(value), locked.impact)
    save_versioned(
        locked,
        locked.version,
        ["risk_answers", "risk_score", "risk", "impact", "impact_summary", "impact_assessed_at"],
    )
    journal.record_changes(
        locked, actor, {"risk": (before[0], locked.risk), "impact": (before[1], locked.impact)}
    )
    journal.add_comment(
        locked,
        actor,
        f"Risk assessment: score {value} of {risk.MAX_SCORE}, impact {locked.impact}, "
        f"risk {locked.risk}.",
        internal=True,
    )
    _sync(change, locked)
    return change


# -- scheduling -------------------------------------------------------------------------------


def check_schedule(change: Change, start: datetime, end: datetime) -> collisions.ScheduleCheck:
    if start is None or end is None or end <= start:
        raise ValidationFailed(
            "the planned end must be after the planned start", field="planned_end"
        )
    return collisions.check(change, start, end)


@transaction.atomic
def schedule_change(
    change: Change,
    *,
    actor: User | None,
    planned_start: datetime,
    planned_end: datetime,
    override_reason: str = "",
    version: int | None = None,
) -> collisions.ScheduleCheck:
    """Set the planned window after checking collisions and blackout windows.

    A conflict is refused with :class:`ScheduleConflict` (409) listing what collides,
    unless ``override_reason`` explains why the change must run then anyway; the override
    is journaled with the conflicts it overrode. Returns the check that was made.

    The approvals of a normal or emergency change cover its approved window: moving the
    planned window out of it sends the change back to Authorise with a new round of
    approvals under the same rules as the first (``approval_requested_again`` on the
    returned check); a window inside it (shrinking) keeps them. The first window set after
    an approval given without one becomes the approved window. Standard changes are
    pre-approved. Once implementation has started the window cannot move.
    """
    actor = _actor(actor)
    _require_staff(actor, "schedule changes")
    if planned_start is None:
        raise ValidationFailed("the planned start is required", field="planned_start")
    if planned_end is None:
        raise ValidationFailed("the planned end is required", field="planned_end")
    locked = _lock(change, version)
    _refuse_final(locked)
    if locked.status not in SCHEDULABLE_STATES:
        raise TransitionNotAllowed(
            f"change {locked.number} is in {locked.status}: implementation has started, so "
            "it can no longer be rescheduled",
            field="status",
        )
    found = check_schedule(locked, planned_start, planned_end)
    reason = _text(override_reason, "override_reason", max_length=2000)
    if not found.is_clear and not reason:
        raise ScheduleConflict(
            f"{locked.number} cannot be scheduled then: " + "; ".join(found.reasons()),
            field="planned_start",
            collisions=[c.as_dict() for c in found.collisions],
            blackouts=[b.as_dict() for b in found.blackouts],
        )
    now = timezone.now()
    again = locked.needs_reapproval(planned_start, planned_end)
    first_after_approval = locked.is_authorised and locked.approved_start is None
    before = {"planned_start": locked.planned_start, "planned_end": locked.planned_end}
    approved = (locked.approved_start, locked.approved_end)
    locked.planned_start = planned_start
    locked.planned_end = planned_end
    locked.schedule_override_reason = reason if not found.is_clear else ""
    touched = ["planned_start", "planned_end", "schedule_override_reason"]
    if first_after_approval:
        locked.approved_start, locked.approved_end = planned_start, planned_end
        touched += ["approved_start", "approved_end"]
    save_versioned(locked, locked.version, touched)
    journal.record_changes(
        locked,
        actor,
        {name: (before[name], getattr(locked, name)) for name in before},
        at=now,
    )
    if first_after_approval:
        journal.add_comment(
            locked,
            actor,
            f"Approved without a window: {_window_text(planned_start, planned_end)} is now "
            "the approved window; moving the change out of it asks for approval again.",
            internal=True,
            at=now,
        )
    if not found.is_clear:
        journal.add_comment(
            locked,
            actor,
            "Schedule override: " + reason + "\nOverridden: " + "; ".join(found.reasons()),
            internal=True,
            at=now,
        )
    if again:
        moved_from = _window_text(before["planned_start"], before["planned_end"])
        note = f"Window moved from {moved_from} to {_window_text(planned_start, planned_end)}"
        if approved != (before["planned_start"], before["planned_end"]):
            note += f", outside the approved window {_window_text(*approved)}"
        note += "; approval requested again."
        _request_approvals_again(locked, actor, note, now)
        found.approval_requested_again = True
    _sync(change, locked)
    return found


def _request_approvals_again(change: Change, actor, note: str, now: datetime) -> None:
    """The window left the approved one: back to Authorise and a new round, as the first
    (the earlier decisions stay on their requests and in the journal)."""
    if change.status == Status.SCHEDULED:
        transition(change, Status.AUTHORISE, actor=actor, note=note, now=now)
    else:  # approved in Authorise, not yet moved on: it stays, its approvals do not
        journal.add_comment(change, actor, note, internal=False, at=now)
        _request_approvals(change, actor, now)


# -- lifecycle --------------------------------------------------------------------------------


@transaction.atomic
def transition(
    change: Change,
    to: str,
    *,
    actor: User | None,
    version: int | None = None,
    note: str = "",
    close_code: str = "",
    close_notes: str = "",
    now: datetime | None = None,
) -> Change:
    """Move the change along its type's lifecycle (the table in ``models.LIFECYCLE``).

    Entering Authorise requests the approvals the rules call for; Implement needs them
    granted; entering Review needs the outcome (``close_code``); Closed needs the PIR for
    normal and emergency changes (and failed standard ones)."""
    actor = _actor(actor)
    _require_staff(actor, "move changes")
    now = now or timezone.now()
    if to not in Status.values:
        raise ValidationFailed(f"to must be one of {', '.join(Status.values)}", field="to")
    locked = _lock(change, version)
    _refuse_final(locked)
    old = locked.status
    touched = ["status"]
    if to == Status.REVIEW and close_code:
        if close_code not in CloseCode.values:
            raise ValidationFailed(
                f"close_code must be one of {', '.join(CloseCode.values)}", field="close_code"
            )
        locked.close_code = close_code
        locked.close_notes = _text(close_notes, "close_notes") or locked.close_notes
        touched += ["close_code", "close_notes"]
    if LIFECYCLE.find(old, to) is None:
        raise TransitionNotAllowed(f"a change cannot go from {old} to {to}", field="to")
    refusal = LIFECYCLE.refusal(locked, to, actor=actor)
    if refusal is not None:
        field = _refusal_field(refusal)
        if field == "to":  # the step is not part of this type's lifecycle
            raise TransitionNotAllowed(refusal, field="to")
        raise ValidationFailed(refusal, field=field)
    LIFECYCLE.apply(locked, to, actor=actor)
    if to == Status.IMPLEMENT:
        locked.actual_start = now
        touched.append("actual_start")
    elif to == Status.REVIEW:
        locked.actual_end = now
        touched.append("actual_end")
    elif to == Status.CLOSED:
        locked.closed_at = now
        touched.append("closed_at")
    elif to == Status.CANCELLED:
        locked.cancelled_at = now
        touched.append("cancelled_at")
        _cancel_open_requests(locked, now)
    elif to == Status.NEW:
        _cancel_open_requests(locked, now)
        locked.approval = ApprovalState.NOT_REQUESTED
        locked.approved_start = locked.approved_end = None
        touched += ["approval", "approved_start", "approved_end"]
    save_versioned(locked, locked.version, sorted(set(touched)))
    journal.record_state_change(locked, actor, "status", old, to, note=note.strip(), at=now)
    if to == Status.AUTHORISE:
        _request_approvals(locked, actor, now)
    _sync(change, locked)
    return change


def _refusal_field(message: str) -> str:
    for keyword, field in (
        ("implementation plan", "implementation_plan"),
        ("back-out", "backout_plan"),
        ("risk", "risk"),
        ("planned", "planned_start"),
        ("approved", "approval"),
        ("close code", "close_code"),
        ("review", "review_notes"),
    ):
        if keyword in message:
            return field
    return "to"


# -- approvals --------------------------------------------------------------------------------


def approvers_for(rule: ApprovalRule, change: Change) -> list[User]:
    if rule.source == ApproverSource.GROUP:
        people = rule.group.members.filter(is_active=True) if rule.group_id else User.objects.none()
    elif rule.source == ApproverSource.SERVICE_OWNERS:
        # The services named on the change, else those its impact analysis found.
        codes = [s["code"] for s in (change.impact_summary or {}).get("services", [])]
        affected = change.services.all() or Service.objects.filter(code__in=codes)
        people = User.objects.filter(is_active=True, owned_services__in=affected).distinct()
    else:
        groups = SupportGroup.objects.filter(is_active=True, manager__isnull=False)
        if change.region_id:
            groups = groups.filter(region_id=change.region_id)
        if rule.group_id:
            groups = groups.filter(pk=rule.group_id)
        people = User.objects.filter(is_active=True, managed_groups__in=groups).distinct()
    return list(people.order_by("username"))


def _request_approvals(change: Change, actor, now: datetime) -> None:
    """A new round: one request per applicable rule, with its approvers; none applying
    approves the change at once."""
    rules = [r for r in ApprovalRule.objects.filter(is_active=True) if r.applies_to(change)]
    last = ApprovalRequest.objects.filter(change=change).aggregate(last=Max("round"))["last"]
    round_number = (last or 0) + 1
    created = []
    for rule in rules:
        people = approvers_for(rule, change)
        if not people:
            journal.add_comment(
                change,
                actor,
                f"Approval rule {rule.name!r} has no approvers; skipped.",
                internal=True,
            )
            continue
        request = ApprovalRequest.objects.create(
            change=change,
            rule=rule,
            name=rule.name,
            policy=rule.policy,
            round=round_number,
            requested_at=now,
            due_at=now + timedelta(hours=rule.deadline_hours),
        )
        Approval.objects.bulk_create(Approval(request=request, approver=p) for p in people)
        created.append(f"{rule.name} ({rule.get_policy_display()}: {_numbers(people, 'username')})")
    if not created:
        _grant(change, actor, now)
        journal.add_comment(
            change, actor, "No approval rule applies: approved.", internal=True, at=now
        )
        _after_approved(change, actor, now)
        return
    state = ApprovalState.REQUESTED
    heading = (
        "Approvals requested"
        if round_number == 1
        else f"Approvals requested (round {round_number})"
    )
    Change.objects.filter(pk=change.pk).update(approval=state)
    journal.record_changes(change, actor, {"approval": (change.approval, state)}, at=now)
    journal.add_comment(change, actor, f"{heading}: " + "; ".join(created), internal=True, at=now)
    change.approval = state


def _grant(change: Change, actor, now: datetime) -> None:
    """The change is approved, for its planned window (when it has one yet)."""
    Change.objects.filter(pk=change.pk).update(
        approval=ApprovalState.APPROVED,
        approved_start=change.planned_start,
        approved_end=change.planned_end,
    )
    journal.record_changes(
        change, actor, {"approval": (change.approval, ApprovalState.APPROVED)}, at=now
    )
    change.approval = ApprovalState.APPROVED
    change.approved_start, change.approved_end = change.planned_start, change.planned_end


def _cancel_open_requests(change: Change, now: datetime) -> None:
    open_requests = ApprovalRequest.objects.filter(change=change, state=RequestState.REQUESTED)
    Approval.objects.filter(request__in=open_requests, state=RequestState.REQUESTED).update(
        state=RequestState.CANCELLED, decided_at=now
    )
    open_requests.update(state=RequestState.CANCELLED, decided_at=now)


def _after_approved(change: Change, actor, now: datetime) -> None:
    """Approved in Authorise with a planned window: on to Scheduled, as ServiceNow does."""
    if change.status == Status.AUTHORISE and LIFECYCLE.refusal(change, Status.SCHEDULED) is None:
        transition(
            change,
            Status.SCHEDULED,
            actor=actor,
            note="Approved: scheduled for its planned window.",
            now=now,
        )


def pending_approval(change: Change, user) -> Approval | None:
    """The approval ``user`` still has to give on ``change``, if any."""
    if not getattr(user, "pk", None):
        return None
    return (
        Approval.objects.filter(
            request__change=change,
            request__state=RequestState.REQUESTED,
            approver=user,
            state=RequestState.REQUESTED,
        )
        .select_related("request")
        .first()
    )


@transaction.atomic
def decide(
    change: Change,
    *,
    actor: User,
    decision: str,
    comment: str = "",
    now: datetime | None = None,
) -> Approval:
    """Approve or reject as one of the change's approvers, with a comment (required to
    reject). The request's policy decides when it is approved or rejected; when every
    request is approved the change is; one rejected request rejects the change: a normal
    change goes back to New, an emergency change is cancelled."""
    actor = _actor(actor)
    now = now or timezone.now()
    if decision not in (RequestState.APPROVED, RequestState.REJECTED):
        raise ValidationFailed("decision must be approved or rejected", field="decision")
    text = _text(comment, "comment", max_length=5000)
    if decision == RequestState.REJECTED and not text:
        raise ValidationFailed("say why you reject the change", field="comment")
    locked = _lock(change, None)
    if locked.status != Status.AUTHORISE:
        raise TransitionNotAllowed(
            f"change {locked.number} is not awaiting authorisation", field="decision"
        )
    approval = pending_approval(locked, actor)
    if approval is None:
        raise PermissionDenied(f"you have no pending approval on {locked.number}")
    approval.state = decision
    approval.comment = text
    approval.decided_at = now
    approval.save(update_fields=["state", "comment", "decided_at"])
    request = approval.request
    outcome = risk.policy_outcome(request.policy, request.approvals.values_list("state", flat=True))
    verb = "approved" if decision == RequestState.APPROVED else "rejected"
    journal.add_comment(
        locked,
        actor,
        f"{request.name}: {verb}" + (f". {text}" if text else ""),
        internal=False,
        at=now,
    )
    if outcome != RequestState.REQUESTED:
        request.state = outcome
        request.decided_at = now
        request.save(update_fields=["state", "decided_at"])
        request.approvals.filter(state=RequestState.REQUESTED).update(
            state=RequestState.CANCELLED, decided_at=now
        )
        _settle(locked, actor, now, request.round)
    _sync(change, locked)
    return approval


def _settle(change: Change, actor, now: datetime, round_number: int) -> None:
    """Decide the change from its requests of the current round (earlier rounds' decisions
    stay on record but no longer count)."""
    states = set(
        change.approval_requests.filter(round=round_number)
        .exclude(state=RequestState.CANCELLED)
        .values_list("state", flat=True)
    )
    if RequestState.REJECTED in states:
        _cancel_open_requests(change, now)
        Change.objects.filter(pk=change.pk).update(
            approval=ApprovalState.REJECTED, approved_start=None, approved_end=None
        )
        change.approved_start = change.approved_end = None
        journal.record_changes(change, actor, {"approval": (change.approval, "rejected")}, at=now)
        change.approval = ApprovalState.REJECTED
        target = Status.CANCELLED if change.type == ChangeType.EMERGENCY else Status.NEW
        transition(change, target, actor=actor, note="Rejected by its approvers.", now=now)
        if target == Status.NEW:
            # Reverting resets the approval; keep "rejected" visible until it is asked again.
            Change.objects.filter(pk=change.pk).update(approval=ApprovalState.REJECTED)
            change.approval = ApprovalState.REJECTED
    elif states == {RequestState.APPROVED}:
        _grant(change, actor, now)
        _after_approved(change, actor, now)


def expire_overdue_approvals(*, now: datetime | None = None) -> int:
    """Requests past their deadline are rejected ("no decision in time"); the periodic job."""
    now = now or timezone.now()
    expired = 0
    overdue = ApprovalRequest.objects.filter(
        state=RequestState.REQUESTED, due_at__lt=now, change__status=Status.AUTHORISE
    ).values_list("pk", "change_id")
    for request_id, change_id in list(overdue[:1000]):
        with transaction.atomic():
            change = _lock(Change(pk=change_id), None)
            request = ApprovalRequest.objects.select_for_update().get(pk=request_id)
            if request.state != RequestState.REQUESTED:
                continue
            request.state = RequestState.REJECTED
            request.decided_at = now
            request.save(update_fields=["state", "decided_at"])
            request.approvals.filter(state=RequestState.REQUESTED).update(
                state=RequestState.CANCELLED, decided_at=now
            )
            journal.add_comment(
                change, None, f"{request.name}: no decision by the deadline.", at=now
            )
            _settle(change, None, now, request.round)
            expired += 1
    return expired


# -- comments ----------------------------------------------------------------------------------


@transaction.atomic
def add_comment(change: Change, *, actor: User | None, body: str, internal: bool = False):
    actor = _actor(actor)
    _require_staff(actor, "comment on changes")
    text = _text(body, "body", required=True, max_length=20000)
    locked = _lock(change, None)
    return journal.add_comment(locked, actor, text, internal=internal)


# -- reading ------------------------------------------------------------------------------------


_DETAIL_RELATED = (
    "template",
    "requester",
    "change_manager",
    "assignee",
    "assignment_group",
    "country",
    "region",
    "release",
    "reviewed_by",
)


def get_visible(number: str, user) -> Change:
    change = (
        Change.objects.visible_to(user)
        .select_related(*_DETAIL_RELATED)
        .filter(number=(number or "").upper())
        .first()
    )
    if change is None:
        raise NotFound(f"no change {number}")
    return change


def reload(change: Change) -> Change:
    return Change.objects.select_related(*_DETAIL_RELATED).get(pk=change.pk)


def calendar(
    user,
    start: datetime,
    end: datetime,
    *,
    country: Country | None = None,
    service: Service | None = None,
    ci: CI | None = None,
):
    """Active and past changes whose planned window overlaps ``[start, end)``, and the
    blackout windows in it, filtered by country, service or CI."""
    if end <= start:
        raise ValidationFailed("to must be after from", field="to")
    if end - start > timedelta(days=93):
        raise ValidationFailed("the calendar shows at most 93 days at once", field="to")
    changes = (
        Change.objects.visible_to(user)
        .exclude(status=Status.CANCELLED)
        .overlapping(start, end)
        .select_related("country", "assignment_group")
    )
    blackouts = (
        BlackoutWindow.objects.active().overlapping(start, end).select_related("country", "region")
    )
    if country is not None:
        changes = changes.filter(country=country)
        blackouts = blackouts.filter(
            Q(country=country)
            | Q(country__isnull=True, region_id=country.region_id)
            | Q(country__isnull=True, region__isnull=True)
        )
    if service is not None:
        changes = changes.filter(services=service)
    if ci is not None:
        changes = changes.filter(ci_links__ci=ci)
    return changes.order_by("planned_start", "id").distinct(), blackouts.order_by("start_at")


# -- templates, rules, blackouts ---------------------------------------------------------------


def _require_manager(actor, what: str) -> None:
    from itsmo.accounts.models import Role

    if actor is not None and not actor.has_role(
        Role.ADMINISTRATOR, Role.PROCESS_OWNER, Role.GROUP_MANAGER
    ):
        raise PermissionDenied(f"only change managers (process owners, group managers) may {what}")


@transaction.atomic
def create_template(*, actor: User | None, code: str, name: str, **values: Any) -> ChangeTemplate:
    actor = _actor(actor)
    _require_manager(actor, "define standard changes")
    code = _text(code, "code", required=True, max_length=60)
    if ChangeTemplate.objects.filter(code__iexact=code).exists():
        raise ValidationFailed(f"a template {code!r} exists already", field="code")
    name = _text(name, "name", required=True, max_length=150)
    if ChangeTemplate.objects.filter(name__iexact=name).exists():
        raise ValidationFailed(f"a template named {name!r} exists already", field="name")
    for field in ("implementation_plan", "backout_plan"):
        values[field] = _text(values.get(field), field, required=True)
    if values.get("risk", Risk.LOW) not in Risk.values:
        raise ValidationFailed(f"risk must be one of {', '.join(Risk.values)}", field="risk")
    template = ChangeTemplate.objects.create(code=code, name=name, **values)
    journal.record_created(template, actor)
    return template


@transaction.atomic
def create_approval_rule(*, actor: User | None, name: str, **values: Any) -> ApprovalRule:
    actor = _actor(actor)
    _require_manager(actor, "define approval rules")
    if values.get("policy") not in Policy.values:
        raise ValidationFailed(f"policy must be one of {', '.join(Policy.values)}", field="policy")
    if values.get("source", ApproverSource.GROUP) == ApproverSource.GROUP and not values.get(
        "group"
    ):
        raise ValidationFailed("a group rule needs its group", field="group")
    rule = ApprovalRule.objects.create(name=_text(name, "name", required=True), **values)
    journal.record_created(rule, actor)
    return rule


@transaction.atomic
def create_blackout(
    *,
    actor: User | None,
    name: str,
    start_at: datetime,
    end_at: datetime,
    reason: str = "",
    country: Country | None = None,
    region: Region | None = None,
) -> BlackoutWindow:
    actor = _actor(actor)
    _require_manager(actor, "define blackout windows")
    if end_at is None or start_at is None or end_at <= start_at:
        raise ValidationFailed("the end must be after the start", field="end_at")
    if country is not None and region is not None and country.region_id != region.pk:
        raise ValidationFailed("the country is not in that region", field="country")
    window = BlackoutWindow.objects.create(
        name=_text(name, "name", required=True, max_length=150),
        reason=_text(reason, "reason"),
        start_at=start_at,
        end_at=end_at,
        country=country,
        region=region if country is None else None,
    )
    journal.record_created(window, actor)
    return window


# -- releases ------------------------------------------------------------------------------------


@transaction.atomic
def create_release(
    *,
    actor: User | None,
    name: str,
    version_label: str,
    description: str = "",
    service: Service | None = None,
    manager: User | None = None,
    changes: Iterable[Change] = (),
) -> Release:
    actor = _actor(actor)
    _require_staff(actor, "plan releases")
    release = Release(
        name=_text(name, "name", required=True, max_length=150),
        version_label=_text(version_label, "version", required=True, max_length=40),
        description=_text(description, "description"),
        service=service,
        manager=manager or actor,
    )
    release.number = numbering.next_reference(RELEASE_PREFIX)
    release.save()
    journal.record_created(release, actor)
    for change in changes:
        add_to_release(change, release, actor=actor)
    return release


@transaction.atomic
def add_to_release(change: Change, release: Release | None, *, actor: User | None) -> Change:
    actor = _actor(actor)
    _require_staff(actor, "plan releases")
    locked = _lock(change, None)
    if release is not None and release.status in (
        ReleaseStatus.DEPLOYED,
        ReleaseStatus.CANCELLED,
    ):
        raise ValidationFailed(f"release {release.number} is {release.status}", field="release")
    before = locked.release
    locked.release = release
    save_versioned(locked, locked.version, ["release"])
    journal.record_changes(locked, actor, {"release": (before, release)})
    if release is not None:
        journal.record_changes(release, actor, {"changes+": ("", locked.number)})
    _sync(change, locked)
    return change


@transaction.atomic
def plan_deployment(
    release: Release,
    *,
    actor: User | None,
    planned_start: datetime,
    planned_end: datetime,
    country: Country | None = None,
    region: Region | None = None,
) -> Deployment:
    actor = _actor(actor)
    _require_staff(actor, "plan releases")
    if planned_start is None or planned_end is None or planned_end <= planned_start:
        raise ValidationFailed(
            "the planned end must be after the planned start", field="planned_end"
        )
    if release.status in (ReleaseStatus.DEPLOYED, ReleaseStatus.CANCELLED):
        raise ValidationFailed(f"release {release.number} is {release.status}", field="release")
    deployment = Deployment.objects.create(
        release=release,
        planned_start=planned_start,
        planned_end=planned_end,
        country=country,
        region=region if country is None else None,
    )
    if release.status == ReleaseStatus.PLANNING:
        Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.SCHEDULED)
        journal.record_changes(release, actor, {"status": (release.status, "scheduled")})
        release.status = ReleaseStatus.SCHEDULED
    journal.record_changes(
        release,
        actor,
        {"deployment+": ("", str(deployment.country or deployment.region or "global"))},
    )
    return deployment


@transaction.atomic
def set_deployment_status(
    deployment: Deployment, status: str, *, actor: User | None, now: datetime | None = None
) -> Deployment:
    """Record a deployment's progress; the release's state follows its deployments."""
    actor = _actor(actor)
    _require_staff(actor, "deploy releases")
    if status not in DeploymentStatus.values:
        raise ValidationFailed(
            f"status must be one of {', '.join(DeploymentStatus.values)}", field="status"
        )
    now = now or timezone.now()
    before = deployment.status
    deployment.status = status
    deployment.deployed_at = now if status == DeploymentStatus.DEPLOYED else None
    deployment.save(update_fields=["status", "deployed_at", "updated_at"])
    release = Release.objects.select_for_update().get(pk=deployment.release_id)
    journal.record_changes(release, actor, {f"deployment {deployment}": (before, status)}, at=now)
    states = set(release.deployments.values_list("status", flat=True))
    live = states - {DeploymentStatus.CANCELLED}
    if live and live <= {DeploymentStatus.DEPLOYED}:
        new = ReleaseStatus.DEPLOYED
    elif live & {DeploymentStatus.IN_PROGRESS, DeploymentStatus.DEPLOYED, DeploymentStatus.FAILED}:
        new = ReleaseStatus.IN_PROGRESS
    elif not live:
        new = ReleaseStatus.CANCELLED
    else:
        new = ReleaseStatus.SCHEDULED
    if new != release.status:
        journal.record_changes(release, actor, {"status": (release.status, new)}, at=now)
        Release.objects.filter(pk=release.pk).update(status=new)
    return deployment
