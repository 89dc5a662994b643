"""RFC 9457 problem details for every API error."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from ninja.errors import (
    AuthenticationError,
    AuthorizationError,
    HttpError,
    ValidationError as NinjaValidationError,
)

from itsmo.core.errors import DomainError, StaleVersion

CONTENT_TYPE = "application/problem+json"
logger = logging.getLogger("itsmo.api")

#: Where ninja says a value came from; not part of the field name a client sent.
_SOURCES = {"body", "query", "path", "form", "header", "cookie", "payload", "pagination", "filters"}


def problem(
    request: HttpRequest, status: int, title: str, detail: str = "", **extra: Any
) -> JsonResponse:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail or title,
        "instance": request.path,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JsonResponse(body, status=status, content_type=CONTENT_TYPE)


def _location(loc: list[Any]) -> str:
    parts = [str(p) for p in loc if p not in _SOURCES]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """The answer for a URL under the API that names no endpoint."""
    return problem(request, 404, "Not found", f"no API endpoint at {request.path}")


def method_not_allowed(request: HttpRequest, allowed: list[str]) -> JsonResponse:
    response = problem(
        request,
        405,
        "Method not allowed",
        f"{request.method} is not allowed here; use {', '.join(allowed)}",
        allowed=allowed,
    )
    response["Allow"] = ", ".join(allowed)
    return response


def install(api) -> None:
    @api.exception_handler(NinjaValidationError)
    def validation_error(request, exc: NinjaValidationError):
        errors = [
            {"field": _location(list(e.get("loc", []))), "message": e.get("msg", "")}
            for e in exc.errors
        ]
        first = errors[0] if errors else {"field": None, "message": "invalid input"}
        return problem(
            request,
            422,
            "Validation failed",
            f"{first['field']}: {first['message']}",
            field=first["field"],
            errors=errors,
        )

    @api.exception_handler(StaleVersion)
    def stale(request, exc: StaleVersion):
        current = None
        serializer = getattr(exc.record, "api_snapshot", None)
        if callable(serializer):
            current = serializer()
        return problem(
            request,
            409,
            exc.title,
            exc.message,
            field="version",
            current_version=exc.current_version,
            current=current,
        )

    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        return problem(request, exc.status, exc.title, exc.message, field=exc.field, **exc.extra)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        response = problem(
            request,
            401,
            "Authentication required",
            "send a session cookie or 'Authorization: Bearer <token>'",
        )
        response["WWW-Authenticate"] = 'Bearer realm="itsmo"'
        return response

    @api.exception_handler(AuthorizationError)
    def unauthorized(request, exc):
        return problem(request, 403, "Permission denied", str(exc.message))

    @api.exception_handler(DjangoPermissionDenied)
    def django_forbidden(request, exc):
        return problem(request, 403, "Permission denied", str(exc) or "permission denied")

    @api.exception_handler(Http404)
    def http_404(request, exc):
        return problem(request, 404, "Not found", str(exc) or "not found")

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        return problem(request, exc.status_code, str(exc) or "Error", str(exc))

    @api.exception_handler(Exception)
    def server_error(request, exc):
        logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
        return problem(
            request,
            500,
            "Internal server error",
            "something went wrong on our side; it has been logged",
        )
