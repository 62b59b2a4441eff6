"""The background worker: keeps recurring tasks scheduled, then runs django-tasks' db_worker.

When the database goes away (a restart, a fail-over) db_worker stops with an OperationalError;
this command waits and starts it again, backing off up to a minute, so a database restart needs
no one to restart the worker. A supervisor is still advised for everything else."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connections,
)

from circlework.core.scheduling import ensure_scheduled

# Backing off: 1 s, 2 s, 4 s … never more than this between tries.
MAX_BACKOFF = 60.0
# A run that lasted this long was healthy: the next failure starts backing off from 1 s again.
HEALTHY_RUN = 60.0


class Command(BaseCommand):
    help = "Run the background worker (tasks, reminders, digests) — no cron needed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Run what is due now, then exit.")

    def _keep_scheduled(self) -> None:
        while True:
            time.sleep(60)
            try:
                ensure_scheduled()
            except DatabaseError:
                self.stderr.write("could not check recurring tasks; will retry in a minute")
            finally:
                close_old_connections()

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"]:
            ensure_scheduled()
            call_command(
                "db_worker",
                "--batch",
                "--no-reload",
                "--no-startup-delay",
                verbosity=options["verbosity"],
            )
            return
        threading.Thread(target=self._keep_scheduled, daemon=True, name="scheduler").start()
        delay = 1.0
        while True:
            started = time.monotonic()
            try:
                ensure_scheduled()
                call_command(
                    "db_worker", "--no-reload", "--queue-name", "*", verbosity=options["verbosity"]
                )
                return  # stopped by a signal: a clean exit
            except (OperationalError, InterfaceError) as exc:
                if time.monotonic() - started >= HEALTHY_RUN:
                    delay = 1.0
                first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                self.stderr.write(
                    f"The database is unavailable ({type(exc).__name__}: {first_line}); "
                    f"starting again in {delay:g} s."
                )
                connections.close_all()
                time.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
