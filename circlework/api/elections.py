"""Elections: nominations, the consent rounds, ballots and the count with its rounds.

A circle's elections are its members' business; a federation's, every member of its circles'.
A circle you cannot see, an election outside your circles and federations, or one that does not
exist → 404; a circle you can see but are not a member of → 403. Only electors vote or consent
(403 with the reason otherwise); a second ballot → 409 "You have already voted", nothing changed.
Secret ballots: `voted` names who voted, never what anyone chose.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, cast

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from circlework.accounts.models import Practitioner
from circlework.api import schemas as s
from circlework.api.base import ERRORS, _me
from circlework.api.loaders import federation_by_slug, member_circle
from circlework.api.paging import PageIn, page_queryset, page_rows, ts
from circlework.circles.models import Circle, Federation
from circlework.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from circlework.core.permissions import allowed
from circlework.elections import selectors as election_selectors
from circlework.elections import services as election_services
from circlework.elections.models import ConsentResponse, Election, Nomination

router = Router(tags=["elections"])

# --- helpers ----------------------------------------------------------------------------------


Names = dict[int, tuple[str, bool]]


def _person(names: Names, pk: int | None) -> s.PersonOut:
    if pk is None or pk not in names:
        return s.PersonOut(practitioner_id=None, name="a former member")
    name, shown = names[pk]
    return s.PersonOut(practitioner_id=pk if shown else None, name=name)


def _plain(names: Names) -> dict[int, str]:
    return {pk: name for pk, (name, _shown) in names.items()}


def _election_circle(request: HttpRequest, slug: str) -> Circle:
    return member_circle(
        request,
        slug,
        rule="elections.view_circle_elections",
        refusal="Only the circle's members can see and take part in its elections.",
    )


def _federation(request: HttpRequest, slug: str) -> Federation:
    federation = federation_by_slug(slug)
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


# The models' choice fields hold exactly the values the schemas' literals name: the casts tell
# mypy what the choices guarantee. A result is the JSON the count stored when the election closed.


def _summary(election: Election) -> s.ElectionSummaryOut:
    return s.ElectionSummaryOut(
        id=election.pk,
        role=election.role,
        role_name=election_selectors.role_name(election),
        circle=election.circle.slug if election.circle else None,
        federation=election_selectors.federation_of(election).slug,
        method=cast(s.ElectionMethodName, election.method),
        status=cast(s.ElectionStatusName, election.status),
        seats=election.seats,
        secret=election.secret,
        electorate=cast(Literal["circle", "delegates", "federation"], election.electorate),
        nominations_close_at=election.nominations_close_at,
        voting_closes_at=election.voting_closes_at,
        term_starts_on=election.term_starts_on,
        term_ends_on=election.term_ends_on,
        closed_at=election.closed_at,
    )


def _nomination_out(n: Nomination, names: Names) -> s.NominationOut:
    return s.NominationOut(
        id=n.pk,
        nominee=_person(names, n.nominee_id),
        nominated_by=_person(names, n.nominated_by_id),
        reason=n.reason,
        accepted=n.accepted,
        is_current=n.is_current,
        in_change_round=n.in_change_round,
        created_at=n.created_at,
    )


def _consent_out(c: ConsentResponse, names: Names) -> s.ConsentOut:
    return s.ConsentOut(
        id=c.pk,
        voter=_person(names, c.voter_id),
        candidate=_person(names, c.candidate_id),
        stance=cast(Literal["consent", "object"], c.stance),
        reason=c.reason,
        is_current=c.is_current,
        created_at=c.created_at,
    )


def _round_out(r: dict[str, Any], names: Names, quota: Any) -> s.RoundOut:
    return s.RoundOut(
        number=int(r.get("number", 0)),
        votes={str(k): str(v) for k, v in (r.get("votes") or {}).items()},
        action=r.get("action", "elected"),
        selected=[int(c) for c in r.get("selected", [])],
        reason=str(r.get("reason", "")),
        explanation=election_selectors.explain_round(r, _plain(names), quota),
        exhausted=str(r.get("exhausted", "0")),
    )


def _result_out(election: Election, names: Names) -> s.ResultOut | None:
    result = election.result or {}
    if election.status != "closed" or not result:
        return None
    quota = result.get("quota")
    return s.ResultOut(
        method=str(result.get("method", election.method)),
        seats=int(result.get("seats", election.seats)),
        candidates=[_person(names, int(c)) for c in result.get("candidates", [])],
        elected=[_person(names, int(c)) for c in result.get("elected", [])],
        complete=bool(result.get("complete", False)),
        ballots=int(result.get("ballots", 0) or 0),
        quota=quota,
        tied=[_person(names, int(c)) for c in result.get("tied", [])],
        note=election_selectors.note_text(result, _plain(names)),
        rounds=[_round_out(r, names, quota) for r in result.get("rounds", [])],
        approvals={str(k): int(v) for k, v in (result.get("tallies") or {}).items()},
        recount_matches=election_selectors.recount_matches(election),
        mandate_ids=list(election.mandates.order_by("pk").values_list("pk", flat=True)),
    )


# An election's lists of people and records grow with its electorate: its answer carries at most
# INLINE of each, with their counts; the whole lists are sub-resources, a page at a time.
INLINE = 40


def _people_ids(election: Election, which: str) -> set[int] | None:
    """The ids on one of the election's lists of people, as the election page lists them
    (elections.selectors.people_page: the same lists, at the same moments); None when the
    list is not one this election has now."""
    is_consent = election.method == "consent"
    if which == "electorate":
        return election_selectors.electorate_ids(election)
    if which in ("voted", "not-voted") and not is_consent and election.status != "nominating":
        voted = {pk for pk in election.casts.values_list("voter_id", flat=True) if pk is not None}
        if which == "voted":
            return voted
        return election_selectors.electorate_ids(election) - voted
    if which == "not-consented" and is_consent and election.proposed_id is not None:
        consented = set(
            election.consent_responses.filter(
                is_current=True,
                candidate_id=election.proposed_id,
                stance="consent",
                voter__isnull=False,
            ).values_list("voter_id", flat=True)
        )
        return election_selectors.electorate_ids(election) - consented
    return None


PersonKey = tuple[str, int, int]


def _people_sorted(names: Names, ids: Iterable[int | None]) -> list[tuple[PersonKey, s.PersonOut]]:
    """People by the name this viewer sees (as the page sorts them: a hidden name's place tells
    nothing), then by id where the name is shown; hidden names ("a member") by their place
    among themselves, so a cursor never holds the id of someone whose name is kept from you."""
    people = sorted(
        (_person(names, pk) for pk in ids), key=lambda p: (p.name, p.practitioner_id or 0)
    )
    out: list[tuple[PersonKey, s.PersonOut]] = []
    previous: tuple[str, int] | None = None
    n = 0
    for p in people:
        head = (p.name, p.practitioner_id or 0)
        n = n + 1 if head == previous else 0
        previous = head
        out.append(((p.name, p.practitioner_id or 0, n), p))
    return out


def _counts(election: Election) -> tuple[int, int]:
    """How many nominations and consent answers the election has, in one query."""

    def count(model: type[Nomination] | type[ConsentResponse]) -> Subquery:
        rows = model.objects.filter(election=OuterRef("pk")).order_by().values("election")
        return Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField())

    row = (
        Election.objects.filter(pk=election.pk)
        .values_list(
            Coalesce(count(Nomination), 0), Coalesce(count(ConsentResponse), 0), named=False
        )
        .get()
    )
    return int(row[0]), int(row[1])


def _election_out(request: HttpRequest, election: Election) -> s.ElectionOut:
    """The election with at most INLINE nominations, consents and voters (the first of each
    list in its order), their counts, and whether you are an elector and have voted: the same
    number of queries however large the electorate. The whole lists are paged sub-resources."""
    nominations = list(election.nominations.order_by("created_at", "pk")[:INLINE])
    consents = list(election.consent_responses.order_by("created_at", "pk")[:INLINE])
    # Who voted, by name: their names are read to sort them as you see them (ids only, one
    # query, with the names below); never what anyone chose.
    voter_ids = list(election.casts.values_list("voter_id", flat=True))
    candidates = election_selectors.candidate_ids(election)
    ids: set[int | None] = {election.facilitator_id, election.proposed_id, *candidates}
    for n in nominations:
        ids |= {n.nominee_id, n.nominated_by_id}
    for c in consents:
        ids |= {c.voter_id, c.candidate_id}
    ids |= set(voter_ids)
    ids |= {int(c) for c in (election.result or {}).get("candidates", [])}
    names = election_selectors.names_with_visibility(request.user, ids)
    me = _me(request)
    # Who may vote now: its ids (one query; no names). Whether you are among them is read from
    # the same set rather than asked again (selectors.my_electorates would be two more queries).
    electorate = election_selectors.electorate_ids(election)
    nominations_count, consents_count = _counts(election)
    return s.ElectionOut(
        **dict(_summary(election)),  # the summary's fields, checked where the summary is built
        description=election.description,
        handover_plan=election.handover_plan,
        facilitator=_person(names, election.facilitator_id) if election.facilitator_id else None,
        proposed=_person(names, election.proposed_id) if election.proposed_id else None,
        nominations=[_nomination_out(n, names) for n in nominations],
        nominations_count=nominations_count,
        candidates=[_person(names, pk) for pk in candidates],
        electorate_size=len(electorate),
        i_am_elector=me.pk in electorate,
        i_have_voted=me.pk in voter_ids,
        voted=[p for _key, p in _people_sorted(names, voter_ids)[:INLINE]],
        voted_count=len(voter_ids),
        consents=[_consent_out(c, names) for c in consents],
        consents_count=consents_count,
        result=_result_out(election, names),
    )


def _detail(request: HttpRequest, election_id: int) -> s.ElectionOut:
    return _election_out(request, _election(request, election_id))


def _open(request: HttpRequest, payload: s.ElectionOpenIn, **scope: Any) -> Status[s.ElectionOut]:
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


@router.get("/circles/{slug:slug}/elections", response={200: list[s.ElectionSummaryOut], **ERRORS})
def circle_election_list(
    request: HttpRequest, slug: str, response: HttpResponse, paging: Query[PageIn]
) -> list[s.ElectionSummaryOut]:
    """The circle's elections: open ones first (closing soonest), then the latest 50 past
    ones; a page at a time (`limit`, `cursor`: see the Link header)."""
    open_, past = election_selectors.elections_for(circle=_election_circle(request, slug))
    return [_summary(e) for e in _election_page(request, response, paging, open_, past)]


@router.get(
    "/federations/{federation_slug}/elections",
    response={200: list[s.ElectionSummaryOut], **ERRORS},
)
def federation_election_list(
    request: HttpRequest, federation_slug: str, response: HttpResponse, paging: Query[PageIn]
) -> list[s.ElectionSummaryOut]:
    """The federation's elections of officers: open ones first, then the latest 50 past ones;
    a page at a time (`limit`, `cursor`: see the Link header)."""
    open_, past = election_selectors.elections_for(federation=_federation(request, federation_slug))
    return [_summary(e) for e in _election_page(request, response, paging, open_, past)]


def _election_page(
    request: HttpRequest,
    response: HttpResponse,
    paging: PageIn,
    open_: list[Election],
    past: list[Election],
) -> list[Election]:
    """Open first (closing soonest), then past (latest first): the cursor keys on (open or
    not, that time, id), so an election that closes while you walk may move to the past part."""
    past_ids = {e.pk for e in past}
    return page_rows(
        request,
        response,
        paging,
        [*open_, *past],
        key=lambda e: (
            (1, -ts(e.closed_at), -e.pk) if e.pk in past_ids else (0, ts(e.voting_closes_at), e.pk)
        ),
    )


@router.post("/circles/{slug:slug}/elections", response={201: s.ElectionOut, **ERRORS})
def circle_election_open(
    request: HttpRequest, slug: str, payload: s.ElectionOpenIn
) -> Status[s.ElectionOut]:
    """Open an election for a circle role (convener, facilitator, delegate). The circle's
    members are the electorate and are told."""
    return _open(request, payload, circle=_election_circle(request, slug))


@router.post("/federations/{federation_slug}/elections", response={201: s.ElectionOut, **ERRORS})
def federation_election_open(
    request: HttpRequest, federation_slug: str, payload: s.ElectionOpenIn
) -> Status[s.ElectionOut]:
    """Open an election for a federation officer (coordinator, registrar, treasurer). The
    electorate is the circles' delegates or every member, as the covenant says."""
    return _open(request, payload, federation=_federation(request, federation_slug))


