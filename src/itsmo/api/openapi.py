"""Describe the problem+json answers of every operation in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from .problems import CONTENT_TYPE

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "always `about:blank`"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "what went wrong, for a person"},
        "instance": {"type": "string", "description": "the request path"},
        "field": {"type": "string", "description": "the input field at fault, if any"},
        "errors": {
            "type": "array",
            "description": "every invalid field (validation failures)",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "allowed": {"type": "array", "items": {"type": "string"}},
        "current_version": {"type": "integer", "description": "on a version conflict"},
    },
    "additionalProperties": True,
}

_REASONS = {
    "400": "The request body is not JSON",
    "401": "Authentication required",
    "403": "Permission denied",
    "404": "Not found, or not visible to you",
    "422": "Validation failed; `field` names the input at fault",
}


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def add_problem_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the Problem schema and the error answers each operation can give."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            parameters = operation.get("parameters", [])
            statuses = []
            if "requestBody" in operation:
                statuses.append("400")
            if operation.get("security"):
                statuses += ["401", "403"]
            if any(p.get("in") == "path" for p in parameters):
                statuses.append("404")
            if parameters or "requestBody" in operation:
                statuses.append("422")
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses.setdefault(status, _problem_response(_REASONS[status]))
    return schema
