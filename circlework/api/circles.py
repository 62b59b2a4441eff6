"""Practitioners, federations, circles, their memberships and invitations."""

from __future__ import annotations

from typing import Literal, cast

from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status

from circlework.accounts import selectors as account_selectors
from circlework.accounts.models import Practitioner
from circlework.api import schemas as s
from circlework.api.auth import authenticate_optional
from circlework.api.base import ERRORS, _invitation_out, _me
from circlework.api.loaders import federation_by_slug, visible_circle
from circlework.api.paging import PageIn, page_queryset, page_rows, ts
from circlework.circles import selectors as circle_selectors
from circlework.circles import services as circle_services
from circlework.circles.covenant import (
    FederationRules,
    current_covenant,
    rules_from,
)
from circlework.circles.covenant import review_due as covenant_review_due
from circlework.circles.models import (
    Circle,
    CovenantVersion,
    Federation,
    Invitation,
    Membership,
)
from circlework.circles.selectors import MemberRow
from circlework.core.errors import ApplicationError, NotAllowed, NotFound
from circlework.core.permissions import allowed
from circlework.core.visibility import forget_audience

router = Router()


def _circle_out(request: HttpRequest, circle: Circle) -> s.CircleOut:
    return s.CircleOut(
        slug=circle.slug,
        name=circle.name,
        federation=circle.federation.slug,
        purpose=circle.purpose,
        locality=circle.locality,
        meeting_pattern=circle.meeting_pattern,
        open_to_new_members=circle.open_to_new_members,
        status=circle.status,
        # The model's choices are these three levels (circles.models.CircleVisibility).
        visibility=cast(s.CircleVisibility, circle.visibility),
        requires_two_factor=circle.requires_two_factor,
        is_member=allowed("circles.change_circle", request.user, circle),
    )


def _membership_out(practitioner_id: int | None, name: str, m: Membership) -> s.MembershipOut:
    return s.MembershipOut(
        practitioner_id=practitioner_id, name=name, joined_at=m.joined_at, left_at=m.left_at
    )


# --- practitioners --------------------------------------------------------------------------


@router.get(
    "/practitioners/{practitioner_id}",
    response={200: s.PublicProfileOut, **ERRORS},
    auth=None,
    tags=["practitioners"],
)
def practitioner_get(request: HttpRequest, practitioner_id: int) -> s.PublicProfileOut:
    authenticate_optional(request)
    p = Practitioner.objects.filter(pk=practitioner_id).first()
    if p is None or not allowed("accounts.view_practitioner", request.user, p):
        raise NotFound()
    return s.PublicProfileOut(
        id=p.pk,
        fields=account_selectors.visible_profile_fields(user=request.user, practitioner=p),
    )


# --- federations and circles ------------------------------------------------------------------


def _rules_out(rules: FederationRules) -> s.FederationRulesOut:
    # The covenant's reader keeps officer_electorate and forming_circles_may to their choices
    # (circles.covenant.OfficerElectorate, FormingCirclesMay), which the literals mirror.
    return s.FederationRulesOut(
        min_circle_size=rules.min_circle_size,
        links_required=rules.links_required,
        link_lapse_months=rules.link_lapse_months,
        no_closed_triangles=rules.no_closed_triangles,
        officer_electorate=cast(Literal["delegates", "members"], rules.officer_electorate),
        review_months=rules.review_months,
        roles={slug: dict(settings) for slug, settings in rules.roles.items()},
        forming_circles_may=[
            cast(Literal["follow_federation_decisions"], may) for may in rules.forming_circles_may
        ],
        recommended_max_circle_size=rules.recommended_max_circle_size,
    )


def _federation_out(
    federation: Federation, current: CovenantVersion | Literal[False] | None = False
) -> s.FederationOut:
    """`current`: the federation's covenant in force when the caller has read it already (a page
    of federations reads theirs in one query); left out, it is read here."""
    if current is False:
        current = current_covenant(federation)
    return s.FederationOut(
        slug=federation.slug,
        name=federation.name,
        description=federation.description,
        covenant=federation.covenant,
        covenant_version=current.number if current else None,
        rules=_rules_out(rules_from(current.parameters if current is not None else {})),
    )