@router.get("/elections/{election_id}", response={200: s.ElectionOut, **ERRORS})
def election_get(request: HttpRequest, election_id: int) -> s.ElectionOut:
    """An election: its phase, nominations with reasons, candidates, who has voted (never what
    they chose), consents and, once closed, the result with its rounds."""
    return _detail(request, election_id)


@router.get("/elections/{election_id}/nominations", response={200: list[s.NominationOut], **ERRORS})
def nomination_list(
    request: HttpRequest, election_id: int, response: HttpResponse, paging: Query[PageIn]
) -> list[s.NominationOut]:
    """Every nomination, current and changed, oldest first; a page at a time (`limit`,
    `cursor`: see the Link header). The election's answer carries the first 40."""
    election = _election(request, election_id)
    rows = page_queryset(
        request, response, paging, election.nominations.all(), order=("created_at", "pk")
    )
    names = election_selectors.names_with_visibility(
        request.user, {pk for n in rows for pk in (n.nominee_id, n.nominated_by_id)}
    )
    return [_nomination_out(n, names) for n in rows]


@router.get("/elections/{election_id}/consents", response={200: list[s.ConsentOut], **ERRORS})
def consent_list(
    request: HttpRequest, election_id: int, response: HttpResponse, paging: Query[PageIn]
) -> list[s.ConsentOut]:
    """Consent election: every answer, kept (`is_current` marks each voter's latest), oldest
    first; a page at a time (`limit`, `cursor`: see the Link header). The election's answer
    carries the first 40."""
    election = _election(request, election_id)
    rows = page_queryset(
        request, response, paging, election.consent_responses.all(), order=("created_at", "pk")
    )
    names = election_selectors.names_with_visibility(
        request.user, {pk for c in rows for pk in (c.voter_id, c.candidate_id)}
    )
    return [_consent_out(c, names) for c in rows]


