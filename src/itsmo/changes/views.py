"""Change pages: the list, the new-change form, the change record, the change calendar and
releases. Views parse a form, call ``services``, render. A change outside the user's
scope is a 404."""

from __future__ import annotations

import calendar as calendar_module
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from itsmo.accounts.decorators import staff_required
from itsmo.cmdb.models import CI
from itsmo.core import journal
from itsmo.core.errors import DomainError, NotFound, StaleVersion
from itsmo.core.forms import add_domain_error

from . import risk, services
from .forms import (
    CalendarFilterForm,
    ChangeFilterForm,
    ChangeForm,
    CommentForm,
    DecisionForm,
    DeploymentForm,
    DeploymentStatusForm,
    ReleaseForm,
    ReviewForm,
    RiskForm,
    ScheduleForm,
    TransitionForm,
)
from .models import (
    LIFECYCLE,
    SCHEDULABLE_STATES,
    ApprovalRequest,
    ApprovalState,
    Change,
    ChangeTemplate,
    ChangeType,
    Release,
    Status,
    offered_targets,
)


def _change(request, number: str) -> Change:
    try:
        return services.get_visible(number, request.user)
    except NotFound:
        raise Http404 from None


# -- list and new -----------------------------------------------------------------------------


@staff_required
@require_GET
def change_list(request):
    form = ChangeFilterForm(request.GET or None)
    changes = Change.objects.visible_to(request.user).select_related(
        "country", "assignment_group", "assignee"
    )
    if form.is_valid():
        data = form.cleaned_data
        if data.get("q"):
            text = data["q"].strip()
            changes = changes.filter(number__iexact=text) | changes.filter(title__icontains=text)
        if data.get("state"):
            changes = changes.filter(status=data["state"])
        if data.get("type"):
            changes = changes.filter(type=data["type"])
        if data.get("country"):
            changes = changes.filter(country=data["country"])
    page = Paginator(changes.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "changes/change_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@staff_required
def new(request):
    templates = ChangeTemplate.objects.filter(is_active=True).order_by("name")
    initial = {"type": ChangeType.NORMAL}
    code = request.GET.get("template")
    if code:
        template = templates.filter(code=code).first()
        if template is not None:
            initial.update(
                type=ChangeType.STANDARD,
                template=template.code,
                title=template.name,
                implementation_plan=template.implementation_plan,
                backout_plan=template.backout_plan,
                test_plan=template.test_plan,
                assignment_group=template.assignment_group_id,
                services=[template.service_id] if template.service_id else [],
                is_cab_required=False,
            )
    form = ChangeForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            change = services.create_change(
                actor=request.user,
                title=data["title"],
                type=data["type"],
                template=data.get("template"),
                description=data.get("description", ""),
                country=data.get("country"),
                services=data.get("services") or [],
                cis=data.get("cis") or [],
                assignment_group=data.get("assignment_group"),
                change_manager=data.get("change_manager"),
                assignee=data.get("assignee"),
                is_cab_required=data.get("is_cab_required"),
                implementation_plan=data.get("implementation_plan", ""),
                backout_plan=data.get("backout_plan", ""),
                test_plan=data.get("test_plan", ""),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Change %(number)s raised.") % {"number": change.number})
            return redirect("changes:detail", change.number)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "changes/change_new.html", {"form": form, "templates": templates}, status=status
    )


# -- the record -------------------------------------------------------------------------------


def _targets(change: Change, bound: TransitionForm | None) -> list[dict]:
    targets = []
    for to in offered_targets(change.status):
        transition = LIFECYCLE.find(change.status, to)
        guard = transition.guard
        if guard is not None:
            refusal = guard(change)
            if refusal and "not part of the lifecycle" in refusal:
                continue  # another type's path
        else:
            refusal = None
        if bound is not None and bound.data.get("to") == to:
            form = bound
        else:
            form = TransitionForm(initial={"to": to, "version": change.version})
        targets.append(
            {
                "to": to,
                "label": transition.label or Status(to).label,
                "form": form,
                "refusal": refusal,
                "is_bound": form is bound,
            }
        )
    return targets


def _render_detail(request, change: Change, *, status: int = 200, **overrides):
    user = request.user
    requests = list(
        ApprovalRequest.objects.filter(change=change)
        .prefetch_related("approvals__approver")
        .order_by("-round", "requested_at", "id")
    )
    current_round = requests[0].round if requests else 0
    context = {
        "change": change,
        "fields_form": ChangeForm(user=user, change=change),
        "risk_form": RiskForm(change=change),
        "schedule_form": ScheduleForm(change=change),
        "review_form": ReviewForm(
            initial={
                "version": change.version,
                "close_code": change.close_code,
                "review_notes": change.review_notes,
            }
        ),
        "comment_form": CommentForm(),
        "decision_form": DecisionForm(),
        "transition_form": None,
        "schedule_check": None,
        "conflict": None,
        "approval_requests": [r for r in requests if r.round == current_round],
        "earlier_approval_requests": [r for r in requests if r.round != current_round],
        "approval_round": current_round,
        "pending_approval": services.pending_approval(change, user),
        "caused_incidents": change.caused_incidents.visible_to(user).order_by("-opened_at")[:50],
        "timeline": list(journal.timeline(change)),
        "impact": change.impact_summary or {},
        "questions": risk.QUESTIONS,
        "services_list": change.services.order_by("name"),
        "cis_list": CI.objects.filter(change_links__change=change).order_by("number"),
        "can_schedule": change.status in SCHEDULABLE_STATES,
        "is_final": change.is_final,
    }
    context.update(overrides)
    context["targets"] = _targets(change, context["transition_form"])
    return render(request, "changes/change_detail.html", context, status=status)


@staff_required
@require_GET
def detail(request, number: str):
    return _render_detail(request, _change(request, number))


def _conflict(request, change: Change, error: StaleVersion, **forms):
    messages.error(request, error.message)
    return _render_detail(
        request, services.reload(change), status=409, conflict=error.record, **forms
    )


@staff_required
@require_POST
def update_fields(request, number: str):
    change = _change(request, number)
    form = ChangeForm(request.POST, user=request.user, change=change)
    if not form.is_valid():
        return _render_detail(request, change, status=422, fields_form=form)
    data = form.cleaned_data
    names = [
        "title",
        "description",
        "country",
        "services",
        "cis",
        "assignment_group",
        "change_manager",
        "assignee",
        "is_cab_required",
        "implementation_plan",
        "backout_plan",
        "test_plan",
        "release",
    ]
    current_cis = set(CI.objects.filter(change_links__change=change).values_list("pk", flat=True))
    values = {}
    for name in names:
        value = data.get(name)
        if name == "services":
            if set(s.pk for s in value) != set(change.services.values_list("pk", flat=True)):
                values[name] = list(value)
        elif name == "cis":
            if {c.pk for c in value} != current_cis:
                values[name] = value
        elif name == "release":
            if (value.pk if value else None) != change.release_id:
                values[name] = value
        elif value != getattr(change, name) and not (
            value in ("", None) and not getattr(change, name)
        ):
            values[name] = value
    if not values:
        return redirect("changes:detail", change.number)
    try:
        services.update_change(change, actor=request.user, version=data["version"], **values)
    except StaleVersion as error:
        return _conflict(request, change, error, fields_form=form)
    except DomainError as error:
        add_domain_error(form, error)
        return _render_detail(request, services.reload(change), status=422, fields_form=form)
    messages.success(request, _("Saved."))
    return redirect("changes:detail", change.number)


@staff_required
@require_POST
def assess_risk(request, number: str):
    change = _change(request, number)
    form = RiskForm(request.POST, change=change)
    if not form.is_valid():
        return _render_detail(request, change, status=422, risk_form=form)
    try:
        services.assess_risk(
            change,
            actor=request.user,
            answers=form.answers(),
            version=form.cleaned_data["version"],
        )
    except StaleVersion as error:
        return _conflict(request, change, error, risk_form=form)
    except DomainError as error:
        add_domain_error(form, error)
        return _render_detail(request, change, status=422, risk_form=form)
    messages.success(
        request,
        _("Risk assessed: %(risk)s (impact %(impact)s).")
        % {"risk": change.get_risk_display(), "impact": change.impact},
    )
    return redirect(reverse("changes:detail", args=[change.number]) + "#risk")


@staff_required
@require_POST
def schedule(request, number: str):
    change = _change(request, number)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, change, status=422, schedule_form=form)
    data = form.cleaned_data
    try:
        found = services.schedule_change(
            change,
            actor=request.user,
            planned_start=data["planned_start"],
            planned_end=data["planned_end"],
            override_reason=data.get("override_reason", ""),
            version=data["version"],
        )
    except StaleVersion as error:
        return _conflict(request, change, error, schedule_form=form)
    except services.ScheduleConflict as error:
        check = services.check_schedule(change, data["planned_start"], data["planned_end"])
        form.add_error(
            "override_reason",
            _("To schedule it anyway, give the reason for overriding these conflicts."),
        )
        return _render_detail(
            request,
            change,
            status=409,
            schedule_form=form,
            schedule_check=check,
            schedule_error=error.message,
        )
    except DomainError as error:
        add_domain_error(form, error)
        return _render_detail(request, change, status=422, schedule_form=form)
    if not found.is_clear:
        messages.warning(
            request,
            _("Scheduled with an override: %(reasons)s") % {"reasons": "; ".join(found.reasons())},
        )
    elif not found.approval_requested_again:
        messages.success(request, _("Scheduled; no collision and no blackout window."))
    if found.approval_requested_again:
        if change.approval == ApprovalState.REQUESTED:
            text = _(
                "The new window is outside the approved one: %(number)s is back in "
                "Authorise and its approvers are asked again."
            )
        else:
            text = _(
                "The new window is outside the approved one: approval was requested again "
                "and granted at once (no approval rule applies)."
            )
        messages.warning(request, text % {"number": change.number})
    return redirect(reverse("changes:detail", args=[change.number]) + "#schedule")


