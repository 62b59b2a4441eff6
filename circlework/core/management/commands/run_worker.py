"""The background worker: keeps recurring tasks scheduled, then runs django-tasks' db_worker.

When the database goes away (a restart, a fail-over) db_worker stops with a connection error;
this command waits, puts back in the queue whatever task it was running, and starts again,
backing off up to a minute, so a database restart needs no one to restart the worker. Other
errors (a bug, a missing table) still stop it: run it under a supervisor for those."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import traceback
from itertools import count
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import (
    Error,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connections,
)

from circlework.core.scheduling import ensure_scheduled, requeue_interrupted

# Backing off: 1 s, 2 s, 4 s … never more than this between tries.
MAX_BACKOFF = 60.0
# A run that lasted this long was healthy: the next failure starts backing off from 1 s again.
HEALTHY_RUN = 60.0
# PostgreSQL's SQLSTATEs for a server that is gone or not yet back: connection exceptions (class
# 08), and admin shutdown / crash shutdown / cannot connect now (57P01-57P03). A client-side
# failure to connect (refused, timed out) has no SQLSTATE at all.
OUTAGE_STATES = ("08", "57P01", "57P02", "57P03")


def is_outage(exc: Error) -> bool:
    """Whether the error means the database is unreachable, not that something is wrong with
    the query or the schema (SQLite's "no such table" is an OperationalError too)."""
    if isinstance(exc, InterfaceError):
        return True  # the connection was already closed under us
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", "no server answered")
    return sqlstate is None or str(sqlstate).startswith(OUTAGE_STATES)


def shutdown_requested() -> bool:
    """db_worker answers SIGTERM/SIGINT by clearing its worker's `running` flag: if that flag
    is down, a failure during shutdown must not start the worker again."""
    handler = signal.getsignal(signal.SIGTERM)
    worker = getattr(handler, "__self__", None)
    return worker is not None and getattr(worker, "running", True) is False


class Command(BaseCommand):
    help = "Run the background worker (tasks, reminders, digests) — no cron needed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Run what is due now, then exit.")

    def _keep_scheduled(self) -> None:
        while True:
            time.sleep(60)
            try:
                ensure_scheduled()
            except Exception:  # keep the scheduler alive whatever went wrong; say what it was
                self.stderr.write(
                    "could not check recurring tasks; will retry in a minute\n"
                    + traceback.format_exc()
                )
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
        interrupted: str | None = None
        for run in count(1):
            worker_id = f"{socket.gethostname()[:40]}-{os.getpid()}-{run}"
            started = time.monotonic()
            try:
                if interrupted is not None:
                    requeue_interrupted(worker_id=interrupted)
                    interrupted = None
                ensure_scheduled()
                call_command(
                    "db_worker",
                    "--no-reload",
                    "--queue-name",
                    "*",
                    "--worker-id",
                    worker_id,
                    verbosity=options["verbosity"],
                )
                return  # stopped by a signal: a clean exit
            except (OperationalError, InterfaceError) as exc:
                if not is_outage(exc) or shutdown_requested():
                    raise
                if interrupted is None:
                    interrupted = worker_id  # its task, if any, goes back in the queue
                if time.monotonic() - started >= HEALTHY_RUN:
                    delay = 1.0
                text = str(exc).strip()
                self.stderr.write(
                    f"The database is unavailable ({type(exc).__name__}: "
                    f"{text.splitlines()[0] if text else 'no detail'}); "
                    f"starting again in {delay:g} s."
                )
                connections.close_all()
                time.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
