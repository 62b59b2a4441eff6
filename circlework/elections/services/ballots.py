"""Ballots in ranked and approval elections: cast once, checked against the ballot paper; a
secret election's ballots are rewritten in content order at each cast.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.roles import Method
from circlework.core import deadlines, names
from circlework.core.errors import Conflict, NotAllowed
from circlework.core.permissions import allowed
from circlework.elections import selectors
from circlework.elections.models import Ballot, BallotCast, Election, ElectionStatus, Electorate
from circlework.elections.services.common import field_error, lock_election, record, when_text


def _ballot_choices(election: Election, choices: Any) -> list[int]:
    """Check a ballot against the method and the candidates; return it as stored."""
    ranked = election.method in Method.RANKED
    field = "ranking" if ranked else "approved"
    if not isinstance(choices, list | tuple | set | frozenset):
        raise field_error(field, _("Choose among the candidates."))
    items = list(choices)
    # True == 1 in Python: insist on real ids before comparing.
    if any(isinstance(c, bool) or not isinstance(c, int) for c in items):
        raise field_error(field, _("Choose among the candidates."))
    known = set(selectors.candidate_ids(election))
    if not items:
        msg = (
            _("Rank at least your first choice.")
            if ranked
            else _("Approve at least one candidate.")
        )
        raise field_error(field, msg)
    if not set(items) <= known:
        raise field_error(field, _("Choose only among this election's candidates."))
    if ranked:
        if len(set(items)) != len(items):
            raise field_error(field, _("Rank each candidate at most once."))
        return items
    return sorted(set(items))


@transaction.atomic
def ballot_cast(*, actor: Practitioner, election: Election, choices: Sequence[int]) -> BallotCast:
    """Cast a ballot: ranked, candidate ids in order of preference (at least one, no repeats);
    approval, the ids approved. Once only: a ballot cannot be changed. In a secret election
    the ballot does not record its voter; `BallotCast` records that they voted."""
    if not allowed("elections.view_election", actor.user, election):
        raise NotAllowed()
    if not allowed("elections.vote", actor.user, election):
        raise NotAllowed(_electorate_refusal(election))
    election = lock_election(election)
    if election.method == Method.CONSENT:
        raise Conflict(_("This is a consent election: consent or object instead of voting."))
    now = timezone.now()
    if election.status == ElectionStatus.NOMINATING:
        raise Conflict(
            _("Voting has not started: nominations close at %(d)s.")
            % {"d": when_text(election.nominations_close_at)}
        )
    if election.status != ElectionStatus.VOTING or deadlines.is_past(
        election.voting_closes_at, now
    ):
        raise Conflict(
            _("Voting closed at %(d)s; ballots are no longer accepted.")
            % {"d": when_text(election.voting_closes_at)}
        )
    if BallotCast.objects.filter(election=election, voter=actor).exists():
        raise Conflict(_("You have already voted in this election. A ballot cannot be changed."))
    stored = _ballot_choices(election, choices)
    try:
        with transaction.atomic():
            cast = BallotCast.objects.create(election=election, voter=actor)
    except IntegrityError as exc:  # a second ballot racing the first
        raise Conflict(
            _("You have already voted in this election. A ballot cannot be changed.")
        ) from exc
    Ballot.objects.create(
        election=election, choices=stored, voter=None if election.secret else actor
    )
    if election.secret:
        _reshuffle_secret_ballots(election)
    record(
        election,
        actor=actor,
        verb="election.ballot_cast",
        target=cast,
        summary=names.text(_("%(who)s voted"), who=names.person(actor)),
        data={"election": election.pk}
        if election.secret
        else {"election": election.pk, "choices": stored},
    )
    return cast


def _reshuffle_secret_ballots(election: Election) -> None:
    """Rewrite all of a secret election's ballots in the order of their content, with new random
    ids, in the casting transaction (the election row is locked). Otherwise the order rows are
    stored in (SQLite's rowid, PostgreSQL's physical order) and the transaction that wrote each
    (PostgreSQL's xmin, shared with its `BallotCast`) would tie a ballot to its voter. After this
    every ballot sits in content order and bears the latest cast's transaction. A rewrite per
    cast costs a few hundred rows at most: electorates are circles and federations."""
    ballots = sorted(
        (list(choices) for choices in election.ballots.values_list("choices", flat=True)),
        key=selectors.ballot_order,
    )
    election.ballots.all().delete()
    Ballot.objects.bulk_create(
        [Ballot(id=uuid.uuid4(), election=election, choices=c, voter=None) for c in ballots]
    )


def _electorate_refusal(election: Election) -> str:
    if election.electorate == Electorate.DELEGATES:
        return _("Only the circles' delegates vote in this election, as the covenant says.")
    if election.electorate == Electorate.CIRCLE_MEMBERS:
        return _("Only the circle's current members vote in this election.")
    return _("Only current members of the federation's validated circles vote in this election.")
