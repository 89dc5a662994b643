"""The survey page behind the e-mailed link: no sign-in, the token is the credential."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from itsmo.core.errors import NotFound, ValidationFailed

from . import services
from .forms import SurveyForm
from .services import AlreadyAnswered


@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    try:
        survey = services.get_by_token(token)
    except NotFound:
        raise Http404 from None
    context = {"survey": survey, "incident": survey.incident}
    if survey.is_answered:
        return render(request, "surveys/survey.html", {**context, "done": True})
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.answer(token, form.cleaned_data["rating"], form.cleaned_data["comment"])
        except AlreadyAnswered:
            return render(request, "surveys/survey.html", {**context, "done": True})
        except ValidationFailed as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return render(request, "surveys/survey.html", {**context, "thanks": True})
    return render(request, "surveys/survey.html", {**context, "form": form})
