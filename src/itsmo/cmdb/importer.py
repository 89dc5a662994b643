"""CSV and JSON import of CIs and relationships (formats: docs/cmdb-import.md).

One entry point, :func:`import_file`, used by ``itsmo cmdb import`` and
``POST /api/v1/cmdb/import``. It upserts CIs by the identity rule of
:func:`itsmo.cmdb.services.find_by_identity` (class + serial, else class + name + site).

How a file is processed:

* The first 64 KiB are sniffed before anything else: binary data, text that is not UTF-8,
  a first line that cannot be a header, or a header without the columns of either file
  type is a :class:`ImportFileError` (field ``file``) at once; nothing is read further.
* Rows are read as a stream and handled in batches (``batch_size``): each batch is parsed,
  the existing CIs of its identities are fetched in two queries, every row is validated
  with the same rules as :func:`~itsmo.cmdb.services.create_ci` and
  :func:`~itsmo.cmdb.services.update_ci` (their ``_clean_values``, lifecycle table and
  scope guards), and the valid rows are written in bulk.
* The bulk path writes what the services write, record for record: numbers from
  :func:`itsmo.core.numbering.next_values` (one UPDATE per batch), the CI rows, and the
  journal entries ("created", one field change per changed field, a state change for a
  status change, two entries per relationship). A batch that hits a database error is
  rolled back to its savepoint and replayed row by row through the services, which name
  the row at fault.
* The whole file runs in one transaction. Unless ``partial`` is set, any rejected row
  rolls everything back at the end (every error is still reported, up to ``max_errors``);
  with ``partial`` the good rows stay. ``dry_run`` always rolls back.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from itsmo.accounts.models import SupportGroup
from itsmo.core.errors import DomainError, NotFound, ValidationFailed
from itsmo.core.journal import _entry, _text
from itsmo.core.models import JournalEntry, JournalKind
from itsmo.core.numbering import next_values
from itsmo.core.scoping import scope_of
from itsmo.organization.models import Country, Site

from . import services
from .models import (
    CI,
    CI_LIFECYCLE,
    NUMBER_PREFIX,
    CIClass,
    CIStatus,
    Environment,
    Relationship,
    RelationshipType,
)

BATCH_SIZE = 2000
MAX_ERRORS = 1000
SNIFF_BYTES = 64 * 1024
#: JSON cannot be streamed with the standard library: larger JSON files are refused.
MAX_JSON_BYTES = 200 * 1024 * 1024

CI_COLUMNS = (
    "class",
    "name",
    "serial",
    "asset_tag",
    "status",
    "environment",
    "country",
    "site",
    "owner_group",
    "discovery_source",
    "last_seen_at",
    "description",
)
#: Accepted in CI files (the exporter writes it) and ignored: identity decides.
INFORMATIONAL_COLUMNS = ("number",)
ATTRIBUTE_PREFIX = "attr."
REFERENCE_PARTS = ("number", "class", "name", "serial", "site")
RELATIONSHIP_COLUMNS = (
    *(f"source_{part}" for part in REFERENCE_PARTS),
    "type",
    *(f"target_{part}" for part in REFERENCE_PARTS),
    "discovery_source",
)
FIELD_LIMITS = {
    "class": 60,
    "name": 200,
    "serial": 100,
    "asset_tag": 100,
    "status": 20,
    "environment": 20,
    "country": 10,
    "site": 40,
    "owner_group": 60,
    "discovery_source": 100,
    "last_seen_at": 40,
    "description": 10_000,
    "number": 20,
    "type": 20,
}
ATTRIBUTE_LIMIT = 1000
_STATUSES = frozenset(CIStatus.values)
_ENVIRONMENTS = frozenset(Environment.values)
_ATTRIBUTE_NAME = re.compile(r"^[a-z0-9_-]{1,60}$")


# --- report -----------------------------------------------------------------------------------


@dataclass
class RowError:
    line: int | None
    field: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "reason": self.reason}


@dataclass
class ImportReport:
    kind: str = ""  # "cis", "relationships" or "mixed" (JSON with both)
    format: str = ""
    dry_run: bool = False
    partial: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    relationships_created: int = 0
    relationships_unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    rejected_lines: set[int] = field(default_factory=set)
    stopped_early: bool = False
    committed: bool = False
    seconds: float = 0.0
    bytes_read: int = 0  # progress only

    @property
    def rejected(self) -> int:
        return len(self.rejected_lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "format": self.format,
            "dry_run": self.dry_run,
            "partial": self.partial,
            "committed": self.committed,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "relationships_created": self.relationships_created,
            "relationships_unchanged": self.relationships_unchanged,
            "rejected": self.rejected,
            "stopped_early": self.stopped_early,
            "seconds": round(self.seconds, 3),
            "errors": [error.as_dict() for error in self.errors],
        }


class ImportFileError(ValidationFailed):
    """The file as a whole cannot be imported (not CSV/JSON, bad header, broken syntax)."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        where = f"line {line}: " if line else ""
        super().__init__(f"{where}{message}", field="file", line=line)
        self.line = line


class _RowRejected(Exception):
    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


