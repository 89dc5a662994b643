"""Reference numbers are unique under concurrency and never reused."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from itsmo.core.numbering import next_reference


@pytest.mark.django_db
def test_numbers_start_at_1001_and_are_padded():
    assert next_reference("INC") == "INC0001001"
    assert next_reference("INC") == "INC0001002"
    assert next_reference("CHG") == "CHG0001001"


@pytest.mark.django_db
def test_rolled_back_transaction_does_not_reuse_a_handed_out_number():
    first = next_reference("PRB")
    with pytest.raises(RuntimeError), transaction.atomic():
        next_reference("PRB")
        raise RuntimeError("abort")
    # The aborted number is rolled back with its transaction; the next one follows `first`.
    assert next_reference("PRB") == "PRB0001002"
    assert first == "PRB0001001"


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
