"""Why a federation proposal passed or not, with the circles it is about named for each reader.

The result is stored without names: a text naming no circle (`FederationProposal.result`) and
the circles' ids (`result_circles`). A circle a reader may not see (a members-only circle, for a
member of another circle; any circle, for a forming circle's member following the federation's
decisions) is "a circle" to them; whether they may see it is decided by the circle-name rule
(circlework.circles.names), when the page is read, so a circle that closes its page later is
not named afterwards either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, npgettext

from circlework.circles.models import Circle
from circlework.circles.names import may_name_circle

# The keys of `FederationProposal.result_circles`.
OPPOSED = "opposed"  # disagreed or blocked: did not consent
MISSING = "missing"  # gave no position


def reason(kind: str, circles: str) -> str:
    """The covenant verdict's reason, about `circles` (names, or a count where stored)."""
    if kind == OPPOSED:
        return _(
            "The covenant changes only when no circle disagrees or blocks: %(c)s did not consent."
        ) % {"c": circles}
    return _("The covenant changes only when every circle has spoken: no position from %(c)s.") % {
        "c": circles
    }


def counted(n: int) -> str:
    """The circles as stored: how many, never which."""
    return ngettext("%(n)d circle", "%(n)d circles", n) % {"n": n}


def named_for(user: Any, circle_ids: Iterable[int]) -> str:
    """The circles by name where this reader may see them; the others counted, unnamed."""
    ids = list(dict.fromkeys(int(pk) for pk in circle_ids))
    circles = Circle.objects.filter(pk__in=ids).only("pk", "name", "visibility", "federation_id")
    parts = sorted(str(c.name) for c in circles if may_name_circle(user, c))
    # A circle the reader may not see, or one that no longer exists.
    hidden = len(ids) - len(parts)
    if hidden and parts:
        parts.append(ngettext("one other circle", "%(n)d other circles", hidden) % {"n": hidden})
    elif hidden:
        parts.append(
            npgettext("circles not shown", "a circle", "%(n)d circles", hidden) % {"n": hidden}
        )
    return ", ".join(parts)


def result_for(user: Any, result: str, result_circles: Mapping[str, Any] | None) -> str:
    """The stored result as this reader may read it: the circles it is about named for them."""
    about = result_circles or {}
    for kind in (OPPOSED, MISSING):
        ids = about.get(kind)
        if ids:
            return reason(kind, named_for(user, ids))
    return result
