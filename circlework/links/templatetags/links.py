"""Template tags for other apps' pages: a circle's status and links, and a federation's counts.

`{% load links %}{% circle_link_status circle %}` on the circle page (a few queries, however many
members or links); `{% load links %}{% circle_live_links circle %}` in a federation's circle list
counts the live links of the circles the page lists with one query per page.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from circlework.circles.covenant import (
    FederationRules,
    current_covenant_with,
    federation_rules,
    rules_from,
    size_note,
)
from circlework.core.permissions import allowed
from circlework.links import selectors

register = template.Library()


def _tally(circle: Any) -> tuple[selectors.LinkTally, FederationRules]:
    """The circle's counted live links and members, and its federation's rules: one query (the
    covenant in force, with the two counts beside it), kept on the circle object, so the tabs'
    status badge and the status section beside it read the same."""
    cached = getattr(circle, "_circlework_link_tally", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    covenant, counts = current_covenant_with(
        circle.federation,
        {
            "_live_links": selectors.count_of(
                selectors.live_links_asked_qs(circle.pk, timezone.localdate())
            ),
            "_members": selectors.count_of(selectors.members_counted_qs(circle.pk)),
        },
    )
    rules = rules_from(covenant.parameters if covenant is not None else {})
    tally = selectors.LinkTally(
        live_links=counts["_live_links"],
        members=counts["_members"],
        links_required=rules.links_required,
        min_circle_size=rules.min_circle_size,
    )
    circle._circlework_link_tally = (tally, rules)
    return tally, rules


@register.inclusion_tag("links/_circle_status.html", takes_context=True)
def circle_link_status(context: template.Context, circle: Any) -> dict[str, Any]:
    """The circle's status in words, its live links (the validating circles) and what it lacks."""
    user = context.get("user")
    tally, rules = _tally(circle)
    # Only the links that count toward its validation (links.validation_rule.link_counts).
    live = list(
        selectors.live_links_asked_qs(circle.pk, timezone.localdate())
        .select_related("validating_circle", "validating_circle__federation", "asking_circle")
        .order_by("validating_circle__name")
    )
    may_see_note = allowed("circles.change_circle", user, circle)  # the circle's members
    return {
        "circle": circle,
        "tally": tally,
        # A gentle note past the covenant's recommended size, for the circle's members.
        "size_note": size_note(tally.members, rules) if may_see_note else "",
        "live": [link for link in live if allowed("links.view_link", user, link)],
        "hidden_count": len([link for link in live if not allowed("links.view_link", user, link)]),
    }


@register.simple_tag
def circle_status(circle: Any) -> SafeString:
    """The circle's status as a badge, from its counted links and members now
    (LinkTally.status): never "member" beside "1 of 2 links" before the worker has run."""
    tally, _rules = _tally(circle)
    return format_html('<span class="status status-{}">{}</span>', tally.status, tally.status_label)


# A list of circles longer than this is not counted as one page: each circle counts its own.
_PAGE_MAX = 200


def _listed_ids(context: template.Context, circle: Any) -> tuple[int, ...]:
    """The circles the page lists (its `circles`, once the page's loop has read them), so a
    page of circles is counted in one query for them all; else just this circle. Never the
    whole federation: the counts stay bounded however many circles it has."""
    listed = context.get("circles")
    if isinstance(listed, QuerySet):
        listed = listed._result_cache  # only if the page's loop has read it already
    if isinstance(listed, list | tuple) and 0 < len(listed) <= _PAGE_MAX:
        ids = tuple(getattr(c, "pk", None) for c in listed)
        if circle.pk in ids:
            return tuple(sorted({pk for pk in ids if isinstance(pk, int)}))
    return (circle.pk,)


def _counts(context: template.Context, circle: Any) -> tuple[dict[int, int], dict[int, int], Any]:
    """Live links and members for the page's circles, counted once per page (two queries)."""
    ids = _listed_ids(context, circle)
    key = f"links:tallies:{circle.federation_id}:{ids}"
    cache = context.render_context
    if key not in cache:
        cache[key] = (
            selectors.live_link_counts(circle.federation_id, circle_ids=ids),
            selectors.member_counts(circle.federation_id, circle_ids=ids),
            federation_rules(circle.federation),
        )
    return cache[key]  # type: ignore[no-any-return]


@register.simple_tag(takes_context=True)
def federation_circle_status(context: template.Context, circle: Any) -> SafeString:
    """`circle_status` for a page of one federation's circles: counted once per page."""
    live, members, rules = _counts(context, circle)
    tally = selectors.LinkTally(
        live_links=live.get(circle.pk, 0),
        members=members.get(circle.pk, 0),
        links_required=rules.links_required,
        min_circle_size=rules.min_circle_size,
    )
    return format_html('<span class="status status-{}">{}</span>', tally.status, tally.status_label)


@register.simple_tag(takes_context=True)
def circle_live_links(context: template.Context, circle: Any) -> str:
    """“2 of 2 links”: the circle's live links against the covenant's number. Counted once per
    page for the circles the page lists, so a page of circles costs two queries in all."""
    live, _members, rules = _counts(context, circle)
    return ngettext("%(h)s of %(n)s link", "%(h)s of %(n)s links", rules.links_required) % {
        "h": live.get(circle.pk, 0),
        "n": rules.links_required,
    }


# --- the federation map's circles table ------------------------------------------------------

_MAP_ROW = (
    '\n    <tr><th scope="row"><a href="{}">{}</a></th><td><span class="status status-{}">{}</span>'
    "</td><td>{}</td>{}</tr>\n  "
)
_MAP_AROUND = (
    '<td><a href="?around={}#map-title">{}<span class="visually-hidden"> {}</span></a></td>'
)


@register.simple_tag
def map_circle_rows(page: Any) -> SafeString:
    """The rows of the map page's circles table (`selectors.MapPage.rows`): the bytes the
    template's loop over them drew, in one pass of Python rather than a template's variables and
    translations resolved cell by cell (a page holds fifty rows). With a "Show on the map" cell
    when some circles are not drawn."""
    show = gettext("Show on the map") if page.not_drawn else None
    links_words: dict[tuple[int, int], SafeString] = {}
    rows = []
    for node in page.rows:
        key = (node.live_links, node.links_required)
        words = links_words.get(key)
        if words is None:
            # As {% blocktranslate count %} says it: the translation, with its values escaped.
            words = links_words[key] = mark_safe(  # noqa: S308 - the catalogue's words, as the tag
                ngettext("%(h)s of %(n)s link", "%(h)s of %(n)s links", node.links_required)
                % {
                    "h": conditional_escape(localize(node.live_links)),
                    "n": conditional_escape(localize(node.links_required)),
                }
            )
        around = format_html(_MAP_AROUND, node.slug, show, node.name) if show is not None else ""
        rows.append(
            format_html(
                _MAP_ROW, node.url, node.name, node.status, node.status_label, words, around
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 - rows drawn by format_html
