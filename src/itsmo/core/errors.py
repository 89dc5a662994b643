"""Domain errors raised by services; the API maps them to problem+json, the UI to messages."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base for every error a service raises on purpose."""

    status = 400
    title = "Invalid request"

    def __init__(self, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra


class ValidationFailed(DomainError):
    status = 422
    title = "Validation failed"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class PermissionDenied(DomainError):
    status = 403
    title = "Permission denied"


class TransitionNotAllowed(DomainError):
    status = 409
    title = "Transition not allowed"


class StaleVersion(DomainError):
    """The record changed since the caller read it; ``current`` holds what it is now."""

    status = 409
    title = "Version conflict"

    def __init__(self, message: str, *, current_version: int, record: Any = None) -> None:
        super().__init__(message, field="version", current_version=current_version)
        self.current_version = current_version
        self.record = record
