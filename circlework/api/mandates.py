"""Mandates: who holds which position of authority, its scope, term, review and handover plan.

A circle's mandates are visible to whoever may see the circle (as its page), a federation's to
the members of its circles. A circle you cannot see, a mandate you may not see, a federation that
does not exist → 404; a federation's officers when you are not a member → 403. Only the holder
resigns or edits the handover plan; only a live holder of a mandate granting "federation.notice"
sends a notice to the federation.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from circlework.api import schemas as s
from circlework.api.base import ERRORS, _me
from circlework.api.loaders import federation_by_slug, visible_circle
from circlework.api.paging import PageIn, page_queryset, page_rows, ts
from circlework.circles.roles import PERMISSIONS, Role
from circlework.core.errors import NotAllowed, NotFound
from circlework.core.permissions import allowed
from circlework.mandates import selectors as mandate_selectors
from circlework.mandates import services as mandate_services
from circlework.mandates.models import Mandate

router = Router(tags=["mandates"])


# --- helpers ----------------------------------------------------------------------------------


def _scope(codes: Iterable[str]) -> list[s.PermissionOut]:
    return [
        s.PermissionOut(code=c, description=str(PERMISSIONS[c])) for c in codes if c in PERMISSIONS
    ]


def _mandate_out(row: mandate_selectors.MandateRow) -> s.MandateOut:
    m = row.mandate
    federation = m.circle.federation if m.circle is not None else m.federation
    return s.MandateOut(
        id=m.pk,
        role=m.role,
        role_name=row.role_name,
        circle=m.circle.slug if m.circle is not None else None,
        federation=federation.slug if federation is not None else "",
        holder=s.PersonOut(practitioner_id=row.holder_id, name=row.holder_name),
        scope=_scope(m.permissions or []),
        starts_on=m.starts_on,
        ends_on=m.ends_on,
        review_on=m.review_on,
        handover_plan=m.handover_plan,
        election_id=m.election_id,
        consecutive_term=m.consecutive_term,
        live=row.is_live,
        ended_early_on=row.ended_on if m.ended_early_at is not None else None,
        end_reason=m.end_reason,
        review_due=row.review_due,
        review_overdue=row.review_overdue,
        ending_soon=row.ending_soon,
    )


def _role_out(role: Role) -> s.RoleOut:
    return s.RoleOut(
        slug=role.slug,
        name=str(role.name),
        description=str(role.description),
        scope=_scope(role.permissions),
        term_months=role.term_months,
        review_months=role.review_months,
        max_consecutive_terms=role.max_consecutive_terms,
        seats=role.seats,
        method=role.method,
    )


def _page_out(page: mandate_selectors.MandatesPage) -> s.MandatesOut:
    return s.MandatesOut(
        live=[_mandate_out(r) for r in page.live],
        upcoming=[_mandate_out(r) for r in page.upcoming],
        past=[_mandate_out(r) for r in page.past],
        roles=[_role_out(r) for r in page.roles],
    )


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


def _detail(request: HttpRequest, mandate_id: int) -> s.MandateOut:
    mandate = _mandate(request, mandate_id)
    return _mandate_out(mandate_selectors.mandate_row(user=request.user, mandate=mandate))


# --- operations -------------------------------------------------------------------------------


@router.get("/me/mandates", response={200: list[s.MandateOut], **ERRORS})
def my_mandate_list(
    request: HttpRequest, response: HttpResponse, paging: Query[PageIn], include_past: bool = False
) -> list[s.MandateOut]:
    """The mandates you hold now, soonest end first; with `include_past`, every one you held.

    Only those you may read now (the holder reads a mandate while its circle or federation
    counts them in: a circle that asks for two-factor authentication needs a token made in a
    session that used the second factor). A page at a time (`limit`, `cursor`: see the Link
    header)."""
    me = _me(request)
    if not include_past:
        rows = page_rows(
            request,
            response,
            paging,
            mandate_selectors.mandates_held(practitioner=me, user=request.user),
            key=lambda r: (ts(r.mandate.ends_on), r.mandate.pk),
        )
        return [_mandate_out(r) for r in rows]
    mandates = page_queryset(
        request,
        response,
        paging,
        mandate_selectors.mandates_of(practitioner=me),
        order=("-ends_on", "-pk"),
        keep=lambda m: allowed("mandates.view_mandate", request.user, m),
    )
    return [
        _mandate_out(mandate_selectors.mandate_row(user=request.user, mandate=m)) for m in mandates
    ]


@router.get("/circles/{slug:slug}/mandates", response={200: s.MandatesOut, **ERRORS})
def circle_mandate_list(request: HttpRequest, slug: str) -> s.MandatesOut:
    """The circle's live, upcoming and past mandates, and the roles its agreement defines.
    Visible to whoever may see the circle: a circle-only circle's to its members."""
    circle = visible_circle(request, slug, rule="mandates.view_circle_mandates")
    return _page_out(mandate_selectors.circle_mandates_page(user=request.user, circle=circle))


@router.get("/federations/{federation_slug}/mandates", response={200: s.MandatesOut, **ERRORS})
def federation_mandate_list(request: HttpRequest, federation_slug: str) -> s.MandatesOut:
    """The federation's officers (live, upcoming, past) and the roles its covenant defines."""
    federation = federation_by_slug(federation_slug)
    if not allowed("mandates.view_federation_mandates", request.user, federation):
        raise NotAllowed("Only members of the federation can see its officers' mandates.")
    return _page_out(
        mandate_selectors.federation_mandates_page(user=request.user, federation=federation)
    )


@router.get("/mandates/{mandate_id}", response={200: s.MandateOut, **ERRORS})
def mandate_get(request: HttpRequest, mandate_id: int) -> s.MandateOut:
    """One mandate: role, scope, holder, term, review, handover plan and the election behind it."""
    return _detail(request, mandate_id)


@router.post("/mandates/{mandate_id}/resign", response={200: s.MandateOut, **ERRORS})
def mandate_resign(request: HttpRequest, mandate_id: int, payload: s.ResignIn) -> s.MandateOut:
    """The holder steps down early, with a reason; the mandate's permissions lapse at once."""
    mandate_services.mandate_resign(
        actor=_me(request), mandate=_mandate(request, mandate_id), reason=payload.reason
    )
    return _detail(request, mandate_id)


@router.post("/mandates/{mandate_id}/handover", response={200: s.MandateOut, **ERRORS})
def mandate_handover_update(
    request: HttpRequest, mandate_id: int, payload: s.HandoverIn
) -> s.MandateOut:
    """The holder rewrites how the role will be reduced or passed on (live mandates only)."""
    mandate_services.mandate_handover_update(
        actor=_me(request),
        mandate=_mandate(request, mandate_id),
        handover_plan=payload.handover_plan,
    )
    return _detail(request, mandate_id)


@router.post("/federations/{federation_slug}/notices", response={201: s.NoticeOut, **ERRORS})
def federation_notice_send(
    request: HttpRequest, federation_slug: str, payload: s.NoticeIn
) -> Status[s.NoticeOut]:
    """A live holder of a mandate granting "federation.notice" (coordinator, registrar) writes to
    every current member of the federation's circles. Anyone else: 403, naming the end date if
    their own mandate has ended."""
    federation = federation_by_slug(federation_slug)
    told = mandate_services.federation_notice_send(
        actor=_me(request), federation=federation, title=payload.title, text=payload.text
    )
    return Status(201, s.NoticeOut(federation=federation.slug, recipients=told))
