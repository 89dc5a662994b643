"""The write path of problems: open, update, transition, link incidents, fixing changes,
tasks, comments, and the problem-candidate workflow (detect, accept, merge, dismiss).

UI, API, jobs and the demo all come through here. Each operation runs in one transaction:
check permission and guard, lock the row, write, journal. Incidents are linked through
:func:`itsmo.incidents.services.link_problem`, so their own journal and version follow.
Whatever changes the text a search finds (number, title, description, root cause,
workaround, resolution notes, public comments) or the scope (country, region) re-indexes
the problem in the same transaction (:mod:`itsmo.search.services`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from itsmo.accounts.models import SupportGroup, User
from itsmo.catalog.models import Service
from itsmo.changes.models import Change
from itsmo.cmdb.models import CI
from itsmo.core import journal, numbering
from itsmo.core.errors import (
    NotFound,
    PermissionDenied,
    StaleVersion,
    TransitionNotAllowed,
    ValidationFailed,
)
from itsmo.core.versioning import save_versioned
from itsmo.incidents import services as incidents
from itsmo.incidents.models import Incident, Status as IncidentStatus
from itsmo.knowledge import services as knowledge
from itsmo.organization.models import Country, Region
from itsmo.search import services as search

from .models import (
    FINAL_STATES,
    LIFECYCLE,
    TASK_LIFECYCLE,
    CandidateState,
    Problem,
    ProblemCandidate,
    ProblemTask,
    RcaMethod,
    ResolutionCode,
    Status,
    TaskStatus,
)

PREFIX = "PRB"
TASK_PREFIX = "PTASK"
#: How far back detection looks by default.
DEFAULT_LOOKBACK = timedelta(days=90)

#: Fields :func:`update_problem` may change (links, tasks and state have their own verbs).
EDITABLE_FIELDS = (
    "title",
    "description",
    "service",
    "impact",
    "urgency",
    "problem_manager",
    "assignment_group",
    "country",
    "region",
    "rca_method",
    "root_cause",
    "workaround",
    "resolution_code",
    "resolution_notes",
)
TEXT_FIELDS = {
    "title": 200,
    "description": None,
    "root_cause": None,
    "workaround": None,
    "resolution_notes": None,
}
#: Fields whose change re-indexes the problem: its searchable text and the scope its
#: search document copies.
SEARCHED_FIELDS = frozenset(TEXT_FIELDS) | {"country", "region"}


# -- helpers -------------------------------------------------------------------------------


def _actor(actor) -> User | None:
    return actor if getattr(actor, "pk", None) else None


def _require_staff(actor, what: str) -> None:
    if actor is not None and not actor.is_staff_member:
        raise PermissionDenied(f"only staff may {what}")


def _check_text(value: Any, field: str, *, required: bool, max_length: int | None) -> str:
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(f"{field} must be text", field=field)
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(f"{field} is required", field=field)
    if max_length and len(text) > max_length:
        raise ValidationFailed(f"{field} is longer than {max_length} characters", field=field)
    return text


def _check_level(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in (1, 2, 3):
        raise ValidationFailed(f"{field} must be 1 (high), 2 or 3 (low)", field=field)
    return value


def _check_choice(value: Any, choices, field: str) -> str:
    value = value or ""
    if value and value not in choices.values:
        raise ValidationFailed(f"{field} must be one of {', '.join(choices.values)}", field=field)
    return value


def _check_people(problem: Problem) -> None:
    manager = problem.problem_manager
    if manager is not None and (not manager.is_active or not manager.is_staff_member):
        raise ValidationFailed("the problem manager must be active staff", field="problem_manager")
    group = problem.assignment_group
    if group is not None and not group.is_active:
        raise ValidationFailed(f"group {group.code} is not active", field="assignment_group")


def _check_place(problem: Problem) -> None:
    """The region follows the country; a region alone is a problem of the whole region."""
    if problem.country_id:
        if problem.region_id and problem.region_id != problem.country.region_id:
            raise ValidationFailed("the country is not in that region", field="region")
        problem.region_id = problem.country.region_id


def _lock(problem: Problem, version: int | None) -> Problem:
    locked = (
        Problem.objects.select_for_update(of=("self",))
        .select_related("country", "problem_manager", "assignment_group", "service")
        .get(pk=problem.pk)
    )
    if version is not None and locked.version != version:
        raise StaleVersion(
            f"problem {locked.number} was changed by someone else "
            f"(you sent version {version}, it is now {locked.version})",
            current_version=locked.version,
            record=locked,
        )
    return locked


def _refuse_final(problem: Problem) -> None:
    if problem.status in FINAL_STATES:
        raise TransitionNotAllowed(
            f"problem {problem.number} is {problem.status} and cannot change", field="status"
        )


def _sync(target: Problem, source: Problem) -> None:
    for field in Problem._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.fields_cache = dict(source._state.fields_cache)


def _numbers(records) -> str:
    return ", ".join(sorted(r.number for r in records))


def _bump(problem: Problem) -> None:
    """A change to what hangs off the problem (links, tasks) is a new version of it."""
    save_versioned(problem, problem.version, [])


# -- opening ---------------------------------------------------------------------------------


def open_problem(
    *,
    title: str,
    actor: User | None,
    description: str = "",
    impact: int = 2,
    urgency: int = 2,
    service: Service | None = None,
    cis: Iterable[CI] = (),
    problem_manager: User | None = None,
    assignment_group: SupportGroup | None = None,
    country: Country | None = None,
    region: Region | None = None,
    incidents_to_link: Iterable[Incident] = (),
    external_source: str = "",
    external_reference: str = "",
    opened_at: datetime | None = None,
) -> Problem:
    """Open a problem: number, priority (impact x urgency), journal; link incidents if given."""
    actor = _actor(actor)
    _require_staff(actor, "open problems")
    problem = Problem(
        title=_check_text(title, "title", required=True, max_length=200),
        description=_check_text(description, "description", required=False, max_length=None),
        impact=_check_level(impact, "impact"),
        urgency=_check_level(urgency, "urgency"),
        service=service,
        problem_manager=problem_manager,
        assignment_group=assignment_group
        or (service.support_group if service is not None else None),
        country=country,
        region=region,
        opened_by=actor,
        opened_at=opened_at or timezone.now(),
        external_source=(external_source or "").strip(),
        external_reference=(external_reference or "").strip(),
    )
    problem.priority = incidents.compute_priority(problem.impact, problem.urgency)
    _check_people(problem)
    _check_place(problem)
    cis = [ci for ci in cis if ci is not None]
    to_link = list(incidents_to_link)
    with transaction.atomic():
        problem.number = numbering.next_reference(PREFIX)
        problem.save()
        journal.record_created(problem, actor, at=problem.opened_at)
        search.index(problem, fresh=True)
        if cis:
            problem.cis.add(*cis)
            journal.record_changes(problem, actor, {"cis": ("", _numbers(cis))})
        if to_link:
            link_incidents(problem, to_link, actor=actor)
    return problem


# -- updating --------------------------------------------------------------------------------


@transaction.atomic
def update_problem(
    problem: Problem,
    *,
    actor: User | None,
    version: int | None,
    cis: Iterable[CI] | None = None,
    fixing_changes: Iterable[Change] | None = None,
    **changes: Any,
) -> Problem:
    """Change fields (``EDITABLE_FIELDS``), the CIs and the fixing changes; a stale
    ``version`` is refused. Impact or urgency recompute the priority."""
    actor = _actor(actor)
    _require_staff(actor, "edit problems")
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationFailed(f"{unknown[0]} cannot be changed here", field=unknown[0])
    locked = _lock(problem, version)
    _refuse_final(locked)
    before = {name: getattr(locked, name) for name in (*EDITABLE_FIELDS, "priority")}
    for name, value in changes.items():
        if name in TEXT_FIELDS:
            value = _check_text(value, name, required=name == "title", max_length=TEXT_FIELDS[name])
        elif name in ("impact", "urgency"):
            value = _check_level(value, name)
        elif name == "rca_method":
            value = _check_choice(value, RcaMethod, name)
        elif name == "resolution_code":
            value = _check_choice(value, ResolutionCode, name)
        setattr(locked, name, value)
    if "country" in changes and "region" not in changes:
        locked.region = None  # the region follows the new country (none: it spans regions)
    locked.priority = incidents.compute_priority(locked.impact, locked.urgency)
    _check_people(locked)
    _check_place(locked)
    after = {name: getattr(locked, name) for name in before}
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    related: dict[str, tuple[str, str]] = {}
    if cis is not None:
        new_cis = {ci.pk: ci for ci in cis if ci is not None}
        old_cis = {ci.pk: ci for ci in locked.cis.all()}
        if set(new_cis) != set(old_cis):
            locked.cis.set(list(new_cis.values()))
            related["cis"] = (_numbers(old_cis.values()), _numbers(new_cis.values()))
    if fixing_changes is not None:
        new_changes = {c.pk: c for c in fixing_changes if c is not None}
        old_changes = {c.pk: c for c in locked.fixing_changes.all()}
        if set(new_changes) != set(old_changes):
            locked.fixing_changes.set(list(new_changes.values()))
            related["fixing_changes"] = (
                _numbers(old_changes.values()),
                _numbers(new_changes.values()),
            )
    if not changed and not related:
        _sync(problem, locked)
        return problem
    fields = [name for name in changed] + ["region"]
    save_versioned(locked, locked.version, sorted(set(fields)))
    journal.record_changes(locked, actor, {**changed, **related})
    if SEARCHED_FIELDS & set(changed):
        search.index(locked)  # the text, or the scope the search document carries
    _sync(problem, locked)
    return problem


def add_fixing_change(problem: Problem, change: Change, *, actor: User | None) -> Problem:
    """Record ``change`` as (one of) the change(s) that remove the problem's cause."""
    current = list(problem.fixing_changes.all())
    if any(c.pk == change.pk for c in current):
        return problem
    return update_problem(problem, actor=actor, version=None, fixing_changes=[*current, change])


