"""links 0002: every circle's stored status is recomputed from its live links and current members
with its federation's covenant rules, on historical models (called here directly)."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from circlework.circles import services as circle_services
from circlework.circles.models import Circle, CircleStatus, CovenantVersion
from circlework.links.models import CircleLink, LinkStatus
from circlework.links.selectors import link_tally
from tests.links.helpers import make_net, validate

pytestmark = pytest.mark.django_db

migration = importlib.import_module("circlework.links.migrations.0002_recompute_circle_status")


def _status(circle: Circle) -> str:
    return Circle.objects.get(pk=circle.pk).status


def _set(circle: Circle, status: str) -> None:
    Circle.objects.filter(pk=circle.pk).update(status=status, status_changed_at=None)


def test_wrong_stored_statuses_are_recomputed_from_links_and_members() -> None:
    net = make_net(["A", "B", "C", "D"], links_required=1, min_circle_size=3)
    # In the order the federation's founding allows (links.validation_rule.link_counts): D is
    # validated by A while no circle is, then validates the others itself.
    validate(net, "D", "A")  # D: a live link, but one of its three members left
    lapsed = validate(net, "C", "D")  # C: its only link is past its date, not swept yet
    validate(net, "A", "D")  # A: one live link, three members → member
    CircleLink.objects.filter(pk=lapsed.pk).update(lapses_on=timezone.localdate())
    circle_services.membership_leave(actor=net.people["D"][2], circle=net.circles["D"])
    a, b, c, d = (net.circles[n] for n in "ABCD")
    _set(a, CircleStatus.FORMING)
    for circle in (b, c, d):
        _set(circle, CircleStatus.MEMBER)

    migration.recompute_circle_status(apps, None)

    assert [_status(x) for x in (a, b, c, d)] == ["member", "forming", "forming", "forming"]
    assert all(Circle.objects.get(pk=x.pk).status_changed_at for x in (a, b, c, d))
    for circle in (a, b, c, d):  # the same answer as the app's own rule
        validated = link_tally(Circle.objects.get(pk=circle.pk)).validated
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
    assert ("links", "0003_link_counts_toward_validation") in loader.graph.nodes
    for name in ("0002_recompute_circle_status", "0003_link_counts_toward_validation"):
        assert ("links", name) in loader.applied_migrations


# --- links 0003: which existing links count, replayed in the order they were decided ------------

counting = importlib.import_module("circlework.links.migrations.0003_link_counts_toward_validation")


def _as_before(*links: CircleLink) -> None:
    """As the links were before 0003: no record of whether they count."""
    CircleLink.objects.filter(pk__in=[x.pk for x in links]).update(counts="")


def _validated_before(net: Any, asking: str, validating: str) -> CircleLink:
    now = timezone.now()
    return CircleLink.objects.create(
        federation=net.federation,
        asking_circle=net.circles[asking],
        validating_circle=net.circles[validating],
        status=LinkStatus.VALIDATED,
        decided_at=now,
        validated_on=timezone.localdate(now),
        lapses_on=timezone.localdate(now) + timedelta(days=700),
    )


def test_existing_links_count_as_the_rule_would_have_decided_them() -> None:
    """Founding circles' links count; once two circles are validated, links given by circles
    nobody validated (the sybil ring of issue 10) do not — and their circles are forming."""
    net = make_net(
        ["A", "B", "C", "D", "S1", "S2", "S3"],
        links_required=2,
        min_circle_size=3,
        no_closed_triangles=False,
    )
    founding = [
        validate(net, "A", "B"),
        validate(net, "A", "C"),  # A validated
        validate(net, "B", "C"),
        validate(net, "B", "D"),  # B validated: the federation is founded
    ]
    ring = [validate(net, "S1", "A"), validate(net, "S1", "B")]  # S1 validated, rightly
    # Refused by the services now: written as the services wrote them before.
    sybils = [_validated_before(net, "S2", "S3"), _validated_before(net, "S3", "S2")]
    _as_before(*founding, *ring, *sybils)
    Circle.objects.filter(pk__in=[net.circles["S2"].pk, net.circles["S3"].pk]).update(
        status=CircleStatus.MEMBER
    )

    counting.mark_counted_links(apps, None)

    def counts(link: CircleLink) -> str:
        return CircleLink.objects.get(pk=link.pk).counts

    assert [counts(x) for x in founding] == ["founding"] * 4
    assert [counts(x) for x in ring] == ["validated"] * 2
    assert [counts(x) for x in sybils] == ["no", "no"]
    assert [_status(net.circles[n]) for n in ("A", "B", "S1", "S2", "S3")] == [
        "member",
        "member",
        "member",
        "forming",
        "forming",
    ]
    for circle in net.circles.values():  # the same answer as the app's own rule
        validated = link_tally(Circle.objects.get(pk=circle.pk)).validated
        assert _status(circle) == ("member" if validated else "forming")
