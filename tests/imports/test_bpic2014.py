"""BPIC 2014 import: agreement with the raw files, idempotency, bad input.

The reference figures are computed here straight from the raw rows with the standard
library only (csv, gzip, zoneinfo, statistics); nothing is shared with ``itsmo.imports``.
The subset is deterministic: the first lines of each real file.
"""

from __future__ import annotations

import csv
import gzip
import io
import statistics
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from itsmo.changes.models import Change, ChangeCI
from itsmo.core.metrics import Slice
from itsmo.core.models import JournalEntry
from itsmo.imports import bpic2014, metrics as import_metrics
from itsmo.imports.common import ImportFileError
from itsmo.imports.models import ImportedChange, ImportedIncident, ServiceDeskContact
from itsmo.incidents import metrics
from itsmo.incidents.models import Incident

DATA = Path(__file__).resolve().parents[3] / "shared/data/bpic2014_rabobank"
ZONE = ZoneInfo("Europe/Amsterdam")
NAMES = {
    "changes": "detail_change.csv.gz",
    "incidents": "detail_incident.csv.gz",
    "interactions": "detail_interaction.csv.gz",
}
ACTIVITIES = "incident_activity_eventlog_derived.csv.gz"
#: Lines (header included) taken from the start of each file.
SUBSET_LINES = {"changes": 1500, "incidents": 1500, "interactions": 3000}
WHOLE = (datetime(2011, 1, 1, tzinfo=UTC), datetime(2015, 1, 1, tzinfo=UTC))
SEPTEMBER_2013 = (datetime(2013, 9, 1, tzinfo=UTC), datetime(2013, 10, 1, tzinfo=UTC))


def first_lines(kind: str, count: int) -> str:
    path = DATA / NAMES[kind]
    if not path.is_file():
        pytest.skip(f"{path} is not there")
    lines = []
    with gzip.open(path, "rt", encoding="latin-1", newline="") as source:
        for line in source:
            lines.append(line)
            if len(lines) == count:
                break
    return "".join(lines)


def activities_of(incident_ids: set[str]) -> str:
    """The header and the activity rows of ``incident_ids`` (the log is UTF-8, with BOMs)."""
    path = DATA / ACTIVITIES
    if not path.is_file():
        pytest.skip(f"{path} is not there")
    lines = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as source:
        for number, line in enumerate(source):
            if number == 0 or line.split(",", 1)[0].replace("\ufeff", "") in incident_ids:
                lines.append(line)
    return "".join(lines)


@pytest.fixture(scope="session")
def subset_texts() -> dict[str, str]:
    texts = {kind: first_lines(kind, count) for kind, count in SUBSET_LINES.items()}
    texts["activities"] = activities_of({row["Incident ID"] for row in rows(texts["incidents"])})
    return texts


@pytest.fixture
def subset_dir(tmp_path, subset_texts) -> Path:
    for kind, content in subset_texts.items():
        if kind == "activities":
            (tmp_path / ACTIVITIES.removesuffix(".gz")).write_text(
                content, encoding="utf-8", newline=""
            )
            continue
        (tmp_path / NAMES[kind].removesuffix(".gz")).write_text(
            content, encoding="latin-1", newline=""
        )
    return tmp_path


def rows(content: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=";")
    return [row for row in reader if any((v or "").strip() for v in row.values())]


def when(value: str, layout: str) -> datetime | None:
    if not value.strip():
        return None
    return datetime.strptime(value.strip(), layout).replace(tzinfo=ZONE).astimezone(UTC)


def reference_figures(texts: dict[str, str], start: datetime, end: datetime) -> dict:
    """Incident figures (docs/importing.md definitions) and the FCR share, from raw rows."""
    figures = {
        "distinct_incidents": 0,
        "resolved": 0,
        "by_priority": dict.fromkeys(range(1, 6), 0),
        "linked_to_problems": 0,  # BPIC 2014 has no problem records
        "linked_to_changes": 0,
    }
    reassigned = reopened = 0
    hours = []
    for row in rows(texts["incidents"]):
        opened = when(row["Open Time"], "%d/%m/%Y %H:%M:%S")
        resolved = when(row["Resolved Time"], "%d/%m/%Y %H:%M:%S")
        if resolved is not None and start <= resolved < end:
            figures["resolved"] += 1
            hours.append((resolved - opened).total_seconds() / 3600)
        if not start <= opened < end:
            continue
        figures["distinct_incidents"] += 1
        figures["by_priority"][int(row["Priority"].split("-")[0])] += 1
        reassigned += int(row["# Reassignments"] or 0) >= 1
        reopened += bool(row["Reopen Time"].strip())
        change = row["Related Change"].strip()
        figures["linked_to_changes"] += change not in ("", "#MULTIVALUE", "#N/B")
    total = figures["distinct_incidents"]
    figures["share_reassigned"] = reassigned / total if total else None
    figures["share_reopened"] = reopened / total if total else None
    figures["median_hours_to_resolve"] = statistics.median(hours) if hours else None
    figures["p90_hours_to_resolve"] = (
        statistics.quantiles(hours, n=10, method="inclusive")[8] if len(hours) > 1 else None
    )
    contacts = [
        row
        for row in rows(texts["interactions"])
        if start <= when(row["Open Time (First Touch)"], "%d-%m-%Y %H:%M") < end
    ]
    figures["fcr_share"] = (
        sum(row["First Call Resolution"] == "Y" for row in contacts) / len(contacts)
        if contacts
        else None
    )
    return figures