@staff_required
@require_POST
def transition(request, number: str):
    change = _change(request, number)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, change, status=422, transition_form=form)
    data = form.cleaned_data
    try:
        services.transition(
            change,
            data["to"],
            actor=request.user,
            version=data["version"],
            note=data.get("note", ""),
            close_code=data.get("close_code", ""),
            close_notes=data.get("close_notes", ""),
        )
    except StaleVersion as error:
        return _conflict(request, change, error, transition_form=form)
    except DomainError as error:
        form.add_error(None, error.message)
        return _render_detail(request, change, status=422, transition_form=form)
    messages.success(
        request,
        _("%(number)s is now %(state)s.")
        % {"number": change.number, "state": change.get_status_display()},
    )
    return redirect("changes:detail", change.number)


@staff_required
@require_POST
def review(request, number: str):
    change = _change(request, number)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, change, status=422, review_form=form)
    data = form.cleaned_data
    try:
        services.update_change(
            change,
            actor=request.user,
            version=data["version"],
            close_code=data["close_code"],
            review_notes=data["review_notes"],
        )
    except StaleVersion as error:
        return _conflict(request, change, error, review_form=form)
    except DomainError as error:
        add_domain_error(form, error)
        return _render_detail(request, change, status=422, review_form=form)
    messages.success(request, _("Post-implementation review saved."))
    return redirect(reverse("changes:detail", args=[change.number]) + "#review")


