"""Template filters of the problem pages."""

from __future__ import annotations

from django import template

from itsmo.problems.models import Status

register = template.Library()


@register.filter
def problem_state(value: str) -> str:
    """The label of a problem state value (``known_error`` → "Known error")."""
    return str(Status(value).label) if value in Status.values else value


@register.filter
def journal_field(value: str) -> str:
    return (value or "").replace("_", " ").replace("+", " added").replace("-", " removed")