class _Rollback(Exception):
    pass


class _TooManyErrors(Exception):
    pass


# --- reading ----------------------------------------------------------------------------------


class _Source(io.RawIOBase):
    """The sniffed head again, then the rest of the stream; counts the bytes read."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self.head = head
        self.stream = stream
        self.bytes_read = len(head)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            size = min(len(buffer), len(self.head))
            buffer[:size] = self.head[:size]
            self.head = self.head[size:]
            return size
        data = self.stream.read(len(buffer))
        if not data:
            return 0
        self.bytes_read += len(data)
        buffer[: len(data)] = data
        return len(data)


def _sniff(head: bytes, fmt: str | None, filename: str) -> str:
    if not head.strip(codecs.BOM_UTF8 + b" \t\r\n"):
        raise ImportFileError("the file is empty")
    nul = head.find(b"\x00")
    if nul >= 0:
        raise ImportFileError(
            f"binary data (a NUL byte at offset {nul}): not a CSV or JSON text file"
        )
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        text = decoder.decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"not UTF-8 text (invalid byte 0x{head[error.start]:02x} at "
            f"offset {error.start}); save the file as UTF-8"
        ) from None
    text = text.removeprefix("\ufeff")
    first = text.lstrip()[:1]
    if fmt is None:
        lowered = filename.lower()
        if lowered.endswith(".json"):
            fmt = "json"
        elif lowered.endswith(".csv"):
            fmt = "csv"
        else:
            fmt = "json" if first in ("{", "[") else "csv"
    if fmt not in ("csv", "json"):
        raise ImportFileError(f"unknown format {fmt!r}; expected csv or json")
    if fmt == "json" and first != "{":
        raise ImportFileError(
            'not a JSON import file: expected an object {"cis": [...], '
            f'"relationships": [...]}}, found {text.lstrip()[:20]!r}',
            line=1,
        )
    if fmt == "csv":
        if len(head) >= SNIFF_BYTES and "\n" not in text and "\r" not in text:
            raise ImportFileError(
                f"the first line is longer than {SNIFF_BYTES} bytes: not a CSV header", line=1
            )
        controls = [c for c in text[:4096] if ord(c) < 32 and c not in "\t\r\n"]
        if controls:
            raise ImportFileError(
                f"control character U+{ord(controls[0]):04X} in the "
                "first bytes: not a CSV text file"
            )
    return fmt


def _csv_rows(text: IO[str]) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader)
    except csv.Error as error:
        raise ImportFileError(f"not a CSV header ({error})", line=1) from None
    except UnicodeDecodeError as error:
        raise ImportFileError(f"not UTF-8 text ({error.reason})", line=1) from None
    except StopIteration:
        raise ImportFileError("the file is empty") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        previous = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise ImportFileError(f"broken CSV ({error})", line=previous + 1) from None
            except UnicodeDecodeError as error:
                raise ImportFileError(
                    f"not UTF-8 text ({error.reason}); save the file as UTF-8", line=previous + 1
                ) from None
            line, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in row):
                yield line, row

    return header, rows()


def _header(cells: list[str]) -> tuple[str, list[str]]:
    columns = [cell.strip().lower() for cell in cells]
    if not any(columns):
        raise ImportFileError("the header is empty", line=1)
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise ImportFileError(f"column {column!r} appears twice in the header", line=1)
        seen.add(column)
    if "class" in seen and "name" in seen:
        kind, known = "cis", set(CI_COLUMNS) | set(INFORMATIONAL_COLUMNS)
        unknown = [
            c
            for c in columns
            if c not in known
            and not (
                c.startswith(ATTRIBUTE_PREFIX) and _ATTRIBUTE_NAME.match(c[len(ATTRIBUTE_PREFIX) :])
            )
        ]
    elif "type" in seen and any(c.startswith(("source_", "target_")) for c in columns):
        kind, known = "relationships", set(RELATIONSHIP_COLUMNS)
        unknown = [c for c in columns if c not in known]
        for side in ("source", "target"):
            if f"{side}_number" not in seen and f"{side}_class" not in seen:
                raise ImportFileError(
                    f"a relationship file needs {side}_number or "
                    f"{side}_class (with {side}_serial or {side}_name)",
                    line=1,
                )
    else:
        shown = ", ".join(repr(c[:30]) for c in columns[:5])
        raise ImportFileError(
            "not a CMDB import header: a CI file needs the columns class and name, a "
            f"relationship file type, source_… and target_… columns; found {shown}",
            line=1,
        )
    if unknown:
        raise ImportFileError(
            f"unknown column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(c[:40]) for c in unknown[:10])}; attribute columns are "
            "named attr.<attribute>",
            line=1,
        )
    return kind, columns


def _line_of(text: str, position: int, state: list[int]) -> int:
    """1-based line of ``position``; ``state`` = [last position, its line] (forward only)."""
    last, line = state
    if position >= last:
        line += text.count("\n", last, position)
    else:
        line = text.count("\n", 0, position) + 1
    state[0], state[1] = position, line
    return line


def _json_error(error: json.JSONDecodeError) -> ImportFileError:
    return ImportFileError(f"broken JSON: {error.msg} (column {error.colno})", line=error.lineno)


class _JSONDocument:
    """The top-level object; its arrays are decoded item by item with their line numbers."""

    KEYS = ("cis", "relationships")

    def __init__(self, text: str) -> None:
        self.text = text
        self.decoder = json.JSONDecoder()
        self.arrays: dict[str, int] = {}
        self._scan()

    def _skip(self, position: int) -> int:
        text = self.text
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        return position

    def _expect(self, position: int, chars: str) -> tuple[str, int]:
        position = self._skip(position)
        if position >= len(self.text) or self.text[position] not in chars:
            found = self.text[position : position + 10] if position < len(self.text) else "end"
            raise _json_error(
                json.JSONDecodeError(
                    f"expected {' or '.join(repr(c) for c in chars)}, found {found!r}",
                    self.text,
                    position,
                )
            )
        return self.text[position], position + 1

    def _scan(self) -> None:
        _, position = self._expect(0, "{")
        if self.text[self._skip(position) : self._skip(position) + 1] == "}":
            raise ImportFileError('the JSON object has neither "cis" nor "relationships"')
        while True:
            position = self._skip(position)
            try:
                key, position = self.decoder.raw_decode(self.text, position)
            except json.JSONDecodeError as error:
                raise _json_error(error) from None
            if key not in self.KEYS:
                state = [0, 1]
                raise ImportFileError(
                    f'unknown key {str(key)[:40]!r}: expected "cis" and "relationships"',
                    line=_line_of(self.text, position, state),
                )
            _, position = self._expect(position, ":")
            self.arrays[key] = self._skip(position)
            for _line, _item in self.items(key):
                pass
            position = self._end
            char, position = self._expect(position, ",}")
            if char == "}":
                break
        rest = self._skip(position)
        if rest < len(self.text):
            raise _json_error(json.JSONDecodeError("extra data after the object", self.text, rest))

    def items(self, key: str) -> Iterator[tuple[int, Any]]:
        if key not in self.arrays:
            return
        state = [0, 1]
        _, position = self._expect(self.arrays[key], "[")
        if self.text[self._skip(position) : self._skip(position) + 1] == "]":
            self._end = self._skip(position) + 1
            return
        while True:
            position = self._skip(position)
            try:
                item, end = self.decoder.raw_decode(self.text, position)
            except json.JSONDecodeError as error:
                raise _json_error(error) from None
            yield _line_of(self.text, position, state), item
            char, position = self._expect(end, ",]")
            if char == "]":
                self._end = position
                return


# --- parsing rows -----------------------------------------------------------------------------


@dataclass
class _CIRow:
    line: int
    ci_class: CIClass
    status: str | None
    values: dict[str, Any]  # EDITABLE_FIELDS → objects, for services._clean_values
    attributes: dict[str, Any]  # given attribute values ("" = clear)
    key: tuple


@dataclass
class _Reference:
    number: str = ""
    ci_class: CIClass | None = None
    serial: str = ""
    name: str = ""
    site_id: int | None = None

    @property
    def key(self) -> tuple:
        if self.number:
            return ("number", self.number)
        return _identity_key(self.ci_class.pk, self.serial, self.name, self.site_id)

    def describe(self) -> str:
        if self.number:
            return self.number
        if self.serial:
            return f"{self.ci_class.code} with serial {self.serial!r}"
        where = " without a site" if self.site_id is None else ""
        return f"{self.ci_class.code} named {self.name!r}{where}"


@dataclass
class _RelationshipRow:
    line: int
    source: _Reference
    target: _Reference
    type: str
    discovery_source: str


def _identity_key(class_id: int, serial: str, name: str, site_id: int | None) -> tuple:
    if serial:
        return (class_id, "serial", serial)
    return (class_id, "name", name, site_id)


def _datetime(value: str) -> datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _RowRejected(
            "last_seen_at",
            f"expected an ISO date and time like 2026-01-31T08:00:00Z (got {value[:40]!r})",
        ) from None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


class _Lookups:
    """Classes (with their attributes), countries, sites and groups, loaded once."""

    def __init__(self) -> None:
        classes = list(CIClass.objects.filter(is_active=True).prefetch_related("attributes"))
        by_id = {c.pk: c for c in CIClass.objects.prefetch_related("attributes")}
        for ci_class in by_id.values():
            if ci_class.parent_id is not None:
                ci_class.parent = by_id[ci_class.parent_id]
        for ci_class in by_id.values():
            # The effective schema is read for every row: compute it once per class.
            ci_class.schema = functools.partial(dict, ci_class.schema())
        self.class_by_id = by_id
        self.class_by_code = {c.code: by_id[c.pk] for c in classes}
        self.country_by_id = {c.pk: c for c in Country.objects.all()}
        self.country_by_code = {c.code.upper(): c for c in self.country_by_id.values()}
        self.site_by_id = {s.pk: s for s in Site.objects.all()}
        self.site_by_code = {s.code: s for s in self.site_by_id.values()}
        for site in self.site_by_id.values():
            site.country = self.country_by_id[site.country_id]
        self.group_by_id = {g.pk: g for g in SupportGroup.objects.all()}
        self.group_by_code = {g.code: g for g in self.group_by_id.values()}

    def attach(self, ci: CI) -> CI:
        """Fill the CI's foreign-key caches from memory (snapshots then need no queries)."""
        ci.ci_class = self.class_by_id[ci.ci_class_id]
        if ci.country_id is not None:
            ci.country = self.country_by_id[ci.country_id]
        if ci.site_id is not None:
            ci.site = self.site_by_id[ci.site_id]
        if ci.owner_group_id is not None and ci.owner_group_id in self.group_by_id:
            ci.owner_group = self.group_by_id[ci.owner_group_id]
        return ci

    def ci_class(self, code: str, field_name: str = "class") -> CIClass:
        code = code.strip()
        if not code:
            raise _RowRejected(field_name, "a CI class is required")
        found = self.class_by_code.get(code) or self.class_by_code.get(code.lower())
        if found is None:
            raise _RowRejected(field_name, f"unknown CI class {code[:60]!r}")
        return found

    def site(self, code: str, field_name: str = "site") -> Site | None:
        code = code.strip()
        if not code:
            return None
        found = self.site_by_code.get(code) or self.site_by_code.get(code.lower())
        if found is None:
            raise _RowRejected(field_name, f"unknown site {code[:40]!r}")
        return found


