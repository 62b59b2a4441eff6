"""Elections: nominations, the consent rounds, ballots and the count with its rounds.

A circle's elections are its members' business; a federation's, every member of its circles'.
A circle you cannot see, an election outside your circles and federations, or one that does not
exist → 404; a circle you can see but are not a member of → 403. Only electors vote or consent
(403 with the reason otherwise); a second ballot → 409 "You have already voted", nothing changed.
Secret ballots: `voted` names who voted, never what anyone chose.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import AwareDatetime, Field, StrictInt

from circlework.accounts.models import Practitioner
from circlework.api.base import ERRORS, _me, _visible_circle
from circlework.api.schemas import InSchema, PersonOut
from circlework.circles.models import Circle, Federation
from circlework.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from circlework.core.permissions import allowed
from circlework.elections import selectors as election_selectors
from circlework.elections import services as election_services
from circlework.elections.models import Election, Nomination

router = Router(tags=["elections"])

MethodName = Literal["consent", "stv", "irv", "approval"]
StatusName = Literal["nominating", "change", "consent", "voting", "closed", "cancelled"]


# --- schemas ----------------------------------------------------------------------------------


class ElectionSummaryOut(Schema):
    id: int
    role: str
    role_name: str
    circle: str | None = Field(description="The circle's slug, for a circle's election.")
    federation: str = Field(description="The federation's slug (a circle election's too).")
    method: MethodName = Field(
        description="stv: instant runoff when there is one seat; irv: instant runoff by its "
        "own name (one seat, counted as stv)."
    )
    status: StatusName
    seats: int
    secret: bool
    electorate: Literal["circle", "delegates", "federation"]
    nominations_close_at: datetime
    voting_closes_at: datetime
    term_starts_on: date
    term_ends_on: date
    closed_at: datetime | None


class NominationOut(Schema):
    id: int
    nominee: PersonOut
    nominated_by: PersonOut
    reason: str
    accepted: bool | None = Field(description="The nominee's answer; null until they answer.")
    is_current: bool = Field(description="False once changed in the change round (kept).")
    in_change_round: bool
    created_at: datetime


class ConsentOut(Schema):
    id: int
    voter: PersonOut
    candidate: PersonOut
    stance: Literal["consent", "object"]
    reason: str
    is_current: bool
    created_at: datetime


class RoundOut(Schema):
    number: int
    votes: dict[str, str] = Field(
        description="Candidate id → votes at this round (decimal text: transfers are fractional)."
    )
    action: Literal["elected", "excluded", "tie"]
    selected: list[int]
    reason: str = Field(
        description="quota, last_standing, fewest, fewest_tiebreak, most_approvals or tie."
    )
    explanation: str
    exhausted: str


class ResultOut(Schema):
    method: str = Field(description="irv, stv, approval or consent.")
    seats: int
    candidates: list[PersonOut]
    elected: list[PersonOut]
    complete: bool
    ballots: int
    quota: str | None
    tied: list[PersonOut]
    note: str
    rounds: list[RoundOut]
    approvals: dict[str, int] = Field(description="Approval: candidate id → approvals.")
    recount_matches: bool = Field(description="A recount from the stored ballots agrees.")
    mandate_ids: list[int]


class ElectionOut(ElectionSummaryOut):
    description: str
    handover_plan: str
    facilitator: PersonOut | None
    proposed: PersonOut | None = Field(description="Consent election: the proposed candidate.")
    nominations: list[NominationOut] = Field(description="Current and changed, oldest first.")
    candidates: list[PersonOut] = Field(description="Nominees who accepted to stand.")
    electorate_size: int
    i_am_elector: bool
    i_have_voted: bool
    voted: list[PersonOut] = Field(description="Who has voted (never what they chose).")
    consents: list[ConsentOut] = Field(description="Consent election: every answer, kept.")
    result: ResultOut | None


class ElectionOpenIn(InSchema):
    role: str = Field(..., max_length=40, description="e.g. facilitator, coordinator.")
    seats: StrictInt = 1
    method: str | None = Field(
        None,
        max_length=40,
        description="consent, stv, irv (also “instant runoff”) or approval. Default: as agreed "
        "for the role.",
    )
    secret: bool | None = Field(None, description="Default: secret for ballot methods.")
    nominations_close_at: AwareDatetime
    voting_closes_at: AwareDatetime
    term_starts_on: date | None = Field(None, description="Default: the day voting closes.")
    term_ends_on: date | None = Field(None, description="Default: the longest term allowed.")
    handover_plan: str = Field("", max_length=5000)
    description: str = Field(
        "", max_length=5000, description="Markdown (CommonMark; raw HTML is not rendered)."
    )


class NominationIn(InSchema):
    nominee_id: StrictInt
    reason: str = Field(..., max_length=3000)


class AnswerIn(InSchema):
    accept: bool


class ProposeIn(InSchema):
    candidate_id: StrictInt


class ConsentIn(InSchema):
    stance: Literal["consent", "object"]
    reason: str = Field("", max_length=3000, description="Required for an objection.")


class ElectionBallotIn(InSchema):
    choices: list[StrictInt] = Field(
        ...,
        description="Ranked: candidate ids, first choice first, no repeats. Approval: the ids "
        "you approve.",
    )


class BallotCastOut(Schema):
    election_id: int
    voted: bool
    cast_at: datetime
    secret: bool


class CancelIn(InSchema):
    reason: str = Field(..., max_length=1000)


# --- helpers ----------------------------------------------------------------------------------


Names = dict[int, tuple[str, bool]]


def _person(names: Names, pk: int | None) -> dict[str, Any]:
    if pk is None or pk not in names:
        return {"practitioner_id": None, "name": "a former member"}
    name, shown = names[pk]
    return {"practitioner_id": pk if shown else None, "name": name}


def _plain(names: Names) -> dict[int, str]:
    return {pk: name for pk, (name, _shown) in names.items()}


def _election_circle(request: HttpRequest, slug: str) -> Circle:
    circle = _visible_circle(request, slug)
    if not allowed("elections.view_circle_elections", request.user, circle):
        raise NotAllowed("Only the circle's members can see and take part in its elections.")
    return circle


def _federation(request: HttpRequest, slug: str) -> Federation:
    federation = Federation.objects.filter(slug=slug).first()
    if federation is None:
        raise NotFound("No such federation.")
    if not allowed("elections.view_federation_elections", request.user, federation):
        raise NotAllowed("Only members of the federation's circles see its elections.")
    return federation


def _election(request: HttpRequest, election_id: int) -> Election:
    election = (
        Election.objects.select_related(
            "circle", "circle__federation", "federation", "facilitator", "proposed"
        )
        .filter(pk=election_id)
        .first()
    )
    if election is None or not allowed("elections.view_election", request.user, election):
        raise NotFound("No such election, or it is not visible to you.")
    return election


def _practitioner(pk: int, field: str) -> Practitioner:
    person = Practitioner.objects.filter(pk=pk).first()
    if person is None:
        raise InvalidInput("No such person.", fields={field: ["No such person."]})
    return person


def _summary(election: Election) -> dict[str, Any]:
    return {
        "id": election.pk,
        "role": election.role,
        "role_name": election_selectors.role_name(election),
        "circle": election.circle.slug if election.circle else None,
        "federation": election_selectors.federation_of(election).slug,
        "method": election.method,
        "status": election.status,
        "seats": election.seats,
        "secret": election.secret,
        "electorate": election.electorate,
        "nominations_close_at": election.nominations_close_at,
        "voting_closes_at": election.voting_closes_at,
        "term_starts_on": election.term_starts_on,
        "term_ends_on": election.term_ends_on,
        "closed_at": election.closed_at,
    }


def _nomination_out(n: Nomination, names: Names) -> dict[str, Any]:
    return {
        "id": n.pk,
        "nominee": _person(names, n.nominee_id),
        "nominated_by": _person(names, n.nominated_by_id),
        "reason": n.reason,
        "accepted": n.accepted,
        "is_current": n.is_current,
        "in_change_round": n.in_change_round,
        "created_at": n.created_at,
    }


def _result_out(election: Election, names: Names) -> dict[str, Any] | None:
    result = election.result or {}
    if election.status != "closed" or not result:
        return None
    quota = result.get("quota")
    rounds = [
        {
            "number": int(r.get("number", 0)),
            "votes": {str(k): str(v) for k, v in (r.get("votes") or {}).items()},
            "action": r.get("action", "elected"),
            "selected": [int(c) for c in r.get("selected", [])],
            "reason": str(r.get("reason", "")),
            "explanation": election_selectors.explain_round(r, _plain(names), quota),
            "exhausted": str(r.get("exhausted", "0")),
        }
        for r in result.get("rounds", [])
    ]
    return {
        "method": str(result.get("method", election.method)),
        "seats": int(result.get("seats", election.seats)),
        "candidates": [_person(names, int(c)) for c in result.get("candidates", [])],
        "elected": [_person(names, int(c)) for c in result.get("elected", [])],
        "complete": bool(result.get("complete", False)),
        "ballots": int(result.get("ballots", 0) or 0),
        "quota": quota,
        "tied": [_person(names, int(c)) for c in result.get("tied", [])],
        "note": election_selectors.note_text(result, _plain(names)),
        "rounds": rounds,
        "approvals": {str(k): int(v) for k, v in (result.get("tallies") or {}).items()},
        "recount_matches": election_services.recount_matches(election),
        "mandate_ids": list(election.mandates.order_by("pk").values_list("pk", flat=True)),
    }


def _election_out(request: HttpRequest, election: Election) -> dict[str, Any]:
    nominations = list(election.nominations.order_by("created_at", "pk"))
    consents = list(election.consent_responses.order_by("created_at", "pk"))
    casts = list(election.casts.all())
    electorate = election_selectors.electorate_ids(election)
    candidates = election_selectors.candidate_ids(election)
    ids: set[int | None] = {election.facilitator_id, election.proposed_id, *candidates}
    for n in nominations:
        ids |= {n.nominee_id, n.nominated_by_id}
    for c in consents:
        ids |= {c.voter_id, c.candidate_id}
    ids |= {c.voter_id for c in casts}
    ids |= {int(c) for c in (election.result or {}).get("candidates", [])}
    names = election_selectors.names_with_visibility(request.user, ids)
    me = _me(request).pk
    return {
        **_summary(election),
        "description": election.description,
        "handover_plan": election.handover_plan,
        "facilitator": _person(names, election.facilitator_id) if election.facilitator_id else None,
        "proposed": _person(names, election.proposed_id) if election.proposed_id else None,
        "nominations": [_nomination_out(n, names) for n in nominations],
        "candidates": [_person(names, pk) for pk in candidates],
        "electorate_size": len(electorate),
        "i_am_elector": me in electorate,
        "i_have_voted": any(c.voter_id == me for c in casts),
        "voted": sorted((_person(names, c.voter_id) for c in casts), key=lambda p: str(p["name"])),
        "consents": [
            {
                "id": c.pk,
                "voter": _person(names, c.voter_id),
                "candidate": _person(names, c.candidate_id),
                "stance": c.stance,
                "reason": c.reason,
                "is_current": c.is_current,
                "created_at": c.created_at,
            }
            for c in consents
        ],
        "result": _result_out(election, names),
    }


def _detail(request: HttpRequest, election_id: int) -> dict[str, Any]:
    return _election_out(request, _election(request, election_id))


def _open(request: HttpRequest, payload: ElectionOpenIn, **scope: Any) -> Status[dict[str, Any]]:
    election = election_services.election_open(
        actor=_me(request),
        role=payload.role,
        seats=payload.seats,
        method=payload.method,
        secret=payload.secret,
        nominations_close_at=payload.nominations_close_at,
        voting_closes_at=payload.voting_closes_at,
        term_starts_on=payload.term_starts_on,
        term_ends_on=payload.term_ends_on,
        handover_plan=payload.handover_plan,
        description=payload.description,
        **scope,
    )
    return Status(201, _detail(request, election.pk))


# --- operations -------------------------------------------------------------------------------


@router.get("/circles/{slug:slug}/elections", response={200: list[ElectionSummaryOut], **ERRORS})
def circle_election_list(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    """The circle's elections: open ones first (closing soonest), then past ones."""
    open_, past = election_selectors.elections_for(circle=_election_circle(request, slug))
    return [_summary(e) for e in (*open_, *past)]


