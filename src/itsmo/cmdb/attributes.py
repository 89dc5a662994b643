"""Validate and coerce CI attribute values against a class's declared attributes.

Pure rules: values in, values out, no ORM. Strings are accepted for every type (CSV
imports send nothing else) and coerced: ``"16"`` → 16 for an integer, ``"yes"`` → True
for a boolean. Stored forms: integer → int, decimal → JSON number, boolean → bool,
date → ``YYYY-MM-DD``, ip → the normalised address, string and choice → str.
An empty string or ``None`` means "not set".
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from itsmo.core.errors import ValidationFailed

MAX_STRING = 1000
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "on"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "off"})


@dataclass(frozen=True)
class AttributeSpec:
    name: str
    type: str
    label: str = ""
    is_required: bool = False
    choices: tuple[str, ...] = field(default_factory=tuple)


class _Invalid(ValueError):
    pass


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise _Invalid("expected an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _Invalid("expected an integer")


def _decimal(value: Any) -> int | float:
    if isinstance(value, bool):
        raise _Invalid("expected a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise _Invalid("expected a number") from None
        if not number.is_finite():
            raise _Invalid("expected a finite number")
        result = float(number)
        if math.isinf(result):
            raise _Invalid("number out of range")
        return int(number) if number == number.to_integral_value() else result
    raise _Invalid("expected a number")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS:
        return True
    if isinstance(value, str) and value.strip().lower() in FALSE_WORDS:
        return False
    raise _Invalid("expected true or false")


def _date(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise _Invalid("expected a date YYYY-MM-DD")


def _ip(value: Any) -> str:
    if isinstance(value, str):
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            pass
    raise _Invalid("expected an IPv4 or IPv6 address")


def _string(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid("expected text")
    text = str(value).strip()
    if len(text) > MAX_STRING:
        raise _Invalid(f"at most {MAX_STRING} characters")
    return text


def coerce(spec: AttributeSpec, value: Any) -> Any:
    """The stored form of ``value`` for ``spec``; raises ``ValidationFailed`` naming it."""
    try:
        if spec.type == "integer":
            return _integer(value)
        if spec.type == "decimal":
            return _decimal(value)
        if spec.type == "boolean":
            return _boolean(value)
        if spec.type == "date":
            return _date(value)
        if spec.type == "ip":
            return _ip(value)
        text = _string(value)
        if spec.type == "choice" and text not in spec.choices:
            raise _Invalid(f"expected one of {', '.join(spec.choices)}")
        return text
    except _Invalid as error:
        raise ValidationFailed(
            f"attribute {spec.name!r}: {error} (got {value!r:.60})", field=f"attributes.{spec.name}"
        ) from None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean(
    schema: Mapping[str, AttributeSpec], values: Mapping[str, Any] | None, *, class_name: str = ""
) -> dict[str, Any]:
    """Validate a whole attribute set; unknown names, bad values and missing required fail."""
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise ValidationFailed("attributes must be an object of name → value", field="attributes")
    result: dict[str, Any] = {}
    for name in sorted(values):
        if name not in schema:
            where = f" for class {class_name}" if class_name else ""
            raise ValidationFailed(f"unknown attribute {name!r}{where}", field=f"attributes.{name}")
        if not _blank(values[name]):
            result[name] = coerce(schema[name], values[name])
    for name, spec in schema.items():
        if spec.is_required and name not in result:
            raise ValidationFailed(f"attribute {name!r} is required", field=f"attributes.{name}")
    return result
