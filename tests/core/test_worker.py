"""The task worker outlives a database restart: it waits, backing off, puts back the task it was
running, and starts again; anything else still stops it."""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.db import InterfaceError, OperationalError

from circlework.core.management.commands import run_worker


def _db_error(cause: Exception) -> OperationalError:
    """As Django raises it: its own error class, the driver's error as the cause."""
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


REFUSED = _db_error(psycopg.OperationalError("connection failed: Connection refused"))
SHUTDOWN = _db_error(psycopg.errors.AdminShutdown("terminating connection"))
STARTING = _db_error(psycopg.errors.CannotConnectNow("the database system is starting up"))


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[Any]]]:
    seen: dict[str, list[Any]] = {"runs": [], "sleeps": [], "failures": [], "requeued": []}

    def db_worker(name: str, *args: Any, **kwargs: Any) -> None:
        seen["runs"].append(args[args.index("--worker-id") + 1])
        if seen["failures"]:
            failure = seen["failures"].pop(0)
            if callable(failure):
                failure = failure()
            raise failure

    monkeypatch.setattr(run_worker, "call_command", db_worker)
    monkeypatch.setattr(run_worker, "ensure_scheduled", lambda: [])
    monkeypatch.setattr(
        run_worker, "requeue_interrupted", lambda *, worker_id: seen["requeued"].append(worker_id)
    )
    monkeypatch.setattr(run_worker.Command, "_keep_scheduled", lambda self: None)
    monkeypatch.setattr("time.sleep", seen["sleeps"].append)
    handler = signal.getsignal(signal.SIGTERM)
    yield seen
    signal.signal(signal.SIGTERM, handler)


def test_the_worker_starts_again_when_the_database_goes_away(
    worker: dict[str, list[Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    worker["failures"] = [SHUTDOWN, REFUSED, STARTING, InterfaceError("connection already closed")]
    call_command("run_worker")
    runs = worker["runs"]
    assert len(runs) == 5 and len(set(runs)) == 5  # four failures, then a run that ended cleanly
    assert worker["sleeps"] == [1.0, 2.0, 4.0, 8.0]
    # Each run that lost its database gives back its task before the next one starts.
    assert worker["requeued"] == runs[:4]
    err = capsys.readouterr().err
    assert err.count("The database is unavailable") == 4
    assert "Connection refused" in err


def test_the_backoff_stops_at_a_minute(worker: dict[str, list[Any]]) -> None:
    worker["failures"] = [REFUSED] * 9
    call_command("run_worker")
    assert worker["sleeps"] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


@pytest.mark.parametrize(
    "failure",
    [
        ValueError("a bug, not an outage"),
        _db_error(sqlite3.OperationalError("no such table: django_tasks_database_dbtaskresult")),
        _db_error(psycopg.errors.DiskFull("could not extend file")),
    ],
    ids=["bug", "sqlite-missing-table", "postgres-disk-full"],
)
def test_other_errors_are_not_swallowed(worker: dict[str, list[Any]], failure: Exception) -> None:
    worker["failures"] = [failure]
    with pytest.raises(type(failure)):
        call_command("run_worker")
    assert worker["sleeps"] == []
    assert len(worker["runs"]) == 1


def test_a_shutdown_is_not_undone_by_a_failure_during_it(worker: dict[str, list[Any]]) -> None:
    class StoppingWorker:
        running = False  # db_worker's worker after SIGTERM

        def shutdown(self, signum: int, frame: Any) -> None:
            pass

    def stop_then_fail() -> Exception:
        signal.signal(signal.SIGTERM, StoppingWorker().shutdown)
        return REFUSED

    worker["failures"] = [stop_then_fail]
    with pytest.raises(OperationalError):
        call_command("run_worker")
    assert len(worker["runs"]) == 1 and worker["sleeps"] == []
