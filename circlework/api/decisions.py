"""A circle's proposals, positions on them, amendments, comments and outcomes."""

from __future__ import annotations

import functools
from typing import Any, Literal, cast

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from circlework.agreements.models import Agreement, AgreementKind, AgreementVersion
from circlework.api import schemas as s
from circlework.api.base import ERRORS, People, _me, _people, _person, _provenance
from circlework.api.loaders import member_circle
from circlework.api.paging import PageIn, page_queryset, page_rows, ts
from circlework.circles.models import Circle
from circlework.core.errors import Conflict, InvalidInput, NotFound
from circlework.core.permissions import allowed
from circlework.decisions import selectors as decision_selectors
from circlework.decisions import services as decision_services
from circlework.decisions.models import (
    Amendment,
    Comment,
    Outcome,
    Position,
    Proposal,
    ProposalStatus,
    ProposalVersion,
)
from circlework.decisions.selectors import MemberPosition

router = Router()


# --- proposals --------------------------------------------------------------------------------
# Proposals are the circle's own business: someone who cannot see the circle gets 404, someone
# who can see it but is not a member 403 (as for its invitations).
#
# The models' choice fields hold exactly the values the schemas' literals name (a test in
# tests/api/test_decisions.py keeps them in step): the casts below tell mypy what the choices
# already guarantee.


def _member_circle(request: HttpRequest, slug: str) -> Circle:
    return member_circle(
        request,
        slug,
        rule="decisions.view_decisions",
        refusal="Only the circle's members can see and take part in its decisions.",
    )


def _proposal(request: HttpRequest, slug: str, proposal_id: int) -> Proposal:
    circle = _member_circle(request, slug)
    proposal = (
        Proposal.objects.select_related(
            "circle", "circle__federation", "author", "agreement__current_version", "outcome"
        )
        .filter(pk=proposal_id, circle=circle)
        .first()
    )
    if proposal is None or not allowed("decisions.view_proposal", request.user, proposal):
        raise NotFound("No such proposal in this circle.")
    return proposal


def _amendment(request: HttpRequest, slug: str, proposal_id: int, amendment_id: int) -> Amendment:
    proposal = _proposal(request, slug, proposal_id)
    amendment = (
        Amendment.objects.select_related("proposal__circle", "proposal__author")
        .filter(pk=amendment_id, proposal=proposal)
        .first()
    )
    if amendment is None:
        raise NotFound("No such amendment to this proposal.")
    return amendment


def _proposal_summary(proposal: Proposal, people: People) -> s.ProposalSummaryOut:
    outcome = getattr(proposal, "outcome", None)
    return s.ProposalSummaryOut(
        id=proposal.pk,
        title=proposal.title,
        status=cast(Literal["open", "closed", "withdrawn"], proposal.status),
        process=cast(s.ProcessName, proposal.process),
        rule=cast(s.RuleName, proposal.rule),
        fallback_after_rounds=proposal.fallback_after_rounds,
        silence=cast(s.SilenceName, proposal.silence),
        extended_from=proposal.extended_from,
        version=proposal.version,
        round=proposal.round,
        closes_at=proposal.closes_at,
        decision_requested_at=proposal.decision_requested_at,
        created_at=proposal.created_at,
        author=_person(people, proposal.author_id),
        agreement_id=proposal.agreement_id,
        new_agreement_kind=proposal.new_agreement_kind,
        new_agreement_title=proposal.new_agreement_title,
        outcome=None
        if outcome is None
        else s.OutcomeSummaryOut(
            passed=outcome.passed, reason=outcome.reason, decided_at=outcome.decided_at
        ),
    )


def _amendment_out(amendment: Amendment, people: People, produced: int | None) -> s.AmendmentOut:
    return s.AmendmentOut(
        id=amendment.pk,
        author=_person(people, amendment.author_id),
        based_on_version=amendment.based_on_version,
        text=amendment.text,
        agreement_text=amendment.agreement_text,
        reason=amendment.reason,
        status=cast(Literal["open", "accepted", "declined", "withdrawn"], amendment.status),
        response=amendment.response,
        decided_at=amendment.decided_at,
        produced_version=produced,
        created_at=amendment.created_at,
    )


