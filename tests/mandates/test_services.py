"""Granting, resigning, handing over and leaving: the mandate services and their refusals."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from circlework.circles import services as circle_services
from circlework.core.dates import add_months
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


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, (12, 6, 2, 1, "stv")),
        ({"max_consecutive_terms": None}, (12, 6, None, 1, "stv")),
        ({"max_consecutive_terms": 3, "seats": 2}, (12, 6, 3, 2, "stv")),
        # Old bad data falls back to the role's defaults; a bad cap never lifts the cap.
        ({"max_consecutive_terms": "lots"}, (12, 6, 2, 1, "stv")),
        ({"max_consecutive_terms": 0}, (12, 6, 2, 1, "stv")),
        ({"max_consecutive_terms": 99}, (12, 6, 2, 1, "stv")),
        ({"max_consecutive_terms": True}, (12, 6, 2, 1, "stv")),
        ({"max_consecutive_terms": [2]}, (12, 6, 2, 1, "stv")),
        ({"term_months": 0, "review_months": -1, "seats": 13}, (12, 6, 2, 1, "stv")),
        ({"term_months": 10**30, "seats": "x", "method": ["stv"]}, (12, 6, 2, 1, "stv")),
        ({"term_months": 4, "method": "approval"}, (4, 4, 2, 1, "approval")),
        ("nonsense", (12, 6, 2, 1, "stv")),
    ],
)
def test_role_overrides_are_read_tolerantly(overrides: Any, expected: tuple[Any, ...]) -> None:
    from circlework.circles.roles import ROLES, role_with_overrides

    r = role_with_overrides(ROLES["coordinator"], overrides)
    assert (r.term_months, r.review_months, r.max_consecutive_terms, r.seats, r.method) == expected


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
    end = add_months(TODAY, 12)
    words = f"ends {end:%d %B %Y} (the last day in the role is "
    assert words in Notification.objects.filter(kind="mandate").first().body  # type: ignore[union-attr]
    assert words in event.summary


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
    assert len(problems) == 1 and "2 terms in a row" in problems[0]
    with pytest.raises(InvalidInput):
        factories.grant_mandate("coordinator", world["a1"], federation=fed, starts_on=third_start)
    assert Mandate.objects.count() == 2
    # Someone else may take it on; and after a real break, the same person may again.
    other = factories.grant_mandate(
        "coordinator", world["b1"], federation=fed, starts_on=third_start
    )
    later = other.ends_on + timedelta(days=200)
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
    # Ari belongs to Beta too, so stays in the federation: the officer mandate stays.
    factories.add_member(world["cb"], world["a3"])
    mine = factories.grant_mandate("delegate", world["a3"], circle=world["ca"])
    other = factories.grant_mandate("convener", world["a2"], circle=world["ca"])
    next_term = factories.grant_mandate(
        "convener", world["a3"], circle=world["ca"], starts_on=other.ends_on
    )
    officer = factories.grant_mandate("registrar", world["a3"], federation=world["federation"])
    circle_services.membership_leave(actor=world["a3"], circle=world["ca"])
    for m in (mine, other, next_term, officer):
        m.refresh_from_db()
    assert mine.end_reason == "left the circle" and not mine.is_live()
    # A term not started yet ends too: it would otherwise grant a non-member permissions later.
    assert next_term.end_reason == "left the circle"
    assert not next_term.is_live(next_term.starts_on)
    assert other.is_live()
    assert officer.is_live()  # still a member of the federation, through Beta
    titles = list(
        Notification.objects.filter(recipient=world["a1"], kind="mandate").values_list(
            "title", flat=True
        )
    )
    assert any("left Alpha" in t for t in titles)
    assert services.mandate_end_for_leaver(practitioner=world["a3"], circle=world["ca"]) == 0


def test_leaving_the_last_circle_in_the_federation_ends_federation_mandates(
    world: dict[str, Any],
) -> None:
    """Regression: a coordinator who left every circle of the federation kept the mandate."""
    fed = world["federation"]
    coordinator = factories.grant_mandate("coordinator", world["a2"], federation=fed)
    upcoming = factories.grant_mandate(
        "registrar", world["a2"], federation=fed, starts_on=coordinator.starts_on + timedelta(5)
    )
    elsewhere_fed = factories.make_federation()
    away = factories.make_circle(founder=world["a2"], federation=elsewhere_fed, name="Away")
    factories.validate_circle(away, world["a2"])  # only the federation holds its mandates
    elsewhere = factories.grant_mandate("coordinator", world["a2"], federation=elsewhere_fed)
    assert holds(world["a2"], "federation.notice", federation=fed)
    circle_services.membership_leave(actor=world["a2"], circle=world["ca"])
    for m in (coordinator, upcoming, elsewhere):
        m.refresh_from_db()
    assert coordinator.end_reason == "no longer a member of the federation"
    assert upcoming.end_reason == "no longer a member of the federation"
    assert not holds(world["a2"], "federation.notice", federation=fed)
    assert elsewhere.is_live()  # another federation, where they are still a member
    assert AuditEvent.objects.filter(verb="mandate.end_for_leaver").count() == 2
    told = Notification.objects.filter(recipient=world["a2"], kind="mandate")
    assert told.filter(title__contains="no longer a member of the federation").count() == 2
    message = services.lapsed_message(coordinator)
    assert "ended early" in message and "no longer a member of the federation" in message


def test_deleting_the_account_ends_federation_mandates(world: dict[str, Any]) -> None:
    from circlework.accounts import services as account_services

    fed = world["federation"]
    factories.add_member(world["cb"], world["a2"])  # two circles in the federation
    coordinator = factories.grant_mandate("coordinator", world["a2"], federation=fed)
    delegate = factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    account_services.account_delete(actor=world["a2"], confirm_email=world["a2"].user.email)
    coordinator.refresh_from_db()
    delegate.refresh_from_db()
    assert coordinator.holder is None and coordinator.ended_early_at is not None
    assert coordinator.end_reason == "no longer a member of the federation"
    assert delegate.end_reason == "left the circle"
    # The seat is free for someone else at once.
    factories.grant_mandate("coordinator", world["b1"], federation=fed)


# --- seats: no more holders of a role at once than the agreement allows ------------------------


def test_a_second_coordinator_is_refused_while_the_first_ones_term_runs(
    world: dict[str, Any],
) -> None:
    """Regression: mandate_grant never looked at overlapping live mandates of the same role."""
    fed = world["federation"]
    dev = factories.grant_mandate("coordinator", world["a1"], federation=fed, starts_on=TODAY)
    role = services.role_for("coordinator", federation=fed)
    assert role.seats == 1
    with pytest.raises(InvalidInput) as exc:
        factories.grant_mandate(
            "coordinator", world["b1"], federation=fed, starts_on=TODAY + timedelta(days=100)
        )
    assert "one seat" in exc.value.message and "ends_on" in exc.value.fields
    assert f"ends {dev.ends_on:%d %B %Y} (the last day in the role is" in exc.value.message
    # Nominations see the same problem (elections ask term_problems)...
    problems = services.term_problems(
        holder=world["b1"],
        role=role,
        federation=fed,
        starts_on=dev.ends_on - timedelta(days=1),
        ends_on=add_months(dev.ends_on, 6),
    )
    assert len(problems) == 1 and "one seat" in problems[0]
    # ...and a term ending the day the current one starts, or starting the day it ends, is fine.
    assert not services.term_problems(
        holder=world["b1"],
        role=role,
        federation=fed,
        starts_on=dev.ends_on,
        ends_on=add_months(dev.ends_on, 12),
    )
    nxt = factories.grant_mandate("coordinator", world["b1"], federation=fed, starts_on=dev.ends_on)
    assert nxt.starts_on == dev.ends_on
    before = factories.grant_mandate(
        "coordinator",
        world["b2"],
        federation=fed,
        starts_on=TODAY - timedelta(days=90),
        ends_on=TODAY,
    )
    assert before.ends_on == dev.starts_on
    # Other roles and other scopes are not counted.
    factories.grant_mandate("registrar", world["b1"], federation=fed, starts_on=TODAY)
    other_fed = factories.make_federation()
    other = factories.make_circle(founder=world["b2"], federation=other_fed, name="Other")
    factories.validate_circle(other, world["b2"])
    factories.grant_mandate("coordinator", world["b2"], federation=other_fed, starts_on=TODAY)
    assert Mandate.objects.filter(role="coordinator", federation=fed).count() == 3


def test_a_resignation_frees_the_seat_at_once(world: dict[str, Any]) -> None:
    first = factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    with pytest.raises(InvalidInput):
        factories.grant_mandate("delegate", world["a3"], circle=world["ca"])
    services.mandate_resign(actor=world["a2"], mandate=first, reason="Moving")
    factories.grant_mandate("delegate", world["a3"], circle=world["ca"])


def test_the_agreement_may_give_a_role_more_seats(world: dict[str, Any]) -> None:
    _adopt_roles(world, {"delegate": {"seats": 2}})
    role = services.role_for("delegate", circle=world["ca"])
    assert role.seats == 2
    a = factories.grant_mandate("delegate", world["a1"], circle=world["ca"], starts_on=TODAY)
    factories.grant_mandate(
        "delegate", world["a2"], circle=world["ca"], starts_on=TODAY + timedelta(days=30)
    )
    with pytest.raises(InvalidInput) as exc:
        factories.grant_mandate(
            "delegate", world["a3"], circle=world["ca"], starts_on=TODAY + timedelta(days=60)
        )
    assert "2 seats" in exc.value.message
    # Elections opening for more seats than the role has, or than are free, ask seat_problem.
    assert services.seat_problem(
        role=role,
        circle=world["ca"],
        starts_on=a.ends_on,
        ends_on=add_months(a.ends_on, 6),
        seats=3,
    )
    assert services.seat_problem(
        role=role, circle=world["ca"], starts_on=TODAY, ends_on=a.ends_on, seats=1
    )
    assert (
        services.seat_problem(
            role=role,
            circle=world["ca"],
            starts_on=a.ends_on + timedelta(days=60),
            ends_on=add_months(a.ends_on, 12),
            seats=2,
        )
        is None
    )


def test_the_busiest_moment_of_a_term_counts_not_the_total(world: dict[str, Any]) -> None:
    _adopt_roles(world, {"delegate": {"seats": 2}})
    # Two holders one after the other take one seat between them; a third person fits beside.
    first = factories.grant_mandate(
        "delegate",
        world["a1"],
        circle=world["ca"],
        starts_on=TODAY,
        ends_on=TODAY + timedelta(days=100),
    )
    factories.grant_mandate(
        "delegate",
        world["a2"],
        circle=world["ca"],
        starts_on=first.ends_on,
        ends_on=first.ends_on + timedelta(days=100),
    )
    factories.grant_mandate(
        "delegate",
        world["a3"],
        circle=world["ca"],
        starts_on=TODAY,
        ends_on=TODAY + timedelta(days=200),
    )
    assert Mandate.objects.filter(circle=world["ca"], role="delegate").count() == 3


def test_only_the_federation_holds_its_mandates(world: dict[str, Any]) -> None:
    """A member of a forming circle is not "the federation": they cannot hold its mandates."""
    founder = factories.make_practitioner("Fay")
    factories.make_circle(founder=founder, federation=world["federation"], name="Forming")
    with pytest.raises(InvalidInput) as exc:
        factories.grant_mandate("registrar", founder, federation=world["federation"])
    assert "holder" in exc.value.fields
