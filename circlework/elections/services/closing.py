"""Closing: voting opens when nominations close (the ballot paper is fixed), the count when
voting closes, the mandates granted to those elected, and cancelling an open election. The
count itself and the recount are reads, in selectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.roles import Method
from circlework.core import deadlines, names
from circlework.core.errors import ApplicationError, Conflict
from circlework.elections import selectors
from circlework.elections.models import Election, ElectionStatus
from circlework.elections.services.common import (
    field_error,
    lock_election,
    record,
    require_facilitator,
    tell,
    title,
    when_text,
)
from circlework.mandates.services import mandate_grant


def _grant_mandates(election: Election, elected: Sequence[int]) -> dict[str, str]:
    """A mandate for each person elected, with the announced term and handover plan. Problems
    (someone left the circle meanwhile…) are returned, by practitioner id, for the record."""
    problems: dict[str, str] = {}
    starts = max(election.term_starts_on, timezone.localdate())
    for pk in elected:
        holder = Practitioner.objects.filter(pk=pk).first()
        if holder is None:
            problems[str(pk)] = _("The person elected no longer has an account.")
            continue
        try:
            mandate_grant(
                role=election.role,
                holder=holder,
                starts_on=starts,
                ends_on=election.term_ends_on,
                handover_plan=election.handover_plan,
                election=election,
                actor=None,
                **selectors.scope_kwargs(election),
            )
        except ApplicationError as exc:
            # Kept in the result and shown by ResultView: named when read, by the name rule.
            problems[str(pk)] = names.text(
                _("%(who)s: no mandate could be granted. %(why)s"),
                who=names.person(holder),
                why=exc.message,
            )
    return problems


def finish(election: Election, result: dict[str, Any]) -> None:
    """Store the result, close, grant the mandates, tell the electorate. Election locked."""
    election.status = ElectionStatus.CLOSED
    election.closed_at = timezone.now()
    problems = _grant_mandates(election, [int(c) for c in result.get("elected", [])])
    if problems:
        result = {**result, "mandate_problems": problems}
    election.result = result
    election.save(update_fields=["status", "closed_at", "result", "updated_at"])
    # Tokens for the candidates (named when read), so the stored summary carries no name; the
    # rest of the line is the fixed wording of result_summary.
    tokens = {int(c): str(names.people([int(c)])) for c in result.get("candidates", [])}
    summary = names.Stored(selectors.result_summary(election, tokens))
    record(
        election,
        actor=None,
        verb="election.close",
        summary=names.text(
            _("Election for %(role)s closed. %(s)s"),
            role=selectors.role_name(election),
            s=summary,
        ),
        data={"elected": result.get("elected", []), "note": result.get("note", "")},
    )
    tell(
        election,
        selectors.electors(election),
        title=title(election, _("the result")),
        body=summary,
    )


def _start_voting(election: Election) -> None:
    """Fix the ballot paper (the count uses it, never the nominations again) and open voting."""
    election.ballot_candidates = selectors.nominated_candidate_ids(election)
    election.save(update_fields=["ballot_candidates", "updated_at"])
    if not election.ballot_candidates:
        finish(election, selectors.count(election))
        return
    election.status = ElectionStatus.VOTING
    election.save(update_fields=["status", "updated_at"])
    candidates = names.people(
        Practitioner.objects.filter(pk__in=selectors.candidate_ids(election))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    record(
        election,
        actor=None,
        verb="election.voting_open",
        summary=names.text(
            _("Voting opened for %(role)s; candidates: %(c)s"),
            role=selectors.role_name(election),
            c=candidates,
        ),
    )
    tell(
        election,
        selectors.electors(election),
        title=title(election, _("voting is open")),
        body=names.text(
            _("Candidates: %(c)s. Voting closes %(d)s."),
            c=candidates,
            d=when_text(election.voting_closes_at),
        ),
    )


@transaction.atomic
def election_advance(*, election: Election) -> str | None:
    """The worker's step at a closing time (idempotent): when nominations close a ballot
    election moves to voting; when voting closes it is counted and closed. Returns what it did
    ("voting", "closed") or None when nothing was due."""
    election = lock_election(election)
    if election.method == Method.CONSENT or not election.is_open:
        return None
    now = timezone.now()
    did = None
    if election.status == ElectionStatus.NOMINATING and deadlines.is_past(
        election.nominations_close_at, now
    ):
        _start_voting(election)
        did = "closed" if election.status == ElectionStatus.CLOSED else "voting"
    if election.status == ElectionStatus.VOTING and deadlines.is_past(
        election.voting_closes_at, now
    ):
        finish(election, selectors.count(election))
        did = "closed"
    return did


@transaction.atomic
def election_cancel(*, actor: Practitioner, election: Election, reason: str) -> Election:
    """The facilitator cancels an open election, with reasons (a new one may then be opened)."""
    require_facilitator(actor=actor, election=election)
    election = lock_election(election)
    if not election.is_open:
        raise Conflict(_("This election is already over."))
    text = (reason or "").strip()
    if not text:
        raise field_error("reason", _("Say why the election is cancelled."))
    election.status = ElectionStatus.CANCELLED
    election.closed_at = timezone.now()
    election.result = {"method": election.method, "elected": [], "cancelled": text[:1000]}
    election.save(update_fields=["status", "closed_at", "result", "updated_at"])
    record(
        election,
        actor=actor,
        verb="election.cancel",
        summary=names.text(
            _("%(who)s cancelled the election for %(role)s"),
            who=names.person(actor),
            role=selectors.role_name(election),
        ),
        data={"reason": text[:1000]},
    )
    tell(
        election,
        selectors.electors(election),
        title=title(election, _("cancelled")),
        body=text,
        exclude=actor.pk,
    )
    return election
