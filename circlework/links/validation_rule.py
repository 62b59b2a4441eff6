"""The pure rules of validation links: no closed triangle, when a circle is validated, which
links count, and what a circle's decision on a link does to it.

No database here: services gather the facts (which circles are linked, how many live links and
members a circle has, the link's status and the decision's result) and ask these functions, so
the rules can be property-tested on their own. `rules.py` beside it holds the permissions.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from circlework.links.models import LinkCount, LinkStatus


def neighbours(edges: Iterable[tuple[int, int]]) -> dict[int, set[int]]:
    """The undirected graph of the given links: circle → circles it is linked with either way."""
    graph: dict[int, set[int]] = defaultdict(set)
    for a, b in edges:
        if a != b:
            graph[a].add(b)
            graph[b].add(a)
    return graph


def triangle_violations(edges: Iterable[tuple[int, int]], proposed: tuple[int, int]) -> list[int]:
    """The circles that would close a triangle if the two circles of `proposed` were linked.

    `edges` are the open or live links of the federation, as (asking, validating) pairs; their
    direction does not matter: a triangle is three circles each linked with the other two, either
    way. Linking A and B closes a triangle with every circle C already linked with both. If A and
    B are already linked (the other way, say), linking them again adds no new edge and closes
    nothing. Returns the ids of the circles C, smallest first; empty means the link is allowed.
    """
    a, b = proposed
    if a == b:
        return []
    graph = neighbours(edges)
    if b in graph.get(a, set()):
        return []
    return sorted((graph.get(a, set()) & graph.get(b, set())) - {a, b})


def has_triangle(edges: Iterable[tuple[int, int]]) -> bool:
    """Whether any three circles are each linked with the other two (for tests and checks)."""
    graph = neighbours(edges)
    return any(graph[a] & graph[b] for a in graph for b in graph[a])


def is_validated(
    *, live_links: int, members: int, links_required: int, min_circle_size: int
) -> bool:
    """A circle is a member (validated) of its federation when other circles validate it by at
    least `links_required` live links and it has at least `min_circle_size` current members."""
    return live_links >= links_required and members >= min_circle_size


def missing_for_membership(
    *, live_links: int, members: int, links_required: int, min_circle_size: int
) -> tuple[int, int]:
    """How many links and members a circle still lacks to be validated: (links, members)."""
    return max(links_required - live_links, 0), max(min_circle_size - members, 0)


# --- which links count toward validation ---------------------------------------------------------


def founding(*, validated_elsewhere: int, links_required: int) -> bool:
    """Is the federation still being founded, as seen from one asking circle?

    `validated_elsewhere` is how many circles of the federation, other than the asking circle,
    the federation has validated. While it is fewer than the covenant's `links_required`, the
    asking circle could not be validated by validated circles alone (a circle never validates
    itself), so the founding circles must be able to validate one another.
    """
    return validated_elsewhere < links_required


def link_counts(
    *, validating_validated: bool, validated_elsewhere: int, links_required: int
) -> bool:
    """Does a link decided now count toward the asking circle's validation?

    It counts when the validating circle is one the federation has validated, or, while the
    federation is being founded (`founding`), whatever the validating circle's status. Decided
    once, when the validating circle decides (and again at each renewal), and recorded on the
    link: a later change of either circle's status does not change which links counted.
    """
    return validating_validated or founding(
        validated_elsewhere=validated_elsewhere, links_required=links_required
    )


# --- what a decision does to its link ------------------------------------------------------------

# The statuses in which a link's decision is still awaited: met (a first decision), validated (a
# renewal) or lapsed (it lapsed while its renewal was being decided). A link cancelled, withdrawn
# or declined meanwhile keeps its status: the outcome records nothing on it.
DECIDABLE = (LinkStatus.MET, LinkStatus.VALIDATED, LinkStatus.LAPSED)


class Decided(enum.Enum):
    """Which of the ways a decision can end for its link."""

    VALIDATED = "validated"  # a first decision passed: the link is validated
    RENEWED = "renewed"  # a renewal passed (also after the link lapsed meanwhile)
    NEWER_LINK = "newer_link"  # passed after the lapse, but a newer link already validates
    STAYS_LAPSED = "stays_lapsed"  # a renewal not passed, or refused, after the lapse
    STAYS_CURRENT = "stays_current"  # a renewal not passed, or refused: current until it lapses
    DECLINED = "declined"  # a first decision not passed, or refused: the link ends

    @property
    def verb(self) -> str:
        """The audit verb recorded in both circles' histories."""
        return _VERBS[self]


_VERBS = {
    Decided.VALIDATED: "link.validated",
    Decided.RENEWED: "link.renewed",
    Decided.NEWER_LINK: "link.not_renewed",
    Decided.STAYS_LAPSED: "link.not_renewed",
    Decided.STAYS_CURRENT: "link.not_renewed",
    Decided.DECLINED: "link.declined",
}


@dataclass(frozen=True)
class LinkDecision:
    """What a closed decision does to its link: the service writes it, tells and records it."""

    way: Decided
    status: LinkStatus  # the link's status after
    counts: LinkCount | None  # recorded on the link as it validates; None: left as it was

    @property
    def validates(self) -> bool:
        """The link is validated from today for the covenant's period (dates set anew)."""
        return self.way in (Decided.VALIDATED, Decided.RENEWED)

    @property
    def ends(self) -> bool:
        """The link ends now (declined)."""
        return self.way is Decided.DECLINED


def link_decision(
    *,
    status: str,
    passed: bool,
    refused_by_rule: bool,
    counting: LinkCount,
    newer_link_validates: bool,
) -> LinkDecision | None:
    """What the validating circle's decision does to a link in `status`; None: nothing (the link
    was cancelled or withdrawn while the circle decided).

    `passed` is the decision's result; `refused_by_rule` whether the federation's rules now
    refuse the link (it would close a triangle), which outweighs a decision that passed;
    `counting` whether the validation would count now (recorded on the link as it validates,
    even LinkCount.NO); `newer_link_validates` whether, for a link that lapsed meanwhile, a newer
    link the same way already validates the asking circle, so the renewal gives way to it.
    """
    if status not in DECIDABLE:
        return None
    after_lapse = status == LinkStatus.LAPSED
    renewing = status == LinkStatus.VALIDATED or after_lapse
    if passed and not refused_by_rule:
        if after_lapse and newer_link_validates:
            return LinkDecision(Decided.NEWER_LINK, LinkStatus.LAPSED, None)
        way = Decided.RENEWED if renewing else Decided.VALIDATED
        return LinkDecision(way, LinkStatus.VALIDATED, counting)
    if after_lapse:
        return LinkDecision(Decided.STAYS_LAPSED, LinkStatus.LAPSED, None)
    if renewing:
        return LinkDecision(Decided.STAYS_CURRENT, LinkStatus.VALIDATED, None)
    return LinkDecision(Decided.DECLINED, LinkStatus.DECLINED, None)