def _final_rows(
    rows: list[dict[str, Any]], people: People, decided_version: int
) -> list[s.FinalPositionOut]:
    """An outcome's stored rows (JSON written when it was recorded), named as you may see them."""
    out = []
    for row in rows:
        person = _person(people, row.get("practitioner_id"))
        out.append(
            s.FinalPositionOut(
                practitioner_id=person.practitioner_id,
                name=person.name,
                stance=row["stance"],
                reason=row.get("reason", ""),
                version=row.get("version"),
                confirmed=row.get("version") is None or row["version"] >= decided_version,
            )
        )
    return out


def _outcome_out(outcome: Outcome, people: People) -> s.OutcomeOut:
    adopted = AgreementVersion.objects.filter(adopted_by=outcome).values_list("number", flat=True)
    return s.OutcomeOut(
        passed=outcome.passed,
        reason=outcome.reason,
        decided_at=outcome.decided_at,
        statement=outcome.statement,
        rule=cast(s.RuleName, outcome.rule),
        silence=cast(s.SilenceName, outcome.silence),
        version=outcome.version,
        final_positions=_final_rows(outcome.final_positions, people, outcome.version),
        dissent=_final_rows(outcome.dissent, people, outcome.version),
        missing=[_person(people, pid).name for pid in outcome.missing],
        unconfirmed=[_person(people, pid).name for pid in outcome.unconfirmed],
        adopted_agreement_version=adopted.first(),
    )


def _history_out(h: Position) -> s.PositionHistoryOut:
    return s.PositionHistoryOut(
        stance=cast(s.StanceName, h.stance),
        reason=h.reason,
        version=h.version,
        round=h.round,
        is_current=h.is_current,
        created_at=h.created_at,
    )


def _member_position_out(m: MemberPosition, people: People) -> s.MemberPositionOut:
    return s.MemberPositionOut(
        practitioner_id=_person(people, m.practitioner_id).practitioner_id,
        name=m.name,
        stance=cast(s.StanceName | None, m.stance),
        reason=m.reason,
        needs_confirming=m.needs_confirming,
        history=[_history_out(h) for h in m.history],
    )


def _version_out(v: ProposalVersion) -> s.ProposalVersionOut:
    return s.ProposalVersionOut(
        number=v.number,
        title=v.title,
        text=v.text,
        agreement_text=v.agreement_text,
        created_at=v.created_at,
        amendment_id=v.amendment_id,
    )


def _proposal_out(request: HttpRequest, proposal: Proposal) -> s.ProposalOut:
    page = decision_selectors.proposal_page(user=request.user, proposal=proposal)
    people = _people(request, proposal.circle)
    produced = {v.amendment_id: v.number for v in page.versions if v.amendment_id}
    outcome = getattr(proposal, "outcome", None)
    # The summary's fields, checked where the summary is built; the full outcome replaces its own.
    summary = {k: v for k, v in _proposal_summary(proposal, people) if k != "outcome"}
    return s.ProposalOut(
        **summary,
        circle=proposal.circle.slug,
        text=proposal.text,
        agreement_text=proposal.agreement_text,
        agreement_parameters=proposal.agreement_parameters,
        borrowed_from=_provenance(request, proposal.borrowed_from),
        is_proposer=allowed("decisions.close_proposal", request.user, proposal),
        versions=[_version_out(v) for v in page.versions],
        positions=[_member_position_out(m, people) for m in page.members],
        silent=page.silent,
        unconfirmed=page.unconfirmed,
        verdict=s.VerdictOut(
            passes=page.verdict.passes,
            reason=page.verdict.reason,
            counts=dict(page.verdict.counts),
        )
        if proposal.is_open
        else None,
        amendments=[
            _amendment_out(a, people, produced.get(a.pk)) for a in proposal.amendments.all()
        ],
        outcome=None if outcome is None else _outcome_out(outcome, people),
    )


