"""API for incidents: intake (idempotent), list, detail, PATCH, transitions, comments,
journal and SLA clocks. Thin: parse, look up what the user may see, call a service."""

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.http import FileResponse
from ninja import Field, File, Form, Header, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from itsmo.accounts.models import SupportGroup, User
from itsmo.api.helpers import (
    active_user as _user,
    by_code as _by_code,
    code_of as _code,
    found_or_422,
)
from itsmo.api.pagination import PagePagination
from itsmo.catalog import services as catalog
from itsmo.catalog.models import Service
from itsmo.changes.models import Change
from itsmo.cmdb.models import CI
from itsmo.core import journal, registry
from itsmo.core.api import JournalEntryOut
from itsmo.core.errors import NotFound, ValidationFailed
from itsmo.organization import services as organization
from itsmo.organization.models import BusinessUnit, Site
from itsmo.problems.models import Problem
from itsmo.search import services as search
from itsmo.slm.models import SLAClock

from . import priority, services, workspace
from .models import (
    Attachment,
    Category,
    Channel,
    Incident,
    OnHoldReason,
    ResolutionCode,
    Status as State,
)

router = Router(tags=["incidents"])

registry.register("incident", Incident)


# -- schemas ---------------------------------------------------------------------------------


class ClockOut(Schema):
    id: int
    definition: str
    kind: str
    metric: str
    state: str
    support_group: str | None
    target_minutes: float
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    breached_at: datetime | None
    elapsed_business_seconds: float
    paused_seconds: float
    percentage: float

    @staticmethod
    def resolve_definition(obj: SLAClock) -> str:
        return obj.definition.name

    @staticmethod
    def resolve_kind(obj: SLAClock) -> str:
        return obj.definition.kind

    @staticmethod
    def resolve_support_group(obj: SLAClock) -> str | None:
        return obj.support_group.code if obj.support_group_id else None

    @staticmethod
    def resolve_target_minutes(obj: SLAClock) -> float:
        return obj.target_seconds / 60


class IncidentListOut(Schema):
    number: str
    state: str
    priority: int
    impact: int
    urgency: int
    short_description: str
    channel: str
    caller: str
    service: str | None
    ci: str | None
    country: str | None
    region: str | None
    assignment_group: str | None
    assignee: str | None
    tier: str
    is_major: bool
    opened_at: datetime
    resolved_at: datetime | None
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_state(obj: Incident) -> str:
        return obj.status

    @staticmethod
    def resolve_caller(obj: Incident) -> str:
        return obj.caller.username

    @staticmethod
    def resolve_service(obj: Incident) -> str | None:
        return _code(obj.service)

    @staticmethod
    def resolve_ci(obj: Incident) -> str | None:
        return _code(obj.ci, "number")

    @staticmethod
    def resolve_country(obj: Incident) -> str | None:
        return _code(obj.country)

    @staticmethod
    def resolve_region(obj: Incident) -> str | None:
        return _code(obj.region)

    @staticmethod
    def resolve_assignment_group(obj: Incident) -> str | None:
        return _code(obj.assignment_group)

    @staticmethod
    def resolve_assignee(obj: Incident) -> str | None:
        return _code(obj.assignee, "username")