@router.get(
    "/federations", response={200: list[s.FederationOut], **ERRORS}, auth=None, tags=["federations"]
)
def federation_list(
    request: HttpRequest, response: HttpResponse, paging: Query[PageIn]
) -> list[s.FederationOut]:
    """Every federation, with its current covenant and the rules it sets; by name, a page at a
    time (`limit`, `cursor`: see the Link header)."""
    authenticate_optional(request)
    rows = page_queryset(
        request, response, paging, circle_selectors.federations(), order=("name", "pk")
    )
    # The covenant in force (the newest version, as current_covenant reads it) of every
    # federation on the page in one query, not one per federation.
    newest = (
        CovenantVersion.objects.filter(federation=OuterRef("federation"))
        .order_by("-number")
        .values("pk")[:1]
    )
    covenants = {
        v.federation_id: v
        for v in CovenantVersion.objects.filter(
            federation__in=[f.pk for f in rows], pk=Subquery(newest)
        )
    }
    return [_federation_out(f, covenants.get(f.pk)) for f in rows]


@router.get(
    "/federations/{federation_slug}/covenant",
    response={200: s.CovenantOut, **ERRORS},
    auth=None,
    tags=["federations"],
)
def covenant_get(request: HttpRequest, federation_slug: str) -> s.CovenantOut:
    """The federation's covenant: every version with its text and rules. Public, like the
    federation's page; changed only by a federation proposal the circles agree."""
    authenticate_optional(request)
    federation = federation_by_slug(federation_slug)
    members = allowed("decisions.view_federation_decisions", request.user, federation)
    versions = list(federation.covenant_versions.order_by("number"))
    return s.CovenantOut(
        federation=federation.slug,
        current=versions[-1].number if versions else None,
        versions=[
            s.CovenantVersionOut(
                number=v.number,
                text=v.text,
                rules=_rules_out(rules_from(v.parameters)),
                adopted_at=v.adopted_at,
                review_due=covenant_review_due(v),
                federation_proposal_id=v.adopted_by_id if members else None,
            )
            for v in versions
        ],
    )


@router.get("/circles", response={200: list[s.CircleOut], **ERRORS}, auth=None, tags=["circles"])
def circle_list(
    request: HttpRequest, response: HttpResponse, paging: Query[PageIn]
) -> list[s.CircleOut]:
    """The circles you can see, by name, a page at a time (`limit`, `cursor`: see the Link
    header)."""
    authenticate_optional(request)
    rows = page_queryset(
        request,
        response,
        paging,
        circle_selectors.circles_visible_to(user=request.user),
        order=("name", "pk"),
    )
    return [_circle_out(request, c) for c in rows]


@router.post("/circles", response={201: s.CircleOut, **ERRORS}, tags=["circles"])
def circle_found(request: HttpRequest, payload: s.CircleIn) -> Status[s.CircleOut]:
    federation = Federation.objects.filter(slug=payload.federation).first()
    if federation is None:
        raise ApplicationError(
            "No such federation.", fields={"federation": ["Unknown federation."]}
        )
    data = payload.model_dump(exclude={"federation"})
    circle = circle_services.circle_found(actor=_me(request), federation=federation, **data)
    forget_audience(request.user)
    return Status(201, _circle_out(request, circle))


@router.get(
    "/circles/{slug:slug}", response={200: s.CircleOut, **ERRORS}, auth=None, tags=["circles"]
)
def circle_get(request: HttpRequest, slug: str) -> s.CircleOut:
    authenticate_optional(request)
    return _circle_out(request, visible_circle(request, slug))


@router.patch("/circles/{slug:slug}", response={200: s.CircleOut, **ERRORS}, tags=["circles"])
def circle_patch(request: HttpRequest, slug: str, payload: s.CirclePatch) -> s.CircleOut:
    circle = visible_circle(request, slug)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    circle = circle_services.circle_update(actor=_me(request), circle=circle, changes=changes)
    return _circle_out(request, circle)


@router.get(
    "/circles/{slug:slug}/memberships",
    response={200: list[s.MembershipOut], **ERRORS},
    auth=None,
    tags=["memberships"],
)
def circle_memberships(
    request: HttpRequest, slug: str, response: HttpResponse, paging: Query[PageIn]
) -> list[s.MembershipOut]:
    """The circle's current members, as the member list names them to you, in the order they
    joined; a page at a time (`limit`, `cursor`: see the Link header)."""
    authenticate_optional(request)
    circle = visible_circle(request, slug)
    rows = page_rows(
        request,
        response,
        paging,
        _members_keyed(circle_selectors.circle_members(user=request.user, circle=circle)),
        key=lambda row: row[0],
    )
    return [_membership_out(r.practitioner_id, r.name, r.membership) for _key, r in rows]


