"""Import the Rabobank BPI Challenge 2014 exports (docs/importing.md, "BPIC 2014").

``itsmo import bpic2014 DIR``: ``DIR`` holds ``detail_change.csv.gz``,
``detail_incident.csv.gz`` and ``detail_interaction.csv.gz`` (gzip or plain, told by the
first bytes). They are read as streams through :mod:`itsmo.imports.common` (``;``,
Latin-1) and written through the same bulk path as the ServiceNow import: records computed
here, inserted a batch at a time (``COPY`` on PostgreSQL, ``bulk_create`` elsewhere).

Order: changes first (with their CIs), then incidents (which name changes and CIs), then
interactions (which name incidents). Every record keeps ``external_source="bpic2014"`` and
its source id; a SHA-1 of its source rows is kept next to it (``ImportedIncident``,
``ImportedChange``, ``ServiceDeskContact``): a re-import skips unchanged records, updates
changed ones and creates new ones. The whole directory is one transaction; a rejected row
rolls everything back at the end unless ``partial``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model

from itsmo.changes.models import Change, ChangeCI, ChangeType, Risk, Status as ChangeStatus
from itsmo.cmdb.models import CI, NUMBER_PREFIX as CI_PREFIX, CIClass
from itsmo.core import numbering
from itsmo.core.models import JournalEntry, JournalKind
from itsmo.incidents.models import Category, Channel, Incident, Status

from .common import (
    JOURNAL_COLUMNS,
    Importer,
    ImportFileError,
    ImportOptions,
    ImportReport,
    RecordRejected,
    RowRejected,
    WallClockParser,
    copy_rows,
    find_or_create_country,
    fingerprint,
    insert_rows,
    open_text,
    read_rows,
    run_import,
)
from .models import ImportedChange, ImportedIncident, ServiceDeskContact

SOURCE = "bpic2014"
#: Part of every fingerprint: bump it when the mapping changes, so a re-import updates.
MAPPING_VERSION = "1"
BATCH_SIZE = 2000
MAX_ERRORS = 1000
ENCODING = "latin-1"
DELIMITER = ";"
DISCOVERY = "bpic2014 import"
DEFAULT_COUNTRY = "NL"
DEFAULT_REGION = "europe"
DEFAULT_ZONE = "Europe/Amsterdam"
KNOWN_COUNTRIES = {DEFAULT_COUNTRY: ("Netherlands", DEFAULT_ZONE, "nl")}
#: Excel placeholders: several records, ids not listed / not available.
MULTIVALUE = "#MULTIVALUE"
NOT_AVAILABLE = "#N/B"

FILES = {
    "changes": "detail_change.csv.gz",
    "incidents": "detail_incident.csv.gz",
    "interactions": "detail_interaction.csv.gz",
}
#: Optional: imported as journal entries when present.
ACTIVITY_FILE = "incident_activity_eventlog_derived.csv.gz"
ACTIVITY_COLUMNS = (
    "Incident ID",
    "Detail Incident Activity.IncidentActivity_Type",
    "Detail Incident Activity.DateStamp",
    "Detail Incident Activity.Assignment Group",
    "Category",
    "CI Subtype (CBy)",
    "Closure Code",
    "# Reassignments",
    "Impact",
    "Urgency",
    "Priority",
)
#: Activities that hand the incident to a team: journaled as assignment-group changes.
ASSIGNMENTS = frozenset({"Assignment", "Reassignment"})
ACTIVITY_NOTE = "BPIC 2014 activity: "

INCIDENT_COLUMNS = (
    "CI Name (aff)",
    "CI Type (aff)",
    "CI Subtype (aff)",
    "Service Component WBS (aff)",
    "Incident ID",
    "Status",
    "Impact",
    "Urgency",
    "Priority",
    "Category",
    "KM number",
    "Alert Status",
    "# Reassignments",
    "Open Time",
    "Reopen Time",
    "Resolved Time",
    "Close Time",
    "Handle Time (Hours)",
    "Closure Code",
    "# Related Interactions",
    "Related Interaction",
    "# Related Incidents",
    "# Related Changes",
    "Related Change",
    "CI Name (CBy)",
    "CI Type (CBy)",
    "CI Subtype (CBy)",
    "ServiceComp WBS (CBy)",
)
INTERACTION_COLUMNS = (
    "CI Name (aff)",
    "CI Type (aff)",
    "CI Subtype (aff)",
    "Service Comp WBS (aff)",
    "Interaction ID",
    "Status",
    "Impact",
    "Urgency",
    "Priority",
    "Category",
    "KM number",
    "Open Time (First Touch)",
    "Close Time",
    "Closure Code",
    "First Call Resolution",
    "Handle Time (secs)",
    "Related Incident",
)
CHANGE_COLUMNS = (
    "CI Name (aff)",
    "CI Type (aff)",
    "CI Subtype (aff)",
    "Service Component WBS (aff)",
    "Change ID",
    "Change Type",
    "Risk Assessment",
    "Emergency Change",
    "CAB-approval needed",
    "Planned Start",
    "Planned End",
    "Scheduled Downtime Start",
    "Scheduled Downtime End",
    "Actual Start",
    "Actual End",
    "Requested End Date",
    "Change record Open Time",
    "Change record Close Time",
    "Originated from",
    "# Related Interactions",
    "# Related Incidents",
)

#: Source impact/urgency 1 (highest) .. 5 -> Itsmo's 1 (high) .. 3 (low).
LEVELS = {1: 1, 2: 1, 3: 2, 4: 3, 5: 3}
INCIDENT_STATES = {"Closed": Status.CLOSED, "Work in progress": Status.IN_PROGRESS}
RISKS = {
    "Minor Change": Risk.LOW,
    "Business Change": Risk.MODERATE,
    "Major Business Change": Risk.HIGH,
}
UNKNOWN_CALLER = "bpic-caller-unknown"
UNUSABLE_PASSWORD = "!imported-from-bpic2014"


# -- parsing ---------------------------------------------------------------------------------


def text(value: str) -> str:
    """Blank, ``#N/B`` -> ``''``; surrounding spaces dropped."""
    value = value.strip()
    return "" if value == NOT_AVAILABLE else value