def _reloaded(request: HttpRequest, proposal: Proposal) -> s.ProposalOut:
    """The proposal as it is now, after a service changed it."""
    return _proposal_out(request, _proposal(request, proposal.circle.slug, proposal.pk))


@router.get(
    "/circles/{slug:slug}/proposals",
    response={200: list[s.ProposalSummaryOut], **ERRORS},
    tags=["proposals"],
)
def proposal_list(
    request: HttpRequest, slug: str, response: HttpResponse, paging: Query[PageIn]
) -> list[s.ProposalSummaryOut]:
    """Open proposals (soonest closing first), then the latest 50 closed or withdrawn ones
    (latest first); a page at a time (`limit`, `cursor`: see the Link header). The cursor keys
    on (open or not, closing or last-changed time, id), so a proposal that closes while you
    walk the list may move from the open part to the closed one."""
    circle = _member_circle(request, slug)
    open_, closed = decision_selectors.circle_proposals(circle=circle)
    rows = page_rows(
        request,
        response,
        paging,
        [*open_, *closed],
        key=lambda p: (
            (0, ts(p.closes_at), p.pk)
            if p.status == ProposalStatus.OPEN
            else (1, -ts(p.updated_at), -p.pk)
        ),
    )
    people = _people(request, circle)
    return [_proposal_summary(p, people) for p in rows]


@router.post(
    "/circles/{slug:slug}/proposals", response={201: s.ProposalOut, **ERRORS}, tags=["proposals"]
)
def proposal_create(
    request: HttpRequest, slug: str, payload: s.ProposalIn
) -> Status[s.ProposalOut]:
    circle = _member_circle(request, slug)
    agreement = None
    if payload.agreement_id is not None:
        if payload.new_agreement_kind or payload.new_agreement_title.strip():
            raise InvalidInput(
                "Either revise an agreement or adopt a new one, not both.",
                fields={"agreement_id": ["Leave this out to adopt a new agreement."]},
            )
        agreement = Agreement.objects.filter(pk=payload.agreement_id, circle=circle).first()
        if agreement is None:
            raise InvalidInput(
                "No such agreement in this circle.",
                fields={"agreement_id": ["Choose one of this circle's agreements."]},
            )
    elif payload.new_agreement_kind and not payload.new_agreement_title.strip():
        raise InvalidInput(
            "Give the new agreement a title.",
            fields={"new_agreement_title": ["This field is required."]},
        )
    params: dict[str, Any] | None = (
        payload.agreement_parameters.model_dump()
        if payload.agreement_parameters is not None
        else None
    )
    adopted_kind = agreement.kind if agreement is not None else payload.new_agreement_kind
    if payload.ceremony is not None and adopted_kind != AgreementKind.CEREMONY:
        raise InvalidInput(
            "Only a ceremony has a moment and roles.",
            fields={"ceremony": ["Leave this out: the agreement is not a ceremony."]},
        )
    if adopted_kind == AgreementKind.CEREMONY and payload.agreement_parameters is not None:
        raise InvalidInput(
            "A ceremony has no decision rule.",
            fields={"agreement_parameters": ["Leave this out: send the ceremony's instead."]},
        )
    if adopted_kind == AgreementKind.CEREMONY:
        # A ceremony carries its moment and roles; left out when revising one, they stay as
        # they are (decisions.proposal_open). Checked as the form's are.
        params = (
            {"moment": payload.ceremony.moment or "", "roles": payload.ceremony.roles}
            if payload.ceremony is not None
            else None
        )
    # Who will read a new agreement is the circle's choice (agreement_propose checks it).
    opening: Any = decision_services.proposal_open
    if payload.new_agreement_visibility is not None:
        opening = functools.partial(
            decision_services.agreement_propose, visibility=payload.new_agreement_visibility
        )
    proposal = opening(
        actor=_me(request),
        circle=circle,
        title=payload.title,
        text=payload.text,
        closes_at=payload.closes_at,
        process=payload.process,
        agreement=agreement,
        new_agreement_kind=payload.new_agreement_kind or "",
        new_agreement_title=payload.new_agreement_title,
        agreement_text=payload.agreement_text,
        agreement_parameters=params,
    )
    return Status(201, _reloaded(request, proposal))