@router.get(
    "/federations/{federation_slug}/elections",
    response={200: list[ElectionSummaryOut], **ERRORS},
)
def federation_election_list(request: HttpRequest, federation_slug: str) -> list[dict[str, Any]]:
    """The federation's elections of officers: open ones first, then past ones."""
    open_, past = election_selectors.elections_for(federation=_federation(request, federation_slug))
    return [_summary(e) for e in (*open_, *past)]


@router.post("/circles/{slug:slug}/elections", response={201: ElectionOut, **ERRORS})
def circle_election_open(
    request: HttpRequest, slug: str, payload: ElectionOpenIn
) -> Status[dict[str, Any]]:
    """Open an election for a circle role (convener, facilitator, delegate). The circle's
    members are the electorate and are told."""
    return _open(request, payload, circle=_election_circle(request, slug))


@router.post("/federations/{federation_slug}/elections", response={201: ElectionOut, **ERRORS})
def federation_election_open(
    request: HttpRequest, federation_slug: str, payload: ElectionOpenIn
) -> Status[dict[str, Any]]:
    """Open an election for a federation officer (coordinator, registrar, treasurer). The
    electorate is the circles' delegates or every member, as the covenant says."""
    return _open(request, payload, federation=_federation(request, federation_slug))


@router.get("/elections/{election_id}", response={200: ElectionOut, **ERRORS})
def election_get(request: HttpRequest, election_id: int) -> dict[str, Any]:
    """An election: its phase, nominations with reasons, candidates, who has voted (never what
    they chose), consents and, once closed, the result with its rounds."""
    return _detail(request, election_id)


