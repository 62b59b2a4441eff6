"""The demo's decisions and agreements (../shared/DEMO.md), built through the real services.

`adopt` is how every demo agreement comes about: a proposal opened, agreed and closed, then
dated in the past (demo.agreements uses it too).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.agreements.models import Agreement, AgreementVersion
from circlework.circles.models import Circle
from circlework.circles.selectors import current_members
from circlework.core.dates import add_months
from circlework.core.visibility import Visibility
from circlework.decisions import services
from circlework.decisions.models import Outcome, Proposal
from circlework.decisions.services import agreement_borrow, agreement_propose
from circlework.demo.mandates import seed_delegates

CONSENT_RULE = """We decide by **consent**: a proposal passes when no one blocks it and every member
has given a position or stood aside. A block must come with a reason and a wish to find a way
forward together. If someone has not given a position on the text as it stands at the closing
time, the closing time moves once, by two days, and they are reminded; then we decide with the
voices given."""

LEEDS_CRITERIA_V1 = """## What counts as evidence of competent practice

1. **Presence** — the client experiences being heard and accepted.
2. **Boundaries** — contracts, time and confidentiality are clear and kept.
3. **Reflexivity** — the practitioner notices their own process and brings it to supervision.
4. **Ethical awareness** — dilemmas are named and worked through with peers."""

LEEDS_CRITERIA_V2 = (
    LEEDS_CRITERIA_V1
    + """
5. **Cultural humility** — the practitioner attends to difference, power and their own assumptions.
6. **Endings** — endings are prepared with the client and reviewed afterwards."""
)

LEEDS_CRITERIA_V2_AMENDED = LEEDS_CRITERIA_V2.replace(
    "their own assumptions.",
    "their own assumptions — for example, asking how a client's culture shapes what help means "
    "to them.",
)

YORK_CONFLICT = """## When we disagree

1. Speak to the person directly first, within two weeks.
2. If that does not resolve it, ask the circle for a facilitated conversation.
3. Sort the issue together: an authentic difference, a misunderstanding, a misrepresentation,
   manipulation, or an unaware projection — each has its own path.
