"""The circle's mandates page links to its elections only for those who may open that page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _as(person: Any) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def test_the_elections_link_is_shown_only_to_those_who_may_follow_it(
    world: dict[str, Any],
) -> None:
    oak = world["oak"]
    mandates = reverse("mandates:circle_mandates", kwargs={"slug": oak.slug})
    elections = reverse("elections:election_list_circle", kwargs={"slug": oak.slug})
    member = _as(world["Ben"])
    response = member.get(mandates)
    assert response.status_code == 200 and elections in response.content.decode()
    assert member.get(elections).status_code == 200
    # A member of another circle in the federation sees Oak's mandates, not its elections.
    other = _as(world["Fay"])
    response = other.get(mandates)
    assert response.status_code == 200
    assert elections not in response.content.decode()
    assert other.get(elections).status_code == 403
