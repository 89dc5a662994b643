"""Template context every page needs: the navigation the user may see, active entry marked."""

from __future__ import annotations

from .navigation import menu_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": []}
    match = getattr(request, "resolver_match", None)
    soon_key = None
    if match is not None and match.view_name == "web:soon":
        soon_key = match.kwargs.get("area")
    return {"nav_sections": menu_for(user, request.path, soon_key)}