MemberKey = tuple[int, int, int]


def _members_keyed(rows: list[MemberRow]) -> list[tuple[MemberKey, MemberRow]]:
    """The members in the order they joined, each with a cursor key made of what the list shows
    you: when they joined, their id where their name is shown (0 where it is kept from you), and
    their place among the members with those same two (so never an id, or a membership's, that
    the list keeps from you). Ties keep the members' own order by when they joined and their
    membership."""
    ordered = sorted(
        rows, key=lambda r: (ts(r.membership.joined_at), r.practitioner_id or 0, r.membership.pk)
    )
    out: list[tuple[MemberKey, MemberRow]] = []
    previous: tuple[int, int] | None = None
    n = 0
    for r in ordered:
        head = (ts(r.membership.joined_at), r.practitioner_id or 0)
        n = n + 1 if head == previous else 0
        previous = head
        out.append(((*head, n), r))
    return out


@router.post(
    "/circles/{slug:slug}/leave", response={200: s.MembershipOut, **ERRORS}, tags=["memberships"]
)
def circle_leave(request: HttpRequest, slug: str) -> s.MembershipOut:
    circle = visible_circle(request, slug)
    m = circle_services.membership_leave(actor=_me(request), circle=circle)
    forget_audience(request.user)
    return _membership_out(_me(request).pk, _me(request).display_name, m)


@router.get(
    "/circles/{slug:slug}/invitations",
    response={200: list[s.InvitationOut], **ERRORS},
    tags=["invitations"],
)
def circle_invitations(
    request: HttpRequest, slug: str, response: HttpResponse, paging: Query[PageIn]
) -> list[s.InvitationOut]:
    """The circle's invitations, newest first, a page at a time (`limit`, `cursor`)."""
    circle = visible_circle(request, slug)
    if not allowed("circles.view_invitations", request.user, circle):
        raise NotAllowed()
    rows = page_queryset(
        request,
        response,
        paging,
        circle_selectors.circle_invitations(circle=circle),
        order=("-created_at", "-pk"),
    )
    return [_invitation_out(i) for i in rows]


@router.post(
    "/circles/{slug:slug}/invitations",
    response={201: s.InvitationCreatedOut, **ERRORS},
    tags=["invitations"],
)
def invitation_create(
    request: HttpRequest, slug: str, payload: s.InvitationIn
) -> Status[s.InvitationCreatedOut]:
    circle = visible_circle(request, slug)
    base = request.build_absolute_uri("/").rstrip("/")
    invitation, secret = circle_services.invitation_create(
        actor=_me(request),
        circle=circle,
        email=payload.email,
        message=payload.message,
        base_url=base,
    )
    return Status(
        201,
        s.InvitationCreatedOut(
            id=invitation.pk,
            circle=invitation.circle.slug,
            email=invitation.email,
            status=invitation.status,
            expires_at=invitation.expires_at,
            created_at=invitation.created_at,
            link=base + circle_services.invitation_link(secret),
        ),
    )


@router.post(
    "/circles/{slug:slug}/invitations/{invitation_id}/revoke",
    response={200: s.InvitationOut, **ERRORS},
    tags=["invitations"],
)
def invitation_revoke(request: HttpRequest, slug: str, invitation_id: int) -> s.InvitationOut:
    circle = visible_circle(request, slug)
    invitation = get_object_or_404(
        Invitation.objects.select_related("circle"), pk=invitation_id, circle=circle
    )
    return _invitation_out(
        circle_services.invitation_revoke(actor=_me(request), invitation=invitation)
    )


@router.post("/invitations/accept", response={200: s.MembershipOut, **ERRORS}, tags=["invitations"])
def invitation_accept(request: HttpRequest, payload: s.InvitationSecretIn) -> s.MembershipOut:
    m = circle_services.invitation_accept(actor=_me(request), secret=payload.secret)
    forget_audience(request.user)
    return _membership_out(_me(request).pk, _me(request).display_name, m)


@router.post(
    "/invitations/decline", response={200: s.InvitationOut, **ERRORS}, tags=["invitations"]
)
def invitation_decline(request: HttpRequest, payload: s.InvitationSecretIn) -> s.InvitationOut:
    return _invitation_out(
        circle_services.invitation_decline(actor=_me(request), secret=payload.secret)
    )
