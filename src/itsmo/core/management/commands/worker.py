"""``itsmo worker``: run background tasks and enqueue the periodic jobs that are due."""

from __future__ import annotations

import logging
import os
import threading

from django.db import close_old_connections, connection
from django.db.utils import OperationalError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from itsmo.core import schedule

logger = logging.getLogger("itsmo.worker")


class Scheduler(threading.Thread):
    """Every ``interval`` seconds, enqueue the periodic jobs that are due (see core.schedule)."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="itsmo-scheduler", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                try:
                    close_old_connections()
                    schedule.enqueue_due()
                except OperationalError as error:  # locked or unreachable: try next tick
                    logger.warning("scheduler: %s", error)
                except Exception:  # a broken job must not stop the scheduler
                    logger.exception("scheduler failed")
                self.stopped.wait(self.interval)
        finally:
            connection.close()


class Command(db_worker.Command):
    help = (
        "Run the background worker: execute queued tasks (django-tasks database backend) "
        "and enqueue the periodic jobs of itsmo.core.schedule when they are due. Run as many "
        "workers as you like against PostgreSQL; each periodic run is enqueued once."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(reload=False)
        parser.add_argument(
            "--no-scheduler",
            action="store_false",
            dest="scheduler",
            help="Only execute tasks; do not enqueue periodic jobs.",
        )
        parser.add_argument(
            "--scheduler-interval",
            type=db_worker.valid_interval,
            default=30.0,
            help="Seconds between checks for due periodic jobs (default: %(default)s).",
        )

    def handle(self, *args, scheduler: bool, scheduler_interval: float, **options):
        if scheduler:
            if options["batch"]:
                # One pass, then the worker drains the queue and exits: handy under cron.
                schedule.enqueue_due()
            elif not options["reload"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                Scheduler(scheduler_interval).start()
        super().handle(*args, **options)
