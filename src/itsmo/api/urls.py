"""The Itsmo API under /api/v1/: one NinjaAPI, one router per app."""

from __future__ import annotations

import functools
import inspect
import json

from django.http import Http404, HttpResponseNotAllowed
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI

from . import problems
from .auth import AUTH
from .openapi import add_problem_responses


def _nul_field(request) -> str | None:
    """The first query or JSON field holding a NUL character (PostgreSQL cannot store it)."""
    for name, values in request.GET.lists():
        if any("\x00" in value for value in values):
            return name
    if request.content_type != "application/json" or b"\\u0000" not in request.body:
        return None
    try:
        data = json.loads(request.body)
    except ValueError:
        return None

    def walk(value, path):
        if isinstance(value, str):
            return path if "\x00" in value else None
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            return None
        for key, item in items:
            found = walk(item, [*path, str(key)])
            if found is not None:
                return found
        return None

    found = walk(data, [])
    return ".".join(found) if found is not None else None


def _as_problems(view):
    """Ninja answers a wrong method with a bare 405 and its root URL with Django's HTML 404;
    turn both into problem+json (operations map their own errors in ``problems``)."""
    if inspect.iscoroutinefunction(view):
        return view

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        field = _nul_field(request)
        if field is not None:
            return problems.problem(
                request,
                422,
                "Validation failed",
                f"{field}: NUL characters are not allowed",
                field=field,
            )
        try:
            response = view(request, *args, **kwargs)
        except Http404 as error:
            return problems.problem(request, 404, "Not found", str(error))
        if isinstance(response, HttpResponseNotAllowed):
            allowed = [m.strip() for m in response["Allow"].split(",") if m.strip()]
            return problems.method_not_allowed(request, allowed)
        return response

    return wrapper


class ItsmoAPI(NinjaAPI):
    """A NinjaAPI whose every answer, even for unknown URLs and methods, is problem+json."""

    def _get_urls(self):
        patterns = super()._get_urls()
        for pattern in patterns:
            pattern.callback = _as_problems(pattern.callback)
        patterns.append(re_path(r"^.*$", csrf_exempt(problems.not_found), name="not-found"))
        return patterns

    def get_openapi_schema(self, *args, **kwargs):
        return add_problem_responses(super().get_openapi_schema(*args, **kwargs))


api = ItsmoAPI(
    title="Itsmo API",
    version="1",
    description=(
        "IT service management with a built-in Service Management Office. "
        "Authenticate with `Authorization: Bearer <token>` (personal tokens from your "
        "profile page) or a browser session. Errors are RFC 9457 problem+json. "
        "Lists are paginated with `page` and `page_size` (at most 500)."
    ),
    auth=AUTH,
    urls_namespace="api",
)
problems.install(api)

from itsmo.accounts.api import router as accounts_router  # noqa: E402
from itsmo.catalog.api import router as catalog_router  # noqa: E402
from itsmo.changes.api import router as changes_router  # noqa: E402
from itsmo.cmdb.api import router as cmdb_router  # noqa: E402
from itsmo.cmdb.api_import import router as cmdb_import_router  # noqa: E402
from itsmo.core.api import router as core_router  # noqa: E402
from itsmo.incidents.api import router as incidents_router  # noqa: E402
from itsmo.knowledge.api import router as knowledge_router  # noqa: E402
from itsmo.organization.api import router as organization_router  # noqa: E402
from itsmo.problems.api import router as problems_router  # noqa: E402
from itsmo.slm.api import router as slm_router  # noqa: E402
from itsmo.surveys.api import router as surveys_router  # noqa: E402

api.add_router("", accounts_router)
api.add_router("", organization_router)
api.add_router("", core_router)
api.add_router("", catalog_router)
api.add_router("", cmdb_router)
api.add_router("", cmdb_import_router)
api.add_router("", incidents_router)
api.add_router("", problems_router)
api.add_router("", knowledge_router)
api.add_router("", changes_router)
api.add_router("", slm_router)
api.add_router("", surveys_router)
