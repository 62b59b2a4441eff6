"""Many members at once, against PostgreSQL (threads, each with its own connection): positions
recorded exactly once with one current per member, amendments never lost or silently undone
(optimistic versioning: a stale one is refused), counters that match what was accepted, and one
review proposal however many clicks arrive together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from circlework.agreements.models import Agreement
from circlework.core.errors import Conflict, StaleEdit
from circlework.decisions import services
from circlework.decisions.models import (
    Amendment,
    AmendmentStatus,
    Comment,
    CommentRevision,
    Position,
    Proposal,
    ProposalStatus,
    ProposalVersion,
)
from circlework.decisions.services import agreement_proposals as agreement_services
from tests import factories

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks need a server database; CI runs this on PostgreSQL",
    ),
]


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Start every call at the same moment, each in its own thread and database connection.
    Returns, in order, each call's result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = calls[index]()
        except BaseException as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def _unexpected(results: list[Any], *allowed: type[BaseException]) -> list[BaseException]:
    return [r for r in results if isinstance(r, BaseException) and not isinstance(r, allowed)]


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


def _busy_proposal(size: int) -> tuple[list[Any], Proposal]:
    members = [factories.make_practitioner(f"Member {i}") for i in range(size)]
    circle = factories.make_circle(founder=members[0], members=members[1:])
    proposal = services.proposal_open(
        actor=members[0],
        circle=circle,
        title="Our meeting procedure",
        text="We meet monthly.",
        closes_at=timezone.now() + timedelta(days=3),
        new_agreement_kind="procedure",
        new_agreement_title="Meeting procedure",
        agreement_text="1. We meet monthly.",
    )
    return members, proposal


def test_many_members_amend_and_take_positions_at_once() -> None:
    members, proposal = _busy_proposal(8)
    author = members[0]
    stances = ["agree", "concerns", "disagree", "stand_aside"]

    def position(i: int, k: int) -> Callable[[], Any]:
        stance = stances[(i + k) % 4]
        return lambda: services.position_take(
            actor=members[i],
            proposal=proposal,
            stance=stance,
            reason="" if stance == "agree" else f"reason {i}.{k}",
        )

    def amend(i: int, base: int, label: str) -> Callable[[], Any]:
        return lambda: services.amendment_propose(
            actor=members[i],
            proposal=proposal,
            text=f"We meet monthly ({label} by member {i}).",
            agreement_text=f"1. We meet monthly ({label} by member {i}).",
            reason="Clearer.",
            base_version=base,
        )

    # 1. Everyone at once: two position changes and one amendment each, all on version 1.
    calls = [position(i, k) for i in range(len(members)) for k in range(2)]
    calls += [amend(i, 1, "first") for i in range(1, len(members))]
    results = run_together(calls)
    assert _unexpected(results) == []
    assert Amendment.objects.filter(proposal=proposal).count() == len(members) - 1

    # 2. The author accepts every amendment at once while members amend version 1 again and
    # change their positions: one acceptance wins; each other one is refused, not lost.
    first_round = list(Amendment.objects.filter(proposal=proposal))
    accepts = [partial(services.amendment_accept, actor=author, amendment=a) for a in first_round]
    late = [amend(i, 1, "second") for i in range(1, len(members))]
    calls = accepts + late + [position(i, 2) for i in range(len(members))]
    results = run_together(calls)
    assert _unexpected(results, Conflict) == []
    accept_results = results[: len(accepts)]
    late_results = results[len(accepts) : len(accepts) + len(late)]
    won = [r for r in accept_results if isinstance(r, ProposalVersion)]
    assert len(won) == 1
    assert all(
        isinstance(r, Conflict) and "changed since this amendment" in r.message
        for r in accept_results
        if not isinstance(r, ProposalVersion)
    )
    # Every late amendment is either stored (it came before the acceptance, on version 1) or
    # refused as stale (after it): none vanishes.
    stored = [r for r in late_results if isinstance(r, Amendment)]
    refused = [r for r in late_results if isinstance(r, StaleEdit)]
    assert len(stored) + len(refused) == len(late)
    assert all(a.based_on_version == 1 for a in stored)

    proposal.refresh_from_db()
    accepted = Amendment.objects.filter(proposal=proposal, status=AmendmentStatus.ACCEPTED)
    assert accepted.count() == 1
    # Counters match what was accepted; the text is the accepted amendment's, not a mixture.
    assert proposal.version == 1 + accepted.count() == 2
    assert proposal.round == 1 + accepted.count()
    winner = accepted.get()
    assert (proposal.text, proposal.agreement_text) == (winner.text, winner.agreement_text)
    versions = list(ProposalVersion.objects.filter(proposal=proposal).order_by("number"))
    assert [v.number for v in versions] == [1, 2] and versions[1].amendment_id == winner.pk
    assert Amendment.objects.filter(proposal=proposal).count() == (len(members) - 1) + len(stored)

    # Positions: every change recorded exactly once, exactly one current per member, and each
    # answering the version that was current when it was taken.
    assert Position.objects.filter(proposal=proposal).count() == len(members) * 3
    for member in members:
        rows = list(Position.objects.filter(proposal=proposal, practitioner=member))
        assert sum(r.is_current for r in rows) == 1
    assert set(Position.objects.filter(proposal=proposal).values_list("version", "round")) <= {
        (1, 1),
        (2, 2),
    }


def test_two_accepts_on_the_same_version_one_wins() -> None:
    members, proposal = _busy_proposal(3)
    author = members[0]
    one, other = (
        services.amendment_propose(
            actor=members[i],
            proposal=proposal,
            text=f"Version from member {i}.",
            reason="Mine.",
            base_version=1,
        )
        for i in (1, 2)
    )
    results = run_together(
        [
            lambda: services.amendment_accept(actor=author, amendment=one),
            lambda: services.amendment_accept(actor=author, amendment=other),
        ]
    )
    assert sum(isinstance(r, ProposalVersion) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1
    proposal.refresh_from_db()
    winner = Amendment.objects.get(proposal=proposal, status=AmendmentStatus.ACCEPTED)
    loser = Amendment.objects.get(proposal=proposal, status=AmendmentStatus.OPEN)
    assert {winner.pk, loser.pk} == {one.pk, other.pk}
    assert (proposal.version, proposal.round, proposal.text) == (2, 2, winner.text)


def test_simultaneous_edits_of_one_comment_keep_one_and_refuse_the_rest() -> None:
    members, proposal = _busy_proposal(2)
    writer = members[1]
    comment = services.comment_add(actor=writer, proposal=proposal, text="Draft.")
    results = run_together(
        [
            partial(
                services.comment_edit,
                actor=writer,
                comment=comment,
                text=f"Tab {i}.",
                base_revision=0,
            )
            for i in range(5)
        ]
    )
    assert sum(isinstance(r, Comment) for r in results) == 1
    assert sum(isinstance(r, StaleEdit) for r in results) == 4
    assert CommentRevision.objects.filter(comment=comment).count() == 1
    saved = next(r for r in results if isinstance(r, Comment))
    assert Comment.objects.get(pk=comment.pk).text == saved.text


def test_simultaneous_review_clicks_open_one_proposal() -> None:
    members, proposal = _busy_proposal(4)
    for m in members:
        services.position_take(actor=m, proposal=proposal, stance="agree")
    services.proposal_close(actor=members[0], proposal=proposal, early=True)
    agreement = Agreement.objects.get(title="Meeting procedure")
    closes_at = timezone.now() + timedelta(days=5)
    clicks = [members[i % len(members)] for i in range(8)]  # double clicks and several members
    results = run_together(
        [
            partial(
                agreement_services.agreement_review_open,
                actor=who,
                agreement=agreement,
                closes_at=closes_at,
            )
            for who in clicks
        ]
    )
    assert _unexpected(results, Conflict) == []
    assert sum(isinstance(r, Proposal) for r in results) == 1
    assert Proposal.objects.filter(agreement=agreement, status=ProposalStatus.OPEN).count() == 1
