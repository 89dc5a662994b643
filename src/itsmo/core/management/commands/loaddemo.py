"""``itsmo loaddemo``: load the deterministic demo organisation."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from itsmo.core import demo


def login_lines(logins: list[tuple[str, str]], password: str | None) -> list[str]:
    if not logins:
        return []
    width = max(len(username) for username, _ in logins)
    lines = [f"  {username.ljust(width)}  {purpose}" for username, purpose in logins]
    shown = password or f"(see {demo.password_file()})"
    return [*lines, f"  password for all of them: {shown}"]


class Command(BaseCommand):
    help = (
        "Load the demo organisation: Sabores Unidos, a food & beverage company with 5 "
        "regions, 16 countries and their calendars, sites, business units, support groups "
        "and people in every role. The same --seed gives the same organisation. Refuses "
        "when the database already holds data, unless --reset: that erases the whole "
        "database first. The demo accounts' password is ITSMO_DEMO_PASSWORD, or generated "
        "once and saved in ITSMO_VAR_DIR/demo-password."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help="Random seed; the same seed gives the same names (default: %(default)s).",
        )
        parser.add_argument(
            "--scale",
            choices=demo.SCALES,
            default=demo.DEFAULT_SCALE,
            help="small (~60 people), medium (~200) or large (~1000) (default: %(default)s).",
        )
        parser.add_argument(
            "--only",
            action="append",
            metavar="STEP",
            help="Run only this step (and the steps it needs), e.g. --only accounts; repeat "
            "for several. Default: every step of every app.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Erase the WHOLE database first (drop every table, migrate again), then load "
            "the demo.",
        )

    def handle(self, *args, seed, scale, reset, only, verbosity, **options):
        if only:
            demo.discover()
            try:
                demo.with_dependencies(only)
            except ValueError as error:
                raise CommandError(str(error)) from error
        if demo.is_loaded():
            if not reset:
                raise CommandError(
                    "the database already holds an organisation (regions or users); "
                    "loaddemo does not mix demo data into it. Use --reset to erase the "
                    "whole database and load the demo again."
                )
            self.stdout.write("Erasing the database (--reset)…")
            demo.reset_database()
        password = demo.choose_password()
        log = self.stdout.write if verbosity > 1 else (lambda message: None)
        self.stdout.write(f"Loading the demo organisation (seed {seed}, scale {scale})…")
        started = time.perf_counter()
        try:
            ctx = demo.run(seed=seed, scale=scale, password=password, log=log, only=only)
        except ValueError as error:
            raise CommandError(str(error)) from error
        elapsed = time.perf_counter() - started
        self.stdout.write(self.summary(ctx, password, elapsed))

    def summary(self, ctx: demo.DemoContext, password: str, elapsed: float) -> str:
        from itsmo.accounts.models import SupportGroup, User
        from itsmo.organization.models import (
            BusinessCalendar,
            BusinessUnit,
            Country,
            Region,
            Site,
        )

        counts = [
            ("regions", Region.objects.count()),
            ("countries", Country.objects.count()),
            ("calendars", BusinessCalendar.objects.count()),
            ("sites", Site.objects.count()),
            ("business units", BusinessUnit.objects.count()),
            ("support groups", SupportGroup.objects.count()),
            ("users", User.objects.count()),
        ]
        counts += [
            (f"  {kind.replace('_', ' ')}", len(names))
            for kind, names in sorted(ctx.data.get("people", {}).items())
        ]
        width = max(len(label) for label, _ in counts)
        lines = [
            self.style.SUCCESS(f"Demo loaded in {elapsed:.1f}s: {demo.COMPANY_NAME}."),
            *(f"  {label.ljust(width)}  {count}" for label, count in counts),
            "",
            "Log in with:",
            *login_lines(demo.logins(), password),
        ]
        return "\n".join(lines)
