"""core.rows: single-row inserts and reads with kept statements behave like the ORM's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from itsmo.communications.models import Notification
from itsmo.core import rows
from itsmo.core.models import JournalEntry, JournalKind

pytestmark = pytest.mark.django_db


def _notification(n: int, **extra) -> Notification:
    now = timezone.now()
    values = {
        "event": "comment",
        "email": f"person{n}@example.com",
        "context": {"incident": {"$model": "incidents.incident", "pk": n}, "list": [1, "two"]},
        "dedup_key": f"test:{n}",
        "message_id": f"<{n}@example.com>",
        "created_at": now,
        "next_attempt_at": now + timedelta(minutes=n),
    }
    values.update(extra)
    return Notification(**values)


def test_insert_sets_keys_in_order_and_stores_what_the_orm_would():
    written = rows.insert([_notification(1), _notification(2), _notification(3)])
    assert [n.pk for n in written] == sorted(n.pk for n in written)
    for item in written:
        stored = Notification.objects.get(pk=item.pk)
        assert stored.email == item.email
        assert stored.context == item.context
        assert stored.next_attempt_at == item.next_attempt_at
        assert stored.status == item.status  # the field default, as save() writes it


def test_insert_runs_field_pre_save_and_batches_large_inserts(agent_mexico):
    from django.contrib.contenttypes.models import ContentType

    kind = ContentType.objects.get_for_model(Notification)
    entries = [
        JournalEntry(
            content_type=kind,
            object_id=n,
            kind=JournalKind.COMMENT,
            body=f"entry {n}",
            actor=agent_mexico,
            occurred_at=timezone.now(),
        )
        for n in range(3000)  # more values than one statement may carry on SQLite
    ]
    rows.insert(entries)
    assert JournalEntry.objects.filter(body__startswith="entry ").count() == 3000
    assert len({e.pk for e in entries}) == 3000


def test_get_reads_one_row_with_the_orm_conversions():
    (item,) = rows.insert([_notification(7)])
    found = rows.get(Notification, "dedup_key = %s", ["test:7"])
    assert found.pk == item.pk
    assert found.context == item.context  # JSON decoded
    assert found.next_attempt_at == item.next_attempt_at  # an aware date-time
    assert found.next_attempt_at.tzinfo is not None
    assert found._state.adding is False
    assert rows.get(Notification, "dedup_key = %s", ["test:none"]) is None


def test_a_batch_sets_the_keys_when_it_ends_and_writes_everything():
    first, second = _notification(11), _notification(12)
    with rows.batch():
        rows.insert([first])
        rows.insert([second])
    assert first.pk and second.pk and first.pk != second.pk
    assert set(Notification.objects.values_list("pk", flat=True)) == {first.pk, second.pk}


def test_an_error_inside_a_batch_surfaces_and_nothing_of_it_stays():
    from django.db import IntegrityError, transaction

    rows.insert([_notification(21)])
    with pytest.raises(IntegrityError), transaction.atomic(), rows.batch():
        rows.insert([_notification(22)])
        rows.insert([_notification(21)])  # the same deduplication key: refused
    assert list(Notification.objects.values_list("dedup_key", flat=True)) == ["test:21"]
