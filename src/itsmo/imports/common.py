"""What every history import shares: opening the file, the report, the progress line, and
the bulk writing.

Each source (``servicenow``, ``bpic2014``) has its own module with its columns and its
mapping; they all read through :func:`open_text` and :func:`read_rows` (times through a
:class:`WallClockParser`), count in an :class:`ImportReport` and print through
:class:`Progress`, so every import behaves the same way on bad input:

* the file type is told by its first bytes, never by its name: gzip (``1f 8b``) is read
  through :mod:`gzip` as a stream, a ZIP archive or any binary data is refused at once, and
  plain text is read as is; nothing is loaded whole;
* the header must hold the source's columns; a header that is one single column containing
  ``;``, a tab or ``|`` is reported as a wrong delimiter;
* a truncated or corrupt gzip stream, and text that is not in the expected encoding, are
  :class:`ImportFileError` naming the last line read.

And they write alike (:class:`Importer`, :func:`run_import`): the whole import is one
transaction (rolled back for a dry run, or for rejected rows without ``partial``), records
are inserted a batch at a time through :func:`insert_rows` and :func:`copy_rows` (``COPY``
on PostgreSQL, ``bulk_create`` elsewhere), a record's source rows are fingerprinted so that a
re-import skips it when they are unchanged.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import time
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from itsmo.core.models import JournalEntry, JournalKind
from itsmo.incidents.models import Incident
from itsmo.organization.models import Country, Region

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
MISSING = "?"
DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}


class ImportFileError(Exception):
    """The file as a whole cannot be imported; ``line`` is where reading stopped."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.message = f"line {line}: {message}" if line else message
        self.line = line
        super().__init__(self.message)


class RowRejected(Exception):
    """One row (and the record it belongs to) cannot be imported."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass
class RowError:
    line: int | None
    record: str
    field: str | None
    reason: str


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0


@dataclass
class ImportReport:
    source: str
    path: str = ""
    dry_run: bool = False
    partial: bool = False
    rows: int = 0
    bytes_read: int = 0
    total_bytes: int = 0
    counts: dict[str, Counts] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    rejected_records: set[str] = field(default_factory=set)
    committed: bool = False
    seconds: float = 0.0

    def count(self, kind: str) -> Counts:
        if kind not in self.counts:
            self.counts[kind] = Counts()
        return self.counts[kind]

    def reject(self, line: int | None, record: str, field: str | None, reason: str) -> None:
        self.errors.append(RowError(line, record, field, reason))
        self.rejected_records.add(record)

    @property
    def rejected_rows(self) -> int:
        return len({error.line for error in self.errors if error.line})

    def summary(self) -> str:
        parts = [
            f"{kind} created {c.created}, updated {c.updated}, skipped {c.skipped}"
            for kind, c in self.counts.items()
        ]
        if self.dry_run:
            outcome = "dry run: nothing written"
        elif self.committed:
            outcome = "written"
        else:
            outcome = "rolled back: nothing written (use --partial to load the good records)"
        return (
            f"{self.rows} rows in {self.seconds:.1f} s ({self.rows / max(self.seconds, 1e-6):,.0f}"
            f" rows/s): {'; '.join(parts) or 'nothing'}; rejected {self.rejected_rows} rows "
            f"({len(self.rejected_records)} records). {outcome}."
        )

    def write_csv(self, path: Path) -> None:
        """``kind,record,line,field,created,updated,skipped,reason``: counts, then rejections."""
        with open(path, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(
                ["kind", "record", "line", "field", "created", "updated", "skipped", "reason"]
            )
            for kind, c in self.counts.items():
                writer.writerow(["count", kind, "", "", c.created, c.updated, c.skipped, ""])
            for error in self.errors:
                writer.writerow(
                    [
                        "rejected",
                        error.record,
                        error.line or "",
                        error.field or "",
                        "",
                        "",
                        "",
                        error.reason,
                    ]
                )
            state = "dry-run" if self.dry_run else "committed" if self.committed else "rolled-back"
            writer.writerow(["outcome", state, "", "", "", "", "", f"{self.rows} rows"])


def writable(folder: Path) -> bool:
    """Whether we may write in ``folder``: permission, and a folder whose mode has no write
    bit at all counts as read-only even for root (shared, read-only data folders)."""
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    return os.access(folder, os.W_OK) and bool(mode & 0o222)


def report_path(source: Path, explicit: str | None) -> Path:
    """Where the report CSV goes: ``--report``, else next to the input (``<name>.report.csv``).

    Raises :class:`ImportFileError` when the input's folder is not writable and no
    ``--report`` was given: said before anything is imported, not after.
    """
    if explicit:
        target = Path(explicit)
        folder = target.parent if str(target.parent) else Path(".")
        if not writable(folder):
            raise ImportFileError(f"cannot write the report to {target}: folder not writable")
        return target
    folder = source.resolve().parent
    target = folder / f"{source.name}.report.csv"
    if not writable(folder):
        raise ImportFileError(
            f"{folder} is read-only, so the report cannot be written next to the input: "
            "pass --report PATH"
        )
    return target


class CountingReader(io.RawIOBase):
    """Wraps the raw file to know how many (compressed) bytes were read: progress and ETA."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