def reference_change_figures(content: str, start: datetime, end: datetime) -> dict:
    changes: dict[str, dict] = {}
    for row in rows(content):
        changes.setdefault(row["Change ID"], row)  # change-level columns repeat per CI
    risks = {"Minor Change": "low", "Business Change": "moderate", "Major Business Change": "high"}
    figures = {"changes": 0, "emergency": 0, "cab_required": 0}
    by_risk = {"low": 0, "moderate": 0, "high": 0, "": 0}
    for row in changes.values():
        if not start <= when(row["Change record Open Time"], "%d-%m-%Y %H:%M") < end:
            continue
        figures["changes"] += 1
        figures["emergency"] += row["Emergency Change"] == "Y"
        figures["cab_required"] += row["CAB-approval needed"] == "Y"
        by_risk[risks.get(row["Risk Assessment"], "")] += 1
    figures["by_risk"] = by_risk
    return figures


def assert_agree(ours: dict, theirs: dict) -> None:
    for name, expected in theirs.items():
        if isinstance(expected, float):
            assert ours[name] == pytest.approx(expected, abs=1e-9), name
        else:
            assert ours[name] == expected, name


def run(folder: Path, **options) -> bpic2014.ImportReport:
    return bpic2014.import_directory(folder, bpic2014.Options(index=False, **options))


@pytest.mark.django_db
@pytest.mark.parametrize("period", [WHOLE, SEPTEMBER_2013], ids=["whole", "september-2013"])
def test_figures_agree_with_the_raw_files(subset_dir, subset_texts, period):
    # given the first lines of the three real files, imported
    report = run(subset_dir)
    assert report.committed and not report.errors

    # when Itsmo computes the figures with the metric functions
    imported = Incident.objects.filter(external_source=bpic2014.SOURCE)
    ours = metrics.baseline_figures(Slice(*period), imported)
    contacts = ServiceDeskContact.objects.filter(source=bpic2014.SOURCE)
    ours["fcr_share"] = import_metrics.share_first_call_resolution(Slice(*period), contacts)
    changes = Change.objects.filter(import_record__source=bpic2014.SOURCE)
    ours_changes = import_metrics.change_figures(Slice(*period), changes)

    # then they are the ones computed straight from the raw rows
    theirs = reference_figures(subset_texts, *period)
    assert theirs["distinct_incidents"] > 0 and theirs["fcr_share"] is not None
    assert_agree(ours, theirs)
    assert ours_changes == reference_change_figures(subset_texts["changes"], *period)


@pytest.mark.django_db
def test_records_keep_their_links_and_source_values(subset_dir, subset_texts):
    run(subset_dir)

    incident = Incident.objects.get(external_source="bpic2014", external_reference="IM0000004")
    assert incident.ci.name == "SUB000508"
    assert incident.ci.ci_class.code == "bpic2014-subapplication"
    assert incident.ci.attributes["service_component"] == "WBS000162"
    assert (incident.impact, incident.urgency, incident.priority) == (3, 3, 4)
    assert incident.reassignment_count == 26
    assert incident.status == "closed"
    assert "Other" in incident.resolution_notes

    contact = ServiceDeskContact.objects.get(external_reference="SD0000007")
    assert contact.incident == incident
    assert contact.is_first_call_resolution is False
    assert contact.handle_seconds == 363
    # an incident that is not in the extract leaves the contact unlinked
    assert ServiceDeskContact.objects.get(external_reference="SD0000001").incident is None

    change = Change.objects.get(external_source="bpic2014", external_reference="C00000005")
    assert change.risk == "moderate" and change.is_cab_required and not change.is_emergency
    assert change.import_record.source_type == "Release Type 13"
    assert [link.ci.name for link in ChangeCI.objects.filter(change=change)] == ["SUB000494"]
    distinct = {row["Change ID"] for row in rows(subset_texts["changes"])}
    assert ImportedChange.objects.count() == len(distinct)

    # the activity log is in the journal, at its timestamps, in time order
    raw = [
        line.split(",")
        for line in subset_texts["activities"].splitlines()[1:]
        if line.replace("\ufeff", "").startswith("IM0000004,")
    ]
    notes = list(
        JournalEntry.objects.filter(
            object_id=incident.pk, body__startswith=bpic2014.ACTIVITY_NOTE
        ).order_by("occurred_at", "pk")
    )
    assert len(notes) == len(raw) > 0
    first = min(raw, key=lambda r: r[2])
    assert notes[0].occurred_at == when(first[2], "%Y-%m-%d %H:%M:%S")
    reassignments = [n for n in notes if n.field == "assignment_group"]
    assert all(n.new_value.startswith("TEAM") for n in reassignments)


