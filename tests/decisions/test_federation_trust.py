"""Issue 10 on federation proposals: the verdict names no circle a reader may not see (finding 6),
a session counts only the circles the rules count it in (finding 2), and a member who has left
the circle that raised a proposal no longer closes it (finding 9)."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from circlework.circles import services as circle_services
from circlework.core.errors import NotAllowed
from circlework.core.permissions import allowed
from circlework.core.visibility import forget_audience, mark_second_factor
from circlework.decisions import services
from circlework.decisions.models import FederationProposal
from tests import factories
from tests.conftest import login
from tests.decisions.test_federation import (
    _close_at_deadline,
    _covenant_revision,
    _speak,
)
from tests.second_factor import login_with_second_factor

pytestmark = pytest.mark.django_db

HIDDEN = "Hiddenmarker Circle"


@pytest.fixture
def fed(federation: Any) -> dict[str, Any]:
    """Alpha and Beta (pages seen by the federation) and Hidden (members only) are validated
    circles of the federation, each with a delegate."""
    a1, a2, b1, b2, h1, h2 = (
        factories.make_practitioner(n) for n in ("A1", "A2", "B1", "B2", "H1", "H2")
    )
    ca = factories.make_circle(founder=a1, federation=federation, members=[a2], name="Alpha")
    cb = factories.make_circle(founder=b1, federation=federation, members=[b2], name="Beta")
    ch = factories.make_circle(
        founder=h1, federation=federation, members=[h2], name=HIDDEN, visibility="circle"
    )
    factories.validate_circle(ca, a1, a2)
    factories.validate_circle(cb, b1, b2)
    factories.validate_circle(ch, h1, h2)
    factories.grant_mandate("delegate", a1, circle=ca)
    factories.grant_mandate("delegate", b2, circle=cb)
    factories.grant_mandate("delegate", h1, circle=ch)
    fp = services.federation_proposal_open(
        actor=a1,
        circle=ca,
        title="Shared gathering",
        text="Hold a spring gathering.",
        closes_at=timezone.now() + timedelta(days=21),
    )
    return {
        "federation": federation,
        "ca": ca,
        "cb": cb,
        "ch": ch,
        "a1": a1,
        "a2": a2,
        "b1": b1,
        "b2": b2,
        "h1": h1,
        "h2": h2,
        "fp": fp,
    }


def _page(who: Any, fp: FederationProposal) -> str:
    return login(Client(), who).get(fp.get_absolute_url()).content.decode()


# --- the verdict carries ids, and names are given when read -------------------------------------


def test_a_circle_that_did_not_consent_is_named_only_to_who_may_see_it(
    fed: dict[str, Any],
) -> None:
    fp = _covenant_revision(fed)
    _speak(fed, fp, ca="agree", cb="agree")
    services.circle_position_record(
        actor=fed["h1"],
        federation_proposal=fp,
        circle=fed["ch"],
        stance="disagree",
        reason="Not yet",
    )
    closed = services.federation_proposal_close(actor=fed["a1"], federation_proposal=fp)
    assert closed is not None and closed.passed is False
    closed.refresh_from_db()
    assert HIDDEN not in closed.result
    assert closed.result_circles == {"opposed": [fed["ch"].pk]}
    outside = _page(fed["b1"], closed)
    assert HIDDEN not in outside
    assert "a circle did not consent" in outside
    assert f"{HIDDEN} did not consent" in _page(fed["h2"], closed)


def test_a_silent_circle_is_named_only_to_who_may_see_it(fed: dict[str, Any]) -> None:
    fp = _covenant_revision(fed)
    _speak(fed, fp, ca="agree", cb="agree")
    fp = _close_at_deadline(fp)
    assert fp.passed is False
    assert HIDDEN not in fp.result
    assert fp.result_circles == {"missing": [fed["ch"].pk]}
    outside = _page(fed["b1"], fp)
    assert HIDDEN not in outside and "no position from a circle" in outside
    assert f"no position from {HIDDEN}" in _page(fed["h2"], fp)


def test_the_verdict_while_open_names_no_circle(fed: dict[str, Any]) -> None:
    fp = _covenant_revision(fed)
    _speak(fed, fp, ca="agree", cb="block")
    verdict = services.federation_verdict(fp)
    assert not verdict.passes
    assert "Beta" not in verdict.reason and HIDDEN not in verdict.reason
    assert verdict.about == {"opposed": [fed["cb"].pk]}


# --- a session counts only the circles the rules count it in ------------------------------------


@pytest.fixture
def leeds(fed: dict[str, Any]) -> dict[str, Any]:
    """Leeds requires two-factor authentication and is validated; Lea (who uses it) holds its
    delegate mandate and has opened Leeds's own proposal on the question. Xan is in Leeds and in
    Beta, and signs in with a password only."""
    lea = factories.make_practitioner("Delegatemarker Lea", display_name_visibility="circle")
    factories.enable_totp(lea)
    xan = factories.make_practitioner("Xan")
    ch = factories.make_circle(
        founder=lea, federation=fed["federation"], members=[xan], name="Leeds"
    )
    ch = circle_services.circle_update(actor=lea, circle=ch, changes={"requires_two_factor": True})
    factories.add_member(fed["cb"], xan, inviter=fed["b1"])
    factories.validate_circle(ch)
    factories.validate_circle(fed["cb"])
    mark_second_factor(lea.user, True)
    factories.grant_mandate("delegate", lea, circle=ch)
    services.proposal_open(
        actor=lea,
        circle=ch,
        title="Leedsinternalmarker position",
        text="What do we carry?",
        closes_at=timezone.now() + timedelta(days=5),
        federation_proposal=fed["fp"],
    )
    return {**fed, "leeds": ch, "lea": lea, "xan": xan}


def test_a_password_only_session_sees_nothing_of_a_two_factor_circle(
    leeds: dict[str, Any],
) -> None:
    fp = leeds["fp"]
    page = _page(leeds["xan"], fp)
    assert "Leedsinternalmarker" not in page
    assert "Delegatemarker" not in page
    assert f'id="mine-{leeds["leeds"].pk}"' not in page
    assert f'id="mine-{leeds["cb"].pk}"' in page  # Beta is still Xan's to act for
    # With a second factor, Lea sees her circle's own proposal there.
    lea_page = login_with_second_factor(Client(), leeds["lea"]).get(fp.get_absolute_url())
    assert "Leedsinternalmarker" in lea_page.content.decode()


def test_raising_offers_only_the_circles_the_session_counts_in(leeds: dict[str, Any]) -> None:
    url = f"/federations/{leeds['federation'].slug}/decisions/new/"
    page = login(Client(), leeds["xan"]).get(url).content.decode()
    assert f'<option value="{leeds["cb"].pk}"' in page
    assert f'<option value="{leeds["leeds"].pk}"' not in page


# --- closing early is a write about the raising circle ------------------------------------------


def test_who_raised_it_but_left_the_circle_does_not_close_it(fed: dict[str, Any]) -> None:
    fp, a1 = fed["fp"], fed["a1"]
    _speak(fed, fp, ca="agree", cb="agree")
    services.circle_position_record(
        actor=fed["h1"], federation_proposal=fp, circle=fed["ch"], stance="agree", reason="Yes"
    )
    assert allowed("decisions.close_federation_proposal", a1.user, fp)
    circle_services.membership_leave(actor=a1, circle=fed["ca"])
    # Still in the federation, through Beta: but no longer in the circle that raised it.
    factories.add_member(fed["cb"], a1, inviter=fed["b1"])
    factories.validate_circle(fed["cb"], a1)
    forget_audience(a1.user)
    assert not allowed("decisions.close_federation_proposal", a1.user, fp)
    with pytest.raises(NotAllowed):
        services.federation_proposal_close(actor=a1, federation_proposal=fp)
    fp.refresh_from_db()
    assert fp.status == "open"
    page = _page(a1, fp)
    assert "Close now" not in page
    response = login(Client(), a1).post(
        f"/federations/{fed['federation'].slug}/decisions/{fp.pk}/close/"
    )
    fp.refresh_from_db()
    assert fp.status == "open", response
    # The member who raised it, still in the circle, closes it.
    factories.add_member(fed["ca"], a1, inviter=fed["a2"])
    factories.validate_circle(fed["ca"], a1)
    forget_audience(a1.user)
    assert "Close now" in _page(a1, fp)
    assert services.federation_proposal_close(actor=a1, federation_proposal=fp) is not None


# --- results stored before: rewritten to name no circle -------------------------------------------

migration = importlib.import_module(
    "circlework.decisions.migrations.0005_federation_proposal_result_circles"
)


def test_results_written_with_names_are_rewritten_by_id(fed: dict[str, Any]) -> None:
    """decisions 0005, on historical models (called here directly)."""
    from django.apps import apps

    closed = FederationProposal.objects.filter(pk=fed["fp"].pk)
    closed.update(
        status="closed",
        passed=False,
        result="The covenant changes only when no circle disagrees or blocks: "
        f"Beta, {HIDDEN} did not consent.",
    )
    other = _covenant_revision(fed)
    FederationProposal.objects.filter(pk=other.pk).update(
        status="closed",
        passed=False,
        # Cut short at the field's length, and naming a circle since renamed.
        result="The covenant changes only when every circle has spoken: no position from "
        "Alpha, Gone Circle, Hiddenmar",
    )
    migration.forget_names(apps, None)
    first, second = closed.get(), FederationProposal.objects.get(pk=other.pk)
    assert first.result == (
        "The covenant changes only when no circle disagrees or blocks: 2 circles did not consent."
    )
    assert first.result_circles == {"opposed": sorted([fed["cb"].pk, fed["ch"].pk])}
    # Not every name matches: the count stays, and no partial list that would read as whole.
    assert second.result == (
        "The covenant changes only when every circle has spoken: no position from 2 circles."
    )
    assert second.result_circles == {}
    assert "no position from 2 circles" in _page(fed["b1"], second)
    assert "Beta, one other circle did not consent" in _page(fed["b1"], first)
    assert f"Beta, {HIDDEN} did not consent" in _page(fed["h2"], first)
