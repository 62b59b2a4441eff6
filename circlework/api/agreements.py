"""A circle's agreements, their reviews and borrowing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from circlework.agreements import selectors as agreement_selectors
from circlework.agreements import services as agreement_services
from circlework.agreements.models import Agreement
from circlework.agreements.views import REVIEW_OPEN_DAYS
from circlework.api import schemas as s
from circlework.api.auth import authenticate_optional
from circlework.api.base import ERRORS, _me, _provenance
from circlework.api.decisions import _reloaded
from circlework.circles import selectors as circle_selectors
from circlework.circles.models import Circle
from circlework.core.errors import InvalidInput, NotAllowed, NotFound
from circlework.core.permissions import allowed
from circlework.decisions.models import ProposalStatus

router = Router()


# --- agreements -------------------------------------------------------------------------------
# Each agreement has its own visibility (agreements.view_agreement): a federation-wide agreement
# of a circle-only circle can be read across the federation, and borrowed from there.


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


def _agreement_summary(request: HttpRequest, agreement: Agreement) -> dict[str, Any]:
    current = agreement.current_version
    return {
        "id": agreement.pk,
        "circle": agreement.circle.slug,
        "kind": agreement.kind,
        "title": agreement.title,
        "visibility": agreement.visibility,
        "current_version": current.number if current else None,
        "adopted_at": current.adopted_at if current else None,
        "review_interval_months": agreement.review_interval_months,
        "review_due": agreement.review_due,
        "borrowed_from": _provenance(request, agreement.borrowed_from),
    }


@router.get(
    "/circles/{slug:slug}/agreements",
    response={200: list[s.AgreementSummaryOut], **ERRORS},
    auth=None,
    tags=["agreements"],
)
def agreement_list(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    """The circle's agreements that you may read. 404 if you can see neither the circle nor any
    of its agreements."""
    authenticate_optional(request)
    circle = Circle.objects.select_related("federation").filter(slug=slug).first()
    if circle is None:
        raise NotFound("No such circle, or it is not visible to you.")
    agreements = [
        a
        for a in agreement_selectors.circle_agreements(circle=circle)
        if allowed("agreements.view_agreement", request.user, a)
    ]
    if not agreements and not allowed("circles.view_circle", request.user, circle):
        raise NotFound("No such circle, or it is not visible to you.")
    return [_agreement_summary(request, a) for a in agreements]


@router.get(
    "/circles/{slug:slug}/agreements/{agreement_id}",
    response={200: s.AgreementOut, **ERRORS},
    auth=None,
    tags=["agreements"],
)
def agreement_get(request: HttpRequest, slug: str, agreement_id: int) -> dict[str, Any]:
    """The current text and every adopted version, each with the outcome that adopted it."""
    authenticate_optional(request)
    agreement = _agreement(request, slug, agreement_id)
    current = agreement.current_version
    is_member = allowed("agreements.review_agreement", request.user, agreement)
    open_proposal = (
        agreement.proposals.filter(status=ProposalStatus.OPEN).first() if is_member else None
    )
    return {
        **_agreement_summary(request, agreement),
        "text": current.text if current else "",
        "parameters": current.parameters if current else {},
        "versions": [
            {
                "number": v.number,
                "text": v.text,
                "parameters": v.parameters,
                "adopted_at": v.adopted_at,
                "outcome_id": v.adopted_by_id,
                "proposal_id": v.adopted_by.proposal_id,
            }
            for v in agreement.versions.select_related("adopted_by")
        ],
        "is_member": is_member,
        "open_proposal_id": open_proposal.pk if open_proposal else None,
    }


def _closes_at(value: datetime | None) -> datetime:
    return value or timezone.now() + timedelta(days=REVIEW_OPEN_DAYS)


@router.post(
    "/circles/{slug:slug}/agreements/{agreement_id}/review",
    response={201: s.ProposalOut, **ERRORS},
    tags=["agreements"],
)
def agreement_review(
    request: HttpRequest, slug: str, agreement_id: int, payload: s.ReviewIn
) -> Status[dict[str, Any]]:
    """Open a review proposal pre-filled with the current text (members of its circle)."""
    proposal = agreement_services.agreement_review_open(
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
) -> Status[dict[str, Any]]:
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
    proposal = agreement_services.agreement_borrow(
        actor=_me(request),
        agreement=agreement,
        circle=target,
        closes_at=_closes_at(payload.closes_at),
    )
    return Status(201, _reloaded(request, proposal))
