"""Reads for circle links: a circle's tally (live links and members against the covenant),
its links given and received, one link with what the viewer may see of it, and the federation
map. Private parts (the request message, meeting notes and who came, withdrawal reasons) are only
returned for the members of the two circles; views and the API show what these selectors give.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import (
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles.covenant import (
    FederationRules,
    counts_in_federation,
    current_covenant_with,
    federation_circles,
    federation_rules,
    in_federation_q,
    rules_from,
)
from circlework.circles.models import Circle, CircleStatus, Federation, Membership
from circlework.circles.selectors import circles_visible_to
from circlework.core.permissions import allowed
from circlework.core.visibility import audience_for, can_see_name, name_reach, own_memberships
from circlework.decisions.models import Proposal, ProposalStatus
from circlework.links.models import (
    REQUEST_EXPIRES_AFTER,
    CircleLink,
    LinkCount,
    LinkMeeting,
    LinkStatus,
    stale_request_q,
)
from circlework.links.validation_rule import is_validated, link_counts, missing_for_membership

PENDING = (LinkStatus.REQUESTED, LinkStatus.MET)


@dataclass(frozen=True)
class LinkTally:
    """A circle's tally in its federation: the live links that count and the members it has,
    against what the covenant asks (not to be confused with standing by, circlework.standing)."""

    live_links: int
    members: int
    links_required: int
    min_circle_size: int

    @property
    def validated(self) -> bool:
        return is_validated(
            live_links=self.live_links,
            members=self.members,
            links_required=self.links_required,
            min_circle_size=self.min_circle_size,
        )

    @property
    def status(self) -> str:
        """The circle's status as its counted links and members say now: the one rule
        (`is_validated`) that `circle_status_refresh` stores, read at the same moment as the
        links shown beside it, so a link lapsing today shows the same on both before the
        worker has run."""
        return CircleStatus.MEMBER if self.validated else CircleStatus.FORMING

    @property
    def status_label(self) -> str:
        return str(CircleStatus(self.status).label)

    @property
    def links_missing(self) -> int:
        return self._missing[0]

    @property
    def members_missing(self) -> int:
        return self._missing[1]

    @property
    def _missing(self) -> tuple[int, int]:
        return missing_for_membership(
            live_links=self.live_links,
            members=self.members,
            links_required=self.links_required,
            min_circle_size=self.min_circle_size,
        )


def live_links_asked_qs(circle_id: int, today: date | None = None) -> QuerySet[CircleLink]:
    """The circle's live links that count toward its validation
    (links.validation_rule.link_counts)."""
    return CircleLink.objects.live(today).counting().filter(asking_circle_id=circle_id)


def live_links_asked(circle: Circle, today: date | None = None) -> int:
    return live_links_asked_qs(circle.pk, today).count()


def members_counted_qs(circle_id: int) -> QuerySet[Membership]:
    """The circle's members now, as the validation rule counts them."""
    return Membership.objects.current().filter(circle_id=circle_id, practitioner__isnull=False)


def count_of(qs: QuerySet[Any]) -> Subquery:
    """How many rows `qs` has, as a subquery for another query (one row, never NULL)."""
    return Subquery(
        qs.order_by().annotate(_n=Func(F("pk"), function="COUNT")).values("_n")[:1],
        output_field=IntegerField(),
    )


def validated_elsewhere(asking_circle: Circle) -> int:
    """How many circles of the asking circle's federation, other than it, are validated."""
    return (
        Circle.objects.filter(in_federation_q(), federation_id=asking_circle.federation_id)
        .exclude(pk=asking_circle.pk)
        .count()
    )