class IncidentOut(IncidentListOut):
    description: str
    affected_user: str | None
    site: str | None
    business_unit: str | None
    category: str | None
    subcategory: str | None
    on_hold_reason: str
    reassignment_count: int
    reopen_count: int
    is_first_contact_resolution: bool
    resolution_code: str
    resolution_notes: str
    caused_by_change: str | None
    problem: str | None
    parent: str | None
    major_incident_coordinator: str | None
    major_update_interval_minutes: int | None
    next_major_update_at: datetime | None
    post_incident_review: str
    post_incident_review_url: str
    responded_at: datetime | None
    closed_at: datetime | None
    external_source: str
    external_reference: str
    next_states: list[str]
    slas: list[ClockOut]

    @staticmethod
    def resolve_affected_user(obj: Incident) -> str | None:
        return _code(obj.affected_user, "username")

    @staticmethod
    def resolve_site(obj: Incident) -> str | None:
        return _code(obj.site)

    @staticmethod
    def resolve_business_unit(obj: Incident) -> str | None:
        return _code(obj.business_unit)

    @staticmethod
    def resolve_category(obj: Incident) -> str | None:
        return _code(obj.category, "name")

    @staticmethod
    def resolve_subcategory(obj: Incident) -> str | None:
        return _code(obj.subcategory, "name")

    @staticmethod
    def resolve_parent(obj: Incident) -> str | None:
        return _code(obj.parent, "number")

    @staticmethod
    def resolve_caused_by_change(obj: Incident) -> str | None:
        return _code(obj.caused_by_change, "number")

    @staticmethod
    def resolve_problem(obj: Incident) -> str | None:
        return _code(obj.problem, "number")

    @staticmethod
    def resolve_major_incident_coordinator(obj: Incident) -> str | None:
        return _code(obj.major_incident_coordinator, "username")

    @staticmethod
    def resolve_next_states(obj: Incident) -> list[str]:
        from .models import LIFECYCLE

        return LIFECYCLE.targets_from(obj.status)

    @staticmethod
    def resolve_slas(obj: Incident) -> list[SLAClock]:
        started = getattr(obj, "started_clocks", None)
        if started is not None:  # a new incident: the clocks it just started
            return sorted(started, key=lambda clock: (clock.metric, clock.pk))
        return list(
            SLAClock.objects.filter(incident_id=obj.pk)
            .select_related("definition", "support_group")
            .order_by("metric", "pk")
        )


class IncidentIn(Schema):
    short_description: str = Field(..., max_length=200)
    description: str = ""
    caller: str | None = Field(None, description="username; defaults to you")
    affected_user: str | None = Field(None, description="username")
    impact: int = Field(3, ge=1, le=3, description="1 high - 3 low")
    urgency: int = Field(3, ge=1, le=3, description="1 high - 3 low")
    service: str | None = Field(None, description="service code")
    ci: str | None = Field(None, description="CI number")
    country: str | None = Field(None, description="ISO code; defaults to the caller's")
    site: str | None = Field(None, description="site code")
    business_unit: str | None = Field(None, description="business unit code")
    category: int | None = Field(None, description="category id")
    subcategory: int | None = Field(None, description="subcategory id")
    channel: Channel = Channel.API
    assignment_group: str | None = Field(None, description="support group code")
    assignee: str | None = Field(None, description="username")
    is_major: bool = False


class IncidentPatch(Schema):
    version: int = Field(..., description="the version you read; a stale one is a 409")
    short_description: str | None = Field(None, max_length=200)
    description: str | None = None
    impact: int | None = Field(None, ge=1, le=3)
    urgency: int | None = Field(None, ge=1, le=3)
    service: str | None = None
    ci: str | None = None
    country: str | None = None
    site: str | None = None
    business_unit: str | None = None
    category: int | None = None
    subcategory: int | None = None
    affected_user: str | None = None
    caused_by_change: str | None = Field(None, description="change number (CHG…)")
    problem: str | None = Field(None, description="problem number (PRB…)")
    parent: str | None = Field(
        None,
        description="parent incident number (INC…): its resolution resolves this one; null unlinks",
    )
    is_first_contact_resolution: bool | None = None
    is_major: bool | None = None
    major_incident_coordinator: str | None = None
    major_update_interval_minutes: int | None = None
    post_incident_review: str | None = None
    post_incident_review_url: str | None = None
    assignment_group: str | None = Field(None, description="support group code")
    assignee: str | None = Field(None, description="username")


class TransitionIn(Schema):
    to: State
    version: int | None = Field(None, description="optional; a stale one is a 409")
    reason: OnHoldReason | None = Field(None, description="on hold: why")
    resolution_code: ResolutionCode | None = None
    resolution_notes: str = ""
    note: str = ""


class CommentIn(Schema):
    body: str = Field(..., min_length=1, max_length=20000)
    internal: bool = Field(False, description="a work note only staff see")


class IncidentFilters(Schema):
    state: list[State] | None = Field(None, description="one or more states")
    priority: list[int] | None = Field(None, description="one or more priorities 1-5")
    assignment_group: str | None = Field(None, description="support group code")
    assignee: str | None = Field(None, description="username, or `me`")
    service: str | None = Field(None, description="service code")
    country: str | None = Field(None, description="ISO code")
    is_major: bool | None = None
    opened_after: datetime | None = None
    opened_before: datetime | None = None
    q: str | None = Field(
        None, description="full-text: number, descriptions, resolution, public comments"
    )
    ordering: str = Field(
        "-opened_at",
        description="one of opened_at, priority, updated_at, number, state; `-` for descending",
    )


