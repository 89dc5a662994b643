"""``itsmo import bpic2014 DIR``: import the Rabobank BPI Challenge 2014 exports."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from itsmo.imports import bpic2014
from itsmo.imports.common import ImportFileError, Progress, report_path


class Command(BaseCommand):
    help = (
        "Import the BPIC 2014 exports of DIR: detail_change, detail_incident and "
        "detail_interaction (.csv.gz or .csv; docs/importing.md). Idempotent: a second run "
        "skips unchanged records and updates changed ones. All or nothing unless --partial. "
        "Exit status 1 when rows were rejected (without --partial), 2 when a file is unusable."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="the folder holding the BPIC 2014 files")
        parser.add_argument(
            "--dry-run", action="store_true", help="check everything, write nothing"
        )
        parser.add_argument(
            "--partial", action="store_true", help="load the good records, report the bad rows"
        )
        parser.add_argument(
            "--country",
            default=bpic2014.DEFAULT_COUNTRY,
            help="ISO code of the country the records belong to (default: %(default)s, "
            "created as the Netherlands when missing)",
        )
        parser.add_argument("--region", help="region code used when the country is created")
        parser.add_argument(
            "--time-zone",
            help="zone of the files' wall-clock times (default: the country's time zone)",
        )
        parser.add_argument(
            "--report",
            metavar="PATH",
            help="where to write the report CSV (default: DIR/bpic2014.report.csv; "
            "required when DIR is read-only)",
        )
        parser.add_argument("--batch-size", type=int, default=bpic2014.BATCH_SIZE)
        parser.add_argument("--max-errors", type=int, default=bpic2014.MAX_ERRORS)
        parser.add_argument(
            "--no-index", action="store_true", help="do not update the search index"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress line")

    def handle(self, *args, **options):
        folder = Path(options["directory"])
        if not folder.is_dir():
            raise CommandError(f"{folder}: no such directory")
        try:
            files = bpic2014.find_files(folder)
            target = report_path(folder / "bpic2014", options["report"])
        except ImportFileError as error:
            raise CommandError(error.message) from None
        progress = Progress(
            self.stderr._out, enabled=not options["no_progress"] and options["verbosity"] > 0
        )
        settings = bpic2014.Options(
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
            report = bpic2014.import_directory(folder, settings, progress=progress, files=files)
        except ImportFileError as error:
            self.stderr.write(f"{folder}: {error.message}")
            sys.exit(2)
        for error in report.errors[:50]:
            where = f"line {error.line}" if error.line else "file"
            column = f" [{error.field}]" if error.field else ""
            self.stderr.write(f"{folder}: {where}{column}: {error.record}: {error.reason}")
        if len(report.errors) > 50:
            self.stderr.write(f"... {len(report.errors) - 50} more errors in the report")
        report.write_csv(target)
        self.stdout.write(report.summary())
        self.stdout.write(f"report: {target}")
        if report.errors and not options["partial"]:
            sys.exit(1)