def link_would_count(
    *, validating_circle: Circle, asking_circle: Circle, rules: FederationRules | None = None
) -> LinkCount:
    """Whether a link from `validating_circle` to `asking_circle`, decided now, would count:
    how it would count, or LinkCount.NO. The rule is links.validation_rule.link_counts."""
    rules = rules or federation_rules(asking_circle.federation)
    # Read from the database, not the object passed in: its status may be stale.
    validating_validated = Circle.objects.filter(
        in_federation_q(), pk=validating_circle.pk
    ).exists()
    if validating_validated:
        return LinkCount.BY_VALIDATED_CIRCLE
    elsewhere = validated_elsewhere(asking_circle)
    if link_counts(
        validating_validated=False,
        validated_elsewhere=elsewhere,
        links_required=rules.links_required,
    ):
        return LinkCount.FOUNDING
    return LinkCount.NO


def member_count(circle: Circle) -> int:
    return members_counted_qs(circle.pk).count()


def link_tally(
    circle: Circle, *, today: date | None = None, rules: FederationRules | None = None
) -> LinkTally:
    rules = rules or federation_rules(circle.federation)
    return LinkTally(
        live_links=live_links_asked(circle, today),
        members=member_count(circle),
        links_required=rules.links_required,
        min_circle_size=rules.min_circle_size,
    )


def _with_circles() -> QuerySet[CircleLink]:
    return CircleLink.objects.select_related(
        "federation",
        "asking_circle",
        "asking_circle__federation",
        "validating_circle",
        "validating_circle__federation",
        "decision",
    )


def _order_open_first(links: list[CircleLink]) -> list[CircleLink]:
    rank: dict[str, int] = {
        LinkStatus.REQUESTED: 0,
        LinkStatus.MET: 0,
        LinkStatus.VALIDATED: 1,
    }
    return sorted(
        links, key=lambda link: (rank.get(link.status, 2), -link.requested_at.timestamp())
    )


@dataclass(frozen=True)
class CircleLinksPage:
    circle: Circle
    standing: LinkTally  # named as the API's "standing" it feeds (api/links.py)
    received: list[CircleLink]  # the circle asked; others validate it
    given: list[CircleLink]  # the circle validates others
    waiting_for_us: list[CircleLink]  # requests to this circle: meet them, then decide
    live_received: list[CircleLink]
    today: date
    request_expiry_days: int = REQUEST_EXPIRES_AFTER.days


def circle_links(*, user: Any, circle: Circle) -> CircleLinksPage:
    """A circle's links, both ways, as far as the viewer may see the other circles."""
    today = timezone.localdate()
    rows = [
        link
        for link in _with_circles().filter(Q(asking_circle=circle) | Q(validating_circle=circle))
        if allowed("links.view_link", user, link)
    ]
    for link in rows:
        link.live_now = link.is_live(today)  # type: ignore[attr-defined]
    received = _order_open_first([x for x in rows if x.asking_circle_id == circle.pk])
    given = _order_open_first([x for x in rows if x.validating_circle_id == circle.pk])
    return CircleLinksPage(
        circle=circle,
        standing=link_tally(circle, today=today),
        received=received,
        given=given,
        waiting_for_us=[x for x in given if x.status_now in PENDING],
        live_received=[x for x in received if x.is_live(today)],
        today=today,
    )


def request_choices(*, user: Any, circle: Circle) -> list[Circle]:
    """Circles this circle could ask for a link that would count: the others of its federation
    that the viewer can see, and the federation's validated circles, which any member of a
    circle of the federation may ask (`links.ask_for_link`: their name only, not their page).
    A circle not yet validated is offered only while the federation is being founded."""
    federation = circle.federation
    seen = {c.pk: c for c in circles_visible_to(user=user, federation=federation)}
    validated = list(federation_circles(federation))
    seen.update(
        (c.pk, c) for c in validated if c.pk not in seen and allowed("links.ask_for_link", user, c)
    )
    seen.pop(circle.pk, None)
    rules = federation_rules(federation)
    founding_now = link_counts(
        validating_validated=False,
        validated_elsewhere=sum(1 for c in validated if c.pk != circle.pk),
        links_required=rules.links_required,
    )
    return sorted(
        (c for c in seen.values() if founding_now or counts_in_federation(c)),
        key=lambda c: c.name,
    )


