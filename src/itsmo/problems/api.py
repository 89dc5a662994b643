"""The problems API under /api/v1/: problems, their transitions, linked incidents and tasks,
and the problem candidates of recurring-incident detection. Thin: parse, look up what the
user may see, call a service."""

from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from itsmo.accounts.models import SupportGroup
from itsmo.api.helpers import active_user as _user, by_code as _by_code, code_of as _code
from itsmo.api.pagination import PagePagination
from itsmo.catalog.models import Service
from itsmo.changes.models import Change
from itsmo.cmdb.models import CI
from itsmo.core import registry
from itsmo.core.api import JournalEntryOut
from itsmo.core.errors import ValidationFailed
from itsmo.incidents.models import Incident
from itsmo.organization.models import Country, Region
from itsmo.search import services as search

from . import services
from .models import (
    LIFECYCLE,
    CandidateState,
    Problem,
    ProblemCandidate,
    ProblemTask,
    RcaMethod,
    ResolutionCode,
    Status as State,
    TaskStatus,
)

router = Router(tags=["problems"])

registry.register("problem", Problem)


# -- schemas ---------------------------------------------------------------------------------


class ProblemListOut(Schema):
    number: str
    state: str
    priority: int
    impact: int
    urgency: int
    title: str
    service: str | None
    country: str | None
    region: str | None
    problem_manager: str | None
    assignment_group: str | None
    opened_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_state(obj: Problem) -> str:
        return obj.status

    @staticmethod
    def resolve_service(obj: Problem) -> str | None:
        return _code(obj.service)

    @staticmethod
    def resolve_country(obj: Problem) -> str | None:
        return _code(obj.country)

    @staticmethod
    def resolve_region(obj: Problem) -> str | None:
        return _code(obj.region)

    @staticmethod
    def resolve_problem_manager(obj: Problem) -> str | None:
        return _code(obj.problem_manager, "username")

    @staticmethod
    def resolve_assignment_group(obj: Problem) -> str | None:
        return _code(obj.assignment_group)


class TaskOut(Schema):
    number: str
    title: str
    description: str
    owner: str | None
    state: str
    due_at: datetime | None
    done_at: datetime | None
    version: int

    @staticmethod
    def resolve_owner(obj: ProblemTask) -> str | None:
        return _code(obj.owner, "username")

    @staticmethod
    def resolve_state(obj: ProblemTask) -> str:
        return obj.status


class ProblemOut(ProblemListOut):
    description: str
    cis: list[str]
    rca_method: str
    root_cause: str
    workaround: str
    fixing_changes: list[str]
    resolution_code: str
    resolution_notes: str
    incident_count: int
    tasks: list[TaskOut]
    known_error_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    next_states: list[str]

    @staticmethod
    def resolve_cis(obj: Problem) -> list[str]:
        return sorted(obj.cis.values_list("number", flat=True))

    @staticmethod
    def resolve_fixing_changes(obj: Problem) -> list[str]:
        return sorted(obj.fixing_changes.values_list("number", flat=True))

    @staticmethod
    def resolve_incident_count(obj: Problem) -> int:
        return obj.incidents.count()

    @staticmethod
    def resolve_tasks(obj: Problem) -> list[ProblemTask]:
        return list(obj.tasks.select_related("owner"))

    @staticmethod
    def resolve_next_states(obj: Problem) -> list[str]:
        return LIFECYCLE.targets_from(obj.status)


class ProblemIn(Schema):
    title: str = Field(..., max_length=200)
    description: str = ""
    impact: int = Field(2, ge=1, le=3, description="1 high - 3 low")
    urgency: int = Field(2, ge=1, le=3, description="1 high - 3 low")
    service: str | None = Field(None, description="service code")
    cis: list[str] = Field(default_factory=list, description="CI numbers")
    country: str | None = Field(None, description="ISO code")
    region: str | None = Field(None, description="region code (a problem of a whole region)")
    problem_manager: str | None = Field(None, description="username")
    assignment_group: str | None = Field(None, description="support group code")
    incidents: list[str] = Field(default_factory=list, description="incident numbers to link")


