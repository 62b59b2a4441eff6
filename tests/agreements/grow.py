"""Many rows at once, for the tests that a page costs the same at two sizes (issue 13).

The first of each kind of record goes through the services (the tests do that); the many more
are rows as the services would leave them, made directly: one service call each would take
minutes."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from circlework.accounts.models import Practitioner, User
from circlework.agreements.models import Agreement, AgreementVersion
from circlework.circles.models import Circle, Federation, Membership
from circlework.decisions.models import Outcome, Proposal, ProposalStatus, ProposalVersion

_seq = itertools.count(1)


def people(count: int, *, circle: Circle | None = None, name: str = "Person") -> list[Practitioner]:
    """`count` practitioners (names shown to their federation), members of `circle` if given."""
    numbers = [next(_seq) for _ in range(count)]
    users = User.objects.bulk_create(
        [User(email=f"grown-{n}@example.org", password="!") for n in numbers]
    )
    made = Practitioner.objects.bulk_create(
        [
            Practitioner(
                user=u, display_name=f"{name} {n:05d}", display_name_visibility="federation"
            )
            for n, u in zip(numbers, users, strict=True)
        ]
    )
    if circle is not None:
        Membership.objects.bulk_create([Membership(circle=circle, practitioner=p) for p in made])
    return made


def circles(
    federation: Federation, count: int, *, status: str = "member", visibility: str = "public"
) -> list[Circle]:
    """`count` circles of the federation, validated (status member) and public by default."""
    numbers = [next(_seq) for _ in range(count)]
    return Circle.objects.bulk_create(
        [
            Circle(
                federation=federation,
                name=f"Grown circle {n:05d}",
                slug=f"grown-circle-{n}",
                purpose="Peer review.",
                status=status,
                visibility=visibility,
            )
            for n in numbers
        ]
    )


def decided(circle: Circle, count: int, *, title: str = "A decision") -> list[Outcome]:
    """`count` closed proposals of the circle, each with its (passed) outcome."""
    now = timezone.now()
    proposals = Proposal.objects.bulk_create(
        [
            Proposal(
                circle=circle,
                title=f"{title} {i}",
                text="Decided.",
                closes_at=now - timedelta(days=1),
                status=ProposalStatus.CLOSED,
            )
            for i in range(count)
        ]
    )
    ProposalVersion.objects.bulk_create(
        [ProposalVersion(proposal=p, number=1, title=p.title, text=p.text) for p in proposals]
    )
    return Outcome.objects.bulk_create(
        [
            Outcome(
                proposal=p,
                passed=True,
                statement="Agreed.",
                reason="Every voice heard.",
                rule="consent",
                decided_at=now,
            )
            for p in proposals
        ]
    )


def versions(agreement: Agreement, count: int, *, text: str = "Version {n}.") -> None:
    """`count` more adopted versions of the agreement, each by its own decision; the last is
    current."""
    start = agreement.versions.count() + 1
    outcomes = decided(agreement.circle, count, title=f"Revise {agreement.title}")
    made = AgreementVersion.objects.bulk_create(
        [
            AgreementVersion(
                agreement=agreement,
                number=start + i,
                text=text.format(n=start + i),
                adopted_by=outcome,
                adopted_at=timezone.now() + timedelta(seconds=i),
            )
            for i, outcome in enumerate(outcomes)
        ]
    )
    Agreement.objects.filter(pk=agreement.pk).update(current_version=made[-1])
    agreement.refresh_from_db()


def agreements(
    circles_: list[Circle],
    *,
    kind: str,
    text: str,
    visibility: str = "public",
    borrowed_from: AgreementVersion | None = None,
) -> list[Agreement]:
    """One adopted agreement (version 1) in each circle."""
    made = Agreement.objects.bulk_create(
        [
            Agreement(
                circle=c,
                kind=kind,
                title=f"{c.name}'s {kind}",
                visibility=visibility,
                borrowed_from=borrowed_from,
            )
            for c in circles_
        ]
    )
    outcomes = [decided(c, 1)[0] for c in circles_]
    made_versions = AgreementVersion.objects.bulk_create(
        [
            AgreementVersion(
                agreement=a, number=1, text=text, adopted_by=o, adopted_at=timezone.now()
            )
            for a, o in zip(made, outcomes, strict=True)
        ]
    )
    for a, v in zip(made, made_versions, strict=True):
        a.current_version = v
    Agreement.objects.bulk_update(made, ["current_version"])
    return made