4. Record what was agreed, and review it at the next meeting."""

SHEFFIELD_CONFLICT = YORK_CONFLICT.replace("within two weeks", "within one week").replace(
    "ask the circle", "ask two members chosen by both people"
)

MEETING_PROCEDURE = """We open with a check-in round, agree the agenda, keep time in turns, and
close with a round of what each of us takes away."""


def adopt(
    author: Practitioner,
    circle: Circle,
    members: list[Practitioner],
    *,
    title: str,
    kind: str,
    text: str,
    days_ago: int,
    parameters: dict[str, object] | None = None,
    borrowed_from: AgreementVersion | None = None,
    agreement: Agreement | None = None,
    review_months: int = 12,
) -> Agreement:
    """Open, agree and close a proposal adopting an agreement, then date it in the past."""
    proposal = services.proposal_open(
        actor=author,
        circle=circle,
        title=title,
        text=f"I propose we adopt “{title}” as written below.",
        closes_at=timezone.now() + timedelta(days=7),
        agreement=agreement,
        new_agreement_kind="" if agreement else kind,
        new_agreement_title="" if agreement else title,
        agreement_text=text,
        agreement_parameters=parameters or {},
        borrowed_from=borrowed_from,
    )
    for member in members:
        services.position_take(actor=member, proposal=proposal, stance="agree")
    outcome = services.proposal_close(actor=author, proposal=proposal, early=True)
    assert outcome is not None and outcome.passed
    when = timezone.now() - timedelta(days=days_ago)
    Proposal.objects.filter(pk=proposal.pk).update(
        created_at=when - timedelta(days=7), updated_at=when, closes_at=when
    )
    Outcome.objects.filter(pk=outcome.pk).update(decided_at=when)
    proposal.refresh_from_db()
    assert proposal.agreement_id is not None
    result = Agreement.objects.get(pk=proposal.agreement_id)
    AgreementVersion.objects.filter(adopted_by=outcome).update(adopted_at=when)
    Agreement.objects.filter(pk=result.pk).update(
        review_interval_months=review_months,
        review_due=add_months(when.date(), review_months),
    )
    result.refresh_from_db()
    return result


def seed(people: dict[str, Practitioner], circles: dict[str, Circle]) -> None:
    for name, circle in circles.items():
        members = list(current_members(circle=circle))
        founder = circle.founded_by
        assert founder is not None
        if name != "Manchester Forming Circle":
            adopt(
                founder,
                circle,
                members,
                title="How we decide",
                kind="decision_rule",
                text=CONSENT_RULE,
                parameters={"rule": "consent", "silence": "extend_once"},
                days_ago=600,
            )

    leeds = circles["Leeds Wednesday Circle"]
    leeds_members = list(current_members(circle=leeds))
    ruth, tom, amira, helen = people["ruth"], people["tom"], people["amira"], people["helen"]
    criteria = adopt(
        ruth,
        leeds,
        leeds_members,
        title="Competence criteria",
        kind="competence_criteria",
        text=LEEDS_CRITERIA_V1,
        days_ago=330,
    )
    adopt(
        tom,
        leeds,
        leeds_members,
        title="Meeting procedure",
        kind="procedure",
        text=MEETING_PROCEDURE,
        days_ago=400,
    )  # review overdue
    revision = services.proposal_open(
        actor=amira,
        circle=leeds,
        title="Revise our competence criteria",
        text="After this year's audit meetings I propose we add two criteria we kept coming back to: cultural humility and endings.",
        closes_at=timezone.now() + timedelta(days=5, hours=3),
        agreement=criteria,
        agreement_text=LEEDS_CRITERIA_V2,
    )
    services.comment_add(
        actor=tom, proposal=revision, text="Yes — endings came up in three of our five audits."
    )
    services.position_take(actor=amira, proposal=revision, stance="agree")
    services.position_take(actor=ruth, proposal=revision, stance="agree")
    services.position_take(
        actor=tom,
        proposal=revision,
        stance="concerns",
        reason="I'd like “cultural humility” defined with an example before the next audit.",
    )
    # Ruth answers Tom's concern with an amendment; Amira accepts it: version 2, and everyone
    # is asked to confirm or revise their position on it.
    amendment = services.amendment_propose(
        actor=ruth,
        proposal=revision,
        text=revision.text,
        agreement_text=LEEDS_CRITERIA_V2_AMENDED,
        reason="Tom asked for an example of cultural humility: here is one from our audits.",
        base_version=1,
    )
    services.amendment_accept(
        actor=amira, amendment=amendment, response="Thank you — this is clearer."
    )
    services.position_take(actor=amira, proposal=revision, stance="agree")
    services.position_take(actor=ruth, proposal=revision, stance="agree")
    services.position_take(
        actor=helen,
        proposal=revision,
        stance="stand_aside",
        reason="I coach rather than counsel; I trust the counsellors on this one.",
    )
    # Tom's concern was given on version 1: not yet confirmed on version 2.
    # Dev has not spoken yet: his voice is the one missing.

    york = circles["York Riverside Group"]
    york_members = list(current_members(circle=york))
    york_conflict = adopt(
        people["sam"],
        york,
        york_members,
        title="Conflict procedure",
        kind="conflict_procedure",
        text=YORK_CONFLICT,
        days_ago=500,
    )

    sheffield = circles["Sheffield Peer Circle"]
    sheffield_members = list(current_members(circle=sheffield))
    kwame = people["kwame"]
    draft = agreement_borrow(
        actor=kwame,
        agreement=york_conflict,
        circle=sheffield,
        closes_at=timezone.now() + timedelta(days=7),
    )
    services.proposal_withdraw(
        actor=kwame, proposal=draft
    )  # the borrowed text was then adopted as revised:
    assert york_conflict.current_version is not None
    adopt(
        kwame,
        sheffield,
        sheffield_members,
        title="Conflict procedure",
        kind="conflict_procedure",
        text=SHEFFIELD_CONFLICT,
        borrowed_from=york_conflict.current_version,
        days_ago=200,
    )

    manchester = circles["Manchester Forming Circle"]
    # A draft the circle keeps to itself once adopted, until it chooses to share it wider.
    agreement_propose(
        actor=people["olu"],
        circle=manchester,
        visibility=Visibility.CIRCLE,
        title="Our ethical statement (first draft)",
        text="A first draft of our ethical statement, to be circulated to the network once we agree it.",
        closes_at=timezone.now() + timedelta(days=12),
        new_agreement_kind="ethics",
        new_agreement_title="Ethical statement",
        agreement_text="We work for our clients' wellbeing, keep their confidences within the law, know our limits and seek supervision, and answer openly to any concern raised about our work.",
    )


def seed_federation(people: dict[str, Practitioner], circles: dict[str, Circle]) -> None:
    """Delegates for the validated circles, and a federation question the circles are deciding."""
    leeds, york = circles["Leeds Wednesday Circle"], circles["York Riverside Group"]
    seed_delegates(people, circles)
    gathering = services.federation_proposal_open(
        actor=people["sam"],
        circle=york,
        title="Hold a federation gathering next spring",
        text="York proposes a two-day gathering in April, open to anyone interested, where every voice can be heard. Each circle is asked to send at least one member.",
        closes_at=timezone.now() + timedelta(days=18),
    )
    york_view = services.proposal_open(
        actor=people["maria"],
        circle=york,
        title="Our position on: Hold a federation gathering next spring",
        text="What our delegate will carry to the federation.",
        closes_at=timezone.now() + timedelta(days=10),
        federation_proposal=gathering,
    )
    services.position_take(actor=people["maria"], proposal=york_view, stance="agree")
    services.circle_position_record(
        actor=people["sam"],
        federation_proposal=gathering,
        circle=york,
        stance="agree",
        reason="We offered to host; a gathering keeps the network alive between links.",
        internal_proposal=york_view,
    )
    services.circle_position_record(
        actor=people["ruth"],
        federation_proposal=gathering,
        circle=leeds,
        stance="concerns",
        reason="Yes, if the date avoids our audit day.",
        dissent="Helen would prefer an online gathering to save travel.",
    )
