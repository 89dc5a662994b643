"""Import a ServiceNow incident event log (UCI #498 layout: one row per audit event).

``itsmo import servicenow-events FILE`` (docs/importing.md). The file is read as a stream
(:mod:`itsmo.imports.common`): gzip or plain text told by the first bytes, the csv module,
one incident's rows in memory at a time. The rows of an incident are contiguous in the
export (sorted by ``number``; checked on the real file: 24,918 runs for 24,918 numbers), so
they are grouped on the fly; a number seen again after another one is a rejected row
("rows of INC… are not contiguous"), never a silent merge.

The bulk path
-------------
Like the demo's ``incidents.demo.write_bulk``, the importer computes what the services
store and inserts it a batch of incidents at a time (``COPY`` on PostgreSQL, ``bulk_create``
elsewhere: :func:`itsmo.imports.common.insert_rows`, ``copy_rows``): the incident row
(number from ``core.numbering``, final values, version = one plus the updates journaled),
its journal at the original timestamps (created; each state change, reopenings included;
each change of assignment group, assignee, impact, urgency, priority, category,
subcategory), one imported SLA outcome (:class:`~itsmo.slm.models.SLAClock` with
``is_imported=True``, ``imported_outcome`` ``met``/``breached`` from ``made_sla``: no clock
is computed), the referenced users, support groups, sites, categories, CIs, problems and
changes (created once, found again by their identifier), and the search documents.

Idempotency
-----------
Every incident keeps ``external_source="servicenow"`` and ``external_reference=<number>``;
:class:`~itsmo.imports.models.ImportedIncident` keeps the SHA-1 of its source rows. Running
the import again skips an incident whose rows are unchanged after hashing them (nothing is
parsed or written), updates one whose rows changed (the record's fields; only the events
not journaled before are appended, the journal is append-only; a work note says the
record was refreshed) and creates the new ones. Users, groups, sites, categories, CIs,
problems and changes are found by their derived code or external reference.

All or nothing: the whole file is one transaction; a rejected row rejects its incident and,
unless ``partial``, rolls everything back at the end (every error is still reported).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model

from itsmo.accounts.models import SupportGroup, Tier
from itsmo.changes.models import Change
from itsmo.cmdb.models import CI, NUMBER_PREFIX as CI_PREFIX, CIClass
from itsmo.core import config_cache, numbering
from itsmo.core.models import JournalEntry, JournalKind
from itsmo.incidents.models import Category, Channel, Incident, OnHoldReason, Status
from itsmo.organization.models import Country, Site, SiteKind
from itsmo.problems.models import Problem
from itsmo.slm.models import ClockState, DefinitionKind, Metric, SLAClock, SLADefinition

from .common import (
    JOURNAL_COLUMNS,
    MISSING,
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
from .models import ImportedIncident

SOURCE = "servicenow"
#: Part of every fingerprint: bump it when the mapping changes, so a re-import updates.
MAPPING_VERSION = "1"
BATCH_SIZE = 1000
MAX_ERRORS = 1000

COLUMNS = (
    "number",
    "incident_state",
    "active",
    "reassignment_count",
    "reopen_count",
    "sys_mod_count",
    "made_sla",
    "caller_id",
    "opened_by",
    "opened_at",
    "sys_created_by",
    "sys_created_at",
    "sys_updated_by",
    "sys_updated_at",
    "contact_type",
    "location",
    "category",
    "subcategory",
    "u_symptom",
    "cmdb_ci",
    "impact",
    "urgency",
    "priority",
    "assignment_group",
    "assigned_to",
    "knowledge",
    "u_priority_confirmation",
    "notify",
    "problem_id",
    "rfc",
    "vendor",
    "caused_by",
    "closed_code",
    "resolved_by",
    "resolved_at",
    "closed_at",
)
COL = {name: index for index, name in enumerate(COLUMNS)}

#: The country imported records belong to when ``--country`` is not given. The source's
#: country is undocumented; the dataset comes from Brazil (University of São Paulo).
DEFAULT_COUNTRY = "BR"
DEFAULT_REGION = "brazil"
KNOWN_COUNTRIES = {"BR": ("Brazil", "America/Sao_Paulo", "pt")}

#: ServiceNow state -> Itsmo state (and on-hold reason).
STATES = {
    "New": (Status.NEW, ""),
    "Active": (Status.IN_PROGRESS, ""),
    "Awaiting User Info": (Status.ON_HOLD, OnHoldReason.AWAITING_CALLER),
    "Awaiting Evidence": (Status.ON_HOLD, OnHoldReason.AWAITING_CALLER),
    "Awaiting Vendor": (Status.ON_HOLD, OnHoldReason.AWAITING_VENDOR),
    "Awaiting Problem": (Status.ON_HOLD, OnHoldReason.AWAITING_CHANGE),
    "Resolved": (Status.RESOLVED, ""),
    "Closed": (Status.CLOSED, ""),
}
#: Values that say nothing about the state: the event is kept, the state stays as it was.
STRAY_STATES = frozenset({"-100"})
CHANNELS = {
    "Phone": Channel.PHONE,
    "IVR": Channel.PHONE,
    "Email": Channel.EMAIL,
    "Self service": Channel.PORTAL,
    "Direct opening": Channel.WALK_IN,
}
#: ServiceNow priority 1-4 (Critical, High, Moderate, Low) is Itsmo's P1-P4; P5 is unused.
PRIORITY_RANGE = (1, 4)
#: Fields whose changes between events are journaled (incident field, event attribute).
TRACKED = (
    "assignment_group",
    "assignee",
    "impact",
    "urgency",
    "priority",
    "category",
    "subcategory",
)
#: The source's user columns -> username prefix of the imported account.
USER_PREFIXES = {
    "Caller": "sn-caller-",
    "Opened by": "sn-opened-by-",
    "Created by": "sn-created-by-",
    "Updated by": "sn-updated-by-",
    "Resolver": "sn-resolver-",
    "Resolved by": "sn-resolved-by-",
}
UNKNOWN_CALLER = "sn-caller-unknown"
#: Django's mark of an unusable password (any value starting with "!"): nobody can sign in.
UNUSABLE_PASSWORD = "!imported-from-servicenow"
CI_CLASS_CODE = "servicenow-ci"
SLA_DEFINITION_NAME = "ServiceNow SLA (imported outcomes)"


def label(value: str) -> str:
    """``'Opened by  8'`` -> ``'Opened by 8'``; ``'?'`` and blanks -> ``''``."""
    if value == MISSING:
        return ""
    if "  " in value or value[:1] == " " or value[-1:] == " ":
        value = " ".join(value.split())
        return "" if value == MISSING else value
    return value


@functools.lru_cache(maxsize=65536)
def username_for(value: str) -> str:
    """``'Caller 2403'`` -> ``'sn-caller-2403'`` (the account an identifier becomes)."""
    for prefix, name in USER_PREFIXES.items():
        if value.startswith(prefix + " "):
            return name + value[len(prefix) + 1 :].strip().replace(" ", "-").lower()
    return "sn-user-" + value.replace(" ", "-").lower()


def slug(prefix: str, value: str) -> str:
    return prefix + value.split()[-1].lower() if value.split() else prefix


# -- parsing ---------------------------------------------------------------------------------


class TimeParser(WallClockParser):
    """Day-first ``d/m/Y H:M`` wall-clock times of one zone -> aware UTC datetimes (cached)."""

    blanks = ("", MISSING)

    def parse(self, text: str, column: str) -> datetime:
        try:
            day, month, rest = text.split("/")
            year, clock = rest.split(" ")
            hour, minute = clock.split(":")
            return datetime(int(year), int(month), int(day), int(hour), int(minute))
        except ValueError:
            raise RowRejected(
                column, f"{column} {text!r} is not a day-first date d/m/Y H:M"
            ) from None


def _int(row: list[str], column: str) -> int:
    text = row[COL[column]].strip()
    try:
        value = int(text)
    except ValueError:
        raise RowRejected(column, f"{column} {text!r} is not a whole number") from None
    if value < 0:
        raise RowRejected(column, f"{column} {text!r} is negative")
    return value


def _level(row: list[str], column: str, low: int, high: int) -> int | None:
    text = row[COL[column]].strip()
    if text == MISSING or not text:
        return None
    head = text.split("-", 1)[0].strip()
    if not head.isdigit() or not low <= int(head) <= high:
        raise RowRejected(column, f"{column} {text!r} is not one of {low}..{high} ('2 - Medium')")
    return int(head)


def _bool(row: list[str], column: str) -> bool | None:
    text = row[COL[column]].strip().lower()
    if text == MISSING or not text:
        return None
    if text not in ("true", "false"):
        raise RowRejected(column, f"{column} {text!r} is not true/false")
    return text == "true"


@dataclass(slots=True)
class Event:
    key: str  # "<sys_mod_count>:<occurrence>": stable across re-imports
    line: int
    at: datetime
    actor: str  # label of sys_updated_by
    source_state: str
    state: str | None  # Itsmo state; None for a stray value
    hold_reason: str
    values: dict[str, Any]  # TRACKED -> label / level, None when unknown ('?')


@dataclass
class Record:
    """One incident: its events in order and its final values (last known of each)."""

    number: str
    line: int
    fingerprint: str
    events: list[Event]
    final: dict[str, Any] = field(default_factory=dict)


#: Columns whose last known value (ordered by sys_mod_count, then file order) is kept.
FINAL_LABELS = (
    "caller_id",
    "opened_by",
    "location",
    "category",
    "subcategory",
    "u_symptom",
    "cmdb_ci",
    "assignment_group",
    "assigned_to",
    "problem_id",
    "rfc",
    "vendor",
    "caused_by",
    "closed_code",
    "resolved_by",
    "contact_type",
    "notify",
)


def parse_record(
    number: str, rows: list[tuple[int, list[str]]], times: TimeParser, digest: str
) -> Record:
    """Validate the rows of one incident and build its events; :class:`RecordRejected`
    names the first bad row."""
    parsed = []
    for position, (line, row) in enumerate(rows):
        try:
            raw_state = row[COL["incident_state"]].strip()
            if raw_state in STRAY_STATES:
                state, reason = None, ""
            elif raw_state in STATES:
                state, reason = STATES[raw_state]
            else:
                known = ", ".join(STATES)
                raise RowRejected(
                    "incident_state", f"unknown state {raw_state!r} (known: {known}, -100)"
                )
            mod = _int(row, "sys_mod_count")
            values = {
                "reassignment_count": _int(row, "reassignment_count"),
                "reopen_count": _int(row, "reopen_count"),
                "made_sla": _bool(row, "made_sla"),
                "knowledge": _bool(row, "knowledge"),
                "opened_at": times(row[COL["opened_at"]], "opened_at", required=True),
                "resolved_at": times(row[COL["resolved_at"]], "resolved_at"),
                "closed_at": times(row[COL["closed_at"]], "closed_at"),
                "impact": _level(row, "impact", 1, 3),
                "urgency": _level(row, "urgency", 1, 3),
                "priority": _level(row, "priority", *PRIORITY_RANGE),
            }
            if values["made_sla"] is None:
                raise RowRejected("made_sla", "made_sla is missing")
            at = times(row[COL["sys_updated_at"]], "sys_updated_at", required=True)
        except RowRejected as error:
            raise RecordRejected(line, error.field, error.reason) from None
        for column in FINAL_LABELS:
            values[column] = label(row[COL[column]])
        parsed.append((mod, position, line, at, raw_state, state, reason, values, row))
    parsed.sort(key=lambda item: (item[0], item[1]))
    events: list[Event] = []
    final: dict[str, Any] = {}
    occurrences: dict[int, int] = {}
    for mod, _position, line, at, raw_state, state, reason, values, row in parsed:
        occurrence = occurrences.get(mod, 0)
        occurrences[mod] = occurrence + 1
        for name, value in values.items():
            if value is not None and value != "":
                final[name] = value
        final["reassignment_count"] = values["reassignment_count"]
        final["reopen_count"] = values["reopen_count"]
        final["made_sla"] = values["made_sla"]
        if state is not None:
            final["state"], final["hold_reason"] = state, reason
        tracked = {
            "assignment_group": values["assignment_group"] or None,
            "assignee": values["assigned_to"] or None,
            "impact": values["impact"],
            "urgency": values["urgency"],
            "priority": values["priority"],
            "category": values["category"] or None,
            "subcategory": values["subcategory"] or None,
        }
        events.append(
            Event(
                f"{mod}:{occurrence}",
                line,
                at,
                label(row[COL["sys_updated_by"]]),
                raw_state,
                state,
                reason,
                tracked,
            )
        )
    for column in ("impact", "urgency", "priority"):
        if column not in final:
            raise RecordRejected(rows[0][0], column, f"{column} is missing on every row")
    final.setdefault("state", Status.NEW)
    final.setdefault("hold_reason", "")
    return Record(number, rows[0][0], digest, events, final)


# -- the import ------------------------------------------------------------------------------


@dataclass
class Options(ImportOptions):
    """The options of a ServiceNow import, with this source's defaults."""

    country: str = DEFAULT_COUNTRY
    batch_size: int = BATCH_SIZE
    max_errors: int = MAX_ERRORS


