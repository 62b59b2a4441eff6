"""Validation links between circles.

The new validated circles form a ring: each validates the circles either side of it and is
validated by them, so each has two live links, and a ring of four or more closes no triangle.
Forming circles have asked, met or been declined; some older links were withdrawn or lapsed.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.urls import reverse

from circlework.circles.models import CircleStatus
from circlework.core.dates import add_months
from circlework.demo.scale import plan
from circlework.demo.scale.context import CircleInfo, Ref, Scale
from circlework.demo.scale.decisions import make_proposal
from circlework.links.models import CircleLink, LinkMeeting

LAPSE_MONTHS = 24
STATEMENT = (
    "We met them twice and sat in on a review day. Their peer review is careful and kind, "
    "and challenge is welcomed. We stand by their process."
)


def _verbs(
    s: Scale,
    link: int,
    verb: str,
    summary: str,
    at: object,
    circles: list[int],
    actor: int | None,
    asking: int,
    validating: int,
) -> None:
    for circle in circles:
        s.audit(
            actor=actor,
            verb=verb,
            object_type="links.circlelink",
            object_id=link,
            summary=summary,
            when=at,  # type: ignore[arg-type]
            circle=circle,
            data={"asking": asking, "validating": validating},
        )


def make_link(
    s: Scale,
    asking: CircleInfo,
    validating: CircleInfo,
    *,
    status: str,
    decided_on: date | None = None,
    counterpart: int | None = None,
    link_id: int | None = None,
) -> int:
    rng = s.rng
    link_id = link_id or s.next_id(CircleLink)
    asker = sorted(asking.members)[0] if asking.members else None
    if decided_on is not None:
        requested = s.base - timedelta(days=(s.today - decided_on).days + 40)
    else:
        requested = s.ago(rng.uniform(20, 150))
    requested = max(requested, asking.founded + timedelta(days=1), validating.founded)
    values: dict[str, object] = {}
    _verbs(
        s,
        link_id,
        "link.requested",
        f"{asking.name} asked {validating.name} for a validation link",
        requested,
        [asking.id, validating.id],
        asker,
        asking.id,
        validating.id,
    )
    met = status in ("met", "validated", "declined", "withdrawn", "lapsed")
    if met:
        met_on = (requested + timedelta(days=14)).date()
        recorder = sorted(validating.members)[0] if validating.members else None
        meeting = s.add(
            LinkMeeting,
            link_id=link_id,
            met_on=met_on,
            notes="We shared a review round and talked about how each circle works.",
            recorded_by_id=recorder,
            recorded_at=requested + timedelta(days=15),
        )
        through = LinkMeeting.attendees.through
        for pid in sorted(
            set(plan.sample(rng, sorted(asking.members), 3))
            | set(plan.sample(rng, sorted(validating.members), 3))
        ):
            s.add(through, linkmeeting_id=meeting.id, practitioner_id=pid)
        _verbs(
            s,
            link_id,
            "link.meeting_recorded",
            f"{validating.name} recorded meeting {asking.name}",
            requested + timedelta(days=15),
            [asking.id, validating.id],
            recorder,
            asking.id,
            validating.id,
        )
    if status in ("validated", "declined", "withdrawn", "lapsed"):
        passed = status != "declined"
        when = requested + timedelta(days=30)
        made = make_proposal(
            s,
            validating,
            title=f"Do we validate {asking.name}?",
            text=f"We met {asking.name}. Do we validate their process?",
            opened=when,
            status="closed",
            all_agree=passed,
            voice_share=1.0,
            blocked=not passed,
        )
        decided_at = made.closed_at or when
        values.update(decision_id=made.proposal, decided_at=decided_at)
        if passed:
            validated_on = decided_at.date()
            values.update(
                statement=STATEMENT,
                counts="validated",
                validated_on=validated_on,
                lapses_on=add_months(validated_on, LAPSE_MONTHS),
            )
            _verbs(
                s,
                link_id,
                "link.validated",
                f"{validating.name} validated {asking.name}",
                decided_at,
                [asking.id, validating.id],
                None,
                asking.id,
                validating.id,
            )
        else:
            _verbs(
                s,
                link_id,
                "link.declined",
                f"{validating.name} did not validate {asking.name}",
                decided_at,
                [asking.id, validating.id],
                None,
                asking.id,
                validating.id,
            )
        if status == "lapsed" and values["lapses_on"] > s.today:  # type: ignore[operator]
            status = "withdrawn"  # a young circle's link cannot have lapsed yet
        if status == "withdrawn":
            ended = s.between(decided_at + timedelta(days=30), s.base - timedelta(days=1))
            values.update(
                ended_at=ended,
                withdrawn_by_id=sorted(validating.members)[0],
                withdrawn_by_circle_id=validating.id,
                withdrawal_reason="We have not been able to meet them for a long time.",
            )
            _verbs(
                s,
                link_id,
                "link.withdrawn",
                f"{validating.name} withdrew its validation of {asking.name}",
                ended,
                [asking.id, validating.id],
                sorted(validating.members)[0],
                asking.id,
                validating.id,
            )
        if status == "lapsed":
            lapses = values["lapses_on"]
            assert isinstance(lapses, date)
            ended = s.base - timedelta(days=(s.today - lapses).days)
            values.update(ended_at=ended)
            _verbs(
                s,
                link_id,
                "link.lapsed",
                f"The link from {validating.name} lapsed",
                ended,
                [asking.id, validating.id],
                None,
                asking.id,
                validating.id,
            )
    s.add(
        CircleLink,
        id=link_id,
        federation_id=s.federation_id,
        asking_circle_id=asking.id,
        validating_circle_id=validating.id,
        counterpart_id=counterpart,
        status=status,
        message=f"We are {asking.name}; we would value your view of our process.",
        requested_by_id=asker,
        requested_at=requested,
        created_at=requested,
        updated_at=requested,
        **values,
    )
    url = reverse("links:link_detail", kwargs={"pk": link_id})
    s.refs.append(
        Ref(
            "link",
            validating.id,
            f"{asking.name} asked {validating.name} for a link",
            url,
            requested,
        )
    )
    return link_id


def build(s: Scale, budget: int) -> None:
    rng = s.rng
    ring = [c for c in s.circles if c.is_new and c.status == CircleStatus.MEMBER]
    forming = [c for c in s.circles if c.is_new and c.status == CircleStatus.FORMING]
    n = len(ring)
    if n >= 4:
        for i, circle in enumerate(ring):
            right = ring[(i + 1) % n]
            # A reciprocal pair: each validates the other, decided within the last 20 months.
            decided = s.today - timedelta(days=rng.randint(30, 600))
            a_id = s.next_id(CircleLink)
            b_id = s.next_id(CircleLink)
            make_link(
                s,
                circle,
                right,
                status="validated",
                decided_on=decided,
                counterpart=b_id,
                link_id=a_id,
            )
            make_link(
                s,
                right,
                circle,
                status="validated",
                decided_on=decided,
                counterpart=a_id,
                link_id=b_id,
            )
        # Older links across the ring that ended: withdrawn, or lapsed before renewal.
        for k in range(min(n, max(1, budget // 10))):
            a, b = ring[k % n], ring[(k + 2) % n]
            if a.id == b.id:
                continue
            old = s.today - timedelta(days=rng.randint(800, 1000))
            if rng.random() < 0.5:
                make_link(s, a, b, status="lapsed", decided_on=old)
            else:
                make_link(s, a, b, status="withdrawn", decided_on=old)
    # The circles from before this run: an old request they made that was declined, and new
    # forming circles asking them.
    earlier = [c for c in s.circles if not c.is_new and c.members]
    if ring:
        for k, circle in enumerate(earlier):
            make_link(
                s,
                circle,
                ring[k % len(ring)],
                status="declined",
                decided_on=s.today - timedelta(days=rng.randint(200, 400)),
            )
    earlier_validated = [c for c in earlier if c.status == CircleStatus.MEMBER]
    for circle, target in zip(forming, earlier_validated, strict=False):
        if circle.members:
            make_link(s, circle, target, status="requested")
    validated = ring or [c for c in s.circles if c.status == CircleStatus.MEMBER]
    if not validated:
        return
    for k, circle in enumerate(forming):
        if not circle.members:
            continue
        target = validated[k % len(validated)]
        make_link(s, circle, target, status="met" if k % 2 else "requested")
        other = validated[(k + 1) % len(validated)]
        if other.id != target.id:
            make_link(
                s,
                circle,
                other,
                status="declined",
                decided_on=s.today - timedelta(days=rng.randint(200, 400)),
            )
