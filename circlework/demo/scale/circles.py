"""The federation, its covenant, its circles and who belongs to them; invitations."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db.models import Count
from django.utils.text import slugify

from circlework.circles.models import (
    Circle,
    CircleStatus,
    CovenantVersion,
    Federation,
    Invitation,
    Membership,
)
from circlework.demo.scale import plan
from circlework.demo.scale.context import CircleInfo, Scale, person

COVENANT = """We are a federation of self and peer review circles. Each circle meets regularly so
that its members can **stand by** one another's practice, writes and reviews its own ethical
statement and procedures, and seeks validation links with other circles."""

COVENANT_RULES = {
    "min_circle_size": 4,
    "links_required": 2,
    "link_lapse_months": 24,
    "no_closed_triangles": True,
    "officer_electorate": "delegates",
    "review_months": 24,
}


def choose_federation(s: Scale, slug: str | None) -> None:
    """The named federation, or the one with the most circles, or a new one."""
    if slug:
        federation = Federation.objects.get(slug=slug)
    else:
        federation = Federation.objects.annotate(n=Count("circles")).order_by(
            "-n", "pk"
        ).first() or _new_federation(s)
    s.federation_id = federation.pk
    s.federation_slug = federation.slug
    s.federation_name = federation.name


def _new_federation(s: Scale) -> Federation:
    when = s.ago(1800)
    name = f"Scale Federation {s.seed}"
    federation = s.add(
        Federation,
        name=name,
        slug=slugify(name),
        description="Self and peer review circles, generated for measuring Circlework at scale.",
        covenant=COVENANT,
        created_at=when,
        updated_at=when,
    )
    s.add(
        CovenantVersion,
        federation_id=federation.id,
        number=1,
        text=COVENANT,
        parameters=COVENANT_RULES,
        adopted_at=when,
    )
    s.audit(
        actor=None,
        verb="federation.created",
        object_type="circles.federation",
        object_id=federation.id,
        summary=f"Created the federation {name}",
        when=when,
        federation=federation.id,
    )
    s.flush()
    return federation  # type: ignore[no-any-return]


def load_existing(s: Scale) -> None:
    """The federation's circles as they are, with their current members."""
    for circle in Circle.objects.filter(federation_id=s.federation_id).order_by("pk"):
        info = CircleInfo(
            id=circle.pk,
            name=circle.name,
            slug=circle.slug,
            founded=circle.created_at.replace(microsecond=0),
            status=circle.status,
            founder=circle.founded_by_id,
            is_new=False,
            visibility=circle.visibility,
        )
        for pid, joined in (
            Membership.objects.current()
            .filter(circle=circle, practitioner__isnull=False)
            .values_list("practitioner_id", "joined_at")
        ):
            info.members[pid] = min(joined, s.base - timedelta(days=1)).replace(microsecond=0)
        s.circles.append(info)
        s.existing_practitioners.extend(info.members)
    s.existing_practitioners = sorted(set(s.existing_practitioners))


def build(s: Scale, count: int) -> None:
    rng = s.rng
    total_circles = count + len(s.circles)
    mean = plan.mean_circle_size(len(s.practitioners), max(1, total_circles))
    sizes = plan.circle_sizes(rng, count, mean)
    taken = {slug for slug in Circle.objects.values_list("slug", flat=True)}
    new: list[CircleInfo] = []
    for i in range(count):
        name = plan.circle_name(i, s.seed)
        slug = slugify(name)[:80]
        while slug in taken:
            slug = f"{slug[:74]}-{rng.randrange(10**5)}"
        taken.add(slug)
        founded = s.ago(rng.uniform(150, 1500))
        forming = rng.random() < 0.15
        info = CircleInfo(
            id=s.next_id(Circle),
            name=name,
            slug=slug,
            founded=founded,
            status=CircleStatus.FORMING if forming else CircleStatus.MEMBER,
            founder=None,
            is_new=True,
            visibility=rng.choices(("public", "federation"), weights=(8, 2))[0],
        )
        new.append(info)
    _assign_members(s, new, sizes)
    # Validated only with the covenant's members, and only where the ring of links can hold
    # them without a closed triangle (links.py): four validated circles at least.
    for info in new:
        if len(info.members) < 4:
            info.status = CircleStatus.FORMING
    if sum(1 for c in new if c.status == CircleStatus.MEMBER) < 4:
        for info in new:
            info.status = CircleStatus.FORMING
    for info, size in zip(new, sizes, strict=True):
        town = info.name.split()[0]
        s.add(
            Circle,
            id=info.id,
            federation_id=s.federation_id,
            name=info.name,
            slug=info.slug,
            purpose=f"We meet to **stand by** one another's practice in {town}: peer "
            "supervision, support and challenge, and a yearly review of our work.",
            locality=town,
            meeting_pattern=f"every other {plan.pick(rng, plan.WEEKDAYS)}, evenings",
            open_to_new_members=info.status == CircleStatus.FORMING or rng.random() < 0.3,
            status=info.status,
            visibility=info.visibility,
            founded_by_id=info.founder,
            status_changed_at=info.founded + timedelta(days=90)
            if info.status == CircleStatus.MEMBER
            else None,
            requires_two_factor=False,
            created_at=info.founded,
            updated_at=info.founded,
        )
        s.audit(
            actor=info.founder,
            verb="circle.founded",
            object_type="circles.circle",
            object_id=info.id,
            summary=f"{person(info.founder)} founded {info.name}",
            when=info.founded,
            circle=info.id,
        )
        del size
    s.circles.extend(new)
    _grow_existing(s)
    _former_members(s)
    _invitations(s)