# -- lifecycle -------------------------------------------------------------------------------


def _transition_field(to: str, problem: Problem) -> str:
    if to in (Status.ASSESSED, Status.ROOT_CAUSE_ANALYSIS):
        return "problem_manager"
    if to == Status.KNOWN_ERROR:
        return "root_cause" if not (problem.root_cause or "").strip() else "workaround"
    if to == Status.RESOLVED:
        return "resolution_notes"
    return "note"


@transaction.atomic
def transition(
    problem: Problem,
    to: str,
    *,
    actor: User | None,
    version: int | None = None,
    note: str = "",
    root_cause: str | None = None,
    workaround: str | None = None,
    resolution_code: str = "",
    resolution_notes: str | None = None,
    now: datetime | None = None,
) -> Problem:
    """Move the problem along its lifecycle (``models.LIFECYCLE``).

    Values needed by the guard may come with the move: the root cause and workaround for a
    known error, the resolution code and notes (the reason, when no change fixes it) for
    resolved, a ``note`` (the reason) to cancel."""
    actor = _actor(actor)
    _require_staff(actor, "work problems")
    now = now or timezone.now()
    locked = _lock(problem, version)
    if to not in Status.values:
        raise ValidationFailed(f"unknown state {to!r}", field="to")
    old = locked.status
    if LIFECYCLE.find(old, to) is None:
        raise TransitionNotAllowed(f"cannot go from {old!r} to {to!r}", field="to")
    before = {
        "root_cause": locked.root_cause,
        "workaround": locked.workaround,
        "resolution_code": locked.resolution_code,
        "resolution_notes": locked.resolution_notes,
    }
    touched = ["status"]
    if root_cause is not None and to == Status.KNOWN_ERROR:
        locked.root_cause = _check_text(root_cause, "root_cause", required=False, max_length=None)
    if workaround is not None and to == Status.KNOWN_ERROR:
        locked.workaround = _check_text(workaround, "workaround", required=False, max_length=None)
    if to == Status.RESOLVED:
        code = _check_choice(resolution_code, ResolutionCode, "resolution_code")
        if resolution_notes is not None:
            locked.resolution_notes = _check_text(
                resolution_notes, "resolution_notes", required=False, max_length=None
            )
        if code:
            locked.resolution_code = code
        if code == ResolutionCode.FIX_APPLIED and not locked.has_fixing_change():
            raise ValidationFailed("a fix applied needs the fixing change", field="fixing_changes")
    refusal = LIFECYCLE.refusal(locked, to, note=note)
    if refusal is not None:
        raise ValidationFailed(refusal, field=_transition_field(to, locked))
    LIFECYCLE.apply(locked, to, note=note)
    if to == Status.KNOWN_ERROR:
        locked.known_error_at = locked.known_error_at or now
        touched += ["root_cause", "workaround", "known_error_at"]
    elif to == Status.RESOLVED:
        if not locked.resolution_code:
            locked.resolution_code = (
                ResolutionCode.FIX_APPLIED
                if locked.has_fixing_change()
                else ResolutionCode.RISK_ACCEPTED
            )
        locked.resolved_at = now
        touched += ["resolution_code", "resolution_notes", "resolved_at"]
    elif to == Status.CLOSED:
        locked.closed_at = now
        touched.append("closed_at")
    elif to == Status.CANCELLED:
        locked.cancelled_at = now
        touched.append("cancelled_at")
    elif old == Status.RESOLVED:
        locked.resolved_at = None
        locked.resolution_code = ""
        touched += ["resolved_at", "resolution_code"]
    save_versioned(locked, locked.version, sorted(set(touched)))
    after = {name: getattr(locked, name) for name in before}
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    journal.record_changes(locked, actor, changed, at=now)
    if SEARCHED_FIELDS & set(changed):
        search.index(locked)  # the root cause, workaround or resolution notes it was given
    body = note or ""
    if to == Status.RESOLVED:
        body = f"{ResolutionCode(locked.resolution_code).label}. {locked.resolution_notes}".strip()
    journal.record_state_change(locked, actor, "status", old, to, note=str(body), at=now)
    if to == Status.KNOWN_ERROR:
        # A known error publishes its workaround for agents and the portal (or refreshes
        # the article of an earlier round).
        knowledge.publish_known_error(locked, actor=actor)
    _sync(problem, locked)
    return problem


