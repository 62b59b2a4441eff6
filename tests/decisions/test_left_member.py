"""A member who has left writes nothing more about the circle, not even to their own records.

What they gave stays ("a former member" keeps their comments, amendments, positions, answers,
statements and nominations as they stood); changing any of it, or adding to it, is a write
about the circle, and every write about a circle needs a current member. One case per write a
member can make on their own record or in the circle's name, each tried by Ben after he left.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from circlework.circles import services as circle_services
from circlework.core.errors import NotAllowed
from circlework.core.permissions import allowed
from circlework.core.visibility import forget_audience
from circlework.decisions import services as decisions
from circlework.decisions.models import Comment
from circlework.elections import services as elections
from circlework.polls import services as polls
from circlework.standing import services as standing
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _in(days: float) -> Any:
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def left(federation: Any) -> dict[str, Any]:
    """Ana founded the circle with Ben and Cy. Before leaving, Ben wrote something of every kind;
    then he left."""
    ana, ben, cy = (factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy"))
    circle = factories.make_circle(
        founder=ana, federation=federation, members=[ben, cy], name="Left Circle"
    )
    anas = decisions.proposal_open(
        actor=ana, circle=circle, title="Meet weekly?", text="Shall we?", closes_at=_in(5)
    )
    bens = decisions.proposal_open(
        actor=ben, circle=circle, title="Meet monthly?", text="Shall we?", closes_at=_in(5)
    )
    decisions.position_take(actor=ben, proposal=anas, stance="concerns", reason="Busy")
    comment = decisions.comment_add(actor=ben, proposal=anas, text="My first view")
    amendment = decisions.amendment_propose(
        actor=ben, proposal=anas, text="Shall we, fortnightly?", reason="Time"
    )
    mine = decisions.amendment_propose(actor=cy, proposal=bens, text="Weekly?", reason="More")
    poll = polls.poll_open(
        actor=ben,
        circle=circle,
        title="Tea or coffee?",
        kind="approval",
        options=["Tea", "Coffee"],
        closes_at=_in(3),
    )
    options = list(poll.options.order_by("position").values_list("pk", flat=True))
    polls.ballot_cast(actor=ben, poll=poll, approved=options[:1])
    statement = standing.standing_by_state(
        actor=ben, circle=circle, colleague=cy, basis="Peer supervision"
    )
    withdrawn = standing.standing_by_state(
        actor=ana, circle=circle, colleague=cy, basis="Peer supervision"
    )
    concern = standing.standing_by_withdraw(actor=ana, statement=withdrawn, reason="We stopped")
    election = elections.election_open(
        actor=ana,
        role="facilitator",
        circle=circle,
        nominations_close_at=_in(2),
        voting_closes_at=_in(9),
    )
    nomination = elections.nomination_add(
        actor=ana, election=election, nominee=ben, reason="Keeps time"
    )
    circle_services.membership_leave(actor=ben, circle=circle)
    forget_audience(ben.user)
    return {
        "ana": ana,
        "ben": ben,
        "cy": cy,
        "circle": circle,
        "anas": anas,
        "bens": bens,
        "comment": comment,
        "amendment": amendment,
        "cys_amendment": mine,
        "poll": poll,
        "options": options,
        "statement": statement,
        "concern": concern,
        "election": election,
        "nomination": nomination,
    }


Write = Callable[[dict[str, Any]], Any]

WRITES: dict[str, Write] = {
    # his own records
    "edit his comment": lambda w: decisions.comment_edit(
        actor=w["ben"], comment=w["comment"], text="Changed after leaving"
    ),
    "change his position": lambda w: decisions.position_take(
        actor=w["ben"], proposal=w["anas"], stance="block", reason="Spite"
    ),
    "change his poll answer": lambda w: polls.ballot_cast(
        actor=w["ben"], poll=w["poll"], approved=w["options"][1:]
    ),
    "close his poll": lambda w: polls.poll_close(actor=w["ben"], poll=w["poll"]),
    "close his proposal": lambda w: decisions.proposal_close(
        actor=w["ben"], proposal=w["bens"], early=True
    ),
    "withdraw his proposal": lambda w: decisions.proposal_withdraw(
        actor=w["ben"], proposal=w["bens"]
    ),
    "accept an amendment to his proposal": lambda w: decisions.amendment_accept(
        actor=w["ben"], amendment=w["cys_amendment"], response="Thanks"
    ),
    "decline an amendment to his proposal": lambda w: decisions.amendment_decline(
        actor=w["ben"], amendment=w["cys_amendment"], response="No"
    ),
    "withdraw his standing-by statement": lambda w: standing.standing_by_withdraw(
        actor=w["ben"], statement=w["statement"], reason="Gone"
    ),
    "renew his standing-by statement": lambda w: standing.standing_by_state(
        actor=w["ben"], circle=w["circle"], colleague=w["cy"], basis="Still"
    ),
    "answer his nomination": lambda w: elections.nomination_answer(
        actor=w["ben"], nomination=w["nomination"], accept=True
    ),
    # new records in the circle
    "comment": lambda w: decisions.comment_add(actor=w["ben"], proposal=w["anas"], text="Hi"),
    "reply to his comment": lambda w: decisions.comment_add(
        actor=w["ben"], proposal=w["anas"], text="And", parent=w["comment"]
    ),
    "propose an amendment": lambda w: decisions.amendment_propose(
        actor=w["ben"], proposal=w["anas"], text="Shall we not?", reason="Why"
    ),
    "open a proposal": lambda w: decisions.proposal_open(
        actor=w["ben"], circle=w["circle"], title="Again", text="?", closes_at=_in(5)
    ),
    "open a poll": lambda w: polls.poll_open(
        actor=w["ben"],
        circle=w["circle"],
        title="Again?",
        kind="approval",
        options=["Yes", "No"],
        closes_at=_in(3),
    ),
    "remind the members": lambda w: decisions.members_remind(actor=w["ben"], proposal=w["anas"]),
    "respond to a concern": lambda w: standing.standing_concern_respond(
        actor=w["ben"], concern=w["concern"], response="Fine", resolve=True
    ),
    "nominate": lambda w: elections.nomination_add(
        actor=w["ben"], election=w["election"], nominee=w["cy"], reason="Good"
    ),
    "invite": lambda w: circle_services.invitation_create(
        actor=w["ben"], circle=w["circle"], email="friend@example.org"
    ),
    "edit the circle": lambda w: circle_services.circle_update(
        actor=w["ben"], circle=w["circle"], changes={"locality": "Gone"}
    ),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_member_who_left_is_refused(left: dict[str, Any], write: str) -> None:
    with pytest.raises(NotAllowed):
        WRITES[write](left)


def test_what_he_wrote_stays_as_it_was(left: dict[str, Any]) -> None:
    with pytest.raises(NotAllowed):
        WRITES["edit his comment"](left)
    comment = Comment.objects.get(pk=left["comment"].pk)
    assert comment.text == "My first view" and comment.edited_at is None
    assert not allowed("decisions.edit_comment", left["ben"].user, comment)
    assert allowed("decisions.edit_comment", left["ana"].user, comment) is False  # not hers


def test_the_comment_edit_page_refuses_him(client: Client, left: dict[str, Any]) -> None:
    """The finding as found: the edit page still took his changes after he left."""
    comment = left["comment"]
    url = f"/circles/{left['circle'].slug}/decisions/{left['anas'].pk}/comments/{comment.pk}/edit/"
    login(client, left["ben"])
    assert client.get(url).status_code in (403, 404)
    assert client.post(url, {"text": "Changed", "base_revision": 0}).status_code in (403, 404)
    assert Comment.objects.get(pk=comment.pk).text == "My first view"


def test_a_member_who_rejoins_may_edit_again(left: dict[str, Any]) -> None:
    """It is membership now that counts, not who wrote it once."""
    factories.add_member(left["circle"], left["ben"])
    forget_audience(left["ben"].user)
    decisions.comment_edit(actor=left["ben"], comment=left["comment"], text="Back again")
    assert Comment.objects.get(pk=left["comment"].pk).text == "Back again"
