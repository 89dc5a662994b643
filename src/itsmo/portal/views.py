"""The self-service portal: end users report incidents, follow their own tickets, comment,
reopen within the window and answer the satisfaction survey."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from itsmo.core.errors import DomainError, NotFound
from itsmo.core.forms import add_domain_error
from itsmo.incidents import services, workspace
from itsmo.incidents.models import Channel
from itsmo.incidents.views import attachment_response
from itsmo.surveys import services as surveys
from itsmo.surveys.forms import SurveyForm

from . import queries
from .forms import PortalCommentForm, ReopenForm, ReportForm


def _own(request, number: str):
    try:
        return queries.get_own(number, request.user)
    except NotFound:
        raise Http404 from None


@login_required
def home(request):
    incidents = list(queries.own_incidents(request.user)[:50])
    open_ones = [i for i in incidents if i.is_open]
    return render(
        request,
        "portal/home.html",
        {
            "open_incidents": open_ones,
            "past_incidents": [i for i in incidents if not i.is_open],
            "pending_surveys": list(surveys.pending_for(request.user)[:5]),
        },
    )


@login_required
def report(request):
    form = ReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.open_incident(
                caller=request.user,
                actor=request.user,
                channel=Channel.PORTAL,
                short_description=data["short_description"],
                description=data["description"],
                service=data["service"],
            )
            for upload in data["attachments"]:
                services.add_attachment(incident, actor=request.user, file=upload)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "Thank you. Your incident %(number)s has been recorded; the service desk will "
                    "get back to you."
                )
                % {"number": incident.number},
            )
            return redirect("portal:detail", incident.number)
    status = 422 if request.method == "POST" else 200
    return render(request, "portal/report.html", {"form": form}, status=status)


def _render_detail(request, incident, *, status=200, **overrides):
    survey = surveys.for_incident(incident)
    context = {
        "incident": incident,
        "timeline": workspace.timeline(incident, include_internal=False),
        "attachments": incident.attachments.filter(is_internal=False),
        "comment_form": PortalCommentForm(),
        "reopen_form": ReopenForm(),
        "reopen_until": workspace.reopen_deadline(incident),
        "survey": survey,
        "survey_form": SurveyForm(),
        "is_caller": incident.caller_id == request.user.pk,
    }
    context.update(overrides)
    return render(request, "portal/incident_detail.html", context, status=status)


@login_required
def detail(request, number: str):
    return _render_detail(request, _own(request, number))


@login_required
def download(request, number: str, pk: int):
    incident = _own(request, number)
    return attachment_response(workspace.attachment(incident, pk, include_internal=False))


@login_required
@require_POST
def comment(request, number: str):
    incident = _own(request, number)
    form = PortalCommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(incident, actor=request.user, body=form.cleaned_data["body"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Your comment has been added."))
            return redirect("portal:detail", incident.number)
    return _render_detail(request, incident, status=422, comment_form=form)


@login_required
@require_POST
def reopen(request, number: str):
    incident = _own(request, number)
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            services.reopen(incident, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Your incident has been reopened."))
            return redirect("portal:detail", incident.number)
    return _render_detail(request, incident, status=422, reopen_form=form)


@login_required
@require_POST
def survey(request, number: str):
    incident = _own(request, number)
    survey = surveys.for_incident(incident)
    if survey is None:
        raise Http404
    form = SurveyForm(request.POST)
    if form.is_valid():
        try:
            surveys.answer_as_caller(
                survey,
                actor=request.user,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Thank you for rating how we handled your incident."))
            return redirect("portal:detail", incident.number)
    return _render_detail(request, incident, status=422, survey_form=form)