# -- linked incidents ------------------------------------------------------------------------


@transaction.atomic
def link_incidents(
    problem: Problem, incident_list: Iterable[Incident], *, actor: User | None
) -> list[Incident]:
    """Relate incidents to the problem (through the incidents' write path); returns those
    newly linked. An incident already related to another problem is moved to this one."""
    actor = _actor(actor)
    _require_staff(actor, "link incidents to problems")
    locked = _lock(problem, None)
    if locked.status in FINAL_STATES:
        raise TransitionNotAllowed(
            f"problem {locked.number} is {locked.status}; incidents cannot be linked",
            field="incidents",
        )
    linked = []
    for incident in sorted({i.pk: i for i in incident_list}.values(), key=lambda i: i.pk):
        if incident.problem_id == locked.pk:
            continue
        incidents.link_problem(incident, locked, actor=actor)
        linked.append(incident)
    if linked:
        journal.record_changes(locked, actor, {"incidents+": ("", _numbers(linked))})
        _bump(locked)
    _sync(problem, locked)
    return linked


@transaction.atomic
def unlink_incident(problem: Problem, incident: Incident, *, actor: User | None) -> Problem:
    actor = _actor(actor)
    _require_staff(actor, "unlink incidents from problems")
    locked = _lock(problem, None)
    if incident.problem_id != locked.pk:
        raise ValidationFailed(
            f"{incident.number} is not linked to {locked.number}", field="incident"
        )
    incidents.link_problem(incident, None, actor=actor)
    journal.record_changes(locked, actor, {"incidents-": (incident.number, "")})
    _bump(locked)
    _sync(problem, locked)
    return problem