@router.get("/elections/{election_id}/people/{which}", response={200: list[s.PersonOut], **ERRORS})
def election_people(
    request: HttpRequest,
    election_id: int,
    which: s.ElectionPeopleName,
    response: HttpResponse,
    paging: Query[PageIn],
) -> list[s.PersonOut]:
    """One of the election's lists of people, by the name you see (a name kept from you reads
    "a member", with no id): `electorate` (who may vote or consent now); `voted` and
    `not-voted` (ballot elections, once voting has opened; never what anyone chose);
    `not-consented` (a consent election with a proposed candidate: electors who have not
    consented). A page at a time (`limit`, `cursor`: see the Link header). 404 when the list
    is not one this election has now."""
    election = _election(request, election_id)
    ids = _people_ids(election, which)
    if ids is None:
        raise NotFound("This election has no such list now.")
    rows = page_rows(
        request,
        response,
        paging,
        _people_sorted(election_selectors.names_with_visibility(request.user, ids), ids),
        key=lambda row: row[0],
    )
    return [person for _key, person in rows]


@router.get("/elections/{election_id}/result", response={200: s.ResultOut, **ERRORS})
def election_result(request: HttpRequest, election_id: int) -> s.ResultOut:
    """The count, round by round, and whether a recount from the stored ballots agrees.
    409 while the election is still open."""
    result = _election_out(request, _election(request, election_id)).result
    if result is None:
        raise Conflict("No result yet: the election is not closed.")
    return result