@staff_required
@require_POST
def decide(request, number: str):
    change = _change(request, number)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, change, status=422, decision_form=form)
    try:
        services.decide(
            change,
            actor=request.user,
            decision=form.cleaned_data["decision"],
            comment=form.cleaned_data.get("comment", ""),
        )
    except DomainError as error:
        add_domain_error(form, error)
        return _render_detail(request, change, status=422, decision_form=form)
    messages.success(request, _("Your decision is recorded."))
    return redirect(reverse("changes:detail", args=[change.number]) + "#approvals")


@staff_required
@require_POST
def comment(request, number: str):
    change = _change(request, number)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, change, status=422, comment_form=form)
    services.add_comment(change, actor=request.user, body=form.cleaned_data["body"], internal=True)
    return redirect(reverse("changes:detail", args=[change.number]) + "#timeline")


# -- calendar ---------------------------------------------------------------------------------


def _period(view: str, day: date) -> tuple[date, date]:
    if view == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    first = day.replace(day=1)
    start = first - timedelta(days=first.weekday())
    last = first.replace(day=calendar_module.monthrange(first.year, first.month)[1])
    end = last + timedelta(days=7 - last.weekday())
    return start, end


@staff_required
@require_GET
def change_calendar(request):
    form = CalendarFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    view = data.get("view") or "month"
    today = timezone.localdate()
    day = data.get("date") or today
    start_day, end_day = _period(view, day)
    tz = timezone.get_current_timezone()
    start = datetime.combine(start_day, time.min, tzinfo=tz)
    end = datetime.combine(end_day, time.min, tzinfo=tz)
    ci = None
    if data.get("ci"):
        ci = CI.objects.visible_to(request.user).filter(number__iexact=data["ci"].strip()).first()
        if ci is None:
            form.add_error("ci", _("No CI %(number)s.") % {"number": data["ci"]})
    changes, blackouts = services.calendar(
        request.user,
        start,
        end,
        country=data.get("country"),
        service=data.get("service"),
        ci=ci,
    )
    changes = list(changes[:2000])
    blackouts = list(blackouts)
    days = []
    current = start_day
    while current < end_day:
        day_start = datetime.combine(current, time.min, tzinfo=tz)
        day_end = day_start + timedelta(days=1)
        days.append(
            {
                "date": current,
                "is_today": current == today,
                "in_month": view == "week" or current.month == day.month,
                "changes": [
                    c for c in changes if c.planned_start < day_end and c.planned_end > day_start
                ],
                "blackouts": [
                    b for b in blackouts if b.start_at < day_end and b.end_at > day_start
                ],
            }
        )
        current += timedelta(days=1)
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    step = timedelta(days=7) if view == "week" else None
    if view == "week":
        previous, following = day - step, day + step
    else:
        previous = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
        following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    query = request.GET.copy()
    query.pop("date", None)
    return render(
        request,
        "changes/calendar.html",
        {
            "form": form,
            "view": view,
            "day": day,
            "weeks": weeks,
            "weekdays": [days[i]["date"] for i in range(7)],
            "previous": previous,
            "following": following,
            "query": query.urlencode(),
            "count": len(changes),
            "blackouts": blackouts,
        },
    )