@pytest.mark.django_db
def test_a_second_import_changes_nothing_and_a_changed_row_is_updated(subset_dir):
    first = run(subset_dir)
    counts = (
        Incident.objects.count(),
        ServiceDeskContact.objects.count(),
        Change.objects.count(),
        ChangeCI.objects.count(),
        ImportedIncident.objects.count(),
        JournalEntry.objects.count(),
    )
    assert first.count("incident activities").created > 0

    again = run(subset_dir)
    assert again.committed and not again.errors
    assert again.count("incidents").skipped == first.count("incidents").created
    assert again.count("incidents").created == again.count("incidents").updated == 0
    assert again.count("service-desk contacts").created == 0
    assert again.count("changes").created == again.count("changes").updated == 0
    assert (
        Incident.objects.count(),
        ServiceDeskContact.objects.count(),
        Change.objects.count(),
        ChangeCI.objects.count(),
        ImportedIncident.objects.count(),
        JournalEntry.objects.count(),
    ) == counts
    assert again.count("incident activities").created == 0

    # when one incident's priority changes at the source
    path = subset_dir / "detail_incident.csv"
    content = path.read_text(encoding="latin-1")
    path.write_text(
        content.replace(";IM0000004;Closed;4;4;4;", ";IM0000004;Closed;4;4;3;"),
        encoding="latin-1",
        newline="",
    )
    third = run(subset_dir)
    assert third.count("incidents").updated == 1
    assert Incident.objects.get(external_reference="IM0000004").priority == 3
    assert Incident.objects.count() == counts[0]
    assert third.count("incident activities").created == 0


@pytest.mark.django_db
def test_a_wrong_delimiter_is_named(subset_dir):
    path = subset_dir / "detail_incident.csv"
    path.write_text(
        path.read_text(encoding="latin-1").replace(";", ","), encoding="latin-1", newline=""
    )
    with pytest.raises(ImportFileError, match=r"wrong delimiter.*commas, expected semicolons"):
        run(subset_dir)
    assert not Incident.objects.exists() and not Change.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("partial", [False, True], ids=["all-or-nothing", "partial"])
def test_a_missing_key_names_the_line(subset_dir, partial):
    path = subset_dir / "detail_incident.csv"
    lines = path.read_text(encoding="latin-1").splitlines(keepends=True)
    lines[3] = lines[3].replace(";IM0000006;", ";;")
    path.write_text("".join(lines), encoding="latin-1", newline="")
    log = subset_dir / ACTIVITIES.removesuffix(".gz")  # else its activities are unknown ones
    kept = [
        line
        for line in log.read_text(encoding="utf-8").splitlines(keepends=True)
        if not line.replace("\ufeff", "").startswith("IM0000006,")
    ]
    log.write_text("".join(kept), encoding="utf-8", newline="")

    report = run(subset_dir, partial=partial)

    assert [(e.line, e.field) for e in report.errors] == [(4, "Incident ID")]
    assert "missing key" in report.errors[0].reason
    assert report.committed is partial
    assert Incident.objects.exists() is partial


@pytest.mark.django_db
def test_an_unknown_status_is_rejected_with_its_line(subset_dir):
    path = subset_dir / "detail_incident.csv"
    path.write_text(
        path.read_text(encoding="latin-1").replace(";IM0000005;Closed;", ";IM0000005;Weird;"),
        encoding="latin-1",
        newline="",
    )
    report = run(subset_dir)
    assert [(e.line, e.record, e.field) for e in report.errors] == [(3, "IM0000005", "Status")]
    assert not report.committed and not Incident.objects.exists()


@pytest.mark.django_db
def test_a_truncated_gzip_is_refused_and_nothing_is_written(subset_dir):
    path = subset_dir / "detail_interaction.csv"
    packed = gzip.compress(path.read_bytes())
    path.unlink()
    (subset_dir / "detail_interaction.csv.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ImportFileError, match="truncated or corrupt"):
        run(subset_dir)
    assert not Incident.objects.exists() and not ServiceDeskContact.objects.exists()


@pytest.mark.django_db
def test_a_missing_file_is_named(subset_dir):
    (subset_dir / "detail_change.csv").unlink()
    with pytest.raises(ImportFileError, match=r"detail_change\.csv\.gz"):
        run(subset_dir)


@pytest.mark.django_db
def test_the_command_imports_a_folder(subset_dir, tmp_path_factory):
    from django.core.management import call_command

    out = io.StringIO()
    target = tmp_path_factory.mktemp("report") / "report.csv"
    call_command(
        "import_bpic2014",
        str(subset_dir),
        "--no-index",
        "--no-progress",
        "--report",
        str(target),
        stdout=out,
    )
    assert "written" in out.getvalue()
    assert target.is_file()
    assert Incident.objects.filter(external_source="bpic2014").count() == 1499


@pytest.mark.django_db
def test_a_dry_run_reports_and_writes_nothing(subset_dir):
    report = run(subset_dir, dry_run=True)

    assert report.count("incidents").created == 1499
    assert report.count("service-desk contacts").created == 2999
    assert not report.committed and "dry run" in report.summary()
    assert not Incident.objects.exists() and not Change.objects.exists()
    assert not ServiceDeskContact.objects.exists()
