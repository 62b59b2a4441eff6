"""seed_scale builds a large federation in bulk: every model, a sound audit chain, the same rows
from the same seed, additive runs, grown demo circles, and pages that render."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models
from django.db.models import Count
from django.test import Client
from django.urls import reverse

from circlework.accounts.models import Practitioner
from circlework.agreements.models import Agreement, EthicsCirculation
from circlework.circles.models import Circle, Federation, Membership
from circlework.core.audit import verify
from circlework.core.crypto import EncryptedTextField
from circlework.decisions.models import Position, Proposal
from circlework.demo.scale import context
from circlework.elections.models import Election
from circlework.gatherings.models import CalendarFeed, PublicRegistration
from circlework.gatherings.services.calendars import feed_by_token
from circlework.gatherings.services.federation import (
    cancel_token,
    email_digest,
    registration_for_token,
)
from circlework.links.selectors import link_tally
from circlework.links.services.common import federation_edges
from circlework.links.validation_rule import has_triangle
from circlework.mandates.models import Mandate
from circlework.polls.models import Poll
from tests import factories

pytestmark = pytest.mark.django_db

DAY = datetime.now(UTC).date()
SMALL = {"practitioners": 60, "circles": 8, "records": 3000}


@pytest.fixture(autouse=True)
def _fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generated history leads up to a fixed day, so two runs compare row for row."""
    monkeypatch.setattr(context, "today", lambda: DAY)


def seed(seed: int = 1, **sizes: Any) -> None:
    call_command("seed_scale", verbosity=0, seed=seed, federation=None, **{**SMALL, **sizes})


def circlework_models() -> list[type[models.Model]]:
    """Every concrete model of every circlework app, as the apps define them now."""
    out: list[type[models.Model]] = []
    for config in apps.get_app_configs():
        if config.name.startswith("circlework."):
            out.extend(config.get_models())
    assert len(out) > 30
    return out


def digest() -> dict[str, str]:
    """Every row of every circlework model, in id order, but for ciphertext (Fernet is random)."""
    out = {}
    for model in [*circlework_models(), EmailAddress]:
        h = hashlib.sha256()
        fields = [
            f.attname for f in model._meta.concrete_fields if not isinstance(f, EncryptedTextField)
        ]
        for row in model._default_manager.order_by("pk").values_list(*fields):
            h.update(repr(row).encode())
        out[model._meta.label] = h.hexdigest()
    return out


def assert_invariants(federation: Federation) -> None:
    """What the app relies on, checked over everything in the database."""
    # Positions only from members who had joined when they spoke.
    late = Position.objects.filter(
        proposal__circle__memberships__practitioner=models.F("practitioner"),
        proposal__circle__memberships__joined_at__gt=models.F("created_at"),
    )
    assert not late.exists()
    # Every current position is by a member of the proposal's circle.
    outsiders = Position.objects.exclude(
        practitioner__memberships__circle=models.F("proposal__circle")
    )
    assert not outsiders.exists()
    # Every agreement points at its newest version.
    for agreement in Agreement.objects.select_related("current_version"):
        assert agreement.current_version is not None
        assert agreement.current_version.number == agreement.versions.count()
    # Each circle's status is the one its live links and members give (links' own rule), and
    # the live links close no triangle.
    for circle in Circle.objects.select_related("federation"):
        assert link_tally(circle).status == circle.status, circle.name
    edges = federation_edges(federation.pk, today=DAY, live_only=True)
    assert edges and not has_triangle(edges)
    # Live mandates: held by current members, one per role and place (every role has one seat).
    live = Mandate.objects.live(DAY)
    members = set(Membership.objects.current().values_list("circle_id", "practitioner_id"))
    for circle_id, holder_id in live.filter(circle__isnull=False).values_list(
        "circle_id", "holder_id"
    ):
        assert (circle_id, holder_id) in members
    places = list(live.values_list("role", "circle_id", "federation_id"))
    assert len(places) == len(set(places))
    # Elections: a vote under way has its ballot paper and a ballot per cast; a closed one its
    # result and the mandates it granted.
    for election in Election.objects.all():
        if election.status == "voting":
            assert election.ballot_candidates
            assert election.ballots.count() == election.casts.count() > 0
        if election.status == "closed":
            assert election.result["elected"]
            assert set(election.mandates.values_list("holder_id", flat=True)) == set(
                election.result["elected"]
            )
        if election.status == "consent":
            assert election.proposed_id is not None
    # Gatherings: a feed is found by its token, and a public registration by its cancel link's
    # token and its address's digest, as the services look them up.
    feeds = CalendarFeed.objects.filter(revoked_at__isnull=True)
    assert feeds.exists()
    for feed in feeds:
        assert feed_by_token(feed.token) == feed
    registrations = PublicRegistration.objects.filter(cancelled_at__isnull=True)
    assert registrations.exists()
    for registration in registrations:
        assert registration_for_token(cancel_token(registration)) == registration
        assert registration.email_digest == email_digest(registration.email)


def test_every_model_gets_rows_and_the_audit_chain_verifies() -> None:
    seed()
    empty = [m._meta.label for m in circlework_models() if not m._default_manager.exists()]
    assert empty == []
    users = Practitioner.objects.values_list("user_id", flat=True)
    assert EmailAddress.objects.filter(user_id__in=users, verified=True).count() == len(users)
    assert list(verify()) == []
    call_command("verify_audit", verbosity=0)