def _assign_members(s: Scale, new: list[CircleInfo], sizes: list[int]) -> None:
    """Every new practitioner in 1 to 3 circles; each new circle filled to its size."""
    rng = s.rng
    if not new:
        return
    wanted = {p: plan.circles_per_practitioner(rng) for p in s.practitioners}
    held: dict[int, int] = dict.fromkeys(s.practitioners, 0)
    seats = dict(zip((c.id for c in new), sizes, strict=True))
    # First, everyone somewhere: round robin over the circles with room.
    order = list(s.practitioners)
    rng.shuffle(order)
    by_id = {c.id: c for c in new}
    open_ids = [c.id for c in new]
    for k, pid in enumerate(order):
        if not open_ids:
            break
        cid = open_ids[k % len(open_ids)]
        _join(s, by_id[cid], pid)
        held[pid] += 1
        if len(by_id[cid].members) >= seats[cid]:
            open_ids.remove(cid)
    # Then fill the circles still short with those who want more circles.
    pool = [p for p in s.practitioners if held[p] < wanted[p]]
    rng.shuffle(pool)
    for circle in new:
        while len(circle.members) < seats[circle.id] and pool:
            pid = pool.pop()
            if pid in circle.members:
                continue
            _join(s, circle, pid)
            held[pid] += 1
            if held[pid] < wanted[pid]:
                pool.insert(0, pid)
    for circle in new:
        if circle.members:
            circle.founder = min(circle.members, key=lambda p: (circle.members[p], p))


def _join(s: Scale, circle: CircleInfo, pid: int) -> None:
    position = len(circle.members)
    joined = circle.founded + timedelta(days=10 * position, hours=s.rng.randint(0, 9))
    if circle.is_new and position == 0:
        joined = circle.founded
    if not circle.is_new:
        joined = s.ago(s.rng.uniform(120, 400))
    circle.members[pid] = joined
    m = s.add(
        Membership,
        circle_id=circle.id,
        practitioner_id=pid,
        joined_at=joined,
    )
    if position or not circle.is_new:
        s.audit(
            actor=pid,
            verb="membership.joined",
            object_type="circles.membership",
            object_id=m.id,
            summary=f"{person(pid)} joined {circle.name}",
            when=joined,
            circle=circle.id,
        )


def _grow_existing(s: Scale) -> None:
    """The federation's circles before this run gain members, up to 12 to 14 each."""
    rng = s.rng
    if not s.practitioners:
        return
    count: dict[int, int] = {}
    for c in s.circles:
        for p in c.members:
            count[p] = count.get(p, 0) + 1
    for circle in s.circles:
        if circle.is_new:
            continue
        target = rng.randint(12, 14)
        candidates = [p for p in s.practitioners if count.get(p, 0) < 3 and p not in circle.members]
        rng.shuffle(candidates)
        for pid in candidates[: max(0, target - len(circle.members))]:
            _join(s, circle, pid)
            count[pid] = count.get(pid, 0) + 1


def _former_members(s: Scale) -> None:
    """Some circles kept the dates of members who left."""
    rng = s.rng
    for circle in s.circles:
        if not circle.is_new or rng.random() > 0.3 or not s.practitioners:
            continue
        pid = plan.pick(rng, s.practitioners)
        if pid in circle.members:
            continue
        joined = circle.founded
        left = joined + timedelta(days=rng.randint(20, 80))
        m = s.add(
            Membership,
            circle_id=circle.id,
            practitioner_id=pid,
            joined_at=joined,
            left_at=left,
        )
        s.audit(
            actor=pid,
            verb="membership.left",
            object_type="circles.membership",
            object_id=m.id,
            summary=f"{person(pid)} left {circle.name}",
            when=left,
            circle=circle.id,
        )


def _invitations(s: Scale) -> None:
    rng = s.rng
    statuses = ("pending", "accepted", "declined", "revoked")
    for circle in s.circles:
        inviter = circle.founder or (min(circle.members) if circle.members else None)
        if inviter is None:
            continue
        for n in range(rng.randint(1, 3)):
            status = "pending" if n == 0 else plan.pick(rng, statuses[1:])
            made = s.ago(rng.uniform(1, 300)) if status != "pending" else s.ago(rng.uniform(1, 6))
            email = f"guest{n}.c{circle.id}.s{s.seed}@example.org"
            inv = s.add(
                Invitation,
                circle_id=circle.id,
                email=email,
                invited_by_id=inviter,
                message="Come to a meeting first if you like." if n % 2 == 0 else "",
                token_hash=hashlib.sha256(f"inv:{s.seed}:{circle.id}:{n}".encode()).hexdigest(),
                mail_secret="",
                expires_at=made + timedelta(days=14),
                status=status,
                responded_at=None if status == "pending" else made + timedelta(days=2),
                created_at=made,
                updated_at=made,
            )
            s.audit(
                actor=inviter,
                verb="invitation.created",
                object_type="circles.invitation",
                object_id=inv.id,
                summary=f"{person(inviter)} invited someone to {circle.name}",
                when=made,
                circle=circle.id,
            )
