"""Who counts as "the federation": founding a circle gives no federation-level reach.

The attack (issue 10, finding 1): a new sign-up founds a one-person circle in the federation
(`POST /api/v1/circles` → 201) and at once read every federation-level record, and their silent
circle held every covenant change for ever. The federation is the circles it has validated
(`circles.covenant.counts_in_federation`): its audience, its elections' electorate and the
circles whose consent its decisions need. A forming circle's members see the public's view, what
the circles they asked for links share with them, and what the covenant lets forming circles
do (`forming_circles_may`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from circlework.accounts import services as account_services
from circlework.agreements import services as agreement_services
from circlework.circles import services as circle_services
from circlework.circles.covenant import (
    FederationRules,
    FormingCirclesMay,
    counts_in_federation,
    covenant_parameters_check,
    federation_circles,
    federation_members,
    rules_from,
    rules_in_words,
)
from circlework.circles.models import Circle, CircleStatus, CovenantVersion
from circlework.core.errors import InvalidInput, NotAllowed
from circlework.core.permissions import allowed
from circlework.core.visibility import FEDERATION_STATUSES
from circlework.decisions import services as decision_services
from circlework.decisions import tasks as decision_tasks
from circlework.decisions.models import FederationProposal
from circlework.elections import selectors as election_selectors
from circlework.elections import services as election_services
from circlework.links import services as link_services
from circlework.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db

MARK_STATEMENT = "MARK-FEDERATION-STATEMENT"
MARK_CREDENTIAL = "MARK-FEDERATION-CREDENTIAL"
MARK_AGREEMENT = "MARK-FEDERATION-AGREEMENT"
MARK_ETHICS = "MARK-CIRCULATED-ETHICS-DRAFT"
MARK_PROPOSAL = "MARK-FEDERATION-PROPOSAL"
MARK_ELECTION = "MARK-FEDERATION-ELECTION"
MARK_MANDATE = "MARK-FEDERATION-MANDATE"
MARKS = (
    MARK_STATEMENT,
    MARK_CREDENTIAL,
    MARK_AGREEMENT,
    MARK_ETHICS,
    MARK_PROPOSAL,
    MARK_ELECTION,
    MARK_MANDATE,
)
COVENANT = "We stand by each other's work.\n\nEach circle links with three others."


def _later(days: float) -> Any:
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def fed(federation: Any) -> dict[str, Any]:
    """Two validated circles (Leeds, York) of a federation that asks links of its circles, and
    a record of every federation-level kind, each carrying its MARK."""
    ruth = factories.make_practitioner(
        "Ruth",
        display_name_visibility="federation",
        statement=MARK_STATEMENT,
        statement_visibility="federation",
    )
    tom = factories.make_practitioner("Tom", display_name_visibility="federation")
    sam = factories.make_practitioner("Sam", display_name_visibility="federation")
    leeds = factories.make_circle(founder=ruth, federation=federation, members=[tom], name="Leeds")
    york = factories.make_circle(founder=sam, federation=federation, name="York")
    factories.validate_circle(leeds, ruth, tom)
    factories.validate_circle(york, sam)
    credential = account_services.credential_add(
        actor=ruth, title=MARK_CREDENTIAL, issuer="Institute", year=2010, visibility="federation"
    )
    # An agreement of Leeds, shared with the federation.
    adopting = decision_services.proposal_open(
        actor=ruth,
        circle=leeds,
        title="Adopt a procedure",
        text="Let us.",
        closes_at=_later(3),
        new_agreement_kind="procedure",
        new_agreement_title=MARK_AGREEMENT,
        agreement_text="We meet monthly.",
    )
    for person in (ruth, tom):
        decision_services.position_take(actor=person, proposal=adopting, stance="agree")
    decision_services.proposal_close(actor=ruth, proposal=adopting, early=True)
    adopting.refresh_from_db()
    agreement = adopting.agreement
    assert agreement is not None
    if agreement.visibility != "federation":
        agreement = agreement_services.agreement_visibility_set(
            actor=ruth, agreement=agreement, visibility="federation"
        )
    # An ethics draft circulated round the federation.
    draft = decision_services.proposal_open(
        actor=ruth,
        circle=leeds,
        title="Our ethical statement (draft)",
        text="A draft.",
        closes_at=_later(5),
        new_agreement_kind="ethics",
        new_agreement_title="Ethical statement",
        agreement_text=MARK_ETHICS,
    )
    circulation = agreement_services.ethics_circulate(actor=ruth, proposal=draft)
    # Federation mandates, an election and a proposal that revises the covenant.
    factories.grant_mandate("delegate", tom, circle=leeds)
    factories.grant_mandate("delegate", sam, circle=york)
    mandate = factories.grant_mandate(
        "coordinator", ruth, federation=federation, handover_plan=MARK_MANDATE
    )
    election = election_services.election_open(
        actor=ruth,
        role="registrar",
        federation=federation,
        nominations_close_at=_later(2),
        voting_closes_at=_later(9),
        description=MARK_ELECTION,
    )
    fp = decision_services.federation_proposal_open(
        actor=ruth,
        circle=leeds,
        title=MARK_PROPOSAL,
        text="Validation should reach further.",
        closes_at=_later(21),
        covenant_text=COVENANT,
        covenant_parameters={"links_required": 3},
    )
    return {
        "federation": federation,
        "ruth": ruth,
        "tom": tom,
        "sam": sam,
        "leeds": leeds,
        "york": york,
        "credential": credential,
        "agreement": agreement,
        "circulation": circulation,
        "mandate": mandate,
        "election": election,
        "fp": fp,
    }


def _found_by_api(client: Client, federation: Any, name: str = "Mallory's Circle") -> Circle:
    response = client.post(
        "/api/v1/circles",
        {"federation": federation.slug, "name": name, "purpose": "Just me."},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content[:300]
    circle = Circle.objects.get(slug=response.json()["slug"])
    assert circle.status == CircleStatus.FORMING and not counts_in_federation(circle)
    return circle


def _pages(fed: dict[str, Any]) -> list[str]:
    slug, leeds = fed["federation"].slug, fed["leeds"].slug
    return [
        f"/practitioners/{fed['ruth'].pk}/",
        f"/circles/{leeds}/agreements/",
        f"/circles/{leeds}/agreements/{fed['agreement'].pk}/",
        f"/federations/{slug}/lineage/",
        f"/federations/{slug}/ethics/circulated/",
        f"/circles/{leeds}/ethics/circulated/{fed['circulation'].pk}/",
        f"/federations/{slug}/mandates/",
        f"/federations/{slug}/elections/",
        f"/elections/{fed['election'].pk}/",
        f"/federations/{slug}/decisions/",
        f"/federations/{slug}/decisions/{fed['fp'].pk}/",
    ]


def _api(fed: dict[str, Any]) -> list[str]:
    slug, leeds = fed["federation"].slug, fed["leeds"].slug
    return [
        f"/api/v1/practitioners/{fed['ruth'].pk}",
        f"/api/v1/circles/{leeds}/agreements",
        f"/api/v1/circles/{leeds}/agreements/{fed['agreement'].pk}",
        f"/api/v1/circles/{leeds}/ethics/circulations",
        f"/api/v1/federations/{slug}/mandates",
        f"/api/v1/federations/{slug}/elections",
    ]


def _marks_in(client: Client, paths: list[str]) -> dict[str, list[str]]:
    """Which MARKs each path shows this client (a refusal shows none)."""
    seen: dict[str, list[str]] = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        body = response.content.decode()
        found = [m for m in MARKS if m in body]
        if found:
            seen[path] = found
    return seen


def test_a_new_sign_up_founding_a_circle_reaches_nothing_of_the_federation(
    fed: dict[str, Any],
) -> None:
    mallory = factories.make_practitioner("Mallory")
    client = Client()
    client.force_login(mallory.user)
    assert _marks_in(client, _pages(fed) + _api(fed)) == {}
    mine = _found_by_api(client, fed["federation"])  # founding is allowed…
    assert _marks_in(client, _pages(fed) + _api(fed)) == {}  # …and reaches nothing more
    # The covenant's API does not point them to the proposal that adopted a version.
    covenant = client.get(f"/api/v1/federations/{fed['federation'].slug}/covenant").json()
    assert all(v["federation_proposal_id"] is None for v in covenant["versions"])
    # Nor can they act for the federation: raise a proposal, form or record a position, vote.
    assert client.get(f"/federations/{fed['federation'].slug}/decisions/new/").status_code in (
        403,
        404,
    )
    with pytest.raises(NotAllowed, match="forming circle"):
        decision_services.federation_proposal_open(
            actor=mallory,
            circle=mine,
            title="Mine",
            text="Mine.",
            closes_at=_later(21),
        )
    with pytest.raises(NotAllowed, match="forming circle"):
        decision_services.proposal_open(
            actor=mallory,
            circle=mine,
            title="Our position",
            text="-",
            closes_at=_later(5),
            federation_proposal=fed["fp"],
        )
    factories.grant_mandate("delegate", mallory, circle=mine)
    with pytest.raises(NotAllowed, match="forming circle"):
        decision_services.circle_position_record(
            actor=mallory,
            federation_proposal=fed["fp"],
            circle=mine,
            stance="block",
            reason="Because I can.",
        )
    assert mallory.pk not in election_selectors.electorate_ids(fed["election"])
    response = client.post(
        f"/api/v1/federations/{fed['federation'].slug}/elections",
        {
            "role": "registrar",
            "nominations_close_at": _later(2).isoformat(),
            "voting_closes_at": _later(9).isoformat(),
        },
        content_type="application/json",
    )
    assert response.status_code in (403, 404, 409)


def test_a_validated_circles_member_still_reads_the_federation(fed: dict[str, Any]) -> None:
    """The control: Sam, of York (validated), reads what the federation shares."""
    client = Client()
    client.force_login(fed["sam"].user)
    seen = _marks_in(client, _pages(fed) + _api(fed))
    assert {m for marks in seen.values() for m in marks} == set(MARKS)


def test_a_silent_forming_circle_cannot_hold_a_covenant_change(fed: dict[str, Any]) -> None:
    mallory = factories.make_practitioner("Mallory")
    client = Client()
    client.force_login(mallory.user)
    _found_by_api(client, fed["federation"])
    fp = fed["fp"]
    for delegate, circle in ((fed["tom"], fed["leeds"]), (fed["sam"], fed["york"])):
        decision_services.circle_position_record(
            actor=delegate,
            federation_proposal=fp,
            circle=circle,
            stance="agree",
            reason="Agreed in the circle.",
        )
    verdict = decision_services.federation_verdict(fp)
    assert verdict.passes and not verdict.missing
    with time_machine.travel(fp.closes_at + timedelta(minutes=1)):
        decision_tasks.sweep_deadlines.call()
    fp.refresh_from_db()
    assert fp.passed is True
    assert CovenantVersion.objects.filter(federation=fed["federation"]).count() == 2
    # Mallory is told the covenant changed (it binds forming circles too), not by which decision.
    told = Notification.objects.get(recipient=mallory, kind="covenant")
    assert fp.title not in f"{told.title} {told.body}"
    member_told = Notification.objects.get(recipient=fed["tom"], kind="covenant")
    assert fp.title in member_told.body


def test_a_validated_circles_silence_still_holds_the_covenant(fed: dict[str, Any]) -> None:
    fp = fed["fp"]
    decision_services.circle_position_record(
        actor=fed["tom"], federation_proposal=fp, circle=fed["leeds"], stance="agree", reason="Yes"
    )
    verdict = decision_services.federation_verdict(fp)
    assert not verdict.passes and verdict.missing == {fed["york"].pk}
    assert verdict.about == {"missing": [fed["york"].pk]}  # by id: named when read


def test_a_circle_whose_validation_lapses_stops_counting(fed: dict[str, Any]) -> None:
    """York leaves the federation's count when its validation lapses: its position no longer
    counts, and its silence no longer holds anything (its members leave the electorate too)."""
    fp = fed["fp"]
    decision_services.circle_position_record(
        actor=fed["sam"], federation_proposal=fp, circle=fed["york"], stance="block", reason="No"
    )
    assert not decision_services.federation_verdict(fp).passes
    Circle.objects.filter(pk=fed["york"].pk).update(status=CircleStatus.FORMING)
    decision_services.circle_position_record(
        actor=fed["tom"], federation_proposal=fp, circle=fed["leeds"], stance="agree", reason="Yes"
    )
    assert decision_services.federation_verdict(fp).passes
    assert fed["sam"].pk not in election_selectors.electorate_ids(fed["election"])
    assert [c.name for c in federation_circles(fed["federation"])] == ["Leeds"]


def test_federation_proposal_news_goes_to_the_federation_only(fed: dict[str, Any]) -> None:
    mallory = factories.make_practitioner("Mallory")
    circle_services.circle_found(
        actor=mallory, federation=fed["federation"], name="Mine", purpose="Just me."
    )
    decision_services.federation_proposal_open(
        actor=fed["sam"],
        circle=fed["york"],
        title="A gathering",
        text="In spring.",
        closes_at=_later(21),
    )
    told = set(
        Notification.objects.filter(url__contains="/decisions/").values_list(
            "recipient_id", flat=True
        )
    )
    assert mallory.pk not in told and fed["ruth"].pk in told
    assert set(federation_members(fed["federation"]).values_list("pk", flat=True)) == {
        fed["ruth"].pk,
        fed["tom"].pk,
        fed["sam"].pk,
    }


def test_a_forming_circle_asking_for_a_link_still_sees_its_link(fed: dict[str, Any]) -> None:
    """What circles share with a forming circle through a link request: its members still see
    the link they asked for, with its private parts."""
    olu = factories.make_practitioner("Olu")
    forming = factories.make_circle(founder=olu, federation=fed["federation"], name="Manchester")
    link = link_services.link_request(
        actor=olu,
        asking_circle=forming,
        validating_circle=fed["leeds"],
        message="We would value your eyes on our process.",
        reciprocal=False,
    )
    client = Client()
    client.force_login(olu.user)
    page = client.get(link.get_absolute_url())
    assert page.status_code == 200
    assert "We would value your eyes on our process." in page.content.decode()
    assert allowed("links.view_private", olu.user, link)


# --- what the covenant lets forming circles do ----------------------------------------------------


def test_by_default_forming_circles_follow_nothing_and_the_covenant_page_says_so(
    fed: dict[str, Any],
) -> None:
    olu = factories.make_practitioner("Olu")
    factories.make_circle(founder=olu, federation=fed["federation"], name="Manchester")
    assert not allowed("decisions.view_federation_decisions", olu.user, fed["federation"])
    page = Client().get(f"/federations/{fed['federation'].slug}/covenant/").content.decode()
    assert "a forming circle (not yet validated) is not yet the federation" in page
    assert "with no say in the federation&#x27;s decisions, its elections or the covenant" in page


def test_a_covenant_can_let_forming_circles_follow_federation_decisions() -> None:
    federation = circle_services.federation_create(
        actor=None,
        name="Open Federation",
        covenant="We decide in the open.",
        covenant_parameters={
            "forming_circles_may": [FormingCirclesMay.FOLLOW_FEDERATION_DECISIONS],
            "links_required": 0,
            "min_circle_size": 2,
        },
    )
    ruth, tom, olu = (factories.make_practitioner(n) for n in ("Ruth", "Tom", "Olu"))
    leeds = factories.make_circle(founder=ruth, federation=federation, members=[tom])
    leeds.refresh_from_db()
    assert counts_in_federation(leeds)
    factories.validate_circle(leeds, ruth, tom)
    forming = factories.make_circle(founder=olu, federation=federation, name="Manchester")
    fp = decision_services.federation_proposal_open(
        actor=ruth, circle=leeds, title="A gathering", text="In spring.", closes_at=_later(21)
    )
    assert Notification.objects.filter(recipient=olu, url=fp.get_absolute_url()).exists()
    listed = Client().get("/api/v1/federations").json()
    assert [f["rules"]["forming_circles_may"] for f in listed if f["slug"] == federation.slug] == [
        [FormingCirclesMay.FOLLOW_FEDERATION_DECISIONS]
    ]
    client = Client()
    client.force_login(olu.user)
    page = client.get(fp.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert "A gathering" in body and "Manchester is a forming circle" in body
    assert "Open a proposal in this circle" not in body  # no say
    assert client.get(f"/federations/{federation.slug}/decisions/new/").status_code == 403
    assert (
        client.post(
            f"/federations/{federation.slug}/decisions/{fp.pk}/deliberate/",
            {"circle": forming.pk},
        ).status_code
        == 403
    )
    verdict = decision_services.federation_verdict(fp)
    assert verdict.missing == {leeds.pk}  # the forming circle is not asked
    # Following decisions is all: the rest of the federation's records stay out of reach.
    assert client.get(f"/federations/{federation.slug}/mandates/").status_code in (403, 404)
    assert "follow" not in rules_in_words(FederationRules())
    assert "the federation's decisions, with no say" in rules_in_words(federation_rules_of(fp))


def federation_rules_of(fp: Any) -> FederationRules:
    from circlework.circles.covenant import federation_rules

    return federation_rules(fp.federation)


def test_the_covenant_form_sets_what_forming_circles_may(fed: dict[str, Any]) -> None:
    client = Client()
    client.force_login(fed["ruth"].user)
    slug = fed["federation"].slug
    form = client.get(f"/federations/{slug}/decisions/new/").content.decode()
    assert 'name="forming_circles_may"' in form
    response = client.post(
        f"/federations/{slug}/decisions/new/",
        {
            "circle": fed["leeds"].pk,
            "title": "Let forming circles follow",
            "text": "They learn how we decide.",
            "closes_at": _later(21).strftime("%Y-%m-%dT%H:%M"),
            "revise_covenant": "on",
            "covenant_text": "We stand by each other's work, in the open.",
            "min_circle_size": 4,
            "links_required": 2,
            "link_lapse_months": 24,
            "officer_electorate": "delegates",
            "review_months": 24,
            "forming_circles_may": [FormingCirclesMay.FOLLOW_FEDERATION_DECISIONS],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    fp = FederationProposal.objects.get(title="Let forming circles follow")
    assert fp.covenant_parameters["forming_circles_may"] == [
        FormingCirclesMay.FOLLOW_FEDERATION_DECISIONS
    ]


# --- the covenant parameter, checked and read -----------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["follow_federation_decisions", ["everything"], [1], ["follow_federation_decisions"] * 2, {}],
)
def test_the_check_refuses_unknown_forming_allowances(value: Any) -> None:
    with pytest.raises(InvalidInput) as exc:
        covenant_parameters_check({"forming_circles_may": value})
    assert "forming_circles_may" in exc.value.fields


def test_the_check_keeps_nothing_by_default_and_a_known_allowance() -> None:
    assert "forming_circles_may" not in covenant_parameters_check({})
    assert "forming_circles_may" not in covenant_parameters_check({"forming_circles_may": []})
    clean = covenant_parameters_check({"forming_circles_may": ["follow_federation_decisions"]})
    assert clean["forming_circles_may"] == ["follow_federation_decisions"]
    assert rules_from(clean).forming_circles_may == ("follow_federation_decisions",)


@given(st.one_of(st.none(), st.text(max_size=5), st.lists(st.one_of(st.text(), st.integers()))))
@settings(max_examples=100, deadline=None)
def test_reading_any_stored_value_gives_only_known_allowances(value: Any) -> None:
    rules = rules_from({"forming_circles_may": value})
    assert set(rules.forming_circles_may) <= FormingCirclesMay.VALUES


@given(st.sampled_from([s for s, _label in CircleStatus.choices]))
def test_only_validated_circles_count_as_the_federation(status: str) -> None:
    assert counts_in_federation(Circle(status=status)) == (status == CircleStatus.MEMBER)
    assert (status in FEDERATION_STATUSES) == (status == CircleStatus.MEMBER)


def test_a_forming_circles_members_are_not_the_federations_electorate() -> None:
    """Where every member of the federation elects its officers, still only members of its
    validated circles vote, stand, and are waited for."""
    federation = circle_services.federation_create(
        actor=None,
        name="Members Elect",
        covenant="Every member elects.",
        covenant_parameters={"officer_electorate": "members"},
    )
    ruth, tom, olu = (
        factories.make_practitioner(n, display_name_visibility="federation")
        for n in ("Ruth", "Tom", "Olu")
    )
    leeds = factories.make_circle(founder=ruth, federation=federation, members=[tom])
    factories.validate_circle(leeds, ruth, tom)
    factories.make_circle(founder=olu, federation=federation, name="Manchester")
    election = election_services.election_open(
        actor=ruth,
        role="registrar",
        federation=federation,
        nominations_close_at=_later(2),
        voting_closes_at=_later(9),
    )
    assert election_selectors.electorate_ids(election) == {ruth.pk, tom.pk}
    assert [pk for pk, _name in election_selectors.nominee_choices(election)] == sorted(
        [ruth.pk, tom.pk], key=lambda pk: {ruth.pk: "Ruth", tom.pk: "Tom"}[pk]
    )
    with pytest.raises(InvalidInput, match="member of a circle"):
        election_services.nomination_add(
            actor=ruth, election=election, nominee=olu, reason="Olu is kind."
        )
    election_services.nomination_add(actor=ruth, election=election, nominee=tom, reason="Tom.")
    assert [a.what for a in election_selectors.awaiting_me(practitioner=tom)] == ["answer"]
    assert election_selectors.awaiting_me(practitioner=olu) == []


def test_the_found_page_says_what_a_forming_circle_can_do(practitioner: Any) -> None:
    client = Client()
    client.force_login(practitioner.user)
    body = client.get("/circles/new/").content.decode()
    assert "A new circle is forming" in body and "no say in the federation" in body
