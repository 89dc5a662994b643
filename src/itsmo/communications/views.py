"""The quarantine page: e-mail that could not be processed, with retry and discard."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from itsmo.core.errors import DomainError

from . import intake
from .models import InboundMessage, InboundStatus


def _require_staff(request) -> None:
    if not request.user.is_staff_member:
        raise PermissionDenied


def _may_act(user) -> bool:
    return user.is_superuser or user.has_role("administrator")


@login_required
def quarantine(request):
    _require_staff(request)
    rows = InboundMessage.objects.filter(status=InboundStatus.QUARANTINED).defer("raw")
    page = Paginator(rows.order_by("-received_at", "-pk"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "communications/quarantine.html",
        {"page": page, "may_act": _may_act(request.user)},
    )


def _act(request, pk: int, action):
    _require_staff(request)
    row = get_object_or_404(InboundMessage, pk=pk)
    try:
        result = action(row, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("communications:quarantine")
    return result


@login_required
@require_POST
def quarantine_retry(request, pk: int):
    result = _act(request, pk, intake.retry)
    if isinstance(result, InboundMessage):
        if result.status == InboundStatus.QUARANTINED:
            messages.error(request, _("Still quarantined: %(reason)s") % {"reason": result.reason})
        else:
            messages.success(
                request,
                _("Processed: %(status)s %(reference)s")
                % {"status": result.get_status_display(), "reference": result.reference},
            )
        return redirect("communications:quarantine")
    return result


@login_required
@require_POST
def quarantine_discard(request, pk: int):
    result = _act(request, pk, intake.discard)
    if isinstance(result, InboundMessage):
        messages.success(request, _("The message was discarded."))
        return redirect("communications:quarantine")
    return result