@dataclass(frozen=True)
class Person:
    practitioner_id: int | None
    name: str
    circle_name: str


@dataclass
class MeetingView:
    meeting: LinkMeeting
    attendees: list[Person] = field(default_factory=list)
    recorded_by: Person | None = None


@dataclass(frozen=True)
class LinkView:
    link: CircleLink
    today: date
    private: bool  # the viewer is a member of one of the two circles
    meetings: list[MeetingView]
    requested_by: Person | None
    withdrawn_by: Person | None
    counterpart: CircleLink | None
    lapse_months: int
    # Whether the validating circle's decision, taken now, would count
    # (links.validation_rule.link_counts); for an open or renewable link, so the page can say why
    # a circle cannot validate yet.
    would_count: LinkCount | None = None


def _namer(user: Any, link: CircleLink, people: list[Practitioner | None]) -> dict[int, Person]:
    """Names as the viewer may see them: a name kept from the viewer reads "a member of …"."""
    ids = [p.pk for p in people if p is not None]
    circles = {
        link.asking_circle_id: link.asking_circle,
        link.validating_circle_id: link.validating_circle,
    }
    in_circles: dict[int, list[int]] = defaultdict(list)
    for practitioner_id, circle_id in Membership.objects.filter(
        circle_id__in=list(circles), practitioner_id__in=ids
    ).values_list("practitioner_id", "circle_id"):
        if circle_id not in in_circles[practitioner_id]:
            in_circles[practitioner_id].append(circle_id)
    audience = audience_for(user)
    # The one name rule (core.visibility), with each person's reach in one query.
    reach = name_reach({p.pk for p in people if p is not None})
    named: dict[int, Person] = {}
    for p in people:
        if p is None or p.pk in named:
            continue
        theirs = sorted(in_circles.get(p.pk, []), key=lambda c: c != link.validating_circle_id)
        circle_name = " / ".join(circles[c].name for c in theirs)
        visible = can_see_name(audience, p, reach=reach[p.pk])
        named[p.pk] = Person(
            p.pk if visible else None,
            p.display_name
            if visible
            else (f"a member of {circle_name}" if circle_name else "a member"),
            circle_name,
        )
    return named


def link_view(*, user: Any, link: CircleLink) -> LinkView:
    """One link for its page. Meetings' attendees and notes only for the two circles' members."""
    private = allowed("links.view_private", user, link)
    meetings = list(
        LinkMeeting.objects.filter(link=link)
        .select_related("recorded_by")
        .prefetch_related("attendees")
        .order_by("met_on", "pk")
    )
    people: list[Practitioner | None] = [link.requested_by, link.withdrawn_by]
    if private:
        for m in meetings:
            people += [m.recorded_by, *m.attendees.all()]
    names = _namer(user, link, people) if private else {}
    views = []
    for m in meetings:
        view = MeetingView(m)
        if private:
            view.attendees = sorted(
                (names[p.pk] for p in m.attendees.all()), key=lambda x: (x.circle_name, x.name)
            )
            view.recorded_by = names.get(m.recorded_by_id) if m.recorded_by_id else None
        views.append(view)
    counterpart = None
    if link.counterpart_id is not None:
        counterpart = _with_circles().filter(pk=link.counterpart_id).first()
    return LinkView(
        link=link,
        today=timezone.localdate(),
        private=private,
        meetings=views,
        requested_by=names.get(link.requested_by_id) if link.requested_by_id else None,
        withdrawn_by=names.get(link.withdrawn_by_id) if link.withdrawn_by_id else None,
        counterpart=counterpart,
        lapse_months=federation_rules(link.federation).link_lapse_months,
        would_count=link_would_count(
            validating_circle=link.validating_circle, asking_circle=link.asking_circle
        )
        if link.status in (LinkStatus.REQUESTED, LinkStatus.MET, LinkStatus.VALIDATED)
        else None,
    )


def link_for(*, pk: int) -> CircleLink | None:
    return _with_circles().select_related("requested_by", "withdrawn_by").filter(pk=pk).first()


