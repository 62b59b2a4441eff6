"""Agreements adopted by decision, version after version; ethics circulated and commented on."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.urls import reverse

from circlework.agreements.models import (
    Agreement,
    AgreementVersion,
    EthicsCirculation,
    EthicsComment,
    ProposedVisibility,
)
from circlework.core.dates import add_months
from circlework.demo.scale import plan
from circlework.demo.scale.context import CircleInfo, Ref, Scale, person
from circlework.demo.scale.decisions import make_proposal

CONSENT_RULE = """We decide by **consent**: a proposal passes when no one blocks it and every
member has given a position or stood aside."""


def adopt_versions(
    s: Scale,
    circle: CircleInfo,
    *,
    kind: str,
    title: str,
    versions: int,
    first: datetime,
    last: datetime,
    parameters: dict[str, Any] | None = None,
    visibility: str = "circle",
) -> tuple[int, list[int]]:
    """An agreement adopted `versions` times, each through an agreed proposal."""
    agreement_id = s.next_id(Agreement)
    version_ids: list[int] = []
    gap = (last - first) / max(1, versions)
    adopted_at = first
    for n in range(1, versions + 1):
        opened = (first + gap * (n - 1)).replace(microsecond=0)
        text = plan.agreement_text(title, n)
        made = make_proposal(
            s,
            circle,
            title=f"Adopt “{title}”" if n == 1 else f"Revise “{title}” (version {n})",
            text=f"I propose we adopt “{title}” as written below.",
            opened=opened,
            status="closed",
            all_agree=True,
            agreement=agreement_id,
            new_agreement_kind=kind if n == 1 else "",
            new_agreement_title=title if n == 1 else "",
            agreement_text=text,
            agreement_parameters=parameters,
        )
        if made.outcome is None or made.closed_at is None:
            continue
        if n == 1 and s.rng.random() < 0.5:
            s.add(ProposedVisibility, proposal_id=made.proposal, visibility=visibility)
        adopted_at = made.closed_at
        version = s.add(
            AgreementVersion,
            agreement_id=agreement_id,
            number=len(version_ids) + 1,
            text=text,
            parameters=parameters or {},
            adopted_by_id=made.outcome,
            adopted_at=adopted_at,
        )
        version_ids.append(version.id)
        s.audit(
            actor=None,
            verb="agreement.version_adopted",
            object_type="agreements.agreementversion",
            object_id=version.id,
            summary=f"“{title}” version {version.number} adopted by decision",
            when=adopted_at,
            circle=circle.id,
        )
    interval = 12
    due = add_months(adopted_at.date(), interval)
    s.add(
        Agreement,
        id=agreement_id,
        circle_id=circle.id,
        kind=kind,
        title=title,
        review_interval_months=interval,
        review_due=due,
        review_notified_on=due if due <= s.today else None,
        current_version_id=version_ids[-1] if version_ids else None,
        visibility=visibility,
        created_at=first,
        updated_at=adopted_at,
    )
    url = reverse("agreements:agreement_detail", kwargs={"slug": circle.slug, "pk": agreement_id})
    s.refs.append(Ref("agreement", circle.id, f"{circle.name} adopted “{title}”", url, adopted_at))
    return agreement_id, version_ids


def _levels(rng: Any, circle_visibility: str) -> str:
    if circle_visibility == "public":
        return str(rng.choices(("circle", "federation", "public"), weights=(3, 3, 4))[0])
    return str(rng.choice(("circle", "federation")))


def build(s: Scale, budget: dict[str, int]) -> None:
    rng = s.rng
    circles = [c for c in s.circles if c.members]
    if not circles:
        return
    versions_total = max(len(circles), budget["agreement_versions"])
    shares = plan.spread(versions_total, len(circles), rng)
    ethics: list[tuple[CircleInfo, int, int, datetime]] = []
    for circle, n in zip(circles, shares, strict=True):
        start = max(circle.founded + timedelta(days=30), s.base - timedelta(days=900))
        end = s.base - timedelta(days=10)
        if circle.is_new:
            adopt_versions(
                s,
                circle,
                kind="decision_rule",
                title="How we decide",
                versions=1,
                first=start,
                last=start + timedelta(days=8),
                parameters={"rule": "consent", "silence": "extend_once"},
                visibility=_levels(rng, circle.visibility),
            )
            n = max(0, n - 1)
        else:
            n = max(n, 7)  # the grown circles: an agreement with a long history
        # Each kind once per circle; a validated circle has its ethical statement first. The
        # circle's share of versions is spread over them (the first taking what is left over).
        kinds = list(plan.AGREEMENT_KINDS)
        rng.shuffle(kinds)
        kinds.sort(key=lambda k: k[0] != "ethics" or circle.status != "member")
        count = 1 if not circle.is_new else max(1, min(len(kinds), n // 2 or 1))
        if n <= 0:
            continue
        sizes = plan.spread(n, count, rng) if circle.is_new else [n]
        for (kind, title), versions in zip(kinds, sizes, strict=False):
            if versions <= 0:
                continue
            if not circle.is_new:
                title = f"{title} ({s.seed})"
            level = _levels(rng, circle.visibility)
            if kind == "ethics":
                level = "public" if circle.visibility == "public" else "federation"
            agreement_id, version_ids = adopt_versions(
                s,
                circle,
                kind=kind,
                title=title,
                versions=versions,
                first=s.between(start, start + (end - start) / 2),
                last=end,
                visibility=level,
            )
            if kind == "ethics" and version_ids:
                ethics.append((circle, agreement_id, version_ids[-1], end))
    _ethics(s, ethics, budget)


def _ethics(
    s: Scale,
    statements: list[tuple[CircleInfo, int, int, datetime]],
    budget: dict[str, int],
) -> None:
    rng = s.rng
    if not statements:
        return
    # Commenters: members of the federation's validated circles (they read circulations).
    others = [c for c in s.circles if c.members and c.status == "member"] or [
        c for c in s.circles if c.members
    ]
    per = max(1, budget["ethics_comments"] // len(statements))
    for circle, agreement_id, version_id, when in statements:
        by = plan.pick(rng, sorted(circle.members))
        title = "Ethical statement"
        circulated = when + timedelta(days=1)
        circ = s.add(
            EthicsCirculation,
            circle_id=circle.id,
            agreement_id=agreement_id,
            version_id=version_id,
            proposal_id=None,
            title=f"{title} of {circle.name}",
            text=plan.agreement_text(title, 2),
            circulated_by_id=by,
            circulated_at=circulated,
        )
        s.audit(
            actor=by,
            verb="ethics.circulated",
            object_type="agreements.ethicscirculation",
            object_id=circ.id,
            summary=f"{person(by)} circulated the ethical statement of {circle.name}",
            when=circulated,
            circle=circle.id,
        )
        url = reverse("agreements:ethics_circulation", kwargs={"slug": circle.slug, "pk": circ.id})
        s.refs.append(
            Ref("ethics", circle.id, f"{circle.name} circulated its ethical statement", url, when)
        )
        for _ in range(rng.randint(max(0, per - 2), per + 2)):
            other = plan.pick(rng, others)
            author = plan.pick(rng, sorted(other.members))
            at = s.between(circulated, s.base - timedelta(minutes=5))
            comment = s.add(
                EthicsComment,
                circulation_id=circ.id,
                author_id=author,
                author_circle_id=other.id,
                text=plan.pick(rng, plan.COMMENTS),
                created_at=at,
                updated_at=at,
            )
            s.audit(
                actor=author,
                verb="ethics.commented",
                object_type="agreements.ethicscomment",
                object_id=comment.id,
                summary=f"{person(author)} commented on the ethical statement of {circle.name}",
                when=at,
                circle=circle.id,
            )
    # A draft still being decided, circulated from its open proposal.
    circle = statements[0][0]
    made = make_proposal(
        s,
        circle,
        title="Adopt a revised ethical statement",
        text="I propose we adopt the revised statement below; it has been circulated.",
        opened=s.base - timedelta(days=2),
        status="open",
        voice_share=0.5,
        new_agreement_kind="ethics",
        new_agreement_title=f"Revised ethical statement {s.seed}",
        agreement_text=plan.agreement_text("Revised ethical statement", 3),
    )
    by = sorted(circle.members)[0]
    circ = s.add(
        EthicsCirculation,
        circle_id=circle.id,
        agreement_id=None,
        version_id=None,
        proposal_id=made.proposal,
        title=f"Draft ethical statement of {circle.name}",
        text=plan.agreement_text("Revised ethical statement", 3),
        circulated_by_id=by,
        circulated_at=s.base - timedelta(days=1),
    )
    s.audit(
        actor=by,
        verb="ethics.circulated",
        object_type="agreements.ethicscirculation",
        object_id=circ.id,
        summary=f"{person(by)} circulated a draft ethical statement of {circle.name}",
        when=s.base - timedelta(days=1),
        circle=circle.id,
    )
