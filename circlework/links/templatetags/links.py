"""Template tags for other apps' pages: a circle's status and links, and a federation's counts.

`{% load links %}{% circle_link_status circle %}` on the circle page (a few queries, however many
members or links); `{% load links %}{% circle_live_links circle %}` in a federation's circle list
counts every circle's live links with one query per page.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import ngettext

from circlework.core.permissions import allowed
from circlework.links import selectors
from circlework.links.models import CircleLink

register = template.Library()


@register.inclusion_tag("links/_circle_status.html", takes_context=True)
def circle_link_status(context: template.Context, circle: Any) -> dict[str, Any]:
    """The circle's status in words, its live links (the validating circles) and what it lacks."""
    user = context.get("user")
    today = timezone.localdate()
    # Only the links that count toward its validation (links.rule.link_counts).
    live = list(
        CircleLink.objects.live(today)
        .counting()
        .filter(asking_circle=circle)
        .select_related("validating_circle", "validating_circle__federation", "asking_circle")
        .order_by("validating_circle__name")
    )
    standing = selectors.LinkStanding(
        live_links=len(live),
        members=selectors.member_count(circle),
        **_rules(circle),
    )
    return {
        "circle": circle,
        "standing": standing,
        "live": [link for link in live if allowed("links.view_link", user, link)],
        "hidden_count": len([link for link in live if not allowed("links.view_link", user, link)]),
    }


def _rules(circle: Any) -> dict[str, int]:
    from circlework.circles.covenant import federation_rules

    rules = federation_rules(circle.federation)
    return {"links_required": rules.links_required, "min_circle_size": rules.min_circle_size}


@register.simple_tag(takes_context=True)
def circle_live_links(context: template.Context, circle: Any) -> str:
    """“2 of 2 links”: the circle's live links against the covenant's number. Counted once per
    page for the circle's whole federation, so a list of circles costs two queries in all."""
    from circlework.circles.covenant import federation_rules

    key = f"links:live-counts:{circle.federation_id}"
    cache = context.render_context
    if key not in cache:
        cache[key] = (
            selectors.live_link_counts(circle.federation_id),
            federation_rules(circle.federation).links_required,
        )
    counts, required = cache[key]
    have = counts.get(circle.pk, 0)
    return ngettext("%(h)s of %(n)s link", "%(h)s of %(n)s links", required) % {
        "h": have,
        "n": required,
    }
