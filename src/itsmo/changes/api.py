"""The changes API under /api/v1/: changes, their approvals, impact and schedule, the change
calendar, standard-change templates, blackout windows and releases. Thin: parse, look up
what the user may see, call a service."""

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from itsmo.accounts.models import SupportGroup
from itsmo.api.helpers import active_user as _user, by_code as _by_code, code_of as _code
from itsmo.api.pagination import PagePagination
from itsmo.catalog.models import Service
from itsmo.cmdb.models import CI
from itsmo.core import registry
from itsmo.core.errors import NotFound, PermissionDenied, ValidationFailed
from itsmo.organization.models import Country, Region

from . import risk, services
from .models import (
    Approval,
    ApprovalRequest,
    BlackoutWindow,
    Change,
    ChangeTemplate,
    ChangeType,
    CloseCode,
    Deployment,
    DeploymentStatus,
    Release,
    Risk,
    Status as State,
    offered_targets,
)

router = Router(tags=["changes"])

registry.register("change", Change)
registry.register(
    "release",
    Release,
    visible=lambda user: (
        Release.objects.all() if getattr(user, "is_staff_member", False) else Release.objects.none()
    ),
)


# -- schemas ---------------------------------------------------------------------------------


class ChangeListOut(Schema):
    number: str
    title: str
    type: str
    state: str
    risk: str
    impact: int | None
    approval: str
    country: str | None
    region: str | None
    assignment_group: str | None
    assignee: str | None
    planned_start: datetime | None
    planned_end: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_state(obj: Change) -> str:
        return obj.status

    @staticmethod
    def resolve_country(obj: Change) -> str | None:
        return _code(obj.country)

    @staticmethod
    def resolve_region(obj: Change) -> str | None:
        return _code(obj.region)

    @staticmethod
    def resolve_assignment_group(obj: Change) -> str | None:
        return _code(obj.assignment_group)

    @staticmethod
    def resolve_assignee(obj: Change) -> str | None:
        return _code(obj.assignee, "username")


class ChangeOut(ChangeListOut):
    description: str
    template: str | None
    requester: str | None
    change_manager: str | None
    services: list[str]
    cis: list[str]
    release: str | None
    actual_start: datetime | None
    actual_end: datetime | None
    approved_start: datetime | None = Field(
        None, description="start of the window the last granted approvals covered"
    )
    approved_end: datetime | None = Field(
        None, description="end of that window; moving out of it asks for approval again"
    )
    implementation_plan: str
    backout_plan: str
    test_plan: str
    risk_score: int | None
    risk_answers: dict[str, str]
    impact_summary: dict[str, Any]
    is_cab_required: bool
    is_emergency: bool
    schedule_override_reason: str
    close_code: str
    close_notes: str
    review_notes: str
    reviewed_at: datetime | None
    closed_at: datetime | None
    caused_incidents: list[str]
    next_states: list[str]

    @staticmethod
    def resolve_template(obj: Change) -> str | None:
        return _code(obj.template)

    @staticmethod
    def resolve_requester(obj: Change) -> str | None:
        return _code(obj.requester, "username")

    @staticmethod
    def resolve_change_manager(obj: Change) -> str | None:
        return _code(obj.change_manager, "username")

    @staticmethod
    def resolve_services(obj: Change) -> list[str]:
        return sorted(obj.services.values_list("code", flat=True))

    @staticmethod
    def resolve_cis(obj: Change) -> list[str]:
        return sorted(CI.objects.filter(change_links__change=obj).values_list("number", flat=True))

    @staticmethod
    def resolve_release(obj: Change) -> str | None:
        return _code(obj.release, "number")

    @staticmethod
    def resolve_caused_incidents(obj: Change) -> list[str]:
        return sorted(obj.caused_incidents.values_list("number", flat=True))

    @staticmethod
    def resolve_next_states(obj: Change) -> list[str]:
        return offered_targets(obj.status)