@router.get(
    "/circles/{slug:slug}/proposals/{proposal_id}",
    response={200: s.ProposalOut, **ERRORS},
    tags=["proposals"],
)
def proposal_get(request: HttpRequest, slug: str, proposal_id: int) -> s.ProposalOut:
    return _proposal_out(request, _proposal(request, slug, proposal_id))


@router.post(
    "/circles/{slug:slug}/proposals/{proposal_id}/position",
    response={201: s.PositionOut, **ERRORS},
    tags=["proposals"],
)
def position_take(
    request: HttpRequest, slug: str, proposal_id: int, payload: s.PositionIn
) -> Status[s.PositionOut]:
    """Take or change your position. Every change is kept; the latest is current."""
    position = decision_services.position_take(
        actor=_me(request),
        proposal=_proposal(request, slug, proposal_id),
        stance=payload.stance,
        reason=payload.reason,
    )
    return Status(
        201,
        s.PositionOut(
            id=position.pk,
            stance=cast(s.StanceName, position.stance),
            reason=position.reason,
            version=position.version,
            round=position.round,
            is_current=position.is_current,
            created_at=position.created_at,
        ),
    )


def _amendment_reloaded(request: HttpRequest, amendment: Amendment) -> s.AmendmentOut:
    amendment = Amendment.objects.select_related("proposal__circle").get(pk=amendment.pk)
    produced = (
        ProposalVersion.objects.filter(amendment=amendment).values_list("number", flat=True).first()
    )
    return _amendment_out(amendment, _people(request, amendment.proposal.circle), produced)


@router.post(
    "/circles/{slug:slug}/proposals/{proposal_id}/amendments",
    response={201: s.AmendmentOut, **ERRORS},
    tags=["proposals"],
)
def amendment_propose(
    request: HttpRequest, slug: str, proposal_id: int, payload: s.AmendmentIn
) -> Status[s.AmendmentOut]:
    """Propose a changed text; the proposer accepts or declines it.

    Send `base_version` (the proposal's `version` when you read it): if the proposal has changed
    since, the amendment is refused with 409 rather than undo a change its author never saw."""
    amendment = decision_services.amendment_propose(
        actor=_me(request),
        proposal=_proposal(request, slug, proposal_id),
        text=payload.text,
        agreement_text=payload.agreement_text,
        reason=payload.reason,
        base_version=payload.base_version,
    )
    return Status(201, _amendment_reloaded(request, amendment))


@router.post(
    "/circles/{slug:slug}/proposals/{proposal_id}/amendments/{amendment_id}/accept",
    response={200: s.AmendmentOut, **ERRORS},
    tags=["proposals"],
)
def amendment_accept(
    request: HttpRequest,
    slug: str,
    proposal_id: int,
    amendment_id: int,
    payload: s.AmendmentDecisionIn,
) -> s.AmendmentOut:
    """The proposer only: a new version, and every member is asked to confirm their position."""
    amendment = _amendment(request, slug, proposal_id, amendment_id)
    decision_services.amendment_accept(
        actor=_me(request), amendment=amendment, response=payload.response
    )
    return _amendment_reloaded(request, amendment)


@router.post(
    "/circles/{slug:slug}/proposals/{proposal_id}/amendments/{amendment_id}/decline",
    response={200: s.AmendmentOut, **ERRORS},
    tags=["proposals"],
)
def amendment_decline(
    request: HttpRequest,
    slug: str,
    proposal_id: int,
    amendment_id: int,
    payload: s.AmendmentDecisionIn,
) -> s.AmendmentOut:
    """The proposer only, with a response saying why."""
    amendment = _amendment(request, slug, proposal_id, amendment_id)
    decision_services.amendment_decline(
        actor=_me(request), amendment=amendment, response=payload.response
    )
    return _amendment_reloaded(request, amendment)


