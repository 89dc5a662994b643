"""What every history import shares: opening the file, the report, the progress line.

Each source (``servicenow``, later ``bpic2014``) has its own module with its columns and its
mapping; they all read through :func:`open_csv`, count in an :class:`ImportReport` and print
through :class:`Progress`, so every import behaves the same way on bad input:

* the file type is told by its first bytes, never by its name: gzip (``1f 8b``) is read
  through :mod:`gzip` as a stream, a ZIP archive or any binary data is refused at once, and
  plain text is read as is; nothing is loaded whole;
* the header must hold the source's columns; a header that is one single column containing
  ``;``, a tab or ``|`` is reported as a wrong delimiter;
* a truncated or corrupt gzip stream, and text that is not in the expected encoding, are
  :class:`ImportFileError` naming the last line read.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

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
