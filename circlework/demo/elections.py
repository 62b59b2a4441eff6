"""The demo's elections (../shared/DEMO.md), through the real services.

- The federation is electing its next coordinator: the present coordinator's term ends in five
  weeks. Nominations are open, with two nominations and their reasons; one nominee has accepted.
  The circles' delegates elect (the covenant says so), by instant runoff (ranked secret ballot).
- York chose its facilitator two months ago by consent election; the whole record is kept:
  nominations round, change round, the proposal, an objection talked through, consent.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle
from circlework.circles.roles import Method
from circlework.elections import services
from circlework.elections.models import ConsentResponse, Election, Nomination
from circlework.mandates.models import Mandate

LEEDS, YORK = "Leeds Wednesday Circle", "York Riverside Group"

COORDINATOR_ABOUT = """The coordinator keeps the federation's business moving between gatherings:
the calendar, notices, and the open federation questions. Dev is not standing again.

The covenant asks each circle's **delegate** to vote, having asked their circle. Rank as many
candidates as you wish; the count is an instant runoff, and the ballot is secret."""

COORDINATOR_HANDOVER = (
    "Share sending notices with the registrar from the start; at the six-month review, ask "
    "whether the federation still needs a coordinator, or less of one."
)


def seed(people: dict[str, Practitioner], circles: dict[str, Circle]) -> None:
    seed_coordinator_election(people, circles)
    seed_york_facilitator(people, circles)


def seed_coordinator_election(people: dict[str, Practitioner], circles: dict[str, Circle]) -> None:
    federation = circles[LEEDS].federation
    now = timezone.now()
    current = (
        Mandate.objects.live()
        .filter(federation=federation, role="coordinator")
        .order_by("-ends_on")
        .first()
    )
    starts = (
        current.ends_on if current is not None else timezone.localdate(now + timedelta(days=35))
    )
    election = services.election_open(
        actor=people["sam"],
        role="coordinator",
        federation=federation,
        nominations_close_at=_at(9),
        voting_closes_at=_at(23),
        term_starts_on=starts,
        handover_plan=COORDINATOR_HANDOVER,
        description=COORDINATOR_ABOUT,
        method=Method.IRV,  # instant runoff, by its own name: one seat
    )
    maria = services.nomination_add(
        actor=people["sam"],
        election=election,
        nominee=people["maria"],
        reason="Maria convened York for three years and kept every meeting to time and to "
        "purpose. She knows most of the federation by name.",
    )
    services.nomination_answer(actor=people["maria"], nomination=maria, accept=True)
    services.nomination_add(
        actor=people["ruth"],
        election=election,
        nominee=people["kwame"],
        reason="Kwame chaired the spring gathering with great fairness, and Sheffield's link "
        "visits show how he listens across traditions.",
    )


def _at(days: int, hour: int = 18) -> datetime:
    """Some days from now at a whole hour, local time, so the demo's times read naturally."""
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def seed_york_facilitator(people: dict[str, Practitioner], circles: dict[str, Circle]) -> None:
    """A consent election held now, then moved two months into the past with its mandate."""
    york = circles[YORK]
    sam, maria, ben, lucy, jo, dev = (
        people[k] for k in ("sam", "maria", "ben", "lucy", "jo", "dev")
    )
    election = services.election_open(
        actor=sam,
        role="facilitator",
        circle=york,
        nominations_close_at=_at(1),
        voting_closes_at=_at(7),
        handover_plan="Each facilitator trains the next for two meetings before handing over.",
        description="We choose our facilitator by consent, in one meeting, as sociocracy does.",
    )
    for by, nominee, reason in (
        (sam, lucy, "Lucy holds silence well and notices who has not spoken."),
        (maria, lucy, "Lucy: she is calm when we are not."),
        (ben, jo, "Jo has facilitated inquiry groups and would bring that rigour."),
        (lucy, jo, "I would rather Jo: I am new to this circle."),
        (jo, lucy, "Lucy, because the circle trusts her."),
        (dev, maria, "Maria knows our history; she would keep us to our agreements."),
    ):
        services.nomination_add(actor=by, election=election, nominee=nominee, reason=reason)
    services.election_change_round(actor=sam, election=election)
    services.nomination_change(
        actor=ben,
        election=election,
        nominee=lucy,
        reason="Hearing everyone, Lucy — and Jo as her deputy when she is away.",
    )
    services.nomination_change(
        actor=dev,
        election=election,
        nominee=lucy,
        reason="Maria is needed as convener; Lucy it is.",
    )
    jo_nomination = Nomination.objects.filter(
        election=election, nominee=jo, is_current=True
    ).first()
    assert jo_nomination is not None
    services.nomination_answer(actor=jo, nomination=jo_nomination, accept=False)
    lucy_nomination = Nomination.objects.filter(
        election=election, nominee=lucy, is_current=True
    ).first()
    assert lucy_nomination is not None
    services.nomination_answer(actor=lucy, nomination=lucy_nomination, accept=True)
    services.election_propose(actor=sam, election=election, candidate=lucy)
    for person in (sam, maria, ben, jo, dev):
        services.consent_respond(actor=person, election=election, stance="consent")
    services.consent_respond(
        actor=lucy,
        election=election,
        stance="object",
        reason="I am new here: I object to myself unless someone will tell me when I miss things.",
    )
    services.consent_respond(
        actor=lucy,
        election=election,
        stance="consent",
        reason="Jo will be my second pair of eyes; with that, I consent.",
    )
    _into_the_past(election, days=60)


def _into_the_past(election: Election, *, days: int) -> None:
    shift = timedelta(days=days)
    election.refresh_from_db()
    assert election.closed_at is not None
    Election.objects.filter(pk=election.pk).update(
        created_at=election.created_at - shift,
        nominations_close_at=election.nominations_close_at - shift,
        voting_closes_at=election.voting_closes_at - shift,
        closed_at=election.closed_at - shift,
        term_starts_on=election.term_starts_on - shift,
        term_ends_on=election.term_ends_on - shift,
    )
    for n in Nomination.objects.filter(election=election):
        Nomination.objects.filter(pk=n.pk).update(created_at=n.created_at - shift)
    for r in ConsentResponse.objects.filter(election=election):
        ConsentResponse.objects.filter(pk=r.pk).update(created_at=r.created_at - shift)
    for m in Mandate.objects.filter(election=election):
        Mandate.objects.filter(pk=m.pk).update(
            starts_on=m.starts_on - shift,
            ends_on=m.ends_on - shift,
            review_on=m.review_on - shift,
            created_at=m.created_at - shift,
        )