@router.get("/elections/{election_id}/result", response={200: ResultOut, **ERRORS})
def election_result(request: HttpRequest, election_id: int) -> dict[str, Any]:
    """The count, round by round, and whether a recount from the stored ballots agrees.
    409 while the election is still open."""
    election = _election(request, election_id)
    detail = _election_out(request, election)
    if detail["result"] is None:
        raise Conflict("No result yet: the election is not closed.")
    result: dict[str, Any] = detail["result"]
    return result


@router.post("/elections/{election_id}/nominations", response={201: NominationOut, **ERRORS})
def nomination_add(
    request: HttpRequest, election_id: int, payload: NominationIn
) -> Status[dict[str, Any]]:
    """Nominate yourself or another, with reasons. The nominee is asked whether they stand
    (nominating yourself counts as accepting)."""
    election = _election(request, election_id)
    nomination = _renamed(
        lambda: election_services.nomination_add(
            actor=_me(request),
            election=election,
            nominee=_practitioner(payload.nominee_id, "nominee_id"),
            reason=payload.reason,
        )
    )
    return Status(201, _one_nomination(request, nomination))


@router.post(
    "/elections/{election_id}/nominations/{nomination_id}/answer",
    response={200: NominationOut, **ERRORS},
)
def nomination_answer(
    request: HttpRequest, election_id: int, nomination_id: int, payload: AnswerIn
) -> dict[str, Any]:
    """The nominee accepts to stand, or declines."""
    election = _election(request, election_id)
    nomination = (
        Nomination.objects.select_related("election").filter(pk=nomination_id, election=election)
    ).first()
    if nomination is None:
        raise NotFound("No such nomination in this election.")
    if not allowed("elections.answer_nomination", request.user, nomination):
        raise NotAllowed("Only the nominee answers a nomination.")
    nomination = election_services.nomination_answer(
        actor=_me(request), nomination=nomination, accept=payload.accept
    )
    return _one_nomination(request, nomination)