ORDERINGS = {"opened_at", "priority", "updated_at", "number", "state", "resolved_at"}


# -- lookups ---------------------------------------------------------------------------------


def _ci(value: str | None, user) -> CI | None:
    if not value:
        return None
    found = CI.objects.visible_to(user).filter(number__iexact=value).first()
    if found is None:
        raise ValidationFailed(f"no CI {value!r}", field="ci")
    return found


def _category(value: int | None, field: str) -> Category | None:
    if value is None:
        return None
    found = Category.objects.filter(pk=value, is_active=True).first()
    if found is None:
        raise ValidationFailed(f"no category {value}", field=field)
    return found


def _group(value: str | None, user, field: str = "assignment_group") -> SupportGroup | None:
    if not value:
        return None
    found = SupportGroup.objects.filter(code__iexact=value).first()
    if found is None:
        raise ValidationFailed(f"no support group {value!r}", field=field)
    return found


def _parent(value: str | None, user) -> Incident | None:
    if not value:
        return None
    found = Incident.objects.visible_to(user).filter(number__iexact=value.strip()).first()
    if found is None:
        raise ValidationFailed(f"no incident {value!r}", field="parent")
    return found


_LOOKUPS = {
    # Services and countries come from the per-process reference cache (each new incident
    # names them): the service with its support group, the country with its region.
    "service": lambda v, u: found_or_422(catalog.service_by_code, v, "service"),
    "country": lambda v, u: found_or_422(organization.country_by_code, v, "country"),
    "site": lambda v, u: _by_code(Site, v, "site"),
    "business_unit": lambda v, u: _by_code(BusinessUnit, v, "business_unit"),
    "ci": lambda v, u: _ci(v, u),
    "category": lambda v, u: _category(v, "category"),
    "subcategory": lambda v, u: _category(v, "subcategory"),
    "affected_user": lambda v, u: _user(v, "affected_user"),
    "major_incident_coordinator": lambda v, u: _user(v, "major_incident_coordinator"),
    "caused_by_change": lambda v, u: _by_code(Change, v, "caused_by_change", "number"),
    "problem": lambda v, u: _by_code(Problem, v, "problem", "number"),
}
#: Lookups of fields that only a PATCH sets.
_PATCH_ONLY = frozenset({"major_incident_coordinator", "caused_by_change", "problem"})


def _detail(incident: Incident) -> Incident:
    """The record as stored now (the caller already passed the visibility check)."""
    return services.reload(incident)


# -- endpoints -------------------------------------------------------------------------------


