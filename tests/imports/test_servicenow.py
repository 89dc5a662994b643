"""ServiceNow event log import: mapping, idempotent re-import, bad input, the command."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from itsmo.core.models import JournalEntry, JournalKind
from itsmo.imports import servicenow
from itsmo.imports.common import ImportFileError
from itsmo.imports.models import ImportedIncident
from itsmo.incidents.models import Incident, Status
from itsmo.problems.models import Problem
from itsmo.slm.models import SLAClock

from .conftest import first_incidents

pytestmark = pytest.mark.django_db
OPTIONS = servicenow.Options(index=False)


@pytest.fixture(scope="module")
def small_text() -> str:
    return first_incidents(60)


def write(tmp_path: Path, text: str, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def counts() -> dict[str, int]:
    return {
        "incidents": Incident.objects.count(),
        "journal": JournalEntry.objects.count(),
        "clocks": SLAClock.objects.count(),
        "links": ImportedIncident.objects.count(),
        "problems": Problem.objects.count(),
    }


def test_an_incident_keeps_its_history_at_the_original_times(tmp_path, small_text):
    report = servicenow.import_events(write(tmp_path, small_text), OPTIONS)

    assert report.committed
    incident = Incident.objects.get(external_source="servicenow", external_reference="INC0000045")
    assert incident.number.startswith("INC") and incident.number != "INC0000045"
    assert incident.status == Status.CLOSED
    assert (incident.impact, incident.urgency, incident.priority) == (2, 2, 3)
    assert incident.caller.username == "sn-caller-2403"
    assert not incident.caller.is_active and not incident.caller.has_usable_password()
    assert incident.assignment_group.code == "sn-group-56"
    assert incident.site.code == "sn-location-143"
    assert str(incident.subcategory) == "Category 55 / Subcategory 170"
    assert incident.opened_at.isoformat() == "2016-02-29T04:16:00+00:00"  # 01:16 in São Paulo
    assert incident.resolved_at.isoformat() == "2016-02-29T14:29:00+00:00"
    entries = list(JournalEntry.objects.for_record(incident))
    assert entries[0].kind == JournalKind.CREATED
    assert entries[0].occurred_at == incident.opened_at
    states = [(e.old_value, e.new_value) for e in entries if e.kind == JournalKind.STATE_CHANGE]
    assert states == [("new", "resolved"), ("resolved", "closed")]
    clock = incident.sla_clocks.get()
    assert clock.is_imported and clock.imported_outcome == "met"


def test_reimport_of_the_same_file_changes_nothing(tmp_path, small_text):
    path = write(tmp_path, small_text)
    servicenow.import_events(path, OPTIONS)
    before = counts()
    versions = dict(Incident.objects.values_list("pk", "version"))

    again = servicenow.import_events(path, OPTIONS)

    assert again.committed
    assert again.count("incidents").skipped == 60
    assert again.count("incidents").created == again.count("incidents").updated == 0
    assert counts() == before
    assert dict(Incident.objects.values_list("pk", "version")) == versions


def test_reimport_updates_a_changed_incident_and_appends_only_its_new_events(tmp_path, small_text):
    servicenow.import_events(write(tmp_path, small_text), OPTIONS)
    incident = Incident.objects.get(external_reference="INC0000045")
    journal = JournalEntry.objects.for_record(incident).count()
    before = counts()
    lines = small_text.splitlines()
    first = [i for i, line in enumerate(lines) if line.startswith("INC0000045,")]
    # the source has one more event, raising the priority
    extra = lines[first[-1]].split(",")
    extra[20:23] = ["1 - High", "1 - High", "1 - Critical"]
    extra[5] = "9"
    extra[13] = "6/3/2016 09:00"
    lines.insert(first[-1] + 1, ",".join(extra))
    changed = write(tmp_path, "\n".join(lines) + "\n", "changed.csv")

    report = servicenow.import_events(changed, OPTIONS)

    assert report.count("incidents").updated == 1
    assert report.count("incidents").skipped == 59
    after = counts()
    assert after["incidents"] == before["incidents"] and after["links"] == before["links"]
    incident.refresh_from_db()
    assert incident.priority == 1
    new_entries = JournalEntry.objects.for_record(incident).count() - journal
    # one change of impact, urgency and priority on the new event, and the work note
    assert new_entries == 4
    assert SLAClock.objects.filter(incident=incident).count() == 1


def test_dry_run_writes_nothing(tmp_path, small_text):
    report = servicenow.import_events(
        write(tmp_path, small_text), servicenow.Options(dry_run=True, index=False)
    )
    assert report.count("incidents").created == 60
    assert not report.committed
    assert Incident.objects.count() == 0


# -- bad input -------------------------------------------------------------------------------


def gz(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data))
    return path


def test_truncated_gzip_names_the_line_and_writes_nothing(tmp_path, small_text):
    whole = gzip.compress(small_text.encode())
    path = tmp_path / "events.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])

    with pytest.raises(ImportFileError, match=r"line \d+: the compressed file is truncated"):
        servicenow.import_events(path, OPTIONS)
    assert Incident.objects.count() == 0


@pytest.mark.parametrize(
    "content, message",
    [
        (b'{"number": "INC1"}\n', "not a 36-column export"),
        (b"\x00\x01\x02binary", "binary data"),
        ("zip", "ZIP archive"),
    ],
    ids=["json", "binary", "zip"],
)
def test_a_file_of_another_format_is_refused(tmp_path, content, message):
    path = tmp_path / "events.csv"
    if content == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("events.csv", "number\n")
        content = buffer.getvalue()
    path.write_bytes(content)

    with pytest.raises(ImportFileError, match=message):
        servicenow.import_events(path, OPTIONS)
    assert Incident.objects.count() == 0


def test_a_wrong_delimiter_is_named(tmp_path, small_text):
    path = write(tmp_path, small_text.replace(",", ";"))
    with pytest.raises(ImportFileError, match=r"line 1: wrong delimiter.*semicolons"):
        servicenow.import_events(path, OPTIONS)


def bad_row(text: str, line: int, column: int, value: str) -> str:
    lines = text.splitlines()
    fields = lines[line - 1].split(",")
    fields[column] = value
    lines[line - 1] = ",".join(fields)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "column, value, field, reason",
    [
        (0, "?", "number", "missing key"),
        (1, "Escalated", "incident_state", "unknown state 'Escalated'"),
        (9, "2016-02-29", "opened_at", "not a day-first date"),
        (21, "7 - Extreme", "urgency", "not one of 1..3"),
    ],
    ids=["missing-key", "unknown-state", "bad-date", "bad-urgency"],
)
def test_a_bad_row_is_named_and_nothing_is_written(tmp_path, small_text, column, value, field,
                                                    reason):  # fmt: skip
    path = write(tmp_path, bad_row(small_text, 7, column, value))

    report = servicenow.import_events(path, OPTIONS)

    assert not report.committed
    assert [(e.line, e.field) for e in report.errors] == [(7, field)]
    assert reason in report.errors[0].reason
    assert counts()["incidents"] == 0


def test_partial_loads_the_good_incidents(tmp_path, small_text):
    path = write(tmp_path, bad_row(small_text, 7, 1, "Escalated"))

    report = servicenow.import_events(path, servicenow.Options(partial=True, index=False))

    assert report.committed
    assert report.count("incidents").created == 59
    assert len(report.rejected_records) == 1
    assert Incident.objects.count() == 59


def test_a_short_row_and_stray_state(tmp_path, small_text):
    lines = small_text.splitlines()
    lines[4] = ",".join(lines[4].split(",")[:20])
    stray = bad_row("\n".join(lines), 3, 1, "-100")
    report = servicenow.import_events(write(tmp_path, stray), OPTIONS)
    assert [(e.line, e.reason) for e in report.errors] == [(5, "row has 20 fields, expected 36")]


def test_trailing_empty_columns_are_accepted(tmp_path, small_text):
    text = "\n".join(line + ",," for line in small_text.splitlines()) + "\n"
    report = servicenow.import_events(write(tmp_path, text), OPTIONS)
    assert report.committed and report.count("incidents").created == 60


def test_the_stray_state_keeps_the_previous_state(tmp_path, small_text):
    report = servicenow.import_events(write(tmp_path, bad_row(small_text, 3, 1, "-100")), OPTIONS)
    assert report.committed and not report.errors


# -- the command -----------------------------------------------------------------------------


def test_command_writes_the_report_next_to_the_input(tmp_path, small_text, capsys):
    path = gz(tmp_path / "events.csv.gz", small_text.encode())

    call_command("import_servicenow_events", str(path), "--no-index", "--no-progress")

    out = capsys.readouterr().out
    assert "incidents created 60" in out
    report = (tmp_path / "events.csv.gz.report.csv").read_text()
    assert report.startswith("kind,record,line,field,created,updated,skipped,reason")
    assert "count,incidents,,,60,0,0," in report


def test_command_refuses_a_read_only_folder_without_report(tmp_path, small_text):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = write(folder, small_text)
    folder.chmod(0o555)  # no write bit: read-only, even for root
    try:
        with pytest.raises(CommandError, match=r"read-only.*--report"):
            call_command("import_servicenow_events", str(path), "--no-index")
        assert Incident.objects.count() == 0

        call_command(
            "import_servicenow_events", str(path), "--no-index", "--no-progress",
            "--report", str(tmp_path / "report.csv"),
        )  # fmt: skip
    finally:
        folder.chmod(0o755)
    assert (tmp_path / "report.csv").exists()
    assert not (folder / "events.csv.report.csv").exists()
    assert Incident.objects.count() == 60


def test_command_exits_1_on_rejected_rows(tmp_path, small_text):
    path = write(tmp_path, bad_row(small_text, 7, 1, "Escalated"))
    with pytest.raises(SystemExit) as exit_:
        call_command("import_servicenow_events", str(path), "--no-index", "--no-progress")
    assert exit_.value.code == 1
    report = (tmp_path / "events.csv.report.csv").read_text()
    assert "rejected,INC" in report and ",7,incident_state," in report


def test_text_that_is_not_utf8_names_its_line(tmp_path, small_text):
    path = tmp_path / "events.csv"
    data = small_text.encode().splitlines(keepends=True)
    data[9] = data[9].replace(b"Caller", b"Chamad\xe9", 1)
    path.write_bytes(b"".join(data))

    with pytest.raises(ImportFileError, match=r"line 10: text is not UTF-8 \(byte 0xe9\)"):
        servicenow.import_events(path, OPTIONS)
    assert Incident.objects.count() == 0


def test_imported_incidents_are_searchable(tmp_path, small_text):
    from itsmo.search.models import SearchDocument

    servicenow.import_events(write(tmp_path, small_text), servicenow.Options())

    incident = Incident.objects.get(external_reference="INC0000045")
    assert SearchDocument.objects.filter(incident=incident).exists()


def test_progress_shows_rows_per_second_and_eta():
    from itsmo.imports.common import ImportReport, Progress

    out = io.StringIO()
    progress = Progress(out)
    report = ImportReport(source="servicenow", rows=5000, bytes_read=250, total_bytes=1000)
    progress(report)
    report.rows, report.bytes_read = 20000, 1000
    progress(report, final=True)

    first, last = out.getvalue().splitlines()
    assert "25%" in first and "5,000 rows" in first and "rows/s" in first and "ETA" in first
    assert "100%" in last and "done" in last


def test_the_itsmo_command_maps_import_servicenow_events():
    from itsmo.cli import COMMANDS, resolve

    assert resolve(["import", "servicenow-events", "f.csv.gz", "--dry-run"]) == [
        "import_servicenow_events",
        "f.csv.gz",
        "--dry-run",
    ]
    assert "import servicenow-events" in COMMANDS


def test_imported_incidents_and_problems_are_searchable(tmp_path, smo_analyst):
    from itsmo.search import services as search

    servicenow.import_events(write(tmp_path, first_incidents(400)), servicenow.Options(index=True))
    problems = list(Problem.objects.filter(external_source="servicenow"))
    assert problems, "the sample should reference problems"
    for problem in problems[:5]:
        assert list(search.search(Problem, problem.number, smo_analyst)) == [problem]
    incident = Incident.objects.filter(external_source="servicenow").first()
    assert list(search.search(Incident, incident.number, smo_analyst)) == [incident]
