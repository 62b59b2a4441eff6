"""Finding 6 of issue 10: an agreement is read by whom its circle chose — by default the circle's
own audience, never wider — and a circle the viewer may not see is never named on federation
pages or in the API: it is "a circle"."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from circlework.agreements import rules, selectors, services
from circlework.agreements.models import Agreement
from circlework.circles.models import Circle
from circlework.core.errors import InvalidInput, NotAllowed
from circlework.core.models import AuditEvent
from circlework.decisions import services as decision_services
from circlework.decisions.models import Proposal
from circlework.decisions.services import agreement_proposals
from tests import factories
from tests.agreements.helpers import validated
from tests.api.helpers import token_client
from tests.conftest import login

pytestmark = pytest.mark.django_db

HIDDEN = "Quietmarker Circle"  # a members-only circle: its name must not leak
TEXT = "We meet monthly. MARKERQUIETTEXT"


def adopt(circle: Circle, members: list[Any], **fields: Any) -> Agreement:
    """Open a proposal adopting a new agreement, let every member agree, and close it."""
    visibility = fields.pop("visibility", None)
    proposal_fields: dict[str, Any] = {
        "actor": members[0],
        "circle": circle,
        "title": "Adopt it",
        "text": "Let us adopt it.",
        "closes_at": timezone.now() + timedelta(days=3),
        "new_agreement_kind": fields.pop("kind", "procedure"),
        "new_agreement_title": fields.pop("title", "Meeting procedure"),
        "agreement_text": fields.pop("text", TEXT),
        **fields,
    }
    if visibility is None:
        proposal = decision_services.proposal_open(**proposal_fields)
    else:
        proposal = agreement_proposals.agreement_propose(visibility=visibility, **proposal_fields)
    return _agree(proposal, members)


def _agree(proposal: Proposal, members: list[Any]) -> Agreement:
    for person in members:
        decision_services.position_take(actor=person, proposal=proposal, stance="agree")
    decision_services.proposal_close(actor=members[0], proposal=proposal, early=True)
    proposal.refresh_from_db()
    assert proposal.agreement_id is not None
    return Agreement.objects.get(pk=proposal.agreement_id)


@pytest.fixture
def fed(federation: Any) -> dict[str, Any]:
    q1, q2, p1, p2, f1 = (factories.make_practitioner(n) for n in ("Q1", "Q2", "P1", "P2", "F1"))
    quiet = factories.make_circle(
        founder=q1, federation=federation, members=[q2], name=HIDDEN, visibility="circle"
    )
    open_ = factories.make_circle(founder=p1, federation=federation, members=[p2], name="Open")
    forming = factories.make_circle(founder=f1, federation=federation, name="Forming One")
    validated(quiet, open_)
    return {
        "federation": federation,
        "quiet": quiet,
        "open": open_,
        "forming": forming,
        "q1": q1,
        "q2": q2,
        "p1": p1,
        "p2": p2,
        "f1": f1,
    }


# --- the agreement's own visibility -----------------------------------------------------------


def test_an_agreement_defaults_to_its_circles_own_visibility(fed: dict[str, Any]) -> None:
    quiet = adopt(fed["quiet"], [fed["q1"], fed["q2"]])
    assert quiet.visibility == "circle"
    public = adopt(fed["open"], [fed["p1"], fed["p2"]])
    assert public.visibility == "public"


def test_a_members_only_circles_agreement_stays_in_the_circle(fed: dict[str, Any]) -> None:
    agreement = adopt(fed["quiet"], [fed["q1"], fed["q2"]])
    url = agreement.get_absolute_url()
    assert login(Client(), fed["q2"]).get(url).status_code == 200
    for who in ("p1", "f1"):
        response = login(Client(), fed[who]).get(url)
        assert response.status_code in (403, 404)
        assert "MARKERQUIETTEXT" not in response.content.decode()
        assert agreement not in selectors.borrowable(user=fed[who].user)
    assert Client().get(url).status_code in (302, 403, 404)
    api = token_client(fed["p1"]).get(f"/api/v1/circles/{fed['quiet'].slug}/agreements")
    assert api.status_code == 404


def test_a_forming_circles_members_read_their_own_agreements(fed: dict[str, Any]) -> None:
    agreement = adopt(fed["forming"], [fed["f1"]])
    assert agreement.visibility == "public"
    Agreement.objects.filter(pk=agreement.pk).update(visibility="federation")
    assert login(Client(), fed["f1"]).get(agreement.get_absolute_url()).status_code == 200


def test_never_wider_than_the_circle_even_if_stored_wider(fed: dict[str, Any]) -> None:
    """An agreement stored wider than its circle (before this rule, or after the circle closed
    its page) is read as the circle's level."""
    agreement = adopt(fed["quiet"], [fed["q1"], fed["q2"]])
    Agreement.objects.filter(pk=agreement.pk).update(visibility="public")
    assert login(Client(), fed["p1"]).get(agreement.get_absolute_url()).status_code in (403, 404)
    assert Client().get(agreement.get_absolute_url()).status_code in (302, 403, 404)
    assert agreement.pk not in {a.pk for a in selectors.borrowable(user=fed["p1"].user)}


