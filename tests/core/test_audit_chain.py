"""The audit history is tamper-evident: a hash chain, sealed as each write commits, that
`verify_audit` checks."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.utils import timezone

from circlework.accounts import services as account_services
from circlework.accounts.models import Practitioner
from circlework.core import audit
from circlework.core.models import AuditEvent
from circlework.core.tasks import seal_audit_events
from tests import factories

Commits = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def _seals(callbacks: list[Callable[[], Any]]) -> int:
    """The seals among what runs on commit (the page cache moves on there too)."""
    return sum(1 for callback in callbacks if callback is audit.seal_pending)


def _breaks() -> list[audit.ChainBreak]:
    return list(audit.verify())


@pytest.mark.django_db
def test_every_event_follows_the_one_before(
    django_capture_on_commit_callbacks: Commits,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        circle = factories.make_circle(members=[factories.make_practitioner("B")])
        # Inside the writer's transaction nothing is sealed yet, and nothing is locked.
        assert not AuditEvent.objects.filter(seq__isnull=False).exists()
    # One seal per transaction, however many events it recorded.
    assert _seals(callbacks) == 1
    events = list(AuditEvent.objects.order_by("seq"))
    assert len(events) >= 2
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == audit.GENESIS
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert _breaks() == []
    assert circle.pk is not None


@pytest.mark.django_db
def test_a_rolled_back_write_leaves_no_event_and_later_writes_still_seal(
    django_capture_on_commit_callbacks: Commits,
) -> None:
    # A target written without an audit event, so no seal is queued before the one under test.
    founder = Practitioner(pk=424242, display_name="Not saved")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            audit.record(actor=None, verb="test.undone", target=founder, summary="undone")
            raise RuntimeError
        audit.record(actor=None, verb="test.kept", target=founder, summary="kept")
    assert _seals(callbacks) == 1  # the rolled-back savepoint took its seal with it; a new one came
    assert not AuditEvent.objects.filter(verb="test.undone").exists()
    assert AuditEvent.objects.get(verb="test.kept").seq is not None
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 0


@pytest.mark.django_db
def test_an_event_whose_seal_was_missed_is_sealed_by_the_sweep() -> None:
    founder = factories.make_practitioner("Founder")
    # The test's transaction never commits, so these wait as if the process died after commit.
    audit.record(actor=None, verb="test.waiting", target=founder, summary="waiting")
    waiting = AuditEvent.objects.get(verb="test.waiting")
    assert waiting.seq is None
    assert _breaks() == []  # a moment's wait is normal
    later = timezone.now() + audit.SEAL_GRACE + timedelta(minutes=1)
    overdue = [b.event_id for b in audit.verify(now=later)]
    assert waiting.pk in overdue and len(overdue) == AuditEvent.objects.count()
    assert seal_audit_events.call() >= 1
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 0
    assert list(audit.verify(now=later)) == []


@pytest.mark.django_db
def test_the_command_seals_what_waits_and_reports_what_waited_too_long(
    capsys: pytest.CaptureFixture[str],
) -> None:
    founder = factories.make_practitioner("Founder")
    audit.record(actor=None, verb="test.fresh", target=founder, summary="fresh")
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "Sealed" in out and "intact" in out
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 0

    audit.record(actor=None, verb="test.stale", target=founder, summary="stale")
    stale = AuditEvent.objects.get(verb="test.stale")
    with connection.cursor() as cursor:  # as if written an hour ago and never sealed
        cursor.execute(
            "UPDATE core_auditevent SET created_at = %s WHERE id = %s",
            [timezone.now() - timedelta(hours=1), stale.pk],
        )
    with pytest.raises(CommandError, match="broken in 1 place"):
        call_command("verify_audit", "--no-seal")  # only reading: nothing vouches for it
    assert f"Audit event {stale.pk}: was never sealed" in capsys.readouterr().err
    call_command("verify_audit")  # sealed now: the chain holds, and the wait stays on record
    captured = capsys.readouterr()
    assert "intact" in captured.out
    assert f"Notice: audit event {stale.pk} waited 60 minutes for its seal" in captured.err
    call_command("verify_audit")
    assert f"Notice: audit event {stale.pk} waited" in capsys.readouterr().err


@pytest.mark.django_db
def test_when_an_event_was_sealed_is_vouched_for() -> None:
    factories.make_circle(members=[factories.make_practitioner("B")])
    audit.seal_pending()
    first = AuditEvent.objects.order_by("seq")[0]
    assert first.sealed_at is not None
    assert list(audit.late_seals()) == []
    # Moving the seal time to hide a late seal breaks the event's hash.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET sealed_at = %s WHERE id = %s",
            [first.sealed_at + timedelta(hours=1), first.pk],
        )
    assert [b.event_id for b in _breaks()] == [first.pk]


@pytest.mark.django_db
def test_a_changed_summary_is_found(capsys: pytest.CaptureFixture[str]) -> None:
    factories.make_circle(members=[factories.make_practitioner("B")])
    audit.seal_pending()
    target = AuditEvent.objects.order_by("seq")[1]
    # Tampering goes around the model (which refuses updates): straight to the table.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET summary = %s WHERE id = %s", ["nothing happened", target.pk]
        )
    breaks = _breaks()
    assert [b.event_id for b in breaks] == [target.pk]
    with pytest.raises(CommandError, match="broken in 1 place"):
        call_command("verify_audit")
    assert f"Audit event {target.pk}" in capsys.readouterr().err


@pytest.mark.django_db
def test_a_removed_event_is_found() -> None:
    factories.make_circle(
        members=[factories.make_practitioner("B"), factories.make_practitioner("C")]
    )
    audit.seal_pending()
    events = list(AuditEvent.objects.order_by("seq"))
    removed = events[1]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [removed.pk])
    assert [b.event_id for b in _breaks()] == [events[2].pk]


@pytest.mark.django_db
def test_a_forged_hash_breaks_the_link_to_the_next_event() -> None:
    factories.make_circle(members=[factories.make_practitioner("B")])
    audit.seal_pending()
    first, second = list(AuditEvent.objects.order_by("seq"))[:2]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET hash = %s WHERE id = %s", ["f" * 64, first.pk])
    assert [b.event_id for b in _breaks()] == [first.pk, second.pk]


@pytest.mark.django_db
def test_deleting_an_account_keeps_the_chain_intact() -> None:
    leaver = factories.make_practitioner("Leaver")
    factories.make_circle(founder=leaver, members=[factories.make_practitioner("Stays")])
    audit.seal_pending()
    account_services.account_delete(actor=leaver, confirm_email=leaver.user.email)
    audit.seal_pending()
    assert AuditEvent.objects.filter(actor__isnull=True, by_system=False).exists()
    assert _breaks() == []


@pytest.mark.django_db
def test_the_command_reports_an_intact_history(capsys: pytest.CaptureFixture[str]) -> None:
    factories.make_circle()
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "intact" in out
    last = AuditEvent.objects.order_by("-seq")[0]
    assert f"Last sealed event: {last.seq}, hash {last.hash}" in out


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need a server database"
)
def test_concurrent_writers_never_fork_the_chain() -> None:
    founder = factories.make_practitioner("Founder")
    circle = factories.make_circle(founder=founder)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            for k in range(5):
                with transaction.atomic():  # a service writes two events in one transaction
                    audit.record(actor=None, verb="test.write", target=circle, summary=f"{i}-{k}")
                    audit.record(actor=None, verb="test.also", target=circle, summary=f"{i}-{k}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    # Every event was sealed as its writer committed: none waits, none is skipped.
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert AuditEvent.objects.filter(verb__startswith="test.").count() == 80
    prevs = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(prevs) == len(set(prevs))  # no two events claim the same predecessor
    assert _breaks() == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need a server database"
)
def test_recording_holds_no_lock_a_row_lock_can_deadlock_with() -> None:
    """One writer records and then locks a row; another locks that row and then records. With a
    chain lock held until commit these two deadlocked; recording takes no lock, so both commit."""
    founder = factories.make_practitioner("Founder")
    circle = factories.make_circle(founder=founder)
    from circlework.circles.models import Circle

    row_locked = threading.Event()
    errors: list[BaseException] = []

    def records_then_locks() -> None:
        try:
            with transaction.atomic():
                audit.record(actor=None, verb="test.first", target=circle, summary="first")
                assert row_locked.wait(timeout=30)
                Circle.objects.select_for_update(no_key=True).get(pk=circle.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def locks_then_records() -> None:
        try:
            with transaction.atomic():
                Circle.objects.select_for_update(no_key=True).get(pk=circle.pk)
                row_locked.set()
                # Give the other writer time to queue on the row lock, then record.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(0.5)")
                audit.record(actor=None, verb="test.second", target=circle, summary="second")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=f) for f in (records_then_locks, locks_then_records)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert AuditEvent.objects.filter(verb__in=["test.first", "test.second"]).count() == 2
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    assert _breaks() == []
