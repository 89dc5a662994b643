"""The schema of a request offering's form definition. Pure rules, no ORM.

A form definition is a list of fields::

    {"name": "model", "label": "Model", "type": "choice", "required": true,
     "options": ["14 inch", "16 inch"], "help": "…"}

``name`` is a lower_snake_case key unique in the form; ``type`` is one of
text, textarea, number, date, choice, bool, user; ``options`` (a non-empty list of
distinct strings) is required for a choice and refused otherwise.
"""

from __future__ import annotations

import re
from typing import Any

from itsmo.core.errors import ValidationFailed

FIELD_TYPES = ("text", "textarea", "number", "date", "choice", "bool", "user")
ALLOWED_KEYS = frozenset({"name", "label", "type", "required", "options", "help"})
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
MAX_FIELDS = 100


def validate_form_definition(definition: Any) -> list[dict[str, Any]]:
    """The normalised definition, or ``ValidationFailed`` naming ``form_definition[i].key``."""
    if definition is None:
        return []
    if not isinstance(definition, list):
        raise ValidationFailed("a form definition is a list of fields", field="form_definition")
    if len(definition) > MAX_FIELDS:
        raise ValidationFailed(f"at most {MAX_FIELDS} fields", field="form_definition")
    result: list[dict[str, Any]] = []
    names: set[str] = set()
    for index, item in enumerate(definition):
        where = f"form_definition[{index}]"
        if not isinstance(item, dict):
            raise ValidationFailed("each field is an object", field=where)
        unknown = sorted(set(item) - ALLOWED_KEYS)
        if unknown:
            raise ValidationFailed(f"unknown key {unknown[0]!r}", field=f"{where}.{unknown[0]}")
        name = item.get("name")
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise ValidationFailed("name must be lower_snake_case", field=f"{where}.name")
        if name in names:
            raise ValidationFailed(f"field {name!r} appears twice", field=f"{where}.name")
        names.add(name)
        label = item.get("label", "")
        if not isinstance(label, str) or not label.strip():
            raise ValidationFailed("a field needs a label", field=f"{where}.label")
        kind = item.get("type")
        if kind not in FIELD_TYPES:
            raise ValidationFailed(
                f"type must be one of {', '.join(FIELD_TYPES)}", field=f"{where}.type"
            )
        required = item.get("required", False)
        if not isinstance(required, bool):
            raise ValidationFailed("required is true or false", field=f"{where}.required")
        field = {"name": name, "label": label.strip(), "type": kind, "required": required}
        options = item.get("options")
        if kind == "choice":
            if (
                not isinstance(options, list)
                or not options
                or not all(isinstance(o, str) and o.strip() for o in options)
                or len(set(options)) != len(options)
            ):
                raise ValidationFailed(
                    "a choice needs a list of distinct, non-empty options", field=f"{where}.options"
                )
            field["options"] = list(options)
        elif options is not None:
            raise ValidationFailed("only a choice has options", field=f"{where}.options")
        help_text = item.get("help")
        if help_text is not None:
            if not isinstance(help_text, str):
                raise ValidationFailed("help is text", field=f"{where}.help")
            field["help"] = help_text
        result.append(field)
    return result