class ProblemPatch(Schema):
    version: int = Field(..., description="the version you read; a stale one is a 409")
    title: str | None = Field(None, max_length=200)
    description: str | None = None
    impact: int | None = Field(None, ge=1, le=3)
    urgency: int | None = Field(None, ge=1, le=3)
    service: str | None = None
    cis: list[str] | None = Field(None, description="CI numbers (replaces the list)")
    country: str | None = None
    region: str | None = None
    problem_manager: str | None = None
    assignment_group: str | None = None
    rca_method: RcaMethod | None = None
    root_cause: str | None = None
    workaround: str | None = None
    fixing_changes: list[str] | None = Field(
        None, description="change numbers (CHG…); replaces the list"
    )
    resolution_code: ResolutionCode | None = None
    resolution_notes: str | None = None


class TransitionIn(Schema):
    to: State
    version: int | None = Field(None, description="optional; a stale one is a 409")
    note: str = Field("", description="why (required to cancel)")
    root_cause: str | None = Field(None, description="known error: the root cause")
    workaround: str | None = Field(None, description="known error: the workaround")
    resolution_code: ResolutionCode | None = None
    resolution_notes: str | None = Field(
        None, description="resolved: the reason, when no fixing change is recorded"
    )


class LinkIn(Schema):
    incidents: list[str] = Field(..., min_length=1, description="incident numbers")


class LinkedIncidentOut(Schema):
    number: str
    state: str
    priority: int
    short_description: str
    service: str | None
    ci: str | None
    country: str | None
    opened_at: datetime

    @staticmethod
    def resolve_state(obj: Incident) -> str:
        return obj.status

    @staticmethod
    def resolve_service(obj: Incident) -> str | None:
        return _code(obj.service)

    @staticmethod
    def resolve_ci(obj: Incident) -> str | None:
        return _code(obj.ci, "number")

    @staticmethod
    def resolve_country(obj: Incident) -> str | None:
        return _code(obj.country)


class CommentIn(Schema):
    body: str = Field(..., max_length=20000)
    internal: bool = Field(True, description="a work note (default); false: a comment")


class TaskIn(Schema):
    title: str = Field(..., max_length=200)
    description: str = ""
    owner: str | None = Field(None, description="username")
    due_at: datetime | None = None


class TaskPatch(Schema):
    version: int | None = Field(None, description="optional; a stale one is a 409")
    state: TaskStatus | None = None
    title: str | None = Field(None, max_length=200)
    description: str | None = None
    owner: str | None = Field(None, description="username; null clears")


class ProblemFilters(Schema):
    state: list[State] | None = Field(None, description="one or more states")
    priority: list[int] | None = Field(None, description="one or more priorities 1-5")
    service: str | None = Field(None, description="service code")
    country: str | None = Field(None, description="ISO code")
    problem_manager: str | None = Field(None, description="username, or `me`")
    assignment_group: str | None = Field(None, description="support group code")
    ci: str | None = Field(None, description="CI number")
    q: str | None = Field(
        None,
        description=(
            "full-text: number, title, description, root cause, workaround, resolution notes, "
            "public comments; best matches first"
        ),
    )
    ordering: str = Field(
        "-opened_at",
        description="one of opened_at, priority, updated_at, number, state; `-` for descending",
    )


ORDERINGS = {"opened_at", "priority", "updated_at", "number", "state"}


class CandidateOut(Schema):
    id: int
    signature: str
    state: str
    incident_count: int
    incidents: list[str]
    first_at: datetime
    last_at: datetime
    ci: str | None
    service: str | None
    category: str | None
    countries: list[str]
    business_processes: list[str]
    terms: list[str]
    score: float
    problem: str | None
    detected_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    dismiss_reason: str
    version: int

    @staticmethod
    def resolve_incidents(obj: ProblemCandidate) -> list[str]:
        incidents = sorted(obj.incidents.all(), key=lambda i: (i.opened_at, i.pk))
        return [incident.number for incident in incidents]

    @staticmethod
    def resolve_ci(obj: ProblemCandidate) -> str | None:
        return _code(obj.ci, "number")

    @staticmethod
    def resolve_service(obj: ProblemCandidate) -> str | None:
        return _code(obj.service)

    @staticmethod
    def resolve_category(obj: ProblemCandidate) -> str | None:
        return str(obj.category) if obj.category_id else None

    @staticmethod
    def resolve_countries(obj: ProblemCandidate) -> list[str]:
        return sorted(country.code for country in obj.countries.all())

    @staticmethod
    def resolve_business_processes(obj: ProblemCandidate) -> list[str]:
        return sorted(process.name for process in obj.business_processes.all())

    @staticmethod
    def resolve_problem(obj: ProblemCandidate) -> str | None:
        return _code(obj.problem, "number")

    @staticmethod
    def resolve_decided_by(obj: ProblemCandidate) -> str | None:
        return _code(obj.decided_by, "username")


