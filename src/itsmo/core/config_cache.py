"""Configuration every write reads and people rarely change, kept in each process.

Opening an incident reads the priority matrix, the SLA definitions and the country's
business calendar. Reading them from the database on every request costs more than the
rest of the write, so each process keeps what it read, labelled with the configuration
**generation**: a random token stored in ``core_generation`` and replaced, in the changing
transaction, whenever a watched model is saved or deleted (:func:`watch` connects the
signals). A reader compares the stored token with its label and reloads on any difference,
so a committed change is seen by every process at its next read, and a change that rolls
back never matches a label again (a token is never reused, unlike a counter).

Inside a request the token is read once (the first time it is needed); outside requests
(workers, commands, tests) it is read on every use. The process that makes a change forgets
everything at once and reads the token on every use until the request ends, so it sees its
own change inside its transaction and nothing of it once that rolls back.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

NAME = "config"
_lock = threading.Lock()
_state: dict[str, Any] = {"label": None, "values": {}}
_request = threading.local()  # token: the token read in this request; memo: may keep it


def _table() -> str:
    from .models import Generation

    return connection.ops.quote_name(Generation._meta.db_table)


def token_column() -> str:
    """A subquery for the stored token, for a request's first statement to carry along
    (API token authentication does): :func:`note_token` then spares the read."""
    return f"(SELECT value FROM {_table()} WHERE name = '{NAME}')"


def note_token(value: str | None) -> None:
    """The stored token as a statement of this request just read it (see
    :func:`token_column`); outside a request this does nothing."""
    if getattr(_request, "memo", False) and getattr(_request, "token", None) is None:
        _request.token = value or ""


def _stored_token() -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {_table()} WHERE name = %s", [NAME])
        row = cursor.fetchone()
    return row[0] if row else ""


def _current_token() -> str:
    if not getattr(_request, "memo", False):
        return _stored_token()
    token = getattr(_request, "token", None)
    if token is None:
        token = _request.token = _stored_token()
    return token


def cached(key: str, load: Callable[[], T]) -> T:
    """``load()``'s result, read again only after the configuration changed."""
    token = _current_token()
    with _lock:
        if _state["label"] != token:
            _state["label"], _state["values"] = token, {}
        values = _state["values"]
        if key in values:
            return values[key]
    value = load()
    with _lock:
        if _state["label"] == token:
            _state["values"][key] = value
    return value


def forget() -> None:
    """Drop everything this process holds (it reads the configuration again)."""
    with _lock:
        _state.update(label=None, values={})
    _request.token = None


def changed() -> None:
    """The configuration changed in the current transaction: store a new token."""
    token = secrets.token_hex(16)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_table()} SET value = %s WHERE name = %s", [token, NAME])
        if cursor.rowcount == 0:
            cursor.execute(f"INSERT INTO {_table()} (name, value) VALUES (%s, %s)", [NAME, token])
    forget()
    _request.memo = False
    if connection.in_atomic_block:
        transaction.on_commit(forget)


def _on_change(sender, **kwargs) -> None:
    changed()


_WATCHED: set[type] = set()


def watch(*models) -> None:
    """Count saves and deletes of ``models`` as configuration changes."""
    _WATCHED.update(models)
    for model in models:
        post_save.connect(_on_change, sender=model, dispatch_uid=f"config:{model._meta.label}")
        post_delete.connect(
            _on_change, sender=model, dispatch_uid=f"config-delete:{model._meta.label}"
        )


def bulk_written(model) -> None:
    """Rows of ``model`` were written without signals (``bulk_create``, ``update()``,
    ``COPY``): a watched model's change is announced here instead."""
    if model in _WATCHED:
        changed()


def _request_started(**kwargs) -> None:
    _request.token, _request.memo = None, True


def _request_finished(**kwargs) -> None:
    _request.token, _request.memo = None, False


request_started.connect(_request_started, dispatch_uid="config-cache-request-started")
request_finished.connect(_request_finished, dispatch_uid="config-cache-request-finished")
