"""What every app's forms share."""

from __future__ import annotations

from django import forms


def add_domain_error(form: forms.Form, error, *, prefix: str = "") -> None:
    """Show a service's refusal on the field it names, or on the whole form when the form
    has no such field. ``prefix`` is what the service puts before the form's field names
    (``"exception."`` for ``exception.date``)."""
    message = getattr(error, "message", str(error))
    field = getattr(error, "field", None) or ""
    if prefix and field.startswith(prefix):
        field = field[len(prefix) :]
    form.add_error(field if field in form.fields else None, message)