class CandidateFilters(Schema):
    state: list[CandidateState] | None = Field(None, description="default: proposed")


class AcceptIn(Schema):
    title: str = Field("", max_length=200, description="default: suggested from the evidence")
    description: str = ""
    impact: int | None = Field(None, ge=1, le=3)
    urgency: int | None = Field(None, ge=1, le=3)
    problem_manager: str | None = Field(None, description="username; default: you")
    assignment_group: str | None = Field(None, description="support group code")


class MergeIn(Schema):
    problem: str = Field(..., description="the problem number (PRB…) to merge into")


class DismissIn(Schema):
    reason: str = Field("", max_length=2000)


# -- lookups ---------------------------------------------------------------------------------


def _cis(numbers: list[str], user) -> list[CI]:
    found = []
    for number in numbers:
        ci = CI.objects.visible_to(user).filter(number__iexact=number).first()
        if ci is None:
            raise ValidationFailed(f"no CI {number!r}", field="cis")
        found.append(ci)
    return found


def _changes(numbers: list[str]) -> list[Change]:
    found = []
    for number in numbers:
        change = Change.objects.filter(number__iexact=number).first()
        if change is None:
            raise ValidationFailed(f"no change {number!r}", field="fixing_changes")
        found.append(change)
    return found


def _incidents(numbers: list[str], user) -> list[Incident]:
    found = []
    for number in numbers:
        incident = (
            services.visible_incidents(user).filter(number__iexact=(number or "").strip()).first()
        )
        if incident is None:
            raise ValidationFailed(f"no incident {number!r}", field="incidents")
        found.append(incident)
    return found


_LOOKUPS = {
    "service": lambda v: _by_code(Service, v, "service"),
    "country": lambda v: _by_code(Country, v, "country"),
    "region": lambda v: _by_code(Region, v, "region"),
    "problem_manager": lambda v: _user(v, "problem_manager"),
    "assignment_group": lambda v: _by_code(SupportGroup, v, "assignment_group"),
}


def _detail(problem: Problem) -> Problem:
    return services.reload(problem)


# -- problems --------------------------------------------------------------------------------


@router.post(
    "/problems",
    response={201: ProblemOut},
    summary="Open a problem",
    description=(
        "Opens a problem with its priority (impact x urgency matrix). `incidents` links "
        "incidents (by number) in the same step. Staff only."
    ),
)
def create_problem(request, payload: ProblemIn):
    user = request.user
    values: dict[str, Any] = {
        name: lookup(getattr(payload, name)) for name, lookup in _LOOKUPS.items()
    }
    problem = services.open_problem(
        title=payload.title,
        description=payload.description,
        impact=payload.impact,
        urgency=payload.urgency,
        cis=_cis(payload.cis, user),
        incidents_to_link=_incidents(payload.incidents, user),
        actor=user,
        **values,
    )
    return Status(201, _detail(problem))


@router.get(
    "/problems",
    response=list[ProblemListOut],
    summary="List problems",
    description="Problems you may see (region scope). `state` and `priority` may repeat.",
)
@paginate(PagePagination)
def list_problems(request, filters: Query[ProblemFilters]):
    problems = Problem.objects.visible_to(request.user).select_related(
        "service", "country", "region", "problem_manager", "assignment_group"
    )
    if filters.state:
        problems = problems.filter(status__in=filters.state)
    if filters.priority:
        problems = problems.filter(priority__in=filters.priority)
    if filters.service:
        problems = problems.filter(service__code__iexact=filters.service)
    if filters.country:
        problems = problems.filter(country__code__iexact=filters.country)
    if filters.assignment_group:
        problems = problems.filter(assignment_group__code__iexact=filters.assignment_group)
    if filters.problem_manager:
        if filters.problem_manager == "me":
            problems = problems.filter(problem_manager=request.user)
        else:
            problems = problems.filter(problem_manager__username__iexact=filters.problem_manager)
    if filters.ci:
        problems = problems.filter(
            pk__in=Problem.cis.through.objects.filter(ci__number__iexact=filters.ci).values(
                "problem_id"
            )
        )
    ordering = filters.ordering.strip()
    if ordering.lstrip("-") not in ORDERINGS:
        raise ValidationFailed(
            f"ordering must be one of {', '.join(sorted(ORDERINGS))}", field="ordering"
        )
    column = ordering.replace("state", "status")
    tie = "-id" if column.startswith("-") else "id"
    if filters.q:  # full-text: best matches first, then the requested order
        found = search.search(Problem, filters.q, request.user, queryset=problems)
        return found.order_by("-search_rank", column, tie)
    return problems.order_by(column, tie)


