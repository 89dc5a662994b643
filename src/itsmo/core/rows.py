"""Reading and inserting single rows on the hot paths, without the ORM's per-call SQL
compilation.

``Model.save()`` and ``bulk_create()`` compile the INSERT anew on every call, which costs
more than the database spends on it when a request writes a handful of single rows (an
incident, its journal entry, its clocks, a notification). :func:`insert` keeps the
statement per model and row count and only prepares the values: each field's own
``pre_save`` (``auto_now`` and friends) and ``get_db_prep_save`` (JSON, dates), exactly what
the ORM sends. ``pre_save`` and ``post_save`` are sent, as ``save()`` would, only when
something listens to them for the model (asking costs next to nothing).

:func:`get` is the reading side: one row by a fixed condition (an API token by its hash, a
user by name), its statement kept per model and condition, its values converted by the same
converters the ORM applies (dates and JSON on SQLite, for instance).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import signals

_MAX_CACHED_ROWS = 16
_batch = threading.local()  # pending: [(cursor, objects)] whose keys come when the batch ends


@cache
def _columns(model: type[models.Model]) -> tuple[list[models.Field], str]:
    meta = model._meta
    auto = meta.pk if _generates_key(model) else None
    fields = [f for f in meta.concrete_fields if f is not auto]
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
    return fields, head


def _statement(model: type[models.Model], rows: int) -> str:
    if rows <= _MAX_CACHED_ROWS:
        return _cached_statement(model, rows, connection.vendor)
    return _build_statement(model, rows)


@cache
def _cached_statement(model: type[models.Model], rows: int, vendor: str) -> str:
    return _build_statement(model, rows)


def _generates_key(model: type[models.Model]) -> bool:
    return isinstance(model._meta.pk, models.AutoField)


def _build_statement(model: type[models.Model], rows: int) -> str:
    fields, head = _columns(model)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = f"{head} VALUES {', '.join([one] * rows)}"
    if _generates_key(model):  # else the key is among the values already
        sql += f" RETURNING {connection.ops.quote_name(model._meta.pk.column)}"
    return sql


def insert(objects: Sequence[models.Model]) -> list[models.Model]:
    """Insert new ``objects`` (all of one model) in one statement; sets their primary keys
    and returns them. Falls back to ``bulk_create`` where INSERT … RETURNING is missing."""
    objects = list(objects)
    if not objects:
        return objects
    model = type(objects[0])
    if not connection.features.can_return_rows_from_bulk_insert:
        return model._default_manager.bulk_create(objects)
    fields, _ = _columns(model)
    alias = connection.alias
    if signals.pre_save.has_listeners(model):
        for obj in objects:
            signals.pre_save.send(
                sender=model, instance=obj, raw=False, using=alias, update_fields=None
            )
    batch = max(1, connection.ops.bulk_batch_size(fields, objects))
    for start in range(0, len(objects), batch):
        _insert_batch(model, fields, objects[start : start + batch])
    if signals.post_save.has_listeners(model):
        for obj in objects:
            signals.post_save.send(
                sender=model,
                instance=obj,
                created=True,
                raw=False,
                using=alias,
                update_fields=None,
            )
    return objects


def _insert_batch(model, fields: list[models.Field], objects: list[models.Model]) -> None:
    wrapper = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the proxy, per field
    params = []
    for obj in objects:
        for field in fields:
            params.append(field.get_db_prep_save(field.pre_save(obj, True), wrapper))
    pending = getattr(_batch, "pending", None)
    if pending is not None:  # inside batch(): the keys arrive when it ends
        cursor = wrapper.cursor()
        cursor.execute(_statement(model, len(objects)), params)
        pending.append((cursor, objects if _generates_key(model) else []))
    else:
        with wrapper.cursor() as cursor:
            cursor.execute(_statement(model, len(objects)), params)
            if _generates_key(model):
                for obj, (key,) in zip(objects, cursor.fetchall(), strict=True):
                    obj.pk = key
    for obj in objects:
        obj._state.adding = False
        obj._state.db = wrapper.alias


@contextmanager
def batch() -> Iterator[None]:
    """Send the inserts made inside together: on PostgreSQL one round trip (pipeline mode)
    instead of one per statement. For independent writes only: the keys of the rows
    inserted inside are set when the block ends, and an error surfaces there too. Elsewhere
    (SQLite runs in-process) the statements run one by one, as without it."""
    if connection.vendor != "postgresql" or getattr(_batch, "pending", None) is not None:
        yield
        return
    connection.ensure_connection()
    _batch.pending = pending = []
    try:
        # Errors surface at the sync, outside the cursors: Django's wrapper turns them into
        # its own (IntegrityError…), as for any statement.
        with connection.wrap_database_errors, connection.connection.pipeline() as pipeline:
            yield
            pipeline.sync()
            for cursor, objects in pending:
                for obj, (key,) in zip(objects, cursor.fetchall(), strict=True):
                    obj.pk = key
    finally:
        _batch.pending = None
        for cursor, _ in pending:
            cursor.close()


# -- reading one row ----------------------------------------------------------------------------


@cache
def _reader(
    model: type[models.Model], where: str, join: str, extra: tuple[str, ...], vendor: str
) -> tuple[str, list, list]:
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    fields = list(meta.concrete_fields)
    columns = ", ".join([*(f"{table}.{quote(f.column)}" for f in fields), *extra])
    sql = f"SELECT {columns} FROM {table} {join} WHERE {where} LIMIT 1"
    converters = []
    for field in fields:
        column = field.get_col(meta.db_table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        converters.append((found, column))
    return sql, [f.attname for f in fields], converters


def get(model: type[models.Model], where: str, params: Sequence) -> models.Model | None:
    """The first row of ``model`` matching ``where`` (SQL over its own columns, with ``%s``
    placeholders), as an instance; ``None`` when there is none."""
    found = get_joined(model, where, params)
    return None if found is None else found[0]


def get_joined(
    model: type[models.Model],
    where: str,
    params: Sequence,
    *,
    join: str = "",
    extra: tuple[str, ...] = (),
) -> tuple[models.Model, tuple] | None:
    """Like :func:`get`, with a ``join`` clause and ``extra`` columns (raw values, returned
    beside the instance): one statement where two single-row reads would be needed."""
    sql, names, converters = _reader(model, where, join, tuple(extra), connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row[: len(names)])
    wrapper = connections[DEFAULT_DB_ALIAS]
    for index, (functions, expression) in enumerate(converters):
        for function in functions:
            values[index] = function(values[index], expression, wrapper)
    return model.from_db(connection.alias, names, values), tuple(row[len(names) :])
