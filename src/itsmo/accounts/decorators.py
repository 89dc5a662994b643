"""View decorators about who may open a page."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect


def staff_required(view):
    """Signed-in staff only; end users are sent to the portal (GET) or refused (403)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff_member:
            if request.method == "GET":
                return redirect("portal:home")
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
