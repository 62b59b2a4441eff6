"""The task worker outlives a database restart: it waits, backing off, and starts again."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError

from circlework.core.management.commands import run_worker


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    seen: dict[str, list[Any]] = {"runs": [], "sleeps": [], "failures": []}

    def db_worker(name: str, *args: Any, **kwargs: Any) -> None:
        seen["runs"].append(name)
        if seen["failures"]:
            raise seen["failures"].pop(0)

    monkeypatch.setattr(run_worker, "call_command", db_worker)
    monkeypatch.setattr(run_worker, "ensure_scheduled", lambda: [])
    monkeypatch.setattr(run_worker.Command, "_keep_scheduled", lambda self: None)
    monkeypatch.setattr("time.sleep", seen["sleeps"].append)
    return seen


def test_the_worker_starts_again_when_the_database_goes_away(
    worker: dict[str, list[Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    worker["failures"] = [
        OperationalError("connection failed: Connection refused"),
        OperationalError("FATAL:  the database system is starting up"),
        OperationalError("FATAL:  the database system is starting up"),
    ]
    call_command("run_worker")
    assert worker["runs"] == ["db_worker"] * 4  # three failures, then a run that ended cleanly
    assert worker["sleeps"] == [1.0, 2.0, 4.0]
    err = capsys.readouterr().err
    assert err.count("The database is unavailable") == 3
    assert "Connection refused" in err


def test_the_backoff_stops_at_a_minute(worker: dict[str, list[Any]]) -> None:
    worker["failures"] = [OperationalError("down")] * 9
    call_command("run_worker")
    assert worker["sleeps"] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


def test_other_errors_are_not_swallowed(worker: dict[str, list[Any]]) -> None:
    worker["failures"] = [ValueError("a bug, not an outage")]
    with pytest.raises(ValueError, match="a bug"):
        call_command("run_worker")
    assert worker["sleeps"] == []
