"""Proposals and everything about them: versions, positions, amendments, comments, outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.urls import reverse

from circlework.decisions.models import (
    Amendment,
    Comment,
    CommentRevision,
    Outcome,
    Position,
    Proposal,
    ProposalVersion,
)
from circlework.demo.scale import plan
from circlework.demo.scale.context import CircleInfo, Ref, Scale

PASSED = "No block stood and every member was heard."
PASSED_WITH_SILENCE = (
    "No block stood; the closing time moved once for the silent, then the voices given decided."
)
NOT_PASSED = "A block stood at the closing time."


def proposal_url(slug: str, pk: int) -> str:
    return reverse("decisions:proposal_detail", kwargs={"slug": slug, "pk": pk})


@dataclass
class Made:
    proposal: int
    outcome: int | None
    passed: bool
    closed_at: datetime | None


def make_proposal(
    s: Scale,
    circle: CircleInfo,
    *,
    title: str,
    text: str,
    opened: datetime,
    status: str,
    voice_share: float = 1.0,
    all_agree: bool = False,
    agreement: int | None = None,
    new_agreement_kind: str = "",
    new_agreement_title: str = "",
    agreement_text: str = "",
    agreement_parameters: dict[str, Any] | None = None,
    amendments: int = 0,
    comments: int = 0,
    federation_proposal: int | None = None,
    extras: dict[str, Any] | None = None,
    blocked: bool = False,
) -> Made:
    """One proposal with its history. `status` open (closes after the base), closed (with an
    outcome) or withdrawn. Positions only by members who had joined when they spoke."""
    rng = s.rng
    voters = circle.members_at(opened)
    author = voters[0] if voters else circle.founder
    if voters:
        author = plan.pick(rng, voters)
    pid = s.next_id(Proposal)
    closes = opened + timedelta(days=7)
    if status == "open":
        closes = s.base + timedelta(days=rng.randint(2, 9))
    end = min(closes, s.base - timedelta(minutes=1))
    version = 1
    version_times: list[datetime] = [opened]
    s.add(
        ProposalVersion,
        proposal_id=pid,
        number=1,
        title=title,
        text=text,
        agreement_text=agreement_text,
        created_at=opened,
    )
    s.audit(
        actor=author,
        verb="proposal.opened",
        object_type="decisions.proposal",
        object_id=pid,
        summary=f"Opened the proposal “{title}”",
        when=opened,
        circle=circle.id,
    )
    url = proposal_url(circle.slug, pid)
    s.refs.append(
        Ref("proposal", circle.id, f"New proposal in {circle.name}: {title}", url, opened)
    )
    # Amendments come first in the conversation: an accepted one makes the next version.
    cursor = opened + timedelta(hours=2)
    for _ in range(amendments):
        if not voters:
            break
        by = plan.pick(rng, voters)
        state = rng.choices(("accepted", "declined", "open", "withdrawn"), weights=(5, 2, 2, 1))[0]
        if status != "open" and state == "open":
            state = "declined"
        made = cursor
        decided = made + timedelta(hours=3)
        amended_text = text + f"\n\nAmended: {plan.pick(rng, plan.TOPICS)} is reviewed yearly."
        am = s.add(
            Amendment,
            proposal_id=pid,
            author_id=by,
            based_on_version=version,
            text=amended_text,
            agreement_text=agreement_text,
            reason=plan.pick(rng, plan.REASONS),
            status=state,
            decided_by_id=author if state in ("accepted", "declined") else None,
            decided_at=decided if state in ("accepted", "declined") else None,
            response="Thank you, taken in." if state == "accepted" else "",
            created_at=made,
            updated_at=decided,
        )
        s.audit(
            actor=by,
            verb="amendment.proposed",
            object_type="decisions.amendment",
            object_id=am.id,
            summary=f"Proposed an amendment to “{title}”",
            when=made,
            circle=circle.id,
        )
        if state == "accepted":
            version += 1
            text = amended_text
            s.add(
                ProposalVersion,
                proposal_id=pid,
                number=version,
                title=title,
                text=text,
                agreement_text=agreement_text,
                amendment_id=am.id,
                created_at=decided,
            )
            version_times.append(decided)
            s.audit(
                actor=author,
                verb="amendment.accepted",
                object_type="decisions.amendment",
                object_id=am.id,
                summary=f"Accepted an amendment to “{title}”",
                when=decided,
                circle=circle.id,
            )
        elif state == "declined":
            s.audit(
                actor=author,
                verb="amendment.declined",
                object_type="decisions.amendment",
                object_id=am.id,
                summary=f"Declined an amendment to “{title}”",
                when=decided,
                circle=circle.id,
            )
        cursor = decided + timedelta(hours=1)
    # Positions on the version that stands; a few changed their mind on the way.
    speaking_from = max(cursor, version_times[-1] + timedelta(minutes=5))
    if status == "withdrawn":
        speakers: list[int] = plan.sample(rng, voters, len(voters) // 3)
    elif status == "open":
        speakers = plan.sample(rng, voters, max(0, round(len(voters) * voice_share)))
    else:
        speakers = plan.sample(rng, voters, round(len(voters) * max(voice_share, 0.85)))
    final: list[dict[str, Any]] = []
    t = speaking_from
    span = max(60, int((end - speaking_from).total_seconds()))
    step = max(1, span // (len(speakers) + 2))
    for who in speakers:
        t = t + timedelta(seconds=rng.randint(max(1, step // 2), step))
        if t > end:
            t = end
        stance = "agree" if all_agree else plan.stance(rng)
        if blocked and who == speakers[0]:
            stance = "block"
        reason = "" if stance == "agree" else plan.pick(rng, plan.REASONS)
        if not all_agree and rng.random() < 0.08:
            earlier = plan.stance(rng)
            s.add(
                Position,
                proposal_id=pid,
                practitioner_id=who,
                stance=earlier,
                reason="" if earlier == "agree" else plan.pick(rng, plan.REASONS),
                version=version,
                round=1,
                is_current=False,
                created_at=t - timedelta(seconds=30),
            )
        pos = s.add(
            Position,
            proposal_id=pid,
            practitioner_id=who,
            stance=stance,
            reason=reason,
            version=version,
            round=1,
            is_current=True,
            created_at=t,
        )
        s.counts["positions"] += 1
        s.audit(
            actor=who,
            verb="position.taken",
            object_type="decisions.position",
            object_id=pos.id,
            summary=f"Gave a position on “{title}”",
            when=t,
            circle=circle.id,
            data={"stance": stance},
        )
        final.append(
            {"practitioner_id": who, "stance": stance, "reason": reason, "version": version}
        )
    # Comments, some replies, a few edited.
    made_comments: list[int] = []
    for _ in range(comments):
        if not voters:
            break
        by = plan.pick(rng, voters)
        when = s.between(opened, end)
        parent = plan.pick(rng, made_comments) if made_comments and rng.random() < 0.3 else None
        edited = rng.random() < 0.1
        c = s.add(
            Comment,
            proposal_id=pid,
            author_id=by,
            parent_id=parent,
            quote="",
            text=plan.pick(rng, plan.COMMENTS),
            edited_at=when + timedelta(minutes=20) if edited else None,
            created_at=when,
            updated_at=when,
        )
        made_comments.append(c.id)
        s.audit(
            actor=by,
            verb="comment.added",
            object_type="decisions.comment",
            object_id=c.id,
            summary=f"Commented on “{title}”",
            when=when,
            circle=circle.id,
        )
        if edited:
            s.add(
                CommentRevision,
                comment_id=c.id,
                text="(first draft) " + plan.pick(rng, plan.COMMENTS),
                created_at=when + timedelta(minutes=20),
            )
            s.audit(
                actor=by,
                verb="comment.edited",
                object_type="decisions.comment",
                object_id=c.id,
                summary=f"Edited a comment on “{title}”",
                when=when + timedelta(minutes=20),
                circle=circle.id,
            )
    passed = status == "closed" and all(f["stance"] != "block" for f in final)
    outcome_id: int | None = None
    closed_at: datetime | None = None
    if status == "closed":
        closed_at = max(t, closes if closes < s.base else end)
        spoke = {f["practitioner_id"] for f in final}
        missing = sorted(v for v in voters if v not in spoke)
        reason = PASSED_WITH_SILENCE if missing else PASSED
        reason = reason if passed else NOT_PASSED
        outcome = s.add(
            Outcome,
            proposal_id=pid,
            passed=passed,
            statement=text,
            reason=reason,
            rule="consent",
            final_positions=final,
            dissent=[f for f in final if f["stance"] != "agree"],
            missing=missing,
            unconfirmed=[],
            silence="extend_once",
            version=version,
            decided_at=closed_at,
        )
        outcome_id = outcome.id
        s.audit(
            actor=author,
            verb="proposal.closed",
            object_type="decisions.proposal",
            object_id=pid,
            summary=f"“{title}” was agreed" if passed else f"“{title}” was not agreed",
            when=closed_at,
            circle=circle.id,
            data={"passed": passed, "reason": reason},
        )
        s.refs.append(
            Ref(
                "outcome",
                circle.id,
                f"Decided in {circle.name}: {title}" + (" (agreed)" if passed else " (not agreed)"),
                url,
                closed_at,
            )
        )
    elif status == "withdrawn":
        closed_at = end
        s.audit(
            actor=author,
            verb="proposal.withdrawn",
            object_type="decisions.proposal",
            object_id=pid,
            summary=f"Withdrew the proposal “{title}”",
            when=end,
            circle=circle.id,
        )
    s.add(
        Proposal,
        id=pid,
        circle_id=circle.id,
        author_id=author,
        title=title,
        text=text,
        process="consent",
        rule="consent",
        fallback_after_rounds=3,
        silence="extend_once",
        closes_at=closes,
        status=status,
        version=version,
        round=1,
        agreement_id=agreement,
        new_agreement_kind=new_agreement_kind,
        new_agreement_title=new_agreement_title,
        agreement_text=agreement_text,
        agreement_parameters=agreement_parameters or {},
        federation_proposal_id=federation_proposal,
        created_at=opened,
        updated_at=closed_at or t,
        **(extras or {}),
    )
    return Made(pid, outcome_id, passed, closed_at)


def build(s: Scale, budget: dict[str, int]) -> None:
    """Ordinary proposals across every circle: closed, open and withdrawn."""
    rng = s.rng
    circles = [c for c in s.circles if c.members]
    if not circles:
        return
    members = sum(len(c.members) for c in circles) / len(circles)
    per_proposal = max(1.0, members * 0.85)
    wanted = max(len(circles), int(budget["positions"] / per_proposal))
    comments_each = max(0, budget["comments"] // max(1, wanted))
    shares = plan.spread(wanted, len(circles), rng)
    for circle, n in zip(circles, shares, strict=True):
        if not circle.is_new:
            # The grown circles: one open proposal in which every current member has spoken.
            make_proposal(
                s,
                circle,
                title=f"Proposal: {plan.pick(rng, plan.TOPICS)}",
                text="I propose we agree this together; every voice is wanted.",
                opened=s.base - timedelta(days=1),
                status="open",
                voice_share=1.0,
                comments=3,
            )
        start = max(circle.founded + timedelta(days=60), s.base - timedelta(days=720))
        for k in range(n):
            opened = s.between(start, s.base - timedelta(days=8))
            roll = rng.random()
            status = "open" if roll < 0.08 else "withdrawn" if roll < 0.12 else "closed"
            if status == "open":
                opened = s.base - timedelta(days=rng.uniform(0.5, 5))
                opened = opened.replace(microsecond=0)
            topic = plan.TOPICS[(k + circle.id) % len(plan.TOPICS)]
            make_proposal(
                s,
                circle,
                title=f"Proposal on {topic}",
                text=f"I propose we agree on {topic}, as discussed at our last meeting. "
                "Details are below; please give your position.",
                opened=opened,
                status=status,
                voice_share=rng.uniform(0.3, 0.9),
                amendments=1 if rng.random() < 0.15 else 0,
                comments=rng.randint(0, 2 * comments_each),
            )
