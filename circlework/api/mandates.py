"""Mandates: who holds which position of authority, its scope, term, review and handover plan.

A circle's mandates are visible to whoever may see the circle (as its page), a federation's to
the members of its circles. A circle you cannot see, a mandate you may not see, a federation that
does not exist → 404; a federation's officers when you are not a member → 403. Only the holder
resigns or edits the handover plan; only a live holder of a mandate granting "federation.notice"
sends a notice to the federation.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from circlework.api.base import ERRORS, _me
from circlework.api.schemas import InSchema, PersonOut
from circlework.circles.models import Circle, Federation
from circlework.circles.roles import PERMISSIONS, Role
from circlework.core.errors import NotAllowed, NotFound
from circlework.core.permissions import allowed
from circlework.mandates import selectors as mandate_selectors
from circlework.mandates import services as mandate_services
from circlework.mandates.models import Mandate

router = Router(tags=["mandates"])


# --- schemas ----------------------------------------------------------------------------------


class PermissionOut(Schema):
    code: str = Field(description="e.g. decisions.record_circle_position")
    description: str


class MandateOut(Schema):
    id: int
    role: str
    role_name: str
    circle: str | None = Field(description="The circle's slug, for a circle's mandate.")
    federation: str = Field(description="The federation's slug (a circle mandate's too).")
    holder: PersonOut
    scope: list[PermissionOut] = Field(description="What it lets the holder do, while current.")
    starts_on: date
    ends_on: date = Field(
        description="The mandate ends at the start of this day (the server's local date): the day before is the last day in the role."
    )
    review_on: date
    handover_plan: str = Field(description="How this role will be reduced or passed on.")
    election_id: int | None
    consecutive_term: int
    live: bool
    ended_early_on: date | None
    end_reason: str
    review_due: bool = Field(description="Current, and the review falls today or within a month.")
    review_overdue: bool = Field(description="Current, and the review date has passed.")
    ending_soon: bool = Field(description="Current and ending within six weeks.")


class RoleOut(Schema):
    slug: str
    name: str
    description: str
    scope: list[PermissionOut]
    term_months: int
    review_months: int
    max_consecutive_terms: int | None
    seats: int = Field(description="How many people may hold the role here at the same time.")
    method: str = Field(description="consent, stv or approval")


class MandatesOut(Schema):
    live: list[MandateOut]
    upcoming: list[MandateOut]
    past: list[MandateOut] = Field(description="Ended or ended early, latest first, up to 50.")
    roles: list[RoleOut] = Field(description="The roles this circle or federation fills.")


class ResignIn(InSchema):
    reason: str = Field(max_length=500)


class HandoverIn(InSchema):
    handover_plan: str = Field(max_length=5000)


class NoticeIn(InSchema):
    title: str = Field(max_length=160)
    text: str = Field(max_length=5000)


class NoticeOut(Schema):
    federation: str
    recipients: int = Field(description="How many members were told.")


# --- helpers ----------------------------------------------------------------------------------


def _scope(codes: Any) -> list[dict[str, str]]:
    return [{"code": c, "description": str(PERMISSIONS[c])} for c in codes if c in PERMISSIONS]


def _mandate_out(row: mandate_selectors.MandateRow) -> dict[str, Any]:
    m = row.mandate
    federation = m.circle.federation if m.circle is not None else m.federation
    return {
        "id": m.pk,
        "role": m.role,
        "role_name": row.role_name,
        "circle": m.circle.slug if m.circle is not None else None,
        "federation": federation.slug if federation is not None else "",
        "holder": {"practitioner_id": row.holder_id, "name": row.holder_name},
        "scope": _scope(m.permissions or []),
        "starts_on": m.starts_on,
        "ends_on": m.ends_on,
        "review_on": m.review_on,
        "handover_plan": m.handover_plan,
        "election_id": m.election_id,
        "consecutive_term": m.consecutive_term,
        "live": row.is_live,
        "ended_early_on": row.ended_on if m.ended_early_at is not None else None,
        "end_reason": m.end_reason,
        "review_due": row.review_due,
        "review_overdue": row.review_overdue,
        "ending_soon": row.ending_soon,
    }


def _role_out(role: Role) -> dict[str, Any]:
    return {
        "slug": role.slug,
        "name": str(role.name),
        "description": str(role.description),
        "scope": _scope(role.permissions),
        "term_months": role.term_months,
        "review_months": role.review_months,
        "max_consecutive_terms": role.max_consecutive_terms,
        "seats": role.seats,
        "method": role.method,
    }


def _page_out(page: mandate_selectors.MandatesPage) -> dict[str, Any]:
    return {
        "live": [_mandate_out(r) for r in page.live],
        "upcoming": [_mandate_out(r) for r in page.upcoming],
        "past": [_mandate_out(r) for r in page.past],
        "roles": [_role_out(r) for r in page.roles],
    }


def _federation(request: HttpRequest, slug: str) -> Federation:
    federation = Federation.objects.filter(slug=slug).first()
    if federation is None:
        raise NotFound("No such federation.")
    return federation


def _mandate(request: HttpRequest, mandate_id: int) -> Mandate:
    mandate = (
        Mandate.objects.select_related(
            "holder", "circle", "circle__federation", "federation", "election"
        )
        .filter(pk=mandate_id)
        .first()
    )
    if mandate is None or not allowed("mandates.view_mandate", request.user, mandate):
        raise NotFound("No such mandate, or it is not visible to you.")
    return mandate


def _detail(request: HttpRequest, mandate_id: int) -> dict[str, Any]:
    mandate = _mandate(request, mandate_id)
    return _mandate_out(mandate_selectors.mandate_row(user=request.user, mandate=mandate))


# --- operations -------------------------------------------------------------------------------


@router.get("/me/mandates", response={200: list[MandateOut], **ERRORS})
def my_mandate_list(request: HttpRequest, include_past: bool = False) -> list[dict[str, Any]]:
    """The mandates you hold now, soonest end first; with `include_past`, every one you held.

    Only those you may read now (the holder reads a mandate while its circle or federation
    counts them in: a circle that asks for two-factor authentication needs a token made in a
    session that used the second factor)."""
    me = _me(request)
    if not include_past:
        rows = mandate_selectors.mandates_held(practitioner=me, user=request.user)
        return [_mandate_out(r) for r in rows]
    qs = mandate_selectors.mandates_of(practitioner=me).order_by("-ends_on", "-pk")
    return [
        _mandate_out(mandate_selectors.mandate_row(user=request.user, mandate=m))
        for m in qs
        if allowed("mandates.view_mandate", request.user, m)
    ]


@router.get("/circles/{slug:slug}/mandates", response={200: MandatesOut, **ERRORS})
def circle_mandate_list(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The circle's live, upcoming and past mandates, and the roles its agreement defines.
    Visible to whoever may see the circle: a circle-only circle's to its members."""
    circle = Circle.objects.select_related("federation").filter(slug=slug).first()
    if circle is None or not allowed("mandates.view_circle_mandates", request.user, circle):
        raise NotFound("No such circle, or it is not visible to you.")
    return _page_out(mandate_selectors.circle_mandates_page(user=request.user, circle=circle))


