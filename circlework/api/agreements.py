"""A circle's agreements, their reviews and borrowing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from circlework.agreements import selectors as agreement_selectors
from circlework.agreements import services as agreement_services
from circlework.agreements.models import Agreement, EthicsCirculation
from circlework.agreements.selectors import CommentRow
from circlework.agreements.views import REVIEW_OPEN_DAYS
from circlework.api import schemas as s
from circlework.api.auth import authenticate_optional
from circlework.api.base import ERRORS, _me, _provenance
from circlework.api.decisions import _reloaded
from circlework.api.loaders import (
    NO_SUCH_CIRCLE,
    circle_by_slug,
    federation_by_slug,
    visible_circle,
)
from circlework.api.paging import PageIn, page_queryset, page_rows, ts
from circlework.circles import selectors as circle_selectors
from circlework.circles.models import Circle
from circlework.circles.names import circle_name_for
from circlework.core.errors import InvalidInput, NotAllowed, NotFound
from circlework.core.permissions import allowed
from circlework.core.visibility import audience_for
from circlework.decisions import services as decision_services
from circlework.decisions.models import Proposal, ProposalStatus

router = Router()


# --- agreements -------------------------------------------------------------------------------
# Each agreement has its own visibility (agreements.view_agreement), chosen by its circle and never
# wider than the circle's own page: whoever reads an agreement may see its circle's name.


def _agreement(request: HttpRequest, slug: str, agreement_id: int) -> Agreement:
    agreement = (
        Agreement.objects.select_related(
            "circle__federation", "current_version", "borrowed_from__agreement__circle"
        )
        .filter(pk=agreement_id, circle__slug=slug)
        .first()
    )
    if agreement is None or not allowed("agreements.view_agreement", request.user, agreement):
        raise NotFound("No such agreement, or it is not visible to you.")
    return agreement


# The models' choice fields hold exactly the values the schemas' literals name (a test in
# tests/api/test_decisions.py keeps the kinds in step): the casts tell mypy what they guarantee.


def _agreement_summary(request: HttpRequest, agreement: Agreement) -> s.AgreementSummaryOut:
    current = agreement.current_version
    return s.AgreementSummaryOut(
        id=agreement.pk,
        circle=agreement.circle.slug,
        kind=cast(s.AgreementKindName, agreement.kind),
        title=agreement.title,
        visibility=cast(s.CircleVisibility, agreement.visibility),
        current_version=current.number if current else None,
        adopted_at=current.adopted_at if current else None,
        review_interval_months=agreement.review_interval_months,
        review_due=agreement.review_due,
        borrowed_from=_provenance(request, agreement.borrowed_from),
    )


@router.get(
    "/circles/{slug:slug}/agreements",
    response={200: list[s.AgreementSummaryOut], **ERRORS},
    auth=None,
    tags=["agreements"],
)
def agreement_list(
    request: HttpRequest, slug: str, response: HttpResponse, paging: Query[PageIn]
) -> list[s.AgreementSummaryOut]:
    """The circle's agreements that you may read, by kind and title, a page at a time
    (`limit`, `cursor`: see the Link header). 404 if you can see neither the circle nor any of
    its agreements."""
    authenticate_optional(request)
    circle = circle_by_slug(slug)
    if circle is None:
        raise NotFound(NO_SUCH_CIRCLE)
    # Visibility is filtered in SQL (`visible_agreements_q`, agreements.view_agreement as a
    # filter), so a page is one query however many agreements are kept from you; the rule itself
    # still checks each row (in memory: the audience is read once a request).
    readable = agreement_selectors.circle_agreements(circle=circle).filter(
        agreement_selectors.visible_agreements_q(audience_for(request.user))
    )
    agreements = page_queryset(
        request,
        response,
        paging,
        readable,
        order=("kind", "title", "pk"),
        keep=lambda a: allowed("agreements.view_agreement", request.user, a),
    )
    # An empty page (a cursor past the end) is [] for whoever may see the circle or one of its
    # agreements; 404 for anyone else, as the circle alone would answer.
    if (
        not agreements
        and not allowed("circles.view_circle", request.user, circle)
        and not (paging.cursor and readable.exists())
    ):
        raise NotFound(NO_SUCH_CIRCLE)
    return [_agreement_summary(request, a) for a in agreements]


@router.get(
    "/circles/{slug:slug}/agreements/{agreement_id}",
    response={200: s.AgreementOut, **ERRORS},
    auth=None,
    tags=["agreements"],
)
def agreement_get(request: HttpRequest, slug: str, agreement_id: int) -> s.AgreementOut:
    """The current text and every adopted version, each with the outcome that adopted it."""
    authenticate_optional(request)
    agreement = _agreement(request, slug, agreement_id)
    current = agreement.current_version
    is_member = allowed("agreements.review_agreement", request.user, agreement)
    open_proposal = (
        agreement.proposals.filter(status=ProposalStatus.OPEN).first() if is_member else None
    )
    return s.AgreementOut(
        # The summary's fields, checked when it was built (AgreementOut extends its schema).
        **dict(_agreement_summary(request, agreement)),
        text=current.text if current else "",
        parameters=current.parameters if current else {},
        versions=[
            s.AgreementVersionOut(
                number=v.number,
                text=v.text,
                parameters=v.parameters,
                adopted_at=v.adopted_at,
                outcome_id=v.adopted_by_id,
                proposal_id=v.adopted_by.proposal_id,
            )
            for v in agreement.versions.select_related("adopted_by")
        ],
        is_member=is_member,
        open_proposal_id=open_proposal.pk if open_proposal else None,
    )


def _closes_at(value: datetime | None) -> datetime:
    return value or timezone.now() + timedelta(days=REVIEW_OPEN_DAYS)


@router.post(
    "/circles/{slug:slug}/agreements/{agreement_id}/review",
    response={201: s.ProposalOut, **ERRORS},
    tags=["agreements"],
)
def agreement_review(
    request: HttpRequest, slug: str, agreement_id: int, payload: s.ReviewIn
) -> Status[s.ProposalOut]:
    """Open a review proposal pre-filled with the current text (members of its circle)."""
    proposal = decision_services.agreement_review_open(
        actor=_me(request),
        agreement=_agreement(request, slug, agreement_id),
        closes_at=_closes_at(payload.closes_at),
    )
    return Status(201, _reloaded(request, proposal))


@router.post(
    "/circles/{slug:slug}/agreements/{agreement_id}/borrow",
    response={201: s.ProposalOut, **ERRORS},
    tags=["agreements"],
)
def agreement_borrow(
    request: HttpRequest, slug: str, agreement_id: int, payload: s.BorrowIn
) -> Status[s.ProposalOut]:
    """Copy the agreement into one of your other circles as a proposal, with its provenance."""
    agreement = _agreement(request, slug, agreement_id)
    if not allowed("agreements.borrow_agreement", request.user, agreement):
        raise NotAllowed("You can borrow only into one of your circles other than its own.")
    target = (
        circle_selectors.circles_visible_to(user=request.user).filter(slug=payload.circle).first()
    )
    if target is None:
        raise InvalidInput(
            "No such circle, or it is not visible to you.",
            fields={"circle": ["Choose one of your circles."]},
        )
    proposal = decision_services.agreement_borrow(
        actor=_me(request),
        agreement=agreement,
        circle=target,
        closes_at=_closes_at(payload.closes_at),
    )
    return Status(201, _reloaded(request, proposal))


@router.post(
    "/circles/{slug:slug}/agreements/{agreement_id}/visibility",
    response={200: s.AgreementSummaryOut, **ERRORS},
    tags=["agreements"],
)
def agreement_visibility(
    request: HttpRequest, slug: str, agreement_id: int, payload: s.VisibilityIn
) -> s.AgreementSummaryOut:
    """Change who reads the agreement (members of its circle; kept in the circle's history)."""
    agreement = _agreement(request, slug, agreement_id)
    if not allowed("agreements.change_visibility", request.user, agreement):
        raise NotAllowed("Only the circle's members change who reads its agreements.")
    changed = agreement_services.agreement_visibility_set(
        actor=_me(request), agreement=agreement, visibility=payload.visibility
    )
    return _agreement_summary(request, changed)


# --- ethical statements -------------------------------------------------------------------------
# A circle's members circulate its ethical statement (adopted, or a draft being decided) and
# publish an adopted one; members of every circle in the federation read circulations and
# comment; the public reads only published statements, never comments.


def _comment_out(row: CommentRow) -> s.EthicsCommentOut:
    return s.EthicsCommentOut(
        id=row.comment.pk, name=row.name, text=row.comment.text, created_at=row.comment.created_at
    )


def _circulations_out(
    request: HttpRequest, circle: Circle, circulations: list[EthicsCirculation]
) -> list[s.CirculationOut]:
    """Circulations of one circle, with who circulated each and their comments: the same
    number of queries for any number of circulations (selectors.circulation_rows)."""
    is_member = allowed("agreements.circulate_ethics", request.user, circle)
    name = circle_name_for(request.user, circle)
    rows = agreement_selectors.circulation_rows(user=request.user, circulations=circulations)
    return [
        s.CirculationOut(
            id=c.pk,
            circle=circle.slug,
            circle_name=name,
            title=c.title,
            text=c.text,
            draft=c.is_draft,
            agreement_id=c.agreement_id,
            version=c.version.number if c.version else None,
            proposal_id=c.proposal_id if is_member else None,
            circulated_by=rows.by[c.pk],
            circulated_at=c.circulated_at,
            comments=[_comment_out(row) for row in rows.comments[c.pk]],
        )
        for c in circulations
    ]


def _circulation_out(request: HttpRequest, c: EthicsCirculation) -> s.CirculationOut:
    return _circulations_out(request, c.circle, [c])[0]


def _circle_for_circulations(request: HttpRequest, slug: str) -> Circle:
    return visible_circle(
        request,
        slug,
        rule="agreements.view_circle_circulations",
        missing="No such circle in your federation.",
    )


def _circulation(request: HttpRequest, slug: str, circulation_id: int) -> EthicsCirculation:
    circulation = (
        EthicsCirculation.objects.select_related(
            "circle__federation", "version", "proposal", "circulated_by"
        )
        .filter(pk=circulation_id, circle__slug=slug)
        .first()
    )
    if circulation is None or not allowed("agreements.view_circulation", request.user, circulation):
        raise NotFound("No such circulated statement, or it is not visible to you.")
    return circulation


@router.post(
    "/circles/{slug:slug}/agreements/{agreement_id}/circulate",
    response={201: s.CirculationOut, **ERRORS},
    tags=["ethical statements"],
)
def ethics_circulate(
    request: HttpRequest, slug: str, agreement_id: int
) -> Status[s.CirculationOut]:
    """Circulate the circle's adopted ethical statement to the federation (its members)."""
    agreement = _agreement(request, slug, agreement_id)
    if not allowed("agreements.circulate_ethics", request.user, agreement.circle):
        raise NotAllowed("Only the circle's members circulate its ethical statement.")
    circulation = agreement_services.ethics_circulate(actor=_me(request), agreement=agreement)
    return Status(201, _circulation_out(request, circulation))


@router.post(
    "/circles/{slug:slug}/proposals/{proposal_id}/circulate",
    response={201: s.CirculationOut, **ERRORS},
    tags=["ethical statements"],
)
def ethics_circulate_draft(
    request: HttpRequest, slug: str, proposal_id: int
) -> Status[s.CirculationOut]:
    """Circulate a draft ethical statement: an open proposal that adopts or revises one."""
    proposal = (
        Proposal.objects.select_related("circle__federation", "agreement")
        .filter(pk=proposal_id, circle__slug=slug)
        .first()
    )
    if proposal is None or not allowed("decisions.view_proposal", request.user, proposal):
        raise NotFound("No such proposal, or it is not visible to you.")
    circulation = agreement_services.ethics_circulate(actor=_me(request), proposal=proposal)
    return Status(201, _circulation_out(request, circulation))


@router.post(
    "/circles/{slug:slug}/agreements/{agreement_id}/publish",
    response={200: s.AgreementSummaryOut, **ERRORS},
    tags=["ethical statements"],
)
def ethics_publish(request: HttpRequest, slug: str, agreement_id: int) -> s.AgreementSummaryOut:
    """Publish the circle's adopted ethical statement on the public register (its members)."""
    agreement = _agreement(request, slug, agreement_id)
    if not allowed("agreements.publish_ethics", request.user, agreement):
        raise NotAllowed("Only the circle's members publish its ethical statement.")
    return _agreement_summary(
        request, agreement_services.ethics_publish(actor=_me(request), agreement=agreement)
    )


@router.get(
    "/circles/{slug:slug}/ethics/circulations",
    response={200: list[s.CirculationOut], **ERRORS},
    tags=["ethical statements"],
)
def ethics_circulation_list(
    request: HttpRequest, slug: str, response: HttpResponse, paging: Query[PageIn]
) -> list[s.CirculationOut]:
    """The circle's circulated statements and drafts, newest first, with their comments
    (members of the federation's circles); a page at a time (`limit`, `cursor`)."""
    circle = _circle_for_circulations(request, slug)
    rows = page_queryset(
        request,
        response,
        paging,
        agreement_selectors.federation_circulations(federation_id=circle.federation_id).filter(
            circle=circle
        ),
        order=("-circulated_at", "-pk"),
    )
    return _circulations_out(request, circle, rows)


@router.get(
    "/circles/{slug:slug}/ethics/circulations/{circulation_id}/comments",
    response={200: list[s.EthicsCommentOut], **ERRORS},
    tags=["ethical statements"],
)
def ethics_comment_list(
    request: HttpRequest,
    slug: str,
    circulation_id: int,
    response: HttpResponse,
    paging: Query[PageIn],
) -> list[s.EthicsCommentOut]:
    """Comments on a circulated statement (members of the federation's circles), oldest
    first, a page at a time (`limit`, `cursor`)."""
    circulation = _circulation(request, slug, circulation_id)
    rows = page_rows(
        request,
        response,
        paging,
        agreement_selectors.comment_rows(user=request.user, circulation=circulation),
        key=lambda row: (ts(row.comment.created_at), row.comment.pk),
    )
    return [_comment_out(row) for row in rows]


@router.post(
    "/circles/{slug:slug}/ethics/circulations/{circulation_id}/comments",
    response={201: s.EthicsCommentOut, **ERRORS},
    tags=["ethical statements"],
)
def ethics_comment_add(
    request: HttpRequest, slug: str, circulation_id: int, payload: s.EthicsCommentIn
) -> Status[s.EthicsCommentOut]:
    """Comment on a circulated statement; the circle's members are told."""
    circulation = _circulation(request, slug, circulation_id)
    comment = agreement_services.ethics_comment_add(
        actor=_me(request), circulation=circulation, text=payload.text
    )
    rows = agreement_selectors.comment_rows(user=request.user, circulation=circulation)
    row = next(r for r in rows if r.comment.pk == comment.pk)
    return Status(201, _comment_out(row))


@router.get(
    "/federations/{federation_slug}/ethics",
    response={200: list[s.PublishedStatementOut], **ERRORS},
    auth=None,
    tags=["ethical statements"],
)
def ethics_register(
    request: HttpRequest, federation_slug: str, response: HttpResponse, paging: Query[PageIn]
) -> list[s.PublishedStatementOut]:
    """The public register: every circle's published ethical statement, side by side, by the
    circle's name; a page at a time (`limit`, `cursor`: see the Link header)."""
    authenticate_optional(request)
    federation = federation_by_slug(federation_slug)
    # Keyset pages in SQL: one query a page however many circles have published (the cursor
    # is the same (circle name, circle id) key the list has always used).
    statements = page_queryset(
        request,
        response,
        paging,
        agreement_selectors._published_statements(user=request.user, federation_id=federation.pk),
        order=("circle__name", "circle_id"),
    )
    return [
        s.PublishedStatementOut(
            circle=a.circle.slug,
            circle_name=a.circle.name,
            circle_status=a.circle.status,
            agreement_id=a.pk,
            title=a.title,
            version=a.current_version.number,
            adopted_at=a.current_version.adopted_at,
            text=a.current_version.text,
            borrowed_from=_provenance(request, a.borrowed_from),
        )
        for a in statements
        if a.current_version is not None
    ]