@router.post("/elections/{election_id}/nominations", response={201: s.NominationOut, **ERRORS})
def nomination_add(
    request: HttpRequest, election_id: int, payload: s.NominationIn
) -> Status[s.NominationOut]:
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
    response={200: s.NominationOut, **ERRORS},
)
def nomination_answer(
    request: HttpRequest, election_id: int, nomination_id: int, payload: s.AnswerIn
) -> s.NominationOut:
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


@router.post(
    "/elections/{election_id}/nominations/change", response={201: s.NominationOut, **ERRORS}
)
def nomination_change(
    request: HttpRequest, election_id: int, payload: s.NominationIn
) -> Status[s.NominationOut]:
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


@router.post("/elections/{election_id}/change-round", response={200: s.ElectionOut, **ERRORS})
def election_change_round(request: HttpRequest, election_id: int) -> s.ElectionOut:
    """Consent election: the facilitator closes the nominations round."""
    election = election_services.election_change_round(
        actor=_me(request), election=_election(request, election_id)
    )
    return _detail(request, election.pk)


@router.post("/elections/{election_id}/propose", response={200: s.ElectionOut, **ERRORS})
def election_propose(request: HttpRequest, election_id: int, payload: s.ProposeIn) -> s.ElectionOut:
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


@router.post("/elections/{election_id}/consent", response={201: s.ConsentOut, **ERRORS})
def consent_respond(
    request: HttpRequest, election_id: int, payload: s.ConsentIn
) -> Status[s.ConsentOut]:
    """Consent election: consent to the proposed candidate, or object with reasons. When every
    elector has consented the candidate is elected and the mandate granted."""
    election = _election(request, election_id)
    response = election_services.consent_respond(
        actor=_me(request), election=election, stance=payload.stance, reason=payload.reason
    )
    names = election_selectors.names_with_visibility(
        request.user, [response.voter_id, response.candidate_id]
    )
    return Status(201, _consent_out(response, names))


