"""A delegates' election: its electorate is the holders of live mandates granting the circle's
voice in the federation (DELEGATE_PERMISSION in the mandate's list) who still belong to the
circle they speak for. Issue 13 reads only the mandates whose list, as text, names that
permission; the list itself still decides, so a permission merely containing the name does not."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from circlework.circles.models import Membership
from circlework.elections import selectors
from circlework.elections.models import Election, Electorate
from circlework.mandates.models import Mandate
from tests import factories
from tests.elections.conftest import later

P = selectors.DELEGATE_PERMISSION


def test_the_delegates_are_those_whose_mandate_grants_the_voice(world: dict[str, Any]) -> None:
    oak, elm = world["oak"], world["elm"]
    # One mandate granted in each circle, the others copied from it (a role's seats are few).
    first = {
        c.pk: factories.grant_mandate("delegate", world[n], circle=c)
        for n, c in (("Ana", oak), ("Eve", elm))
    }
    granted = {}
    for name, circle, permissions in (
        ("Ana", oak, [P]),
        ("Ben", oak, ["elections.facilitate", P]),
        ("Cy", oak, [P + "_elsewhere"]),  # another permission, its name longer
        ("Dee", oak, []),
        ("Eve", elm, [P]),  # left the circle she spoke for, below
        ("Fay", elm, [P]),  # her mandate ended early, below
    ):
        mandate = first[circle.pk]
        if mandate.holder_id != world[name].pk:
            mandate = Mandate.objects.get(pk=mandate.pk)
            mandate.pk, mandate.holder = None, world[name]
            mandate.save()
        Mandate.objects.filter(pk=mandate.pk).update(permissions=permissions)
        granted[name] = mandate
    Membership.objects.current().filter(circle=elm, practitioner=world["Eve"]).update(
        left_at=timezone.now()
    )
    Mandate.objects.filter(pk=granted["Fay"].pk).update(ended_early_at=timezone.now())
    election = Election.objects.create(
        federation=world["federation"],
        electorate=Electorate.DELEGATES,
        role="coordinator",
        method="stv",
        status="voting",
        nominations_close_at=later(-1),
        voting_closes_at=later(10),
        term_starts_on=timezone.localdate(),
        term_ends_on=timezone.localdate().replace(year=timezone.localdate().year + 1),
    )
    assert selectors.electorate_ids(election) == {world["Ana"].pk, world["Ben"].pk}
    for name in ("Ana", "Ben", "Cy", "Eve"):
        inside = selectors.my_electorates(world[name], [election]) == {election.pk}
        assert inside == (name in ("Ana", "Ben")), name
