"""The federation map's cheaper paths (issue 13) say what the slower ones said: its current links
(requests' expiry asked with EXISTS, not a join) and its circles table (drawn by a template tag,
not a loop of the template), byte for byte."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.db.models import Q
from django.template import Context, Template
from django.utils import timezone

from circlework.decisions.models import Proposal, ProposalStatus
from circlework.links.models import CircleLink, LinkStatus, stale_request_q
from circlework.links.selectors import PENDING, MapNode, _current_links_q
from tests.links.helpers import ask, make_net, validate

# The table's rows as links/federation_map.html drew them before the tag (issue 13).
LOOP = (
    "{% load i18n %}{% for node in map.rows %}\n"
    '    <tr><th scope="row"><a href="{{ node.url }}">{{ node.name }}</a></th><td><span class="'
    'status status-{{ node.status }}">{{ node.status_label }}</span></td><td>{% blocktranslate '
    "count n=node.links_required with h=node.live_links %}{{ h }} of {{ n }} link{% plural %}"
    '{{ h }} of {{ n }} links{% endblocktranslate %}</td>{% if map.not_drawn %}<td><a href="'
    '?around={{ node.slug }}#map-title">{% translate "Show on the map" %}<span class="visually-'
    'hidden"> {{ node.name }}</span></a></td>{% endif %}</tr>\n'
    "  {% empty %}{% endfor %}"
)
TAG = "{% load links %}{% map_circle_rows map %}"


def _node(n: int, name: str, status: str, live: int, required: int) -> MapNode:
    return MapNode(
        id=n,
        name=name,
        slug=f"circle-{n}",
        status=status,
        status_label="✓ Validated" if status == "member" else "Forming",
        live_links=live,
        links_required=required,
        url=f"/circles/circle-{n}/",
    )


def test_the_circles_table_tag_draws_what_the_loop_drew() -> None:
    rows = [
        _node(1, 'Tom & Jerry\'s "<circle>"', "member", 2, 2),
        _node(2, "Leeds", "forming", 0, 1),
        _node(3, "York", "forming", 1, 1),
        _node(4, "Hull", "member", 3, 2),
    ]
    for not_drawn in (0, 3):
        page = SimpleNamespace(rows=rows, not_drawn=not_drawn)
        before = Template(LOOP).render(Context({"map": page}))
        after = Template(TAG).render(Context({"map": page}))
        assert after == before
    assert "Tom &amp; Jerry&#x27;s &quot;&lt;circle&gt;&quot;" in after
    assert "0 of 1 link<" in after and "2 of 2 links<" in after


def test_current_links_are_those_live_or_pending_and_not_expired(db: None) -> None:
    net = make_net(list("ABCDEFG"))
    validate(net, "A", "B")  # live
    lapsed = validate(net, "C", "B")
    fresh = ask(net, "D", "A")
    stale, stale_open, stale_closed = (ask(net, x, "G") for x in "EFA")
    long_ago = timezone.now() - timedelta(days=400)
    CircleLink.objects.filter(pk=lapsed.pk).update(lapses_on=timezone.localdate())
    CircleLink.objects.filter(pk__in=[stale.pk, stale_open.pk, stale_closed.pk]).update(
        requested_at=long_ago
    )
    CircleLink.objects.filter(pk=fresh.pk).update(status=LinkStatus.MET)
    circle = net.circles["G"]
    for link, status in ((stale_open, ProposalStatus.OPEN), (stale_closed, ProposalStatus.CLOSED)):
        proposal = Proposal.objects.create(
            circle=circle, title="Do we validate them?", text="…", status=status, closes_at=long_ago
        )
        CircleLink.objects.filter(pk=link.pk).update(decision=proposal)
    today = timezone.localdate()
    before = Q(status=LinkStatus.VALIDATED, lapses_on__gt=today) | (
        Q(status__in=PENDING) & ~stale_request_q()
    )

    def found(q: Any) -> list[int]:
        return sorted(CircleLink.objects.filter(q).values_list("pk", flat=True))

    assert found(_current_links_q(today)) == found(before)
    current = set(found(_current_links_q(today)))
    assert {fresh.pk, stale_open.pk} <= current
    assert not {lapsed.pk, stale.pk, stale_closed.pk} & current