def open_text(path: Path, *, encoding: str = "utf-8") -> tuple[IO[str], CountingReader]:
    """Open ``path`` as text, gunzipping when its first bytes say gzip; refuse binary data."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - the caller closes the returned stream
    except OSError as error:
        raise ImportFileError(f"{path}: {error.strerror}") from None
    head = raw.read(4096)
    raw.seek(0)
    counting = CountingReader(raw)
    buffered = io.BufferedReader(counting, 1 << 16)
    if head.startswith(GZIP_MAGIC):
        binary: IO[bytes] = gzip.GzipFile(fileobj=buffered, mode="rb")
    elif head.startswith(ZIP_MAGIC):
        raw.close()
        raise ImportFileError("this is a ZIP archive, not CSV: extract the CSV (or gzip it)")
    elif b"\x00" in head:
        raw.close()
        raise ImportFileError("this is binary data, not a CSV text file")
    else:
        binary = buffered
    # Undecodable bytes become surrogates, so that read_rows can name their exact line.
    text = io.TextIOWrapper(binary, encoding=encoding, errors="surrogateescape", newline="")
    return text, counting


def _check_text(row: list[str], line: int) -> None:
    try:
        "".join(row).encode("utf-8")
    except UnicodeEncodeError as error:
        byte = ord(error.object[error.start]) - 0xDC00
        raise ImportFileError(
            f"text is not UTF-8 (byte {byte:#x}): re-encode the file", line=line
        ) from None


def read_rows(
    text: IO[str], columns: tuple[str, ...], *, delimiter: str = ","
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line number, fields)`` after checking the header has ``columns`` in order.

    Extra columns at the end of the header are accepted only when their name is empty
    (trailing separators); rows may carry extra empty fields at their end. Stream errors
    (truncated gzip, bad encoding) become :class:`ImportFileError` naming the line.
    """
    reader = csv.reader(text, delimiter=delimiter)
    line = 0
    try:
        try:
            header = next(reader)
        except StopIteration:
            raise ImportFileError("the file is empty") from None
        line = reader.line_num
        _check_text(header, line)
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        if len(header) == 1:
            for other, name in DELIMITER_NAMES.items():
                if other != delimiter and other in header[0]:
                    raise ImportFileError(
                        f"wrong delimiter: the header is separated by {name}, "
                        f"expected {DELIMITER_NAMES.get(delimiter, repr(delimiter))}",
                        line=1,
                    )
        names = [name.strip() for name in header]
        while names and names[-1] == "":
            names.pop()
        if tuple(names) != columns:
            missing = [c for c in columns if c not in names]
            detail = (
                f"missing column(s) {', '.join(missing)}"
                if missing
                else f"unexpected column(s) {', '.join(n for n in names if n not in columns)}"
                if any(n not in columns for n in names)
                else "columns in another order"
            )
            raise ImportFileError(f"not a {len(columns)}-column export: {detail}", line=1)
        width = len(columns)
        for row in reader:
            line = reader.line_num
            if not row:
                continue  # a blank line
            if not "".join(row).isascii():
                _check_text(row, line)
            if len(row) > width and not any(value.strip() for value in row[width:]):
                row = row[:width]
            yield line, row
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise ImportFileError(
            f"the compressed file is truncated or corrupt after this line ({error})", line=line
        ) from None
    except csv.Error as error:
        raise ImportFileError(f"broken CSV: {error}", line=line + 1) from None


