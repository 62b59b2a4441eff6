"""Optimistic versioning of the texts members edit together: a stale edit is refused with a
clear message, nothing is saved, and the page keeps what the user wrote.

- amendments name the proposal version they change (`base_version`);
- comment edits name the revision they change (`base_revision`);
- an agreement is revised by one open proposal at a time (its changes go through amendments).

The same under real concurrency (threads against PostgreSQL): test_concurrency.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from circlework.agreements.models import Agreement
from circlework.core.errors import Conflict, StaleEdit
from circlework.decisions import services
from circlework.decisions.models import (
    Amendment,
    AmendmentStatus,
    Comment,
    Position,
    Proposal,
    ProposalVersion,
)
from circlework.decisions.services import agreement_proposals as agreement_services
from tests import factories
from tests.api.helpers import assert_error, post_json, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def four(federation: Any) -> dict[str, Any]:
    people = [factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy", "Dee")]
    circle = factories.make_circle(
        founder=people[0], federation=federation, members=people[1:], name="Four"
    )
    return {"circle": circle, "people": people}


def _open(four: dict[str, Any], **kw: Any) -> Proposal:
    return services.proposal_open(
        actor=four["people"][0],
        circle=four["circle"],
        title=kw.pop("title", "Meet monthly"),
        text=kw.pop("text", "We meet on the first Monday."),
        closes_at=kw.pop("closes_at", timezone.now() + timedelta(days=7)),
        **kw,
    )


def _to_version_two(four: dict[str, Any], proposal: Proposal) -> Amendment:
    ana, ben = four["people"][:2]
    first = services.amendment_propose(
        actor=ben,
        proposal=proposal,
        text="We meet on the first Monday, at seven.",
        reason="A time helps.",
        base_version=1,
    )
    services.amendment_accept(actor=ana, amendment=first)
    return first


def _client(practitioner: Any) -> Client:
    client = Client()
    client.force_login(practitioner.user)
    return client


# --- amendments -------------------------------------------------------------------------------


def test_an_amendment_on_a_version_no_longer_current_is_refused(four: dict[str, Any]) -> None:
    proposal = _open(four)
    _to_version_two(four, proposal)
    cy = four["people"][2]
    with pytest.raises(StaleEdit) as err:
        services.amendment_propose(
            actor=cy,
            proposal=proposal,
            text="We meet on the first Tuesday.",
            reason="Mondays are full.",
            base_version=1,
        )
    assert err.value.status_code == 409 and err.value.current == 2
    assert "The proposal changed while you were writing: version 2 is now current." in str(
        err.value
    )
    assert "Your text is kept below" in str(err.value)
    assert Amendment.objects.filter(author=cy).count() == 0  # nothing saved
    # Written on the current version, it goes through; so does a caller that names no version.
    on_two = services.amendment_propose(
        actor=cy,
        proposal=proposal,
        text="We meet on the first Tuesday, at seven.",
        reason="Mondays are full.",
        base_version=2,
    )
    assert on_two.based_on_version == 2


def test_two_amendments_on_the_same_version_cannot_both_be_accepted(
    four: dict[str, Any],
) -> None:
    ana, ben, cy = four["people"][:3]
    proposal = _open(four)
    one = services.amendment_propose(
        actor=ben, proposal=proposal, text="Mondays at seven.", reason="Time.", base_version=1
    )
    other = services.amendment_propose(
        actor=cy, proposal=proposal, text="Tuesdays instead.", reason="Day.", base_version=1
    )
    services.amendment_accept(actor=ana, amendment=one)
    with pytest.raises(Conflict, match="changed since this amendment was written"):
        services.amendment_accept(actor=ana, amendment=other)
    proposal.refresh_from_db()
    assert (proposal.version, proposal.round, proposal.text) == (2, 2, "Mondays at seven.")
    assert Amendment.objects.get(pk=other.pk).status == AmendmentStatus.OPEN
    assert list(
        ProposalVersion.objects.filter(proposal=proposal).values_list("number", flat=True)
    ) == [1, 2]


def test_the_page_keeps_the_text_of_a_stale_amendment(four: dict[str, Any]) -> None:
    proposal = _open(four)
    cy = four["people"][2]
    client = _client(cy)
    page = client.get(proposal.get_absolute_url()).content.decode()
    assert re.search(r'name="amendment-base_version" value="1"', page)
    _to_version_two(four, proposal)  # meanwhile, Ben's amendment is accepted
    mine = "We meet on the first Tuesday — my careful wording."
    form = {
        "amendment-text": mine,
        "amendment-agreement_text": "",
        "amendment-reason": "Mondays are full.",
        "amendment-base_version": "1",
    }
    url = reverse("decisions:amendment_propose", args=[four["circle"].slug, proposal.pk])
    response = client.post(url, form)
    assert response.status_code == 409
    body = response.content.decode()
    assert "version 2 is now current" in body
    assert mine in body  # the text is kept, in the form
    assert re.search(r'name="amendment-base_version" value="2"', body)  # moved on
    assert "<details open>" in body  # the form is shown, not folded away
    assert "?from=1&amp;to=2" in body  # and what changed, one click away
    assert not Amendment.objects.filter(author=cy).exists()
    # Having seen the change, the member sends it again: now it is on version 2.
    response = client.post(url, {**form, "amendment-base_version": "2"})
    assert response.status_code == 302
    assert Amendment.objects.get(author=cy).based_on_version == 2


def test_the_api_refuses_a_stale_amendment_with_409(four: dict[str, Any]) -> None:
    proposal = _open(four)
    _to_version_two(four, proposal)
    client = token_client(four["people"][2])
    path = f"/circles/{four['circle'].slug}/proposals/{proposal.pk}/amendments"
    payload = {"text": "Tuesdays.", "reason": "Mondays are full.", "base_version": 1}
    body = assert_error(post_json(client, path, payload), 409, "base_version")
    assert "version 2 is now current" in body["error"]
    assert not Amendment.objects.filter(author=four["people"][2]).exists()
    ok = post_json(client, path, {**payload, "base_version": 2})
    assert ok.status_code == 201 and ok.json()["based_on_version"] == 2
    unnamed = post_json(client, path, {"text": "Wednesdays.", "reason": "Choice."})
    assert unnamed.status_code == 201 and unnamed.json()["based_on_version"] == 2


# --- comments ---------------------------------------------------------------------------------


def test_a_comment_edit_on_an_old_revision_is_refused(four: dict[str, Any]) -> None:
    ben = four["people"][1]
    proposal = _open(four)
    comment = services.comment_add(actor=ben, proposal=proposal, text="First thought.")
    assert services.comment_revision(comment) == 0
    services.comment_edit(actor=ben, comment=comment, text="Second thought.", base_revision=0)
    with pytest.raises(StaleEdit, match="edited again while you were writing") as err:
        services.comment_edit(actor=ben, comment=comment, text="Other tab.", base_revision=0)
    assert err.value.current == 1
    assert Comment.objects.get(pk=comment.pk).text == "Second thought."
    services.comment_edit(actor=ben, comment=comment, text="Third thought.", base_revision=1)
    assert services.comment_revision(comment) == 2


def test_the_comment_page_keeps_the_text_of_a_stale_edit(four: dict[str, Any]) -> None:
    ben = four["people"][1]
    proposal = _open(four)
    comment = services.comment_add(actor=ben, proposal=proposal, text="First thought.")
    client = _client(ben)
    url = reverse("decisions:comment_edit", args=[four["circle"].slug, proposal.pk, comment.pk])
    assert re.search(r'name="comment-base_revision" value="0"', client.get(url).content.decode())
    # Saved from another tab meanwhile:
    services.comment_edit(actor=ben, comment=comment, text="From the other tab.", base_revision=0)
    mine = "What I wrote in this tab, carefully."
    response = client.post(url, {"comment-text": mine, "comment-base_revision": "0"})
    assert response.status_code == 409
    body = response.content.decode()
    assert "edited again while you were writing" in body
    assert mine in body and "From the other tab." in body  # both: mine kept, theirs shown
    assert re.search(r'name="comment-base_revision" value="1"', body)
    assert Comment.objects.get(pk=comment.pk).text == "From the other tab."
    response = client.post(url, {"comment-text": mine, "comment-base_revision": "1"})
    assert response.status_code == 302
    assert Comment.objects.get(pk=comment.pk).text == mine


# --- agreements -------------------------------------------------------------------------------


def _adopted_agreement(four: dict[str, Any]) -> Agreement:
    proposal = _open(
        four,
        title="How we handle conflict",
        new_agreement_kind="conflict_procedure",
        new_agreement_title="Conflict procedure",
        agreement_text="Talk first.",
    )
    for p in four["people"]:
        services.position_take(actor=p, proposal=proposal, stance="agree")
    services.proposal_close(actor=four["people"][0], proposal=proposal, early=True)
    return Agreement.objects.get(title="Conflict procedure")


def test_an_agreement_is_revised_by_one_open_proposal_at_a_time(four: dict[str, Any]) -> None:
    agreement = _adopted_agreement(four)
    review = agreement_services.agreement_review_open(
        actor=four["people"][1], agreement=agreement, closes_at=timezone.now() + timedelta(days=5)
    )
    with pytest.raises(Conflict, match="already open") as err:
        _open(four, title="Rewrite it", agreement=agreement, agreement_text="Shout first.")
    assert "as an amendment" in str(err.value) and "agreement" in err.value.fields
    assert Proposal.objects.filter(agreement=agreement, status="open").count() == 1
    # The page keeps what was written.
    client = _client(four["people"][2])
    response = client.post(
        reverse("decisions:proposal_new", args=[four["circle"].slug]),
        {
            "title": "Rewrite it",
            "text": "My long argument for rewriting it.",
            "process": "consent",
            "closes_at": (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "adopts": "revise",
            "agreement": agreement.pk,
            "agreement_text": "Shout first, my careful text.",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "already open" in body and "Shout first, my careful text." in body
    assert review.title in body


def test_the_same_position_sent_twice_is_recorded_once(four: dict[str, Any]) -> None:
    ben = four["people"][1]
    proposal = _open(four)
    first = services.position_take(actor=ben, proposal=proposal, stance="concerns", reason="Hm.")
    again = services.position_take(actor=ben, proposal=proposal, stance="concerns", reason="Hm.")
    assert again.pk == first.pk
    assert Position.objects.filter(proposal=proposal, practitioner=ben).count() == 1
    changed = services.position_take(actor=ben, proposal=proposal, stance="agree")
    assert changed.pk != first.pk
    assert Position.objects.filter(proposal=proposal, practitioner=ben).count() == 2
