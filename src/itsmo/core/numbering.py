"""Human reference numbers (INC0001001, CHG0001001, …): unique, never reused.

The counter row is bumped with ``UPDATE … RETURNING`` so two transactions can never
receive the same value: PostgreSQL locks the row until commit, SQLite serialises writers.
"""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction

from .models import Sequence

FIRST_VALUE = 1001
WIDTH = 7


def next_value(prefix: str) -> int:
    table = connection.ops.quote_name(Sequence._meta.db_table)
    sql = f"UPDATE {table} SET last_value = last_value + 1 WHERE prefix = %s RETURNING last_value"
    # One statement, no savepoint: it either bumps the counter or finds no row.
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix])
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    try:
        with transaction.atomic():
            Sequence.objects.create(prefix=prefix, last_value=FIRST_VALUE)
        return FIRST_VALUE
    except IntegrityError:
        # Another transaction created the counter first: take the next value from it.
        with connection.cursor() as cursor:
            cursor.execute(sql, [prefix])
            return cursor.fetchone()[0]


def next_reference(prefix: str, width: int = WIDTH) -> str:
    return f"{prefix}{next_value(prefix):0{width}d}"


def next_values(prefix: str, count: int) -> range:
    """Reserve ``count`` consecutive values in one statement (bulk writers, the importer).

    Same guarantees as :func:`next_value`: the block is never handed out twice, and a
    rolled-back transaction gives it back only because nobody ever saw it.
    """
    if count < 1:
        return range(0)
    table = connection.ops.quote_name(Sequence._meta.db_table)
    sql = f"UPDATE {table} SET last_value = last_value + %s WHERE prefix = %s RETURNING last_value"
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, [count, prefix])
            row = cursor.fetchone()
        if row is None:
            try:
                with transaction.atomic():
                    Sequence.objects.create(prefix=prefix, last_value=FIRST_VALUE + count - 1)
                return range(FIRST_VALUE, FIRST_VALUE + count)
            except IntegrityError:
                with connection.cursor() as cursor:
                    cursor.execute(sql, [count, prefix])
                    row = cursor.fetchone()
    last = row[0]
    return range(last - count + 1, last + 1)


def next_references(prefix: str, count: int, width: int = WIDTH) -> list[str]:
    return [f"{prefix}{value:0{width}d}" for value in next_values(prefix, count)]
