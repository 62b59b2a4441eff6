"""What elections brings to the site-level pages (circlework.core.contributions): the elections
waiting for the practitioner on the home page, their part in elections in "Download
everything", and the circle's elections in its backup."""

from __future__ import annotations

from typing import Any

from circlework.accounts.models import Practitioner
from circlework.core.contributions import (
    BackupPart,
    BackupSeed,
    ExportPart,
    HomeSection,
    each,
    namer,
    register_backup_part,
    register_export_part,
    register_home_section,
    scope_name,
    when,
)
from circlework.elections.models import Ballot, BallotCast, ConsentResponse, Election, Nomination
from circlework.elections.selectors import awaiting_me


def _awaiting(practitioner: Practitioner, user: Any) -> dict[str, Any] | None:
    elections = awaiting_me(practitioner=practitioner, user=user)
    return {"elections": elections} if elections else None


def _on_election(e: Election) -> dict[str, Any]:
    return {"election": e.role, "in": scope_name(e)}


def _election(e: Election) -> dict[str, Any]:
    return {
        "role": e.role,
        "in": scope_name(e),
        "status": e.status,
        "created_at": when(e.created_at),
    }


def _export(practitioner: Practitioner) -> dict[str, Any]:
    p = practitioner
    scope = ("circle", "federation")
    election = ("election__circle", "election__federation")
    # Rows first (one query each), then everyone they name, named in one go.
    opened = list(Election.objects.filter(opened_by=p).select_related(*scope).order_by("pk"))
    facilitated = list(Election.objects.filter(facilitator=p).select_related(*scope).order_by("pk"))
    proposed = list(Election.objects.filter(proposed=p).select_related(*scope).order_by("pk"))
    received = list(Nomination.objects.filter(nominee=p).select_related(*election).order_by("pk"))
    made = list(Nomination.objects.filter(nominated_by=p).select_related(*election).order_by("pk"))
    consents = list(
        ConsentResponse.objects.filter(voter=p).select_related(*election).order_by("pk")
    )
    ballots = list(Ballot.objects.filter(voter=p).select_related(*election).order_by("pk"))
    cast = list(BallotCast.objects.filter(voter=p).select_related(*election).order_by("pk"))
    name = namer(
        p.user,
        [n.nominated_by_id for n in received]
        + [n.nominee_id for n in made]
        + [r.candidate_id for r in consents]
        + [int(c) for b in ballots for c in b.choices or []],
    )
    return {
        "elections_opened": each(opened, _election),
        "elections_facilitated": each(facilitated, _election),
        "elections_proposed_as_candidate": each(proposed, _election),
        "nominations_received": each(
            received,
            lambda n: {
                **_on_election(n.election),
                "nominated_by": name(n.nominated_by_id),
                "reason": n.reason,
                "accepted": n.accepted,
                "current": n.is_current,
                "created_at": when(n.created_at),
            },
        ),
        "nominations_made": each(
            made,
            lambda n: {
                **_on_election(n.election),
                "nominee": name(n.nominee_id),
                "reason": n.reason,
                "accepted": n.accepted,
                "current": n.is_current,
                "created_at": when(n.created_at),
            },
        ),
        "consent_responses": each(
            consents,
            lambda r: {
                **_on_election(r.election),
                "candidate": name(r.candidate_id),
                "stance": r.stance,
                "reason": r.reason,
                "current": r.is_current,
                "created_at": when(r.created_at),
            },
        ),
        # Only ballots of elections that were not secret name their voter.
        "election_ballots": each(
            ballots,
            lambda b: {
                **_on_election(b.election),
                "choices": [name(int(c)) for c in b.choices or []],
            },
        ),
        "votes_cast": each(
            cast, lambda b: {**_on_election(b.election), "cast_at": when(b.cast_at)}
        ),
    }


def _circle_seeds(circle: Any) -> list[BackupSeed]:
    """The circle's own elections with their nominations, consents, ballots and who voted;
    the federation's stay with the federation."""
    elections = Election.objects.filter(circle=circle)
    return [
        (Election, elections),
        (Nomination, Nomination.objects.filter(election__in=elections)),
        (ConsentResponse, ConsentResponse.objects.filter(election__in=elections)),
        (Ballot, Ballot.objects.filter(election__in=elections)),
        (BallotCast, BallotCast.objects.filter(election__in=elections)),
    ]


def register() -> None:
    register_home_section(
        HomeSection(
            key="elections.awaiting",
            order=30,
            template="elections/home_sections.html#awaiting",
            context=_awaiting,
        )
    )
    # Secret election ballots carry no reference to their voter by design (elections.Ballot.voter
    # is empty for them); `votes_cast` records that you voted, never how.
    register_export_part(
        ExportPart(
            key="elections",
            order=120,
            build=_export,
            exported={
                "elections.Election.opened_by": "elections_opened",
                "elections.Election.facilitator": "elections_facilitated",
                "elections.Election.proposed": "elections_proposed_as_candidate",
                "elections.Nomination.nominee": "nominations_received",
                "elections.Nomination.nominated_by": "nominations_made",
                "elections.ConsentResponse.voter": "consent_responses",
                "elections.Ballot.voter": "election_ballots",
                "elections.BallotCast.voter": "votes_cast",
            },
            not_exported={
                "elections.ConsentResponse.candidate": (
                    "Other electors' consents and objections to you as a candidate: their "
                    "answers, not yours. The election's page shows them to those it shows them to."
                ),
            },
        )
    )
    register_backup_part(BackupPart(key="elections", order=100, circle_seeds=_circle_seeds))
