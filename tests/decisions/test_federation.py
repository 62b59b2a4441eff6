"""Federation decisions: circles decide, delegates carry positions with dissent; lineage picture."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from circlework.circles import services as circle_services
from circlework.core.errors import Conflict, InvalidInput, NotAllowed
from circlework.decisions import services, tasks
from circlework.decisions.models import CirclePosition, FederationProposal
from circlework.mandates.models import Mandate
from circlework.mandates.selectors import holds
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def fed(federation: Any) -> dict[str, Any]:
    a1, a2, b1, b2 = (factories.make_practitioner(n) for n in ("A1", "A2", "B1", "B2"))
    ca = factories.make_circle(founder=a1, federation=federation, members=[a2], name="Alpha")
    cb = factories.make_circle(founder=b1, federation=federation, members=[b2], name="Beta")
    # Both are circles of the federation: validated (a forming circle is not asked).
    factories.validate_circle(ca, a1, a2)
    factories.validate_circle(cb, b1, b2)
    factories.grant_mandate("delegate", a1, circle=ca)
    factories.grant_mandate("delegate", b2, circle=cb)
    fp = services.federation_proposal_open(
        actor=a1,
        circle=ca,
        title="Shared gathering",
        text="Hold a spring gathering.",
        closes_at=timezone.now() + timedelta(days=21),
    )
    return {
        "ca": ca,
        "cb": cb,
        "a1": a1,
        "a2": a2,
        "b1": b1,
        "b2": b2,
        "fp": fp,
        "federation": federation,
    }


def test_only_the_delegate_records_the_circles_position(fed: dict[str, Any]) -> None:
    with pytest.raises(NotAllowed):
        services.circle_position_record(
            actor=fed["b1"],
            federation_proposal=fed["fp"],
            circle=fed["cb"],
            stance="agree",
            reason="We like it",
        )
    with pytest.raises(InvalidInput) as exc:
        services.circle_position_record(
            actor=fed["b2"],
            federation_proposal=fed["fp"],
            circle=fed["cb"],
            stance="agree",
            reason="",
        )
    assert "reason" in exc.value.fields
    assert not CirclePosition.objects.exists()


def test_circles_decide_and_dissent_travels(fed: dict[str, Any]) -> None:
    internal = services.proposal_open(
        actor=fed["b1"],
        circle=fed["cb"],
        title="Our position",
        text="Shall we?",
        closes_at=timezone.now() + timedelta(days=5),
        federation_proposal=fed["fp"],
    )
    services.circle_position_record(
        actor=fed["a1"],
        federation_proposal=fed["fp"],
        circle=fed["ca"],
        stance="agree",
        reason="We proposed it",
    )
    services.circle_position_record(
        actor=fed["b2"],
        federation_proposal=fed["fp"],
        circle=fed["cb"],
        stance="disagree",
        reason="Too soon",
        internal_proposal=internal,
    )
    services.circle_position_record(
        actor=fed["b2"],
        federation_proposal=fed["fp"],
        circle=fed["cb"],
        stance="concerns",
        reason="Autumn would be better",
        dissent="B1 would rather not hold one at all",
    )
    history = list(CirclePosition.objects.filter(circle=fed["cb"]).order_by("id"))
    assert [p.is_current for p in history] == [False, True]
    fp = services.federation_proposal_close(actor=fed["a1"], federation_proposal=fed["fp"])
    assert fp is not None and fp.passed
    assert (
        services.circle_positions(fp)[fed["cb"].pk].dissent == "B1 would rather not hold one at all"
    )
    with pytest.raises(Conflict):
        services.circle_position_record(
            actor=fed["a1"], federation_proposal=fp, circle=fed["ca"], stance="block", reason="late"
        )


def test_a_circle_block_stops_it_and_silence_is_listed(fed: dict[str, Any]) -> None:
    services.circle_position_record(
        actor=fed["b2"],
        federation_proposal=fed["fp"],
        circle=fed["cb"],
        stance="block",
        reason="Not without asking clients",
    )
    with pytest.raises(Conflict):
        services.federation_proposal_close(
            actor=fed["a1"], federation_proposal=fed["fp"]
        )  # Alpha has not spoken
    with time_machine.travel(timezone.now() + timedelta(days=22)):
        tasks.sweep_deadlines.call()
    fed["fp"].refresh_from_db()
    assert fed["fp"].status == "closed" and fed["fp"].passed is False


def test_delegate_must_be_a_member_and_leaving_ends_the_mandate(fed: dict[str, Any]) -> None:
    outsider = factories.make_practitioner()
    with pytest.raises(InvalidInput):
        factories.grant_mandate("delegate", outsider, circle=fed["ca"])
    assert holds(fed["a1"], "decisions.record_circle_position", circle=fed["ca"])
    circle_services.membership_leave(actor=fed["a1"], circle=fed["ca"])
    assert not holds(fed["a1"], "decisions.record_circle_position", circle=fed["ca"])
    mandate = Mandate.objects.get(circle=fed["ca"], role="delegate")
    assert mandate.ended_early_at is not None and mandate.end_reason == "left the circle"


def test_an_expired_delegate_mandate_is_refused_with_its_end_date(
    client: Client, fed: dict[str, Any]
) -> None:
    mandate = Mandate.objects.get(circle=fed["cb"], role="delegate")
    the_end = timezone.localtime(timezone.make_aware(datetime.combine(mandate.ends_on, time(10))))
    with time_machine.travel(the_end - timedelta(days=1), tick=False):
        assert holds(fed["b2"], "decisions.record_circle_position", circle=fed["cb"])
    with time_machine.travel(the_end, tick=False):
        fp = fed["fp"]
        FederationProposal.objects.filter(pk=fp.pk).update(
            closes_at=timezone.now() + timedelta(days=5)
        )
        fp.refresh_from_db()
        with pytest.raises(NotAllowed) as exc:
            services.circle_position_record(
                actor=fed["b2"],
                federation_proposal=fp,
                circle=fed["cb"],
                stance="agree",
                reason="Yes",
            )
        assert f"{mandate.ends_on:%d %B %Y}" in exc.value.message
        login(client, fed["b2"])
        response = client.post(
            f"/federations/{fed['federation'].slug}/decisions/{fp.pk}/position/",
            {"circle": fed["cb"].pk, "stance": "agree", "reason": "Fine by us"},
        )
        assert response.status_code == 403
        assert f"{mandate.ends_on:%d %B %Y}" in response.content.decode()
    assert not CirclePosition.objects.exists()


def test_federation_proposal_page_shows_every_circle(client: Client, fed: dict[str, Any]) -> None:
    login(client, fed["b2"])
    body = client.get(fed["fp"].get_absolute_url()).content.decode()
    assert "Alpha" in body and "Beta" in body and "no position yet" in body
    response = client.post(
        f"/federations/{fed['federation'].slug}/decisions/{fed['fp'].pk}/position/",
        {"circle": fed["cb"].pk, "stance": "block", "reason": ""},
    )
    assert response.status_code == 400 and not CirclePosition.objects.exists()
    response = client.post(
        f"/federations/{fed['federation'].slug}/decisions/{fed['fp'].pk}/position/",
        {"circle": fed["cb"].pk, "stance": "agree", "reason": "Fine by us"},
    )
    assert response.status_code == 302 and CirclePosition.objects.get().stance == "agree"


def test_lineage_page_draws_borrowings(client: Client, fed: dict[str, Any]) -> None:
    from circlework.agreements.models import Agreement
    from circlework.decisions.services import agreement_proposals as agreement_services

    proposal = services.proposal_open(
        actor=fed["a1"],
        circle=fed["ca"],
        title="Conflict",
        text="Adopt",
        closes_at=timezone.now() + timedelta(days=3),
        new_agreement_kind="conflict_procedure",
        new_agreement_title="Conflict procedure",
        agreement_text="Talk first.\nThen ask the circle.",
    )
    for p in (fed["a1"], fed["a2"]):
        services.position_take(actor=p, proposal=proposal, stance="agree")
    services.proposal_close(actor=fed["a1"], proposal=proposal, early=True)
    source = Agreement.objects.get(circle=fed["ca"])
    draft = agreement_services.agreement_borrow(
        actor=fed["b1"],
        agreement=source,
        circle=fed["cb"],
        closes_at=timezone.now() + timedelta(days=3),
    )
    services.amendment_propose(
        actor=fed["b2"],
        proposal=draft,
        text=draft.text,
        agreement_text="Talk first.\nThen ask two members.",
        reason="Smaller",
    )
    amendment = draft.amendments.get()
    services.amendment_accept(actor=fed["b1"], amendment=amendment)
    for p in (fed["b1"], fed["b2"]):
        services.position_take(actor=p, proposal=draft, stance="agree")
    services.proposal_close(actor=fed["b1"], proposal=draft, early=True)
    login(client, fed["b2"])
    body = client.get(f"/federations/{fed['federation'].slug}/lineage/").content.decode()
    assert 'role="img"' in body and "Beta borrowed from Alpha" in body
    assert "% changed" in body
    borrowed = Agreement.objects.get(circle=fed["cb"])
    assert borrowed.borrowed_from == source.current_version


# --- the covenant changes only when every circle has spoken ------------------------------------


COVENANT = "We stand by each other's work.\n\nEach circle links with three others."


def _with_manchester(fed: dict[str, Any]) -> dict[str, Any]:
    """A third validated circle, with members but no delegate."""
    m1, m2 = factories.make_practitioner("M1"), factories.make_practitioner("M2")
    cm = factories.make_circle(
        founder=m1, federation=fed["federation"], members=[m2], name="Manchester"
    )
    factories.validate_circle(cm, m1, m2)
    return {**fed, "cm": cm, "m1": m1, "m2": m2}


def _covenant_revision(fed: dict[str, Any], days: float = 21) -> FederationProposal:
    return services.federation_proposal_open(
        actor=fed["a1"],
        circle=fed["ca"],
        title="Three links",
        text="Validation should reach further.",
        closes_at=timezone.now() + timedelta(days=days),
        covenant_text=COVENANT,
        covenant_parameters={"links_required": 3},
    )


def _speak(fed: dict[str, Any], fp: FederationProposal, **stances: str) -> None:
    delegates = {"ca": "a1", "cb": "b2", "cm": "m1"}
    for circle_key, stance in stances.items():
        services.circle_position_record(
            actor=fed[delegates[circle_key]],
            federation_proposal=fp,
            circle=fed[circle_key],
            stance=stance,
            reason="Said in the circle",
        )


def _close_at_deadline(fp: FederationProposal) -> FederationProposal:
    with time_machine.travel(fp.closes_at + timedelta(minutes=1)):
        tasks.sweep_deadlines.call()
    fp.refresh_from_db()
    assert fp.status == "closed"
    return fp


def _covenant_versions(fed: dict[str, Any]) -> int:
    from circlework.circles.models import CovenantVersion

    return CovenantVersion.objects.filter(federation=fed["federation"]).count()


def test_silence_never_revises_the_covenant(fed: dict[str, Any]) -> None:
    """Consent passes at the deadline with every circle silent; a covenant revision does not."""
    fp = _close_at_deadline(_covenant_revision(fed))
    assert fp.passed is False
    assert "every circle has spoken" in fp.result
    assert _covenant_versions(fed) == 1


def test_a_circle_without_a_delegate_holds_the_covenant_as_it_is(fed: dict[str, Any]) -> None:
    fed = _with_manchester(fed)
    fp = _covenant_revision(fed)
    _speak(fed, fp, ca="agree", cb="agree")
    with pytest.raises(Conflict):  # Manchester has not spoken: no early close
        services.federation_proposal_close(actor=fed["a1"], federation_proposal=fp)
    fp = _close_at_deadline(fp)
    # The result names no circle; which one held it is kept by id, named when read.
    assert fp.passed is False and "Manchester" not in fp.result
    assert fp.result_circles == {"missing": [fed["cm"].pk]}
    assert _covenant_versions(fed) == 1


def test_one_circle_disagreeing_stops_a_covenant_revision(fed: dict[str, Any]) -> None:
    fp = _covenant_revision(fed)
    _speak(fed, fp, ca="agree", cb="disagree")
    closed = services.federation_proposal_close(actor=fed["a1"], federation_proposal=fp)
    assert closed is not None and closed.passed is False
    assert _covenant_versions(fed) == 1


def test_agree_concerns_and_standing_aside_all_consent_to_the_covenant(
    fed: dict[str, Any],
) -> None:
    fed = _with_manchester(fed)
    factories.grant_mandate("delegate", fed["m1"], circle=fed["cm"])
    fp = _covenant_revision(fed)
    _speak(fed, fp, ca="agree", cb="concerns", cm="stand_aside")
    fp = _close_at_deadline(fp)
    assert fp.passed is True
    assert _covenant_versions(fed) == 2


def test_an_ordinary_federation_proposal_still_passes_by_consent(fed: dict[str, Any]) -> None:
    fp = _close_at_deadline(fed["fp"])
    assert fp.passed is True  # silence at the deadline is consent for an ordinary question


def test_a_covenant_revision_stays_open_at_least_fourteen_days(fed: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as exc:
        _covenant_revision(fed, days=13.9)
    assert "closes_at" in exc.value.fields
    assert "14 days" in exc.value.fields["closes_at"][0]
    assert not FederationProposal.objects.filter(covenant_text=COVENANT).exists()
    assert _covenant_revision(fed, days=14.01).revises_covenant
    # The form says it on the closing time's field.
    login_client = login(Client(), fed["a1"])
    closes = timezone.localtime(timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = login_client.post(
        f"/federations/{fed['federation'].slug}/decisions/new/",
        {
            "circle": fed["ca"].pk,
            "title": "Quick covenant change",
            "text": "Now.",
            "closes_at": closes,
            "revise_covenant": "on",
            "covenant_text": "Circles of five at least.",
            "min_circle_size": "5",
            "links_required": "2",
            "link_lapse_months": "24",
            "officer_electorate": "delegates",
            "review_months": "24",
        },
    )
    assert response.status_code == 400
    assert "14 days" in response.content.decode()
    assert not FederationProposal.objects.filter(title="Quick covenant change").exists()


def test_a_circle_without_a_delegate_is_told_plainly(client: Client, fed: dict[str, Any]) -> None:
    from django.urls import reverse

    fed = _with_manchester(fed)
    elections = reverse("elections:election_list_circle", kwargs={"slug": fed["cm"].slug})
    with pytest.raises(NotAllowed) as exc:
        services.circle_position_record(
            actor=fed["m1"],
            federation_proposal=fed["fp"],
            circle=fed["cm"],
            stance="block",
            reason="We object",
        )
    assert exc.value.message == "Manchester has no delegate: open an election for one."
    login(client, fed["m2"])
    body = client.get(fed["fp"].get_absolute_url()).content.decode()
    assert "Manchester has no delegate: open an election for one" in body
    assert f'href="{elections}"' in body
    response = client.post(
        f"/federations/{fed['federation'].slug}/decisions/{fed['fp'].pk}/position/",
        {"circle": fed["cm"].pk, "stance": "block", "reason": "We object"},
    )
    assert response.status_code == 403
    assert "Manchester has no delegate" in response.content.decode()
    # Other circles' members read it too, without a link to a page that is not theirs.
    login(client, fed["b1"])
    body = client.get(fed["fp"].get_absolute_url()).content.decode()
    assert "Manchester has no delegate" in body and f'href="{elections}"' not in body
    assert not CirclePosition.objects.exists()
