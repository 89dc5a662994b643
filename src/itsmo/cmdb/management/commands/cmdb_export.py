"""``itsmo cmdb export``: CIs (or their relationships) as CSV on standard output."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from itsmo.cmdb import export
from itsmo.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Export CIs as CSV in the import format (docs/cmdb-import.md) to standard output "
        "or --output. With --relationships, the relationships between the selected CIs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--class", dest="ci_class", help="CI class code")
        parser.add_argument("--country", help="ISO country code")
        parser.add_argument("--status", help="CI status")
        parser.add_argument("--site", help="site code")
        parser.add_argument(
            "--relationships",
            action="store_true",
            help="export the relationships between the selected CIs",
        )
        parser.add_argument("--output", "-o", help="write to this file instead of stdout")

    def handle(self, *args, **options):
        filters = {key: options[key] for key in ("ci_class", "country", "status", "site")}
        write = export.export_relationships if options["relationships"] else export.export_cis
        try:
            if options["output"]:
                with open(options["output"], "w", encoding="utf-8", newline="") as out:
                    count = write(out, **filters)
            else:
                count = write(self.stdout._out, **filters)
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stderr.write(f"{count} rows exported")