class TimeParser(WallClockParser):
    """Wall-clock times of one zone in the three layouts of the files -> aware UTC."""

    def parse(self, value: str, column: str) -> datetime:
        try:
            day_part, clock = value.split(" ")
            separator = "/" if "/" in day_part else "-"
            day, month, year = (int(p) for p in day_part.split(separator))
            if day > 31:  # ISO year-month-day (the derived activity log)
                day, year = year, day
            pieces = [int(p) for p in clock.split(":")]
            if len(pieces) == 2:
                pieces.append(0)
            return datetime(year, month, day, *pieces)
        except (ValueError, TypeError):
            raise RowRejected(
                column, f"{column} {value!r} is not a day-first date (d/m/Y or d-m-Y H:M[:S])"
            ) from None


def level(value: str, column: str) -> int:
    """``'4'`` or ``'5 - Very Low'`` -> 4 / 5 (source scale 1..5)."""
    head = value.split("-", 1)[0].strip()
    if not head.isdigit() or not 1 <= int(head) <= 5:
        raise RowRejected(column, f"{column} {value!r} is not one of 1..5")
    return int(head)


def count(value: str, column: str) -> int:
    value = value.strip()
    if not value:
        return 0
    if not value.isdigit():
        raise RowRejected(column, f"{column} {value!r} is not a whole number")
    return int(value)


def decimal(value: str, column: str) -> float | None:
    """``'3871,691111'`` (decimal comma) -> 3871.691111."""
    value = value.strip()
    if not value:
        return None
    try:
        return float(value.replace(".", "").replace(",", "."))
    except ValueError:
        raise RowRejected(column, f"{column} {value!r} is not a decimal number") from None


def flag(value: str, column: str) -> bool:
    value = value.strip().upper()
    if value not in ("Y", "N"):
        raise RowRejected(column, f"{column} {value!r} is not Y/N")
    return value == "Y"


@dataclass(slots=True)
class CIRef:
    name: str
    type: str
    subtype: str
    component: str


def ci_ref(
    row: dict[str, str], name: str, type_: str, subtype: str, component: str
) -> CIRef | None:
    value = text(row[name])
    if not value:
        return None
    return CIRef(value, text(row[type_]), text(row[subtype]), text(row[component]))


# -- the import ------------------------------------------------------------------------------


@dataclass
class Options(ImportOptions):
    """The options of a BPIC 2014 import, with this source's defaults."""

    country: str = DEFAULT_COUNTRY
    batch_size: int = BATCH_SIZE
    max_errors: int = MAX_ERRORS


def find_files(folder: Path) -> dict[str, Path]:
    """The three files of ``folder`` (``.csv.gz`` or ``.csv``); a missing one is an error."""
    found = {}
    for kind, name in FILES.items():
        for candidate in (folder / name, folder / name.removesuffix(".gz")):
            if candidate.is_file():
                found[kind] = candidate
                break
        else:
            raise ImportFileError(f"{folder}: {name} (or {name.removesuffix('.gz')}) is missing")
    for candidate in (folder / ACTIVITY_FILE, folder / ACTIVITY_FILE.removesuffix(".gz")):
        if candidate.is_file():
            found["activities"] = candidate
            break
    return found


def import_directory(
    folder: str | Path,
    options: Options | None = None,
    *,
    progress: Callable[..., None] = lambda report, final=False: None,
    files: dict[str, Path] | None = None,
) -> ImportReport:
    """Import the BPIC 2014 files of ``folder`` (or ``files``: kind -> path)."""
    options = options or Options()
    folder = Path(folder)
    files = files or find_files(folder)
    report = ImportReport(
        source=SOURCE, path=str(folder), dry_run=options.dry_run, partial=options.partial
    )
    report.total_bytes = sum(p.stat().st_size for p in files.values())
    return run_import(
        report, options, progress, lambda: _Importer(options, report).run(files, progress)
    )


def _named(rows, columns, path, report, counting, done_bytes, progress) -> Iterator:
    """``(line, {column: value})``; blank rows (only separators) skipped, short rows kept
    as they are (the importer rejects them)."""
    for line, row in rows:
        report.rows += 1
        report.bytes_read = done_bytes + counting.count
        progress(report)
        if not any(value.strip() for value in row):
            report.rows -= 1
            continue
        yield line, row, dict(zip(columns, row, strict=False))


