"""Every key page of bench/pages.py keeps its queries and its size when the federation grows.

The demo (seed_demo) is measured, then `seed_scale` adds a federation's worth of circles,
practitioners and records to it (more than any page shows at once; and conversations longer than
a page on the proposal and the ethical statement measured), and every page is measured
again: the same number of queries (none per row), at most 12, and at most 60 KB of HTML or JSON.
The data is built once for the module inside a transaction that is rolled back at the end.
Times are the benchmark's business (make bench), never a test's.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F

from bench import pages as key
from circlework.accounts.models import Practitioner
from circlework.agreements.discussion import CIRCULATIONS_PER_PAGE
from circlework.agreements.models import Agreement, EthicsCirculation, EthicsComment
from circlework.circles.models import Circle, Membership
from circlework.decisions.models import Amendment, Comment, CommentRevision, Proposal
from circlework.decisions.selectors import AMENDMENTS_PER_PAGE, COMMENTS_PER_PAGE
from circlework.notifications.models import Notification

# Larger than any page at once (a map of 120 circles, an inbox of hundreds), built in < 60 s.
SCALE = {"practitioners": 600, "circles": 120, "records": 30_000, "seed": 1}
NAMES = [p.name for p in key.PAGES]

# The tests read what the module's fixture measured; the marker makes pytest-django set up the
# test database that fixture builds in.
pytestmark = pytest.mark.django_db


def _measure_all(visitors: key.Visitors) -> dict[str, key.Measure | Exception]:
    found: dict[str, key.Measure | Exception] = {}
    for page in key.PAGES:
        try:
            found[page.name] = key.measure(visitors, page)
        except Exception as exc:  # one broken page fails its own tests, not every page's
            found[page.name] = exc
    return found


def _pk(url: str) -> int:
    return int(url.rstrip("/").rsplit("/", 1)[1])


def _long_conversations() -> None:
    """Conversations longer than a page on the two pages that hold one (seed_scale's are short):
    the measured proposal's comments (some edited, some replies) and amendments, and the
    measured ethical statement's circulations and the federation's comments on them."""
    proposal = Proposal.objects.get(pk=_pk(key.by_name("proposal with voices").find()))
    voices = list(
        Practitioner.objects.filter(
            memberships__circle_id=proposal.circle_id, memberships__left_at__isnull=True
        )
    )
    comments = Comment.objects.bulk_create(
        [
            Comment(proposal=proposal, author=voices[i % len(voices)], text=f"A view, {i}. " * 8)
            for i in range(3 * COMMENTS_PER_PAGE)
        ]
    )
    Comment.objects.bulk_create(
        [
            Comment(proposal=proposal, author=c.author, parent=c, text="A reply.")
            for c in comments[::7]
        ]
    )
    CommentRevision.objects.bulk_create(
        [CommentRevision(comment=c, text="What I first wrote.") for c in comments[::5]]
    )
    Comment.objects.filter(pk__in=[c.pk for c in comments[::5]]).update(edited_at=F("created_at"))
    Amendment.objects.bulk_create(
        [
            Amendment(
                proposal=proposal,
                author=voices[i % len(voices)],
                based_on_version=proposal.version,
                text="Another day. " * 200,
                reason=f"Suggestion {i}.",
            )
            for i in range(2 * AMENDMENTS_PER_PAGE + 1)
        ]
    )
    statement = Agreement.objects.get(pk=_pk(key.by_name("ethical statement with comments").find()))
    readers = list(
        Membership.objects.current()
        .filter(circle__federation=statement.circle.federation_id, circle__status="member")
        .exclude(circle_id=statement.circle_id)
        .select_related("practitioner")[:40]
    )
    circulations = EthicsCirculation.objects.bulk_create(
        [
            EthicsCirculation(
                circle_id=statement.circle_id,
                agreement=statement,
                version_id=statement.current_version_id,
                title=statement.title,
                text="Our statement as circulated. " * 100,
                circulated_by=readers[0].practitioner,
            )
            for _ in range(CIRCULATIONS_PER_PAGE + 2)
        ]
    )
    EthicsComment.objects.bulk_create(
        [
            EthicsComment(
                circulation=circulations[i % len(circulations)],
                author=readers[i % len(readers)].practitioner,
                author_circle_id=readers[i % len(readers)].circle_id,
                text=f"A comment from the federation, {i}. " * 6,
            )
            for i in range(3 * COMMENTS_PER_PAGE)
        ]
    )


def _data() -> dict[str, int]:
    ruth = Practitioner.objects.get(user__email=key.RUTH)
    proposal = _pk(key.by_name("proposal with voices").find())
    statement = _pk(key.by_name("ethical statement with comments").find())
    return {
        "federation_circles": Circle.objects.filter(federation__slug=key.FEDERATION).count(),
        "ruth_notifications": Notification.objects.filter(recipient=ruth).count(),
        "practitioners": Practitioner.objects.count(),
        "proposal_comments": Comment.objects.filter(proposal_id=proposal).count(),
        "proposal_amendments": Amendment.objects.filter(proposal_id=proposal).count(),
        "statement_circulations": EthicsCirculation.objects.filter(agreement_id=statement).count(),
        "statement_comments": EthicsComment.objects.filter(
            circulation__agreement_id=statement
        ).count(),
    }


@pytest.fixture(scope="module")
def measured(django_db_setup: None, django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", verbosity=0)
        visitors = key.Visitors()
        small = _measure_all(visitors)
        data_small = _data()
        call_command("seed_scale", verbosity=0, **SCALE)
        _long_conversations()
        large = _measure_all(visitors)
        data_large = _data()
        transaction.set_rollback(True)
    return {"small": small, "large": large, "data": {"small": data_small, "large": data_large}}


def _at(measured: dict[str, Any], size: str, name: str) -> key.Measure:
    m: key.Measure | Exception = measured[size][name]
    if isinstance(m, Exception):
        raise AssertionError(f"{name} at the {size} size: {type(m).__name__}: {m}") from m
    assert m.status == 200, f"{name} at the {size} size answered {m.status} ({m.url})"
    return m


def test_the_large_size_is_more_than_a_page_of_anything(measured: dict[str, Any]) -> None:
    """Else the same queries at both sizes would prove nothing: more circles than the map's
    table shows (50 a page), inbox pages (20) and election electorates (100) to spare."""
    small, large = measured["data"]["small"], measured["data"]["large"]
    assert large["federation_circles"] >= small["federation_circles"] + 100
    assert large["ruth_notifications"] >= 50
    assert large["practitioners"] >= small["practitioners"] + 500
    # Comments and amendments on the proposal, circulations of the statement and comments on
    # them: more than a page of each.
    assert large["proposal_comments"] > 2 * COMMENTS_PER_PAGE
    assert large["proposal_amendments"] > 2 * AMENDMENTS_PER_PAGE
    assert large["statement_circulations"] > CIRCULATIONS_PER_PAGE
    assert large["statement_comments"] > 2 * COMMENTS_PER_PAGE


@pytest.mark.parametrize("name", NAMES)
def test_queries_do_not_grow_with_the_federation(measured: dict[str, Any], name: str) -> None:
    small, large = _at(measured, "small", name), _at(measured, "large", name)
    added = [sql for sql in large.statements if sql not in small.statements]
    assert large.queries == small.queries, (
        f"{name}: {small.queries} queries on the demo, {large.queries} with seed_scale; "
        f"new statements: {added[:3]}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_at_most_12_queries(measured: dict[str, Any], name: str) -> None:
    worst = max(_at(measured, size, name).queries for size in ("small", "large"))
    assert worst <= key.MAX_QUERIES, f"{name}: {worst} queries"


@pytest.mark.parametrize("name", NAMES)
def test_at_most_60_kb_at_the_large_size(measured: dict[str, Any], name: str) -> None:
    m = _at(measured, "large", name)
    assert m.bytes <= key.MAX_BYTES, f"{name} ({m.url}): {m.bytes / 1024:.1f} KB"