# -- releases ---------------------------------------------------------------------------------


@staff_required
def release_list(request):
    form = ReleaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            release = services.create_release(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect("changes:release", release.number)
    releases = Release.objects.select_related("service", "manager").order_by("-created_at")
    page = Paginator(releases, 50).get_page(request.GET.get("page"))
    status = 422 if request.method == "POST" else 200
    return render(request, "changes/release_list.html", {"page": page, "form": form}, status=status)


@staff_required
def release_detail(request, number: str):
    release = (
        Release.objects.select_related("service", "manager").filter(number=number.upper()).first()
    )
    if release is None:
        raise Http404
    form = DeploymentForm(request.POST or None)
    if request.method == "POST":
        if "deployment" in request.POST:
            deployment = release.deployments.filter(pk=request.POST["deployment"]).first()
            status_form = DeploymentStatusForm(request.POST)
            if deployment is not None and status_form.is_valid():
                services.set_deployment_status(
                    deployment, status_form.cleaned_data["status"], actor=request.user
                )
                return redirect("changes:release", release.number)
        elif form.is_valid():
            try:
                services.plan_deployment(release, actor=request.user, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                return redirect("changes:release", release.number)
    changes = release.changes.visible_to(request.user).select_related("country")
    return render(
        request,
        "changes/release_detail.html",
        {
            "release": release,
            "changes": changes.order_by("planned_start"),
            "deployments": release.deployments.select_related("region", "country"),
            "form": form,
            "status_form": DeploymentStatusForm(),
            "timeline": list(journal.timeline(release)),
        },
    )
