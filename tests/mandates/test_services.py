"""Granting, resigning, handing over and leaving: the mandate services and their refusals."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from circlework.agreements.services import add_months
from circlework.circles import services as circle_services
from circlework.core.errors import InvalidInput, NotAllowed
from circlework.core.models import AuditEvent
from circlework.decisions import services as decision_services
from circlework.mandates import services
from circlework.mandates.models import Mandate
from circlework.mandates.selectors import holds
from circlework.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = date(2030, 3, 1)


def test_role_for_reads_defaults_and_refuses_unknown_or_other_level(world: dict[str, Any]) -> None:
    delegate = services.role_for("delegate", circle=world["ca"])
    assert delegate.term_months == 12
    assert delegate.permissions == ("decisions.record_circle_position",)
    coordinator = services.role_for("coordinator", federation=world["federation"])
    assert coordinator.max_consecutive_terms == 2
    with pytest.raises(InvalidInput):
        services.role_for("emperor", circle=world["ca"])
    with pytest.raises(InvalidInput):
        services.role_for("coordinator", circle=world["ca"])
    with pytest.raises(InvalidInput):
        services.role_for("delegate", federation=world["federation"])
    with pytest.raises(InvalidInput):
        services.role_for("delegate", circle=world["ca"], federation=world["federation"])


def _adopt_roles(world: dict[str, Any], roles: dict[str, Any]) -> None:
    """The circle adopts an agreement of kind "roles" by its own decision."""
    proposal = decision_services.proposal_open(
        actor=world["a1"],
        circle=world["ca"],
        title="Our roles",
        text="Adopt our roles.",
        closes_at=timezone.now() + timedelta(days=3),
        new_agreement_kind="roles",
        new_agreement_title="Roles and mandates",
        agreement_text="Delegates serve six months.",
        agreement_parameters={"roles": roles},
    )
    for p in (world["a1"], world["a2"], world["a3"]):
        decision_services.position_take(actor=p, proposal=proposal, stance="agree")
    decision_services.proposal_close(actor=world["a1"], proposal=proposal, early=True)


def test_the_circles_roles_agreement_sets_the_terms(world: dict[str, Any]) -> None:
    _adopt_roles(world, {"delegate": {"term_months": 6, "max_consecutive_terms": 1}})
    role = services.role_for("delegate", circle=world["ca"])
    assert (role.term_months, role.max_consecutive_terms, role.review_months) == (6, 1, 6)
    # Another circle keeps the defaults.
    assert services.role_for("delegate", circle=world["cb"]).term_months == 12
    with pytest.raises(InvalidInput) as exc:
        services.mandate_grant(
            role="delegate",
            holder=world["a2"],
            circle=world["ca"],
            starts_on=TODAY,
            ends_on=add_months(TODAY, 7),
        )
    assert "6 months" in exc.value.message
    assert not Mandate.objects.exists()


def test_the_covenant_sets_federation_terms() -> None:
    federation = circle_services.federation_create(
        actor=None,
        name="Covenanted",
        covenant="We agree.",
        covenant_parameters={"roles": {"registrar": {"term_months": 24, "method": "approval"}}},
    )
    role = services.role_for("registrar", federation=federation)
    assert role.term_months == 24 and role.method == "approval"


def test_grant_sets_scope_review_term_and_tells_people(world: dict[str, Any]) -> None:
    m = services.mandate_grant(
        role="delegate",
        holder=world["a2"],
        circle=world["ca"],
        starts_on=TODAY,
        ends_on=add_months(TODAY, 12),
        handover_plan="  Pass it on.  ",
        actor=world["a1"],
    )
    assert m.permissions == ["decisions.record_circle_position"]
    assert m.review_on == add_months(TODAY, 6)
    assert m.consecutive_term == 1 and m.handover_plan == "Pass it on."
    event = AuditEvent.objects.get(verb="mandate.grant")
    assert event.circle == world["ca"] and event.actor == world["a1"]
    told = set(Notification.objects.filter(kind="mandate").values_list("recipient", flat=True))
    assert told == {world["a1"].pk, world["a2"].pk, world["a3"].pk}


def test_review_is_capped_inside_a_short_term(world: dict[str, Any]) -> None:
    m = services.mandate_grant(
        role="delegate",
        holder=world["a2"],
        circle=world["ca"],
        starts_on=TODAY,
        ends_on=TODAY + timedelta(days=40),
    )
    assert m.review_on == TODAY + timedelta(days=39)


def test_federation_mandate_tells_the_holder_only(world: dict[str, Any]) -> None:
    services.mandate_grant(
        role="registrar",
        holder=world["b2"],
        federation=world["federation"],
        starts_on=TODAY,
        ends_on=add_months(TODAY, 12),
    )
    told = Notification.objects.filter(kind="mandate").values_list("recipient", flat=True)
    assert list(told) == [world["b2"].pk]


@pytest.mark.parametrize(
    ("scope", "who"),
    [("circle", "b2"), ("circle", "outsider"), ("federation", "outsider")],
)
def test_only_members_can_hold_mandates(world: dict[str, Any], scope: str, who: str) -> None:
    kwargs: dict[str, Any] = (
        {"role": "delegate", "circle": world["ca"]}
        if scope == "circle"
        else {"role": "coordinator", "federation": world["federation"]}
    )
    with pytest.raises(InvalidInput) as exc:
        services.mandate_grant(
            holder=world[who], starts_on=TODAY, ends_on=add_months(TODAY, 6), **kwargs
        )
    assert "holder" in exc.value.fields
    assert not Mandate.objects.exists() and not AuditEvent.objects.filter(verb="mandate.grant")


def test_bad_terms_are_refused(world: dict[str, Any]) -> None:
    base = {"role": "delegate", "holder": world["a2"], "circle": world["ca"], "starts_on": TODAY}
    with pytest.raises(InvalidInput):
        services.mandate_grant(**base, ends_on=TODAY)
    with pytest.raises(InvalidInput) as exc:
        services.mandate_grant(**base, ends_on=add_months(TODAY, 12) + timedelta(days=1))
    assert "12 months" in exc.value.message and "ends_on" in exc.value.fields
    assert not Mandate.objects.exists()


def test_consecutive_terms_are_counted_and_capped(world: dict[str, Any]) -> None:
    fed = world["federation"]
    first = factories.grant_mandate("coordinator", world["a1"], federation=fed, starts_on=TODAY)
    assert first.consecutive_term == 1
    second_start = first.ends_on + timedelta(days=10)  # a short gap still counts as consecutive
    second = factories.grant_mandate(
        "coordinator", world["a1"], federation=fed, starts_on=second_start
    )
    assert second.consecutive_term == 2
    role = services.role_for("coordinator", federation=fed)
    third_start = second.ends_on
    problems = services.term_problems(
        holder=world["a1"],
        role=role,
        federation=fed,
        starts_on=third_start,
        ends_on=add_months(third_start, 12),
    )
    assert len(problems) == 1 and "2 consecutive terms" in problems[0]
    with pytest.raises(InvalidInput):
        factories.grant_mandate("coordinator", world["a1"], federation=fed, starts_on=third_start)
    assert Mandate.objects.count() == 2
    # Someone else may take it on; and after a real break, the same person may again.
    factories.grant_mandate("coordinator", world["b1"], federation=fed, starts_on=third_start)
    later = third_start + timedelta(days=200)
    again = factories.grant_mandate("coordinator", world["a1"], federation=fed, starts_on=later)
    assert again.consecutive_term == 1


def test_an_uncapped_role_counts_but_does_not_refuse(world: dict[str, Any]) -> None:
    m1 = factories.grant_mandate("delegate", world["a2"], circle=world["ca"], starts_on=TODAY)
    m2 = factories.grant_mandate("delegate", world["a2"], circle=world["ca"], starts_on=m1.ends_on)
    m3 = factories.grant_mandate("delegate", world["a2"], circle=world["ca"], starts_on=m2.ends_on)
    assert [m1.consecutive_term, m2.consecutive_term, m3.consecutive_term] == [1, 2, 3]


def test_holder_resigns_and_the_permission_lapses_at_once(world: dict[str, Any]) -> None:
    m = factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    assert holds(world["a2"], "decisions.record_circle_position", circle=world["ca"])
    with pytest.raises(InvalidInput):
        services.mandate_resign(actor=world["a2"], mandate=m, reason="  ")
    services.mandate_resign(actor=world["a2"], mandate=m, reason="Moving away")
    m.refresh_from_db()
    assert m.ended_early_at is not None and m.end_reason == "Moving away"
    assert not m.is_live()
    assert not holds(world["a2"], "decisions.record_circle_position", circle=world["ca"])
    assert AuditEvent.objects.filter(verb="mandate.resign").count() == 1
    with pytest.raises(NotAllowed) as exc:
        services.mandate_resign(actor=world["a2"], mandate=m, reason="Again")
    assert "ended early" in exc.value.message


def test_no_one_resigns_or_rewrites_someone_elses_mandate(world: dict[str, Any]) -> None:
    m = factories.grant_mandate("delegate", world["a2"], circle=world["ca"], handover_plan="Mine")
    for actor in (world["a1"], world["b1"], world["outsider"]):
        with pytest.raises(NotAllowed):
            services.mandate_resign(actor=actor, mandate=m, reason="Coup")
        with pytest.raises(NotAllowed):
            services.mandate_handover_update(actor=actor, mandate=m, handover_plan="Theirs")
    m.refresh_from_db()
    assert m.is_live() and m.handover_plan == "Mine"
    assert not AuditEvent.objects.filter(verb__startswith="mandate.").exclude(verb="mandate.grant")


def test_handover_plan_by_the_holder_while_live(world: dict[str, Any]) -> None:
    import time_machine

    from tests.mandates.conftest import noon

    m = factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    with pytest.raises(InvalidInput):
        services.mandate_handover_update(actor=world["a2"], mandate=m, handover_plan="")
    services.mandate_handover_update(actor=world["a2"], mandate=m, handover_plan="Teach Ari")
    m.refresh_from_db()
    assert m.handover_plan == "Teach Ari"
    with time_machine.travel(noon(m.ends_on), tick=False):
        with pytest.raises(NotAllowed) as exc:
            services.mandate_handover_update(actor=world["a2"], mandate=m, handover_plan="Late")
        assert f"{m.ends_on:%d %B %Y}" in exc.value.message
        with pytest.raises(NotAllowed) as exc:
            services.mandate_resign(actor=world["a2"], mandate=m, reason="Late")
        assert f"{m.ends_on:%d %B %Y}" in exc.value.message
    m.refresh_from_db()
    assert m.handover_plan == "Teach Ari" and m.ended_early_at is None


def test_leaving_the_circle_ends_the_leavers_mandates_there(world: dict[str, Any]) -> None:
    mine = factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    other = factories.grant_mandate("convener", world["a3"], circle=world["ca"])
    officer = factories.grant_mandate("registrar", world["a2"], federation=world["federation"])
    circle_services.membership_leave(actor=world["a2"], circle=world["ca"])
    mine.refresh_from_db()
    other.refresh_from_db()
    officer.refresh_from_db()
    assert mine.end_reason == "left the circle" and not mine.is_live()
    assert other.is_live()
    assert officer.is_live()  # a federation mandate is the federation's: not ended by this
    titles = list(
        Notification.objects.filter(recipient=world["a1"], kind="mandate").values_list(
            "title", flat=True
        )
    )
    assert any("left Alpha" in t for t in titles)
    assert services.mandate_end_for_leaver(practitioner=world["a2"], circle=world["ca"]) == 0
