"""The covenant's recommended circle size: a gentle note past it, never a block (issue 11)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from circlework.circles.covenant import (
    covenant_parameters_check,
    federation_rules,
    rules_from,
    rules_in_words,
)
from circlework.circles.models import CovenantVersion
from circlework.core.errors import InvalidInput
from circlework.core.visibility import Visibility
from circlework.decisions.forms import FederationProposalForm
from tests import factories
from tests.links.helpers import make_federation, make_net

pytestmark = pytest.mark.django_db

NOTE = 'id="circle-size-note"'


def _client(person: Any = None) -> Client:
    client = Client()
    if person is not None:
        client.force_login(person.user)
    return client


def test_the_covenant_recommends_eight_by_default_and_says_so() -> None:
    rules = rules_from({})
    assert rules.recommended_max_circle_size == 8
    assert "circles usually have no more than 8 members (a guide, not a limit)" in (
        rules_in_words(rules)
    )
    assert rules_from({"recommended_max_circle_size": 6}).recommended_max_circle_size == 6


def test_a_covenant_may_set_it_within_sense() -> None:
    clean = covenant_parameters_check({"recommended_max_circle_size": 10})
    assert clean["recommended_max_circle_size"] == 10
    for bad in (3, 0, 99, "eight", True):  # below the minimum circle size (4), or not a number
        with pytest.raises(InvalidInput) as err:
            covenant_parameters_check({"recommended_max_circle_size": bad})
        assert "recommended_max_circle_size" in err.value.fields


def test_past_the_recommended_size_the_circle_sees_a_gentle_note() -> None:
    net = make_net(["Big"], size=9)
    big = net.circles["Big"]
    assert federation_rules(net.federation).recommended_max_circle_size == 8
    body = _client(net.first("Big")).get(big.get_absolute_url()).content.decode()
    assert NOTE in body and "Your circle has 9 members" in body and "within 8" in body
    # Only for the circle: its public page shows no note.
    big.visibility = Visibility.PUBLIC
    big.save(update_fields=["visibility"])
    public = _client().get(big.get_absolute_url())
    assert public.status_code == 200 and "9 members" not in public.content.decode()
    assert NOTE not in public.content.decode()
    # Not a block: a tenth member still joins.
    tenth = factories.make_practitioner("Tenth")
    factories.add_member(big, tenth)
    assert "Your circle has 10 members" in (
        _client(tenth).get(big.get_absolute_url()).content.decode()
    )


def test_at_or_below_the_recommended_size_there_is_no_note() -> None:
    net = make_net(["Eight"], size=8)
    body = _client(net.first("Eight")).get(net.circles["Eight"].get_absolute_url())
    assert NOTE not in body.content.decode()


def test_the_covenant_sets_the_size_the_note_uses() -> None:
    federation = make_federation()
    covenant = CovenantVersion.objects.filter(federation=federation).latest("number")
    covenant.parameters = {**covenant.parameters, "recommended_max_circle_size": 5}
    covenant.save(update_fields=["parameters"])
    net = make_net(["Six"], size=6, federation=federation)
    body = _client(net.first("Six")).get(net.circles["Six"].get_absolute_url()).content.decode()
    assert NOTE in body and "within 5" in body


def test_a_covenant_revision_offers_the_size_and_carries_a_new_one() -> None:
    federation = make_federation()
    net = make_net(["Six"], size=6, federation=federation)
    circles = net.circles["Six"].__class__.objects.filter(pk=net.circles["Six"].pk)
    factories.validate_circle(net.circles["Six"], *net.people["Six"][:2])
    form = FederationProposalForm(
        {
            "circle": net.circles["Six"].pk,
            "title": "Smaller circles",
            "text": "Circles stay small.",
            "closes_at": "2099-01-01T10:00",
            "revise_covenant": "on",
            "covenant_text": "Circles of four to six.",
            "recommended_max_circle_size": "6",
        },
        circles=circles,
    )
    assert form.is_valid(), form.errors
    assert (form.covenant_revision()[1] or {})["recommended_max_circle_size"] == 6
    # The page's form shows today's number to change.
    page = _client(net.first("Six")).get(f"/federations/{federation.slug}/decisions/new/")
    body = page.content.decode()
    assert page.status_code == 200, body[:300]
    assert 'name="recommended_max_circle_size"' in body and 'value="8"' in body
