"""The demo federation tells the one story of ../shared/DEMO.md."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from circlework.agreements.models import Agreement
from circlework.circles.models import Circle, Invitation, Membership
from circlework.decisions.models import Proposal
from circlework.decisions.selectors import verdict_for
from circlework.mandates.models import Mandate

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_the_story() -> None:
    call_command("seed_demo", verbosity=0)
    assert Circle.objects.count() == 4
    assert Circle.objects.get(name="Manchester Forming Circle").status == "forming"
    assert Circle.objects.filter(status="member").count() == 3
    dev_circles = Membership.objects.current().filter(
        practitioner__user__email="dev@demo.circlework.org"
    )
    assert dev_circles.count() == 2
    assert Invitation.objects.filter(status="pending").count() == 3
    revision = Proposal.objects.get(title="Revise our competence criteria")
    verdict = verdict_for(revision)
    assert len(verdict.missing) == 1 and verdict.counts["stand_aside"] == 1
    sheffield = Agreement.objects.get(
        circle__name="Sheffield Peer Circle", kind="conflict_procedure"
    )
    assert sheffield.borrowed_from is not None
    assert sheffield.borrowed_from.agreement.circle.name == "York Riverside Group"
    assert (
        Agreement.objects.filter(circle__name="Leeds Wednesday Circle", title="Meeting procedure")
        .get()
        .review_due
        is not None
    )
    from circlework.polls.models import Poll

    assert set(Poll.objects.values_list("kind", flat=True)) == {"time", "ranked"}
    from circlework.standing.selectors import circle_is_full

    assert circle_is_full(Circle.objects.get(name="Manchester Forming Circle"))
    assert not circle_is_full(Circle.objects.get(name="Leeds Wednesday Circle"))
    from circlework.decisions.models import CirclePosition, FederationProposal

    gathering = FederationProposal.objects.get()
    assert (
        CirclePosition.objects.filter(federation_proposal=gathering, is_current=True).count() == 2
    )
    assert Mandate.objects.live().filter(role="delegate").count() == 3
    _gatherings_are_in_the_story()
    # Loading again changes nothing.
    call_command("seed_demo", verbosity=0)
    assert Circle.objects.count() == 4


def _gatherings_are_in_the_story() -> None:
    """DEMO.md: each circle's next meeting with an agenda (Leeds's repeats monthly), minutes
    waiting for Ruth's confirmation, a federation gathering with a programme, and a welcome
    ceremony for Manchester's newest member."""
    from django.utils import timezone

    from circlework.gatherings.models import (
        AgendaItem,
        Gathering,
        MinutesState,
        Occurrence,
        ProgrammeSession,
    )

    now = timezone.now()
    for circle in Circle.objects.all():
        coming = (
            Occurrence.objects.filter(gathering__circle=circle, starts_at__gte=now)
            .order_by("starts_at")
            .first()
        )
        assert coming is not None, circle.name
        assert AgendaItem.objects.filter(occurrence=coming, state="on").exists(), circle.name
    leeds = Gathering.objects.get(circle__name="Leeds Wednesday Circle")
    assert leeds.recurrence.startswith("FREQ=MONTHLY")
    waiting = Occurrence.objects.get(gathering=leeds, minutes_state=MinutesState.AWAITING)
    assert waiting.minutes_versions.count() == 2
    assert not waiting.minutes_confirmations.filter(
        practitioner__user__email="ruth@demo.circlework.org", version=2
    ).exists()
    spring = Gathering.objects.get(circle__isnull=True, link__isnull=True)
    assert spring.is_public
    assert ProgrammeSession.objects.filter(gathering=spring, state="accepted").count() == 3
    welcome = AgendaItem.objects.get(
        kind="ceremony", occurrence__gathering__circle__name="Manchester Forming Circle"
    )
    assert welcome.state == "on" and welcome.agreement is not None
    assert Gathering.objects.filter(link__isnull=False).count() == 1