class Progress:
    """One line on stderr: share of the file, rows, rows/s and the ETA (redrawn on a tty)."""

    def __init__(self, stream, enabled: bool = True) -> None:
        self.stream = stream
        self.enabled = enabled
        self.started = time.monotonic()
        self.shown = 0.0
        self.live = hasattr(stream, "isatty") and stream.isatty()
        self.interval = 0.2 if self.live else 5.0

    def __call__(self, report: ImportReport, *, final: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not final and now - self.shown < self.interval):
            return
        self.shown = now
        elapsed = max(now - self.started, 1e-6)
        share = report.bytes_read / report.total_bytes if report.total_bytes else 0.0
        share = 1.0 if final else min(share, 1.0)
        rate = report.rows / elapsed
        eta = elapsed * (1 - share) / share if share > 0 else float("nan")
        bar = "#" * int(share * 30) + "-" * (30 - int(share * 30))
        eta_text = "done" if final else f"ETA {eta:5.0f} s" if eta == eta else "ETA    ? s"
        start = "\r" if self.live else ""
        end = "" if self.live and not final else "\n"
        self.stream.write(
            f"{start}[{bar}] {share:4.0%} {report.rows:>9,} rows "
            f"{rate:>8,.0f} rows/s  {eta_text}  {len(report.errors):,} errors{end}"
        )
        self.stream.flush()


class WallClockParser(ABC):
    """Wall-clock times of one zone -> aware UTC datetimes, cached by their text.

    A subclass reads its source's layouts in :meth:`parse` (naive local time, or
    :class:`RowRejected`); ``blanks`` are the texts that mean "no time". An hour repeated
    at the autumn change of daylight saving time is read with the first offset (``fold=0``).
    """

    blanks: tuple[str, ...] = ("",)

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.cache: dict[str, datetime] = {}

    def __call__(self, text: str, column: str, *, required: bool = False) -> datetime | None:
        text = text.strip()
        if text in self.blanks:
            if required:
                raise RowRejected(column, f"{column} is missing")
            return None
        hit = self.cache.get(text)
        if hit is not None:
            return hit
        value = self.parse(text, column).replace(tzinfo=self.zone).astimezone(UTC)
        if len(self.cache) > 200_000:  # bounded: memory must not grow with the file
            self.cache.clear()
        self.cache[text] = value
        return value

    @abstractmethod
    def parse(self, text: str, column: str) -> datetime:
        """The naive local time ``text`` holds, in the source's layouts; raises
        :class:`RowRejected` naming ``column`` when it is none of them."""


def describe(values: dict[str, Any]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in values.items() if v not in (None, ""))


