"""``itsmo cmdb import FILE``: import CIs or relationships from CSV or JSON."""

from __future__ import annotations

import os
import sys
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from itsmo.cmdb import importer
from itsmo.core.errors import DomainError


class Progress:
    """A one-line progress bar on stderr: bytes done, rows, rows per second."""

    WIDTH = 30

    def __init__(self, stream, total_bytes: int, enabled: bool) -> None:
        self.stream = stream
        self.total = total_bytes
        self.enabled = enabled
        self.started = time.monotonic()
        self.shown = 0.0
        # Redrawn in place on a terminal; elsewhere (logs, pipes) only the final line.
        self.live = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, report: importer.ImportReport, *, final: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not final and (not self.live or now - self.shown < 0.2)):
            return
        self.shown = now
        elapsed = max(now - self.started, 1e-6)
        share = min(report.bytes_read / self.total, 1.0) if self.total else 1.0
        if final:
            share = 1.0
        filled = int(share * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        start = "\r" if self.live else ""
        self.stream.write(
            f"{start}[{bar}] {share:4.0%} {report.rows:>10,} rows "
            f"{report.rows / elapsed:>9,.0f} rows/s  {report.rejected:,} rejected"
        )
        if final:
            self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Import CIs or relationships from a CSV or JSON file (formats: docs/cmdb-import.md). "
        "CIs are upserted by identity (class + serial, else class + name + site). All or "
        "nothing unless --partial. Exit status 1 when rows were rejected (without --partial), "
        "2 when the file itself is unusable."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV or JSON file ('-' for standard input)")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate everything, write nothing"
        )
        parser.add_argument(
            "--partial", action="store_true", help="load the good rows and list the bad ones"
        )
        parser.add_argument(
            "--format",
            choices=["csv", "json"],
            help="default: from the file name, else from the content",
        )
        parser.add_argument(
            "--actor",
            metavar="USERNAME",
            help="import as this user (permissions, journal); default: system",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=importer.BATCH_SIZE,
            help="rows per batch (default: %(default)s)",
        )
        parser.add_argument(
            "--max-errors",
            type=int,
            default=importer.MAX_ERRORS,
            help="stop reading after this many errors (default: %(default)s)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        actor = None
        if options["actor"]:
            actor = get_user_model().objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(f"no user {options['actor']!r}")
        path = options["file"]
        if path == "-":
            stream, size, name = sys.stdin.buffer, 0, ""
        else:
            try:
                stream = open(path, "rb")  # noqa: SIM115 - closed below
            except OSError as error:
                raise CommandError(f"{path}: {error.strerror}") from None
            size, name = os.fstat(stream.fileno()).st_size, path
        progress = Progress(
            self.stderr._out, size, enabled=not options["no_progress"] and options["verbosity"] > 0
        )
        try:
            report = importer.import_file(
                stream,
                actor=actor,
                fmt=options["format"],
                filename=name,
                dry_run=options["dry_run"],
                partial=options["partial"],
                batch_size=options["batch_size"],
                max_errors=options["max_errors"],
                progress=progress,
            )
        except importer.ImportFileError as error:
            self.stderr.write(f"{path}: {error.message}")
            sys.exit(2)
        except DomainError as error:
            raise CommandError(error.message) from None
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
        progress(report, final=True)
        self._summary(path, report)
        if report.errors and not options["partial"]:
            sys.exit(1)

    def _summary(self, path: str, report: importer.ImportReport) -> None:
        for error in report.errors:
            where = f"line {error.line}" if error.line else "file"
            column = f" [{error.field}]" if error.field else ""
            self.stderr.write(f"{path}: {where}{column}: {error.reason}")
        if report.dry_run:
            outcome = "dry run: nothing written"
        elif report.committed:
            outcome = "written"
        else:
            outcome = "rolled back: nothing written (use --partial to load the good rows)"
        counts = f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}"
        if report.kind in ("relationships", "mixed"):
            counts += (
                f"; relationships created {report.relationships_created}, "
                f"unchanged {report.relationships_unchanged}"
            )
        self.stdout.write(
            f"{report.rows} rows in {report.seconds:.1f} s: {counts}; "
            f"rejected {report.rejected}. {outcome}."
        )