# -- comments --------------------------------------------------------------------------------


@transaction.atomic
def add_comment(problem: Problem, *, actor: User | None, body: str, internal: bool = True):
    """A work note (internal, the default: problems are staff records) or a comment."""
    actor = _actor(actor)
    _require_staff(actor, "comment on problems")
    text = _check_text(body, "body", required=True, max_length=20000)
    locked = _lock(problem, None)
    entry = journal.add_comment(locked, actor, text, internal=internal)
    if not internal:
        search.index(locked)  # public comments are searchable, work notes are not
    return entry


# -- tasks -----------------------------------------------------------------------------------


def _check_owner(owner: User | None) -> None:
    if owner is not None and (not owner.is_active or not owner.is_staff_member):
        raise ValidationFailed("the owner must be active staff", field="owner")


@transaction.atomic
def add_task(
    problem: Problem,
    *,
    actor: User | None,
    title: str,
    description: str = "",
    owner: User | None = None,
    due_at: datetime | None = None,
) -> ProblemTask:
    actor = _actor(actor)
    _require_staff(actor, "add problem tasks")
    title = _check_text(title, "title", required=True, max_length=200)
    description = _check_text(description, "description", required=False, max_length=None)
    _check_owner(owner)
    locked = _lock(problem, None)
    _refuse_final(locked)
    task = ProblemTask(
        problem=locked,
        number=numbering.next_reference(TASK_PREFIX),
        title=title,
        description=description,
        owner=owner,
        due_at=due_at,
    )
    task.save()
    owner_text = f" ({owner})" if owner else ""
    journal.record_changes(locked, actor, {"tasks+": ("", f"{task.number} {title}{owner_text}")})
    _bump(locked)
    _sync(problem, locked)
    return task