@router.get("/problems/{number}", response=ProblemOut, summary="One problem")
def get_problem(request, number: str):
    return services.get_visible(number, request.user)


@router.patch(
    "/problems/{number}",
    response=ProblemOut,
    summary="Change a problem",
    description=(
        "Send the `version` you read; if the problem changed since, the answer is 409 with "
        "the current state. `cis` and `fixing_changes` replace their lists."
    ),
)
def patch_problem(request, number: str, payload: ProblemPatch):
    problem = services.get_visible(number, request.user)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    extra: dict[str, Any] = {}
    if "cis" in data:
        extra["cis"] = _cis(data.pop("cis") or [], request.user)
    if "fixing_changes" in data:
        extra["fixing_changes"] = _changes(data.pop("fixing_changes") or [])
    changes = {}
    for name, value in data.items():
        lookup = _LOOKUPS.get(name)
        if lookup is not None:
            changes[name] = lookup(value)
            continue
        if value is None and name not in ("rca_method", "resolution_code"):
            raise ValidationFailed(f"{name} cannot be null", field=name)
        changes[name] = value or "" if name in ("rca_method", "resolution_code") else value
    services.update_problem(problem, actor=request.user, version=version, **extra, **changes)
    return _detail(problem)


@router.post(
    "/problems/{number}/transitions",
    response=ProblemOut,
    summary="Move a problem to another state",
    description=(
        "`to`: assessed, root_cause_analysis (both need a problem manager), known_error "
        "(needs `root_cause` and `workaround`), resolved (needs a fixing change or "
        "`resolution_notes` as the reason), closed, cancelled (needs `note`). Reopening is "
        "`to: root_cause_analysis` from resolved. A move the lifecycle does not allow is a "
        "409; a missing value a 422 naming the field."
    ),
)
def post_transition(request, number: str, payload: TransitionIn):
    problem = services.get_visible(number, request.user)
    services.transition(
        problem,
        payload.to,
        actor=request.user,
        version=payload.version,
        note=payload.note,
        root_cause=payload.root_cause,
        workaround=payload.workaround,
        resolution_code=payload.resolution_code or "",
        resolution_notes=payload.resolution_notes,
    )
    return _detail(problem)


@router.get(
    "/problems/{number}/incidents",
    response=list[LinkedIncidentOut],
    summary="The incidents linked to a problem (those you may see)",
)
@paginate(PagePagination)
def list_linked_incidents(request, number: str):
    problem = services.get_visible(number, request.user)
    return (
        services.visible_incidents(request.user)
        .filter(problem=problem)
        .select_related("service", "ci", "country")
        .order_by("-opened_at", "-id")
    )


@router.post(
    "/problems/{number}/incidents",
    response={200: list[LinkedIncidentOut]},
    summary="Link incidents to a problem",
    description="Links the incidents (by number); answers with the ones newly linked.",
)
def link_incidents(request, number: str, payload: LinkIn):
    problem = services.get_visible(number, request.user)
    found = _incidents(payload.incidents, request.user)
    linked = services.link_incidents(problem, found, actor=request.user)
    return Status(200, [services_reload_incident(i) for i in linked])


def services_reload_incident(incident: Incident) -> Incident:
    return Incident.objects.select_related("service", "ci", "country").get(pk=incident.pk)


@router.delete(
    "/problems/{number}/incidents/{incident_number}",
    response={204: None},
    summary="Unlink an incident from a problem",
)
def unlink_incident(request, number: str, incident_number: str):
    problem = services.get_visible(number, request.user)
    incident = _incidents([incident_number], request.user)[0]
    services.unlink_incident(problem, incident, actor=request.user)
    return Status(204, None)


@router.post(
    "/problems/{number}/comments",
    response={201: JournalEntryOut},
    summary="Add a work note (or a comment) to a problem's journal",
)
def post_comment(request, number: str, payload: CommentIn):
    problem = services.get_visible(number, request.user)
    entry = services.add_comment(
        problem, actor=request.user, body=payload.body, internal=payload.internal
    )
    return Status(201, entry)


