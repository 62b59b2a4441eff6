"""The task worker outlives a database restart: it waits, backing off, puts back the task it was
running, and starts again; anything else still stops it. The task table keeps no secrets: tasks
are given ids, and finished rows are purged."""

from __future__ import annotations

import json
import signal
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.core import mail
from django.core.management import call_command
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from circlework.accounts.models import Practitioner
from circlework.circles import services as circle_services
from circlework.circles.models import Circle
from circlework.circles.tasks import send_invitation_email
from circlework.core.management.commands import run_worker
from circlework.core.scheduling import REGISTRY
from circlework.core.tasks import forget_task_rows, purge_finished_tasks, seal_audit_events
from circlework.notifications.tasks import send_email


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


# --- What the task table keeps --------------------------------------------------------------------


@pytest.fixture
def db_tasks(settings: Any) -> None:
    # django-tasks resets its backends when TASKS changes (setting_changed signal).
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }


@pytest.mark.django_db
def test_an_invitation_e_mail_is_queued_by_id_and_built_by_its_task(
    db_tasks: None, circle: Circle, practitioner: Practitioner
) -> None:
    """The task row holds no address, message or link secret (issue 10, finding 7)."""
    mail.outbox.clear()
    invitation, secret = circle_services.invitation_create(
        actor=practitioner,
        circle=circle,
        email="Quiet.Person@Example.org",
        message="A private word for you",
        base_url="https://circles.example.org",
    )
    row = DBTaskResult.objects.get(task_path__endswith="send_invitation_email")
    stored = json.dumps(row.args_kwargs).lower()
    for private in ("quiet.person@example.org", "a private word", secret.lower()):
        assert private not in stored
    assert row.args_kwargs["args"] == [invitation.pk, "https://circles.example.org"]
    # The secret waits on the invitation, encrypted, only until the e-mail has gone out.
    with connection.cursor() as cursor:
        cursor.execute("SELECT mail_secret FROM circles_invitation WHERE id = %s", [invitation.pk])
        (column,) = cursor.fetchone()
    assert column and secret not in column

    assert send_invitation_email.call(invitation.pk, "https://circles.example.org") is True
    (message,) = mail.outbox
    assert message.to == ["quiet.person@example.org"]
    assert f"https://circles.example.org/invitations/{secret}/" in message.body
    assert "A private word for you" in message.body
    # The inviter's name only as far as the public may see it (whoever holds the address).
    assert "A member invites you" in message.body and "Alex Author" not in message.body
    invitation.refresh_from_db()
    assert invitation.mail_secret == ""
    # Run again (a retry): nothing more is sent.
    assert send_invitation_email.call(invitation.pk, "https://circles.example.org") is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_invitation_mail_that_fails_keeps_its_secret_for_the_retry(
    db_tasks: None,
    circle: Circle,
    practitioner: Practitioner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sent after the commit (no lock waits on the mail server); a failure puts it back."""
    invitation, secret = circle_services.invitation_create(
        actor=practitioner, circle=circle, email="retry.me@example.org"
    )

    def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("the mail server is down")

    monkeypatch.setattr("circlework.circles.tasks.send_mail", down)
    with pytest.raises(ConnectionRefusedError):
        send_invitation_email.call(invitation.pk)
    invitation.refresh_from_db()
    assert invitation.mail_secret == secret
    monkeypatch.undo()
    mail.outbox.clear()
    assert send_invitation_email.call(invitation.pk) is True
    assert secret in mail.outbox[0].body


@pytest.mark.django_db
def test_a_revoked_invitation_is_not_mailed_and_keeps_no_secret(
    db_tasks: None, circle: Circle, practitioner: Practitioner
) -> None:
    mail.outbox.clear()
    invitation, _secret = circle_services.invitation_create(
        actor=practitioner, circle=circle, email="changed.mind@example.org"
    )
    circle_services.invitation_revoke(actor=practitioner, invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.mail_secret == ""
    assert send_invitation_email.call(invitation.pk) is False
    assert mail.outbox == []


@pytest.mark.django_db
def test_finished_task_rows_are_purged_after_the_retention(db_tasks: None, settings: Any) -> None:
    settings.FINISHED_TASK_RETENTION_DAYS = 7
    assert any(r.task is purge_finished_tasks for r in REGISTRY)  # the worker keeps it scheduled
    now = timezone.now()
    rows = {}
    for name, status, finished_days_ago in (
        ("old_success", "SUCCESSFUL", 8),
        ("old_failure", "FAILED", 30),
        ("recent_success", "SUCCESSFUL", 6),
        ("waiting", "READY", None),
        ("running", "RUNNING", None),
    ):
        result = seal_audit_events.enqueue()
        finished = None if finished_days_ago is None else now - timedelta(days=finished_days_ago)
        DBTaskResult.objects.filter(pk=result.id).update(status=status, finished_at=finished)
        rows[name] = result.id

    assert purge_finished_tasks.call() == 2
    left = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert {str(pk) for pk in left} == {
        str(rows[n]) for n in ("recent_success", "waiting", "running")
    }


@pytest.mark.django_db
def test_task_rows_that_mention_an_address_can_be_forgotten(db_tasks: None) -> None:
    """What account deletion uses for rows an older version queued with an address in them."""
    legacy = send_email.enqueue("Gone.Person@example.org", "Hello", "Dear Zoë Gone")
    other = send_email.enqueue("stays@example.org", "Hello", "Dear Zoë Gone")
    assert forget_task_rows(mentioning=["gone.person@example.org"]) == 0  # still waiting
    assert forget_task_rows(mentioning=["gone.person@example.org"], waiting_too=True) == 1
    DBTaskResult.objects.filter(pk=other.id).update(status="FAILED", finished_at=timezone.now())
    assert forget_task_rows(mentioning=["Zoë Gone"]) == 1  # stored as "Zo\u00eb" in the JSON
    assert not DBTaskResult.objects.filter(pk__in=[legacy.id, other.id]).exists()