@transaction.atomic
def update_task(
    task: ProblemTask,
    *,
    actor: User | None,
    version: int | None = None,
    status: str | None = None,
    owner: User | bool | None = False,
    title: str | None = None,
    description: str | None = None,
) -> ProblemTask:
    """Change a task: its state (open ⇄ done through ``TASK_LIFECYCLE``), owner, text.
    ``owner=False`` (the default) leaves the owner alone; ``None`` clears it."""
    actor = _actor(actor)
    _require_staff(actor, "work problem tasks")
    locked = ProblemTask.objects.select_for_update().get(pk=task.pk)
    if version is not None and locked.version != version:
        raise StaleVersion(
            f"task {locked.number} was changed by someone else "
            f"(you sent version {version}, it is now {locked.version})",
            current_version=locked.version,
            record=locked,
        )
    problem = _lock(locked.problem, None)
    _refuse_final(problem)
    changes: dict[str, tuple[Any, Any]] = {}
    fields: list[str] = []
    if title is not None:
        new = _check_text(title, "title", required=True, max_length=200)
        if new != locked.title:
            changes["title"] = (locked.title, new)
            locked.title = new
            fields.append("title")
    if description is not None:
        new = _check_text(description, "description", required=False, max_length=None)
        if new != locked.description:
            changes["description"] = (locked.description, new)
            locked.description = new
            fields.append("description")
    if owner is not False:
        _check_owner(owner)
        if (owner.pk if owner else None) != locked.owner_id:
            changes["owner"] = (locked.owner, owner)
            locked.owner = owner
            fields.append("owner")
    old_status = locked.status
    if status is not None and status != locked.status:
        if status not in TaskStatus.values:
            raise ValidationFailed(
                f"state must be one of {', '.join(TaskStatus.values)}", field="state"
            )
        TASK_LIFECYCLE.apply(locked, status)
        locked.done_at = timezone.now() if status == TaskStatus.DONE else None
        fields += ["status", "done_at"]
    if not fields:
        return task
    save_versioned(locked, locked.version, fields)
    entries = {f"{locked.number} {name}": value for name, value in changes.items()}
    if locked.status != old_status:
        entries[f"{locked.number} state"] = (old_status, locked.status)
    journal.record_changes(problem, actor, entries)
    _bump(problem)
    for field in ProblemTask._meta.concrete_fields:
        setattr(task, field.attname, getattr(locked, field.attname))
    return task


# -- reading ---------------------------------------------------------------------------------


_DETAIL_RELATED = (
    "service",
    "country",
    "region",
    "problem_manager",
    "assignment_group",
    "opened_by",
)


def reload(problem: Problem) -> Problem:
    return Problem.objects.select_related(*_DETAIL_RELATED).get(pk=problem.pk)


def get_visible(number: str, user) -> Problem:
    """The problem ``number`` if ``user`` may see it, else :class:`NotFound`."""
    problem = (
        Problem.objects.visible_to(user)
        .select_related(*_DETAIL_RELATED)
        .filter(number=(number or "").strip().upper())
        .first()
    )
    if problem is None:
        raise NotFound(f"no problem {number}")
    return problem


def get_visible_candidate(pk: int, user) -> ProblemCandidate:
    candidate = ProblemCandidate.objects.visible_to(user).filter(pk=pk).first()
    if candidate is None:
        raise NotFound(f"no problem candidate {pk}")
    return candidate


def visible_incidents(user):
    """Incidents ``user`` may link (the incidents' own scope)."""
    return Incident.objects.visible_to(user)


# -- problem candidates ----------------------------------------------------------------------