@router.post("/elections/{election_id}/nominations/change", response={201: NominationOut, **ERRORS})
def nomination_change(
    request: HttpRequest, election_id: int, payload: NominationIn
) -> Status[dict[str, Any]]:
    """Consent election, change round: name someone else. The earlier nomination is kept."""
    election = _election(request, election_id)
    nomination = _renamed(
        lambda: election_services.nomination_change(
            actor=_me(request),
            election=election,
            nominee=_practitioner(payload.nominee_id, "nominee_id"),
            reason=payload.reason,
        )
    )
    return Status(201, _one_nomination(request, nomination))


@router.post("/elections/{election_id}/change-round", response={200: ElectionOut, **ERRORS})
def election_change_round(request: HttpRequest, election_id: int) -> dict[str, Any]:
    """Consent election: the facilitator closes the nominations round."""
    election = election_services.election_change_round(
        actor=_me(request), election=_election(request, election_id)
    )
    return _detail(request, election.pk)


@router.post("/elections/{election_id}/propose", response={200: ElectionOut, **ERRORS})
def election_propose(request: HttpRequest, election_id: int, payload: ProposeIn) -> dict[str, Any]:
    """Consent election: the facilitator proposes a candidate (or another, after an objection)."""
    election = _election(request, election_id)
    candidate = _practitioner(payload.candidate_id, "candidate_id")
    try:
        election_services.election_propose(
            actor=_me(request), election=election, candidate=candidate
        )
    except InvalidInput as exc:
        if "candidate" in exc.fields:
            exc.fields["candidate_id"] = exc.fields.pop("candidate")
        raise
    return _detail(request, election.pk)