class ChangeIn(Schema):
    title: str = Field(..., max_length=200)
    type: ChangeType = ChangeType.NORMAL
    template: str | None = Field(None, description="template code; required for standard")
    description: str = ""
    requester: str | None = Field(None, description="username; defaults to you")
    change_manager: str | None = Field(None, description="username")
    assignee: str | None = Field(None, description="username")
    assignment_group: str | None = Field(None, description="support group code")
    services: list[str] = Field(default_factory=list, description="service codes")
    cis: list[str] = Field(default_factory=list, description="CI numbers")
    country: str | None = Field(None, description="ISO code; defaults to the first CI's or yours")
    implementation_plan: str = ""
    backout_plan: str = ""
    test_plan: str = ""
    is_cab_required: bool | None = Field(None, description="defaults to true for normal changes")
    release: str | None = Field(None, description="release number (REL…)")


class ChangePatch(Schema):
    version: int = Field(..., description="the version you read; a stale one is a 409")
    title: str | None = Field(None, max_length=200)
    description: str | None = None
    requester: str | None = None
    change_manager: str | None = None
    assignee: str | None = None
    assignment_group: str | None = None
    services: list[str] | None = None
    cis: list[str] | None = None
    country: str | None = None
    implementation_plan: str | None = None
    backout_plan: str | None = None
    test_plan: str | None = None
    is_cab_required: bool | None = None
    release: str | None = None
    close_code: CloseCode | None = None
    close_notes: str | None = None
    review_notes: str | None = Field(None, description="the post-implementation review")
    risk_answers: dict[str, str] | None = Field(
        None, description="the risk questionnaire: question key → answer key"
    )


class ChangeTransitionIn(Schema):
    to: State
    version: int | None = Field(None, description="optional; a stale one is a 409")
    note: str = ""
    close_code: CloseCode | None = Field(None, description="entering review: the outcome")
    close_notes: str = ""


class ChangeScheduleIn(Schema):
    planned_start: datetime
    planned_end: datetime
    override_reason: str = Field(
        "", description="schedule despite collisions or blackout windows, saying why"
    )
    version: int | None = Field(None, description="optional; a stale one is a 409")


class ChangeCollisionOut(Schema):
    change: str
    title: str
    planned_start: datetime
    planned_end: datetime
    ci: str
    via: str
    depth: int
    reason: str


class ChangeBlackoutHitOut(Schema):
    id: int
    name: str
    scope: str
    start_at: datetime
    end_at: datetime
    reason: str


class ChangeScheduleOut(Schema):
    change: ChangeOut
    collisions: list[ChangeCollisionOut]
    blackouts: list[ChangeBlackoutHitOut]
    overridden: bool
    state: str = Field(..., description="the change's state after scheduling")
    approval: str = Field(..., description="its approval after scheduling")
    approval_requested_again: bool = Field(
        ...,
        description=(
            "true when the new window is not inside the approved one: the change went back "
            "to authorise with a new round of approvals (`approval` is then requested, or "
            "approved when no approval rule applies)"
        ),
    )


class ChangeApprovalOut(Schema):
    approver: str
    state: str
    comment: str
    decided_at: datetime | None

    @staticmethod
    def resolve_approver(obj: Approval) -> str:
        return obj.approver.username


class ChangeApprovalRequestOut(Schema):
    id: int
    name: str
    policy: str
    state: str
    round: int = Field(..., description="the approval round (1, then 2… when asked again)")
    requested_at: datetime
    due_at: datetime | None
    decided_at: datetime | None
    approvals: list[ChangeApprovalOut]

    @staticmethod
    def resolve_approvals(obj: ApprovalRequest) -> list[Approval]:
        return list(obj.approvals.all())


class ChangeApprovalsOut(Schema):
    approval: str
    requests: list[ChangeApprovalRequestOut]


class ChangeDecisionIn(Schema):
    decision: str = Field(..., description="approved or rejected")
    comment: str = Field("", max_length=5000, description="required to reject")


class ChangeImpactCIOut(Schema):
    number: str
    name: str
    ci_class: str
    country: str | None
    depth: int


class ChangeImpactServiceOut(Schema):
    code: str
    name: str
    criticality: int
    countries: list[str]


