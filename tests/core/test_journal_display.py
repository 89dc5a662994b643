"""Timelines show journal entries as people read them: field names, choice labels, instants
in the reader's time zone and language, yes/no."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.template import Context, Template
from django.utils import timezone, translation

from itsmo.core.models import JournalEntry, JournalKind
from itsmo.incidents.models import Incident

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Read in English unless a test says otherwise (another test may leave a language on)."""
    with translation.override("en"):
        yield


def shown(field: str, old: str = "", new: str = "", kind: str = JournalKind.FIELD_CHANGE):
    entry = JournalEntry(
        content_type=ContentType.objects.get_for_model(Incident),
        object_id=1,
        kind=kind,
        field=field,
        old_value=old,
        new_value=new,
    )
    template = Template(
        "{% load journal %}"
        "{{ entry|journal_field }}|{{ entry|journal_old }}|{{ entry|journal_new }}"
    )
    return template.render(Context({"entry": entry}))


def test_a_choice_shows_its_label_and_a_field_its_name():
    assert shown("status", "on_hold", "in_progress", JournalKind.STATE_CHANGE) == (
        "State|On hold|In progress"
    )
    assert shown("impact", "3", "1") == "Impact|3 - Low|1 - High"


def test_an_instant_is_shown_in_the_reader_time_zone():
    with timezone.override(ZoneInfo("America/Mexico_City")), translation.override("en"):
        text = shown("resolved_at", "", "2026-12-18T20:00:00+00:00")
    assert text == "Resolved||12/18/2026 2 p.m."


def test_booleans_read_yes_or_no_in_the_reader_language():
    with translation.override("es"):
        assert shown("is_major", "False", "True") == "Incidente mayor|no|sí"


def test_added_and_removed_members_of_a_list():
    assert shown("watchers+", "", "ana").startswith("Watchers added|")
    assert shown("watchers-", "ana", "").startswith("Watchers removed|")


def test_an_unknown_field_or_value_is_shown_as_recorded():
    assert shown("no_such_field", "a_b", "c") == "No such field|a_b|c"
    assert shown("status", "", "retired", JournalKind.STATE_CHANGE) == "State||retired"
    assert shown("resolved_at", "", "not a date") == "Resolved||not a date"