@router.post("/elections/{election_id}/consent", response={201: ConsentOut, **ERRORS})
def consent_respond(
    request: HttpRequest, election_id: int, payload: ConsentIn
) -> Status[dict[str, Any]]:
    """Consent election: consent to the proposed candidate, or object with reasons. When every
    elector has consented the candidate is elected and the mandate granted."""
    election = _election(request, election_id)
    response = election_services.consent_respond(
        actor=_me(request), election=election, stance=payload.stance, reason=payload.reason
    )
    names = election_selectors.names_with_visibility(
        request.user, [response.voter_id, response.candidate_id]
    )
    return Status(
        201,
        {
            "id": response.pk,
            "voter": _person(names, response.voter_id),
            "candidate": _person(names, response.candidate_id),
            "stance": response.stance,
            "reason": response.reason,
            "is_current": response.is_current,
            "created_at": response.created_at,
        },
    )


@router.post("/elections/{election_id}/ballots", response={201: BallotCastOut, **ERRORS})
def election_ballot_cast(
    request: HttpRequest, election_id: int, payload: ElectionBallotIn
) -> Status[dict[str, Any]]:
    """Cast your ballot, once. Ranked: candidate ids in order of preference; approval: the ids
    you approve. A second ballot → 409 and nothing changes."""
    election = _election(request, election_id)
    try:
        cast = election_services.ballot_cast(
            actor=_me(request), election=election, choices=payload.choices
        )
    except InvalidInput as exc:
        for name in ("ranking", "approved"):
            if name in exc.fields:
                exc.fields["choices"] = exc.fields.pop(name)
        raise
    return Status(
        201,
        {
            "election_id": election.pk,
            "voted": True,
            "cast_at": cast.cast_at,
            "secret": election.secret,
        },
    )


@router.post("/elections/{election_id}/cancel", response={200: ElectionOut, **ERRORS})
def election_cancel(request: HttpRequest, election_id: int, payload: CancelIn) -> dict[str, Any]:
    """The facilitator cancels an open election, with reasons."""
    election = election_services.election_cancel(
        actor=_me(request), election=_election(request, election_id), reason=payload.reason
    )
    return _detail(request, election.pk)


def _renamed(call: Any) -> Nomination:
    """The service names the field after its argument; the API after the body's field."""
    try:
        nomination: Nomination = call()
    except InvalidInput as exc:
        if "nominee" in exc.fields:
            exc.fields["nominee_id"] = exc.fields.pop("nominee")
        raise
    return nomination


def _one_nomination(request: HttpRequest, nomination: Nomination) -> dict[str, Any]:
    names = election_selectors.names_with_visibility(
        request.user, [nomination.nominee_id, nomination.nominated_by_id]
    )
    return _nomination_out(nomination, names)
