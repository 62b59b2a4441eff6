"""The background worker: keeps recurring tasks scheduled, then runs django-tasks' db_worker."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from circlework.core.scheduling import ensure_scheduled


class Command(BaseCommand):
    help = "Run the background worker (tasks, reminders, digests) — no cron needed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Run what is due now, then exit.")

    def _keep_scheduled(self) -> None:
        while True:
            time.sleep(60)
            try:
                ensure_scheduled()
            except Exception:
                self.stderr.write("could not check recurring tasks; will retry in a minute")
            finally:
                close_old_connections()

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_scheduled()
        if options["batch"]:
            call_command(
                "db_worker",
                "--batch",
                "--no-reload",
                "--no-startup-delay",
                verbosity=options["verbosity"],
            )
            return
        threading.Thread(target=self._keep_scheduled, daemon=True, name="scheduler").start()
        call_command(
            "db_worker", "--no-reload", "--queue-name", "*", verbosity=options["verbosity"]
        )
