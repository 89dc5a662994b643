"""``itsmo problems detect [--since DATE] [--until DATE]``: propose problem candidates."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from itsmo.core.errors import ValidationFailed
from itsmo.problems import services


def _moment(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option}: not a date (YYYY-MM-DD or ISO 8601): {value!r}") from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = (
        "Find incidents that keep coming back (same CI or service, similar symptom and text, "
        "inside a time window) and store them as problem candidates. Dismissed or accepted "
        "patterns are not proposed again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", help="first day to read (default: 90 days ago)")
        parser.add_argument("--until", help="read incidents opened before this (default: now)")
        parser.add_argument("--window", type=int, default=30, help="time window in days")
        parser.add_argument(
            "--min-incidents", type=int, default=3, help="incidents to make a pattern"
        )
        parser.add_argument("--similarity", default="tfidf", help="text similarity method")

    def handle(self, *args, since, until, window, min_incidents, similarity, verbosity, **options):
        if window < 1 or min_incidents < 2:
            raise CommandError("--window must be at least 1 and --min-incidents at least 2")
        started = time.perf_counter()
        try:
            found = services.detect_candidates(
                _moment(since, "--since"),
                _moment(until, "--until"),
                window=timedelta(days=window),
                min_incidents=min_incidents,
                similarity=similarity,
            )
        except (ValidationFailed, KeyError, ValueError) as error:
            raise CommandError(str(error)) from None
        elapsed = time.perf_counter() - started
        if verbosity:
            for candidate in found:
                what = candidate.ci or candidate.service or candidate.category or "—"
                self.stdout.write(
                    f"#{candidate.pk}  {candidate.incident_count:>4} incidents  "
                    f"{candidate.first_at:%Y-%m-%d} → {candidate.last_at:%Y-%m-%d}  "
                    f"score {candidate.score:.2f}  {what}  {', '.join(candidate.terms[:4])}"
                )
            self.stdout.write(f"{len(found)} candidate(s) proposed or updated in {elapsed:.1f}s")
