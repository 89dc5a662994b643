"""``itsmo search reindex [--model incidents|knowledge|problems]``: rebuild the full-text
documents."""

from __future__ import annotations

import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from itsmo.search import services

MODELS = {
    "incidents": "incidents.Incident",
    "knowledge": "knowledge.Article",
    "problems": "problems.Problem",
}


class Command(BaseCommand):
    help = "Rebuild the full-text search documents (all searchable record types by default)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--model",
            action="append",
            choices=sorted(MODELS),
            help="record type to reindex (repeatable; default: all)",
        )
        parser.add_argument("--batch", type=int, default=2000, help="records per batch")

    def handle(self, *args, model, batch, verbosity, **options):
        if batch < 1:
            raise CommandError("--batch must be positive")
        for name in model or sorted(MODELS):
            started = time.perf_counter()
            with transaction.atomic():
                count = services.reindex(apps.get_model(MODELS[name]), batch=batch)
            elapsed = time.perf_counter() - started
            if verbosity:
                self.stdout.write(f"{name}: {count} documents in {elapsed:.1f}s")
