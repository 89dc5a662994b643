"""``itsmo demo``: migrate, load the demo organisation once, then run the web server and worker."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from django.core.management import call_command
from django.core.management.base import BaseCommand

from itsmo.core import demo
from itsmo.core.management.commands.loaddemo import login_lines

STOP_TIMEOUT = 15


def itsmo_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "itsmo.cli", *args]


def wait_until_healthy(url: str, processes: list[subprocess.Popen], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    return False


class Command(BaseCommand):
    help = (
        "Try Itsmo in one command: create or upgrade the database, load the demo "
        "organisation if the database is empty, then run the web server (itsmo serve) and "
        "the background worker (itsmo worker) until Ctrl-C or SIGTERM, which stops both."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            default="127.0.0.1:8000",
            help="Address the web server listens on (default: %(default)s).",
        )
        parser.add_argument(
            "--workers", type=int, default=2, help="Web server processes (default: %(default)s)."
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help="Seed of the demo organisation (default: %(default)s).",
        )
        parser.add_argument(
            "--scale",
            choices=demo.SCALES,
            default=demo.DEFAULT_SCALE,
            help="Size of the demo organisation (default: %(default)s).",
        )
        parser.add_argument(
            "--no-worker", action="store_false", dest="worker", help="Run the web server only."
        )

    def handle(self, *args, bind, workers, seed, scale, worker, verbosity, **options):
        self.stdout.write("Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        if demo.is_loaded():
            self.stdout.write("The database already holds data: the demo is not loaded again.")
        else:
            call_command(
                "loaddemo", seed=seed, scale=scale, verbosity=verbosity, stdout=self.stdout
            )
        self.stdout.flush()

        # Own sessions: Ctrl-C reaches only this process, which stops the children once.
        children = [
            subprocess.Popen(
                itsmo_argv("serve", "--bind", bind, "--workers", str(workers)),
                start_new_session=True,
            )
        ]
        if worker:
            children.append(
                subprocess.Popen(itsmo_argv("worker", "--no-startup-delay"), start_new_session=True)
            )
        stopping = []

        def stop(signum, frame):
            stopping.append(signum)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

        url = f"http://{bind}/"
        if wait_until_healthy(url + "healthz", children, timeout=60):
            self.stdout.write(self.banner(url))
        elif not stopping:
            self.stderr.write(f"The web server did not answer on {url}healthz; stopping.")
            stopping.append(signal.SIGTERM)
        self.stdout.flush()

        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.2)
        failed = [child for child in children if child.poll() not in (None, 0)]
        self.stdout.write("Stopping the web server and the worker…")
        self.stdout.flush()
        self.terminate(children)
        if failed and not stopping:
            sys.exit(1)

    def banner(self, url: str) -> str:
        demo.discover()
        password = demo.read_password()
        logins = [(username, purpose) for username, purpose in demo.logins() if username != "admin"]
        rule = "=" * 64
        return "\n".join(
            [
                "",
                rule,
                self.style.SUCCESS(f"  Itsmo is running at {url}"),
                f"  Log in as: admin / {password or '(see ' + str(demo.password_file()) + ')'}",
                "",
                "  Other demo accounts:",
                *login_lines(logins, password),
                "",
                "  Press Ctrl-C to stop.",
                rule,
                "",
            ]
        )

    @staticmethod
    def terminate(children: list[subprocess.Popen]) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