@router.post("/problems/{number}/tasks", response={201: TaskOut}, summary="Add a problem task")
def create_task(request, number: str, payload: TaskIn):
    problem = services.get_visible(number, request.user)
    task = services.add_task(
        problem,
        actor=request.user,
        title=payload.title,
        description=payload.description,
        owner=_user(payload.owner, "owner"),
        due_at=payload.due_at,
    )
    return Status(201, task)


@router.patch(
    "/problems/{number}/tasks/{task_number}",
    response=TaskOut,
    summary="Change a problem task (state open/done, owner, text)",
)
def patch_task(request, number: str, task_number: str, payload: TaskPatch):
    problem = services.get_visible(number, request.user)
    task = problem.tasks.filter(number__iexact=task_number).first()
    if task is None:
        from itsmo.core.errors import NotFound

        raise NotFound(f"no task {task_number} on {problem.number}")
    data = payload.dict(exclude_unset=True)
    kwargs: dict[str, Any] = {}
    if "owner" in data:
        kwargs["owner"] = _user(data["owner"], "owner")
    services.update_task(
        task,
        actor=request.user,
        version=data.get("version"),
        status=data.get("state"),
        title=data.get("title"),
        description=data.get("description"),
        **kwargs,
    )
    return ProblemTask.objects.select_related("owner").get(pk=task.pk)


# -- problem candidates ----------------------------------------------------------------------


def _candidates():
    return ProblemCandidate.objects.select_related(
        "ci", "service", "category", "category__parent", "problem", "decided_by"
    ).prefetch_related(
        Prefetch("incidents", queryset=Incident.objects.only("pk", "number", "opened_at")),
        "countries",
        "business_processes",
    )


def _candidate_out(candidate: ProblemCandidate) -> ProblemCandidate:
    return _candidates().get(pk=candidate.pk)


@router.get(
    "/problem-candidates",
    response=list[CandidateOut],
    summary="Problem candidates (recurring incidents found by detection)",
    description="Best score first. `state` defaults to proposed and may repeat.",
)
@paginate(PagePagination)
def list_candidates(request, filters: Query[CandidateFilters]):
    states = filters.state or [CandidateState.PROPOSED]
    visible = ProblemCandidate.objects.visible_to(request.user).filter(state__in=states)
    return _candidates().filter(pk__in=visible.values("pk")).order_by("-score", "-last_at", "id")


@router.get("/problem-candidates/{candidate_id}", response=CandidateOut, summary="One candidate")
def get_candidate(request, candidate_id: int):
    return _candidate_out(services.get_visible_candidate(candidate_id, request.user))


@router.post(
    "/problem-candidates/{candidate_id}/accept",
    response={201: ProblemOut},
    summary="Accept a candidate: open the problem and link its incidents in one step",
)
def accept_candidate(request, candidate_id: int, payload: AcceptIn):
    candidate = services.get_visible_candidate(candidate_id, request.user)
    problem = services.accept_candidate(
        candidate,
        actor=request.user,
        title=payload.title,
        description=payload.description,
        impact=payload.impact,
        urgency=payload.urgency,
        problem_manager=_user(payload.problem_manager, "problem_manager"),
        assignment_group=_by_code(SupportGroup, payload.assignment_group, "assignment_group"),
    )
    return Status(201, _detail(problem))


@router.post(
    "/problem-candidates/{candidate_id}/merge",
    response=ProblemOut,
    summary="Merge a candidate into an existing problem (links its incidents there)",
)
def merge_candidate(request, candidate_id: int, payload: MergeIn):
    candidate = services.get_visible_candidate(candidate_id, request.user)
    problem = (
        Problem.objects.visible_to(request.user)
        .filter(number__iexact=payload.problem.strip())
        .first()
    )
    if problem is None:
        raise ValidationFailed(f"no problem {payload.problem!r}", field="problem")
    services.merge_candidate(candidate, problem, actor=request.user)
    return _detail(problem)


@router.post(
    "/problem-candidates/{candidate_id}/dismiss",
    response=CandidateOut,
    summary="Dismiss a candidate (remembered: never proposed again)",
)
def dismiss_candidate(request, candidate_id: int, payload: DismissIn):
    candidate = services.get_visible_candidate(candidate_id, request.user)
    services.dismiss_candidate(candidate, actor=request.user, reason=payload.reason)
    return _candidate_out(candidate)