@router.get("/federations/{federation_slug}/mandates", response={200: MandatesOut, **ERRORS})
def federation_mandate_list(request: HttpRequest, federation_slug: str) -> dict[str, Any]:
    """The federation's officers (live, upcoming, past) and the roles its covenant defines."""
    federation = _federation(request, federation_slug)
    if not allowed("mandates.view_federation_mandates", request.user, federation):
        raise NotAllowed("Only members of the federation can see its officers' mandates.")
    return _page_out(
        mandate_selectors.federation_mandates_page(user=request.user, federation=federation)
    )


@router.get("/mandates/{mandate_id}", response={200: MandateOut, **ERRORS})
def mandate_get(request: HttpRequest, mandate_id: int) -> dict[str, Any]:
    """One mandate: role, scope, holder, term, review, handover plan and the election behind it."""
    return _detail(request, mandate_id)


@router.post("/mandates/{mandate_id}/resign", response={200: MandateOut, **ERRORS})
def mandate_resign(request: HttpRequest, mandate_id: int, payload: ResignIn) -> dict[str, Any]:
    """The holder steps down early, with a reason; the mandate's permissions lapse at once."""
    mandate_services.mandate_resign(
        actor=_me(request), mandate=_mandate(request, mandate_id), reason=payload.reason
    )
    return _detail(request, mandate_id)


@router.post("/mandates/{mandate_id}/handover", response={200: MandateOut, **ERRORS})
def mandate_handover_update(
    request: HttpRequest, mandate_id: int, payload: HandoverIn
) -> dict[str, Any]:
    """The holder rewrites how the role will be reduced or passed on (live mandates only)."""
    mandate_services.mandate_handover_update(
        actor=_me(request),
        mandate=_mandate(request, mandate_id),
        handover_plan=payload.handover_plan,
    )
    return _detail(request, mandate_id)


@router.post("/federations/{federation_slug}/notices", response={201: NoticeOut, **ERRORS})
def federation_notice_send(
    request: HttpRequest, federation_slug: str, payload: NoticeIn
) -> Status[dict[str, Any]]:
    """A live holder of a mandate granting "federation.notice" (coordinator, registrar) writes to
    every current member of the federation's circles. Anyone else: 403, naming the end date if
    their own mandate has ended."""
    federation = _federation(request, federation_slug)
    told = mandate_services.federation_notice_send(
        actor=_me(request), federation=federation, title=payload.title, text=payload.text
    )
    return Status(201, {"federation": federation.slug, "recipients": told})