class _Importer(Importer):
    source = SOURCE
    name = "BPIC 2014"

    def __init__(self, options: Options, report: ImportReport) -> None:
        country = find_or_create_country(
            options.country, options.region, known=KNOWN_COUNTRIES, default_region=DEFAULT_REGION
        )
        super().__init__(options, report, country)
        self.times = TimeParser(self.zone)
        self.classes = dict(
            CIClass.objects.filter(code__startswith="bpic2014-").values_list("code", "pk")
        )
        self.cis = dict(CI.objects.filter(discovery_source=DISCOVERY).values_list("name", "pk"))
        self.changes = dict(
            Change.objects.filter(external_source=SOURCE).values_list("external_reference", "pk")
        )
        self.categories = dict(
            Category.objects.filter(parent__isnull=True).values_list("name", "pk")
        )
        User = get_user_model()
        caller = User.objects.filter(username=UNKNOWN_CALLER).first()
        if caller is None:
            caller = User.objects.create(
                username=UNKNOWN_CALLER,
                display_name="BPIC 2014 caller (not in the data)",
                password=UNUSABLE_PASSWORD,
                is_active=False,
                country=self.country,
            )
        self.caller_id = caller.pk
        #: Incident ids read from detail_incident in this run (written or not).
        self.incident_ids: set[str] = set()

    def run(self, files: dict[str, Path], progress) -> None:
        """Changes, incidents, interactions, then activities, from ``files`` (kind -> path)."""
        done_bytes = 0
        for kind, method in (
            ("changes", self.import_changes),
            ("incidents", self.import_incidents),
            ("interactions", self.import_interactions),
            ("activities", self.import_activities),
        ):
            if kind not in files:
                continue
            activities = kind == "activities"
            stream, counting = open_text(files[kind], encoding="utf-8" if activities else ENCODING)
            try:
                columns = {
                    "changes": CHANGE_COLUMNS,
                    "incidents": INCIDENT_COLUMNS,
                    "interactions": INTERACTION_COLUMNS,
                    "activities": ACTIVITY_COLUMNS,
                }[kind]
                rows = _named(
                    read_rows(stream, columns, delimiter="," if activities else DELIMITER),
                    columns,
                    files[kind],
                    self.report,
                    counting,
                    done_bytes,
                    progress,
                )
                try:
                    method(rows)
                except ImportFileError as error:
                    raise ImportFileError(f"{files[kind].name}: {error.message}") from None
            finally:
                stream.close()
            done_bytes += files[kind].stat().st_size

    # shared --------------------------------------------------------------------------------

    def _batches(self, rows, key: str, width: int) -> Iterator[list]:
        """Batches of ``(id, line, raw row, named row)``; wrong widths and missing keys are
        rejected here."""
        batch = []
        for line, row, named in rows:
            ident = named.get(key, "").strip().lstrip("\ufeff")
            if not self._well_formed(line, row, width, key, ident):
                continue
            batch.append((ident, line, row, named))
            if len(batch) >= self.options.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _ci_classes(self, types: set[str]) -> None:
        missing = sorted({t for t in types} - {c.removeprefix("bpic2014-") for c in self.classes})
        for type_ in missing:
            code = "bpic2014-" + (type_.lower().replace(" ", "-") or "unknown")
            if code in self.classes:
                continue
            made = CIClass.objects.create(
                code=code,
                name=f"BPIC 2014 {type_ or 'unknown'}",
                description="CI type named by the BPIC 2014 (Rabobank) exports.",
            )
            self.classes[code] = made.pk

    def _cis(self, refs: list[CIRef]) -> None:
        wanted: dict[str, CIRef] = {}
        for ref in refs:
            if ref.name not in self.cis and ref.name not in wanted:
                wanted[ref.name] = ref
        if not wanted:
            return
        self._ci_classes({ref.type.lower().replace(" ", "-") for ref in wanted.values()})
        numbers = numbering.next_references(CI_PREFIX, len(wanted))
        made = [
            CI(
                number=number,
                name=ref.name,
                ci_class_id=self.classes[
                    "bpic2014-" + (ref.type.lower().replace(" ", "-") or "unknown")
                ],
                country=self.country,
                discovery_source=DISCOVERY,
                description=f"Service component {ref.component}" if ref.component else "",
                attributes={
                    k: v
                    for k, v in (
                        ("type", ref.type),
                        ("subtype", ref.subtype),
                        ("service_component", ref.component),
                    )
                    if v
                },
                created_at=self.now,
                updated_at=self.now,
            )
            for number, ref in zip(numbers, wanted.values(), strict=True)
        ]
        insert_rows(CI, made, assign_pks=True)
        self._created_entries(CI, made)
        self.cis.update({c.name: c.pk for c in made})
        self.report.count("configuration items").created += len(made)

    # changes -------------------------------------------------------------------------------

    def import_changes(self, rows) -> None:
        grouped: dict[str, list] = {}
        for batch in self._batches(rows, "Change ID", len(CHANGE_COLUMNS)):
            for ident, line, row, named in batch:
                grouped.setdefault(ident, []).append((line, row, named))
        known = dict(
            ImportedChange.objects.filter(source=SOURCE).values_list(
                "external_reference", "fingerprint"
            )
        )
        counts = self.report.count("changes")
        items = list(grouped.items())
        for start in range(0, len(items), self.options.batch_size):
            new, changed = [], []
            for ident, group in items[start : start + self.options.batch_size]:
                digest = fingerprint([row for _line, row, _named in group], MAPPING_VERSION)
                stored = known.get(ident)
                if stored == digest:
                    counts.skipped += 1
                    continue
                try:
                    record = self._parse_change(ident, group, digest)
                except RecordRejected as error:
                    self._reject(error.line, ident, error.field, error.reason)
                    continue
                (new if stored is None else changed).append(record)
            if not self.writing or not (new or changed):
                continue
            self._cis([ref for record in new + changed for ref in record["cis"]])
            self._write_changes(new, changed)

    def _parse_change(self, ident: str, group: list, digest: str) -> dict:
        line, _row, first = group[0]
        try:
            times = {}
            for column, name in (
                ("Planned Start", "planned_start"),
                ("Planned End", "planned_end"),
                ("Scheduled Downtime Start", "downtime_start_at"),
                ("Scheduled Downtime End", "downtime_end_at"),
                ("Actual Start", "actual_start"),
                ("Actual End", "actual_end"),
                ("Requested End Date", "requested_end_at"),
                ("Change record Close Time", "closed_at"),
            ):
                times[name] = self.times(first[column], column)
            times["opened_at"] = self.times(
                first["Change record Open Time"], "Change record Open Time", required=True
            )
            risk_text = first["Risk Assessment"].strip()
            if risk_text and risk_text not in RISKS:
                raise RowRejected("Risk Assessment", f"unknown risk {risk_text!r}")
            emergency = flag(first["Emergency Change"], "Emergency Change")
            cab = flag(first["CAB-approval needed"], "CAB-approval needed")
            interactions = count(first["# Related Interactions"], "# Related Interactions")
            incidents = count(first["# Related Incidents"], "# Related Incidents")
        except RowRejected as error:
            raise RecordRejected(line, error.field, error.reason) from None
        cis = []
        for _line, _r, named in group:
            ref = ci_ref(
                named,
                "CI Name (aff)",
                "CI Type (aff)",
                "CI Subtype (aff)",
                "Service Component WBS (aff)",
            )
            if ref is not None:
                cis.append(ref)
        source_type = text(first["Change Type"])
        return {
            "id": ident,
            "fingerprint": digest,
            "source_type": source_type,
            "risk_text": risk_text,
            "risk": RISKS.get(risk_text, ""),
            "emergency": emergency,
            "cab": cab,
            "originated_from": text(first["Originated from"]),
            "interactions": interactions,
            "incidents": incidents,
            "cis": cis,
            **times,
        }

    def _change_fields(self, record: dict) -> dict[str, Any]:
        if record["emergency"]:
            type_ = ChangeType.EMERGENCY
        elif record["source_type"].lower().startswith("standard"):
            type_ = ChangeType.STANDARD
        else:
            type_ = ChangeType.NORMAL
        planned_start, planned_end = record["planned_start"], record["planned_end"]
        note = ""
        if planned_start and planned_end and planned_end <= planned_start:
            note = f"\nSource planned end {planned_end.isoformat()} is not after the start."
            planned_end = None
        if record["closed_at"]:
            status = ChangeStatus.CLOSED
        elif record["actual_start"]:
            status = ChangeStatus.IMPLEMENT
        else:
            status = ChangeStatus.NEW
        return {
            "title": f"BPIC 2014 {record['id']}: {record['source_type'] or 'change'}"[:200],
            "description": (
                f"Change type: {record['source_type']}\n"
                f"Risk assessment: {record['risk_text']}\n"
                f"Originated from: {record['originated_from']}" + note
            ),
            "type": type_,
            "status": status,
            "country_id": self.country.pk,
            "region_id": self.country.region_id,
            "planned_start": planned_start,
            "planned_end": planned_end,
            "actual_start": record["actual_start"],
            "actual_end": record["actual_end"],
            "risk": record["risk"],
            "is_cab_required": record["cab"],
            "is_emergency": record["emergency"],
            "closed_at": record["closed_at"],
            "created_at": record["opened_at"],
        }

    def _change_extra(self, record: dict) -> dict[str, Any]:
        return {
            "source_type": record["source_type"],
            "risk_assessment": record["risk_text"],
            "originated_from": record["originated_from"],
            "requested_end_at": record["requested_end_at"],
            "downtime_start_at": record["downtime_start_at"],
            "downtime_end_at": record["downtime_end_at"],
            "related_interactions": record["interactions"],
            "related_incidents": record["incidents"],
            "fingerprint": record["fingerprint"],
        }

    def _write_changes(self, new: list[dict], changed: list[dict]) -> None:
        # A change first named by an incident (placeholder) is in ``self.changes`` without
        # a fingerprint: it is updated, not created again.
        placeholders = [r for r in new if r["id"] in self.changes]
        new = [r for r in new if r["id"] not in self.changes]
        changed = changed + placeholders
        if new:
            numbers = numbering.next_references("CHG", len(new))
            made = [
                Change(
                    number=number,
                    external_source=SOURCE,
                    external_reference=record["id"],
                    updated_at=self.now,
                    **self._change_fields(record),
                )
                for number, record in zip(numbers, new, strict=True)
            ]
            insert_rows(Change, made, assign_pks=True)
            self._created_entries(Change, made)
            self.changes.update({c.external_reference: c.pk for c in made})
            insert_rows(
                ImportedChange,
                [
                    ImportedChange(
                        source=SOURCE,
                        external_reference=record["id"],
                        change_id=change.pk,
                        imported_at=self.now,
                        **self._change_extra(record),
                    )
                    for record, change in zip(new, made, strict=True)
                ],
            )
            self.report.count("changes").created += len(made)
        if changed:
            by_ref = {r["id"]: r for r in changed}
            objects = list(
                Change.objects.filter(external_source=SOURCE, external_reference__in=by_ref)
            )
            names: set[str] = {"updated_at"}
            for change in objects:
                values = self._change_fields(by_ref[change.external_reference])
                for name, value in values.items():
                    setattr(change, name, value)
                names.update(values)
                change.updated_at = self.now
            Change.objects.bulk_update(objects, sorted(names), batch_size=1000)
            links = {
                link.external_reference: link
                for link in ImportedChange.objects.filter(
                    source=SOURCE, external_reference__in=by_ref
                )
            }
            for ref, record in by_ref.items():
                extra = self._change_extra(record)
                if ref in links:
                    for name, value in extra.items():
                        setattr(links[ref], name, value)
                else:
                    links[ref] = ImportedChange(
                        source=SOURCE,
                        external_reference=ref,
                        change_id=self.changes[ref],
                        imported_at=self.now,
                        **extra,
                    )
            ImportedChange.objects.bulk_update(
                [link for link in links.values() if link.pk], list(extra), batch_size=1000
            )
            ImportedChange.objects.bulk_create([link for link in links.values() if not link.pk])
            ChangeCI.objects.filter(change_id__in=[c.pk for c in objects]).delete()
            self.report.count("changes").updated += len(objects)
        ci_rows = []
        for record in new + changed:
            change_id = self.changes[record["id"]]
            for ci_id in sorted({self.cis[ref.name] for ref in record["cis"]}):
                ci_rows.append([change_id, ci_id])
        copy_rows(ChangeCI, ("change_id", "ci_id"), ci_rows)

    def _placeholder_changes(self, references: set[str]) -> None:
        missing = sorted(r for r in references if r not in self.changes)
        if not missing:
            return
        numbers = numbering.next_references("CHG", len(missing))
        made = [
            Change(
                number=number,
                title=f"BPIC 2014 {ref} (named by an incident, not in the change file)",
                external_source=SOURCE,
                external_reference=ref,
                country_id=self.country.pk,
                region_id=self.country.region_id,
                created_at=self.now,
                updated_at=self.now,
            )
            for number, ref in zip(numbers, missing, strict=True)
        ]
        insert_rows(Change, made, assign_pks=True)
        self._created_entries(Change, made)
        self.changes.update({c.external_reference: c.pk for c in made})
        self.report.count("changes").created += len(made)

    # incidents -----------------------------------------------------------------------------

    def import_incidents(self, rows) -> None:
        known = dict(
            ImportedIncident.objects.filter(source=SOURCE).values_list(
                "external_reference", "fingerprint"
            )
        )
        counts = self.report.count("incidents")
        seen = self.incident_ids
        for batch in self._batches(rows, "Incident ID", len(INCIDENT_COLUMNS)):
            new, changed = [], []
            for ident, line, row, named in batch:
                if ident in seen:
                    self._reject(line, ident, "Incident ID", f"{ident} appears twice")
                    continue
                seen.add(ident)
                digest = fingerprint([row], MAPPING_VERSION)
                stored = known.get(ident)
                if stored == digest:
                    counts.skipped += 1
                    continue
                try:
                    record = self._parse_incident(ident, named, digest)
                except RowRejected as error:
                    self._reject(line, ident, error.field, error.reason)
                    continue
                (new if stored is None else changed).append(record)
            if not self.writing or not (new or changed):
                continue
            records = new + changed
            self._cis(
                [r["ci"] for r in records if r["ci"]] + [r["cby"] for r in records if r["cby"]]
            )
            self._placeholder_changes({r["change"] for r in records if r["change"]})
            self._categories({r["category"] for r in records if r["category"]})
            if new:
                self._create_incidents(new)
            if changed:
                self._update_incidents(changed)
            self._index_incidents([r["id"] for r in records])

    def _categories(self, names: set[str]) -> None:
        missing = sorted(n for n in names if n not in self.categories)
        made = Category.objects.bulk_create([Category(name=name) for name in missing])
        self.categories.update({c.name: c.pk for c in made})
        if made:
            self.report.count("categories").created += len(made)

    def _parse_incident(self, ident: str, row: dict[str, str], digest: str) -> dict:
        state_text = row["Status"].strip()
        if state_text not in INCIDENT_STATES:
            raise RowRejected(
                "Status", f"unknown status {state_text!r} (known: {', '.join(INCIDENT_STATES)})"
            )
        impact = level(row["Impact"], "Impact")
        urgency = level(row["Urgency"], "Urgency")
        priority = level(row["Priority"], "Priority")
        related_change = text(row["Related Change"])
        return {
            "id": ident,
            "fingerprint": digest,
            "status": INCIDENT_STATES[state_text],
            "impact": impact,
            "urgency": urgency,
            "priority": priority,
            "category": text(row["Category"]),
            "km": text(row["KM number"]),
            "reassignments": count(row["# Reassignments"], "# Reassignments"),
            "opened_at": self.times(row["Open Time"], "Open Time", required=True),
            "reopened_at": self.times(row["Reopen Time"], "Reopen Time"),
            "resolved_at": self.times(row["Resolved Time"], "Resolved Time"),
            "closed_at": self.times(row["Close Time"], "Close Time"),
            "handle_hours": decimal(row["Handle Time (Hours)"], "Handle Time (Hours)"),
            "closure_code": text(row["Closure Code"]),
            "interactions": count(row["# Related Interactions"], "# Related Interactions"),
            "interaction": text(row["Related Interaction"]),
            "related_incidents": count(row["# Related Incidents"], "# Related Incidents"),
            "related_changes": count(row["# Related Changes"], "# Related Changes"),
            "change": "" if related_change == MULTIVALUE else related_change,
            "change_text": related_change,
            "ci": ci_ref(
                row,
                "CI Name (aff)",
                "CI Type (aff)",
                "CI Subtype (aff)",
                "Service Component WBS (aff)",
            ),
            "cby": ci_ref(
                row, "CI Name (CBy)", "CI Type (CBy)", "CI Subtype (CBy)", "ServiceComp WBS (CBy)"
            ),
        }

    def _incident_fields(self, r: dict) -> dict[str, Any]:
        ci = r["ci"]
        details = {
            "BPIC 2014 incident": r["id"],
            "Impact / urgency / priority (source 1-5)": (
                f"{r['impact']} / {r['urgency']} / {r['priority']}"
            ),
            "Knowledge document": r["km"],
            "Affected CI": ci and f"{ci.name} ({ci.type}, {ci.subtype}, {ci.component})",
            "Caused-by CI": r["cby"]
            and f"{r['cby'].name} ({r['cby'].type}, {r['cby'].subtype}, {r['cby'].component})",
            "Related interactions": f"{r['interactions']} ({r['interaction']})"
            if r["interactions"]
            else "",
            "Related incidents": r["related_incidents"] or "",
            "Related changes": f"{r['related_changes']} ({r['change_text']})"
            if r["related_changes"] or r["change_text"]
            else "",
            "Handle time (hours)": r["handle_hours"],
            "Reopened": r["reopened_at"] and r["reopened_at"].isoformat(),
        }
        title = f"{r['category'] or 'incident'}: {ci.name if ci else 'no CI'}"
        return {
            "caller_id": self.caller_id,
            "channel": Channel.PHONE,
            "short_description": f"BPIC 2014 {title}"[:200],
            "description": "\n".join(f"{k}: {v}" for k, v in details.items() if v),
            "category_id": self.categories.get(r["category"]),
            "ci_id": self.cis[ci.name] if ci else None,
            "country_id": self.country.pk,
            "region_id": self.country.region_id,
            "impact": LEVELS[r["impact"]],
            "urgency": LEVELS[r["urgency"]],
            "priority": r["priority"],
            "status": r["status"],
            "reassignment_count": r["reassignments"],
            "reopen_count": 1 if r["reopened_at"] else 0,
            "resolution_notes": (
                f"BPIC 2014 closure code: {r['closure_code']}" if r["closure_code"] else ""
            ),
            "opened_at": r["opened_at"],
            "resolved_at": r["resolved_at"],
            "closed_at": r["closed_at"] if r["status"] == Status.CLOSED else None,
        }

    def _journal(self, r: dict, pk: int) -> list[list]:
        """Created, reopened (a note: the source keeps only the last reopen time), resolved
        and closed, at the source's timestamps."""
        type_id, now = self.incident_type.pk, self.now
        rows = [[type_id, pk, str(JournalKind.CREATED), "", "", "", "", None, r["opened_at"], now]]
        state = Status.NEW
        if r["reopened_at"]:
            rows.append(
                [
                    type_id,
                    pk,
                    str(JournalKind.WORK_NOTE),
                    "",
                    "",
                    "",
                    "Reopened (BPIC 2014 Reopen Time).",
                    None,
                    r["reopened_at"],
                    now,
                ]
            )
        if r["resolved_at"]:
            rows.append(
                [
                    type_id,
                    pk,
                    str(JournalKind.STATE_CHANGE),
                    "status",
                    state,
                    str(Status.RESOLVED),
                    "",
                    None,
                    r["resolved_at"],
                    now,
                ]
            )
            state = Status.RESOLVED
        if r["status"] == Status.CLOSED and r["closed_at"]:
            rows.append(
                [
                    type_id,
                    pk,
                    str(JournalKind.STATE_CHANGE),
                    "status",
                    str(state),
                    str(Status.CLOSED),
                    r["closure_code"],
                    None,
                    r["closed_at"],
                    now,
                ]
            )
        elif r["status"] == Status.IN_PROGRESS:
            rows.append(
                [
                    type_id,
                    pk,
                    str(JournalKind.STATE_CHANGE),
                    "status",
                    str(state),
                    str(Status.IN_PROGRESS),
                    "",
                    None,
                    r["opened_at"],
                    now,
                ]
            )
        return rows

    def _create_incidents(self, records: list[dict]) -> None:
        numbers = numbering.next_references("INC", len(records))
        incidents = []
        for record, number in zip(records, numbers, strict=True):
            values = self._incident_fields(record)
            last = max(
                t
                for t in (
                    record["opened_at"],
                    record["resolved_at"],
                    record["closed_at"],
                    record["reopened_at"],
                )
                if t
            )
            incidents.append(
                Incident(
                    number=number,
                    external_source=SOURCE,
                    external_reference=record["id"],
                    created_at=record["opened_at"],
                    updated_at=last,
                    version=len(self._journal(record, 0)),
                    **values,
                )
            )
        insert_rows(Incident, incidents, assign_pks=True)
        entries, links = [], []
        for record, incident in zip(records, incidents, strict=True):
            journal = self._journal(record, incident.pk)
            entries += journal
            links.append(
                ImportedIncident(
                    source=SOURCE,
                    external_reference=record["id"],
                    incident_id=incident.pk,
                    related_change_id=self.changes.get(record["change"])
                    if record["change"]
                    else None,
                    fingerprint=record["fingerprint"],
                    event_keys=[],
                    imported_at=self.now,
                    updated_at=self.now,
                )
            )
        copy_rows(JournalEntry, JOURNAL_COLUMNS, entries)
        insert_rows(ImportedIncident, links)
        self.report.count("incidents").created += len(incidents)
        self.report.count("journal entries").created += len(entries)

    def _update_incidents(self, records: list[dict]) -> None:
        links = {
            link.external_reference: link
            for link in ImportedIncident.objects.filter(
                source=SOURCE, external_reference__in=[r["id"] for r in records]
            ).select_related("incident")
        }
        incidents, entries, names = [], [], {"version", "updated_at"}
        for record in records:
            link = links[record["id"]]
            incident = link.incident
            values = self._incident_fields(record)
            changed = sorted(n for n, v in values.items() if getattr(incident, n) != v)
            for name, value in values.items():
                setattr(incident, name, value)
            names.update(values)
            incident.version += 1
            incident.updated_at = self.now
            incidents.append(incident)
            entries.append(self._refreshed_entry(incident.pk, changed))
            link.fingerprint = record["fingerprint"]
            link.related_change_id = (
                self.changes.get(record["change"]) if record["change"] else None
            )
            link.updated_at = self.now
        Incident.objects.bulk_update(incidents, sorted(names), batch_size=1000)
        copy_rows(JournalEntry, JOURNAL_COLUMNS, entries)
        ImportedIncident.objects.bulk_update(
            list(links.values()), ["fingerprint", "related_change", "updated_at"], batch_size=1000
        )
        self.report.count("incidents").updated += len(incidents)
        self.report.count("journal entries").created += len(entries)

    # interactions --------------------------------------------------------------------------

    def import_interactions(self, rows) -> None:
        known = dict(
            ServiceDeskContact.objects.filter(source=SOURCE).values_list(
                "external_reference", "fingerprint"
            )
        )
        incidents = dict(
            ImportedIncident.objects.filter(source=SOURCE).values_list(
                "external_reference", "incident_id"
            )
        )
        counts = self.report.count("service-desk contacts")
        for batch in self._batches(rows, "Interaction ID", len(INTERACTION_COLUMNS)):
            new, changed = [], []
            for ident, line, row, named in batch:
                digest = fingerprint([row], MAPPING_VERSION)
                stored = known.get(ident)
                if stored == digest:
                    counts.skipped += 1
                    continue
                try:
                    values = self._parse_interaction(named, incidents)
                except RowRejected as error:
                    self._reject(line, ident, error.field, error.reason)
                    continue
                values.update(fingerprint=digest, external_reference=ident)
                known[ident] = digest
                (new if stored is None else changed).append(values)
            if not self.writing or not (new or changed):
                continue
            refs = [v.pop("ci_ref") for v in new + changed]
            self._cis([ref for ref in refs if ref])
            for values, ref in zip(new + changed, refs, strict=True):
                values["ci_id"] = self.cis[ref.name] if ref else None
            insert_rows(
                ServiceDeskContact,
                [ServiceDeskContact(source=SOURCE, imported_at=self.now, **v) for v in new],
            )
            counts.created += len(new)
            if changed:
                by_ref = {v["external_reference"]: v for v in changed}
                objects = list(
                    ServiceDeskContact.objects.filter(source=SOURCE, external_reference__in=by_ref)
                )
                for contact in objects:
                    for name, value in by_ref[contact.external_reference].items():
                        setattr(contact, name, value)
                fields = sorted(set(changed[0]) - {"external_reference"})
                ServiceDeskContact.objects.bulk_update(objects, fields, batch_size=1000)
                counts.updated += len(objects)

    def _parse_interaction(self, row: dict[str, str], incidents: dict[str, int]) -> dict:
        related = text(row["Related Incident"])
        handle = row["Handle Time (secs)"].strip()
        if handle and not handle.isdigit():
            raise RowRejected(
                "Handle Time (secs)", f"Handle Time (secs) {handle!r} is not a whole number"
            )
        return {
            "ci_ref": ci_ref(
                row, "CI Name (aff)", "CI Type (aff)", "CI Subtype (aff)", "Service Comp WBS (aff)"
            ),
            "incident_id": incidents.get(related) if related and related != MULTIVALUE else None,
            "has_several_incidents": related == MULTIVALUE,
            "status": text(row["Status"]),
            "category": text(row["Category"]),
            "knowledge_reference": text(row["KM number"]),
            "impact": level(row["Impact"], "Impact"),
            "urgency": level(row["Urgency"], "Urgency"),
            "priority": level(row["Priority"], "Priority"),
            "opened_at": self.times(
                row["Open Time (First Touch)"], "Open Time (First Touch)", required=True
            ),
            "closed_at": self.times(row["Close Time"], "Close Time"),
            "closure_code": text(row["Closure Code"]),
            "is_first_call_resolution": flag(row["First Call Resolution"], "First Call Resolution"),
            "handle_seconds": int(handle) if handle else None,
        }

    # activities ----------------------------------------------------------------------------

    def import_activities(self, rows) -> None:
        """The derived activity log as journal entries at the original timestamps.

        The rows are not sorted: they are grouped by incident in memory (one small tuple
        per activity), ordered by time then file order. A fingerprint of an incident's
        activities is kept in ``ImportedIncident.event_keys`` (``["activities:<sha1>"]``):
        unchanged incidents are skipped; for a changed one only the activities not
        journaled yet are appended (the journal is append-only).
        """
        incidents = {
            ref: (pk, keys)
            for ref, pk, keys in ImportedIncident.objects.filter(source=SOURCE).values_list(
                "external_reference", "incident_id", "event_keys"
            )
        }
        grouped: dict[str, list] = {}
        for batch in self._batches(rows, "Incident ID", len(ACTIVITY_COLUMNS)):
            for ident, line, row, _named in batch:
                row = [value.replace("\ufeff", "").strip() for value in row]
                if ident in self.report.rejected_records:
                    continue  # its incident was rejected (and reported) already
                if ident not in incidents:
                    if ident in self.incident_ids:
                        continue  # read but not written: the run is being rolled back
                    self._reject(line, ident, "Incident ID", f"{ident} is not in detail_incident")
                    continue
                try:
                    at = self.times(row[2], "DateStamp", required=True)
                except RowRejected as error:
                    self._reject(line, ident, error.field, error.reason)
                    continue
                grouped.setdefault(ident, []).append((at, line, row[1], row[3]))
        counts = self.report.count("incident activities")
        pending: list[tuple[str, str, list]] = []
        for ident, activities in grouped.items():
            activities.sort(key=lambda item: (item[0], item[1]))
            digest = fingerprint(
                [[a[0].isoformat(), a[2], a[3]] for a in activities], MAPPING_VERSION
            )
            if f"activities:{digest}" in incidents[ident][1]:
                counts.skipped += len(activities)
                continue
            pending.append((ident, digest, activities))
        if not self.writing:
            return
        for start in range(0, len(pending), self.options.batch_size):
            self._write_activities(pending[start : start + self.options.batch_size], incidents)

    def _activity_rows(self, pk: int, activities: list) -> list[list]:
        type_id, now = self.incident_type.pk, self.now
        rows, team = [], ""
        for at, _line, kind, group in activities:
            if kind in ASSIGNMENTS and group:
                rows.append(
                    [type_id, pk, str(JournalKind.FIELD_CHANGE), "assignment_group", team,
                     group, f"{ACTIVITY_NOTE}{kind}", None, at, now]
                )  # fmt: skip
                team = group
            else:
                body = f"{ACTIVITY_NOTE}{kind}" + (f" ({group})" if group else "")
                rows.append(
                    [type_id, pk, str(JournalKind.WORK_NOTE), "", "", "", body, None, at, now]
                )
        return rows

    def _write_activities(self, pending: list, incidents: dict) -> None:
        counts = self.report.count("incident activities")
        pks = [incidents[ident][0] for ident, _digest, _activities in pending]
        existing: dict[int, list] = {}
        for entry in JournalEntry.objects.filter(
            content_type=self.incident_type, object_id__in=pks, body__startswith=ACTIVITY_NOTE
        ).values_list("object_id", "occurred_at", "kind", "new_value", "body"):
            existing.setdefault(entry[0], []).append(entry[1:])
        entries, links = [], []
        for ident, digest, activities in pending:
            pk, keys = incidents[ident]
            known = existing.get(pk, [])
            for row in self._activity_rows(pk, activities):
                key = (row[8], row[2], row[5], row[6])
                if key in known:
                    known.remove(key)
                    counts.skipped += 1
                    continue
                entries.append(row)
                counts.created += 1
            keys = [k for k in keys if not k.startswith("activities:")]
            links.append((ident, [*keys, f"activities:{digest}"]))
        copy_rows(JournalEntry, JOURNAL_COLUMNS, entries)
        self.report.count("journal entries").created += len(entries)
        objects = list(
            ImportedIncident.objects.filter(
                source=SOURCE, external_reference__in=[ident for ident, _keys in links]
            )
        )
        by_ref = dict(links)
        for link in objects:
            link.event_keys = by_ref[link.external_reference]
        ImportedIncident.objects.bulk_update(objects, ["event_keys"], batch_size=1000)
