"""``itsmo import servicenow-events FILE``: import a ServiceNow incident event log."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from itsmo.imports import servicenow
from itsmo.imports.common import ImportFileError, Progress, report_path


class Command(BaseCommand):
    help = (
        "Import a ServiceNow incident event log (CSV, gzip or plain; one row per audit event; "
        "docs/importing.md). Idempotent: a second run skips unchanged incidents and updates "
        "changed ones. All or nothing unless --partial. Exit status 1 when rows were rejected "
        "(without --partial), 2 when the file itself is unusable."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the event log (.csv or .csv.gz)")
        parser.add_argument(
            "--dry-run", action="store_true", help="check everything, write nothing"
        )
        parser.add_argument(
            "--partial", action="store_true", help="load the good incidents, report the bad rows"
        )
        parser.add_argument(
            "--country",
            default=servicenow.DEFAULT_COUNTRY,
            help="ISO code of the country the records belong to (default: %(default)s; "
            "created when missing)",
        )
        parser.add_argument(
            "--region", help="region code of that country (used when the country is created)"
        )
        parser.add_argument(
            "--time-zone",
            help="zone of the file's wall-clock times (default: the country's time zone)",
        )
        parser.add_argument(
            "--report",
            metavar="PATH",
            help="where to write the report CSV (default: FILE.report.csv next to the input; "
            "required when the input's folder is read-only)",
        )
        parser.add_argument("--batch-size", type=int, default=servicenow.BATCH_SIZE)
        parser.add_argument("--max-errors", type=int, default=servicenow.MAX_ERRORS)
        parser.add_argument(
            "--no-index", action="store_true", help="do not update the search index"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress line")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            target = report_path(path, options["report"])
        except ImportFileError as error:
            raise CommandError(error.message) from None
        progress = Progress(
            self.stderr._out, enabled=not options["no_progress"] and options["verbosity"] > 0
        )
        settings = servicenow.Options(
            country=options["country"],
            region=options["region"],
            time_zone=options["time_zone"],
            dry_run=options["dry_run"],
            partial=options["partial"],
            batch_size=options["batch_size"],
            max_errors=options["max_errors"],
            index=not options["no_index"],
        )
        try:
            report = servicenow.import_events(path, settings, progress=progress)
        except ImportFileError as error:
            self.stderr.write(f"{path}: {error.message}")
            sys.exit(2)
        for error in report.errors[:50]:
            where = f"line {error.line}" if error.line else "file"
            column = f" [{error.field}]" if error.field else ""
            self.stderr.write(f"{path}: {where}{column}: {error.record}: {error.reason}")
        if len(report.errors) > 50:
            self.stderr.write(f"... {len(report.errors) - 50} more errors in the report")
        report.write_csv(target)
        self.stdout.write(report.summary())
        self.stdout.write(f"report: {target}")
        if report.errors and not options["partial"]:
            sys.exit(1)
