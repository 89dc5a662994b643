"""``itsmo serve``: the production web server (gunicorn serving itsmo.wsgi)."""

from __future__ import annotations

import os
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """gunicorn's rule of thumb, ``2 * cores + 1``, capped at :data:`MAX_DEFAULT_WORKERS`."""
    return min(2 * (os.cpu_count() or 1) + 1, MAX_DEFAULT_WORKERS)


def gunicorn_argv(*, bind: str, workers: int, timeout: int, access_log: bool) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "itsmo.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--timeout",
        str(timeout),
        "--graceful-timeout",
        "10",
        "--name",
        "itsmo",
    ]
    if access_log:
        argv += ["--access-logfile", "-"]
    if _has_control_socket():
        # gunicorn 27+ opens a control socket at one path per home directory; several
        # servers on one machine would fight over it and Itsmo does not use it.
        argv.append("--no-control-socket")
    return argv


def _has_control_socket() -> bool:
    from gunicorn.config import KNOWN_SETTINGS

    return any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS)


class Command(BaseCommand):
    help = (
        "Run the production web server: gunicorn serving itsmo.wsgi, static files through "
        "WhiteNoise (collected into ITSMO_VAR_DIR/static first). Put a TLS proxy in front "
        "of it for anything but a trial."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            default="127.0.0.1:8000",
            help="Address to listen on, HOST:PORT (default: %(default)s).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=default_workers(),
            help="Worker processes (default: 2 * cores + 1, at most "
            f"{MAX_DEFAULT_WORKERS}; here %(default)s).",
        )
        parser.add_argument(
            "--timeout",
            type=int,
            default=60,
            help="Seconds before a silent worker is restarted (default: %(default)s).",
        )
        parser.add_argument(
            "--access-log", action="store_true", help="Log every request to standard output."
        )
        parser.add_argument(
            "--no-collectstatic",
            action="store_false",
            dest="collectstatic",
            help="Do not collect static files before starting.",
        )

    def handle(self, *args, bind, workers, timeout, access_log, collectstatic, **options):
        if workers < 1:
            self.stderr.write("--workers must be at least 1")
            sys.exit(2)
        if collectstatic:
            call_command("collectstatic", interactive=False, verbosity=0)
        argv = gunicorn_argv(bind=bind, workers=workers, timeout=timeout, access_log=access_log)
        self.stdout.write(f"Serving Itsmo on http://{bind}/ with {workers} workers")
        self.stdout.flush()
        # gunicorn takes over this process, so signals reach its arbiter directly.
        os.execv(sys.executable, argv)
