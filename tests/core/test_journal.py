"""The journal is an append-only timeline: nothing in the application edits or deletes it."""

import pytest

from itsmo.core import journal
from itsmo.core.models import AppendOnlyError, JournalEntry, JournalKind


def test_changes_comments_and_notes_form_the_timeline(desk_mexico, agent_mexico, admin_user):
    journal.record_changes(
        desk_mexico,
        admin_user,
        {"name": ("Service Desk Mexico", "Mesa de Servicio MX"), "email": ("", "")},
    )
    journal.add_comment(desk_mexico, agent_mexico, "Shift change at 18:00")
    journal.add_comment(desk_mexico, admin_user, "Staffing review pending", internal=True)

    entries = list(journal.timeline(desk_mexico))
    kinds = [e.kind for e in entries]
    assert kinds == [
        JournalKind.CREATED,
        JournalKind.FIELD_CHANGE,
        JournalKind.COMMENT,
        JournalKind.WORK_NOTE,
    ]
    change = entries[1]
    assert (change.field, change.old_value, change.new_value) == (
        "name",
        "Service Desk Mexico",
        "Mesa de Servicio MX",
    )
    assert change.actor == admin_user
    public = list(journal.timeline(desk_mexico, include_internal=False))
    assert JournalKind.WORK_NOTE not in [e.kind for e in public]


def test_entries_cannot_be_updated_or_deleted(desk_mexico, admin_user):
    entry = journal.add_comment(desk_mexico, admin_user, "original")
    entry.body = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        JournalEntry.objects.filter(pk=entry.pk).update(body="rewritten")
    with pytest.raises(AppendOnlyError):
        JournalEntry.objects.filter(pk=entry.pk).delete()
    assert JournalEntry.objects.get(pk=entry.pk).body == "original"


def test_timeline_is_per_record(desk_mexico, field_brazil, admin_user):
    journal.add_comment(field_brazil, admin_user, "only on Brazil")
    assert "only on Brazil" not in [e.body for e in journal.timeline(desk_mexico)]