# --- the federation map -------------------------------------------------------------------------


@dataclass(frozen=True)
class MapNode:
    id: int
    name: str
    slug: str
    status: str
    status_label: str
    live_links: int
    links_required: int
    url: str

    @property
    def validated(self) -> bool:
        return self.status == CircleStatus.MEMBER


@dataclass(frozen=True)
class MapEdge:
    """Links between two circles. Arrows point from the validating circle to the one it validates.

    `live`: the directions validated now, as (validating, asking) pairs; `pending`: requests not
    yet decided. A pair validating each other both ways is a reciprocal link.
    """

    a: int
    b: int
    live: tuple[tuple[int, int], ...]
    pending: tuple[tuple[int, int], ...]

    @property
    def reciprocal(self) -> bool:
        return len(self.live) == 2


@dataclass(frozen=True)
class FederationMap:
    federation: Federation
    rules: FederationRules
    nodes: list[MapNode]
    edges: list[MapEdge]
    links: list[CircleLink]  # live and pending links between visible circles, for the table

    @property
    def names(self) -> dict[int, str]:
        return {n.id: n.name for n in self.nodes}


def federation_map(*, user: Any, federation: Federation) -> FederationMap:
    """Circles the viewer can see, with their status, and their live and pending links.

    A constant number of queries however many circles and links there are.
    """
    today = timezone.localdate()
    rules = federation_rules(federation)
    circles = list(circles_visible_to(user=user, federation=federation).order_by("name"))
    visible = {c.pk for c in circles}
    links = list(
        CircleLink.objects.filter(federation=federation)
        .filter(
            Q(status=LinkStatus.VALIDATED, lapses_on__gt=today)
            | (Q(status__in=PENDING) & ~stale_request_q())
        )
        .select_related("asking_circle", "validating_circle")
        .order_by("validating_circle__name", "asking_circle__name")
    )
    live_count: dict[int, int] = defaultdict(int)
    for link in links:
        if link.status == LinkStatus.VALIDATED and link.counted:
            live_count[link.asking_circle_id] += 1
    pairs: dict[tuple[int, int], dict[str, set[tuple[int, int]]]] = {}
    shown = []
    for link in links:
        a, v = link.asking_circle_id, link.validating_circle_id
        if a not in visible or v not in visible:
            continue
        shown.append(link)
        key = (min(a, v), max(a, v))
        bucket = pairs.setdefault(key, {"live": set(), "pending": set()})
        bucket["live" if link.status == LinkStatus.VALIDATED else "pending"].add((v, a))
    members = member_counts(federation.pk)
    tallies = {
        c.pk: LinkTally(
            live_links=live_count[c.pk],
            members=members.get(c.pk, 0),
            links_required=rules.links_required,
            min_circle_size=rules.min_circle_size,
        )
        for c in circles
    }
    nodes = [
        MapNode(
            id=c.pk,
            name=c.name,
            slug=c.slug,
            # From the same counted links as the number beside it (LinkTally.status).
            status=tallies[c.pk].status,
            status_label=tallies[c.pk].status_label,
            live_links=live_count[c.pk],
            links_required=rules.links_required,
            url=c.get_absolute_url(),
        )
        for c in circles
    ]
    edges = [
        MapEdge(a, b, tuple(sorted(d["live"])), tuple(sorted(d["pending"])))
        for (a, b), d in sorted(pairs.items())
    ]
    return FederationMap(federation, rules, nodes, edges, shown)


