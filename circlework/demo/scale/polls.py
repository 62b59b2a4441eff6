"""Polls in every circle: approval, score, ranked and find-a-time, open and closed, answered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse

from circlework.demo.scale import plan
from circlework.demo.scale.context import Ref, Scale
from circlework.polls.models import Poll, PollAnswer, PollOption

KINDS = ("approval", "score", "ranked", "time")
QUESTIONS = (
    "Where shall we hold the spring day?",
    "Which reading shall we take next?",
    "When can we meet for the audit day?",
    "Which theme for our next peer review?",
)
LABELS = ("The community centre", "Our usual room", "Online", "A walk and talk", "The library")


def build(s: Scale, polls_total: int, answers_total: int) -> None:
    rng = s.rng
    circles = [c for c in s.circles if len(c.members) >= 2]
    if not circles:
        return
    polls_total = max(len(circles), polls_total)
    shares = plan.spread(polls_total, len(circles), rng)
    answer_share = answers_total / max(1, polls_total)
    for circle, n in zip(circles, shares, strict=True):
        for k in range(n):
            kind = KINDS[(k + circle.id) % len(KINDS)]
            is_open = rng.random() < 0.2
            opened = (
                s.ago(rng.uniform(0.5, 4))
                if is_open
                else s.between(
                    max(circle.founded + timedelta(days=30), s.base - timedelta(days=700)),
                    s.base - timedelta(days=10),
                )
            )
            closes = s.base + timedelta(days=rng.randint(2, 10)) if is_open else opened
            if not is_open:
                closes = opened + timedelta(days=7)
            voters = circle.members_at(opened)
            if not voters:
                continue
            author = plan.pick(rng, voters)
            poll = s.add(
                Poll,
                circle_id=circle.id,
                author_id=author,
                title=plan.pick(rng, QUESTIONS),
                details="Answer by the closing time, please.",
                kind=kind,
                anonymous=rng.random() < 0.2,
                closes_at=closes,
                status="open" if is_open else "closed",
                closed_at=None if is_open else closes,
                created_at=opened,
                updated_at=opened,
            )
            options: list[int] = []
            for i in range(rng.randint(3, 5)):
                if kind == "time":
                    at = (closes + timedelta(days=7 + i)).replace(
                        hour=18, minute=0, second=0, microsecond=0
                    )
                    option = s.add(PollOption, poll_id=poll.id, position=i, label="", starts_at=at)
                else:
                    option = s.add(
                        PollOption, poll_id=poll.id, position=i, label=LABELS[i], starts_at=None
                    )
                options.append(option.id)
            s.audit(
                actor=author,
                verb="poll.opened",
                object_type="polls.poll",
                object_id=poll.id,
                summary=f"Opened the poll “{poll.title}”",
                when=opened,
                circle=circle.id,
                data={"kind": kind, "options": len(options), "anonymous": poll.anonymous},
            )
            url = reverse("polls:poll_detail", kwargs={"slug": circle.slug, "pk": poll.id})
            s.refs.append(Ref("poll", circle.id, f"New poll in {circle.name}", url, opened))
            want = min(len(voters), max(1, round(answer_share * rng.uniform(0.6, 1.4))))
            end = min(closes, s.base - timedelta(minutes=1))
            for who in plan.sample(rng, voters, want):
                at = s.between(opened, end)
                answer = s.add(
                    PollAnswer,
                    poll_id=poll.id,
                    practitioner_id=who,
                    choices=_choices(rng, kind, options),
                    created_at=at,
                    updated_at=at,
                )
                # As the service: an anonymous poll's answers stay out of the circle's history.
                s.audit(
                    actor=who,
                    verb="ballot.cast",
                    object_type="polls.poll" if poll.anonymous else "polls.pollanswer",
                    object_id=poll.id if poll.anonymous else answer.id,
                    summary=f"Answered “{poll.title}”",
                    when=at,
                    circle=None if poll.anonymous else circle.id,
                )
            if not is_open:
                s.audit(
                    actor=None,
                    verb="poll.closed",
                    object_type="polls.poll",
                    object_id=poll.id,
                    summary=f"The poll “{poll.title}” closed",
                    when=closes,
                    circle=circle.id,
                )


def _choices(rng: Any, kind: str, options: list[int]) -> Any:
    if kind == "approval":
        return sorted(plan.sample(rng, options, rng.randint(1, len(options))))
    if kind == "score":
        return {str(o): rng.randint(0, 5) for o in options}
    if kind == "ranked":
        return plan.sample(rng, options, rng.randint(1, len(options)))
    return {str(o): rng.choice(("yes", "maybe", "no")) for o in options}