def _text_value(raw: Any, column: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise _RowRejected(column, f"expected text, got {type(raw).__name__}")
    limit = FIELD_LIMITS.get(column, ATTRIBUTE_LIMIT)
    if len(raw) > limit:
        raise _RowRejected(column, f"at most {limit} characters (got {len(raw)})")
    return raw.strip()


def _parse_ci(
    lookups: _Lookups, line: int, record: dict[str, Any], attributes: dict[str, Any]
) -> _CIRow:
    text = {column: _text_value(record[column], column) for column in record}
    ci_class = lookups.ci_class(text.get("class", ""))
    name = text.get("name", "")
    if not name:
        raise _RowRejected("name", "a CI needs a name")
    values: dict[str, Any] = {"name": name, "ci_class": ci_class}
    for column in ("serial", "asset_tag", "discovery_source", "description"):
        if column in text:
            values[column] = text[column]
    status = text.get("status") or None
    if status is not None and status not in _STATUSES:
        raise _RowRejected(
            "status",
            f"unknown status {status[:20]!r}; expected one of {', '.join(CIStatus.values)}",
        )
    if text.get("environment"):
        if text["environment"] not in _ENVIRONMENTS:
            raise _RowRejected(
                "environment",
                f"unknown environment {text['environment']!r}; "
                f"expected one of {', '.join(Environment.values)}",
            )
        values["environment"] = text["environment"]
    site = lookups.site(text.get("site", ""))
    if "site" in text:
        values["site"] = site
    if "country" in text:
        code = text["country"].upper()
        if code:
            country = lookups.country_by_code.get(code)
            if country is None:
                raise _RowRejected(
                    "country",
                    f"unknown country {text['country']!r} (expected an ISO code such as MX)",
                )
            values["country"] = country
        elif site is None:
            values["country"] = None
    if "owner_group" in text:
        code = text["owner_group"]
        group = lookups.group_by_code.get(code) if code else None
        if code and group is None:
            raise _RowRejected("owner_group", f"unknown support group {code[:60]!r}")
        values["owner_group"] = group
    if "last_seen_at" in text:
        values["last_seen_at"] = _datetime(text["last_seen_at"]) if text["last_seen_at"] else None
    for attribute, value in attributes.items():
        if isinstance(value, str) and len(value) > ATTRIBUTE_LIMIT:
            raise _RowRejected(f"attr.{attribute}", f"at most {ATTRIBUTE_LIMIT} characters")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise _RowRejected(f"attr.{attribute}", "expected a single value")
    key = _identity_key(
        ci_class.pk, values.get("serial", ""), name, site.pk if site is not None else None
    )
    return _CIRow(line, ci_class, status, values, attributes, key)


def _parse_reference(lookups: _Lookups, record: dict[str, Any], side: str) -> _Reference:
    text = {part: _text_value(record.get(part), f"{side}_{part}") for part in REFERENCE_PARTS}
    if text["number"]:
        return _Reference(number=text["number"].upper())
    ci_class = lookups.ci_class(text["class"], f"{side}_class")
    if not text["serial"] and not text["name"]:
        raise _RowRejected(f"{side}_name", f"the {side} CI needs a number, a serial or a name")
    site = lookups.site(text["site"], f"{side}_site")
    return _Reference(
        ci_class=ci_class,
        serial=text["serial"],
        name=text["name"],
        site_id=site.pk if site is not None else None,
    )


def _parse_relationship(lookups: _Lookups, line: int, record: dict[str, Any]) -> _RelationshipRow:
    type_ = _text_value(record.get("type"), "type")
    if type_ not in RelationshipType.values:
        raise _RowRejected(
            "type",
            f"unknown relationship type {type_[:20]!r}; expected one "
            f"of {', '.join(RelationshipType.values)}",
        )
    source = _parse_reference(lookups, record.get("source") or {}, "source")
    target = _parse_reference(lookups, record.get("target") or {}, "target")
    return _RelationshipRow(
        line, source, target, type_, _text_value(record.get("discovery_source"), "discovery_source")
    )


# --- the import -------------------------------------------------------------------------------


class _Importer:
    def __init__(
        self,
        *,
        actor,
        report: ImportReport,
        partial: bool,
        batch_size: int,
        max_errors: int,
        progress: Callable[[ImportReport], None] | None,
    ) -> None:
        self.actor = actor
        self.report = report
        self.partial = partial
        self.batch_size = batch_size
        self.max_errors = max_errors
        self.progress = progress
        self.lookups = _Lookups()
        self.content_type = ContentType.objects.get_for_model(CI, for_concrete_model=False)
        self.seen_cis: dict[tuple, int] = {}
        self.seen_relationships: dict[tuple, int] = {}
        self.lock = connection.features.has_select_for_update
        self.copy = connection.vendor == "postgresql"
        self.source: _Source | None = None

    # errors

    def reject(self, line: int | None, field_name: str | None, reason: str) -> None:
        self.report.errors.append(RowError(line, field_name, reason))
        if line is not None:
            self.report.rejected_lines.add(line)
        if len(self.report.errors) >= self.max_errors:
            raise _TooManyErrors

    # existing CIs

    def _existing(self, keys: list[tuple]) -> dict[tuple, CI]:
        """The CIs holding these identity (or number) keys, by key."""
        serials: dict[int, set[str]] = {}
        names: dict[int, set[str]] = {}
        numbers: set[str] = set()
        for key in keys:
            if key[0] == "number":
                numbers.add(key[1])
            elif key[1] == "serial":
                serials.setdefault(key[0], set()).add(key[2])
            else:
                names.setdefault(key[0], set()).add(key[2])
        condition = Q(pk__in=[])
        for class_id, values in serials.items():
            condition |= Q(ci_class_id=class_id, serial__in=values)
        for class_id, values in names.items():
            condition |= Q(ci_class_id=class_id, serial="", name__in=values)
        if numbers:
            condition |= Q(number__in=numbers)
        found: dict[tuple, CI] = {}
        if not (serials or names or numbers):
            return found
        cis = CI.objects.filter(condition).order_by("pk")
        if self.lock:
            cis = cis.select_for_update()
        for ci in cis:
            self.lookups.attach(ci)
            found.setdefault(("number", ci.number), ci)
            found.setdefault(_identity_key(ci.ci_class_id, ci.serial, ci.name, ci.site_id), ci)
        return found

    # CIs

    def import_cis(self, rows: Iterator[tuple[int, dict[str, Any], dict[str, Any]]]) -> None:
        batch: list[_CIRow] = []
        for line, record, attributes in rows:
            self.report.rows += 1
            try:
                row = _parse_ci(self.lookups, line, record, attributes)
            except _RowRejected as error:
                self.reject(line, error.field, error.reason)
                continue
            first = self.seen_cis.get(row.key)
            if first is not None:
                rule = "class + serial" if row.key[1] == "serial" else "class + name + site"
                self.reject(
                    line,
                    "serial" if row.key[1] == "serial" else "name",
                    f"duplicate identity ({rule}) of line {first} in this file",
                )
                continue
            self.seen_cis[row.key] = line
            batch.append(row)
            if len(batch) >= self.batch_size:
                self._ci_batch(batch)
                batch = []
        if batch:
            self._ci_batch(batch)

    def _ci_batch(self, batch: list[_CIRow]) -> None:
        existing = self._existing([row.key for row in batch])
        creates: list[tuple[_CIRow, CI]] = []
        updates: list[tuple[_CIRow, CI, dict, tuple | None]] = []
        for row in batch:
            try:
                ci = existing.get(row.key)
                if ci is None:
                    creates.append((row, self._prepare_create(row)))
                else:
                    prepared = self._prepare_update(row, ci)
                    if prepared is None:
                        self.report.unchanged += 1
                    else:
                        updates.append((row, ci, *prepared))
            except DomainError as error:
                self.reject(row.line, error.field, error.message)
        try:
            with transaction.atomic():
                self._write_cis(creates, updates)
        except (IntegrityError, DatabaseError):
            self._replay_cis(batch, creates, updates)
        else:
            self.report.created += len(creates)
            self.report.updated += len(updates)
        self._tick()

    def _attributes(self, row: _CIRow, current: dict[str, Any]) -> dict[str, Any]:
        result = dict(current)
        for name, value in row.attributes.items():
            blank = value is None or (isinstance(value, str) and not value.strip())
            if blank:
                result.pop(name, None)
            else:
                result[name] = value
        return result

    def _prepare_create(self, row: _CIRow) -> CI:
        ci = CI(ci_class=row.ci_class, status=row.status or CIStatus.IN_OPERATION)
        values = {**row.values, "attributes": self._attributes(row, {})}
        services._clean_values(ci, values)
        services._require_country_allowed(ci.country_id, self.actor)
        return ci

    def _prepare_update(self, row: _CIRow, ci: CI) -> tuple[dict, tuple | None] | None:
        try:
            services._require_visible(ci, self.actor)
        except NotFound:
            raise ValidationFailed(
                f"{ci.number} has this identity and you may not manage CIs of its country",
                field="country",
            ) from None
        before = services._snapshot(ci)
        old_status, old_country_id = ci.status, ci.country_id
        if row.status is not None and row.status != ci.status:
            CI_LIFECYCLE.apply(ci, row.status)
        values = dict(row.values)
        values["attributes"] = self._attributes(row, ci.attributes or {})
        services._clean_values(ci, values)
        if ci.country_id != old_country_id:
            services._require_country_allowed(ci.country_id, self.actor)
        after = services._snapshot(ci)
        if before == after:
            return None
        changes = {
            key: (before.get(key), after.get(key))
            for key in sorted(before.keys() | after.keys())
            if key not in {"status", "last_seen_at"} and before.get(key) != after.get(key)
        }
        status = (old_status, ci.status) if ci.status != old_status else None
        return changes, status

    def _write_cis(
        self, creates: list[tuple[_CIRow, CI]], updates: list[tuple[_CIRow, CI, dict, tuple | None]]
    ) -> None:
        entries: list[JournalEntry] = []
        if creates:
            numbers = next_values(NUMBER_PREFIX, len(creates))
            new = []
            for (_row, ci), value in zip(creates, numbers, strict=True):
                ci.number = f"{NUMBER_PREFIX}{value:07d}"
                new.append(ci)
            if self.copy:
                _copy_new(CI, new)
            else:
                CI.objects.bulk_create(new)
            entries += [self._entry(ci, JournalKind.CREATED, new_value=_text(ci)) for ci in new]
        if updates:
            now = timezone.now()
            cis = []
            for _row, ci, changes, status in updates:
                ci.version += 1
                ci.updated_at = now
                cis.append(ci)
                entries += [
                    self._entry(
                        ci,
                        JournalKind.FIELD_CHANGE,
                        field=name,
                        old_value=_text(old),
                        new_value=_text(new),
                    )
                    for name, (old, new) in changes.items()
                    if _text(old) != _text(new)
                ]
                if status is not None:
                    entries.append(
                        self._entry(
                            ci,
                            JournalKind.STATE_CHANGE,
                            field="status",
                            old_value=_text(status[0]),
                            new_value=_text(status[1]),
                        )
                    )
            fields = [*services.EDITABLE_FIELDS, "version", "updated_at"]
            CI.objects.bulk_update(cis, fields, batch_size=200)
        self._journal(entries)

    def _journal(self, entries: list[JournalEntry]) -> None:
        if self.copy:
            _copy_new(JournalEntry, entries, with_ids=False)
        else:
            JournalEntry.objects.bulk_create(entries, batch_size=2000)

    def _entry(self, record, kind: str, **values) -> JournalEntry:
        return _entry(record, kind, self.actor, None, **values)

    def _replay_cis(self, batch, creates, updates) -> None:
        """A batch failed in the database: redo its rows one by one through the services."""
        for row, _ci in creates:
            try:
                with transaction.atomic():
                    values = {**row.values, "attributes": self._attributes(row, {})}
                    values.pop("name")
                    values.pop("ci_class")
                    services.create_ci(
                        actor=self.actor,
                        name=row.values["name"],
                        ci_class=row.ci_class,
                        status=row.status or CIStatus.IN_OPERATION,
                        **values,
                    )
                self.report.created += 1
            except (DomainError, IntegrityError, DatabaseError) as error:
                self.reject(
                    row.line, getattr(error, "field", None), getattr(error, "message", str(error))
                )
        for row, ci, _changes, _status in updates:
            try:
                with transaction.atomic():
                    fresh = CI.objects.get(pk=ci.pk)
                    values = {
                        **row.values,
                        "attributes": self._attributes(row, fresh.attributes or {}),
                    }
                    if row.status is not None:
                        values["status"] = row.status
                    services.update_ci(fresh, actor=self.actor, version=None, **values)
                self.report.updated += 1
            except (DomainError, IntegrityError, DatabaseError) as error:
                self.reject(
                    row.line, getattr(error, "field", None), getattr(error, "message", str(error))
                )

    # relationships

    def import_relationships(self, rows: Iterator[tuple[int, dict[str, Any]]]) -> None:
        batch: list[_RelationshipRow] = []
        for line, record in rows:
            self.report.rows += 1
            try:
                batch.append(_parse_relationship(self.lookups, line, record))
            except _RowRejected as error:
                self.reject(line, error.field, error.reason)
                continue
            if len(batch) >= self.batch_size:
                self._relationship_batch(batch)
                batch = []
        if batch:
            self._relationship_batch(batch)

    def _relationship_batch(self, batch: list[_RelationshipRow]) -> None:
        cis = self._existing([r.source.key for r in batch] + [r.target.key for r in batch])
        resolved: list[tuple[_RelationshipRow, CI, CI]] = []
        for row in batch:
            source, target = cis.get(row.source.key), cis.get(row.target.key)
            try:
                for side, ci, reference in (
                    ("source", source, row.source),
                    ("target", target, row.target),
                ):
                    if ci is None or (
                        self.actor is not None and not scope_of(self.actor).allows(ci.country_id)
                    ):
                        raise _RowRejected(
                            side, f"{side} CI not found: no {reference.describe()} in the CMDB"
                        )
                if source.pk == target.pk:
                    raise _RowRejected(
                        "target", f"a CI cannot be related to itself ({source.number})"
                    )
            except _RowRejected as error:
                self.reject(row.line, error.field, error.reason)
                continue
            resolved.append((row, source, target))
        pairs = {(s.pk, t.pk) for _, s, t in resolved}
        existing = set()
        if pairs:
            existing = set(
                Relationship.objects.filter(
                    source_id__in={s for s, _ in pairs}, target_id__in={t for _, t in pairs}
                ).values_list("source_id", "target_id", "type")
            )
        plain: list[tuple[_RelationshipRow, CI, CI]] = []
        containment: list[tuple[_RelationshipRow, CI, CI]] = []
        for row, source, target in resolved:
            key = (source.pk, target.pk, row.type)
            first = self.seen_relationships.get(key)
            if first is not None:
                self.reject(row.line, "target", f"the same relationship is on line {first}")
                continue
            self.seen_relationships[key] = row.line
            if key in existing:
                self.report.relationships_unchanged += 1
            elif row.type == RelationshipType.CONTAINS:
                containment.append((row, source, target))
            else:
                plain.append((row, source, target))
        try:
            with transaction.atomic():
                self._write_relationships(plain)
            self.report.relationships_created += len(plain)
        except (IntegrityError, DatabaseError):
            for item in plain:
                self._relationship_by_service(*item)
        for row, source, target in containment:
            if services._contains_path(target.pk, source.pk):
                self.reject(
                    row.line,
                    "target",
                    f"{target.number} already contains {source.number}: containment "
                    "cannot form a cycle",
                )
                continue
            self._relationship_by_service(row, source, target)
        self._tick()

    def _write_relationships(self, items: list[tuple[_RelationshipRow, CI, CI]]) -> None:
        if not items:
            return
        Relationship.objects.bulk_create(
            [
                Relationship(
                    source=source,
                    target=target,
                    type=row.type,
                    discovery_source=row.discovery_source,
                )
                for row, source, target in items
            ]
        )
        entries = []
        for row, source, target in items:
            entries.append(
                self._entry(
                    source,
                    JournalKind.FIELD_CHANGE,
                    field="relationships",
                    new_value=services._describe(row.type, target),
                )
            )
            entries.append(
                self._entry(
                    target,
                    JournalKind.FIELD_CHANGE,
                    field="relationships",
                    new_value=services._describe(row.type, source, inverse=True),
                )
            )
        self._journal(entries)

    def _relationship_by_service(self, row: _RelationshipRow, source: CI, target: CI) -> None:
        try:
            with transaction.atomic():
                services.add_relationship(
                    actor=self.actor,
                    source=source,
                    target=target,
                    type=row.type,
                    discovery_source=row.discovery_source,
                )
            self.report.relationships_created += 1
        except (DomainError, IntegrityError, DatabaseError) as error:
            self.reject(
                row.line, getattr(error, "field", None), getattr(error, "message", str(error))
            )

    def _tick(self) -> None:
        self.report.bytes_read = self.source.bytes_read if self.source is not None else 0
        if self.progress is not None:
            self.progress(self.report)


def _copy_new(model, objects: list, *, with_ids: bool = True) -> None:
    """PostgreSQL's fast path for ``bulk_create``: ids from the sequence, rows by COPY.

    Writes the same column values ``bulk_create`` would (``auto_now`` fields are set to
    now, JSON columns as jsonb); the objects get their primary keys when ``with_ids``.
    """
    from psycopg.types.json import Jsonb

    if not objects:
        return
    quote = connection.ops.quote_name
    table = model._meta.db_table
    fields = [f for f in model._meta.concrete_fields if with_ids or not f.primary_key]
    now = timezone.now()
    with connection.cursor() as cursor:
        if with_ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, model._meta.pk.column, len(objects)],
            )
            for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
                obj.pk = pk
        for obj in objects:
            for f in fields:
                if getattr(f, "auto_now", False):
                    setattr(obj, f.attname, now)
            obj._state.adding = False
            obj._state.db = connection.alias
        columns = ", ".join(quote(f.column) for f in fields)
        json_columns = {i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"}
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy,
        ):
            for obj in objects:
                row = [getattr(obj, f.attname) for f in fields]
                for index in json_columns:
                    row[index] = Jsonb(row[index])
                copy.write_row(row)


