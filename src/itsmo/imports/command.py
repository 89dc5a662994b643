"""What the ``itsmo import …`` commands share: the options every importer takes, the
importer's ``Options`` built from them, and the report at the end (errors on standard
error, the CSV, the summary, the exit status)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

from django.core.management.base import BaseCommand

from .common import ImportFileError, Progress

#: Rejected rows printed on standard error; the rest are in the report CSV.
SHOWN_ERRORS = 50


class ImportCommand(BaseCommand):
    """A command running one importer module (``DEFAULT_COUNTRY``, ``BATCH_SIZE``,
    ``MAX_ERRORS``, ``Options``); subclasses add their input argument and ``handle``."""

    importer: ModuleType
    #: Help texts that name the subclass's input.
    partial_help = "load the good records, report the bad rows"
    country_help = "ISO code of the country the records belong to (default: %(default)s)"
    region_help = "region code used when the country is created"
    time_zone_help = "zone of the wall-clock times (default: the country's time zone)"
    report_help = "where to write the report CSV"

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="check everything, write nothing"
        )
        parser.add_argument("--partial", action="store_true", help=self.partial_help)
        parser.add_argument(
            "--country", default=self.importer.DEFAULT_COUNTRY, help=self.country_help
        )
        parser.add_argument("--region", help=self.region_help)
        parser.add_argument("--time-zone", help=self.time_zone_help)
        parser.add_argument("--report", metavar="PATH", help=self.report_help)
        parser.add_argument("--batch-size", type=int, default=self.importer.BATCH_SIZE)
        parser.add_argument("--max-errors", type=int, default=self.importer.MAX_ERRORS)
        parser.add_argument(
            "--no-index", action="store_true", help="do not update the search index"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress line")

    def progress(self, options) -> Progress:
        return Progress(
            self.stderr._out, enabled=not options["no_progress"] and options["verbosity"] > 0
        )

    def settings(self, options):
        return self.importer.Options(
            country=options["country"],
            region=options["region"],
            time_zone=options["time_zone"],
            dry_run=options["dry_run"],
            partial=options["partial"],
            batch_size=options["batch_size"],
            max_errors=options["max_errors"],
            index=not options["no_index"],
        )

    def run_import(self, source: Path, target: Path, options, run) -> None:
        """``run()`` imports and returns the report; it is printed and written to
        ``target``. Exit status 2 for an unusable input, 1 for rejected rows (without
        ``--partial``)."""
        try:
            report = run()
        except ImportFileError as error:
            self.stderr.write(f"{source}: {error.message}")
            sys.exit(2)
        for error in report.errors[:SHOWN_ERRORS]:
            where = f"line {error.line}" if error.line else "file"
            column = f" [{error.field}]" if error.field else ""
            self.stderr.write(f"{source}: {where}{column}: {error.record}: {error.reason}")
        if len(report.errors) > SHOWN_ERRORS:
            self.stderr.write(f"... {len(report.errors) - SHOWN_ERRORS} more errors in the report")
        report.write_csv(target)
        self.stdout.write(report.summary())
        self.stdout.write(f"report: {target}")
        if report.errors and not options["partial"]:
            sys.exit(1)