@router.post(
    "/circles/{slug:slug}/proposals/{proposal_id}/close",
    response={200: s.ProposalOut, **ERRORS},
    tags=["proposals"],
)
def proposal_close(
    request: HttpRequest, slug: str, proposal_id: int, payload: s.CloseIn
) -> s.ProposalOut:
    """Close early (the proposer only, once every member has spoken) and record the outcome.

    Under the advice process the proposer decides, with `decision` and `statement`, also after
    the closing time; under the other processes the circle's rule decides and both are ignored.
    """
    proposal = _proposal(request, slug, proposal_id)
    outcome = decision_services.proposal_close(
        actor=_me(request),
        proposal=proposal,
        early=True,
        advice_decision=payload.decision,
        statement=payload.statement,
    )
    if outcome is None:
        proposal.refresh_from_db()
        if proposal.status != ProposalStatus.OPEN:
            raise Conflict("This proposal is already closed or withdrawn.")
        # Past the closing time with voices missing, under "extend once": the closing time
        # moved (see `extended_from`) and the silent were reminded.
    return _reloaded(request, proposal)


@router.post(
    "/circles/{slug:slug}/proposals/{proposal_id}/withdraw",
    response={200: s.ProposalOut, **ERRORS},
    tags=["proposals"],
)
def proposal_withdraw(request: HttpRequest, slug: str, proposal_id: int) -> s.ProposalOut:
    """The proposer only, while it is open."""
    proposal = _proposal(request, slug, proposal_id)
    decision_services.proposal_withdraw(actor=_me(request), proposal=proposal)
    return _reloaded(request, proposal)


@router.post(
    "/circles/{slug:slug}/proposals/{proposal_id}/remind",
    response={200: s.RemindOut, **ERRORS},
    tags=["proposals"],
)
def proposal_remind(request: HttpRequest, slug: str, proposal_id: int) -> s.RemindOut:
    """Remind the members who have not spoken. Nobody is reminded once it is closed."""
    proposal = _proposal(request, slug, proposal_id)
    return s.RemindOut(
        reminded=decision_services.members_remind(actor=_me(request), proposal=proposal)
    )


def _comment_out(comment: Comment, people: People) -> s.CommentOut:
    return s.CommentOut(
        id=comment.pk,
        author=_person(people, comment.author_id),
        parent_id=comment.parent_id,
        quote=comment.quote,
        text=comment.text,
        created_at=comment.created_at,
        edited_at=comment.edited_at,
    )


@router.get(
    "/circles/{slug:slug}/proposals/{proposal_id}/comments",
    response={200: list[s.CommentOut], **ERRORS},
    tags=["proposals"],
)
def comment_list(
    request: HttpRequest, slug: str, proposal_id: int, response: HttpResponse, paging: Query[PageIn]
) -> list[s.CommentOut]:
    """Oldest first, a page at a time (`limit`, `cursor`: see the Link header); a reply names
    its parent."""
    proposal = _proposal(request, slug, proposal_id)
    rows = page_queryset(
        request, response, paging, proposal.comments.all(), order=("created_at", "pk")
    )
    people = _people(request, proposal.circle)
    return [_comment_out(c, people) for c in rows]


@router.post(
    "/circles/{slug:slug}/proposals/{proposal_id}/comments",
    response={201: s.CommentOut, **ERRORS},
    tags=["proposals"],
)
def comment_add(
    request: HttpRequest, slug: str, proposal_id: int, payload: s.CommentIn
) -> Status[s.CommentOut]:
    proposal = _proposal(request, slug, proposal_id)
    parent = None
    if payload.parent_id is not None:
        parent = Comment.objects.filter(pk=payload.parent_id, proposal=proposal).first()
        if parent is None:
            raise InvalidInput(
                "You can only reply to a comment on the same proposal.",
                fields={"parent_id": ["No such comment on this proposal."]},
            )
    comment = decision_services.comment_add(
        actor=_me(request), proposal=proposal, text=payload.text, parent=parent, quote=payload.quote
    )
    return Status(201, _comment_out(comment, _people(request, proposal.circle)))
