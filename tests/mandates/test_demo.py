"""The demo's mandates: the three delegates, a coordinator ending in five weeks, a registrar."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from circlework.circles.models import Federation
from circlework.mandates.models import Mandate
from circlework.mandates.selectors import holds, mandates_held

pytestmark = pytest.mark.django_db


def test_demo_mandates() -> None:
    call_command("seed_demo", verbosity=0)
    delegates = {
        (m.circle.name, m.holder.user.email.split("@")[0])  # type: ignore[union-attr]
        for m in Mandate.objects.live().filter(role="delegate").select_related("circle", "holder")
    }
    assert delegates == {
        ("Leeds Wednesday Circle", "ruth"),
        ("York Riverside Group", "sam"),
        ("Sheffield Peer Circle", "kwame"),
    }
    federation = Federation.objects.get(slug="northern-practitioners-network")
    coordinator = Mandate.objects.live().get(federation=federation, role="coordinator")
    assert coordinator.holder.user.email == "dev@demo.circlework.org"  # type: ignore[union-attr]
    assert coordinator.ends_on == timezone.localdate() + timedelta(weeks=5)
    assert len(coordinator.handover_plan) > 100
    assert holds(coordinator.holder, "federation.notice", federation=federation)
    assert coordinator.holder is not None
    (row,) = [r for r in mandates_held(practitioner=coordinator.holder) if r.mandate == coordinator]
    assert row.ending_soon
    registrar = Mandate.objects.live().get(federation=federation, role="registrar")
    assert registrar.holder.user.email == "esther@demo.circlework.org"  # type: ignore[union-attr]
    assert Mandate.objects.filter(federation=federation, role="coordinator").count() == 2
