"""Ethical statements: each circle's own, circulated to the federation for comment and published
on the public register. No central code of ethics; comments never reach the public."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from circlework.agreements import services
from circlework.agreements.models import (
    Agreement,
    AgreementKind,
    EthicsCirculation,
    EthicsComment,
)
from circlework.core.errors import Conflict, InvalidInput, NotAllowed
from circlework.decisions import services as decision_services
from circlework.decisions.models import Proposal
from circlework.notifications.models import Notification, NotificationKind
from tests import factories
from tests.agreements.helpers import validated
from tests.conftest import login

pytestmark = pytest.mark.django_db

STATEMENT = "We put our clients first. MARKERSTATEMENTTEXT"
COMMENT = "Consider adding endings. MARKERCOMMENTTEXT"
DRAFT = "Our draft: we keep confidences. MARKERDRAFTTEXT"


def adopt(circle: Any, members: list[Any], *, kind: str = "ethics", text: str = STATEMENT) -> Any:
    proposal = decision_services.proposal_open(
        actor=members[0],
        circle=circle,
        title="Adopt our statement",
        text="Let us adopt it.",
        closes_at=timezone.now() + timedelta(days=3),
        new_agreement_kind=kind,
        new_agreement_title="Ethical statement" if kind == "ethics" else "Procedure",
        agreement_text=text,
    )
    for person in members:
        decision_services.position_take(actor=person, proposal=proposal, stance="agree")
    decision_services.proposal_close(actor=members[0], proposal=proposal, early=True)
    proposal.refresh_from_db()
    assert proposal.agreement_id is not None
    return Agreement.objects.get(pk=proposal.agreement_id)


def draft(circle: Any, author: Any) -> Proposal:
    return decision_services.proposal_open(
        actor=author,
        circle=circle,
        title="Our ethical statement (draft)",
        text="A first draft.",
        closes_at=timezone.now() + timedelta(days=10),
        new_agreement_kind="ethics",
        new_agreement_title="Ethical statement",
        agreement_text=DRAFT,
    )


@pytest.fixture
def world(federation: Any) -> dict[str, Any]:
    a1, a2, b1, out = (factories.make_practitioner(n) for n in ("Asha", "Abe", "Bea", "Otto"))
    ca = factories.make_circle(founder=a1, federation=federation, members=[a2], name="Alpha")
    cb = factories.make_circle(founder=b1, federation=federation, name="Beta")
    far = factories.make_federation("Far Away")
    elsewhere = factories.make_circle(founder=out, federation=far, name="Elsewhere")
    # Validated circles: their members are "the federation" that reads circulated statements.
    validated(ca, cb, elsewhere)
    statement = adopt(ca, [a1, a2])
    return {
        "federation": federation,
        "ca": ca,
        "cb": cb,
        "a1": a1,
        "a2": a2,
        "b1": b1,
        "out": out,
        "statement": statement,
    }


# --- circulation ------------------------------------------------------------------------------


def test_a_member_circulates_and_every_circle_is_told(world: dict[str, Any]) -> None:
    Notification.objects.all().delete()
    circulation = services.ethics_circulate(actor=world["a1"], agreement=world["statement"])
    assert circulation.version == world["statement"].current_version
    assert circulation.text == STATEMENT and not circulation.is_draft
    told = {n.recipient_id for n in Notification.objects.filter(kind=NotificationKind.ETHICS)}
    assert told == {world["a2"].pk, world["b1"].pk}  # not the outsider in another federation
    # Circulating the same text again is refused until it changes.
    with pytest.raises(Conflict):
        services.ethics_circulate(actor=world["a2"], agreement=world["statement"])


def test_only_the_circles_members_circulate(world: dict[str, Any]) -> None:
    for who in ("b1", "out"):
        with pytest.raises(NotAllowed):
            services.ethics_circulate(actor=world[who], agreement=world["statement"])
    assert not EthicsCirculation.objects.exists()


def test_only_an_ethical_statement_is_circulated(world: dict[str, Any]) -> None:
    procedure = adopt(world["ca"], [world["a1"], world["a2"]], kind="procedure", text="Monthly")
    with pytest.raises(InvalidInput):
        services.ethics_circulate(actor=world["a1"], agreement=procedure)
    other = decision_services.proposal_open(
        actor=world["a1"],
        circle=world["ca"],
        title="A question",
        text="Shall we?",
        closes_at=timezone.now() + timedelta(days=3),
    )
    with pytest.raises(InvalidInput):
        services.ethics_circulate(actor=world["a1"], proposal=other)
    with pytest.raises(InvalidInput):
        services.ethics_circulate(actor=world["a1"])
    assert not EthicsCirculation.objects.exists()


def test_a_circle_only_statement_becomes_readable_in_the_federation(world: dict[str, Any]) -> None:
    Agreement.objects.filter(pk=world["statement"].pk).update(visibility="circle")
    world["statement"].refresh_from_db()
    services.ethics_circulate(actor=world["a1"], agreement=world["statement"])
    world["statement"].refresh_from_db()
    assert world["statement"].visibility == "federation"


def test_a_draft_is_circulated_before_the_circle_decides(world: dict[str, Any]) -> None:
    proposal = draft(world["ca"], world["a1"])
    circulation = services.ethics_circulate(actor=world["a2"], proposal=proposal)
    assert circulation.is_draft and circulation.text == DRAFT and circulation.agreement is None
    decision_services.proposal_withdraw(actor=world["a1"], proposal=proposal)
    with pytest.raises(Conflict):
        services.ethics_circulate(actor=world["a2"], proposal=proposal)


def test_members_of_other_circles_comment_and_the_circle_is_told(world: dict[str, Any]) -> None:
    circulation = services.ethics_circulate(actor=world["a1"], agreement=world["statement"])
    Notification.objects.all().delete()
    comment = services.ethics_comment_add(actor=world["b1"], circulation=circulation, text=COMMENT)
    assert comment.author_circle == world["cb"]
    told = {n.recipient_id for n in Notification.objects.filter(kind=NotificationKind.ETHICS)}
    assert told == {world["a1"].pk, world["a2"].pk}
    with pytest.raises(NotAllowed):
        services.ethics_comment_add(actor=world["out"], circulation=circulation, text="Hello")
    with pytest.raises(InvalidInput):
        services.ethics_comment_add(actor=world["b1"], circulation=circulation, text="   ")
    assert EthicsComment.objects.count() == 1


# --- publication ------------------------------------------------------------------------------


def test_only_an_adopted_statement_is_published(world: dict[str, Any]) -> None:
    unadopted = Agreement.objects.create(
        circle=world["ca"], kind=AgreementKind.ETHICS, title="Not yet"
    )
    with pytest.raises(Conflict):
        services.ethics_publish(actor=world["a1"], agreement=unadopted)
    procedure = adopt(world["ca"], [world["a1"], world["a2"]], kind="procedure", text="Monthly")
    with pytest.raises(InvalidInput):
        services.ethics_publish(actor=world["a1"], agreement=procedure)
    with pytest.raises(NotAllowed):
        services.ethics_publish(actor=world["b1"], agreement=world["statement"])
    published = services.ethics_publish(actor=world["a2"], agreement=world["statement"])
    assert published.visibility == "public"
    with pytest.raises(Conflict):
        services.ethics_publish(actor=world["a2"], agreement=world["statement"])


def test_a_circle_only_circle_must_open_its_page_first(world: dict[str, Any]) -> None:
    from circlework.circles.models import Circle

    Circle.objects.filter(pk=world["ca"].pk).update(visibility="federation")
    statement = Agreement.objects.get(pk=world["statement"].pk)
    with pytest.raises(Conflict):
        services.ethics_publish(actor=world["a1"], agreement=statement)
    statement.refresh_from_db()
    assert statement.visibility == "federation"


def test_the_public_reads_published_statements_side_by_side(world: dict[str, Any]) -> None:
    register = f"/federations/{world['federation'].slug}/ethics/"
    assert "MARKERSTATEMENTTEXT" not in Client().get(register).content.decode()
    services.ethics_publish(actor=world["a1"], agreement=world["statement"])
    beta = adopt(world["cb"], [world["b1"]], text="Beta's own words. MARKERBETATEXT")
    services.ethics_publish(actor=world["b1"], agreement=beta)
    body = Client().get(register).content.decode()
    assert "MARKERSTATEMENTTEXT" in body and "MARKERBETATEXT" in body
    assert "no central code of ethics" in body
    assert f"/federations/{world['federation'].slug}/lineage/" in body
    circle_page = Client().get(world["ca"].get_absolute_url()).content.decode()
    assert "Ethical statement (version 1, adopted" in circle_page
    assert "MARKERSTATEMENTTEXT" in circle_page


# --- pages: who sees what ---------------------------------------------------------------------


@pytest.fixture
def discussed(world: dict[str, Any]) -> dict[str, Any]:
    circulation = services.ethics_circulate(actor=world["a1"], agreement=world["statement"])
    services.ethics_comment_add(actor=world["b1"], circulation=circulation, text=COMMENT)
    services.ethics_publish(actor=world["a1"], agreement=world["statement"])
    return {**world, "circulation": circulation}


@pytest.mark.parametrize(
    ("who", "sees_comments"), [("a2", True), ("b1", True), ("out", False), (None, False)]
)
def test_comments_only_for_the_federation(
    discussed: dict[str, Any], who: str | None, sees_comments: bool
) -> None:
    client = login(Client(), discussed[who]) if who else Client()
    detail = client.get(discussed["statement"].get_absolute_url())
    assert detail.status_code == 200  # the statement is published
    body = detail.content.decode()
    assert "MARKERSTATEMENTTEXT" in body
    assert ("MARKERCOMMENTTEXT" in body) is sees_comments
    page = client.get(discussed["circulation"].get_absolute_url())
    if sees_comments:
        assert page.status_code == 200 and "MARKERCOMMENTTEXT" in page.content.decode()
    else:
        assert page.status_code in (302, 403)
        assert "MARKERCOMMENTTEXT" not in page.content.decode()
    listing = client.get(f"/federations/{discussed['federation'].slug}/ethics/circulated/")
    assert (listing.status_code == 200) is sees_comments


def test_buttons_for_the_circles_members_only(world: dict[str, Any]) -> None:
    url = world["statement"].get_absolute_url()
    member = login(Client(), world["a1"]).get(url).content.decode()
    assert "Circulate to the federation" in member and "Publish on the public register" in member
    other = login(Client(), world["b1"]).get(url).content.decode()
    assert "Circulate to the federation" not in other and "Publish on the public" not in other


def test_the_flow_through_pages(world: dict[str, Any]) -> None:
    statement = world["statement"]
    slug = world["ca"].slug
    member = login(Client(), world["a1"])
    other = login(Client(), world["b1"])
    outsider = login(Client(), world["out"])
    assert other.post(f"/circles/{slug}/agreements/{statement.pk}/circulate/").status_code == 403
    response = member.post(f"/circles/{slug}/agreements/{statement.pk}/circulate/")
    assert response.status_code == 302
    circulation = EthicsCirculation.objects.get()
    comment_url = f"/circles/{slug}/ethics/circulated/{circulation.pk}/comments/"
    assert outsider.post(comment_url, {"text": "Hi"}).status_code == 403
    assert Client().post(comment_url, {"text": "Hi"}).status_code == 302  # to log in
    assert other.post(comment_url, {"text": ""}).status_code == 400
    response = other.post(comment_url, {"text": COMMENT, "back": "agreement"})
    assert response.status_code == 302 and response["Location"].endswith("#ethics-comments")
    assert EthicsComment.objects.get().text == COMMENT
    assert other.post(f"/circles/{slug}/agreements/{statement.pk}/publish/").status_code == 403
    assert member.post(f"/circles/{slug}/agreements/{statement.pk}/publish/").status_code == 302
    statement.refresh_from_db()
    assert statement.visibility == "public"
    # A draft, from the agreements page.
    proposal = draft(world["ca"], world["a2"])
    page = member.get(f"/circles/{slug}/agreements/").content.decode()
    assert "Circulate this draft to the federation" in page
    url = f"/circles/{slug}/ethics/drafts/{proposal.pk}/circulate/"
    assert other.post(url).status_code == 403
    response = member.post(url)
    assert response.status_code == 302
    assert EthicsCirculation.objects.filter(proposal=proposal).exists()
    again = member.post(url)
    assert (
        again.status_code == 302
        and EthicsCirculation.objects.filter(proposal=proposal).count() == 1
    )


def test_a_hidden_name_stays_hidden(world: dict[str, Any]) -> None:
    from circlework.accounts import services as account_services

    world["b1"] = account_services.practitioner_update(
        actor=world["b1"], practitioner=world["b1"], changes={"display_name_visibility": "circle"}
    )
    circulation = services.ethics_circulate(actor=world["a1"], agreement=world["statement"])
    services.ethics_comment_add(actor=world["b1"], circulation=circulation, text=COMMENT)
    body = login(Client(), world["a1"]).get(circulation.get_absolute_url()).content.decode()
    assert "Bea" not in body and "a member of Beta" in body
    note = Notification.objects.filter(recipient=world["a1"], kind="ethics").latest("id")
    assert "Bea" not in note.title
