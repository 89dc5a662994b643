"""The agent workspace: queues, the incident record, and the new-incident form.

Views parse a form, call ``services`` (writes) or ``workspace`` (reads), render. Every
incident is looked up through ``services.get_visible`` (scoped by ``visible_to``): a record
outside the agent's scope is a 404, never a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from itsmo.accounts.decorators import staff_required
from itsmo.core.errors import DomainError, NotFound, StaleVersion
from itsmo.core.forms import add_domain_error

from . import services, workspace
from .forms import (
    AssignForm,
    BulkAssignForm,
    CommentForm,
    IncidentFieldsForm,
    IncidentFilterForm,
    MajorUpdateForm,
    NewIncidentForm,
    TransitionForm,
)
from .models import LIFECYCLE, Incident, Status


def _incident(request, number: str) -> Incident:
    try:
        return services.get_visible(number, request.user)
    except NotFound:
        raise Http404 from None


# -- queues -----------------------------------------------------------------------------------


@staff_required
@require_GET
def home(request):
    return redirect("incidents:queues")


def _tabs(user) -> list[dict]:
    counts = workspace.queue_counts(user)
    return [
        {
            "queue": q,
            "count": counts.get(q.key),
            "url": reverse("incidents:list")
            if q.key == "all"
            else reverse("incidents:queue", args=[q.key]),
        }
        for q in workspace.QUEUES
    ]


@staff_required
@require_GET
def queue(request, key: str = "mine"):
    current = workspace.get_queue(key)
    if current is None:
        raise Http404
    form = IncidentFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    incidents = workspace.filter_incidents(
        workspace.queue_incidents(key, request.user), filters, request.user
    )
    incidents = workspace.with_sla(
        incidents.select_related("caller", "service", "assignment_group", "assignee", "country")
    )
    page = workspace.keyset_page(
        incidents,
        sort=filters.get("sort") or "priority",
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    query = request.GET.copy()
    for name in ("after", "before"):
        query.pop(name, None)
    context = {
        "tabs": _tabs(request.user),
        "current": current,
        "form": form,
        "is_filtered": form.is_filtered(),
        "page": page,
        "query": query.urlencode(),
        "bulk_form": BulkAssignForm(user=request.user),
    }
    template = "incidents/_queue_results.html" if request.htmx else "incidents/queue.html"
    return render(request, template, context)


@staff_required
@require_POST
def bulk_assign(request):
    form = BulkAssignForm(request.POST, user=request.user)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("incidents:queues")
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect(back)
    done, failed = workspace.bulk_assign(
        form.cleaned_data["numbers"],
        actor=request.user,
        group=form.cleaned_data.get("group"),
        assignee=form.cleaned_data.get("assignee"),
    )
    if done:
        messages.success(request, _("Assigned: %(numbers)s.") % {"numbers": ", ".join(done)})
    for number, message in failed:
        messages.error(
            request,
            _("%(number)s not assigned: %(reason)s")
            % {
                "number": number,
                "reason": message,
            },
        )
    return redirect(back)


# -- the record -------------------------------------------------------------------------------


def _targets(incident: Incident, bound: TransitionForm | None) -> list[dict]:
    """The next states from the lifecycle table, each with its form (the bound one if the
    agent just tried it)."""
    targets = []
    for to in LIFECYCLE.targets_from(incident.status):
        if bound is not None and bound.data.get("to") == to:
            form = bound
        else:
            form = TransitionForm(initial={"to": to, "version": incident.version})
        label = LIFECYCLE.find(incident.status, to).label or Status(to).label
        targets.append({"to": to, "label": label, "form": form, "is_bound": form is bound})
    return targets


def _render_detail(request, incident: Incident, *, status: int = 200, **overrides):
    user = request.user
    context = {
        "incident": incident,
        "clocks": workspace.sla_clocks(incident),
        "timeline": workspace.timeline(incident),
        "impact": workspace.ci_impact(incident, user),
        "fields_form": IncidentFieldsForm(user=user, incident=incident),
        "assign_form": AssignForm(user=user, incident=incident),
        "comment_form": CommentForm(),
        "major_form": MajorUpdateForm(),
        "transition_form": None,
        "conflict": None,
        "attachments": incident.attachments.all(),
        "is_final": incident.status in (Status.CLOSED, Status.CANCELLED),
    }
    context.update(overrides)
    context["targets"] = _targets(incident, context["transition_form"])
    return render(request, "incidents/incident_detail.html", context, status=status)


@staff_required
@require_GET
def detail(request, number: str):
    return _render_detail(request, _incident(request, number))


def attachment_response(attachment):
    if attachment is None:
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_required
@require_GET
def download(request, number: str, pk: int):
    incident = _incident(request, number)
    return attachment_response(workspace.attachment(incident, pk, include_internal=True))


@staff_required
@require_GET
def sla(request, number: str):
    incident = _incident(request, number)
    return render(
        request,
        "incidents/_sla.html",
        {"incident": incident, "clocks": workspace.sla_clocks(incident)},
    )


def _conflict(error: StaleVersion) -> dict:
    record = error.record
    return {
        "version": error.current_version,
        "state": record.get_status_display() if record else "",
        "priority": record.priority_label if record else "",
        "short_description": record.short_description if record else "",
        "assignment_group": str(record.assignment_group or "—") if record else "",
        "assignee": str(record.assignee or "—") if record else "",
        "updated_at": record.updated_at if record else None,
    }


def _with_version(form, version: int):
    """A copy of a bound form's data carrying the record's current version."""
    data = form.data.copy()
    data["version"] = str(version)
    return type(form)(data, user=form.user) if hasattr(form, "user") else type(form)(data)


@staff_required
@require_POST
def update_fields(request, number: str):
    incident = _incident(request, number)
    form = IncidentFieldsForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.update_incident(
                incident,
                actor=request.user,
                version=form.cleaned_data["version"],
                **form.changes(incident),
            )
        except StaleVersion as error:
            fresh = services.reload(incident)
            return _render_detail(
                request,
                fresh,
                status=409,
                fields_form=_with_version(form, error.current_version),
                conflict=_conflict(error),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("%(number)s saved.") % {"number": incident.number})
            return redirect("incidents:detail", incident.number)
    return _render_detail(request, incident, status=422, fields_form=form)


@staff_required
@require_POST
def transition(request, number: str):
    incident = _incident(request, number)
    form = TransitionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.transition(
                incident,
                data["to"],
                actor=request.user,
                version=data["version"],
                reason=data["reason"],
                resolution_code=data["resolution_code"],
                resolution_notes=data["resolution_notes"],
                note=data["note"],
            )
        except StaleVersion as error:
            return _render_detail(
                request,
                services.reload(incident),
                status=409,
                conflict=_conflict(error),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("%(number)s is now %(state)s.")
                % {"number": incident.number, "state": incident.get_status_display()},
            )
            return redirect("incidents:detail", incident.number)
    return _render_detail(
        request,
        incident,
        status=422,
        transition_form=form,
    )


@staff_required
@require_POST
def assign(request, number: str):
    incident = _incident(request, number)
    form = AssignForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.assign(
                incident,
                actor=request.user,
                group=data.get("group"),
                assignee=data.get("assignee"),
                version=data["version"],
                note=data.get("note") or "",
            )
        except StaleVersion as error:
            return _render_detail(
                request,
                services.reload(incident),
                status=409,
                conflict=_conflict(error),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("%(number)s assigned.") % {"number": incident.number})
            return redirect("incidents:detail", incident.number)
    return _render_detail(request, incident, status=422, assign_form=form)


@staff_required
@require_POST
def comment(request, number: str):
    incident = _incident(request, number)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(
                incident,
                actor=request.user,
                body=form.cleaned_data["body"],
                internal=form.is_internal,
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if request.htmx:
                return render(
                    request,
                    "incidents/_timeline.html",
                    {"incident": incident, "timeline": workspace.timeline(incident)},
                )
            return redirect(f"{reverse('incidents:detail', args=[incident.number])}#timeline")
    if request.htmx:
        response = HttpResponse(" ".join(e for errs in form.errors.values() for e in errs))
        response.status_code = 422
        return response
    return _render_detail(request, incident, status=422, comment_form=form)


@staff_required
@require_POST
def major_update(request, number: str):
    incident = _incident(request, number)
    form = MajorUpdateForm(request.POST)
    if form.is_valid():
        try:
            services.post_major_update(incident, actor=request.user, body=form.cleaned_data["body"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Stakeholder update posted."))
            return redirect("incidents:detail", incident.number)
    return _render_detail(request, incident, status=422, major_form=form)


# -- new incident -----------------------------------------------------------------------------


@staff_required
def new(request):
    form = NewIncidentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.open_incident(
                caller=data["caller"],
                short_description=data["short_description"],
                description=data["description"],
                channel=data["channel"],
                actor=request.user,
                impact=data["impact"],
                urgency=data["urgency"],
                service=data["service"],
                ci=data["ci"],
                assignment_group=data["assignment_group"],
                assignee=request.user if data["assign_to_me"] else None,
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("%(number)s opened with priority %(priority)s.")
                % {"number": incident.number, "priority": incident.priority_label},
            )
            return redirect("incidents:detail", incident.number)
    status = 422 if request.method == "POST" else 200
    return render(request, "incidents/incident_new.html", {"form": form}, status=status)
