"""Problem pages: the list, a new problem, the record (details, analysis, lifecycle, linked
incidents, tasks, journal) and the problem candidates proposed by detection.

Views parse a form, call ``services``, render. Every problem is looked up through
``services.get_visible`` (scoped by ``visible_to``): outside the user's scope is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from itsmo.accounts.decorators import staff_required
from itsmo.core import journal
from itsmo.core.errors import DomainError, NotFound, StaleVersion
from itsmo.core.forms import add_domain_error
from itsmo.search import services as search

from . import services
from .forms import (
    AcceptForm,
    AnalysisForm,
    CommentForm,
    DismissForm,
    LinkIncidentsForm,
    MergeForm,
    ProblemFilterForm,
    ProblemForm,
    TaskForm,
    TaskStateForm,
    TransitionForm,
)
from .models import (
    LIFECYCLE,
    OPEN_STATES,
    CandidateState,
    Problem,
    ProblemCandidate,
    Status,
)

PAGE_SIZE = 50


def _problem(request, number: str) -> Problem:
    try:
        return services.get_visible(number, request.user)
    except NotFound:
        raise Http404 from None


def _fail(request, error: DomainError) -> None:
    messages.error(request, error.message)


# -- list -------------------------------------------------------------------------------------


@staff_required
@require_GET
def problem_list(request):
    form = ProblemFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    problems = Problem.objects.visible_to(request.user).select_related(
        "service", "country", "problem_manager", "assignment_group"
    )
    state = filters.get("state")
    if state == "open":
        problems = problems.filter(status__in=OPEN_STATES)
    elif state:
        problems = problems.filter(status=state)
    if filters.get("priority"):
        problems = problems.filter(priority=filters["priority"])
    if filters.get("service"):
        problems = problems.filter(service=filters["service"])
    if filters.get("country"):
        problems = problems.filter(country=filters["country"])
    if filters.get("mine"):
        problems = problems.filter(problem_manager=request.user)
    ordering = ["priority", "-opened_at", "-id"]
    q = (filters.get("q") or "").strip()
    if q:  # full-text: best matches first, then the usual order
        problems = search.search(Problem, q, request.user, queryset=problems)
        ordering.insert(0, "-search_rank")
    problems = problems.annotate(incident_count=Count("incidents")).order_by(*ordering)
    page = Paginator(problems, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    proposed = ProblemCandidate.objects.visible_to(request.user).filter(
        state=CandidateState.PROPOSED
    )
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "is_filtered": form.is_filtered(),
        "candidate_count": proposed.count(),
    }
    return render(request, "problems/problem_list.html", context)


# -- new --------------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def new(request):
    form = ProblemForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            problem = services.open_problem(
                title=data["title"],
                description=data["description"],
                impact=data["impact"],
                urgency=data["urgency"],
                service=data["service"],
                cis=data["cis"],
                country=data["country"],
                problem_manager=data["problem_manager"],
                assignment_group=data["assignment_group"],
                actor=request.user,
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Problem %(number)s opened.") % {"number": problem.number})
            return redirect("problems:detail", problem.number)
    status = 422 if request.method == "POST" else 200
    return render(request, "problems/problem_new.html", {"form": form}, status=status)


# -- the record -------------------------------------------------------------------------------


def _targets(problem: Problem, bound: TransitionForm | None) -> list[dict]:
    targets = []
    for to in LIFECYCLE.targets_from(problem.status):
        if bound is not None and bound.data.get("to") == to:
            form = bound
        else:
            form = TransitionForm(initial={"to": to, "version": problem.version})
        label = LIFECYCLE.find(problem.status, to).label or Status(to).label
        targets.append({"to": to, "label": label, "form": form, "is_bound": form is bound})
    return targets


def _incidents_context(request, problem: Problem, link_form=None) -> dict:
    linked = (
        services.visible_incidents(request.user)
        .filter(problem=problem)
        .select_related("service", "ci", "country")
        .order_by("-opened_at", "-id")
    )
    return {
        "problem": problem,
        "linked": linked[:200],
        "linked_count": linked.count(),
        "link_form": link_form or LinkIncidentsForm(user=request.user),
        "is_final": problem.status in (Status.CLOSED, Status.CANCELLED),
    }


def _render_detail(request, problem: Problem, *, status: int = 200, **overrides):
    context = {
        "problem": problem,
        "cis": problem.cis.all(),
        "fixing_changes": problem.fixing_changes.all(),
        "fields_form": ProblemForm(user=request.user, problem=problem),
        "analysis_form": AnalysisForm(problem=problem),
        "task_form": TaskForm(),
        "comment_form": CommentForm(),
        "tasks": problem.tasks.select_related("owner"),
        "timeline": journal.timeline(problem),
        "candidates": problem.candidates.all(),
        "transition_form": None,
        "conflict": None,
        "is_final": problem.status in (Status.CLOSED, Status.CANCELLED),
    }
    context.update(_incidents_context(request, problem, overrides.pop("link_form", None)))
    context.update(overrides)
    context["targets"] = _targets(problem, context["transition_form"])
    return render(request, "problems/problem_detail.html", context, status=status)


@staff_required
@require_GET
def detail(request, number: str):
    return _render_detail(request, _problem(request, number))


@staff_required
@require_POST
def update_fields(request, number: str):
    problem = _problem(request, number)
    form = ProblemForm(request.POST, user=request.user)
    if form.is_valid() and form.cleaned_data["version"] is None:
        form.add_error(None, _("Reload the page: the form does not say which version you read."))
    if form.is_valid():
        data = form.cleaned_data
        values = {k: data[k] for k in ProblemForm.base_fields if k not in ("version", "cis")}
        try:
            services.update_problem(
                problem, actor=request.user, version=data["version"], cis=data["cis"], **values
            )
        except StaleVersion as error:
            return _render_detail(
                request, services.reload(problem), status=409, fields_form=form, conflict=error
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("problems:detail", problem.number)
    return _render_detail(request, problem, status=422, fields_form=form)


@staff_required
@require_POST
def update_analysis(request, number: str):
    problem = _problem(request, number)
    form = AnalysisForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.update_problem(
                problem,
                actor=request.user,
                version=data["version"],
                fixing_changes=data["fixing_changes"],
                rca_method=data["rca_method"],
                root_cause=data["root_cause"],
                workaround=data["workaround"],
            )
        except StaleVersion as error:
            return _render_detail(
                request, services.reload(problem), status=409, analysis_form=form, conflict=error
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Analysis saved."))
            return redirect("problems:detail", problem.number)
    return _render_detail(request, problem, status=422, analysis_form=form)


@staff_required
@require_POST
def transition(request, number: str):
    problem = _problem(request, number)
    form = TransitionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.transition(
                problem,
                data["to"],
                actor=request.user,
                version=data["version"],
                note=data["note"],
                resolution_code=data["resolution_code"],
                resolution_notes=data["resolution_notes"] or None,
            )
        except StaleVersion as error:
            return _render_detail(request, services.reload(problem), status=409, conflict=error)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Now %(state)s.") % {"state": Status(problem.status).label})
            return redirect("problems:detail", problem.number)
    return _render_detail(request, problem, status=422, transition_form=form)


@staff_required
@require_POST
def link_incidents(request, number: str):
    problem = _problem(request, number)
    form = LinkIncidentsForm(request.POST, user=request.user)
    status = 200
    if form.is_valid():
        try:
            linked = services.link_incidents(
                problem, form.cleaned_data["numbers"], actor=request.user
            )
        except DomainError as error:
            add_domain_error(form, error)
            status = 422
        else:
            if not request.htmx:
                messages.success(
                    request,
                    _("Linked: %(numbers)s.")
                    % {"numbers": ", ".join(i.number for i in linked) or "—"},
                )
                return redirect("problems:detail", problem.number)
            form = None
    else:
        status = 422
    if request.htmx:
        return _incidents_fragment(request, problem, form, status)
    return _render_detail(request, problem, status=status, link_form=form)


@staff_required
@require_POST
def unlink_incident(request, number: str, incident: str):
    problem = _problem(request, number)
    found = services.visible_incidents(request.user).filter(number=incident.upper()).first()
    if found is None:
        raise Http404
    try:
        services.unlink_incident(problem, found, actor=request.user)
    except DomainError as error:
        _fail(request, error)
    if request.htmx:
        return _incidents_fragment(request, problem)
    return redirect("problems:detail", problem.number)


def _incidents_fragment(request, problem, form=None, status=200):
    """The linked incidents, redrawn in place. Linking bumps the problem's version, so the
    page is told the new one for its other forms (``itsmo:version`` in itsmo.js)."""
    problem = services.reload(problem)
    response = render(
        request,
        "problems/_incidents.html",
        _incidents_context(request, problem, form),
        status=status,
    )
    return trigger_client_event(response, "itsmo:version", {"value": problem.version})


@staff_required
@require_POST
def add_task(request, number: str):
    problem = _problem(request, number)
    form = TaskForm(request.POST)
    if form.is_valid():
        try:
            services.add_task(
                problem,
                actor=request.user,
                title=form.cleaned_data["title"],
                owner=form.cleaned_data["owner"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect("problems:detail", problem.number)
    return _render_detail(request, problem, status=422, task_form=form)


@staff_required
@require_POST
def task_state(request, number: str, task: str):
    problem = _problem(request, number)
    found = problem.tasks.filter(number=task.upper()).first()
    if found is None:
        raise Http404
    form = TaskStateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Unknown task state."))
    else:
        try:
            services.update_task(found, actor=request.user, status=form.cleaned_data["status"])
        except DomainError as error:
            _fail(request, error)
    return redirect("problems:detail", problem.number)


@staff_required
@require_POST
def comment(request, number: str):
    problem = _problem(request, number)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(problem, actor=request.user, body=form.cleaned_data["body"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect("problems:detail", problem.number)
    return _render_detail(request, problem, status=422, comment_form=form)


# -- candidates -------------------------------------------------------------------------------


def _candidate(request, pk: int) -> ProblemCandidate:
    try:
        return services.get_visible_candidate(pk, request.user)
    except NotFound:
        raise Http404 from None


@staff_required
@require_GET
def candidates(request):
    state = request.GET.get("state") or CandidateState.PROPOSED
    if state not in CandidateState.values:
        state = CandidateState.PROPOSED
    found = (
        ProblemCandidate.objects.visible_to(request.user)
        .filter(state=state)
        .select_related("ci", "service", "category", "problem", "decided_by")
        .prefetch_related("countries", "business_processes")
        .order_by("-score", "-last_at", "id")
    )
    page = Paginator(found, 25).get_page(request.GET.get("page"))
    for candidate in page.object_list:
        candidate.sample = list(
            candidate.incidents.select_related("country").order_by("-opened_at")[:8]
        )
    context = {
        "page": page,
        "state": state,
        "states": CandidateState.choices,
        "accept_form": AcceptForm(),
        "merge_form": MergeForm(),
        "dismiss_form": DismissForm(),
    }
    return render(request, "problems/candidate_list.html", context)


@staff_required
@require_POST
def candidate_accept(request, pk: int):
    candidate = _candidate(request, pk)
    form = AcceptForm(request.POST)
    title = form.cleaned_data["title"] if form.is_valid() else ""
    try:
        problem = services.accept_candidate(candidate, actor=request.user, title=title)
    except DomainError as error:
        _fail(request, error)
        return redirect("problems:candidates")
    messages.success(
        request,
        _("Problem %(number)s opened with %(count)s incidents.")
        % {"number": problem.number, "count": problem.incidents.count()},
    )
    return redirect("problems:detail", problem.number)


@staff_required
@require_POST
def candidate_merge(request, pk: int):
    candidate = _candidate(request, pk)
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the number of the problem to merge into."))
        return redirect("problems:candidates")
    try:
        problem = services.get_visible(form.cleaned_data["problem"], request.user)
        services.merge_candidate(candidate, problem, actor=request.user)
    except DomainError as error:
        _fail(request, error)
        return redirect("problems:candidates")
    messages.success(request, _("Merged into %(number)s.") % {"number": problem.number})
    return redirect("problems:detail", problem.number)


@staff_required
@require_POST
def candidate_dismiss(request, pk: int):
    candidate = _candidate(request, pk)
    form = DismissForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.dismiss_candidate(candidate, actor=request.user, reason=reason)
    except DomainError as error:
        _fail(request, error)
    else:
        messages.success(request, _("Dismissed; this pattern will not be proposed again."))
    return redirect("problems:candidates")
