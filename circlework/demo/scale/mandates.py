"""Mandates: each circle's convener, facilitator and delegate, the federation's officers, their
past terms, and the notices officers sent to the federation."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.urls import reverse

from circlework.circles.models import CircleStatus
from circlework.circles.roles import ROLES, Level
from circlework.core.dates import add_months
from circlework.demo.scale import plan
from circlework.demo.scale.context import CircleInfo, Ref, Scale, person
from circlework.mandates.models import FederationNotice, Mandate

CIRCLE_ROLES = [r for r in ROLES.values() if r.level == Level.CIRCLE]
FEDERATION_ROLES = [r for r in ROLES.values() if r.level == Level.FEDERATION]
HANDOVER = "The next holder shadows me for two meetings before the handover."


def grant(
    s: Scale,
    *,
    role: str,
    holder: int,
    starts_on: date,
    circle: CircleInfo | None = None,
    election: int | None = None,
    ended_early: bool = False,
) -> Mandate:
    """One mandate as `mandates.services.mandate_grant` makes it (with its audit event)."""
    the_role = ROLES[role]
    ends_on = add_months(starts_on, the_role.term_months)
    review_on = min(add_months(starts_on, the_role.review_months), ends_on - timedelta(days=1))
    made = datetime.combine(starts_on, time(9), tzinfo=s.base.tzinfo) - timedelta(days=3)
    made = min(made, s.base - timedelta(hours=1))
    early_at: datetime | None = None
    if ended_early:
        early_day = starts_on + (min(ends_on, s.today) - starts_on) / 2
        early_at = datetime.combine(early_day, time(10), tzinfo=s.base.tzinfo)
    mandate = s.add(
        Mandate,
        role=role,
        circle_id=circle.id if circle else None,
        federation_id=None if circle else s.federation_id,
        holder_id=holder,
        permissions=list(the_role.permissions),
        starts_on=starts_on,
        ends_on=ends_on,
        review_on=max(review_on, starts_on),
        handover_plan=HANDOVER,
        election_id=election,
        consecutive_term=1,
        ended_early_at=early_at,
        end_reason="Moved away from the area." if ended_early else "",
        review_notified_on=review_on if review_on <= s.today else None,
        end_warned_on=ends_on - timedelta(days=30) if ends_on <= s.today else None,
        end_notified_on=ends_on if ends_on <= s.today else None,
        created_at=made,
        updated_at=made,
    )
    where = circle.name if circle else s.federation_name
    s.audit(
        actor=None,
        verb="mandate.grant",
        object_type="mandates.mandate",
        object_id=mandate.id,
        summary=f"{person(holder)} holds the mandate of {the_role.name} in {where} "
        f"from {starts_on:%d %B %Y}",
        when=made,
        circle=circle.id if circle else None,
        federation=None if circle else s.federation_id,
        data={"role": role},
    )
    if circle is not None:
        url = reverse("mandates:mandate_detail", kwargs={"pk": mandate.id})
        s.refs.append(
            Ref("mandate", circle.id, f"A mandate of {the_role.name} in {where}", url, made)
        )
    if early_at is not None:
        s.audit(
            actor=holder,
            verb="mandate.resign",
            object_type="mandates.mandate",
            object_id=mandate.id,
            summary=f"{person(holder)}'s mandate of {the_role.name} in {where} ended early",
            when=min(early_at, s.base - timedelta(minutes=1)),
            circle=circle.id if circle else None,
            federation=None if circle else s.federation_id,
            data={"role": role},
        )
    return mandate  # type: ignore[no-any-return]


def live_start(s: Scale) -> date:
    """A start within the last ten months: live today, ending within the coming months."""
    return s.today - timedelta(days=s.rng.randint(10, 300))


def build(s: Scale, held: set[tuple[str, int | None]]) -> None:
    """`held`: (role, circle id or None for the federation) with a live mandate already."""
    rng = s.rng
    for circle in s.circles:
        members = sorted(circle.members)
        if len(members) < 2:
            continue
        holders = plan.sample(rng, members, len(CIRCLE_ROLES))
        for role, holder in zip(CIRCLE_ROLES, holders, strict=False):
            if (role.slug, circle.id) in held:
                continue
            if role.slug == "delegate" and circle.is_new:
                continue  # elections.py: a new circle's delegate is elected, by consent
            start = live_start(s)
            grant(s, role=role.slug, holder=holder, starts_on=start, circle=circle)
            held.add((role.slug, circle.id))
            if role.slug == "delegate":
                s.delegates[circle.id] = holder
            # The term before, by another member (some ended early).
            before = add_months(start, -role.term_months)
            if before > circle.founded.date():
                grant(
                    s,
                    role=role.slug,
                    holder=plan.pick(rng, members),
                    starts_on=before,
                    circle=circle,
                    ended_early=rng.random() < 0.1,
                )
    members = sorted({p for c in s.circles if c.status == CircleStatus.MEMBER for p in c.members})
    if not members:
        return
    for role in FEDERATION_ROLES:
        start = live_start(s)
        if (role.slug, None) not in held:
            grant(s, role=role.slug, holder=plan.pick(rng, members), starts_on=start)
            held.add((role.slug, None))
        for k in (1, 2):
            grant(
                s,
                role=role.slug,
                holder=plan.pick(rng, members),
                starts_on=add_months(start, -role.term_months * k - 1),
            )


def notices(s: Scale, count: int) -> None:
    """Notices officers sent to the federation over the last year."""
    rng = s.rng
    s.flush(Mandate)
    senders = list(
        Mandate.objects.filter(
            federation_id=s.federation_id, role__in=("coordinator", "registrar")
        ).values_list("pk", "holder_id")
    )
    if not senders:
        return
    url = reverse("mandates:federation_notices", kwargs={"slug": s.federation_slug})
    for k in range(count):
        mandate, holder = senders[k % len(senders)]
        when = s.ago(rng.uniform(1, 365))
        topic = plan.pick(rng, plan.TOPICS)
        notice = s.add(
            FederationNotice,
            federation_id=s.federation_id,
            mandate_id=mandate,
            title=f"Federation notice: {topic}",
            text=f"Dear colleagues, a note about {topic}. Please bring it to your circles.",
            created_at=when,
        )
        s.audit(
            actor=holder,
            verb="federation.notice",
            object_type="circles.federation",
            object_id=s.federation_id,
            summary=f"{person(holder)} sent a notice to the federation: {notice.title}",
            when=when,
            federation=s.federation_id,
            data={"notice": notice.id},
        )
        s.refs.append(
            Ref(
                "notice",
                None,
                f"{s.federation_name}: {notice.title}",
                url + f"?notice={notice.id}#notice-{notice.id}",
                when,
            )
        )
