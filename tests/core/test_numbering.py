"""Reference numbers are unique under concurrency and never reused."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from itsmo.core.numbering import next_reference, next_values


@pytest.mark.django_db
def test_numbers_start_at_1001_and_are_padded():
    assert next_reference("INC") == "INC0001001"
    assert next_reference("INC") == "INC0001002"
    assert next_reference("CHG") == "CHG0001001"


@pytest.mark.django_db
def test_a_number_taken_by_a_rolled_back_transaction_is_never_given_to_another_record():
    first = next_reference("PRB")
    with pytest.raises(RuntimeError), transaction.atomic():
        aborted = next_reference("PRB")
        raise RuntimeError("abort")
    after = next_reference("PRB")
    assert first == "PRB0001001" and aborted == "PRB0001002"
    if connection.vendor == "postgresql":
        # A sequence never gives a value back: the aborted number is skipped.
        assert after == "PRB0001003"
    else:
        # The counter row rolls back with its transaction, which nobody else could see.
        assert after == "PRB0001002"


@pytest.mark.django_db
def test_blocks_are_increasing_and_follow_single_numbers():
    assert next_reference("KB") == "KB0001001"
    assert list(next_values("KB", 3)) == [1002, 1003, 1004]
    assert next_reference("KB") == "KB0001005"
    assert list(next_values("KB", 0)) == []


@pytest.mark.parametrize("prefix", ["inc", "IN C", "INC1", "INC'; --", ""])
def test_a_prefix_is_upper_case_letters(prefix):
    with pytest.raises(ValueError, match="upper-case letters"):
        next_values(prefix, 1)


@pytest.mark.django_db(transaction=True)
def test_flushing_the_database_restarts_numbering():
    assert next_reference("TST") == "TST0001001"
    call_command("flush", interactive=False, verbosity=0)
    assert next_reference("TST") == "TST0001001"


@pytest.mark.django_db(transaction=True)
def test_concurrent_callers_never_get_the_same_number():
    def take(_):
        try:
            return [next_reference("REQ") for _ in range(10)]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        batches = list(pool.map(take, range(8)))
    numbers = [n for batch in batches for n in batch]
    assert len(numbers) == 80
    assert len(set(numbers)) == 80
    assert sorted(numbers)[-1] == "REQ0001080"


@pytest.mark.django_db(transaction=True)
def test_upgrading_moves_each_counter_into_its_sequence_and_back():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps its counter rows; the migration changes nothing there")
    before, after = [("core", "0002_generation")], [("core", "0003_number_sequences")]
    MigrationExecutor(connection).migrate(before)
    try:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO core_sequence (prefix, last_value) VALUES ('INC', 5400)")
        MigrationExecutor(connection).migrate(after)
        assert next_reference("INC") == "INC0005401"  # numbering goes on where it stopped
        assert next_reference("CHG") == "CHG0001001"  # a new prefix starts at the beginning

        MigrationExecutor(connection).migrate(before)
        with connection.cursor() as cursor:
            cursor.execute("SELECT prefix, last_value FROM core_sequence ORDER BY prefix")
            assert cursor.fetchall() == [("CHG", 1001), ("INC", 5401)]
    finally:
        MigrationExecutor(connection).migrate(after)
    assert next_reference("INC") == "INC0005402"


@pytest.mark.django_db(transaction=True)
def test_an_open_transaction_holding_a_number_does_not_hold_up_the_next_one():
    """Intake takes its number first and commits last: the number must not lock anything
    until then, or every intake would wait for the one before it to commit."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers by design")
    next_reference("INC")  # the prefix exists (its first use creates the sequence)
    taken, release = threading.Event(), threading.Event()
    held: list[str] = []

    def hold_a_number_open() -> None:
        try:
            with transaction.atomic():
                held.append(next_reference("INC"))
                taken.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_a_number_open)
    holder.start()
    try:
        assert taken.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
            number = next_reference("INC")  # a lock wait would fail here after 1 s
    finally:
        release.set()
        holder.join(10)
    assert held == ["INC0001002"] and number == "INC0001003"