@router.post(
    "/incidents",
    response={201: IncidentOut, 200: IncidentOut},
    summary="Report an incident",
    description=(
        "Opens an incident with its priority (impact x urgency matrix) and SLA clocks. "
        "Send an `Idempotency-Key` header to retry safely: the same key from the same user "
        "returns the incident the first call opened, with 200 instead of 201. End users "
        "report for themselves only."
    ),
)
def create_incident(
    request,
    payload: IncidentIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    user = request.user
    values: dict[str, Any] = {
        name: _LOOKUPS[name](getattr(payload, name), user)
        for name in _LOOKUPS
        if name not in _PATCH_ONLY
    }
    caller = _user(payload.caller, "caller") if payload.caller else user
    incident = services.open_incident(
        caller=caller,
        actor=user,
        short_description=payload.short_description,
        description=payload.description,
        impact=payload.impact,
        urgency=payload.urgency,
        channel=payload.channel,
        assignment_group=_group(payload.assignment_group, user),
        assignee=_user(payload.assignee, "assignee"),
        is_major=payload.is_major,
        idempotency_key=idempotency_key or "",
        **values,
    )
    # The new incident is answered as it was written (its links are already in memory);
    # reading it back would only cost a query.
    return Status(200 if incident.is_replay else 201, incident)


@router.get(
    "/incidents",
    response=list[IncidentListOut],
    summary="List incidents",
    description=(
        "Incidents you may see: staff by region scope, end users those they reported or are "
        "affected by. `state` and `priority` may repeat."
    ),
)
@paginate(PagePagination)
def list_incidents(request, filters: Query[IncidentFilters]):
    incidents = Incident.objects.visible_to(request.user).select_related(
        "caller", "service", "ci", "country", "region", "assignment_group", "assignee"
    )
    if filters.state:
        incidents = incidents.filter(status__in=filters.state)
    if filters.priority:
        incidents = incidents.filter(priority__in=filters.priority)
    if filters.assignment_group:
        # Resolve the code first: with the group's id known when planning, PostgreSQL reads
        # the open queue in order from ``incident_open_queue`` instead of sorting the group.
        groups = SupportGroup.objects.filter(code__iexact=filters.assignment_group)
        incidents = incidents.filter(assignment_group__in=list(groups.values_list("pk", flat=True)))
    if filters.assignee:
        if filters.assignee == "me":
            incidents = incidents.filter(assignee=request.user)
        else:
            incidents = incidents.filter(assignee__username__iexact=filters.assignee)
    if filters.service:
        incidents = incidents.filter(service__code__iexact=filters.service)
    if filters.country:
        incidents = incidents.filter(country__code__iexact=filters.country)
    if filters.is_major is not None:
        incidents = incidents.filter(is_major=filters.is_major)
    if filters.opened_after:
        incidents = incidents.filter(opened_at__gte=filters.opened_after)
    if filters.opened_before:
        incidents = incidents.filter(opened_at__lt=filters.opened_before)
    ordering = filters.ordering.strip()
    if ordering.lstrip("-") not in ORDERINGS:
        raise ValidationFailed(
            f"ordering must be one of {', '.join(sorted(ORDERINGS))}", field="ordering"
        )
    column = ordering.replace("state", "status")
    descending = column.startswith("-")
    if filters.q:  # full-text: best matches first, then the requested order
        found = search.search(Incident, filters.q, request.user, queryset=incidents)
        return found.order_by("-search_rank", column, "-id" if descending else "id")
    return incidents.order_by(column, "-id" if descending else "id")


@router.get("/incidents/{number}", response=IncidentOut, summary="One incident")
def get_incident(request, number: str):
    return services.get_visible(number, request.user)


@router.patch(
    "/incidents/{number}",
    response=IncidentOut,
    summary="Change an incident",
    description=(
        "Send the `version` you read; if the incident changed since, the answer is 409 with "
        "the current state. A new impact or urgency recomputes the priority and re-baselines "
        "the SLA clocks. `assignment_group`/`assignee` reassign (functional escalation)."
    ),
)
def patch_incident(request, number: str, payload: IncidentPatch):
    incident = services.get_visible(number, request.user)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    assignment = {}
    if "assignment_group" in data:
        group = _group(data.pop("assignment_group"), request.user)
        if group is None:
            raise ValidationFailed(
                "an incident cannot be unassigned from its group", field="assignment_group"
            )
        assignment["group"] = group
    if "assignee" in data:
        assignment["assignee"] = _user(data.pop("assignee"), "assignee")
    parent = services.KEEP_PARENT
    if "parent" in data:
        parent = _parent(data.pop("parent"), request.user)
    changes = {}
    for name, value in data.items():
        lookup = _LOOKUPS.get(name)
        changes[name] = lookup(value, request.user) if lookup else value
        if value is None and name not in _LOOKUPS and name != "major_update_interval_minutes":
            raise ValidationFailed(f"{name} cannot be null", field=name)
    services.patch_with_parent(
        incident,
        actor=request.user,
        version=version,
        parent=parent,
        assignment=assignment,
        **changes,
    )
    return _detail(incident)


@router.post(
    "/incidents/{number}/transitions",
    response=IncidentOut,
    summary="Move an incident to another state",
    description=(
        "`to`: in_progress, on_hold (with `reason`), resolved (with `resolution_code` and "
        "`resolution_notes`), closed, cancelled. Reopening is `to: in_progress` from resolved. "
        "A move the lifecycle does not allow is a 409; a missing reason or resolution a 422."
    ),
)
def post_transition(request, number: str, payload: TransitionIn):
    incident = services.get_visible(number, request.user)
    services.transition(
        incident,
        payload.to,
        actor=request.user,
        version=payload.version,
        reason=payload.reason or "",
        resolution_code=payload.resolution_code or "",
        resolution_notes=payload.resolution_notes,
        note=payload.note,
    )
    return _detail(incident)


@router.post(
    "/incidents/{number}/comments",
    response={201: JournalEntryOut},
    summary="Comment (public) or add a work note (internal, staff only)",
)
def post_comment(request, number: str, payload: CommentIn):
    incident = services.get_visible(number, request.user)
    entry = services.add_comment(
        incident, actor=request.user, body=payload.body, internal=payload.internal
    )
    return Status(201, entry)


@router.get(
    "/incidents/{number}/journal",
    response=list[JournalEntryOut],
    summary="The incident's timeline (work notes for staff only)",
)
@paginate(PagePagination)
def get_journal(request, number: str):
    incident = services.get_visible(number, request.user)
    return journal.timeline(incident, include_internal=request.user.is_staff_member)


@router.get("/incidents/{number}/slas", response=list[ClockOut], summary="The SLA clocks")
def get_slas(request, number: str):
    incident = services.get_visible(number, request.user)
    return IncidentOut.resolve_slas(incident)


# -- attachments -----------------------------------------------------------------------------


class IncidentAttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    internal: bool
    uploaded_by: str | None
    uploaded_at: datetime

    @staticmethod
    def resolve_internal(obj: Attachment) -> bool:
        return obj.is_internal

    @staticmethod
    def resolve_uploaded_by(obj: Attachment) -> str | None:
        return _code(obj.uploaded_by, "username")


def _attachments(incident: Incident, user):
    attachments = incident.attachments.select_related("uploaded_by").order_by("uploaded_at", "id")
    return attachments if user.is_staff_member else attachments.filter(is_internal=False)


@router.get(
    "/incidents/{number}/attachments",
    response=list[IncidentAttachmentOut],
    summary="The incident's attachments (internal ones for staff only)",
)
def list_attachments(request, number: str):
    incident = services.get_visible(number, request.user)
    return list(_attachments(incident, request.user))


@router.post(
    "/incidents/{number}/attachments",
    response={201: IncidentAttachmentOut},
    summary="Attach a file",
    description=(
        "Multipart upload, field `file`; `internal` (staff only) hides it from the caller. "
        "A file over the size limit (`ITSMO_ATTACHMENT_MAX_BYTES`) or of a type outside the "
        "allow-list (`ITSMO_ATTACHMENT_TYPES`, judged by the file name's extension) is a 422 "
        "naming `file`."
    ),
)
def post_attachment(
    request, number: str, file: File[UploadedFile] = None, internal: Form[bool] = False
):
    incident = services.get_visible(number, request.user)
    if file is None:
        raise ValidationFailed("send the file in the multipart field 'file'", field="file")
    attachment = services.add_attachment(
        incident, actor=request.user, file=file, name=file.name or "", internal=internal
    )
    return Status(201, attachment)


@router.get(
    "/incidents/{number}/attachments/{attachment_id}",
    summary="Download an attachment",
    description="The file itself, as a download (`Content-Disposition: attachment`).",
    openapi_extra={
        "responses": {
            "200": {
                "description": "the file",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def download_attachment(request, number: str, attachment_id: int):
    incident = services.get_visible(number, request.user)
    attachment = workspace.attachment(
        incident, attachment_id, include_internal=request.user.is_staff_member
    )
    if attachment is None:
        raise NotFound(f"no attachment {attachment_id} on {incident.number}")
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# -- watchers --------------------------------------------------------------------------------


class IncidentWatcherOut(Schema):
    username: str
    name: str

    @staticmethod
    def resolve_name(obj: User) -> str:
        return str(obj)


class IncidentWatcherIn(Schema):
    username: str = Field(..., min_length=1, max_length=150)


def _watchers(incident: Incident) -> list[User]:
    return list(incident.watchers.order_by("username"))


@router.get(
    "/incidents/{number}/watchers",
    response=list[IncidentWatcherOut],
    summary="Who watches the incident (gets its public comments)",
)
def list_watchers(request, number: str):
    return _watchers(services.get_visible(number, request.user))


@router.post(
    "/incidents/{number}/watchers",
    response={201: list[IncidentWatcherOut]},
    summary="Add a watcher",
    description="Staff add anyone; end users only themselves. Answers the watch list.",
)
def post_watcher(request, number: str, payload: IncidentWatcherIn):
    incident = services.get_visible(number, request.user)
    user = _user(payload.username, "username")
    services.add_watcher(incident, actor=request.user, user=user)
    return Status(201, _watchers(incident))


@router.delete(
    "/incidents/{number}/watchers/{username}",
    response={204: None},
    summary="Remove a watcher",
    description="Staff remove anyone; end users only themselves. 404 if not watching.",
)
def delete_watcher(request, number: str, username: str):
    incident = services.get_visible(number, request.user)
    user = User.objects.filter(username__iexact=username).first()
    if user is None:
        raise NotFound(f"no user {username!r}", field="username")
    services.remove_watcher(incident, actor=request.user, user=user)
    return Status(204, None)


# -- parent and children ---------------------------------------------------------------------


@router.get(
    "/incidents/{number}/children",
    response=list[IncidentListOut],
    summary="The incidents that follow this one (resolved with it)",
    description="Set a child's parent with `PATCH /incidents/{number}` and `parent`.",
)
@paginate(PagePagination)
def list_children(request, number: str):
    incident = services.get_visible(number, request.user)
    return (
        Incident.objects.visible_to(request.user)
        .filter(parent=incident)
        .select_related(
            "caller", "service", "ci", "country", "region", "assignment_group", "assignee"
        )
        .order_by("opened_at", "id")
    )


# -- categories and the priority matrix ------------------------------------------------------


class IncidentCategoryOut(Schema):
    id: int
    name: str
    service: str | None
    sort_order: int
    children: list["IncidentCategoryOut"] = []


IncidentCategoryOut.model_rebuild()


class IncidentCategoryIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    parent: int | None = Field(None, description="id of a top-level category: a subcategory")
    service: str | None = Field(None, description="service code: offered for it only")
    sort_order: int = Field(0, ge=0, le=32767)


def _category_node(category: Category, children: list[dict]) -> dict:
    return {
        "id": category.pk,
        "name": category.name,
        "service": category.service.code if category.service_id else None,
        "sort_order": category.sort_order,
        "children": children,
    }


@router.get(
    "/incident-categories",
    response=list[IncidentCategoryOut],
    summary="The active incident categories, as a tree",
    description=(
        "Top-level categories with their subcategories in `children`. With `service`, only "
        "the categories offered for that service (or for any service)."
    ),
)
def list_categories(request, service: str | None = None):
    categories = Category.objects.filter(is_active=True).select_related("service")
    if service:
        found = _by_code(Service, service, "service")
        categories = categories.filter(Q(service__isnull=True) | Q(service=found))
    nodes = list(categories.order_by("sort_order", "name", "id"))
    by_parent: dict[int | None, list[Category]] = {}
    for category in nodes:
        by_parent.setdefault(category.parent_id, []).append(category)

    def tree(parent_id: int | None, seen: frozenset[int]) -> list[dict]:
        return [
            _category_node(c, tree(c.pk, seen | {c.pk}) if c.pk not in seen else [])
            for c in by_parent.get(parent_id, [])
        ]

    return tree(None, frozenset())


@router.post(
    "/incident-categories",
    response={201: IncidentCategoryOut},
    summary="Define an incident category or subcategory (administrators)",
)
def create_category(request, payload: IncidentCategoryIn):
    parent = None
    if payload.parent is not None:
        parent = Category.objects.filter(pk=payload.parent).first()
        if parent is None:
            raise ValidationFailed(f"no category {payload.parent}", field="parent")
    category = services.create_category(
        actor=request.user,
        name=payload.name,
        parent=parent,
        service=_by_code(Service, payload.service, "service"),
        sort_order=payload.sort_order,
    )
    return Status(201, _category_node(category, []))


class PriorityMatrixCellOut(Schema):
    impact: int
    urgency: int
    priority: int
    label: str
    is_default: bool = Field(..., description="false: a configured override of ITIL's 3x3")


@router.get(
    "/priority-matrix",
    response=list[PriorityMatrixCellOut],
    summary="Impact x urgency → priority, as configured",
    description="The nine cells, by impact then urgency (1 high - 3 low); P1 critical - P5.",
)
def get_priority_matrix(request):
    overrides = services.priority_matrix()
    cells = []
    for impact in priority.LEVELS:
        for urgency in priority.LEVELS:
            value = priority.priority_for(impact, urgency, overrides)
            cells.append(
                {
                    "impact": impact,
                    "urgency": urgency,
                    "priority": value,
                    "label": priority.label(value),
                    "is_default": (impact, urgency) not in overrides,
                }
            )
    return cells