def member_counts(federation_id: int, circle_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Current members per circle of a federation, in one query (as `member_count` counts);
    only for `circle_ids` when given (a page of circles: bounded however large the federation)."""
    rows = Membership.objects.current().filter(
        circle__federation_id=federation_id, practitioner__isnull=False
    )
    if circle_ids is not None:
        rows = rows.filter(circle_id__in=list(circle_ids))
    return dict(
        rows.order_by().values("circle_id").annotate(n=Count("pk")).values_list("circle_id", "n")
    )


def live_link_counts(
    federation_id: int, today: date | None = None, circle_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """Live links that count, per asking circle in a federation, in one query; only for
    `circle_ids` when given."""
    rows = CircleLink.objects.live(today).counting().filter(federation_id=federation_id)
    if circle_ids is not None:
        rows = rows.filter(asking_circle_id__in=list(circle_ids))
    return dict(
        rows.order_by()
        .values("asking_circle_id")
        .annotate(n=Count("pk"))
        .values_list("asking_circle_id", "n")
    )


# --- the federation map page: a bounded neighbourhood and a paged table ------------------------

MAP_MAX_DRAWN = 10  # circles drawn on the ring: more would overlap and say nothing
MAP_PAGE_SIZE = 50  # rows of the circles table per page
MAP_QUERY_MAX = 80  # the longest name filter read


@dataclass(frozen=True)
class MapPage:
    """The federation map page: the drawn neighbourhood (`nodes`, `edges`, `links`, bounded by
    MAP_MAX_DRAWN circles) and one page of the circles table (`rows`), both only of circles the
    viewer can see. `visible_total` is how many circles the viewer can see in the federation;
    `filtered_total` how many match the name filter `q`."""

    federation: Federation
    rules: FederationRules
    nodes: list[MapNode]
    edges: list[MapEdge]
    links: list[CircleLink]  # live and pending links between the drawn circles, for the table
    rows: list[MapNode]  # one page of the circles table, by name
    page: int
    pages: int
    q: str
    filtered_total: int
    visible_total: int
    around: MapNode | None  # the circle the picture centres on, when asked for one
    focus: str  # "around", "mine" or "page": what the picture centres on

    @property
    def not_drawn(self) -> int:
        return max(self.visible_total - len(self.nodes), 0)

    @property
    def names(self) -> dict[int, str]:
        return {n.id: n.name for n in self.nodes}


def _with_counts(qs: QuerySet[Circle], today: date) -> QuerySet[Any]:
    """Each circle's id, name and slug with its counted live links and current members, in the
    same query (subqueries), as rows (`pk`, `name`, `slug`, `live_count`, `member_total`): the
    map shows no more of a circle, so no circle (nor its federation) is built."""
    live = (
        CircleLink.objects.live(today)
        .counting()
        .filter(asking_circle=OuterRef("pk"))
        .order_by()
        .values("asking_circle")
        .annotate(n=Count("pk"))
        .values("n")
    )
    members = (
        Membership.objects.current()
        .filter(circle=OuterRef("pk"), practitioner__isnull=False)
        .order_by()
        .values("circle")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return qs.annotate(
        live_count=Coalesce(Subquery(live, output_field=IntegerField()), 0),
        member_total=Coalesce(Subquery(members, output_field=IntegerField()), 0),
    ).values_list("pk", "name", "slug", "live_count", "member_total", named=True)


def _map_node(c: Any, rules: FederationRules, circle_url: str, labels: dict[str, str]) -> MapNode:
    """`labels`: the status labels said so far on this map (each said once, not once a circle)."""
    tally = LinkTally(
        live_links=c.live_count,
        members=c.member_total,
        links_required=rules.links_required,
        min_circle_size=rules.min_circle_size,
    )
    # From the same counted links as the number beside it (LinkTally.status).
    status = tally.status
    label = labels.get(status)
    if label is None:
        label = labels[status] = tally.status_label
    return MapNode(
        id=c.pk,
        name=c.name,
        slug=c.slug,
        status=status,
        status_label=label,
        live_links=c.live_count,
        links_required=rules.links_required,
        url=circle_url.format(c.slug),
    )


def _current_links_q(today: date) -> Q:
    """Live links, and requests not expired (`CircleLink.objects.live(today)`, and `pending()`:
    not `stale_request_q`, its rule said the other way round — asked since the cutoff, or with
    the validating circle's proposal still open). The proposal is asked with EXISTS rather than
    joined: PostgreSQL takes longer to plan that join than to read the map's links."""
    cutoff = timezone.now() - REQUEST_EXPIRES_AFTER
    open_decision = Exists(
        Proposal.objects.filter(pk=OuterRef("decision_id"), status=ProposalStatus.OPEN)
    )
    return Q(status=LinkStatus.VALIDATED, lapses_on__gt=today) | (
        Q(status__in=PENDING) & (Q(requested_at__gt=cutoff) | Q(open_decision))
    )


def _my_circles_here(user: Any, federation: Federation) -> list[int]:
    """The viewer's circles in this federation that their audience counts (no query: the
    memberships are the ones `audience_for` read and kept for the request)."""
    counted = audience_for(user).circle_ids
    return sorted(
        row[0] for row in own_memberships(user) if row[1] == federation.pk and row[0] in counted
    )[:MAP_PAGE_SIZE]


# What the map's links table and its API read of a link and its two circles.
_MAP_LINK_FIELDS = (
    "pk",
    "status",
    "asking_circle_id",
    "validating_circle_id",
    "counterpart_id",
    "requested_at",
    "validated_on",
    "lapses_on",
    "asking_circle__name",
    "validating_circle__name",
)


def _map_links(federation: Federation, today: date, where: Q) -> list[CircleLink]:
    """The federation's current links matching `where`, by name, at most MAP_MAX_DRAWN * 20
    (with their circles' names, and no more of them than the map shows)."""
    return list(
        CircleLink.objects.filter(federation=federation)
        .filter(_current_links_q(today))
        .filter(where)
        .select_related("asking_circle", "validating_circle")
        .only(*_MAP_LINK_FIELDS)
        .order_by("validating_circle__name", "asking_circle__name", "pk")[: MAP_MAX_DRAWN * 20]
    )


def _touching_q(focus_q: Q, focus_ids: list[int] | None) -> Q:
    """Links from or to the focus: by the circles' ids when they are known (the planner then
    reads just their links), else by the circles `focus_q` finds."""
    if focus_ids is not None:
        return Q(asking_circle_id__in=focus_ids) | Q(validating_circle_id__in=focus_ids)
    focus = Circle.objects.filter(focus_q)
    return Q(asking_circle__in=focus) | Q(validating_circle__in=focus)


def map_page(
    *,
    user: Any,
    federation: Federation,
    q: str = "",
    page: int = 1,
    around: str = "",
    circle_url: str = "/circles/{}/",
) -> MapPage:
    """The federation map page, bounded however large the federation: one page of the circles
    table (by name, filtered by `q`) and a picture of at most MAP_MAX_DRAWN circles — the circle
    `around` names and the circles linked to it, else the viewer's own circles here and theirs,
    else the first circles of the table's page. Every circle shown is one the viewer can see
    (circles_visible_to); a link is shown only between two such circles. `circle_url` is the
    circle page's address with `{}` for its slug (reversed once by the caller).

    A constant number of queries (at most six here, seven when the focus asked for is not a
    circle here the viewer can see) however many circles and links there are: the covenant in
    force is read with the circles' counts beside it.
    """
    today = timezone.localdate()
    q = q.strip()[:MAP_QUERY_MAX]
    visible = circles_visible_to(user=user, federation=federation).order_by()
    table = visible.filter(name__icontains=q) if q else visible
    counts = {"_visible": count_of(visible)}
    if q:
        counts["_matching"] = count_of(table)
    covenant, counted = current_covenant_with(federation, counts)
    rules = rules_from(covenant.parameters if covenant is not None else {})  # federation_rules
    visible_total = counted["_visible"]
    filtered_total = counted.get("_matching", visible_total)
    pages = max((filtered_total + MAP_PAGE_SIZE - 1) // MAP_PAGE_SIZE, 1)
    page = min(max(page, 1), pages)
    start = (page - 1) * MAP_PAGE_SIZE
    labels: dict[str, str] = {}
    rows = [
        _map_node(c, rules, circle_url, labels)
        for c in _with_counts(table, today).order_by("name", "pk")[start : start + MAP_PAGE_SIZE]
    ]

    # Whom the picture centres on: a small federation is drawn whole; a large one around the
    # circle asked for, else the viewer's own circles, else the table's first circles.
    fallback = [n.id for n in rows[:MAP_MAX_DRAWN]]
    focus_ids: list[int] = []
    if visible_total <= MAP_MAX_DRAWN:
        focus, around = "all", ""
        focus_q = Q(pk__in=visible.values("pk"))
    elif around:
        focus, focus_q = "around", Q(slug=around)
    elif mine := _my_circles_here(user, federation):
        focus, focus_ids = "mine", mine
        focus_q = Q(pk__in=mine)
    else:
        focus, focus_ids = "page", fallback
        focus_q = Q(pk__in=fallback)
    # The current links touching the focus (one query)...
    known = focus in ("mine", "page")  # the focus by ids, not to be looked up
    touching = _map_links(federation, today, _touching_q(focus_q, focus_ids if known else None))
    neighbours = {
        pk for link in touching for pk in (link.asking_circle_id, link.validating_circle_id)
    }
    # ...and the circles they and the focus reach, as far as the viewer can see them (one query).
    reached = (
        Q(pk__in=sorted({*focus_ids, *neighbours, *fallback}))
        if known
        else focus_q | Q(pk__in=neighbours) | Q(pk__in=fallback)
    )
    drawn = {c.pk: c for c in _with_counts(visible.filter(reached), today).order_by("name", "pk")}
    if focus == "around":
        around_circle = next((pk for pk, c in drawn.items() if c.slug == around), None)
        focus_ids = [around_circle] if around_circle is not None else []
    refocused = focus in ("around", "mine") and not any(pk in drawn for pk in focus_ids)
    if refocused:
        focus, focus_ids = "page", fallback  # not a circle here the viewer can see
    if focus == "all":
        drawn_ids = list(drawn)[:MAP_MAX_DRAWN]
    elif focus == "page":
        drawn_ids = [pk for pk in fallback if pk in drawn]
    else:
        # The focus first, then the circles linked to it by name, up to the bound.
        drawn_ids = [pk for pk in focus_ids if pk in drawn][:MAP_MAX_DRAWN]
        for pk in drawn:
            if len(drawn_ids) >= MAP_MAX_DRAWN:
                break
            if pk in neighbours and pk not in drawn_ids:
                drawn_ids.append(pk)
    in_picture = set(drawn_ids)
    if refocused:  # the links read were the failed focus's: read those of the circles drawn
        touching = _map_links(
            federation,
            today,
            Q(asking_circle_id__in=drawn_ids, validating_circle_id__in=drawn_ids),
        )
    nodes = [_map_node(c, rules, circle_url, labels) for pk, c in drawn.items() if pk in in_picture]
    shown = [
        link
        for link in touching
        if link.asking_circle_id in in_picture and link.validating_circle_id in in_picture
    ]
    pairs: dict[tuple[int, int], dict[str, set[tuple[int, int]]]] = {}
    for link in shown:
        a, v = link.asking_circle_id, link.validating_circle_id
        key = (min(a, v), max(a, v))
        bucket = pairs.setdefault(key, {"live": set(), "pending": set()})
        bucket["live" if link.status == LinkStatus.VALIDATED else "pending"].add((v, a))
    edges = [
        MapEdge(a, b, tuple(sorted(d["live"])), tuple(sorted(d["pending"])))
        for (a, b), d in sorted(pairs.items())
    ]
    around_circle = focus_ids[0] if focus == "around" else None
    around_node = next((n for n in nodes if n.id == around_circle), None) if around_circle else None
    return MapPage(
        federation=federation,
        rules=rules,
        nodes=nodes,
        edges=edges,
        links=shown,
        rows=rows,
        page=page,
        pages=pages,
        q=q,
        filtered_total=filtered_total,
        visible_total=visible_total,
        around=around_node,
        focus=focus,
    )
