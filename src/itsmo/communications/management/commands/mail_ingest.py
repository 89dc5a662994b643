"""``itsmo mail ingest FILE.eml`` (or ``-`` for standard input, for piping from an MTA)."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from itsmo.communications import intake


class Command(BaseCommand):
    help = (
        "Ingest e-mail messages (RFC 822 files, or - for standard input): a new message opens "
        "an incident, a reply comments on one; unreadable messages are quarantined."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="message files (.eml), or - for stdin")

    def handle(self, *args, files, **options):
        quarantined = 0
        for name in files:
            if name == "-":
                raw = sys.stdin.buffer.read()
            else:
                try:
                    raw = Path(name).read_bytes()
                except OSError as error:
                    raise CommandError(f"{name}: {error.strerror}") from error
            row = intake.ingest(raw, source="file" if name != "-" else "stdin")
            state = "duplicate" if row.is_duplicate else row.status
            detail = row.reference or row.reason
            self.stdout.write(f"{name}: {state} {row.action} {detail}".rstrip())
            quarantined += row.status == "quarantined" and not row.is_duplicate
        if quarantined:
            # Exit 75 (EX_TEMPFAIL) would make an MTA bounce or retry; the message is kept
            # in the quarantine, so the delivery itself succeeded.
            self.stderr.write(f"{quarantined} message(s) quarantined")
