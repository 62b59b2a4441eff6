"""A proposal's comments and amendments a page at a time (issue 13): the latest first, links to
the earlier ones that work without JavaScript, any page number taken, no comment missing or
shown twice across the pages, and a link to one comment landing on the page that holds it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from circlework.decisions import services
from circlework.decisions.models import Amendment, Comment, Proposal
from circlework.decisions.selectors import AMENDMENTS_PER_PAGE, COMMENTS_PER_PAGE
from tests import factories, pages
from tests.agreements import grow
from tests.conftest import login

pytestmark = pytest.mark.django_db

COMMENTS = 2 * COMMENTS_PER_PAGE + 7  # three pages: 20, 20 and the 7 earliest
SHOWN = re.compile(r'<li id="comment-(\d+)"')


@pytest.fixture
def world(federation: Any) -> dict[str, Any]:
    ana, ben = factories.make_practitioner("Ana"), factories.make_practitioner("Ben")
    circle = factories.make_circle(founder=ana, federation=federation, members=[ben], name="Home")
    factories.validate_circle(circle, ana, ben)
    proposal = services.proposal_open(
        actor=ana,
        circle=circle,
        title="Meet monthly",
        text="We meet on the first Tuesday.",
        closes_at=timezone.now() + timedelta(days=7),
    )
    return {"ana": ana, "ben": ben, "circle": circle, "proposal": proposal}


def _comments(proposal: Proposal, author: Any, count: int) -> list[Comment]:
    """`count` comments, one a minute, the earliest first (created as if over an hour)."""
    start = timezone.now() - timedelta(days=1)
    made = Comment.objects.bulk_create(
        [
            Comment(proposal=proposal, author=author, text=f"Thought number {i}.")
            for i in range(count)
        ]
    )
    for i, comment in enumerate(made):
        Comment.objects.filter(pk=comment.pk).update(created_at=start + timedelta(minutes=i))
    return list(Comment.objects.filter(proposal=proposal).order_by("created_at", "id"))


_get = pages.text


def _shown(body: str) -> list[int]:
    return [int(pk) for pk in SHOWN.findall(body)]


def test_the_latest_comments_are_shown_with_links_to_the_earlier_ones(
    world: dict[str, Any],
) -> None:
    comments = _comments(world["proposal"], world["ben"], COMMENTS)
    client = login(Client(), world["ana"])
    url = world["proposal"].get_absolute_url()
    body = _get(client, url)
    # The latest 20, in the order they were written.
    assert _shown(body) == [c.pk for c in comments[-COMMENTS_PER_PAGE:]]
    assert "Page 1 of 3" in body
    assert f'href="{url}?comments=2#discussion" rel="next">Earlier comments</a>' in body
    assert "Later comments" not in body
    earliest = _get(client, url + "?comments=3")
    assert _shown(earliest) == [c.pk for c in comments[:7]]
    assert "Page 3 of 3" in earliest and "Earlier comments" not in earliest
    assert f'href="{url}?comments=2#discussion" rel="prev">Later comments</a>' in earliest


def test_no_comment_is_missing_or_shown_twice_across_the_pages(world: dict[str, Any]) -> None:
    comments = _comments(world["proposal"], world["ben"], COMMENTS)
    client = login(Client(), world["ana"])
    url = world["proposal"].get_absolute_url()
    seen: list[int] = []
    for number in (3, 2, 1):  # from the earliest page to the latest
        seen += _shown(_get(client, f"{url}?comments={number}"))
    assert seen == [c.pk for c in comments]


@pytest.mark.parametrize(
    ("asked", "page"),
    [("0", 1), ("-1", 1), ("abc", 1), ("", 1), ("2", 2), ("3", 3), ("4", 3), ("999999", 3),
     ("99999999999999999999999", 3)],
)  # fmt: skip
def test_any_page_number_is_taken_and_brought_within_the_pages(
    world: dict[str, Any], asked: str, page: int
) -> None:
    _comments(world["proposal"], world["ben"], COMMENTS)
    client = login(Client(), world["ana"])
    body = _get(client, f"{world['proposal'].get_absolute_url()}?comments={asked}")
    assert f"Page {page} of 3" in body
    assert len(_shown(body)) == (7 if page == 3 else COMMENTS_PER_PAGE)


def test_a_link_to_a_comment_lands_on_the_page_holding_it(world: dict[str, Any]) -> None:
    comments = _comments(world["proposal"], world["ben"], COMMENTS)
    client = login(Client(), world["ana"])
    for index, page in ((0, 3), (6, 3), (7, 2), (26, 2), (27, 1), (COMMENTS - 1, 1)):
        comment = comments[index]
        url = comment.get_absolute_url()
        assert url.endswith(f"?comment={comment.pk}#comment-{comment.pk}")
        body = _get(client, url)
        assert comment.pk in _shown(body), index
        assert f"Page {page} of 3" in body
    # A comment of another proposal, or none at all: the latest page.
    for other in ("999999", "x"):
        body = _get(client, f"{world['proposal'].get_absolute_url()}?comment={other}")
        assert "Page 1 of 3" in body


def test_a_reply_links_to_its_comment_on_whichever_page_holds_it(world: dict[str, Any]) -> None:
    comments = _comments(world["proposal"], world["ben"], COMMENTS)
    earliest, latest = comments[0], comments[-1]
    near = services.comment_add(
        actor=world["ana"], proposal=world["proposal"], text="Agreed.", parent=latest
    )
    far = services.comment_add(
        actor=world["ana"], proposal=world["proposal"], text="Back to this.", parent=earliest
    )
    body = _get(login(Client(), world["ana"]), world["proposal"].get_absolute_url())
    assert {near.pk, far.pk} <= set(_shown(body))
    assert f'href="#comment-{latest.pk}"' in body  # on this page
    url = world["proposal"].get_absolute_url()
    assert f'href="{url}?comment={earliest.pk}#comment-{earliest.pk}"' in body  # on the earliest


def test_adding_or_editing_a_comment_lands_on_it(world: dict[str, Any]) -> None:
    _comments(world["proposal"], world["ben"], COMMENTS)
    client = login(Client(), world["ana"])
    proposal = world["proposal"]
    response = client.post(
        f"{proposal.get_absolute_url()}comments/", {"comment-text": "My own view."}
    )
    mine = Comment.objects.get(text="My own view.")
    assert response.status_code == 302 and response["Location"] == mine.get_absolute_url()
    assert mine.pk in _shown(_get(client, response["Location"]))
    response = client.post(
        f"{proposal.get_absolute_url()}comments/{mine.pk}/edit/",
        {"comment-text": "My view, better put.", "comment-base_revision": "0"},
    )
    assert response.status_code == 302 and response["Location"] == mine.get_absolute_url()


def test_an_edited_comment_shows_its_earlier_texts_where_it_is_asked_for(
    world: dict[str, Any],
) -> None:
    comments = _comments(world["proposal"], world["ben"], COMMENTS)
    first = comments[0]
    for text in ("Second thought.", "Third thought."):
        services.comment_edit(actor=world["ben"], comment=first, text=text)
    client = login(Client(), world["ana"])
    body = _get(client, first.get_absolute_url())
    assert "Third thought." in body and "Edit history" in body
    assert "Thought number 0." in body and "Second thought." in body
    # On its page without asking: "edited", with the link to its earlier texts.
    plain = _get(client, f"{world['proposal'].get_absolute_url()}?comments=3")
    assert "Edit history" not in plain and "Thought number 0." not in plain
    url = world["proposal"].get_absolute_url()
    assert (
        f'href="{url}?comment={first.pk}#comment-{first.pk}">edited (see the earlier text)' in plain
    )


def _queries(client: Client, url: str) -> int:
    queries, size = pages.drawn_cost(client, url)
    assert size <= 60_000
    return queries


def test_a_long_conversation_costs_what_a_short_one_does(world: dict[str, Any]) -> None:
    proposal = world["proposal"]
    services.comment_add(actor=world["ben"], proposal=proposal, text="Tuesdays suit me.")
    client = login(Client(), world["ana"])
    url = proposal.get_absolute_url()
    small = _queries(client, url)
    # Many comments by many people, some edited and some replies; many amendments.
    people = grow.people(30, circle=world["circle"], name="Voice")
    made = Comment.objects.bulk_create(
        [
            Comment(proposal=proposal, author=p, text=f"View of {p.display_name}. " * 20)
            for p in people
        ]
        * 3
    )
    for comment, author in zip(made[-5:], people[-5:], strict=True):
        services.comment_edit(actor=author, comment=comment, text="Changed my mind.")
        services.comment_add(
            actor=world["ana"], proposal=proposal, text="Thank you.", parent=comment
        )
    Amendment.objects.bulk_create(
        [
            Amendment(proposal=proposal, author=p, based_on_version=1, text="Another day. " * 500,
                      reason=f"Suggestion {i}.")
            for i, p in enumerate(people)
        ]
    )  # fmt: skip
    large = _queries(client, url)
    assert small == large
    assert _queries(client, f"{url}?comments=3&amendments=2") == large


def test_amendments_are_paged_too(world: dict[str, Any]) -> None:
    proposal = world["proposal"]
    count = 2 * AMENDMENTS_PER_PAGE + 3
    people = grow.people(count, circle=world["circle"], name="Amender")
    Amendment.objects.bulk_create(
        [
            Amendment(proposal=proposal, author=p, based_on_version=1, text="Another day.",
                      reason=f"Suggestion {i:02d}.")
            for i, p in enumerate(people)
        ]
    )  # fmt: skip
    client = login(Client(), world["ana"])
    url = proposal.get_absolute_url()
    seen: list[str] = []
    for number in (3, 2, 1):
        body = _get(client, f"{url}?amendments={number}&comments=1")
        assert f"Page {number} of 3" in body
        seen += re.findall(r"Suggestion (\d+)\.", body)
    assert seen == [f"{i:02d}" for i in range(count)]
    latest = _get(client, url)
    assert (
        f'href="{url}?comments=1&amp;amendments=2#amendments"' not in latest
    )  # nothing kept twice
    assert f'href="{url}?amendments=2#amendments" rel="next">Earlier amendments</a>' in latest
    # Each is named by its place in the whole list, not on its page.
    assert f"(amendment {count})" in latest and "(amendment 1)" not in latest
    kept = _get(client, f"{url}?comments=1&amendments=2")
    assert f'href="{url}?comments=1&amp;amendments=3#amendments"' in kept  # the other list stays


def test_the_page_shown_again_after_a_refused_comment_links_to_the_proposal(
    world: dict[str, Any],
) -> None:
    """Refused, the page is shown at the form's address (which takes only a POST): its links
    name the proposal's own address, never a bare `?…` that would ask the form's."""
    comments = _comments(world["proposal"], world["ben"], COMMENTS)
    services.comment_edit(actor=world["ben"], comment=comments[-1], text="Changed my mind.")
    client = login(Client(), world["ana"])
    proposal_url = world["proposal"].get_absolute_url()
    response = client.post(f"{proposal_url}comments/", {"text": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert f'href="{proposal_url}?comments=2#discussion" rel="next">Earlier comments</a>' in body
    assert f'href="{proposal_url}?comment={comments[-1].pk}#comment-' in body
    assert 'href="?' not in body


def test_a_link_to_a_comment_with_a_very_large_id_lands_on_it(world: dict[str, Any]) -> None:
    comments = _comments(world["proposal"], world["ben"], COMMENTS)
    Comment.objects.filter(pk=comments[0].pk).update(id=5_000_000_000)
    moved = Comment.objects.get(pk=5_000_000_000)
    body = _get(login(Client(), world["ana"]), moved.get_absolute_url())
    assert moved.pk in _shown(body)
    assert "Page 3 of 3" in body