def insert_rows(model, objects: list, *, assign_pks: bool = False) -> list:
    """Insert unsaved ``objects`` of ``model`` as fast as the database allows.

    PostgreSQL: one ``COPY … FROM STDIN`` (primary keys reserved beforehand from the table's
    sequence when ``assign_pks``); elsewhere ``bulk_create`` (which sets the keys). Values
    are written as the objects hold them, like ``bulk_create`` would: ``auto_now`` fields
    keep a value already set (history keeps its timestamps) and get now when empty.
    """
    from enum import Enum

    from django.db import connection
    from django.db.models import JSONField
    from django.utils import timezone

    from itsmo.core import config_cache

    if not objects:
        return objects
    config_cache.bulk_written(model)
    if connection.vendor != "postgresql":
        auto = [f for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
        saved = [f.auto_now for f in auto]
        for item in auto:
            item.auto_now = False
        try:
            now = timezone.now()
            for obj in objects:
                for item in auto:
                    if getattr(obj, item.attname) is None:
                        setattr(obj, item.attname, now)
            return model.objects.bulk_create(objects, batch_size=2000)
        finally:
            for item, value in zip(auto, saved, strict=True):
                item.auto_now = value
    meta = model._meta
    quote = connection.ops.quote_name
    if assign_pks:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(objects)],
            )
            for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
                obj.pk = pk
    fields = [f for f in meta.concrete_fields if not (f.primary_key and not assign_pks)]
    names = [f.attname for f in fields]
    json_names = {f.attname for f in fields if isinstance(f, JSONField)}
    auto_names = {f.attname for f in fields if getattr(f, "auto_now", False)}
    now = timezone.now()
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for obj in objects:
            row = []
            for name in names:
                value = getattr(obj, name)
                if name in json_names:
                    value = json.dumps(value)
                elif isinstance(value, Enum):
                    value = value.value
                elif value is None and name in auto_names:
                    value = now
                row.append(value)
            copy.write_row(row)
    return objects


def copy_rows(model, columns: tuple[str, ...], rows: list[list]) -> None:
    """Insert plain ``rows`` (values in ``columns`` order, attnames) without building model
    instances: ``COPY`` on PostgreSQL, ``bulk_create`` elsewhere. Values must be plain
    (str, int, datetime, None): no defaults, no ``auto_now`` are applied."""
    from django.db import connection

    from itsmo.core import config_cache

    if not rows:
        return
    config_cache.bulk_written(model)
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=2000
        )
        return
    meta = model._meta
    quote = connection.ops.quote_name
    names = ", ".join(quote(meta.get_field(name).column) for name in columns)
    sql = f"COPY {quote(meta.db_table)} ({names}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


# -- writing: what the importers do alike ----------------------------------------------------

#: The columns of the journal rows the importers write with :func:`copy_rows`, in order.
JOURNAL_COLUMNS = (
    "content_type_id",
    "object_id",
    "kind",
    "field",
    "old_value",
    "new_value",
    "body",
    "actor_id",
    "occurred_at",
    "recorded_at",
)


class Rollback(Exception):
    """Raised while importing to roll the whole import back (too many errors)."""