def resolve_country(code: str, region_code: str | None) -> Country:
    """The country imported records belong to, created (with its region) when missing; an
    existing country must be in ``region_code`` when one is given."""
    code = code.upper()
    country = find_or_create_country(
        code,
        region_code,
        known=KNOWN_COUNTRIES,
        default_region=DEFAULT_REGION if code == DEFAULT_COUNTRY else "imported",
    )
    if region_code and country.region.code != region_code:
        raise ImportFileError(
            f"country {code} belongs to region {country.region.code}, not {region_code}"
        )
    return country


def import_events(
    path: str | Path,
    options: Options | None = None,
    *,
    progress: Callable[..., None] = lambda report, final=False: None,
) -> ImportReport:
    """Import the event log at ``path``; the report says what was created/updated/skipped."""
    options = options or Options()
    path = Path(path)
    report = ImportReport(
        source=SOURCE, path=str(path), dry_run=options.dry_run, partial=options.partial
    )
    text, counting = open_text(path)
    with text:
        report.total_bytes = path.stat().st_size
        return run_import(
            report,
            options,
            progress,
            lambda: _Importer(options, report).run(read_rows(text, COLUMNS), counting, progress),
        )


class _Importer(Importer):
    source = SOURCE
    name = "ServiceNow"

    def __init__(self, options: Options, report: ImportReport) -> None:
        super().__init__(options, report, resolve_country(options.country, options.region))
        self.times = TimeParser(self.zone)
        self.salt = f"{MAPPING_VERSION}|{self.country.code}|{self.zone.key}|"
        self.known = dict(
            ImportedIncident.objects.filter(source=SOURCE).values_list(
                "external_reference", "fingerprint"
            )
        )
        User = get_user_model()
        self.users = dict(
            User.objects.filter(username__startswith="sn-").values_list("username", "pk")
        )
        self.groups = {
            code: (pk, tier)
            for code, pk, tier in SupportGroup.objects.filter(
                code__startswith="sn-group-"
            ).values_list("code", "pk", "tier")
        }
        self.sites = dict(
            Site.objects.filter(code__startswith="sn-location-").values_list("code", "pk")
        )
        self.categories: dict[tuple[int | None, str], int] = {
            (parent, name): pk
            for pk, parent, name in Category.objects.values_list("pk", "parent_id", "name")
        }
        self.ci_class = CIClass.objects.filter(
            code=CI_CLASS_CODE
        ).first() or CIClass.objects.create(
            code=CI_CLASS_CODE,
            name="ServiceNow configuration item",
            description="CIs named by an imported ServiceNow log (cmdb_ci), class unknown there.",
        )
        self.cis = dict(CI.objects.filter(ci_class=self.ci_class).values_list("name", "pk"))
        self.problems = dict(
            Problem.objects.filter(external_source=SOURCE).values_list("external_reference", "pk")
        )
        self.changes = dict(
            Change.objects.filter(external_source=SOURCE).values_list("external_reference", "pk")
        )
        self.sla = SLADefinition.objects.filter(name=SLA_DEFINITION_NAME).first()
        if self.sla is None:
            self.sla = SLADefinition.objects.create(
                name=SLA_DEFINITION_NAME,
                kind=DefinitionKind.SLA,
                is_active=False,  # never attaches to new incidents
                description="Holds the SLA outcomes (made_sla) of incidents imported from "
                "ServiceNow. No target is known: no clock is computed from it.",
            )

    # reading -------------------------------------------------------------------------------

    def run(self, rows, counting, progress) -> None:
        batch: list[tuple[str, list]] = []
        for number, group in self._groups(rows, counting, progress):
            batch.append((number, group))
            if len(batch) >= self.options.batch_size:
                self._batch(batch)
                batch = []
        if batch:
            self._batch(batch)

    def _groups(self, rows, counting, progress) -> Iterator[tuple[str, list]]:
        report = self.report
        width = len(COLUMNS)
        seen: set[str] = set()
        current: str | None = None
        group: list = []
        for line, row in rows:
            report.rows += 1
            report.bytes_read = counting.count
            progress(report)
            number = label(row[0]) if row else ""
            if not self._well_formed(line, row, width, "number", number, empty="empty or ?"):
                continue
            if number != current:
                if group and current not in report.rejected_records:
                    yield current, group
                group = []
                current = number
                if number in seen:
                    self._reject(
                        line,
                        number,
                        "number",
                        f"rows of {number} are not contiguous: sort the file by number",
                    )
                    continue
                seen.add(number)
            if current in report.rejected_records:
                continue
            group.append((line, row))
        if group and current not in report.rejected_records:
            yield current, group

    # writing -------------------------------------------------------------------------------

    def _batch(self, batch: list[tuple[str, list]]) -> None:
        counts = self.report.count("incidents")
        new, changed = [], []
        for number, rows in batch:
            digest = fingerprint((row for _line, row in rows), self.salt)
            stored = self.known.get(number)
            if stored == digest:
                counts.skipped += 1
                continue
            try:
                record = parse_record(number, rows, self.times, digest)
            except RecordRejected as error:
                self._reject(error.line, number, error.field, error.reason)
                continue
            (new if stored is None else changed).append(record)
        if not self.writing:
            return  # everything will be rolled back: keep reading only to report every error
        if not new and not changed:
            return
        self._references(new + changed)
        if new:
            self._create(new)
        if changed:
            self._update(changed)
        self._index_incidents([r.number for r in new + changed])

    # references: created once, then found by code / external reference --------------------

    def _references(self, records: list[Record]) -> None:
        users, groups, sites, cis, problems, changes = {}, set(), set(), set(), set(), set()
        categories: set[tuple[str, str]] = set()
        for record in records:
            final = record.final
            for column in ("caller_id", "opened_by", "assigned_to", "resolved_by"):
                if final.get(column):
                    users[username_for(final[column])] = final[column]
            for event in record.events:
                if event.actor:
                    users[username_for(event.actor)] = event.actor
                if event.values["assignee"]:
                    users[username_for(event.values["assignee"])] = event.values["assignee"]
                if event.values["assignment_group"]:
                    groups.add(event.values["assignment_group"])
                if event.values["category"]:
                    categories.add((event.values["category"], ""))
                    if event.values["subcategory"]:
                        categories.add((event.values["category"], event.values["subcategory"]))
            if not final.get("caller_id"):
                users[UNKNOWN_CALLER] = "Caller unknown"
            for column, bucket in (
                ("assignment_group", groups),
                ("location", sites),
                ("cmdb_ci", cis),
                ("problem_id", problems),
            ):
                if final.get(column):
                    bucket.add(final[column])
            if final.get("category"):
                categories.add((final["category"], ""))
                if final.get("subcategory"):
                    categories.add((final["category"], final["subcategory"]))
            for column in ("rfc", "caused_by"):
                if final.get(column):
                    changes.add(final[column])
        self._users(users)
        self._groups_(groups)
        self._sites(sites)
        self._categories(categories)
        self._cis(cis)
        self._problems(problems)
        self._changes(changes)

    def _users(self, wanted: dict[str, str]) -> None:
        missing = sorted(name for name in wanted if name not in self.users)
        if not missing:
            return
        User = get_user_model()
        made = User.objects.bulk_create(
            [
                User(
                    username=name,
                    display_name=f"ServiceNow {wanted[name]}",
                    password=UNUSABLE_PASSWORD,
                    is_active=False,
                    country=self.country,
                )
                for name in missing
            ],
            batch_size=2000,
        )
        self.users.update({user.username: user.pk for user in made})
        self.report.count("users").created += len(made)

    def _groups_(self, wanted: set[str]) -> None:
        missing = sorted(
            slug("sn-group-", v) for v in wanted if slug("sn-group-", v) not in self.groups
        )
        if not missing:
            return
        labels = {slug("sn-group-", v): v for v in wanted}
        config_cache.bulk_written(SupportGroup)
        made = SupportGroup.objects.bulk_create(
            [
                SupportGroup(
                    code=code,
                    name=f"ServiceNow {labels[code]}",
                    tier=Tier.L2,
                    region_id=self.country.region_id,
                    country=self.country,
                    description="Assignment group imported from ServiceNow.",
                )
                for code in missing
            ]
        )
        self.groups.update({g.code: (g.pk, g.tier) for g in made})
        self.report.count("support groups").created += len(made)

    def _sites(self, wanted: set[str]) -> None:
        labels = {slug("sn-location-", v): v for v in wanted}
        missing = sorted(code for code in labels if code not in self.sites)
        if not missing:
            return
        made = Site.objects.bulk_create(
            [
                Site(
                    code=code,
                    name=f"ServiceNow {labels[code]}",
                    kind=SiteKind.OFFICE,
                    country=self.country,
                )
                for code in missing
            ]
        )
        self.sites.update({s.code: s.pk for s in made})
        self.report.count("sites").created += len(made)

    def _categories(self, wanted: set[tuple[str, str]]) -> None:
        roots = sorted({c for c, sub in wanted if (None, c) not in self.categories})
        made = Category.objects.bulk_create([Category(name=name) for name in roots])
        self.categories.update({(None, c.name): c.pk for c in made})
        children = sorted(
            {(self.categories[(None, c)], sub) for c, sub in wanted if sub} - set(self.categories)
        )
        made_children = Category.objects.bulk_create(
            [Category(parent_id=parent, name=name) for parent, name in children]
        )
        self.categories.update({(c.parent_id, c.name): c.pk for c in made_children})
        if made or made_children:
            self.report.count("categories").created += len(made) + len(made_children)

    def _cis(self, wanted: set[str]) -> None:
        missing = sorted(v for v in wanted if v not in self.cis)
        if not missing:
            return
        numbers = numbering.next_references(CI_PREFIX, len(missing))
        made = CI.objects.bulk_create(
            [
                CI(
                    number=number,
                    name=name,
                    ci_class=self.ci_class,
                    country=self.country,
                    discovery_source="servicenow import",
                )
                for number, name in zip(numbers, missing, strict=True)
            ]
        )
        self._created_entries(CI, made)
        self.cis.update({c.name: c.pk for c in made})
        self.report.count("configuration items").created += len(made)

    def _problems(self, wanted: set[str]) -> None:
        missing = sorted(v for v in wanted if v not in self.problems)
        if not missing:
            return
        numbers = numbering.next_references("PRB", len(missing))
        made = Problem.objects.bulk_create(
            [
                Problem(
                    number=number,
                    title=f"ServiceNow {ref}",
                    external_source=SOURCE,
                    external_reference=ref,
                )
                for number, ref in zip(numbers, missing, strict=True)
            ]
        )
        self._created_entries(Problem, made)
        self._index(Problem, [p.pk for p in made])
        self.problems.update({p.external_reference: p.pk for p in made})
        self.report.count("problems").created += len(made)

    def _changes(self, wanted: set[str]) -> None:
        missing = sorted(v for v in wanted if v not in self.changes)
        if not missing:
            return
        numbers = numbering.next_references("CHG", len(missing))
        made = Change.objects.bulk_create(
            [
                Change(
                    number=number,
                    title=f"ServiceNow {ref}",
                    external_source=SOURCE,
                    external_reference=ref,
                )
                for number, ref in zip(numbers, missing, strict=True)
            ]
        )
        self._created_entries(Change, made)
        self.changes.update({c.external_reference: c.pk for c in made})
        self.report.count("changes").created += len(made)

    # incidents -----------------------------------------------------------------------------

    def _user(self, value: str | None) -> int | None:
        return self.users[username_for(value)] if value else None

    def _category(self, category: str | None, subcategory: str | None = None) -> int | None:
        if not category:
            return None
        root = self.categories[(None, category)]
        return self.categories[(root, subcategory)] if subcategory else root

    def _fields(self, record: Record) -> dict[str, Any]:
        """The incident's columns, from the record's final values."""
        f = record.final
        group = slug("sn-group-", f["assignment_group"]) if f.get("assignment_group") else None
        category = f.get("category") or None
        subcategory = f.get("subcategory") or None
        title = " / ".join(v for v in (category, subcategory) if v) or "Incident"
        if f.get("u_symptom"):
            title += f": {f['u_symptom']}"
        responded = next(
            (e.at for e in record.events if e.state is not None and e.state != Status.NEW), None
        )
        details = {
            "ServiceNow number": record.number,
            "Symptom": f.get("u_symptom"),
            "Contact type": f.get("contact_type"),
            "Vendor": f.get("vendor"),
            "Knowledge used": {True: "yes", False: "no"}.get(f.get("knowledge")),
            "Notify": f.get("notify"),
            "Closure code": f.get("closed_code"),
            "Related change (rfc)": f.get("rfc"),
        }
        return {
            "caller_id": self._user(f.get("caller_id")) or self.users[UNKNOWN_CALLER],
            "opened_by_id": self._user(f.get("opened_by")),
            "channel": CHANNELS.get(f.get("contact_type", ""), Channel.PHONE),
            "short_description": title[:200],
            "description": "\n".join(f"{k}: {v}" for k, v in details.items() if v),
            "category_id": self._category(category),
            "subcategory_id": self._category(category, subcategory) if category else None,
            "ci_id": self.cis[f["cmdb_ci"]] if f.get("cmdb_ci") else None,
            "country_id": self.country.pk,
            "region_id": self.country.region_id,
            "site_id": self.sites[slug("sn-location-", f["location"])]
            if f.get("location")
            else None,
            "impact": f["impact"],
            "urgency": f["urgency"],
            "priority": f["priority"],
            "status": f["state"],
            "on_hold_reason": f["hold_reason"] if f["state"] == Status.ON_HOLD else "",
            "assignment_group_id": self.groups[group][0] if group else None,
            "tier": self.groups[group][1] if group else "",
            "assignee_id": self._user(f.get("assigned_to")),
            "reassignment_count": f["reassignment_count"],
            "reopen_count": f["reopen_count"],
            "resolution_code": "",
            "resolution_notes": (
                f"ServiceNow closure code: {f['closed_code']}" if f.get("closed_code") else ""
            ),
            "resolved_by_id": self._user(f.get("resolved_by")),
            "problem_id": self.problems[f["problem_id"]] if f.get("problem_id") else None,
            "caused_by_change_id": self.changes[f["caused_by"]] if f.get("caused_by") else None,
            "opened_at": f["opened_at"],
            "responded_at": responded,
            "resolved_at": f.get("resolved_at"),
            "closed_at": f.get("closed_at") if f["state"] == Status.CLOSED else None,
        }

    def _display(self, name: str, value) -> str:
        """What ``core.journal`` writes for this value (``str()`` of the related record)."""
        if value is None:
            return ""
        if name == "assignment_group":
            return f"ServiceNow {value}"
        if name == "assignee":
            return f"ServiceNow {value}"
        return str(value)

    def _journal(self, record: Record, incident: Incident) -> list[tuple[str, JournalEntry]]:
        """Every journal entry of the record, keyed by the event that produced it."""
        entries: list[tuple[str, list]] = []  # rows in JOURNAL_COLUMNS order
        type_id, pk, now = self.incident_type.pk, incident.pk, self.now

        def add(key, kind, actor, at, field="", old_value="", new_value="", body=""):
            actor_id = self._user(actor)
            row = [type_id, pk, str(kind), field, old_value, new_value, body, actor_id, at, now]
            entries.append((key, row))

        final = record.final
        add(
            "open",
            JournalKind.CREATED,
            final.get("opened_by"),
            final["opened_at"],
            new_value=str(incident),
        )
        state, reason = Status.NEW, ""
        known: dict[str, Any] = {}
        first = True
        for event in record.events:
            changed = False
            for name in TRACKED:
                value = event.values[name]
                if value is None:
                    continue  # '?' never overwrites a known value
                old = known.get(name)
                known[name] = value
                if first or old == value:
                    continue
                shown = value
                if name == "subcategory" and event.values["category"]:
                    shown = f"{event.values['category']} / {value}"
                add(
                    event.key,
                    JournalKind.FIELD_CHANGE,
                    event.actor,
                    event.at,
                    field=name,
                    old_value=self._display(name, old),
                    new_value=self._display(name, shown),
                )
                changed = True
            first = False
            if event.state is not None and event.state != state:
                note = f"ServiceNow state: {event.source_state}"
                if state == Status.RESOLVED and event.state in (
                    Status.NEW,
                    Status.IN_PROGRESS,
                    Status.ON_HOLD,
                ):
                    note = f"Reopened. {note}"
                add(
                    event.key,
                    JournalKind.STATE_CHANGE,
                    event.actor,
                    event.at,
                    field="status",
                    old_value=state,
                    new_value=event.state,
                    body=note,
                )
                state, reason, changed = event.state, event.hold_reason, True
            elif event.state == Status.ON_HOLD and event.hold_reason != reason:
                add(
                    event.key,
                    JournalKind.FIELD_CHANGE,
                    event.actor,
                    event.at,
                    field="on_hold_reason",
                    old_value=reason,
                    new_value=event.hold_reason,
                )
                reason, changed = event.hold_reason, True
            if changed:
                incident.version += 1
        return entries

    def _clock(self, record: Record, incident: Incident) -> SLAClock:
        made = record.final["made_sla"]
        stopped = incident.resolved_at or incident.closed_at
        return SLAClock(
            definition=self.sla,
            incident_id=incident.pk,
            metric=Metric.RESOLUTION,
            target_seconds=0,
            started_at=incident.opened_at,
            stopped_at=stopped,
            state=ClockState.ACHIEVED if made else ClockState.BREACHED,
            warning_thresholds=[],
            is_imported=True,
            imported_outcome="met" if made else "breached",
            created_at=self.now,
        )

    def _create(self, records: list[Record]) -> None:
        numbers = numbering.next_references("INC", len(records))
        incidents = []
        for record, number in zip(records, numbers, strict=True):
            values = self._fields(record)
            incident = Incident(
                number=number,
                external_source=SOURCE,
                external_reference=record.number,
                created_at=values["opened_at"],
                **values,
            )
            incidents.append(incident)
        journals = []
        for record, incident in zip(records, incidents, strict=True):
            journals.append(self._journal(record, incident))  # counts the version too
            incident.updated_at = max(e.at for e in record.events)
        insert_rows(Incident, incidents, assign_pks=True)
        entries, clocks, links = [], [], []
        for record, incident, journal in zip(records, incidents, journals, strict=True):
            for _key, row in journal:
                row[1] = incident.pk
                entries.append(row)
            clocks.append(self._clock(record, incident))
            links.append(
                ImportedIncident(
                    source=SOURCE,
                    external_reference=record.number,
                    incident_id=incident.pk,
                    related_change_id=self._related_change(record),
                    fingerprint=record.fingerprint,
                    event_keys=[e.key for e in record.events],
                    imported_at=self.now,
                    updated_at=self.now,
                )
            )
        copy_rows(JournalEntry, JOURNAL_COLUMNS, entries)
        insert_rows(SLAClock, clocks)
        insert_rows(ImportedIncident, links)
        self.report.count("incidents").created += len(incidents)
        self.report.count("journal entries").created += len(entries)
        self.report.count("SLA outcomes").created += len(clocks)

    def _related_change(self, record: Record) -> int | None:
        rfc = record.final.get("rfc")
        return self.changes[rfc] if rfc else None

    def _update(self, records: list[Record]) -> None:
        links = {
            link.external_reference: link
            for link in ImportedIncident.objects.filter(
                source=SOURCE, external_reference__in=[r.number for r in records]
            ).select_related("incident")
        }
        incidents, entries, link_rows = [], [], []
        names: set[str] = set()
        for record in records:
            link = links[record.number]
            incident = link.incident
            values = self._fields(record)
            changed = [n for n, v in values.items() if getattr(incident, n) != v]
            for name, value in values.items():
                setattr(incident, name, value)
            names.update(values)
            journaled = {"open", *link.event_keys}
            version = incident.version
            incident.version = 1
            journal = self._journal(record, incident)
            new_entries = [entry for key, entry in journal if key not in journaled]
            incident.version = max(version, incident.version) + 1
            new_entries.append(self._refreshed_entry(incident.pk, changed))
            entries += new_entries
            incident.updated_at = self.now
            incidents.append(incident)
            link.fingerprint = record.fingerprint
            link.event_keys = sorted(journaled | {e.key for e in record.events})
            link.related_change_id = self._related_change(record)
            link.updated_at = self.now
            link_rows.append(link)
        Incident.objects.bulk_update(
            incidents, sorted(names | {"version", "updated_at"}), batch_size=1000
        )
        copy_rows(JournalEntry, JOURNAL_COLUMNS, entries)
        ImportedIncident.objects.bulk_update(
            link_rows, ["fingerprint", "event_keys", "related_change", "updated_at"]
        )
        by_incident = {r.number: r for r in records}
        SLAClock.objects.filter(
            incident_id__in=[i.pk for i in incidents], is_imported=True, definition=self.sla
        ).delete()
        insert_rows(
            SLAClock, [self._clock(by_incident[i.external_reference], i) for i in incidents]
        )
        self.report.count("incidents").updated += len(incidents)
        self.report.count("journal entries").created += len(entries)
        self.report.count("SLA outcomes").updated += len(incidents)