def _csv_records(
    kind: str, columns: list[str], rows: Iterator[tuple[int, list[str]]], importer: _Importer
):
    width = len(columns)
    for line, cells in rows:
        if len(cells) != width:
            importer.report.rows += 1
            importer.reject(
                line, None, f"expected {width} fields as in the header, found {len(cells)}"
            )
            continue
        record = dict(zip(columns, cells, strict=True))
        if kind == "cis":
            attributes = {
                c[len(ATTRIBUTE_PREFIX) :]: record.pop(c)
                for c in columns
                if c.startswith(ATTRIBUTE_PREFIX)
            }
            record.pop("number", None)
            yield line, record, attributes
        else:
            yield (
                line,
                {
                    "type": record.get("type"),
                    "discovery_source": record.get("discovery_source"),
                    "source": {p: record.get(f"source_{p}") for p in REFERENCE_PARTS},
                    "target": {p: record.get(f"target_{p}") for p in REFERENCE_PARTS},
                },
            )


def _json_cis(document: _JSONDocument, importer: _Importer):
    known = set(CI_COLUMNS) | set(INFORMATIONAL_COLUMNS) | {"attributes"}
    for line, item in document.items("cis"):
        if not isinstance(item, dict):
            importer.report.rows += 1
            importer.reject(line, None, "expected an object for a CI")
            continue
        unknown = sorted(
            str(k)[:40] for k in item if k not in known and not str(k).startswith(ATTRIBUTE_PREFIX)
        )
        attributes = item.get("attributes") or {}
        if unknown or not isinstance(attributes, dict):
            importer.report.rows += 1
            importer.reject(
                line,
                unknown[0] if unknown else "attributes",
                f"unknown key {unknown[0]!r}"
                if unknown
                else "attributes must be an object of name → value",
            )
            continue
        attributes = {str(k): v for k, v in attributes.items()}
        attributes.update(
            {
                k[len(ATTRIBUTE_PREFIX) :]: v
                for k, v in item.items()
                if k.startswith(ATTRIBUTE_PREFIX)
            }
        )
        record = {k: v for k, v in item.items() if k in CI_COLUMNS}
        record.setdefault("class", "")
        record.setdefault("name", "")
        yield line, record, attributes