class ChangeImpactProcessOut(Schema):
    code: str
    name: str
    criticality: int
    countries: list[str]


class ChangeImpactOut(Schema):
    impact: int | None
    risk: str
    cis: list[ChangeImpactCIOut]
    services: list[ChangeImpactServiceOut]
    business_processes: list[ChangeImpactProcessOut]
    countries: list[str]
    total: int
    truncated: bool


class ChangeCalendarChangeOut(Schema):
    number: str
    title: str
    type: str
    state: str
    risk: str
    country: str | None
    planned_start: datetime
    planned_end: datetime

    @staticmethod
    def resolve_state(obj: Change) -> str:
        return obj.status

    @staticmethod
    def resolve_country(obj: Change) -> str | None:
        return _code(obj.country)


class ChangeBlackoutOut(Schema):
    id: int
    name: str
    reason: str
    start_at: datetime
    end_at: datetime
    country: str | None
    region: str | None
    is_active: bool

    @staticmethod
    def resolve_country(obj: BlackoutWindow) -> str | None:
        return _code(obj.country)

    @staticmethod
    def resolve_region(obj: BlackoutWindow) -> str | None:
        return _code(obj.region)


class ChangeBlackoutIn(Schema):
    name: str = Field(..., max_length=150)
    reason: str = ""
    start_at: datetime
    end_at: datetime
    country: str | None = Field(None, description="ISO code")
    region: str | None = Field(None, description="region code; neither: global")


class ChangeCalendarQuery(Schema):
    start: datetime = Field(..., alias="from", description="start of the period")
    end: datetime = Field(..., alias="to", description="end of the period (exclusive)")
    country: str | None = Field(None, description="ISO code")
    service: str | None = Field(None, description="service code")
    ci: str | None = Field(None, description="CI number")


class ChangeCalendarOut(Schema):
    start: datetime
    end: datetime
    changes: list[ChangeCalendarChangeOut]
    blackouts: list[ChangeBlackoutOut]


class ChangeTemplateOut(Schema):
    id: int
    code: str
    name: str
    description: str
    service: str | None
    assignment_group: str | None
    implementation_plan: str
    backout_plan: str
    test_plan: str
    risk: str
    duration_minutes: int
    is_active: bool

    @staticmethod
    def resolve_service(obj: ChangeTemplate) -> str | None:
        return _code(obj.service)

    @staticmethod
    def resolve_assignment_group(obj: ChangeTemplate) -> str | None:
        return _code(obj.assignment_group)


class ChangeTemplateIn(Schema):
    code: str = Field(..., max_length=60)
    name: str = Field(..., max_length=150)
    description: str = ""
    service: str | None = None
    assignment_group: str | None = None
    implementation_plan: str
    backout_plan: str
    test_plan: str = ""
    risk: Risk = Risk.LOW
    duration_minutes: int = Field(60, ge=1, le=7 * 24 * 60)


class ChangeDeploymentOut(Schema):
    id: int
    region: str | None
    country: str | None
    planned_start: datetime
    planned_end: datetime
    status: str
    deployed_at: datetime | None

    @staticmethod
    def resolve_region(obj: Deployment) -> str | None:
        return _code(obj.region)

    @staticmethod
    def resolve_country(obj: Deployment) -> str | None:
        return _code(obj.country)


class ReleaseOut(Schema):
    number: str
    name: str
    version_label: str
    description: str
    service: str | None
    manager: str | None
    status: str
    changes: list[str]
    deployments: list[ChangeDeploymentOut]
    created_at: datetime

    @staticmethod
    def resolve_service(obj: Release) -> str | None:
        return _code(obj.service)

    @staticmethod
    def resolve_manager(obj: Release) -> str | None:
        return _code(obj.manager, "username")

    @staticmethod
    def resolve_changes(obj: Release) -> list[str]:
        return sorted(obj.changes.values_list("number", flat=True))

    @staticmethod
    def resolve_deployments(obj: Release) -> list[Deployment]:
        return list(obj.deployments.select_related("region", "country"))


