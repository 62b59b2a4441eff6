"""The demo's covenant and ethical statements (../shared/DEMO.md)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from circlework.agreements.models import Agreement, EthicsCirculation
from circlework.circles.covenant import current_covenant, federation_rules, review_due
from circlework.circles.models import Federation
from circlework.core.dates import add_months

pytestmark = pytest.mark.django_db


def test_demo_covenant_and_ethical_statements() -> None:
    call_command("seed_demo", verbosity=0)
    federation = Federation.objects.get()
    rules = federation_rules(federation)
    assert (rules.min_circle_size, rules.links_required, rules.link_lapse_months) == (4, 2, 24)
    assert rules.no_closed_triangles and rules.officer_electorate == "delegates"
    version = current_covenant(federation)
    assert version is not None and version.number == 1
    today = timezone.localdate()
    assert timezone.localdate(version.adopted_at) == add_months(today, -24)  # two years ago
    due = review_due(version)
    next_month = add_months(today.replace(day=1), 1)
    assert (due.year, due.month) == (next_month.year, next_month.month)  # due next month

    published = Agreement.objects.filter(kind="ethics", visibility="public")
    assert set(published.values_list("circle__name", flat=True)) == {
        "Leeds Wednesday Circle",
        "York Riverside Group",
        "Sheffield Peer Circle",
    }
    assert len({a.current_version.text for a in published if a.current_version}) == 3
    assert all(a.current_version is not None for a in published)
    assert not Agreement.objects.filter(circle__name="Manchester Forming Circle", kind="ethics")

    circulation = EthicsCirculation.objects.get()
    assert circulation.circle.name == "Manchester Forming Circle" and circulation.is_draft
    comment = circulation.comments.get()
    assert comment.author is not None
    assert (
        comment.author_circle is not None and comment.author_circle.name == "York Riverside Group"
    )

    register = Client().get(f"/federations/{federation.slug}/ethics/").content.decode()
    assert register.count('class="card"') == 3
    assert comment.text[:30] not in register
