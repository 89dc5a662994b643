"""``itsmo mail ingest FILE.eml`` and ``-`` (standard input, for piping from an MTA)."""

from __future__ import annotations

import io
import sys

import pytest
from django.core.management import CommandError, call_command

from itsmo.cli import resolve
from itsmo.incidents.models import Incident

from .conftest import SAMPLES

pytestmark = pytest.mark.django_db


def test_two_words_map_to_the_command():
    assert resolve(["mail", "ingest", "x.eml"]) == ["mail_ingest", "x.eml"]


def test_files_are_ingested_once(end_user_mexico):
    out = io.StringIO()
    path = str(SAMPLES / "plain.eml")
    call_command("mail_ingest", path, str(SAMPLES / "bounce.eml"), path, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"{path}: processed opened INC")
    assert "ignored" in lines[1] and lines[2].startswith(f"{path}: duplicate")
    assert Incident.objects.count() == 1


def test_standard_input(end_user_mexico, monkeypatch):
    raw = (SAMPLES / "shift_jis.eml").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("mail_ingest", "-", stdout=out)
    assert out.getvalue().startswith("-: processed opened INC")
    assert Incident.objects.get().short_description == "プリンター故障"


def test_a_missing_file_is_an_error(db):
    with pytest.raises(CommandError, match="No such file"):
        call_command("mail_ingest", "/nonexistent.eml")


def test_garbage_is_reported_as_quarantined(db):
    out, err = io.StringIO(), io.StringIO()
    call_command("mail_ingest", str(SAMPLES / "garbage.eml"), stdout=out, stderr=err)
    assert "quarantined" in out.getvalue() and "1 message(s) quarantined" in err.getvalue()