class ReleaseIn(Schema):
    name: str = Field(..., max_length=150)
    version_label: str = Field(..., max_length=40)
    description: str = ""
    service: str | None = None
    manager: str | None = None
    changes: list[str] = Field(default_factory=list, description="change numbers")


class ChangeDeploymentIn(Schema):
    planned_start: datetime
    planned_end: datetime
    country: str | None = None
    region: str | None = None


class ChangeDeploymentStatusIn(Schema):
    status: DeploymentStatus


class ChangeFilters(Schema):
    state: list[State] | None = Field(None, description="one or more states")
    type: list[ChangeType] | None = Field(None, description="one or more types")
    risk: list[Risk] | None = None
    country: str | None = Field(None, description="ISO code")
    service: str | None = Field(None, description="service code")
    ci: str | None = Field(None, description="CI number")
    assignment_group: str | None = Field(None, description="support group code")
    release: str | None = Field(None, description="release number")
    planned_after: datetime | None = None
    planned_before: datetime | None = None
    q: str | None = Field(None, description="number or words of the title")
    ordering: str = Field(
        "-created_at",
        description="one of created_at, planned_start, updated_at, number; `-` descending",
    )


ORDERINGS = {"created_at", "planned_start", "updated_at", "number"}


# -- lookups ---------------------------------------------------------------------------------


def _services(codes: list[str], field: str = "services") -> list[Service]:
    found = {s.code.lower(): s for s in Service.objects.filter(code__in=codes)}
    missing = [c for c in codes if c.lower() not in found]
    if missing:
        raise ValidationFailed(f"no service {missing[0]!r}", field=field)
    return list(found.values())


def _cis(numbers: list[str], user, field: str = "cis") -> list[CI]:
    wanted = [n.upper() for n in numbers]
    found = {c.number: c for c in CI.objects.visible_to(user).filter(number__in=wanted)}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise ValidationFailed(f"no CI {missing[0]!r}", field=field)
    return list(found.values())


def _release(value: str | None, field: str = "release") -> Release | None:
    return _by_code(Release, value, field, "number")


def _get_release(number: str, user) -> Release:
    if not getattr(user, "is_staff_member", False):
        raise NotFound(f"no release {number}")
    release = Release.objects.filter(number=number.upper()).first()
    if release is None:
        raise NotFound(f"no release {number}")
    return release


def _aware(value: datetime) -> datetime:
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


_LOOKUPS = {
    "requester": lambda v, u: _user(v, "requester"),
    "change_manager": lambda v, u: _user(v, "change_manager"),
    "assignee": lambda v, u: _user(v, "assignee"),
    "assignment_group": lambda v, u: _by_code(SupportGroup, v, "assignment_group"),
    "services": lambda v, u: _services(v or []),
    "cis": lambda v, u: _cis(v or [], u),
    "country": lambda v, u: _by_code(Country, v, "country"),
    "release": lambda v, u: _release(v),
}


def _detail(change: Change) -> Change:
    return services.reload(change)


# -- changes ---------------------------------------------------------------------------------


@router.get(
    "/changes",
    response=list[ChangeListOut],
    summary="List changes",
    description="Changes in your region scope. `state`, `type` and `risk` may repeat.",
)
@paginate(PagePagination)
def list_changes(request, filters: Query[ChangeFilters]):
    changes = Change.objects.visible_to(request.user).select_related(
        "country", "region", "assignment_group", "assignee"
    )
    if filters.state:
        changes = changes.filter(status__in=filters.state)
    if filters.type:
        changes = changes.filter(type__in=filters.type)
    if filters.risk:
        changes = changes.filter(risk__in=filters.risk)
    if filters.country:
        changes = changes.filter(country__code__iexact=filters.country)
    if filters.service:
        changes = changes.filter(services__code__iexact=filters.service)
    if filters.ci:
        changes = changes.filter(ci_links__ci__number__iexact=filters.ci)
    if filters.assignment_group:
        changes = changes.filter(assignment_group__code__iexact=filters.assignment_group)
    if filters.release:
        changes = changes.filter(release__number__iexact=filters.release)
    if filters.planned_after:
        changes = changes.filter(planned_end__gt=filters.planned_after)
    if filters.planned_before:
        changes = changes.filter(planned_start__lt=filters.planned_before)
    if filters.q:
        text = filters.q.strip()
        changes = changes.filter(number__iexact=text) | changes.filter(title__icontains=text)
    ordering = filters.ordering.strip()
    if ordering.lstrip("-") not in ORDERINGS:
        raise ValidationFailed(
            f"ordering must be one of {', '.join(sorted(ORDERINGS))}", field="ordering"
        )
    descending = ordering.startswith("-")
    return changes.order_by(ordering, "-id" if descending else "id").distinct()