class RecordRejected(Exception):
    """A record of several rows cannot be imported; ``line`` is the row at fault."""

    def __init__(self, line: int, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.line, self.field, self.reason = line, field, reason


@dataclass
class ImportOptions:
    """The options every import takes (``itsmo import …``); each source's ``Options``
    subclass gives its own defaults (country, batch size, error limit)."""

    country: str
    region: str | None = None
    time_zone: str | None = None
    dry_run: bool = False
    partial: bool = False
    batch_size: int = 1000
    max_errors: int = 1000
    index: bool = True


def find_or_create_country(
    code: str,
    region_code: str | None,
    *,
    known: dict[str, tuple[str, str, str]],
    default_region: str,
) -> Country:
    """The country ``code`` the imported records belong to, created when missing: with the
    name, time zone and language ``known`` gives for it (else the code, UTC, English), in
    the region ``region_code`` (else ``default_region``), itself created when missing."""
    code = code.upper()
    country = Country.objects.select_related("region").filter(code=code).first()
    if country is not None:
        return country
    name, zone, language = known.get(code, (code, "UTC", "en"))
    region_code = region_code or default_region
    region = Region.objects.filter(code=region_code).first() or Region.objects.create(
        code=region_code, name=region_code.replace("-", " ").title()
    )
    return Country.objects.create(
        code=code, name=name, region=region, time_zone=zone, language=language
    )


def fingerprint(rows: Iterable[list[str]], salt: str) -> str:
    """SHA-1 of the fields of ``rows``, salted (with the mapping version): a re-import
    compares it with the stored one to skip a record whose source rows are unchanged."""
    digest = hashlib.sha1(salt.encode(), usedforsecurity=False)
    for row in rows:
        digest.update("\x1f".join(row).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()


def run_import(
    report: ImportReport,
    options: ImportOptions,
    progress: Callable[..., None],
    write: Callable[[], None],
) -> ImportReport:
    """Run ``write()`` as one transaction, committed unless it is a dry run, a row was
    rejected without ``options.partial``, or :class:`Rollback` was raised; then time the
    report and show the final progress line."""
    started = timezone.now()
    try:
        with transaction.atomic():
            write()
            if options.dry_run or (report.errors and not options.partial):
                raise Rollback
            report.committed = True
    except Rollback:
        pass
    report.seconds = (timezone.now() - started).total_seconds()
    progress(report, final=True)
    return report


class Importer:
    """The state and the writing steps both importers share; a subclass per source reads
    its files and maps its records.

    ``source`` is the ``external_source`` of the records the subclass imports, ``name`` how
    its journal entries name the source tool.
    """

    source: str
    name: str

    def __init__(self, options: ImportOptions, report: ImportReport, country: Country) -> None:
        self.options = options
        self.report = report
        self.country = country
        self.zone = ZoneInfo(options.time_zone or country.time_zone)
        self.now = timezone.now()
        self.incident_type = ContentType.objects.get_for_model(Incident)

    @property
    def writing(self) -> bool:
        """False once a row was rejected without ``partial``: everything will be rolled
        back, the rest is read only to report every error."""
        return not (self.report.errors and not self.options.partial)

    def _reject(self, line, record, field_, reason) -> None:
        self.report.reject(line, record, field_, reason)
        if len(self.report.errors) >= self.options.max_errors:
            self.report.reject(None, "", None, f"stopped after {len(self.report.errors)} errors")
            raise Rollback

    def _well_formed(
        self, line: int, row: list[str], width: int, key: str, ident: str, *, empty="empty"
    ) -> bool:
        """Whether ``row`` has ``width`` fields and its key (column ``key``, value ``ident``);
        if not, it is rejected (``empty`` says what a missing key looks like)."""
        if len(row) != width:
            self._reject(
                line,
                ident or f"line {line}",
                None,
                f"row has {len(row)} fields, expected {width}",
            )
            return False
        if not ident:
            self._reject(line, f"line {line}", key, f"missing key: {key} is {empty}")
            return False
        return True

    def _created_entries(self, model, objects) -> None:
        """The "created" journal entry of each new ``objects`` (CIs, problems, changes),
        inserted like the other bulk rows (``COPY`` on PostgreSQL)."""
        content_type = ContentType.objects.get_for_model(model)
        insert_rows(
            JournalEntry,
            [
                JournalEntry(
                    content_type=content_type,
                    object_id=o.pk,
                    kind=JournalKind.CREATED,
                    new_value=str(o),
                    occurred_at=self.now,
                    recorded_at=self.now,
                )
                for o in objects
            ],
        )

    def _refreshed_entry(self, pk: int, changed: list[str]) -> list:
        """The work note of an incident updated by a new import (a ``JOURNAL_COLUMNS`` row)."""
        note = f"Refreshed from a new {self.name} import" + (
            f" (changed: {', '.join(sorted(changed))})." if changed else "."
        )
        return [
            self.incident_type.pk,
            pk,
            str(JournalKind.WORK_NOTE),
            "",
            "",
            "",
            note,
            None,
            self.now,
            self.now,
        ]

    def _index_incidents(self, references: list[str]) -> None:
        """Refresh the search documents of the incidents imported with ``references``
        (unless ``--no-index``)."""
        pks = Incident.objects.filter(
            external_source=self.source, external_reference__in=references
        ).values_list("pk", flat=True)
        self._index(Incident, list(pks))

    def _index(self, model, pks: list[int]) -> None:
        """Write the search documents of these records of a searchable ``model`` (unless
        ``--no-index``)."""
        if not self.options.index or not pks:
            return
        from itsmo.search import services as search

        search.index_many(model, pks)
