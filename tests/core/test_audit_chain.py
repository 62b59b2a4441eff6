"""The audit history is tamper-evident: a hash chain that `verify_audit` checks."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from circlework.accounts import services as account_services
from circlework.core import audit
from circlework.core.models import AuditEvent
from tests import factories


def _breaks() -> list[audit.ChainBreak]:
    return list(audit.verify())


@pytest.mark.django_db
def test_every_event_follows_the_one_before() -> None:
    circle = factories.make_circle(members=[factories.make_practitioner("B")])
    events = list(AuditEvent.objects.order_by("id"))
    assert len(events) >= 2
    assert events[0].prev_hash == audit.GENESIS
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert _breaks() == []
    assert circle.pk is not None


@pytest.mark.django_db
def test_a_changed_summary_is_found(capsys: pytest.CaptureFixture[str]) -> None:
    factories.make_circle(members=[factories.make_practitioner("B")])
    target = AuditEvent.objects.order_by("id")[1]
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
    events = list(AuditEvent.objects.order_by("id"))
    removed = events[1]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [removed.pk])
    assert [b.event_id for b in _breaks()] == [events[2].pk]


@pytest.mark.django_db
def test_a_forged_hash_breaks_the_link_to_the_next_event() -> None:
    factories.make_circle(members=[factories.make_practitioner("B")])
    first, second = list(AuditEvent.objects.order_by("id"))[:2]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET hash = %s WHERE id = %s", ["f" * 64, first.pk])
    assert [b.event_id for b in _breaks()] == [first.pk, second.pk]


@pytest.mark.django_db
def test_deleting_an_account_keeps_the_chain_intact() -> None:
    leaver = factories.make_practitioner("Leaver")
    factories.make_circle(founder=leaver, members=[factories.make_practitioner("Stays")])
    account_services.account_delete(actor=leaver, confirm_email=leaver.user.email)
    assert AuditEvent.objects.filter(actor__isnull=True, by_system=False).exists()
    assert _breaks() == []


@pytest.mark.django_db
def test_the_command_reports_an_intact_history(capsys: pytest.CaptureFixture[str]) -> None:
    factories.make_circle()
    call_command("verify_audit")
    assert "intact" in capsys.readouterr().out


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
                audit.record(actor=None, verb="test.write", target=circle, summary=f"{i}-{k}")
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
    prevs = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(prevs) == len(set(prevs))  # no two events claim the same predecessor
    assert _breaks() == []