@router.post(
    "/changes",
    response={201: ChangeOut},
    summary="Raise a change",
    description=(
        "A standard change names its `template` (pre-approved: its plans, risk and group are "
        "the template's). Normal changes are assessed and go to the CAB, emergency changes to "
        "the ECAB. Schedule with `POST /changes/{number}/schedule`."
    ),
)
def create_change(request, payload: ChangeIn):
    user = request.user
    template = None
    if payload.template:
        template = _by_code(ChangeTemplate, payload.template, "template")
    change = services.create_change(
        actor=user,
        title=payload.title,
        type=payload.type,
        template=template,
        description=payload.description,
        requester=_user(payload.requester, "requester") or user,
        change_manager=_user(payload.change_manager, "change_manager"),
        assignee=_user(payload.assignee, "assignee"),
        assignment_group=_by_code(SupportGroup, payload.assignment_group, "assignment_group"),
        services=_services(payload.services),
        cis=_cis(payload.cis, user),
        country=_by_code(Country, payload.country, "country"),
        implementation_plan=payload.implementation_plan,
        backout_plan=payload.backout_plan,
        test_plan=payload.test_plan,
        is_cab_required=payload.is_cab_required,
        release=_release(payload.release),
    )
    return Status(201, _detail(change))


@router.get(
    "/changes/calendar",
    response=ChangeCalendarOut,
    summary="The change calendar",
    description=(
        "Changes whose planned window overlaps `[from, to)` (at most 93 days) and the blackout "
        "windows in it, filtered by `country`, `service` or `ci`."
    ),
)
def change_calendar(request, params: Query[ChangeCalendarQuery]):
    start, end = _aware(params.start), _aware(params.end)
    changes, blackouts = services.calendar(
        request.user,
        start,
        end,
        country=_by_code(Country, params.country, "country"),
        service=_by_code(Service, params.service, "service"),
        ci=_cis([params.ci], request.user, "ci")[0] if params.ci else None,
    )
    return {"start": start, "end": end, "changes": list(changes), "blackouts": list(blackouts)}


@router.get("/changes/{number}", response=ChangeOut, summary="One change")
def get_change(request, number: str):
    return services.get_visible(number, request.user)


@router.patch(
    "/changes/{number}",
    response=ChangeOut,
    summary="Change a change",
    description=(
        "Send the `version` you read; if the change changed since, the answer is 409 with its "
        "current state. `risk_answers` scores the risk questionnaire (with the CMDB impact); "
        "`review_notes` is the post-implementation review (in Review)."
    ),
)
def patch_change(request, number: str, payload: ChangePatch):
    change = services.get_visible(number, request.user)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    answers = data.pop("risk_answers", None)
    values = {}
    for name, value in data.items():
        lookup = _LOOKUPS.get(name)
        if lookup is None and value is None:
            raise ValidationFailed(f"{name} cannot be null", field=name)
        values[name] = lookup(value, request.user) if lookup else value
    if values:
        services.update_change(change, actor=request.user, version=version, **values)
        version = change.version
    if answers is not None:
        services.assess_risk(change, actor=request.user, answers=answers, version=version)
    if not values and answers is None:
        services.update_change(change, actor=request.user, version=version)
    return _detail(change)


