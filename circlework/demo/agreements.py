"""The demo's ethical statements (../shared/DEMO.md), built through the real services.

Leeds, York and Sheffield each adopted their own statement by decision and published it on the
public register — three different statements, no central code. Manchester's draft, still being
decided, is circulated to the federation, and a York member has commented on it.

Leeds has revised how it decides twice since adopting it, each time by a recorded decision: three
versions of one agreement to compare.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.agreements.models import (
    Agreement,
    AgreementKind,
    EthicsCirculation,
    EthicsComment,
)
from circlework.agreements.services import ethics_circulate, ethics_comment_add, ethics_publish
from circlework.circles.models import Circle
from circlework.circles.selectors import current_members
from circlework.decisions.models import Proposal, ProposalStatus
from circlework.demo.decisions import adopt

LEEDS_ETHICS = """## Our ethical statement

- **Our clients come first.** We work for our clients' wellbeing and autonomy, and we end work
  that is not helping them.
- **Confidentiality.** What clients tell us stays with us and, anonymised, with our circle — within
  the law, and with the limits explained at the start.
- **Competence.** We work within what we are trained and supported to do, and we bring our work
  to peer supervision in the circle at least monthly.
- **Accountability.** Anyone may raise a concern about one of us; the circle answers it openly
  and in writing."""

YORK_ETHICS = """## How we hold ourselves to account

We are practitioners who research our own work together. We commit to:

1. **Consent and choice** — clients know what we offer, what it costs and how to stop.
2. **Honesty about uncertainty** — we say what we do not know, to clients and to each other.
3. **Inquiry into our own practice** — including the sessions that went badly, brought to the
   circle without blame.
4. **Care with power** — we notice the power we hold as practitioners and do not use it for our
   own needs.
5. **Openness to challenge** — a concern from a client or a colleague is welcomed and answered."""

SHEFFIELD_ETHICS = """## Sheffield Peer Circle — ethical statement

We stand by one another's practice, and so we each promise:

- to put the safety and dignity of the people we work with before our own convenience;
- to keep proper boundaries: no dual relationships, no gifts beyond the token, clear contracts;
- to look after ourselves well enough to work well — and to say when we cannot;
- to keep learning: supervision, development and the feedback of our peers;
- to respond within a month to any complaint, with a member of another circle present if the
  person complaining wishes."""

STATEMENTS = (
    ("Leeds Wednesday Circle", "ruth", "Ethical statement", LEEDS_ETHICS, 540),
    ("York Riverside Group", "maria", "How we hold ourselves to account", YORK_ETHICS, 480),
    ("Sheffield Peer Circle", "niamh", "Ethical statement", SHEFFIELD_ETHICS, 260),
)


# Leeds's decision rule as it grew; its first version is demo/decisions.py's CONSENT_RULE.
LEEDS_RULE_V2 = """We decide by **consent**: a proposal passes when no one blocks it and every member
has given a position or stood aside.

- A **block** must come with a reason and a wish to find a way forward together. Whoever blocks
  meets the proposer before the next meeting to look for that way.
- **Standing aside** is recorded with its reason, so that the circle can come back to it.

If someone has not given a position on the text as it stands at the closing time, the closing
time moves once, by two days, and they are reminded; then we decide with the voices given."""

LEEDS_RULE_V3 = """We decide by **consent**: a proposal passes when no one blocks it and every member
has given a position or stood aside.

- A **block** must come with a reason and a wish to find a way forward together. Whoever blocks
  meets the proposer before the next meeting to look for that way.
- **Standing aside** is recorded with its reason, so that the circle can come back to it.
- **Concerns** are answered in writing before the proposal closes.
- A proposal that changes how we decide is talked through at a meeting before anyone gives a
  position.

If someone has not given a position on the text as it stands at the closing time, the closing
time moves once, by two days, and they are reminded; then we decide with the voices given."""

LEEDS_RULE_REVISIONS = (
    ("dev", LEEDS_RULE_V2, 420),  # after a block that took three meetings to resolve
    ("amira", LEEDS_RULE_V3, 150),  # after a concern went unanswered until the closing time
)


def seed_versions(people: dict[str, Practitioner], circles: dict[str, Circle]) -> Agreement:
    """Leeds's "How we decide", revised twice through the real services: three versions."""
    leeds = circles["Leeds Wednesday Circle"]
    members = list(current_members(circle=leeds))
    rule = Agreement.objects.get(circle=leeds, kind=AgreementKind.DECISION_RULE)
    for author_key, text, days_ago in LEEDS_RULE_REVISIONS:
        rule = adopt(
            people[author_key],
            leeds,
            members,
            title=rule.title,
            kind=rule.kind,
            text=text,
            days_ago=days_ago,
            agreement=rule,
        )
    return rule


def seed(people: dict[str, Practitioner], circles: dict[str, Circle]) -> None:
    seed_versions(people, circles)
    for circle_name, author_key, title, text, days_ago in STATEMENTS:
        circle = circles[circle_name]
        statement = adopt(
            people[author_key],
            circle,
            list(current_members(circle=circle)),
            title=title,
            kind=AgreementKind.ETHICS,
            text=text,
            days_ago=days_ago,
            review_months=24,
        )
        ethics_publish(actor=people[author_key], agreement=statement)

    manchester = circles["Manchester Forming Circle"]
    draft = Proposal.objects.get(
        circle=manchester,
        status=ProposalStatus.OPEN,
        new_agreement_kind=AgreementKind.ETHICS,
    )
    circulation = ethics_circulate(actor=people["olu"], proposal=draft)
    comment = ethics_comment_add(
        actor=people["maria"],
        circulation=circulation,
        text=(
            "Thank you for sending this round. In York we found it helped to say how a concern "
            "is answered and by when — you might add a line on that. We would gladly share ours."
        ),
    )
    now = timezone.now()
    EthicsCirculation.objects.filter(pk=circulation.pk).update(
        circulated_at=now - timedelta(days=6)
    )
    EthicsComment.objects.filter(pk=comment.pk).update(
        created_at=now - timedelta(days=4), updated_at=now - timedelta(days=4)
    )
