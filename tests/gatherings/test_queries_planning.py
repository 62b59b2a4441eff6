"""Query counts of the planning pages that do not grow with the data: a circle's gatherings,
a gathering's page, the circle's overview and the home page, drawn (not handed out as kept)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from circlework.gatherings.models import Gathering
from circlework.gatherings.services import meeting, planning
from circlework.gatherings.services.planning import When
from tests import factories
from tests.conftest import login
from tests.pages import drawn_cost

pytestmark = pytest.mark.django_db


def _plan(actor: Any, circle: Any, *, days: float, rule: str = "", title: str = "M") -> Gathering:
    start = (timezone.now() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return planning.gathering_plan(
        actor=actor,
        circle=circle,
        title=title,
        when=When(start, start + timedelta(hours=2), "Europe/London", rule),
        place="Room 4",
    )


@pytest.fixture
def world(federation: Any) -> dict[str, Any]:
    ana, ben = factories.make_practitioner("Ana"), factories.make_practitioner("Ben")
    circle = factories.make_circle(founder=ana, federation=federation, members=[ben])
    gathering = _plan(ana, circle, days=3, rule="FREQ=WEEKLY", title="Weekly")
    _plan(ana, circle, days=-1, title="Held")  # a past page to read (an empty one is not read)
    return {"ana": ana, "ben": ben, "circle": circle, "gathering": gathering}


def _grow(world: dict[str, Any], n: int) -> None:
    """n more of everything the pages list: members, repeating and one-off gatherings, past
    meetings, cancelled and moved meetings, answers."""
    ana, circle = world["ana"], world["circle"]
    for i in range(n):
        factories.add_member(circle, factories.make_practitioner(), inviter=ana)
        repeating = _plan(ana, circle, days=2 + i, rule="FREQ=MONTHLY", title=f"Monthly {i}")
        first, second = repeating.occurrences.order_by("starts_at")[:2]
        planning.occurrence_cancel(actor=ana, occurrence=first, reason="Snow")
        moved = second.starts_at + timedelta(days=1)
        planning.occurrence_move(
            actor=ana, occurrence=second, starts_at=moved, ends_at=moved + timedelta(hours=1)
        )
        _plan(ana, circle, days=-(i + 2), title=f"Past {i}")
        once = _plan(ana, circle, days=1 + i / 10, title=f"Once {i}")
        meeting.attendance_answer(
            actor=world["ben"], occurrence=once.occurrences.get(), answer="yes"
        )


def _costs(client: Client, urls: list[str]) -> list[int]:
    return [drawn_cost(client, url)[0] for url in urls]


def test_the_planning_pages_cost_the_same_with_more_data(
    client: Client, world: dict[str, Any]
) -> None:
    login(client, world["ben"])
    urls = [
        reverse("gatherings:gathering_list", kwargs={"slug": world["circle"].slug}),
        world["gathering"].get_absolute_url(),
        world["circle"].get_absolute_url(),
        "/",
    ]
    before = _costs(client, urls)
    _grow(world, 3)
    assert _costs(client, urls) == before
    _grow(world, 4)
    assert _costs(client, urls) == before
    assert before[0] <= 14 and before[1] <= 14, before


def test_the_past_meetings_are_paged(client: Client, world: dict[str, Any]) -> None:
    for i in range(21):
        _plan(world["ana"], world["circle"], days=-(i + 1), title=f"Past {i}")
    login(client, world["ben"])
    url = reverse("gatherings:gathering_list", kwargs={"slug": world["circle"].slug})
    first = client.get(url)
    assert len(first.context["past_meetings"]) == 20
    assert "Page 1 of 2" in first.content.decode()
    second = client.get(url, {"page": "2"})
    assert [m.occurrence.gathering.title for m in second.context["past_meetings"]] == [
        "Past 19",
        "Past 20",
    ]
    assert client.get(url, {"page": "99"}).context["past"].number == 2
