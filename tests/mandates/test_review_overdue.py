"""A mandate whose review date has passed is flagged "review overdue" — to its holder on their
home page, and to the circle on the mandate's page, the circle's page and its mandates page —
for as long as it stays live (not only in the month around the review)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from circlework.mandates.selectors import mandates_held
from tests import factories
from tests.conftest import login
from tests.mandates.conftest import noon

pytestmark = pytest.mark.django_db

OVERDUE = "review overdue"


def _get(client: Client, who: Any, url: str) -> str:
    login(client, who)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_an_overdue_review_is_flagged_to_the_holder_and_the_circle(
    client: Client, world: dict[str, Any]
) -> None:
    m = factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    circle_pages = (
        m.get_absolute_url(),
        world["ca"].get_absolute_url(),
        f"/circles/{world['ca'].slug}/mandates/",
    )
    assert OVERDUE not in _get(client, world["a2"], "/")
    # Two months after the review date, well past the month in which it shows as "due".
    with time_machine.travel(noon(m.review_on + timedelta(days=60)), tick=False):
        (row,) = mandates_held(practitioner=world["a2"])
        assert row.review_overdue and not row.review_due
        home = _get(client, world["a2"], "/")
        assert f"review overdue since {m.review_on:%-d %b %Y}" in home
        for url in circle_pages:  # another member of the circle sees it too
            assert OVERDUE in _get(client, world["a3"], url), url
        assert OVERDUE not in _get(client, world["a1"], "/")  # not theirs to review
    # On the review day itself it is due, not yet overdue.
    with time_machine.travel(noon(m.review_on), tick=False):
        home = _get(client, world["a2"], "/")
        assert "review due" in home and OVERDUE not in home
    # Once the mandate has ended, there is nothing left to review.
    with time_machine.travel(noon(m.ends_on), tick=False):
        assert OVERDUE not in _get(client, world["a3"], m.get_absolute_url())


def test_a_federation_officers_overdue_review_shows_on_the_federation_mandates_page(
    client: Client, world: dict[str, Any]
) -> None:
    m = factories.grant_mandate("coordinator", world["a1"], federation=world["federation"])
    with time_machine.travel(noon(m.review_on + timedelta(days=45)), tick=False):
        body = _get(client, world["b1"], f"/federations/{world['federation'].slug}/mandates/")
        assert OVERDUE in body
        assert OVERDUE in _get(client, world["a1"], "/")
