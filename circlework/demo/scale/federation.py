"""Federation proposals decided by circles: each circle's position, recorded by its delegate
(some formed through a proposal inside the circle), and a covenant revision adopted."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Max
from django.urls import reverse

from circlework.circles.models import CircleStatus, CovenantVersion, Federation
from circlework.decisions.models import CirclePosition, FederationProposal
from circlework.demo.scale import plan
from circlework.demo.scale.context import Ref, Scale
from circlework.demo.scale.decisions import make_proposal

PASSED = "No block stands and every circle was heard or had its time."
NOT_PASSED = "A circle blocked it."


def build(s: Scale, count: int) -> None:
    rng = s.rng
    validated = [c for c in s.circles if c.status == CircleStatus.MEMBER and c.members]
    if not validated:
        return
    covenant = (
        CovenantVersion.objects.filter(federation_id=s.federation_id)
        .order_by("-number")
        .values_list("number", "text", "parameters")
        .first()
    )
    for k in range(max(2, count)):
        is_open = k == 0
        revises = k == 1 and covenant is not None
        opened = s.base - timedelta(days=3) if is_open else s.ago(rng.uniform(30, 700))
        raised_in = validated[k % len(validated)]
        author = sorted(raised_in.members)[0]
        closes = s.base + timedelta(days=14) if is_open else opened + timedelta(days=21)
        fp_id = s.next_id(FederationProposal)
        title = (
            f"Revise the covenant ({s.seed})"
            if revises
            else f"Federation: {plan.TOPICS[k % len(plan.TOPICS)]}"
        )
        blocked = False
        speaking = plan.sample(
            rng, validated, max(1, round(len(validated) * rng.uniform(0.3, 0.9)))
        )
        for j, circle in enumerate(speaking):
            stance = "agree" if revises else plan.stance(rng)
            blocked = blocked or stance == "block"
            recorder = s.delegates.get(circle.id) or sorted(circle.members)[0]
            at = s.between(opened, min(closes, s.base) - timedelta(hours=1))
            internal = None
            if j % 5 == 0 and circle.members_at(opened):
                internal = make_proposal(
                    s,
                    circle,
                    title=f"Our position on “{title}”",
                    text="What shall our delegate carry to the federation?",
                    opened=opened + timedelta(hours=1),
                    status="closed",
                    federation_proposal=fp_id,
                ).proposal
            s.add(
                CirclePosition,
                federation_proposal_id=fp_id,
                circle_id=circle.id,
                stance=stance,
                reason="We talked it through at our meeting and this is where we stand.",
                dissent="One member has concerns about the cost." if stance != "agree" else "",
                internal_proposal_id=internal,
                recorded_by_id=recorder,
                is_current=True,
                created_at=at,
            )
            s.audit(
                actor=recorder,
                verb="circle_position.recorded",
                object_type="decisions.circleposition",
                object_id=fp_id,
                summary=f"{circle.name} gave its position on “{title}”",
                when=at,
                circle=circle.id,
            )
        passed = None if is_open else not blocked
        decided: datetime | None = None if is_open else closes
        spoke = {c.id for c in speaking}
        missing = sorted(c.id for c in validated if c.id not in spoke)
        s.add(
            FederationProposal,
            id=fp_id,
            federation_id=s.federation_id,
            author_id=author,
            circle_id=raised_in.id,
            title=title,
            text="The circles are asked for their position; each decides in its own way.",
            closes_at=closes,
            status="open" if is_open else "closed",
            passed=passed,
            result="" if is_open else (PASSED if passed else NOT_PASSED),
            result_circles={} if is_open or not missing else {"missing": missing},
            decided_at=decided,
            covenant_text=(covenant[1] + "\n\nCircles review their covenant every two years.")
            if revises and covenant
            else "",
            covenant_parameters=dict(covenant[2]) if revises and covenant else {},
            created_at=opened,
            updated_at=decided or opened,
        )
        s.audit(
            actor=author,
            verb="federation_proposal.opened",
            object_type="decisions.federationproposal",
            object_id=fp_id,
            summary=f"Raised the federation proposal “{title}”",
            when=opened,
            federation=s.federation_id,
        )
        url = reverse(
            "decisions:federation_proposal_detail",
            kwargs={"slug": s.federation_slug, "pk": fp_id},
        )
        s.refs.append(Ref("proposal", None, f"Federation proposal: {title}", url, opened))
        if decided is not None:
            s.audit(
                actor=None,
                verb="federation_proposal.closed",
                object_type="decisions.federationproposal",
                object_id=fp_id,
                summary=f"The federation {'agreed' if passed else 'did not agree'} “{title}”",
                when=decided,
                federation=s.federation_id,
            )
        if revises and passed and covenant is not None and decided is not None:
            _adopt_covenant(
                s,
                fp_id,
                covenant[1] + "\n\nCircles review their covenant every two years.",
                dict(covenant[2]),
                decided,
            )


def _adopt_covenant(
    s: Scale, fp_id: int, text: str, parameters: dict[str, object], when: datetime
) -> None:
    s.flush(CovenantVersion)
    number = (
        CovenantVersion.objects.filter(federation_id=s.federation_id).aggregate(n=Max("number"))[
            "n"
        ]
        or 0
    ) + 1
    version = s.add(
        CovenantVersion,
        federation_id=s.federation_id,
        number=number,
        text=text,
        parameters=parameters,
        adopted_by_id=fp_id,
        adopted_at=when,
    )
    Federation.objects.filter(pk=s.federation_id).update(covenant=text)
    s.audit(
        actor=None,
        verb="covenant.adopted",
        object_type="circles.covenantversion",
        object_id=version.id,
        summary=f"The covenant's version {number} was adopted",
        when=when,
        federation=s.federation_id,
    )