def test_a_public_circles_agreement_chosen_public_is_read_by_anyone(fed: dict[str, Any]) -> None:
    agreement = adopt(fed["open"], [fed["p1"], fed["p2"]], visibility="public")
    assert agreement.visibility == "public"
    body = Client().get(agreement.get_absolute_url()).content.decode()
    assert "MARKERQUIETTEXT" in body
    api = Client().get(f"/api/v1/circles/{fed['open'].slug}/agreements/{agreement.pk}")
    assert api.status_code == 200 and api.json()["visibility"] == "public"


def test_a_public_circle_may_keep_an_agreement_to_itself(fed: dict[str, Any]) -> None:
    agreement = adopt(fed["open"], [fed["p1"], fed["p2"]], visibility="circle")
    assert agreement.visibility == "circle"
    assert login(Client(), fed["q1"]).get(agreement.get_absolute_url()).status_code in (403, 404)


def _levels_offered(page: str) -> list[str]:
    return re.findall(r'name="new_agreement_visibility" value="(\w+)"', page)


def test_the_proposal_form_offers_no_wider_than_the_circle(fed: dict[str, Any]) -> None:
    client = login(Client(), fed["q1"])
    url = f"/circles/{fed['quiet'].slug}/decisions/new/"
    page = client.get(url + "?kind=new&agreement_kind=procedure").content.decode()
    assert _levels_offered(page) == ["circle"]
    data = {
        "title": "Adopt our procedure",
        "text": "Let us.",
        "process": "consent",
        "closes_at": (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "adopts": "new",
        "new_agreement_kind": "procedure",
        "new_agreement_title": "Procedure",
        "agreement_text": TEXT,
        "new_agreement_visibility": "public",
    }
    assert client.post(url, data).status_code == 400
    assert not Proposal.objects.filter(title="Adopt our procedure").exists()
    with pytest.raises(InvalidInput):
        adopt(fed["quiet"], [fed["q1"], fed["q2"]], visibility="federation")


def test_the_proposal_form_choice_is_applied_at_adoption(fed: dict[str, Any]) -> None:
    client = login(Client(), fed["p1"])
    url = f"/circles/{fed['open'].slug}/decisions/new/"
    page = client.get(url + "?kind=new&agreement_kind=procedure").content.decode()
    assert _levels_offered(page) == ["circle", "federation", "public"]
    assert re.search(r'name="new_agreement_visibility" value="public"[^>]* checked', page)
    response = client.post(
        url,
        {
            "title": "Adopt our procedure",
            "text": "Let us.",
            "process": "consent",
            "closes_at": (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "adopts": "new",
            "new_agreement_kind": "procedure",
            "new_agreement_title": "Procedure",
            "agreement_text": TEXT,
            "new_agreement_visibility": "federation",
        },
    )
    assert response.status_code == 302
    agreement = _agree(Proposal.objects.get(title="Adopt our procedure"), [fed["p1"], fed["p2"]])
    assert agreement.visibility == "federation"


def test_a_member_changes_who_reads_it_with_a_record(fed: dict[str, Any]) -> None:
    agreement = adopt(fed["open"], [fed["p1"], fed["p2"]], visibility="circle")
    changed = services.agreement_visibility_set(
        actor=fed["p2"], agreement=agreement, visibility="public"
    )
    assert changed.visibility == "public"
    assert AuditEvent.objects.filter(verb="agreement.visibility_changed").count() == 1
    with pytest.raises(NotAllowed):
        services.agreement_visibility_set(actor=fed["q1"], agreement=agreement, visibility="circle")
    quiet = adopt(fed["quiet"], [fed["q1"], fed["q2"]])
    with pytest.raises(InvalidInput):
        services.agreement_visibility_set(actor=fed["q1"], agreement=quiet, visibility="public")
    quiet.refresh_from_db()
    assert quiet.visibility == "circle"
    # Through the page.
    client = login(Client(), fed["p1"])
    response = client.post(
        f"/circles/{fed['open'].slug}/agreements/{agreement.pk}/visibility/",
        {"visibility": "federation"},
    )
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.visibility == "federation"
    # And through the API.
    api = token_client(fed["p2"]).post(
        f"/api/v1/circles/{fed['open'].slug}/agreements/{agreement.pk}/visibility",
        {"visibility": "circle"},
        content_type="application/json",
    )
    assert api.status_code == 200, api.content
    assert api.json()["visibility"] == "circle"


# --- a circle the viewer may not see is "a circle" ------------------------------------------------


@pytest.fixture
def borrowed(fed: dict[str, Any]) -> dict[str, Any]:
    """The hidden circle borrowed Open's public procedure and adopted it as its own."""
    source = adopt(fed["open"], [fed["p1"], fed["p2"]], visibility="public", title="Open rules")
    proposal = agreement_proposals.agreement_borrow(
        actor=fed["q1"],
        agreement=source,
        circle=fed["quiet"],
        closes_at=timezone.now() + timedelta(days=3),
    )
    copy = _agree(proposal, [fed["q1"], fed["q2"]])
    # Even chosen federation-wide (its circle's page is still members-only), its circle is
    # not named to those who may not see the circle.
    Agreement.objects.filter(pk=copy.pk).update(visibility="federation")
    return {**fed, "source": source, "copy": copy}


def _page(who: Any, url: str) -> str:
    client = login(Client(), who) if who is not None else Client()
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_the_lineage_names_no_hidden_circle(borrowed: dict[str, Any]) -> None:
    url = f"/federations/{borrowed['federation'].slug}/lineage/"
    assert HIDDEN in _page(borrowed["q1"], url)
    for who in (borrowed["p1"], borrowed["f1"], None):
        assert HIDDEN not in _page(who, url)


def test_the_source_agreement_names_no_hidden_borrower(borrowed: dict[str, Any]) -> None:
    url = borrowed["source"].get_absolute_url()
    for who in (borrowed["p1"], borrowed["f1"], None):
        assert HIDDEN not in _page(who, url)
    assert HIDDEN in _page(borrowed["q1"], url)


def test_the_borrowable_list_names_no_hidden_circle(borrowed: dict[str, Any]) -> None:
    # Quiet's own copy is federation-level: Open's members see it to borrow, but not its circle.
    body = _page(borrowed["p1"], f"/circles/{borrowed['open'].slug}/agreements/")
    assert HIDDEN not in body


def test_federation_proposals_name_no_hidden_circle(fed: dict[str, Any]) -> None:
    fp = decision_services.federation_proposal_open(
        actor=fed["q1"],
        circle=fed["quiet"],
        title="Meet twice a year",
        text="Shall we?",
        closes_at=timezone.now() + timedelta(days=10),
    )
    slug = fed["federation"].slug
    for url in (f"/federations/{slug}/decisions/", fp.get_absolute_url()):
        body = _page(fed["p1"], url)
        assert "Meet twice a year" in body
        assert HIDDEN not in body
        assert "a circle" in body
        assert HIDDEN in _page(fed["q2"], url)


def test_the_map_names_no_hidden_circle(fed: dict[str, Any]) -> None:
    url = f"/federations/{fed['federation'].slug}/map/"
    assert HIDDEN not in _page(fed["p1"], url)
    assert HIDDEN not in _page(None, url)
    assert HIDDEN in _page(fed["q1"], url)


def test_circulated_statements_name_no_hidden_circle(fed: dict[str, Any]) -> None:
    statement = adopt(fed["quiet"], [fed["q1"], fed["q2"]], kind="ethics", title="Our ethics")
    circulation = services.ethics_circulate(actor=fed["q1"], agreement=statement)
    slug = fed["federation"].slug
    for url in (f"/federations/{slug}/ethics/circulated/", circulation.get_absolute_url()):
        body = _page(fed["p1"], url)
        assert "Our ethics" in body and HIDDEN not in body
    api = token_client(fed["p1"]).get(f"/api/v1/circles/{fed['quiet'].slug}/ethics/circulations")
    assert api.status_code == 200
    assert api.json()[0]["circle_name"] == "a circle"
    assert HIDDEN not in api.content.decode()
    # Circulating does not open the statement itself wider than the circle.
    statement.refresh_from_db()
    assert statement.visibility == "circle"


def test_api_lists_name_no_hidden_circle(borrowed: dict[str, Any]) -> None:
    client = token_client(borrowed["p1"])
    listing = client.get(f"/api/v1/circles/{borrowed['open'].slug}/agreements")
    assert listing.status_code == 200 and HIDDEN not in listing.content.decode()
    copy = client.get(f"/api/v1/circles/{borrowed['quiet'].slug}/agreements/{borrowed['copy'].pk}")
    assert copy.status_code == 404


def test_a_borrowing_from_a_hidden_circle_says_a_circle(fed: dict[str, Any]) -> None:
    """Someone in both circles borrowed the procedure into Open while its circle shared it with
    the federation; the circle has since closed its page. Open's other members read the copy and
    that it came from "a circle", with no way to the original."""
    Circle.objects.filter(pk=fed["quiet"].pk).update(visibility="federation")
    fed["quiet"].refresh_from_db()
    source = adopt(fed["quiet"], [fed["q1"], fed["q2"]], title="Quiet rules")
    assert source.visibility == "federation"
    factories.add_member(fed["open"], fed["q1"], inviter=fed["p1"])
    validated(fed["open"])  # still validated once Q1 has joined
    proposal = agreement_proposals.agreement_borrow(
        actor=fed["q1"],
        agreement=source,
        circle=fed["open"],
        closes_at=timezone.now() + timedelta(days=3),
    )
    Circle.objects.filter(pk=fed["quiet"].pk).update(visibility="circle")
    copy = _agree(proposal, [fed["q1"], fed["p1"], fed["p2"]])
    assert copy.visibility == "public" and copy.borrowed_from == source.current_version
    detail = _page(fed["p2"], copy.get_absolute_url())
    assert "Borrowed from a circle" in detail and HIDDEN not in detail
    assert source.get_absolute_url() not in detail
    lineage = _page(None, f"/federations/{fed['federation'].slug}/lineage/")
    assert "Quiet rules" in lineage and HIDDEN not in lineage
    assert "Open borrowed from a circle" in lineage  # the picture's description
    assert HIDDEN in _page(fed["q1"], copy.get_absolute_url())


def test_an_ethical_statement_reaches_the_public_only_by_publishing(fed: dict[str, Any]) -> None:
    statement = adopt(fed["open"], [fed["p1"], fed["p2"]], kind="ethics", visibility="public")
    assert statement.visibility == "federation"
    with pytest.raises(InvalidInput):
        services.agreement_visibility_set(actor=fed["p1"], agreement=statement, visibility="public")
    services.ethics_publish(actor=fed["p1"], agreement=statement)
    statement.refresh_from_db()
    assert statement.visibility == "public"


LEVELS = ["circle", "federation", "public"]


@given(
    kind=st.sampled_from(["procedure", "ethics"]),
    chosen=st.sampled_from(LEVELS),
    circle_level=st.sampled_from(LEVELS),
)
def test_an_agreement_is_never_wider_than_its_circle(
    kind: str, chosen: str, circle_level: str
) -> None:
    width = {level: i for i, level in enumerate(LEVELS)}
    offered = rules.agreement_levels(circle_level)
    assert offered == LEVELS[: width[circle_level] + 1]
    assert rules.default_level(circle_level) == circle_level
    adopted = rules.adopted_level(kind, chosen, circle_level)
    assert width[adopted] <= min(width[chosen], width[circle_level])
    assert adopted == (chosen if chosen in offered else circle_level) or kind == "ethics"
    effective = rules.effective_level(chosen, circle_level)
    assert rules.effective_level(effective, circle_level) == effective


def test_the_migration_narrows_agreements_wider_than_their_circle(fed: dict[str, Any]) -> None:
    """agreements 0005, on historical models (called here directly)."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "circlework.agreements.migrations.0005_agreement_visibility_chosen_by_circle"
    )
    quiet = adopt(fed["quiet"], [fed["q1"], fed["q2"]])
    public = adopt(fed["open"], [fed["p1"], fed["p2"]], visibility="federation")
    Agreement.objects.filter(pk=quiet.pk).update(visibility="federation")
    migration.narrow_to_the_circle(apps, None)
    assert Agreement.objects.get(pk=quiet.pk).visibility == "circle"
    assert Agreement.objects.get(pk=public.pk).visibility == "federation"


def test_a_circulation_is_told_to_the_federation_without_a_hidden_name(
    fed: dict[str, Any],
) -> None:
    from circlework.notifications.models import Notification

    statement = adopt(fed["quiet"], [fed["q1"], fed["q2"]], kind="ethics", title="Our ethics")
    Notification.objects.all().delete()
    services.ethics_circulate(actor=fed["q1"], agreement=statement)
    told = {n.recipient_id: n.title for n in Notification.objects.all()}
    # The validated circles' members and the circle's own; not the forming circle's member.
    assert set(told) == {fed["q2"].pk, fed["p1"].pk, fed["p2"].pk}
    assert HIDDEN in told[fed["q2"].pk]
    assert HIDDEN not in told[fed["p1"].pk] and "A circle" in told[fed["p1"].pk]


@given(
    kind=st.sampled_from(["ethics", "procedure", "policy"]),
    current=st.sampled_from(["circle", "federation", "public"]),
    page=st.sampled_from(["circle", "federation", "public"]),
)
def test_what_members_may_change_an_agreement_to(kind: str, current: str, page: str) -> None:
    """The form's choices are the service's rule: never wider than the circle's page, and an
    ethical statement reaches the public only by being published."""
    choices = rules.visibility_choices(kind, current, page)
    assert set(choices) <= set(rules.agreement_levels(page))
    assert all(rules.may_change_to(kind, current, level) for level in choices)
    if kind == "ethics" and current != "public":
        assert "public" not in choices
