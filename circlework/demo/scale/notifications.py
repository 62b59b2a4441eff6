"""Inboxes: notices of what was made, to the members of the circles it was made in."""

from __future__ import annotations

from datetime import timedelta

from circlework.demo.scale import plan
from circlework.demo.scale.context import Ref, Scale
from circlework.notifications.models import (
    Delivery,
    EmailState,
    Notification,
    NotificationKind,
    NotificationPreference,
    ReminderLead,
    ReminderSetting,
)

KIND_OF_REF = {
    "proposal": NotificationKind.PROPOSAL,
    "outcome": NotificationKind.OUTCOME,
    "agreement": NotificationKind.REVIEW_DUE,
    "ethics": NotificationKind.ETHICS,
    "poll": NotificationKind.POLL,
    "standing": NotificationKind.STANDING_BY,
    "link": NotificationKind.CIRCLE_LINK,
    "mandate": NotificationKind.MANDATE,
    "election": NotificationKind.ELECTION,
    "notice": NotificationKind.FEDERATION_NOTICE,
}


def _notify(s: Scale, ref: Ref, recipient: int, *, recent: bool = False) -> None:
    rng = s.rng
    when = ref.when + timedelta(seconds=rng.randint(1, 600))
    if when >= s.base:
        when = s.base - timedelta(seconds=rng.randint(1, 3600))
    read = rng.random() < (0.3 if recent else 0.8)
    emailed = rng.random() < 0.3
    s.add(
        Notification,
        recipient_id=recipient,
        kind=KIND_OF_REF.get(ref.kind, NotificationKind.CIRCLE),
        title=ref.title[:200],
        body="",
        url=ref.url,
        circle_id=ref.circle,
        federation_id=s.federation_id if ref.circle is None else None,
        created_at=when,
        read_at=when + timedelta(hours=rng.randint(1, 72)) if read else None,
        email_state=EmailState.SENT if emailed else EmailState.NOT_WANTED,
        emailed_at=when + timedelta(minutes=5) if emailed else None,
    )


def build(s: Scale, total: int) -> None:
    """About `total` notifications: most to the members of the circle each thing happened in,
    and a steady share to the people who were here before this run (ruth gets hundreds)."""
    rng = s.rng
    refs = sorted(s.refs, key=lambda r: r.when)
    if not refs:
        return
    circles = {c.id: c for c in s.circles}
    existing = set(s.existing_practitioners)
    # The practitioners from before this run: a steady stream about their own circles.
    extra = max(20, min(600, total // 100)) if existing else 0
    mine: dict[int, list[Ref]] = {}
    for ref in refs:
        if ref.circle is None:
            continue
        for pid in circles[ref.circle].members:
            if pid in existing:
                mine.setdefault(pid, []).append(ref)
    made = 0
    for pid in sorted(mine):
        options = mine[pid]
        for k in range(min(extra, total // max(1, 4 * len(mine)))):
            _notify(s, options[(k * 7919) % len(options)], pid, recent=k < 30)
            made += 1
    remaining = max(0, total - made)
    picks = 0
    while picks < remaining:
        ref = refs[rng.randrange(len(refs))]
        if ref.circle is None:
            recipients = plan.sample(rng, s.practitioners or s.existing_practitioners, 5)
        else:
            members = sorted(circles[ref.circle].members)
            recipients = plan.sample(rng, members, min(len(members), remaining - picks))
        for pid in recipients:
            _notify(s, ref, pid, recent=ref.when > s.base - timedelta(days=14))
            picks += 1
        if not recipients:
            picks += 1


def preferences(s: Scale) -> None:
    """Some practitioners chose how they hear of things."""
    rng = s.rng
    kinds = list(NotificationKind.values)
    for pid in s.practitioners:
        if rng.random() > 0.2:
            continue
        for kind in plan.sample(rng, kinds, rng.randint(1, 3)):
            s.add(
                NotificationPreference,
                practitioner_id=pid,
                kind=kind,
                delivery=plan.pick(rng, (Delivery.IMMEDIATE, Delivery.DAILY, Delivery.OFF)),
            )
    # Every fifth practitioner chose when gatherings remind them (no random draw: the other
    # tables' rows stay as they were for a seed).
    leads = list(ReminderLead.values)
    for i, pid in enumerate(s.practitioners):
        if i % 5 == 0:
            s.add(ReminderSetting, practitioner_id=pid, gatherings=leads[(i // 5) % len(leads)])
