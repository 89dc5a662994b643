"""Human reference numbers (INC0001001, CHG0001001, …): unique, never handed out twice.

PostgreSQL: each prefix has a sequence, ``core_number_<prefix>``, read through the function
``core_next_numbers(prefix, count)`` that migration ``core.0003`` installs (it creates the
sequence on a prefix's first use). A sequence hands out a value without holding a lock until
commit, so concurrent intakes never queue behind each other's transactions. A value taken by
a transaction that rolls back is skipped, never reused: numbers may have gaps, as in most
ITSM tools. The sequences belong to ``core_sequence.prefix``, so flushing the database
(``TRUNCATE … RESTART IDENTITY``) restarts them like the counter rows below.

SQLite: the counter row in ``core_sequence`` is bumped with ``UPDATE … RETURNING``. SQLite
serialises writers anyway, and a rolled-back number comes back with its transaction (nobody
saw it).
"""

from __future__ import annotations

from collections.abc import Sequence as Values

from django.db import IntegrityError, connection, transaction

from .models import Sequence

FIRST_VALUE = 1001
WIDTH = 7


def next_value(prefix: str) -> int:
    return next_values(prefix, 1)[0]


def next_reference(prefix: str, width: int = WIDTH) -> str:
    return f"{prefix}{next_value(prefix):0{width}d}"


def next_values(prefix: str, count: int) -> Values[int]:
    """Take ``count`` numbers in one statement (bulk writers, the importers), in increasing
    order. They are consecutive on SQLite; on PostgreSQL another transaction taking numbers
    at the same moment may interleave with them."""
    if not (prefix.isascii() and prefix.isalpha() and prefix.isupper()):
        raise ValueError(f"a reference prefix is upper-case letters, not {prefix!r}")
    if count < 1:
        return range(0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT core_next_numbers(%s, %s)", [prefix, count])
            return [value for (value,) in cursor.fetchall()]
    return _counter_values(prefix, count)


def next_references(prefix: str, count: int, width: int = WIDTH) -> list[str]:
    return [f"{prefix}{value:0{width}d}" for value in next_values(prefix, count)]


def _counter_values(prefix: str, count: int) -> range:
    table = connection.ops.quote_name(Sequence._meta.db_table)
    sql = f"UPDATE {table} SET last_value = last_value + %s WHERE prefix = %s RETURNING last_value"
    # One statement, no savepoint, when the counter exists: it bumps it or finds no row.
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, prefix])
        row = cursor.fetchone()
    if row is None:
        try:
            with transaction.atomic():
                Sequence.objects.create(prefix=prefix, last_value=FIRST_VALUE + count - 1)
            return range(FIRST_VALUE, FIRST_VALUE + count)
        except IntegrityError:
            # Another transaction created the counter first: take the block from it.
            with connection.cursor() as cursor:
                cursor.execute(sql, [count, prefix])
                row = cursor.fetchone()
    last = row[0]
    return range(last - count + 1, last + 1)
