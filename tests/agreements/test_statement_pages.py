"""An ethical statement's page and a circulation's page a page at a time (issue 13): the latest
circulations and comments first, links to the earlier ones that work without JavaScript, any
page number taken, no comment missing across the pages, every name as the name rule has it, and
the same queries with no circulation at all as with many."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from circlework.agreements import selectors, services
from circlework.agreements.discussion import CIRCULATIONS_PER_PAGE, COMMENTS_PER_PAGE
from circlework.agreements.models import Agreement, EthicsCirculation, EthicsComment
from tests import factories, pages
from tests.agreements import grow
from tests.agreements.helpers import validated
from tests.agreements.test_ethics import adopt
from tests.conftest import login

pytestmark = pytest.mark.django_db

SHOWN = re.compile(r'<li id="ethics-comment-(\d+)"')


@pytest.fixture
def world(federation: Any) -> dict[str, Any]:
    ana, ben = factories.make_practitioner("Ana"), factories.make_practitioner("Ben")
    home = factories.make_circle(founder=ana, federation=federation, members=[ben], name="Home")
    cy = factories.make_practitioner("Cy")
    other = factories.make_circle(founder=cy, federation=federation, name="Other")
    validated(home, other)
    statement = adopt(home, [ana, ben])
    commenters = grow.people(6, circle=other, name="Commenter")
    return {
        "ana": ana,
        "home": home,
        "other": other,
        "statement": statement,
        "commenters": commenters,
    }


def _circulate(world: dict[str, Any], comments: int, *, minutes: int = 0) -> EthicsCirculation:
    """A new version of the statement, circulated, with `comments` comments one a minute."""
    statement: Agreement = world["statement"]
    grow.versions(statement, 1, text="Our statement, version {n}.")
    circulation = services.ethics_circulate(actor=world["ana"], agreement=statement)
    start = timezone.now() - timedelta(days=2) + timedelta(minutes=minutes)
    made = EthicsComment.objects.bulk_create(
        [
            EthicsComment(
                circulation=circulation,
                author=world["commenters"][i % len(world["commenters"])],
                author_circle=world["other"],
                text=f"Comment {minutes + i}.",
            )
            for i in range(comments)
        ]
    )
    for i, comment in enumerate(made):
        EthicsComment.objects.filter(pk=comment.pk).update(created_at=start + timedelta(minutes=i))
    return circulation


_get = pages.text


def _shown(body: str) -> list[int]:
    return [int(pk) for pk in SHOWN.findall(body)]


def _all_comments(statement: Agreement) -> list[int]:
    return list(
        EthicsComment.objects.filter(circulation__agreement=statement)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )


def test_the_latest_comments_and_circulations_are_shown_with_links_to_earlier_ones(
    world: dict[str, Any],
) -> None:
    for n in range(7):
        _circulate(world, 7, minutes=10 * n)  # 49 comments over 7 circulations
    client = login(Client(), world["ana"])
    url = world["statement"].get_absolute_url()
    body = _get(client, url)
    everything = _all_comments(world["statement"])
    assert _shown(body) == everything[-COMMENTS_PER_PAGE:]
    assert "Page 1 of 3" in body
    assert f'href="{url}?comments=2#ethics-comments" rel="next">Earlier comments</a>' in body
    # The comments are under the circulation each answers.
    assert body.count("On version 8, circulated on") == 1
    # The latest five circulations, newest first, each with its comments counted.
    listed = re.findall(r"Version (\d+) circulated on", body)
    assert listed == ["8", "7", "6", "5", "4"][:CIRCULATIONS_PER_PAGE]
    assert "(7 comments)" in body
    assert (
        f'href="{url}?circulations=2#ethics-circulations" rel="next">Earlier circulations</a>'
        in body
    )
    earlier = _get(client, url + "?circulations=2&comments=3")
    assert re.findall(r"Version (\d+) circulated on", earlier) == ["3", "2"]
    assert _shown(earlier) == everything[:9]
    # Each list's pager keeps where the other is.
    assert f'href="{url}?comments=3&amp;circulations=1#ethics-circulations"' in earlier
    assert f'href="{url}?circulations=2&amp;comments=2#ethics-comments"' in earlier
    # The comment form answers the latest circulation; the current version is circulated.
    latest = EthicsCirculation.objects.filter(agreement=world["statement"]).first()
    assert latest is not None and f"/ethics/circulated/{latest.pk}/comments/" in earlier
    assert "Version 8 was circulated to the federation on" in earlier
    assert "Circulate to the federation" not in earlier


def test_no_comment_is_missing_or_shown_twice_across_the_pages(world: dict[str, Any]) -> None:
    for n in range(3):
        _circulate(world, 15, minutes=20 * n)
    client = login(Client(), world["ana"])
    url = world["statement"].get_absolute_url()
    seen: list[int] = []
    for number in (3, 2, 1):
        seen += _shown(_get(client, f"{url}?comments={number}"))
    assert seen == _all_comments(world["statement"])


@pytest.mark.parametrize(
    ("asked", "page"),
    [("0", 1), ("-3", 1), ("x", 1), ("2", 2), ("3", 3), ("12", 3), ("99999999999999999999", 3)],
)
def test_any_page_number_is_taken_and_brought_within_the_pages(
    world: dict[str, Any], asked: str, page: int
) -> None:
    _circulate(world, 2 * COMMENTS_PER_PAGE + 1)
    client = login(Client(), world["ana"])
    body = _get(
        client, f"{world['statement'].get_absolute_url()}?comments={asked}&circulations={asked}"
    )
    assert f"Page {page} of 3" in body
    assert len(_shown(body)) == (1 if page == 3 else COMMENTS_PER_PAGE)


def test_the_circulations_page_pages_its_comments_too(world: dict[str, Any]) -> None:
    circulation = _circulate(world, 2 * COMMENTS_PER_PAGE + 5)
    client = login(Client(), world["ana"])
    url = circulation.get_absolute_url()
    ids = list(circulation.comments.order_by("created_at", "id").values_list("pk", flat=True))
    body = _get(client, url)
    assert _shown(body) == ids[-COMMENTS_PER_PAGE:]
    assert f'href="{url}?comments=2#comments" rel="next">Earlier comments</a>' in body
    seen: list[int] = []
    for number in (3, 2, 1):
        seen += _shown(_get(client, f"{url}?comments={number}"))
    assert seen == ids
    # A new comment (the notification links to this page) is on the first.
    response = client.post(url + "comments/", {"text": "The latest word."})
    assert response.status_code == 302
    assert "The latest word." in _get(client, url)


def test_names_are_shown_as_the_name_rule_has_them(world: dict[str, Any]) -> None:
    """The page reads each name's reach with the comments: the same names as the rule read one
    by one (selectors.comment_rows, which the API uses)."""
    hidden, shown = world["commenters"][:2]
    hidden.display_name_visibility = "circle"
    hidden.save(update_fields=["display_name_visibility"])
    former = world["commenters"][2]
    circulation = _circulate(world, 6)
    former.memberships.update(left_at=timezone.now())  # a commenter who has left their circle
    client = login(Client(), world["ana"])
    body = _get(client, world["statement"].get_absolute_url())
    for row in selectors.comment_rows(user=world["ana"].user, circulation=circulation):
        assert f"{row.name}, " in body
    assert shown.display_name in body and hidden.display_name not in body
    assert "a member of Other" in body


def _queries(client: Client, url: str) -> int:
    queries, size = pages.drawn_cost(client, url)
    assert size <= 60_000
    return queries


def test_a_statement_never_circulated_costs_what_a_much_discussed_one_does(
    world: dict[str, Any],
) -> None:
    client = login(Client(), world["ana"])
    url = world["statement"].get_absolute_url()
    never = _queries(client, url)
    for n in range(8):
        _circulate(world, 25, minutes=30 * n)
    EthicsComment.objects.filter(circulation__agreement=world["statement"]).update(
        text="A long comment. " * 100
    )
    assert _queries(client, url) == never
    assert _queries(client, f"{url}?comments=5&circulations=2") == never
