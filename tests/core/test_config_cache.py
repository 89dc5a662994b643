"""The per-process configuration cache: a change is seen by the next read, in this process
at once and in any other once its transaction commits; a rolled-back change is never seen."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from itsmo.core import config_cache
from itsmo.incidents import services as incidents
from itsmo.incidents.models import PriorityMatrixCell

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    config_cache.forget()
    yield
    config_cache.forget()


def _write_cell_as_another_process(impact: int, urgency: int, priority: int, token: str) -> None:
    """What another process's service does: the row, then a new token, with no signal
    reaching this process."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO incidents_prioritymatrixcell (impact, urgency, priority)"
            " VALUES (%s, %s, %s)",
            [impact, urgency, priority],
        )
        cursor.execute("UPDATE core_generation SET value = %s WHERE name = 'config'", [token])
        if cursor.rowcount == 0:
            cursor.execute(
                "INSERT INTO core_generation (name, value) VALUES ('config', %s)", [token]
            )


def test_a_value_is_loaded_once_until_the_configuration_changes():
    loads = []

    def load():
        loads.append(1)
        return len(loads)

    assert config_cache.cached("test.value", load) == 1
    assert config_cache.cached("test.value", load) == 1
    config_cache.changed()
    assert config_cache.cached("test.value", load) == 2
    assert len(loads) == 2


def test_a_change_saved_in_this_process_applies_to_the_next_incident():
    assert incidents.compute_priority(3, 3) == 5
    PriorityMatrixCell.objects.create(impact=3, urgency=3, priority=4)
    assert incidents.compute_priority(3, 3) == 4
    PriorityMatrixCell.objects.filter(impact=3, urgency=3).get().delete()
    assert incidents.compute_priority(3, 3) == 5


def test_a_change_committed_by_another_process_is_seen_at_the_next_read():
    assert incidents.compute_priority(1, 3) == 3
    _write_cell_as_another_process(1, 3, 1, token="from-another-process")
    assert incidents.compute_priority(1, 3) == 1


def test_a_rolled_back_change_is_not_kept():
    assert incidents.compute_priority(2, 3) == 4
    with pytest.raises(RuntimeError), transaction.atomic():
        PriorityMatrixCell.objects.create(impact=2, urgency=3, priority=2)
        assert incidents.compute_priority(2, 3) == 2  # the writer sees its own change
        raise RuntimeError("roll back")
    assert not PriorityMatrixCell.objects.exists()
    assert incidents.compute_priority(2, 3) == 4


def test_within_a_request_the_token_is_read_once(django_assert_num_queries):
    # The handlers of request_started / request_finished (sending the signals here would
    # also run Django's connection clean-up inside the test's transaction).
    config_cache.cached("test.request", lambda: "value")
    config_cache._request_started()
    try:
        with django_assert_num_queries(1):
            for _ in range(3):
                assert config_cache.cached("test.request", lambda: "other") == "value"
    finally:
        config_cache._request_finished()
    with django_assert_num_queries(2):  # outside a request: read on every use
        config_cache.cached("test.request", lambda: "other")
        config_cache.cached("test.request", lambda: "other")


def test_rows_written_without_signals_announce_a_change_for_watched_models_only():
    from itsmo.catalog.models import Service
    from itsmo.core.models import JournalEntry

    loads = []
    config_cache.cached("test.bulk", lambda: loads.append(1))
    config_cache.bulk_written(JournalEntry)  # not configuration
    config_cache.cached("test.bulk", lambda: loads.append(1))
    assert len(loads) == 1
    config_cache.bulk_written(Service)  # e.g. an importer's bulk_create
    config_cache.cached("test.bulk", lambda: loads.append(1))
    assert len(loads) == 2


def test_a_versioned_update_of_a_watched_model_is_seen_at_the_next_read(mexico, region_brazil):
    from itsmo.organization import services as organization

    assert organization.country_by_id(mexico.pk).region.code == "mexico"
    organization.update_country(mexico, version=mexico.version, region=region_brazil)
    assert organization.country_by_id(mexico.pk).region.code == "brazil"