@router.post("/elections/{election_id}/ballots", response={201: s.BallotCastOut, **ERRORS})
def election_ballot_cast(
    request: HttpRequest, election_id: int, payload: s.ElectionBallotIn
) -> Status[s.BallotCastOut]:
    """Cast your ballot, once. Ranked: candidate ids in order of preference; approval: the ids
    you approve. A second ballot → 409 and nothing changes."""
    election = _election(request, election_id)
    try:
        ballot = election_services.ballot_cast(
            actor=_me(request), election=election, choices=payload.choices
        )
    except InvalidInput as exc:
        for name in ("ranking", "approved"):
            if name in exc.fields:
                exc.fields["choices"] = exc.fields.pop(name)
        raise
    return Status(
        201,
        s.BallotCastOut(
            election_id=election.pk, voted=True, cast_at=ballot.cast_at, secret=election.secret
        ),
    )


@router.post("/elections/{election_id}/cancel", response={200: s.ElectionOut, **ERRORS})
def election_cancel(request: HttpRequest, election_id: int, payload: s.CancelIn) -> s.ElectionOut:
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


def _one_nomination(request: HttpRequest, nomination: Nomination) -> s.NominationOut:
    names = election_selectors.names_with_visibility(
        request.user, [nomination.nominee_id, nomination.nominated_by_id]
    )
    return _nomination_out(nomination, names)