@router.post(
    "/changes/{number}/transitions",
    response=ChangeOut,
    summary="Move a change to another state",
    description=(
        "Normal: new → assess → authorise → scheduled → implement → review → closed; "
        "emergency skips assess; standard goes from new to scheduled. Entering `review` needs "
        "`close_code` (the outcome); `closed` needs the post-implementation review for normal "
        "and emergency changes. A move outside the type's lifecycle is a 409; a missing "
        "plan, risk, window, approval, outcome or review a 422 naming it."
    ),
)
def post_transition(request, number: str, payload: ChangeTransitionIn):
    change = services.get_visible(number, request.user)
    services.transition(
        change,
        payload.to,
        actor=request.user,
        version=payload.version,
        note=payload.note,
        close_code=payload.close_code or "",
        close_notes=payload.close_notes,
    )
    return _detail(change)


@router.post(
    "/changes/{number}/schedule",
    response={200: ChangeScheduleOut},
    summary="Schedule a change (collision and blackout check)",
    description=(
        "Sets the planned window. Changes overlapping it on the same CIs or on CIs related "
        "through the CMDB, and blackout windows of the countries it touches, make it a 409 "
        "listing `collisions` and `blackouts`, unless `override_reason` says why it must run "
        "then anyway (journaled). Moving an authorised normal or emergency change to a "
        "window not inside its approved one sends it back to `authorise` with a new round of "
        "approvals (`approval_requested_again`); shrinking the window keeps them. A change "
        "being implemented, or later, cannot be rescheduled (409 on `status`)."
    ),
)
def schedule_change(request, number: str, payload: ChangeScheduleIn):
    change = services.get_visible(number, request.user)
    found = services.schedule_change(
        change,
        actor=request.user,
        planned_start=_aware(payload.planned_start),
        planned_end=_aware(payload.planned_end),
        override_reason=payload.override_reason,
        version=payload.version,
    )
    return {
        "change": _detail(change),
        "collisions": [c.as_dict() for c in found.collisions],
        "blackouts": [b.as_dict() for b in found.blackouts],
        "overridden": not found.is_clear,
        "state": change.status,
        "approval": change.approval,
        "approval_requested_again": found.approval_requested_again,
    }


def _approvals(change: Change) -> dict:
    requests = (
        ApprovalRequest.objects.filter(change=change)
        .prefetch_related("approvals__approver")
        .order_by("requested_at", "id")
    )
    return {"approval": change.approval, "requests": list(requests)}


@router.get(
    "/changes/{number}/approvals",
    response=ChangeApprovalsOut,
    summary="The change's approvals",
)
def get_approvals(request, number: str):
    return _approvals(services.get_visible(number, request.user))


@router.post(
    "/changes/{number}/approvals",
    response=ChangeApprovalsOut,
    summary="Approve or reject (as one of its approvers)",
    description=(
        "`decision`: approved or rejected (with a `comment`). The request's policy (all, any, "
        "majority) decides; all requests approved schedule the change; a rejection sends a "
        "normal change back to new and cancels an emergency one."
    ),
)
def post_approval(request, number: str, payload: ChangeDecisionIn):
    change = services.get_visible(number, request.user)
    services.decide(change, actor=request.user, decision=payload.decision, comment=payload.comment)
    return _approvals(services.reload(change))


@router.get(
    "/changes/{number}/impact",
    response=ChangeImpactOut,
    summary="What the change impacts (CMDB)",
    description=(
        "The CIs upstream of the change's CIs, the services and business processes they "
        "support and the countries affected (names outside your scope are redacted)."
    ),
)
def get_impact(request, number: str):
    change = services.get_visible(number, request.user)
    result = services.impact_analysis(change, user=request.user)
    return {
        "impact": change.impact,
        "risk": change.risk,
        "cis": result.cis,
        "services": result.services,
        "business_processes": result.business_processes,
        "countries": result.countries,
        "total": result.total,
        "truncated": result.truncated,
    }


@router.get(
    "/change-risk-questions",
    response=list[dict[str, Any]],
    summary="The risk questionnaire",
)
def risk_questions(request):
    return [
        {
            "key": q.key,
            "text": str(q.text),
            "weight": q.weight,
            "answers": [{"key": k, "label": str(label), "score": s} for k, label, s in q.answers],
        }
        for q in risk.QUESTIONS
    ]


# -- templates and blackout windows -----------------------------------------------------------


