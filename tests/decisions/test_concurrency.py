"""Concurrent position changes against PostgreSQL: the last one wins and every change is kept."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from circlework.decisions import services
from circlework.decisions.models import Position
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks need a server database; CI runs this on PostgreSQL",
)
def test_simultaneous_position_changes_lose_nothing() -> None:
    members = [factories.make_practitioner(f"M{i}") for i in range(6)]
    circle = factories.make_circle(founder=members[0], members=members[1:])
    proposal = services.proposal_open(
        actor=members[0],
        circle=circle,
        title="Busy",
        text="Many at once",
        closes_at=timezone.now() + timedelta(days=2),
    )
    stances = ["agree", "concerns", "disagree", "stand_aside"]
    barrier = threading.Barrier(len(members) * 2)
    errors: list[BaseException] = []

    def change(member_index: int, stance: str) -> None:
        try:
            barrier.wait(timeout=30)
            services.position_take(
                actor=members[member_index],
                proposal=proposal,
                stance=stance,
                reason="" if stance == "agree" else "because",
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=change, args=(i, stances[(i + k) % 4]))
        for i in range(len(members))
        for k in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert Position.objects.filter(proposal=proposal).count() == len(members) * 2  # nothing lost
    for member in members:
        rows = list(Position.objects.filter(proposal=proposal, practitioner=member).order_by("id"))
        assert [r.is_current for r in rows] == [
            False,
            True,
        ]  # exactly one current, the last written
