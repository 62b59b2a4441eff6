"""links 0002: every circle's stored status is recomputed from its live links and current members
with its federation's covenant rules, on historical models (called here directly)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from circlework.circles import services as circle_services
from circlework.circles.models import Circle, CircleStatus, CovenantVersion
from circlework.links.models import CircleLink
from circlework.links.selectors import link_standing
from tests.links.helpers import make_net, validate

pytestmark = pytest.mark.django_db

migration = importlib.import_module("circlework.links.migrations.0002_recompute_circle_status")


def _status(circle: Circle) -> str:
    return Circle.objects.get(pk=circle.pk).status


def _set(circle: Circle, status: str) -> None:
    Circle.objects.filter(pk=circle.pk).update(status=status, status_changed_at=None)


def test_wrong_stored_statuses_are_recomputed_from_links_and_members() -> None:
    net = make_net(["A", "B", "C", "D"], links_required=1, min_circle_size=3)
    validate(net, "A", "B")  # A: one live link, three members → member
    lapsed = validate(net, "C", "D")  # C: its only link is past its date, not swept yet
    CircleLink.objects.filter(pk=lapsed.pk).update(lapses_on=timezone.localdate())
    validate(net, "D", "A")  # D: a live link, but one of its three members left
    circle_services.membership_leave(actor=net.people["D"][2], circle=net.circles["D"])
    a, b, c, d = (net.circles[n] for n in "ABCD")
    _set(a, CircleStatus.FORMING)
    for circle in (b, c, d):
        _set(circle, CircleStatus.MEMBER)

    migration.recompute_circle_status(apps, None)

    assert [_status(x) for x in (a, b, c, d)] == ["member", "forming", "forming", "forming"]
    assert all(Circle.objects.get(pk=x.pk).status_changed_at for x in (a, b, c, d))
    for circle in (a, b, c, d):  # the same answer as the app's own rule
        validated = link_standing(Circle.objects.get(pk=circle.pk)).validated
        assert _status(circle) == ("member" if validated else "forming")


def test_a_right_status_is_left_alone() -> None:
    net = make_net(["A", "B"], links_required=1, min_circle_size=3)
    validate(net, "A", "B")
    before = Circle.objects.get(pk=net.circles["A"].pk)
    assert before.status == CircleStatus.MEMBER
    migration.recompute_circle_status(apps, None)
    after = Circle.objects.get(pk=net.circles["A"].pk)
    assert (after.status, after.status_changed_at) == (before.status, before.status_changed_at)


def test_each_federation_reads_its_own_current_covenant_with_the_defaults() -> None:
    lenient = make_net(["L"], links_required=0, min_circle_size=3)
    strict = make_net(["S1", "S2", "S3"], size=4, links_required=0, min_circle_size=2)
    validate(strict, "S1", "S2")
    # A later covenant version of the strict federation with malformed rules: the defaults
    # (2 links, 4 members) apply, as circlework.circles.covenant reads them.
    CovenantVersion.objects.create(
        federation=strict.federation,
        number=2,
        text="Revised.",
        parameters={"links_required": "many", "min_circle_size": 1},
    )
    validate(strict, "S1", "S3")
    for circle in (*lenient.circles.values(), *strict.circles.values()):
        _set(circle, CircleStatus.FORMING if circle.name != "S2" else CircleStatus.MEMBER)

    migration.recompute_circle_status(apps, None)

    assert _status(lenient.circles["L"]) == "member"  # no links needed, three members
    assert _status(strict.circles["S1"]) == "member"  # two live links, four members
    assert _status(strict.circles["S2"]) == "forming"  # no links of its own
    assert _status(strict.circles["S3"]) == "forming"


def test_the_migration_is_in_the_plan() -> None:
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection)
    assert ("links", "0002_recompute_circle_status") in loader.graph.leaf_nodes("links")
    assert ("links", "0002_recompute_circle_status") in loader.applied_migrations