def _samples(since: datetime, until: datetime):
    """Incidents opened in [since, until), not linked to a problem, as detection samples."""
    from .detection import IncidentSample

    processes: dict[int, frozenset] = {}
    for service_id, process_id in Service.business_processes.through.objects.values_list(
        "service_id", "business_process_id"
    ):
        processes[service_id] = processes.get(service_id, frozenset()) | {process_id}
    rows = (
        Incident.objects.filter(problem__isnull=True, opened_at__gte=since, opened_at__lt=until)
        .exclude(status=IncidentStatus.CANCELLED)
        .order_by("opened_at", "pk")
        .values_list(
            "pk",
            "opened_at",
            "short_description",
            "description",
            "service_id",
            "ci_id",
            "category_id",
            "subcategory_id",
            "country_id",
        )
    )
    for (
        pk,
        opened_at,
        short,
        text,
        service_id,
        ci_id,
        category_id,
        sub_id,
        country_id,
    ) in rows.iterator(chunk_size=5000):
        yield IncidentSample(
            key=pk,
            opened_at=opened_at,
            text=f"{short}\n{text}".strip(),
            service=service_id,
            ci=ci_id,
            category=sub_id or category_id,
            country=country_id,
            business_processes=processes.get(service_id, frozenset()),
        )


def detect_candidates(
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    window: timedelta | None = None,
    min_incidents: int | None = None,
    similarity: str | None = None,
    finder: Callable | None = None,
) -> list[ProblemCandidate]:
    """Find recurring incidents (not linked to a problem yet) opened in [since, until) and
    store them as proposed problem candidates; returns the candidates proposed or updated.

    A signature already accepted, merged or dismissed is skipped (never proposed again);
    a proposed one is updated with the fresh evidence. ``finder`` is the detection engine
    (default :func:`itsmo.problems.detection.find_candidates`)."""
    until = until or timezone.now()
    since = since or until - DEFAULT_LOOKBACK
    if since >= until:
        raise ValidationFailed("since must be before until", field="since")
    if finder is None:
        from .detection import find_candidates as finder
    options: dict[str, Any] = {}
    if window is not None:
        options["window"] = window
    if min_incidents is not None:
        options["min_incidents"] = min_incidents
    if similarity is not None:
        options["similarity"] = similarity
    found = finder(_samples(since, until), **options)
    return store_candidates(found)


def store_candidates(found: Iterable[Any]) -> list[ProblemCandidate]:
    """Store what the detection engine returned (``detection.Candidate`` objects)."""
    found = list(found)
    if not found:
        return []
    existing = {
        c.signature: c
        for c in ProblemCandidate.objects.filter(signature__in=[f.signature for f in found])
    }
    stored = []
    for item in found:
        current = existing.get(item.signature)
        if current is not None and current.state != CandidateState.PROPOSED:
            continue  # decided once: never proposed again
        try:
            with transaction.atomic():
                stored.append(_store_candidate(item, current))
        except IntegrityError:
            continue  # a detection run in parallel stored this signature first
    return stored


def _store_candidate(item, current: ProblemCandidate | None) -> ProblemCandidate:
    keys = list(item.keys)
    valid = set(Incident.objects.filter(pk__in=keys).values_list("pk", flat=True))
    keys = [k for k in keys if k in valid]
    values = dict(
        incident_count=len(keys),
        first_at=item.first_at,
        last_at=item.last_at,
        ci_id=item.ci if CI.objects.filter(pk=item.ci).exists() else None,
        service_id=item.service if Service.objects.filter(pk=item.service).exists() else None,
        category_id=_category_id(item.category),
        terms=[str(t) for t in list(item.terms)[:10]],
        score=float(item.score),
        detected_at=timezone.now(),
    )
    if current is None:
        candidate = ProblemCandidate.objects.create(signature=item.signature[:200], **values)
    else:
        candidate = ProblemCandidate.objects.select_for_update().get(pk=current.pk)
        for name, value in values.items():
            setattr(candidate, name, value)
        save_versioned(candidate, candidate.version, list(values))
    candidate.incidents.set(keys)
    candidate.countries.set(
        [c for c in item.countries if c is not None and Country.objects.filter(pk=c).exists()]
    )
    from itsmo.catalog.models import BusinessProcess

    processes = [p for p in item.business_processes if p is not None]
    candidate.business_processes.set(
        BusinessProcess.objects.filter(pk__in=processes).values_list("pk", flat=True)
    )
    return candidate


def _category_id(value) -> int | None:
    from itsmo.incidents.models import Category

    if value is None or not isinstance(value, int):
        return None
    return value if Category.objects.filter(pk=value).exists() else None


def _lock_candidate(candidate: ProblemCandidate) -> ProblemCandidate:
    locked = ProblemCandidate.objects.select_for_update().get(pk=candidate.pk)
    if locked.state != CandidateState.PROPOSED:
        raise TransitionNotAllowed(
            f"candidate {locked.pk} is already {locked.state}", field="state"
        )
    return locked


