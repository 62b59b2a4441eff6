"""The pure rules of links: one function for the no-closed-triangle rule, one for circle status.

No database here: services gather the facts (which circles are linked, how many live links and
members a circle has) and ask these functions, so the rules can be property-tested on their own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable


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
