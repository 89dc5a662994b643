"""``itsmo import servicenow-events FILE``: import a ServiceNow incident event log."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from itsmo.imports import servicenow
from itsmo.imports.command import ImportCommand
from itsmo.imports.common import ImportFileError, report_path


class Command(ImportCommand):
    help = (
        "Import a ServiceNow incident event log (CSV, gzip or plain; one row per audit event; "
        "docs/importing.md). Idempotent: a second run skips unchanged incidents and updates "
        "changed ones. All or nothing unless --partial. Exit status 1 when rows were rejected "
        "(without --partial), 2 when the file itself is unusable."
    )
    importer = servicenow
    partial_help = "load the good incidents, report the bad rows"
    country_help = (
        "ISO code of the country the records belong to (default: %(default)s; created when missing)"
    )
    region_help = "region code of that country (used when the country is created)"
    time_zone_help = "zone of the file's wall-clock times (default: the country's time zone)"
    report_help = (
        "where to write the report CSV (default: FILE.report.csv next to the input; "
        "required when the input's folder is read-only)"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the event log (.csv or .csv.gz)")
        super().add_arguments(parser)

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            target = report_path(path, options["report"])
        except ImportFileError as error:
            raise CommandError(error.message) from None
        settings, progress = self.settings(options), self.progress(options)
        self.run_import(
            path,
            target,
            options,
            lambda: servicenow.import_events(path, settings, progress=progress),
        )