def _open_incidents_of(candidate: ProblemCandidate) -> list[Incident]:
    return list(candidate.incidents.filter(problem__isnull=True).order_by("opened_at", "pk"))


def _place_of(incident_list: list[Incident]) -> tuple[Country | None, Region | None]:
    """The common country (or region) of the incidents; none if they span regions."""
    countries = {i.country_id for i in incident_list}
    regions = {i.region_id for i in incident_list}
    if len(countries) == 1 and None not in countries:
        return Country.objects.get(pk=countries.pop()), None
    if len(regions) == 1 and None not in regions:
        return None, Region.objects.get(pk=regions.pop())
    return None, None


def _finish(candidate: ProblemCandidate, state: str, actor, problem=None, reason="") -> None:
    candidate.state = state
    candidate.problem = problem
    candidate.decided_at = timezone.now()
    candidate.decided_by = actor
    candidate.dismiss_reason = reason
    save_versioned(
        candidate,
        candidate.version,
        ["state", "problem", "decided_at", "decided_by", "dismiss_reason"],
    )


@transaction.atomic
def accept_candidate(
    candidate: ProblemCandidate,
    *,
    actor: User | None,
    title: str = "",
    description: str = "",
    impact: int | None = None,
    urgency: int | None = None,
    problem_manager: User | None = None,
    assignment_group: SupportGroup | None = None,
) -> Problem:
    """Create the problem from the candidate and link all its incidents, in one step."""
    actor = _actor(actor)
    _require_staff(actor, "accept problem candidates")
    locked = _lock_candidate(candidate)
    incident_list = _open_incidents_of(locked)
    if not incident_list:
        raise ValidationFailed(
            "every incident of this candidate is already linked to a problem", field="incidents"
        )
    country, region = _place_of(incident_list)
    impact = impact or min(i.impact for i in incident_list)
    urgency = urgency or 2
    evidence = (
        f"Recurring pattern detected: {locked.incident_count} incidents between "
        f"{locked.first_at:%Y-%m-%d} and {locked.last_at:%Y-%m-%d}"
    )
    if locked.terms:
        evidence += f"; common terms: {', '.join(locked.terms[:5])}"
    problem = open_problem(
        title=title.strip() or locked.suggested_title(),
        description=(description.strip() or evidence),
        actor=actor,
        impact=impact,
        urgency=urgency,
        service=locked.service,
        cis=[locked.ci] if locked.ci_id else [],
        problem_manager=problem_manager or actor,
        assignment_group=assignment_group,
        country=country,
        region=region,
        incidents_to_link=incident_list,
    )
    _finish(locked, CandidateState.ACCEPTED, actor, problem)
    _sync_candidate(candidate, locked)
    return problem


@transaction.atomic
def merge_candidate(
    candidate: ProblemCandidate, problem: Problem, *, actor: User | None
) -> Problem:
    """Link the candidate's incidents to an existing problem (the same cause)."""
    actor = _actor(actor)
    _require_staff(actor, "merge problem candidates")
    locked = _lock_candidate(candidate)
    if problem.status in FINAL_STATES:
        raise ValidationFailed(f"{problem.number} is {problem.status}", field="problem")
    link_incidents(problem, _open_incidents_of(locked), actor=actor)
    if locked.ci_id and not problem.cis.filter(pk=locked.ci_id).exists():
        problem.cis.add(locked.ci)
        journal.record_changes(problem, actor, {"cis+": ("", locked.ci.number)})
    _finish(locked, CandidateState.MERGED, actor, problem)
    _sync_candidate(candidate, locked)
    return problem


@transaction.atomic
def dismiss_candidate(
    candidate: ProblemCandidate, *, actor: User | None, reason: str = ""
) -> ProblemCandidate:
    """Not a problem: remembered, so the same signature is never proposed again."""
    actor = _actor(actor)
    _require_staff(actor, "dismiss problem candidates")
    reason = _check_text(reason, "reason", required=False, max_length=2000)
    locked = _lock_candidate(candidate)
    _finish(locked, CandidateState.DISMISSED, actor, None, reason)
    _sync_candidate(candidate, locked)
    return candidate


def _sync_candidate(target: ProblemCandidate, source: ProblemCandidate) -> None:
    for field in ProblemCandidate._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def candidate_summary(candidates: Iterable[ProblemCandidate]) -> Counter:
    return Counter(c.state for c in candidates)
