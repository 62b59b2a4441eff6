"""The demo's links tell DEMO.md's story: Leeds, York and Sheffield validated by two links each,
with no closed triangle; Manchester forming, its request to York met but not yet decided."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from circlework.circles.covenant import federation_rules
from circlework.circles.models import Circle, CircleStatus, Federation
from circlework.links import services
from circlework.links.models import CircleLink, LinkStatus
from circlework.links.selectors import link_tally
from circlework.links.validation_rule import has_triangle

pytestmark = pytest.mark.django_db

LEEDS, YORK = "Leeds Wednesday Circle", "York Riverside Group"
SHEFFIELD, MANCHESTER = "Sheffield Peer Circle", "Manchester Forming Circle"


def test_demo_links_and_statuses() -> None:
    call_command("seed_demo", verbosity=0)
    federation = Federation.objects.get(slug="northern-practitioners-network")
    rules = federation_rules(federation)
    assert rules.links_required == 2 and rules.no_closed_triangles
    circles = {c.name: c for c in Circle.objects.filter(federation=federation)}
    live = {
        (x.validating_circle.name, x.asking_circle.name)
        for x in CircleLink.objects.live().select_related("validating_circle", "asking_circle")
    }
    assert live == {
        (YORK, LEEDS),
        (LEEDS, YORK),
        (SHEFFIELD, LEEDS),
        (LEEDS, SHEFFIELD),
        (MANCHESTER, YORK),
        (MANCHESTER, SHEFFIELD),
    }
    assert not has_triangle(
        CircleLink.objects.open().values_list("asking_circle_id", "validating_circle_id")
    )
    for name in (LEEDS, YORK, SHEFFIELD):
        assert link_tally(circles[name]).live_links == 2
        assert circles[name].status == CircleStatus.MEMBER
        assert circles[name].status_changed_at is not None
    assert circles[MANCHESTER].status == CircleStatus.FORMING
    pending = CircleLink.objects.get(asking_circle=circles[MANCHESTER])
    assert pending.validating_circle == circles[YORK]
    assert pending.status == LinkStatus.MET and pending.meetings.count() == 1
    # Every status is what the rule says: refreshing changes nothing.
    for circle in circles.values():
        assert services.circle_status_refresh(circle=circle) is False
    # Every validated link carries its validating circle's statement and decision.
    for link in CircleLink.objects.filter(status=LinkStatus.VALIDATED):
        assert link.statement and link.decision is not None and link.meetings.exists()
        assert link.decision.outcome.passed
    # Sheffield's validation of Leeds is up for renewal.
    soon = CircleLink.objects.get(
        validating_circle=circles[SHEFFIELD], asking_circle=circles[LEEDS]
    )
    assert services.renewable(soon)
    # The public sees the map.
    body = Client().get(f"/federations/{federation.slug}/map/").content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert svg.count("✓ Validated") == 3 and svg.count(">Forming<") == 1
    assert "York Riverside Group validates" in body
