"""``itsmo import bpic2014 DIR``: import the Rabobank BPI Challenge 2014 exports."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from itsmo.imports import bpic2014
from itsmo.imports.command import ImportCommand
from itsmo.imports.common import ImportFileError, report_path


class Command(ImportCommand):
    help = (
        "Import the BPIC 2014 exports of DIR: detail_change, detail_incident and "
        "detail_interaction (.csv.gz or .csv; docs/importing.md). Idempotent: a second run "
        "skips unchanged records and updates changed ones. All or nothing unless --partial. "
        "Exit status 1 when rows were rejected (without --partial), 2 when a file is unusable."
    )
    importer = bpic2014
    country_help = (
        "ISO code of the country the records belong to (default: %(default)s, "
        "created as the Netherlands when missing)"
    )
    time_zone_help = "zone of the files' wall-clock times (default: the country's time zone)"
    report_help = (
        "where to write the report CSV (default: DIR/bpic2014.report.csv; "
        "required when DIR is read-only)"
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="the folder holding the BPIC 2014 files")
        super().add_arguments(parser)

    def handle(self, *args, **options):
        folder = Path(options["directory"])
        if not folder.is_dir():
            raise CommandError(f"{folder}: no such directory")
        try:
            files = bpic2014.find_files(folder)
            target = report_path(folder / "bpic2014", options["report"])
        except ImportFileError as error:
            raise CommandError(error.message) from None
        settings, progress = self.settings(options), self.progress(options)
        self.run_import(
            folder,
            target,
            options,
            lambda: bpic2014.import_directory(folder, settings, progress=progress, files=files),
        )
