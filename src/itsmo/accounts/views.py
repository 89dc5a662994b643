"""Account pages: sign in and out, password, preferences, profile and API tokens.

Views parse the form, call ``itsmo.accounts.services`` and render.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from itsmo.core.errors import NotFound, ValidationFailed

from . import services
from .forms import PasswordChangeForm, PreferencesForm, TokenForm


def _status(form) -> int:
    """A refused form answers 422 (the page still shows the form with its messages)."""
    return 422 if form.is_bound and form.errors else 200


@login_required
def profile(request):
    return render(request, "accounts/profile.html", _tokens_context(request, TokenForm()))


def _tokens_context(request, form, *, new_token=None, secret=None) -> dict:
    return {
        "tokens": request.user.api_tokens.all(),
        "token_form": form,
        "new_token": new_token,
        "secret": secret,
    }


def _render_tokens(request, context, status=200):
    template = "accounts/_tokens.html" if request.htmx else "accounts/profile.html"
    return render(request, template, context, status=status)


@login_required
@require_POST
def token_create(request):
    """Issue a token and show its secret in this one response; it is never shown again."""
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            token, secret = services.issue_token(
                request.user, form.cleaned_data["name"], expires_at=form.expires_at()
            )
        except ValidationFailed as error:
            form.add_service_error(error.field, error.message)
        else:
            context = _tokens_context(request, TokenForm(), new_token=token, secret=secret)
            response = _render_tokens(request, context)
            response["Cache-Control"] = "no-store"
            return response
    # htmx swaps only 2xx answers; a plain form post gets the proper 422.
    status = 200 if request.htmx else 422
    return _render_tokens(request, _tokens_context(request, form), status=status)


@login_required
@require_POST
def token_revoke(request, token_id: int):
    try:
        token = services.revoke_token(request.user, token_id)
    except NotFound as error:
        raise Http404(error.message) from error
    if request.htmx:
        return _render_tokens(request, _tokens_context(request, TokenForm()))
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("profile")


@login_required
def preferences(request):
    user = request.user
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            try:
                services.update_preferences(
                    user,
                    language=form.cleaned_data["language"],
                    time_zone=form.cleaned_data["time_zone"],
                )
            except ValidationFailed as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                translation.activate(user.language)
                messages.success(request, _("Your preferences are saved."))
                response = redirect("preferences")
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    user.language,
                    samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                    secure=settings.LANGUAGE_COOKIE_SECURE,
                    httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                )
                return response
    else:
        form = PreferencesForm(
            initial={
                "language": user.language or translation.get_language(),
                "time_zone": user.time_zone or settings.TIME_ZONE,
            }
        )
    return render(request, "accounts/preferences.html", {"form": form}, status=_status(form))


@login_required
def password_change(request):
    if request.method == "POST":
        form = PasswordChangeForm(request.POST)
        if form.is_valid():
            try:
                services.change_password(
                    request.user,
                    form.cleaned_data["old_password"],
                    form.cleaned_data["new_password"],
                )
            except ValidationFailed as error:
                form.add_service_error(error.field, error.message)
            else:
                update_session_auth_hash(request, request.user)
                messages.success(request, _("Your password is changed."))
                return redirect("profile")
    else:
        form = PasswordChangeForm()
    return render(request, "accounts/password_change.html", {"form": form}, status=_status(form))