@pytest.mark.django_db(transaction=True)  # committed, so the database can be flushed between
def test_the_same_seed_gives_the_same_rows() -> None:
    # The same start: empty tables, and sequences reset (ids are chosen after the largest a
    # sequence gave, as PostgreSQL never gives an id twice).
    call_command("flush", interactive=False, verbosity=0)
    seed(seed=7)
    first = digest()
    call_command("flush", interactive=False, verbosity=0)
    seed(seed=7)
    assert digest() == first


def test_runs_add_up_and_respect_the_invariants() -> None:
    seed(seed=1)
    federation = Federation.objects.get()
    circles = Circle.objects.count()
    seed(seed=2, practitioners=30, circles=4, records=1000)
    assert Federation.objects.get() == federation  # the same federation, grown
    assert Circle.objects.count() == circles + 4
    assert_invariants(federation)
    assert list(verify()) == []


def test_on_top_of_the_demo_leeds_grows_to_a_twelve_voice_proposal_and_pages_render() -> None:
    call_command("seed_demo", verbosity=0)
    seed()
    leeds = Circle.objects.get(slug="leeds-wednesday-circle")
    members = Membership.objects.current().filter(circle=leeds).count()
    assert 12 <= members <= 14
    loud = (
        Proposal.objects.filter(circle=leeds, status="open")
        .annotate(n=Count("positions", filter=models.Q(positions__is_current=True)))
        .order_by("-n")
        .first()
    )
    assert loud is not None and loud.n >= 12
    ruth = Practitioner.objects.get(user__email="ruth@demo.circlework.org")
    assert ruth.notifications.count() >= 20
    federation = Federation.objects.get(slug="northern-practitioners-network")
    assert_invariants(federation)
    assert list(verify()) == []

    member = (
        Practitioner.objects.filter(user__email__endswith="@scale.circlework.org")
        .filter(memberships__circle__status="member", memberships__left_at__isnull=True)
        .order_by("pk")
        .first()
    )
    assert member is not None
    circle = (
        Circle.objects.filter(
            memberships__practitioner=member, memberships__left_at__isnull=True, status="member"
        )
        .order_by("pk")
        .first()
    )
    assert circle is not None
    history = (
        Agreement.objects.filter(circle=leeds)
        .annotate(n=Count("versions"))
        .order_by("-n", "pk")
        .first()
    )
    assert history is not None and history.n >= 5
    proposal = Proposal.objects.filter(circle=circle).order_by("pk").first()
    poll = Poll.objects.filter(circle=circle).order_by("pk").first()
    circle_election = Election.objects.filter(circle=circle).order_by("pk").first()
    federation_election = Election.objects.filter(federation=federation, status="voting").first()
    circulation = EthicsCirculation.objects.order_by("pk").first()
    assert proposal and poll and circle_election and federation_election and circulation
    client = Client()
    pages_for_ruth = [
        reverse("home"),
        leeds.get_absolute_url(),
        loud.get_absolute_url(),
        history.get_absolute_url(),
        reverse("decisions:proposal_list", kwargs={"slug": leeds.slug}),
        reverse("standing:standing_page", kwargs={"slug": leeds.slug}),
        reverse("links:circle_links", kwargs={"slug": leeds.slug}),
        reverse("mandates:circle_mandates", kwargs={"slug": leeds.slug}),
        reverse("notifications:inbox"),
        federation.get_absolute_url(),
        reverse("links:federation_map", kwargs={"slug": federation.slug}),
        federation_election.get_absolute_url(),
        reverse("mandates:federation_notices", kwargs={"slug": federation.slug}),
        reverse("decisions:federation_proposal_list", kwargs={"slug": federation.slug}),
        reverse("agreements:ethics_register", kwargs={"slug": federation.slug}),
        circulation.get_absolute_url(),
        reverse("accounts:practitioner_detail", kwargs={"pk": member.pk}),
    ]
    pages_for_member = [
        reverse("home"),
        circle.get_absolute_url(),
        proposal.get_absolute_url(),
        reverse("decisions:proposal_list", kwargs={"slug": circle.slug}),
        poll.get_absolute_url(),
        circle_election.get_absolute_url(),
        reverse("standing:standing_page", kwargs={"slug": circle.slug}),
        reverse("links:circle_links", kwargs={"slug": circle.slug}),
        reverse("agreements:agreement_list", kwargs={"slug": circle.slug}),
        reverse("notifications:inbox"),
        reverse("accounts:practitioner_detail", kwargs={"pk": ruth.pk}),
    ]
    for who, pages in ((ruth, pages_for_ruth), (member, pages_for_member)):
        client.force_login(who.user)
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, (who.display_name, url, response.status_code)
    client.logout()
    assert client.get("/api/v1/circles").status_code == 200
    assert (
        client.get(
            reverse("agreements:ethics_register", kwargs={"slug": federation.slug})
        ).status_code
        == 200
    )


def test_refuses_a_database_with_real_accounts_unless_forced() -> None:
    factories.make_practitioner("Real Person")
    before = Practitioner.objects.count()
    with pytest.raises(CommandError, match="not demo or generated"):
        call_command("seed_scale", practitioners=5, circles=2, records=50, seed=3, verbosity=0)
    assert Practitioner.objects.count() == before
    call_command(
        "seed_scale", practitioners=5, circles=2, records=50, seed=3, force=True, verbosity=0
    )
    assert Practitioner.objects.count() > before