def _json_reference(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"number": value}
    if isinstance(value, dict):
        return {part: value.get(part) for part in REFERENCE_PARTS}
    return {}


def _json_relationships(document: _JSONDocument, importer: _Importer):
    for line, item in document.items("relationships"):
        if not isinstance(item, dict):
            importer.report.rows += 1
            importer.reject(line, None, "expected an object for a relationship")
            continue
        yield (
            line,
            {
                "type": item.get("type"),
                "discovery_source": item.get("discovery_source"),
                "source": _json_reference(item.get("source")),
                "target": _json_reference(item.get("target")),
            },
        )


def import_file(
    stream: IO[bytes],
    *,
    actor=None,
    fmt: str | None = None,
    filename: str = "",
    dry_run: bool = False,
    partial: bool = False,
    batch_size: int = BATCH_SIZE,
    max_errors: int = MAX_ERRORS,
    progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import one CSV or JSON file of CIs or relationships; returns the report.

    ``stream`` is a binary file object. Raises :class:`ImportFileError` when the file as a
    whole is unusable (nothing is written), ``PermissionDenied`` when ``actor`` may not
    change the CMDB.
    """
    services._require_staff(actor)
    started = time.monotonic()
    head = stream.read(SNIFF_BYTES)
    fmt = _sniff(head, fmt, filename)
    report = ImportReport(format=fmt, dry_run=dry_run, partial=partial)
    source = _Source(head, stream)
    try:
        with transaction.atomic():
            importer = _Importer(
                actor=actor,
                report=report,
                partial=partial,
                batch_size=batch_size,
                max_errors=max_errors,
                progress=progress,
            )
            importer.source = source
            try:
                if fmt == "csv":
                    text = io.TextIOWrapper(
                        io.BufferedReader(source, 1 << 16), encoding="utf-8-sig", newline=""
                    )
                    cells, rows = _csv_rows(text)
                    report.kind, columns = _header(cells)
                    records = _csv_records(report.kind, columns, rows, importer)
                    if report.kind == "cis":
                        importer.import_cis(records)
                    else:
                        importer.import_relationships(records)
                else:
                    document = _JSONDocument(_read_json(source))
                    keys = [k for k in _JSONDocument.KEYS if k in document.arrays]
                    report.kind = keys[0] if len(keys) == 1 else "mixed"
                    importer.import_cis(_json_cis(document, importer))
                    importer.import_relationships(_json_relationships(document, importer))
            except _TooManyErrors:
                report.stopped_early = True
                report.errors.append(
                    RowError(
                        None,
                        None,
                        f"stopped after {max_errors} errors; the rest of the file was not read",
                    )
                )
            report.errors.sort(key=lambda e: (e.line is None, e.line or 0))
            if dry_run or (report.errors and not partial):
                raise _Rollback
            report.committed = True
    except _Rollback:
        report.committed = False
    report.seconds = time.monotonic() - started
    return report


def _read_json(source: _Source) -> str:
    data = bytearray()
    while True:
        chunk = source.read(1 << 20)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_JSON_BYTES:
            raise ImportFileError(
                f"a JSON import file may hold at most "
                f"{MAX_JSON_BYTES // (1024 * 1024)} MB; use CSV for more"
            )
    try:
        return bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ImportFileError(
            f"not UTF-8 text (invalid byte at offset {error.start})", line=line
        ) from None
