"""Every key page of bench/pages.py keeps its queries and its size when the federation grows.

The demo (seed_demo) is measured, then `seed_scale` adds a federation's worth of circles,
practitioners and records to it (more than any page shows at once), and every page is measured
again: the same number of queries (none per row), at most 12, and at most 60 KB of HTML or JSON.
The data is built once for the module inside a transaction that is rolled back at the end.
Times are the benchmark's business (make bench), never a test's.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from bench import pages as key
from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle
from circlework.notifications.models import Notification

# Larger than any page at once (a map of 120 circles, an inbox of hundreds), built in < 60 s.
SCALE = {"practitioners": 600, "circles": 120, "records": 30_000, "seed": 1}
NAMES = [p.name for p in key.PAGES]

# The tests read what the module's fixture measured; the marker makes pytest-django set up the
# test database that fixture builds in.
pytestmark = pytest.mark.django_db


def _measure_all(visitors: key.Visitors) -> dict[str, key.Measure | Exception]:
    found: dict[str, key.Measure | Exception] = {}
    for page in key.PAGES:
        try:
            found[page.name] = key.measure(visitors, page)
        except Exception as exc:  # one broken page fails its own tests, not every page's
            found[page.name] = exc
    return found


def _data() -> dict[str, int]:
    ruth = Practitioner.objects.get(user__email=key.RUTH)
    return {
        "federation_circles": Circle.objects.filter(federation__slug=key.FEDERATION).count(),
        "ruth_notifications": Notification.objects.filter(recipient=ruth).count(),
        "practitioners": Practitioner.objects.count(),
    }


@pytest.fixture(scope="module")
def measured(django_db_setup: None, django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", verbosity=0)
        visitors = key.Visitors()
        small = _measure_all(visitors)
        data_small = _data()
        call_command("seed_scale", verbosity=0, **SCALE)
        large = _measure_all(visitors)
        data_large = _data()
        transaction.set_rollback(True)
    return {"small": small, "large": large, "data": {"small": data_small, "large": data_large}}


def _at(measured: dict[str, Any], size: str, name: str) -> key.Measure:
    m: key.Measure | Exception = measured[size][name]
    if isinstance(m, Exception):
        raise AssertionError(f"{name} at the {size} size: {type(m).__name__}: {m}") from m
    assert m.status == 200, f"{name} at the {size} size answered {m.status} ({m.url})"
    return m


def test_the_large_size_is_more_than_a_page_of_anything(measured: dict[str, Any]) -> None:
    """Else the same queries at both sizes would prove nothing: more circles than the map's
    table shows (50 a page), inbox pages (20) and election electorates (100) to spare."""
    small, large = measured["data"]["small"], measured["data"]["large"]
    assert large["federation_circles"] >= small["federation_circles"] + 100
    assert large["ruth_notifications"] >= 50
    assert large["practitioners"] >= small["practitioners"] + 500


@pytest.mark.parametrize("name", NAMES)
def test_queries_do_not_grow_with_the_federation(measured: dict[str, Any], name: str) -> None:
    small, large = _at(measured, "small", name), _at(measured, "large", name)
    added = [sql for sql in large.statements if sql not in small.statements]
    assert large.queries == small.queries, (
        f"{name}: {small.queries} queries on the demo, {large.queries} with seed_scale; "
        f"new statements: {added[:3]}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_at_most_12_queries(measured: dict[str, Any], name: str) -> None:
    worst = max(_at(measured, size, name).queries for size in ("small", "large"))
    assert worst <= key.MAX_QUERIES, f"{name}: {worst} queries"


@pytest.mark.parametrize("name", NAMES)
def test_at_most_60_kb_at_the_large_size(measured: dict[str, Any], name: str) -> None:
    m = _at(measured, "large", name)
    assert m.bytes <= key.MAX_BYTES, f"{name} ({m.url}): {m.bytes / 1024:.1f} KB"
