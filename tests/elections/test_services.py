"""Elections through their services: opening, nominations, the consent rounds, ballots, the count."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from circlework.core import names
from circlework.core.dates import add_months
from circlework.core.errors import Conflict, InvalidInput, NotAllowed
from circlework.core.visibility import audience_for
from circlework.elections import selectors, services, tasks
from circlework.elections.models import (
    Ballot,
    BallotCast,
    ConsentResponse,
    Election,
    ElectionStatus,
    Electorate,
    Nomination,
)
from circlework.mandates.models import Mandate
from circlework.notifications.models import Notification, NotificationKind
from tests import factories
from tests.elections.conftest import later

pytestmark = pytest.mark.django_db


def open_coordinator(world: dict[str, Any], **kw: Any) -> Election:
    args: dict[str, Any] = {
        "actor": world["Ana"],
        "role": "coordinator",
        "federation": world["federation"],
        "nominations_close_at": later(3),
        "voting_closes_at": later(6),
        "handover_plan": "Train a successor in the last two months.",
    }
    args.update(kw)
    return services.election_open(**args)


def stand(election: Election, *people: Any) -> None:
    for p in people:
        services.nomination_add(actor=p, election=election, nominee=p, reason="I can give time.")


def to_voting(election: Election) -> Election:
    with time_machine.travel(election.nominations_close_at + timedelta(minutes=1), tick=False):
        assert tasks.sweep_elections.call() >= 1
    election.refresh_from_db()
    return election


# --- opening ------------------------------------------------------------------------------------


def test_open_federation_election_defaults_and_tells_the_electorate(world: dict[str, Any]) -> None:
    e = open_coordinator(world)
    assert e.method == "stv" and e.secret is True and e.seats == 1
    assert e.electorate == Electorate.FEDERATION_MEMBERS
    assert e.facilitator == world["Ana"] and e.opened_by == world["Ana"]
    assert e.term_starts_on == timezone.localdate(e.voting_closes_at)
    assert e.term_ends_on == add_months(e.term_starts_on, 12)
    told = set(
        Notification.objects.filter(kind=NotificationKind.ELECTION).values_list(
            "recipient__display_name", flat=True
        )
    )
    assert told == {"Ben", "Cy", "Dee", "Eve", "Fay"}  # the electorate but the opener
    assert selectors.electorate_ids(e) == {
        world[n].pk for n in ("Ana", "Ben", "Cy", "Dee", "Eve", "Fay")
    }


def test_circle_election_is_a_consent_election_and_open(world: dict[str, Any]) -> None:
    e = services.election_open(
        actor=world["Ben"],
        role="facilitator",
        circle=world["oak"],
        secret=True,  # ignored: consent elections are open by nature
        nominations_close_at=later(2),
        voting_closes_at=later(9),
    )
    assert e.method == "consent" and e.secret is False
    assert e.electorate == Electorate.CIRCLE_MEMBERS
    assert selectors.electorate_ids(e) == {world[n].pk for n in ("Ana", "Ben", "Cy", "Dee")}


def test_the_facilitator_is_the_holder_of_a_facilitating_mandate(world: dict[str, Any]) -> None:
    factories.grant_mandate("coordinator", world["Eve"], federation=world["federation"])
    e = open_coordinator(world, role="registrar")
    assert e.facilitator == world["Eve"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"nominations_close_at": later(-1)}, "nominations_close_at"),
        ({"voting_closes_at": later(2)}, "voting_closes_at"),
        ({"seats": 0}, "seats"),
        ({"term_ends_on": add_months(timezone.localdate(later(6)), 13)}, "term_ends_on"),
        ({"term_starts_on": timezone.localdate() - timedelta(days=1)}, "term_starts_on"),
        ({"method": "consent", "seats": 2}, "seats"),
        ({"method": "lottery"}, "method"),
        ({"role": "convener"}, "role"),  # a circle's role, not a federation's
    ],
)
def test_bad_openings_are_refused_and_nothing_is_made(
    world: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        open_coordinator(world, **changes)
    assert field in err.value.fields
    assert not Election.objects.exists()


def test_the_term_is_limited_to_what_the_role_allows(world: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as err:
        open_coordinator(world, term_ends_on=add_months(timezone.localdate(later(6)), 14))
    assert "at most 12 months" in err.value.message


def test_one_open_election_per_role_and_scope(world: dict[str, Any]) -> None:
    open_coordinator(world)
    with pytest.raises(Conflict):
        open_coordinator(world, actor=world["Eve"])
    open_coordinator(world, role="registrar")  # another role is fine
    assert Election.objects.count() == 2


def test_only_members_open_elections(world: dict[str, Any]) -> None:
    with pytest.raises(NotAllowed):
        open_coordinator(world, actor=world["Out"])
    with pytest.raises(NotAllowed):
        open_coordinator(world, actor=world["Zed"])
    with pytest.raises(NotAllowed):
        services.election_open(
            actor=world["Eve"],
            role="facilitator",
            circle=world["oak"],
            nominations_close_at=later(1),
            voting_closes_at=later(2),
        )


def test_delegates_elect_when_the_covenant_says_so(world: dict[str, Any]) -> None:
    from circlework.circles import services as circle_services

    federation = circle_services.federation_create(
        actor=None, name="Delegated", covenant="Delegates elect."
    )
    a, b, c = (factories.make_practitioner(n, display_name_visibility="federation") for n in "ABC")
    one = factories.make_circle(founder=a, federation=federation, members=[b], name="One")
    two = factories.make_circle(founder=c, federation=federation, name="Two")
    factories.validate_circle(one, a, b)
    factories.validate_circle(two, c)
    kw: dict[str, Any] = {
        "actor": b,
        "role": "coordinator",
        "federation": federation,
        "nominations_close_at": later(1),
        "voting_closes_at": later(2),
    }
    with pytest.raises(Conflict, match="no circle has a delegate"):
        services.election_open(**kw)
    factories.grant_mandate("delegate", a, circle=one)
    e = services.election_open(**kw)
    assert e.electorate == Electorate.DELEGATES
    assert selectors.electorate_ids(e) == {a.pk}
    stand(e, c)
    to_voting(e)
    with pytest.raises(NotAllowed, match="delegates vote"):
        services.ballot_cast(actor=b, election=e, choices=[c.pk])
    services.ballot_cast(actor=a, election=e, choices=[c.pk])
    assert BallotCast.objects.filter(election=e).count() == 1


# --- nominations --------------------------------------------------------------------------------


def test_nominations_self_and_other_answered_by_the_nominee(world: dict[str, Any]) -> None:
    e = open_coordinator(world)
    own = services.nomination_add(actor=world["Ben"], election=e, nominee=world["Ben"], reason="I")
    assert own.accepted is True
    other = services.nomination_add(
        actor=world["Ana"], election=e, nominee=world["Fay"], reason="Fay knows everyone."
    )
    assert other.accepted is None
    assert Notification.objects.filter(recipient=world["Fay"], title__contains="nominated").exists()
    assert selectors.candidate_ids(e) == [world["Ben"].pk]
    with pytest.raises(NotAllowed):
        services.nomination_answer(actor=world["Ana"], nomination=other, accept=True)
    services.nomination_answer(actor=world["Fay"], nomination=other, accept=True)
    assert selectors.candidate_ids(e) == sorted([world["Ben"].pk, world["Fay"].pk])
    with pytest.raises(Conflict):
        services.nomination_add(actor=world["Ana"], election=e, nominee=world["Fay"], reason="x")


@pytest.mark.parametrize(
    ("nominee", "message"),
    [("Out", "current member of a circle in"), ("Zed", "current member of a circle in")],
)
def test_ineligible_nominees_are_refused_with_the_reason(
    world: dict[str, Any], nominee: str, message: str
) -> None:
    e = open_coordinator(world)
    with pytest.raises(InvalidInput, match=message) as err:
        services.nomination_add(actor=world["Ana"], election=e, nominee=world[nominee], reason="x")
    assert "nominee" in err.value.fields
    assert not Nomination.objects.exists()


def test_reasons_are_required(world: dict[str, Any]) -> None:
    e = open_coordinator(world)
    with pytest.raises(InvalidInput) as err:
        services.nomination_add(actor=world["Ana"], election=e, nominee=world["Ben"], reason=" ")
    assert "reason" in err.value.fields


def test_a_name_kept_from_the_electorate_cannot_stand(world: dict[str, Any]) -> None:
    shy = factories.make_practitioner("Shy", display_name_visibility="circle")
    factories.add_member(world["elm"], shy, inviter=world["Eve"])
    e = open_coordinator(world)
    with pytest.raises(InvalidInput, match="keeps their name"):
        services.nomination_add(actor=shy, election=e, nominee=shy, reason="x")


def test_the_consecutive_term_cap_refuses_a_third_term(world: dict[str, Any]) -> None:
    today = timezone.localdate()
    fed = world["federation"]
    factories.grant_mandate(
        "coordinator",
        world["Cy"],
        federation=fed,
        starts_on=add_months(today, -23),
        ends_on=add_months(today, -11),
    )
    factories.grant_mandate(
        "coordinator",
        world["Cy"],
        federation=fed,
        starts_on=add_months(today, -11),
        ends_on=today + timedelta(days=6),
    )
    e = open_coordinator(world)
    with pytest.raises(InvalidInput, match="terms in a row") as err:
        services.nomination_add(actor=world["Ana"], election=e, nominee=world["Cy"], reason="x")
    assert "nominee" in err.value.fields


def test_nominations_close_on_time(world: dict[str, Any]) -> None:
    e = open_coordinator(world)
    with (
        time_machine.travel(e.nominations_close_at + timedelta(seconds=1), tick=False),
        pytest.raises(Conflict, match="Nominations closed"),
    ):
        services.nomination_add(actor=world["Ana"], election=e, nominee=world["Ana"], reason="x")


# --- consent election ---------------------------------------------------------------------------


def test_a_consent_election_from_nominations_to_mandate(world: dict[str, Any]) -> None:
    ana, ben, cy, dee = (world[n] for n in ("Ana", "Ben", "Cy", "Dee"))
    e = services.election_open(
        actor=ana,
        role="facilitator",
        circle=world["oak"],
        nominations_close_at=later(1),
        voting_closes_at=later(8),
        handover_plan="Hand over at the spring retreat.",
    )
    # Nominations round: one each, with reasons, seen by all.
    services.nomination_add(actor=ana, election=e, nominee=ben, reason="Ben keeps time kindly.")
    services.nomination_add(actor=ben, election=e, nominee=cy, reason="Cy has trained in it.")
    services.nomination_add(actor=cy, election=e, nominee=cy, reason="I would like to.")
    services.nomination_add(actor=dee, election=e, nominee=ben, reason="Ben, for calm.")
    with pytest.raises(Conflict, match="already given your nomination"):
        services.nomination_add(actor=dee, election=e, nominee=cy, reason="second")
    with pytest.raises(NotAllowed):
        services.election_change_round(actor=ben, election=e)  # only the facilitator
    with pytest.raises(Conflict):
        services.election_propose(actor=ana, election=e, candidate=ben)  # not yet
    services.election_change_round(actor=ana, election=e)
    e.refresh_from_db()
    assert e.status == ElectionStatus.CHANGE_ROUND
    # Change round: Cy changes to Ben; the old nomination stays, not current.
    changed = services.nomination_change(
        actor=cy, election=e, nominee=ben, reason="Hearing you all, Ben."
    )
    assert changed.in_change_round and changed.accepted is None
    old = Nomination.objects.get(election=e, nominated_by=cy, is_current=False)
    assert old.nominee == cy
    with pytest.raises(InvalidInput, match="not accepted"):
        services.election_propose(actor=ana, election=e, candidate=ben)
    ben_nomination = Nomination.objects.filter(election=e, nominee=ben, is_current=True).first()
    assert ben_nomination is not None
    services.nomination_answer(actor=ben, nomination=ben_nomination, accept=True)
    services.election_propose(actor=ana, election=e, candidate=ben)
    e.refresh_from_db()
    assert e.status == ElectionStatus.CONSENT_ROUND and e.proposed == ben
    # Consent round: an objection needs reasons; talked through, it becomes consent.
    for person in (ana, ben, cy):
        services.consent_respond(actor=person, election=e, stance="consent")
    with pytest.raises(InvalidInput) as err:
        services.consent_respond(actor=dee, election=e, stance="object")
    assert "reason" in err.value.fields
    services.consent_respond(
        actor=dee, election=e, stance="object", reason="Ben already convenes; too much on one."
    )
    e.refresh_from_db()
    assert e.status == ElectionStatus.CONSENT_ROUND
    assert not Mandate.objects.filter(election=e).exists()
    services.consent_respond(actor=dee, election=e, stance="consent", reason="Talked through.")
    e.refresh_from_db()
    assert e.status == ElectionStatus.CLOSED
    assert e.result["elected"] == [ben.pk] and e.result["method"] == "consent"
    assert ConsentResponse.objects.filter(election=e, voter=dee).count() == 2
    assert ConsentResponse.objects.filter(election=e, voter=dee, is_current=True).get().stance == (
        "consent"
    )
    mandate = Mandate.objects.get(election=e)
    assert mandate.holder == ben and mandate.role == "facilitator"
    assert mandate.circle == world["oak"]
    assert mandate.starts_on == max(e.term_starts_on, timezone.localdate())
    assert mandate.ends_on == e.term_ends_on
    assert mandate.handover_plan == "Hand over at the spring retreat."
    assert selectors.recount_matches(e)
    assert Notification.objects.filter(recipient=cy, title__contains="the result").exists()
    with pytest.raises(Conflict):
        services.consent_respond(actor=dee, election=e, stance="consent")


def test_proposing_another_candidate_sets_earlier_answers_aside(world: dict[str, Any]) -> None:
    ana, ben, cy = world["Ana"], world["Ben"], world["Cy"]
    e = services.election_open(
        actor=ana,
        role="convener",
        circle=world["oak"],
        nominations_close_at=later(1),
        voting_closes_at=later(8),
    )
    services.nomination_add(actor=ben, election=e, nominee=ben, reason="me")
    services.nomination_add(actor=cy, election=e, nominee=cy, reason="me")
    services.election_change_round(actor=ana, election=e)
    services.election_propose(actor=ana, election=e, candidate=ben)
    services.consent_respond(actor=cy, election=e, stance="object", reason="Ben is away in May.")
    services.election_propose(actor=ana, election=e, candidate=cy)
    assert not ConsentResponse.objects.filter(election=e, is_current=True).exists()
    assert ConsentResponse.objects.filter(election=e, candidate=ben).count() == 1


def test_ballots_are_refused_in_a_consent_election(world: dict[str, Any]) -> None:
    e = services.election_open(
        actor=world["Ana"],
        role="facilitator",
        circle=world["oak"],
        nominations_close_at=later(1),
        voting_closes_at=later(2),
    )
    with pytest.raises(Conflict, match="consent election"):
        services.ballot_cast(actor=world["Ana"], election=e, choices=[world["Ana"].pk])


# --- ballots and the count ----------------------------------------------------------------------


def test_a_secret_ranked_election_from_nominations_to_mandate(world: dict[str, Any]) -> None:
    ana, ben, cy, eve, fay = (world[n] for n in ("Ana", "Ben", "Cy", "Eve", "Fay"))
    e = open_coordinator(world)
    stand(e, ben, eve)
    with pytest.raises(Conflict, match="Voting has not started"):
        services.ballot_cast(actor=ana, election=e, choices=[ben.pk])
    e = to_voting(e)
    assert e.status == ElectionStatus.VOTING
    assert Notification.objects.filter(recipient=fay, title__contains="voting is open").exists()
    with time_machine.travel(e.nominations_close_at + timedelta(hours=1), tick=False):
        services.ballot_cast(actor=ana, election=e, choices=[ben.pk, eve.pk])
        services.ballot_cast(actor=cy, election=e, choices=[ben.pk])
        services.ballot_cast(actor=eve, election=e, choices=[eve.pk, ben.pk])
        services.ballot_cast(actor=fay, election=e, choices=[eve.pk])
        # Bad ballots: nothing recorded.
        for bad, field in (
            ([], "ranking"),
            ([ben.pk, ben.pk], "ranking"),
            ([world["Dee"].pk], "ranking"),
            ([True], "ranking"),
        ):
            with pytest.raises(InvalidInput) as err:
                services.ballot_cast(actor=ben, election=e, choices=bad)
            assert field in err.value.fields
        with pytest.raises(NotAllowed):
            services.ballot_cast(actor=world["Out"], election=e, choices=[ben.pk])
        # A second ballot: refused, nothing changed.
        with pytest.raises(Conflict, match="already voted"):
            services.ballot_cast(actor=ana, election=e, choices=[eve.pk])
        assert Ballot.objects.filter(election=e).count() == 4
        assert BallotCast.objects.filter(election=e).count() == 4
        # Secret: the ballots name no voter.
        assert not Ballot.objects.filter(election=e, voter__isnull=False).exists()
        services.ballot_cast(actor=ben, election=e, choices=[ben.pk])
    with time_machine.travel(e.voting_closes_at + timedelta(seconds=1), tick=False):
        with pytest.raises(Conflict, match="Voting closed"):
            services.ballot_cast(actor=world["Dee"], election=e, choices=[ben.pk])
        assert tasks.sweep_elections.call() == 1
        assert tasks.sweep_elections.call() == 0  # idempotent
    e.refresh_from_db()
    assert e.status == ElectionStatus.CLOSED
    assert e.result["method"] == "irv"
    assert e.result["elected"] == [ben.pk]  # 3 first preferences of 5: a majority
    assert e.result["rounds"][0]["votes"] == {str(ben.pk): "3", str(eve.pk): "2"}
    assert selectors.recount_matches(e)
    assert selectors.recount(e) == {k: e.result[k] for k in selectors.recount(e)}
    mandate = Mandate.objects.get(election=e)
    assert mandate.holder == ben and mandate.federation == world["federation"]
    assert (mandate.starts_on, mandate.ends_on) == (e.term_starts_on, e.term_ends_on)
    assert mandate.handover_plan == e.handover_plan
    # Stored texts carry ids: each result is named as its recipient may see the names.
    told = [
        n
        for n in Notification.objects.filter(title__contains="the result")
        if "Ben" in names.render(n.body, audience_for(n.recipient.user))
    ]
    assert len(told) == 6


def test_an_open_ballot_records_its_voter(world: dict[str, Any]) -> None:
    e = open_coordinator(world, secret=False, method="approval")
    stand(e, world["Ben"])
    to_voting(e)
    services.ballot_cast(actor=world["Cy"], election=e, choices=[world["Ben"].pk])
    assert Ballot.objects.get(election=e).voter == world["Cy"]


def test_the_database_refuses_a_second_cast(world: dict[str, Any]) -> None:
    e = open_coordinator(world)
    BallotCast.objects.create(election=e, voter=world["Ana"])
    with pytest.raises(IntegrityError), transaction.atomic():
        BallotCast.objects.create(election=e, voter=world["Ana"])


def test_approval_tie_leaves_the_seat_empty_and_says_why(world: dict[str, Any]) -> None:
    ben, eve = world["Ben"], world["Eve"]
    e = open_coordinator(world, method="approval")
    stand(e, ben, eve)
    to_voting(e)
    services.ballot_cast(actor=world["Ana"], election=e, choices=[ben.pk])
    services.ballot_cast(actor=world["Fay"], election=e, choices=[eve.pk, eve.pk])  # a set
    with time_machine.travel(e.voting_closes_at, tick=False):
        assert services.election_advance(election=e) == "closed"
    e.refresh_from_db()
    assert e.result["elected"] == [] and e.result["note"] == "tie"
    assert sorted(e.result["tied"]) == sorted([ben.pk, eve.pk])
    assert not Mandate.objects.filter(election=e).exists()
    note = Notification.objects.filter(recipient=world["Cy"], title__contains="the result").get()
    assert "tie" in note.body


def test_no_candidates_closes_with_a_note(world: dict[str, Any]) -> None:
    e = open_coordinator(world)
    to_voting(e)
    assert e.status == ElectionStatus.CLOSED
    assert e.result["note"] == "no_candidates"


def test_the_count_is_the_same_whatever_order_the_ballots_were_stored_in(
    world: dict[str, Any],
) -> None:
    """Two elections with the same ballots cast in opposite orders count identically."""
    from circlework.circles.models import CovenantVersion

    # Two seats each: the covenant must allow two holders of these roles at a time.
    covenant = CovenantVersion.objects.filter(federation=world["federation"]).latest("number")
    covenant.parameters = {
        **covenant.parameters,
        "roles": {"coordinator": {"seats": 2}, "registrar": {"seats": 2}},
    }
    covenant.save(update_fields=["parameters"])
    voters = [world[n] for n in ("Ana", "Ben", "Cy", "Dee", "Eve", "Fay")]
    results = []
    for role, order in (("coordinator", voters), ("registrar", list(reversed(voters)))):
        e = open_coordinator(world, role=role, seats=2)
        stand(e, world["Ben"], world["Cy"], world["Eve"])
        to_voting(e)
        pks = {n: world[n].pk for n in ("Ben", "Cy", "Eve")}
        plan = {
            "Ana": ["Ben", "Cy"],
            "Ben": ["Ben", "Eve"],
            "Cy": ["Cy", "Ben"],
            "Dee": ["Cy", "Eve"],
            "Eve": ["Eve", "Ben"],
            "Fay": ["Cy"],
        }
        for voter in order:
            services.ballot_cast(
                actor=voter,
                election=e,
                choices=[pks[n] for n in plan[voter.display_name]],
            )
        with time_machine.travel(e.voting_closes_at, tick=False):
            services.election_advance(election=e)
        e.refresh_from_db()
        assert selectors.recount_matches(e)
        results.append(e.result)
    assert results[0]["rounds"] == results[1]["rounds"]
    assert results[0]["elected"] == results[1]["elected"]
    assert len(results[0]["elected"]) == 2
    assert Mandate.objects.filter(role="registrar").count() == 2


def test_a_tampered_ballot_makes_the_recount_disagree(world: dict[str, Any]) -> None:
    e = open_coordinator(world)
    stand(e, world["Ben"], world["Eve"])
    to_voting(e)
    for voter, choice in (("Ana", "Ben"), ("Cy", "Ben"), ("Fay", "Eve")):
        services.ballot_cast(actor=world[voter], election=e, choices=[world[choice].pk])
    with time_machine.travel(e.voting_closes_at, tick=False):
        services.election_advance(election=e)
    e.refresh_from_db()
    assert selectors.recount_matches(e)
    ballot = Ballot.objects.filter(election=e, choices=[world["Ben"].pk]).first()
    assert ballot is not None
    ballot.choices = [world["Eve"].pk]
    ballot.save()
    assert not selectors.recount_matches(e)


def test_cancel_by_the_facilitator_with_reasons(world: dict[str, Any]) -> None:
    e = open_coordinator(world)
    with pytest.raises(NotAllowed):
        services.election_cancel(actor=world["Ben"], election=e, reason="no")
    with pytest.raises(InvalidInput):
        services.election_cancel(actor=world["Ana"], election=e, reason="")
    services.election_cancel(actor=world["Ana"], election=e, reason="Opened by mistake.")
    e.refresh_from_db()
    assert e.status == ElectionStatus.CANCELLED
    open_coordinator(world)  # a new one may be opened


def test_home_lists_what_waits_for_me(world: dict[str, Any]) -> None:
    e = open_coordinator(world)
    services.nomination_add(actor=world["Ana"], election=e, nominee=world["Ben"], reason="Ben")
    assert [a.what for a in selectors.awaiting_me(practitioner=world["Ben"])] == ["answer"]
    stand(e, world["Eve"])
    to_voting(e)
    assert [a.what for a in selectors.awaiting_me(practitioner=world["Cy"])] == ["vote"]
    services.ballot_cast(actor=world["Cy"], election=e, choices=[world["Eve"].pk])
    assert selectors.awaiting_me(practitioner=world["Cy"]) == []
    assert selectors.awaiting_me(practitioner=world["Out"]) == []