def _staff(user) -> None:
    if not getattr(user, "is_staff_member", False):
        raise PermissionDenied("only IT staff may see change management")


@router.get(
    "/change-templates",
    response=list[ChangeTemplateOut],
    summary="Standard-change templates",
)
@paginate(PagePagination)
def list_templates(request, active: bool | None = True):
    _staff(request.user)
    templates = ChangeTemplate.objects.select_related("service", "assignment_group")
    if active is not None:
        templates = templates.filter(is_active=active)
    return templates.order_by("name")


@router.post(
    "/change-templates",
    response={201: ChangeTemplateOut},
    summary="Define a standard-change template (change managers)",
)
def create_template(request, payload: ChangeTemplateIn):
    data = payload.dict()
    data["service"] = _by_code(Service, data.pop("service"), "service")
    data["assignment_group"] = _by_code(
        SupportGroup, data.pop("assignment_group"), "assignment_group"
    )
    return Status(201, services.create_template(actor=request.user, **data))


@router.get(
    "/change-blackouts",
    response=list[ChangeBlackoutOut],
    summary="Blackout windows",
)
@paginate(PagePagination)
def list_blackouts(request, after: datetime | None = None):
    _staff(request.user)
    windows = BlackoutWindow.objects.active().select_related("country", "region")
    if after is not None:
        windows = windows.filter(end_at__gt=_aware(after))
    return windows.order_by("start_at", "id")


@router.post(
    "/change-blackouts",
    response={201: ChangeBlackoutOut},
    summary="Define a blackout window (change managers)",
)
def create_blackout(request, payload: ChangeBlackoutIn):
    window = services.create_blackout(
        actor=request.user,
        name=payload.name,
        reason=payload.reason,
        start_at=_aware(payload.start_at),
        end_at=_aware(payload.end_at),
        country=_by_code(Country, payload.country, "country"),
        region=_by_code(Region, payload.region, "region"),
    )
    return Status(201, window)


# -- releases ---------------------------------------------------------------------------------


@router.get("/releases", response=list[ReleaseOut], summary="Releases")
@paginate(PagePagination)
def list_releases(request, status: str | None = None):
    _staff(request.user)
    releases = Release.objects.select_related("service", "manager")
    if status:
        releases = releases.filter(status=status)
    return releases.order_by("-created_at", "-id")


@router.post("/releases", response={201: ReleaseOut}, summary="Plan a release")
def create_release(request, payload: ReleaseIn):
    changes = [services.get_visible(number, request.user) for number in payload.changes]
    release = services.create_release(
        actor=request.user,
        name=payload.name,
        version_label=payload.version_label,
        description=payload.description,
        service=_by_code(Service, payload.service, "service"),
        manager=_user(payload.manager, "manager"),
        changes=changes,
    )
    return Status(201, release)


@router.get("/releases/{number}", response=ReleaseOut, summary="One release")
def get_release(request, number: str):
    return _get_release(number, request.user)


@router.post(
    "/releases/{number}/deployments",
    response={201: ChangeDeploymentOut},
    summary="Plan a deployment window (per region or country)",
)
def plan_deployment(request, number: str, payload: ChangeDeploymentIn):
    release = _get_release(number, request.user)
    deployment = services.plan_deployment(
        release,
        actor=request.user,
        planned_start=_aware(payload.planned_start),
        planned_end=_aware(payload.planned_end),
        country=_by_code(Country, payload.country, "country"),
        region=_by_code(Region, payload.region, "region"),
    )
    return Status(201, deployment)


@router.post(
    "/releases/{number}/deployments/{deployment_id}",
    response=ChangeDeploymentOut,
    summary="Record a deployment's progress",
)
def set_deployment_status(
    request, number: str, deployment_id: int, payload: ChangeDeploymentStatusIn
):
    release = _get_release(number, request.user)
    deployment = release.deployments.filter(pk=deployment_id).first()
    if deployment is None:
        raise NotFound(f"no deployment {deployment_id} in {release.number}")
    return services.set_deployment_status(deployment, payload.status, actor=request.user)
