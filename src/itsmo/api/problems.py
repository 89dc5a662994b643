"""RFC 9457 problem details for every API error."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, JsonResponse
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from itsmo.core.errors import DomainError, StaleVersion

CONTENT_TYPE = "application/problem+json"


def problem(request: HttpRequest, status: int, title: str, detail: str = "",
            **extra: Any) -> JsonResponse:
    body = {"type": "about:blank", "title": title, "status": status,
            "detail": detail or title, "instance": request.path}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JsonResponse(body, status=status, content_type=CONTENT_TYPE)


def _location(loc: list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "payload")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def install(api) -> None:
    @api.exception_handler(NinjaValidationError)
    def validation_error(request, exc: NinjaValidationError):
        errors = [{"field": _location(list(e.get("loc", []))), "message": e.get("msg", "")}
                  for e in exc.errors]
        first = errors[0] if errors else {"field": None, "message": "invalid input"}
        return problem(request, 422, "Validation failed",
                       f"{first['field']}: {first['message']}", field=first["field"],
                       errors=errors)

    @api.exception_handler(StaleVersion)
    def stale(request, exc: StaleVersion):
        current = None
        serializer = getattr(exc.record, "api_snapshot", None)
        if callable(serializer):
            current = serializer()
        return problem(request, 409, exc.title, exc.message, field="version",
                       current_version=exc.current_version, current=current)

    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        return problem(request, exc.status, exc.title, exc.message, field=exc.field,
                       **exc.extra)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        response = problem(request, 401, "Authentication required",
                           "send a session cookie or 'Authorization: Bearer <token>'")
        response["WWW-Authenticate"] = 'Bearer realm="itsmo"'
        return response

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return problem(request, 404, "Not found", str(exc) or "not found")

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        return problem(request, exc.status_code, str(exc) or "Error", str(exc))
