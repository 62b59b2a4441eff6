"""JSON API v1. Thin operations over the same services and selectors the pages use.

Every error is `{"error": "...", "fields": {...}}` with a 4xx status.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, URLResolver, re_path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from circlework.accounts import selectors as account_selectors
from circlework.accounts import services as account_services
from circlework.accounts.models import Credential, Practitioner
from circlework.agreements import selectors as agreement_selectors
from circlework.agreements import services as agreement_services
from circlework.agreements.models import Agreement, AgreementVersion
from circlework.agreements.views import REVIEW_OPEN_DAYS
from circlework.api import schemas as s
from circlework.api.auth import PractitionerSession, TokenAuth, authenticate_optional
from circlework.circles import selectors as circle_selectors
from circlework.circles import services as circle_services
from circlework.circles.models import Circle, Federation, Invitation
from circlework.circles.selectors import MemberRow
from circlework.core.errors import ApplicationError, Conflict, InvalidInput, NotAllowed, NotFound
from circlework.core.permissions import allowed
from circlework.core.visibility import forget_audience
from circlework.decisions import selectors as decision_selectors
from circlework.decisions import services as decision_services
from circlework.decisions.models import (
    Amendment,
    Comment,
    Outcome,
    Proposal,
    ProposalStatus,
    ProposalVersion,
)
from circlework.notifications import selectors as notification_selectors
from circlework.polls import selectors as poll_selectors
from circlework.polls import services as poll_services
from circlework.polls.models import Poll, PollKind
from circlework.polls.selectors import PollResults, ResultRow
from circlework.standing import selectors as standing_selectors
from circlework.standing import services as standing_services
from circlework.standing.models import ConcernStatus, StandingBy, StandingConcern


class CircleworkAPI(NinjaAPI):
    """A NinjaAPI whose every answer under its prefix is JSON, even for an unknown path or method.

    django-ninja answers a method an operation does not take with a plain-text 405, and Django
    answers a path no operation matches with the site's HTML 404 page. Both get the error shape.
    """

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = self._json_errors(pattern.callback)
        patterns.append(re_path(r"^", csrf_exempt(self._unknown_path)))
        return patterns, app_name, namespace

    def _json_errors(self, view: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(view):  # no async operations yet; leave any as they are
            return view

        @functools.wraps(view)  # keeps the view's csrf_exempt mark
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            try:
                response = view(request, *args, **kwargs)
            except Http404:  # the API root, which has no operation
                return self._unknown_path(request)
            if isinstance(response, HttpResponseNotAllowed):
                allow = response["Allow"]
                response = _error(request, 405, f"{request.method} is not allowed here.")
                response["Allow"] = allow
            return response

        return wrapper

    def _unknown_path(self, request: HttpRequest) -> HttpResponse:
        return _error(request, 404, "No such API operation. See /api/v1/openapi.json.")


api = CircleworkAPI(
    title="Circlework API",
    version="1",
    description="Practitioners, circles, memberships and invitations; a circle's proposals, "
    "positions, amendments, comments and outcomes; its agreements, their reviews and borrowing; "
    "its polls and their answers; who stands by whom, and the concerns withdrawals raise. "
    "Authenticate with a personal "
    "API token (`Authorization: Bearer …`, created under My practice → API tokens) or a browser "
    "session. Operations without a security requirement are public; with a token or session they "
    "also show what your memberships let you see.",
    urls_namespace="api",
    docs_url=None,  # the interactive docs load assets from a CDN; the OpenAPI document is enough
    auth=[TokenAuth(), PractitionerSession()],
)

ERRORS: dict[int, Any] = {
    400: s.ErrorOut,
    401: s.ErrorOut,
    403: s.ErrorOut,
    404: s.ErrorOut,
    409: s.ErrorOut,
    422: s.ErrorOut,
}


def _error(
    request: HttpRequest, status: int, message: str, fields: dict[str, list[str]] | None = None
) -> HttpResponse:
    return api.create_response(request, {"error": message, "fields": fields or {}}, status=status)


@api.exception_handler(ApplicationError)
def on_application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return _error(request, exc.status_code, exc.message, exc.fields)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query", "path")]
        fields.setdefault(".".join(loc) or "__all__", []).append(
            str(err.get("msg", "Invalid value."))
        )
    return _error(request, 422, "The request has invalid or missing fields.", fields)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "Authentication required: send a personal API token or log in.")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Raised by django-ninja itself: a failed CSRF check (403), an unparsable body (400), …
    message = str(exc)
    if exc.status_code == 403 and "csrf" in message.lower():
        message = (
            "CSRF check failed: send the X-CSRFToken header with a session, "
            "or authenticate with a personal API token."
        )
    elif message.startswith("Cannot parse request body"):
        message = "The request body is not valid JSON."
    status = exc.status_code if 400 <= exc.status_code < 500 else 400
    return _error(request, status, message)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "Not found.")


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, "You are not allowed to do that.")


def _me(request: HttpRequest) -> Practitioner:
    return request.user.practitioner  # type: ignore[union-attr]


def _visible_circle(request: HttpRequest, slug: str) -> Circle:
    circle = Circle.objects.select_related("federation").filter(slug=slug).first()
    if circle is None or not allowed("circles.view_circle", request.user, circle):
        raise NotFound("No such circle, or it is not visible to you.")
    return circle


def _circle_out(request: HttpRequest, circle: Circle) -> dict[str, Any]:
    return {
        "slug": circle.slug,
        "name": circle.name,
        "federation": circle.federation.slug,
        "purpose": circle.purpose,
        "locality": circle.locality,
        "meeting_pattern": circle.meeting_pattern,
        "open_to_new_members": circle.open_to_new_members,
        "status": circle.status,
        "visibility": circle.visibility,
        "is_member": allowed("circles.change_circle", request.user, circle),
    }


def _profile_out(p: Practitioner) -> dict[str, Any]:
    return {"id": p.pk, **{f: getattr(p, f) for f in s.ProfileOut.model_fields if f != "id"}}


# --- me -------------------------------------------------------------------------------------


@api.get("/me", response={200: s.MeOut, **ERRORS}, tags=["me"])
def me(request: HttpRequest) -> dict[str, Any]:
    p = _me(request)
    return {
        "id": p.pk,
        "email": p.user.email,
        "display_name": p.display_name,
        "time_zone": p.time_zone,
    }


@api.get("/me/profile", response={200: s.ProfileOut, **ERRORS}, tags=["me"])
def profile_get(request: HttpRequest) -> dict[str, Any]:
    return _profile_out(_me(request))


@api.patch("/me/profile", response={200: s.ProfileOut, **ERRORS}, tags=["me"])
def profile_patch(request: HttpRequest, payload: s.ProfilePatch) -> dict[str, Any]:
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    p = account_services.practitioner_update(
        actor=_me(request), practitioner=_me(request), changes=changes
    )
    return _profile_out(p)


@api.get("/me/credentials", response={200: list[s.CredentialOut], **ERRORS}, tags=["me"])
def credentials_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_credential_out(c) for c in _me(request).credentials.all()]


def _credential_out(c: Credential) -> dict[str, Any]:
    return {
        "id": c.pk,
        "title": c.title,
        "issuer": c.issuer,
        "year": c.year,
        "visibility": c.visibility,
        "has_document": bool(c.document),
    }


@api.post("/me/credentials", response={201: s.CredentialOut, **ERRORS}, tags=["me"])
def credentials_add(request: HttpRequest, payload: s.CredentialIn) -> Status[dict[str, Any]]:
    c = account_services.credential_add(actor=_me(request), **payload.model_dump())
    return Status(201, _credential_out(c))


@api.delete("/me/credentials/{credential_id}", response={204: None, **ERRORS}, tags=["me"])
def credentials_remove(request: HttpRequest, credential_id: int) -> Status[None]:
    credential = Credential.objects.filter(pk=credential_id, practitioner=_me(request)).first()
    if credential is None:
        raise NotFound()
    account_services.credential_remove(actor=_me(request), credential=credential)
    return Status(204, None)


@api.get("/me/invitations", response={200: list[s.InvitationOut], **ERRORS}, tags=["invitations"])
def my_invitations(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        _invitation_out(i)
        for i in circle_selectors.pending_invitations_for(practitioner=_me(request))
    ]


@api.get("/me/notifications", response={200: list[s.NotificationOut], **ERRORS}, tags=["me"])
def my_notifications(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "id": n.pk,
            "kind": n.kind,
            "title": n.title,
            "body": n.body,
            "url": n.url,
            "created_at": n.created_at,
            "read": n.read_at is not None,
        }
        for n in notification_selectors.inbox(practitioner=_me(request))
    ]


# --- practitioners --------------------------------------------------------------------------


@api.get(
    "/practitioners/{practitioner_id}",
    response={200: s.PublicProfileOut, **ERRORS},
    auth=None,
    tags=["practitioners"],
)
def practitioner_get(request: HttpRequest, practitioner_id: int) -> dict[str, Any]:
    authenticate_optional(request)
    p = Practitioner.objects.filter(pk=practitioner_id).first()
    if p is None or not allowed("accounts.view_practitioner", request.user, p):
        raise NotFound()
    return {
        "id": p.pk,
        "fields": account_selectors.visible_profile_fields(user=request.user, practitioner=p),
    }


# --- federations and circles ------------------------------------------------------------------


@api.get(
    "/federations", response={200: list[s.FederationOut], **ERRORS}, auth=None, tags=["federations"]
)
def federation_list(request: HttpRequest) -> list[Federation]:
    authenticate_optional(request)
    return list(circle_selectors.federations())


@api.get("/circles", response={200: list[s.CircleOut], **ERRORS}, auth=None, tags=["circles"])
def circle_list(request: HttpRequest) -> list[dict[str, Any]]:
    authenticate_optional(request)
    return [_circle_out(request, c) for c in circle_selectors.circles_visible_to(user=request.user)]


@api.post("/circles", response={201: s.CircleOut, **ERRORS}, tags=["circles"])
def circle_found(request: HttpRequest, payload: s.CircleIn) -> Status[dict[str, Any]]:
    federation = Federation.objects.filter(slug=payload.federation).first()
    if federation is None:
        raise ApplicationError(
            "No such federation.", fields={"federation": ["Unknown federation."]}
        )
    data = payload.model_dump(exclude={"federation"})
    circle = circle_services.circle_found(actor=_me(request), federation=federation, **data)
    forget_audience(request.user)
    return Status(201, _circle_out(request, circle))


@api.get("/circles/{slug:slug}", response={200: s.CircleOut, **ERRORS}, auth=None, tags=["circles"])
def circle_get(request: HttpRequest, slug: str) -> dict[str, Any]:
    authenticate_optional(request)
    return _circle_out(request, _visible_circle(request, slug))


@api.patch("/circles/{slug:slug}", response={200: s.CircleOut, **ERRORS}, tags=["circles"])
def circle_patch(request: HttpRequest, slug: str, payload: s.CirclePatch) -> dict[str, Any]:
    circle = _visible_circle(request, slug)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    circle = circle_services.circle_update(actor=_me(request), circle=circle, changes=changes)
    return _circle_out(request, circle)


@api.get(
    "/circles/{slug:slug}/memberships",
    response={200: list[s.MembershipOut], **ERRORS},
    auth=None,
    tags=["memberships"],
)
def circle_memberships(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    authenticate_optional(request)
    circle = _visible_circle(request, slug)
    return [
        {
            "practitioner_id": r.practitioner_id,
            "name": r.name,
            "joined_at": r.membership.joined_at,
            "left_at": r.membership.left_at,
        }
        for r in circle_selectors.circle_members(user=request.user, circle=circle)
    ]


@api.post(
    "/circles/{slug:slug}/leave", response={200: s.MembershipOut, **ERRORS}, tags=["memberships"]
)
def circle_leave(request: HttpRequest, slug: str) -> dict[str, Any]:
    circle = _visible_circle(request, slug)
    m = circle_services.membership_leave(actor=_me(request), circle=circle)
    forget_audience(request.user)
    return {
        "practitioner_id": _me(request).pk,
        "name": _me(request).display_name,
        "joined_at": m.joined_at,
        "left_at": m.left_at,
    }


def _invitation_out(i: Invitation) -> dict[str, Any]:
    return {
        "id": i.pk,
        "circle": i.circle.slug,
        "email": i.email,
        "status": i.status,
        "expires_at": i.expires_at,
        "created_at": i.created_at,
    }


@api.get(
    "/circles/{slug:slug}/invitations",
    response={200: list[s.InvitationOut], **ERRORS},
    tags=["invitations"],
)
def circle_invitations(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    circle = _visible_circle(request, slug)
    if not allowed("circles.view_invitations", request.user, circle):
        raise NotAllowed()
    return [_invitation_out(i) for i in circle_selectors.circle_invitations(circle=circle)]


@api.post(
    "/circles/{slug:slug}/invitations",
    response={201: s.InvitationCreatedOut, **ERRORS},
    tags=["invitations"],
)
def invitation_create(
    request: HttpRequest, slug: str, payload: s.InvitationIn
) -> Status[dict[str, Any]]:
    circle = _visible_circle(request, slug)
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
        {**_invitation_out(invitation), "link": base + circle_services.invitation_link(secret)},
    )


@api.post(
    "/circles/{slug:slug}/invitations/{invitation_id}/revoke",
    response={200: s.InvitationOut, **ERRORS},
    tags=["invitations"],
)
def invitation_revoke(request: HttpRequest, slug: str, invitation_id: int) -> dict[str, Any]:
    circle = _visible_circle(request, slug)
    invitation = get_object_or_404(
        Invitation.objects.select_related("circle"), pk=invitation_id, circle=circle
    )
    return _invitation_out(
        circle_services.invitation_revoke(actor=_me(request), invitation=invitation)
    )


@api.post("/invitations/accept", response={200: s.MembershipOut, **ERRORS}, tags=["invitations"])
def invitation_accept(request: HttpRequest, payload: s.InvitationSecretIn) -> dict[str, Any]:
    m = circle_services.invitation_accept(actor=_me(request), secret=payload.secret)
    forget_audience(request.user)
    return {
        "practitioner_id": _me(request).pk,
        "name": _me(request).display_name,
        "joined_at": m.joined_at,
        "left_at": m.left_at,
    }


@api.post("/invitations/decline", response={200: s.InvitationOut, **ERRORS}, tags=["invitations"])
def invitation_decline(request: HttpRequest, payload: s.InvitationSecretIn) -> dict[str, Any]:
    return _invitation_out(
        circle_services.invitation_decline(actor=_me(request), secret=payload.secret)
    )


# --- proposals --------------------------------------------------------------------------------
# Proposals are the circle's own business: someone who cannot see the circle gets 404, someone
# who can see it but is not a member 403 (as for its invitations).


def _member_circle(request: HttpRequest, slug: str) -> Circle:
    circle = _visible_circle(request, slug)
    if not allowed("decisions.view_decisions", request.user, circle):
        raise NotAllowed("Only the circle's members can see and take part in its decisions.")
    return circle


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


People = dict[int, MemberRow]


def _people(request: HttpRequest, circle: Circle) -> People:
    """Everyone who is or was in the circle, by id, named as the member list names them to you."""
    rows = circle_selectors.circle_members(user=request.user, circle=circle, include_former=True)
    return {r.membership.practitioner_id: r for r in rows if r.membership.practitioner_id}


def _person(people: People, practitioner_id: int | None) -> dict[str, Any]:
    row = people.get(practitioner_id) if practitioner_id is not None else None
    if row is None:
        return {"practitioner_id": None, "name": "a former member"}
    return {"practitioner_id": row.practitioner_id, "name": row.name}


def _provenance(request: HttpRequest, source: AgreementVersion | None) -> dict[str, Any] | None:
    if source is None:
        return None
    agreement = source.agreement
    if not allowed("agreements.view_agreement", request.user, agreement):
        return {"visible": False}
    return {
        "visible": True,
        "circle": agreement.circle.slug,
        "circle_name": agreement.circle.name,
        "agreement_id": agreement.pk,
        "title": agreement.title,
        "version": source.number,
    }


def _proposal_summary(proposal: Proposal, people: People) -> dict[str, Any]:
    outcome = getattr(proposal, "outcome", None)
    return {
        "id": proposal.pk,
        "title": proposal.title,
        "status": proposal.status,
        "process": proposal.process,
        "rule": proposal.rule,
        "fallback_after_rounds": proposal.fallback_after_rounds,
        "version": proposal.version,
        "round": proposal.round,
        "closes_at": proposal.closes_at,
        "decision_requested_at": proposal.decision_requested_at,
        "created_at": proposal.created_at,
        "author": _person(people, proposal.author_id),
        "agreement_id": proposal.agreement_id,
        "new_agreement_kind": proposal.new_agreement_kind,
        "new_agreement_title": proposal.new_agreement_title,
        "outcome": None
        if outcome is None
        else {"passed": outcome.passed, "reason": outcome.reason, "decided_at": outcome.decided_at},
    }


def _amendment_out(amendment: Amendment, people: People, produced: int | None) -> dict[str, Any]:
    return {
        "id": amendment.pk,
        "author": _person(people, amendment.author_id),
        "based_on_version": amendment.based_on_version,
        "text": amendment.text,
        "agreement_text": amendment.agreement_text,
        "reason": amendment.reason,
        "status": amendment.status,
        "response": amendment.response,
        "decided_at": amendment.decided_at,
        "produced_version": produced,
        "created_at": amendment.created_at,
    }


def _final_rows(rows: list[dict[str, Any]], people: People) -> list[dict[str, Any]]:
    return [
        {
            **_person(people, row.get("practitioner_id")),
            "stance": row["stance"],
            "reason": row.get("reason", ""),
            "version": row.get("version"),
        }
        for row in rows
    ]


def _outcome_out(outcome: Outcome, people: People) -> dict[str, Any]:
    adopted = AgreementVersion.objects.filter(adopted_by=outcome).values_list("number", flat=True)
    return {
        "passed": outcome.passed,
        "reason": outcome.reason,
        "decided_at": outcome.decided_at,
        "statement": outcome.statement,
        "rule": outcome.rule,
        "final_positions": _final_rows(outcome.final_positions, people),
        "dissent": _final_rows(outcome.dissent, people),
        "missing": [_person(people, pid)["name"] for pid in outcome.missing],
        "adopted_agreement_version": adopted.first(),
    }


def _proposal_out(request: HttpRequest, proposal: Proposal) -> dict[str, Any]:
    page = decision_selectors.proposal_page(user=request.user, proposal=proposal)
    people = _people(request, proposal.circle)
    produced = {v.amendment_id: v.number for v in page.versions if v.amendment_id}
    outcome = getattr(proposal, "outcome", None)
    return {
        **_proposal_summary(proposal, people),
        "circle": proposal.circle.slug,
        "text": proposal.text,
        "agreement_text": proposal.agreement_text,
        "agreement_parameters": proposal.agreement_parameters,
        "borrowed_from": _provenance(request, proposal.borrowed_from),
        "is_proposer": allowed("decisions.close_proposal", request.user, proposal),
        "versions": [
            {
                "number": v.number,
                "title": v.title,
                "text": v.text,
                "agreement_text": v.agreement_text,
                "created_at": v.created_at,
                "amendment_id": v.amendment_id,
            }
            for v in page.versions
        ],
        "positions": [
            {
                "practitioner_id": _person(people, m.practitioner_id)["practitioner_id"],
                "name": m.name,
                "stance": m.stance,
                "reason": m.reason,
                "needs_confirming": m.needs_confirming,
                "history": [
                    {
                        "stance": h.stance,
                        "reason": h.reason,
                        "version": h.version,
                        "round": h.round,
                        "is_current": h.is_current,
                        "created_at": h.created_at,
                    }
                    for h in m.history
                ],
            }
            for m in page.members
        ],
        "silent": page.silent,
        "verdict": {
            "passes": page.verdict.passes,
            "reason": page.verdict.reason,
            "counts": dict(page.verdict.counts),
        }
        if proposal.is_open
        else None,
        "amendments": [
            _amendment_out(a, people, produced.get(a.pk)) for a in proposal.amendments.all()
        ],
        "outcome": None if outcome is None else _outcome_out(outcome, people),
    }


def _reloaded(request: HttpRequest, proposal: Proposal) -> dict[str, Any]:
    """The proposal as it is now, after a service changed it."""
    return _proposal_out(request, _proposal(request, proposal.circle.slug, proposal.pk))


@api.get(
    "/circles/{slug:slug}/proposals",
    response={200: list[s.ProposalSummaryOut], **ERRORS},
    tags=["proposals"],
)
def proposal_list(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    """Open proposals (soonest closing first), then up to 50 closed or withdrawn ones."""
    circle = _member_circle(request, slug)
    open_, closed = decision_selectors.circle_proposals(circle=circle)
    people = _people(request, circle)
    return [_proposal_summary(p, people) for p in [*open_, *closed]]


@api.post(
    "/circles/{slug:slug}/proposals", response={201: s.ProposalOut, **ERRORS}, tags=["proposals"]
)
def proposal_create(
    request: HttpRequest, slug: str, payload: s.ProposalIn
) -> Status[dict[str, Any]]:
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
    params = payload.agreement_parameters
    proposal = decision_services.proposal_open(
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
        agreement_parameters=params.model_dump() if params is not None else None,
    )
    return Status(201, _reloaded(request, proposal))


@api.get(
    "/circles/{slug:slug}/proposals/{proposal_id}",
    response={200: s.ProposalOut, **ERRORS},
    tags=["proposals"],
)
def proposal_get(request: HttpRequest, slug: str, proposal_id: int) -> dict[str, Any]:
    return _proposal_out(request, _proposal(request, slug, proposal_id))


@api.post(
    "/circles/{slug:slug}/proposals/{proposal_id}/position",
    response={201: s.PositionOut, **ERRORS},
    tags=["proposals"],
)
def position_take(
    request: HttpRequest, slug: str, proposal_id: int, payload: s.PositionIn
) -> Status[dict[str, Any]]:
    """Take or change your position. Every change is kept; the latest is current."""
    position = decision_services.position_take(
        actor=_me(request),
        proposal=_proposal(request, slug, proposal_id),
        stance=payload.stance,
        reason=payload.reason,
    )
    return Status(
        201,
        {
            "id": position.pk,
            "stance": position.stance,
            "reason": position.reason,
            "version": position.version,
            "round": position.round,
            "is_current": position.is_current,
            "created_at": position.created_at,
        },
    )


def _amendment_reloaded(request: HttpRequest, amendment: Amendment) -> dict[str, Any]:
    amendment = Amendment.objects.select_related("proposal__circle").get(pk=amendment.pk)
    produced = (
        ProposalVersion.objects.filter(amendment=amendment).values_list("number", flat=True).first()
    )
    return _amendment_out(amendment, _people(request, amendment.proposal.circle), produced)


@api.post(
    "/circles/{slug:slug}/proposals/{proposal_id}/amendments",
    response={201: s.AmendmentOut, **ERRORS},
    tags=["proposals"],
)
def amendment_propose(
    request: HttpRequest, slug: str, proposal_id: int, payload: s.AmendmentIn
) -> Status[dict[str, Any]]:
    """Propose a changed text; the proposer accepts or declines it."""
    amendment = decision_services.amendment_propose(
        actor=_me(request),
        proposal=_proposal(request, slug, proposal_id),
        text=payload.text,
        agreement_text=payload.agreement_text,
        reason=payload.reason,
    )
    return Status(201, _amendment_reloaded(request, amendment))


@api.post(
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
) -> dict[str, Any]:
    """The proposer only: a new version, and every member is asked to confirm their position."""
    amendment = _amendment(request, slug, proposal_id, amendment_id)
    decision_services.amendment_accept(
        actor=_me(request), amendment=amendment, response=payload.response
    )
    return _amendment_reloaded(request, amendment)


@api.post(
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
) -> dict[str, Any]:
    """The proposer only, with a response saying why."""
    amendment = _amendment(request, slug, proposal_id, amendment_id)
    decision_services.amendment_decline(
        actor=_me(request), amendment=amendment, response=payload.response
    )
    return _amendment_reloaded(request, amendment)


@api.post(
    "/circles/{slug:slug}/proposals/{proposal_id}/close",
    response={200: s.ProposalOut, **ERRORS},
    tags=["proposals"],
)
def proposal_close(
    request: HttpRequest, slug: str, proposal_id: int, payload: s.CloseIn
) -> dict[str, Any]:
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
        raise Conflict("This proposal is already closed or withdrawn.")
    return _reloaded(request, proposal)


@api.post(
    "/circles/{slug:slug}/proposals/{proposal_id}/withdraw",
    response={200: s.ProposalOut, **ERRORS},
    tags=["proposals"],
)
def proposal_withdraw(request: HttpRequest, slug: str, proposal_id: int) -> dict[str, Any]:
    """The proposer only, while it is open."""
    proposal = _proposal(request, slug, proposal_id)
    decision_services.proposal_withdraw(actor=_me(request), proposal=proposal)
    return _reloaded(request, proposal)


@api.post(
    "/circles/{slug:slug}/proposals/{proposal_id}/remind",
    response={200: s.RemindOut, **ERRORS},
    tags=["proposals"],
)
def proposal_remind(request: HttpRequest, slug: str, proposal_id: int) -> dict[str, Any]:
    """Remind the members who have not spoken. Nobody is reminded once it is closed."""
    proposal = _proposal(request, slug, proposal_id)
    return {"reminded": decision_services.members_remind(actor=_me(request), proposal=proposal)}


def _comment_out(comment: Comment, people: People) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "author": _person(people, comment.author_id),
        "parent_id": comment.parent_id,
        "quote": comment.quote,
        "text": comment.text,
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
    }


@api.get(
    "/circles/{slug:slug}/proposals/{proposal_id}/comments",
    response={200: list[s.CommentOut], **ERRORS},
    tags=["proposals"],
)
def comment_list(request: HttpRequest, slug: str, proposal_id: int) -> list[dict[str, Any]]:
    """Oldest first; a reply names its parent."""
    proposal = _proposal(request, slug, proposal_id)
    people = _people(request, proposal.circle)
    return [_comment_out(c, people) for c in proposal.comments.all()]


@api.post(
    "/circles/{slug:slug}/proposals/{proposal_id}/comments",
    response={201: s.CommentOut, **ERRORS},
    tags=["proposals"],
)
def comment_add(
    request: HttpRequest, slug: str, proposal_id: int, payload: s.CommentIn
) -> Status[dict[str, Any]]:
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


@api.get(
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


@api.get(
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


@api.post(
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


@api.post(
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


# --- polls ------------------------------------------------------------------------------------
# Like proposals, a circle's polls are its members' business: someone who cannot see the circle
# gets 404, someone who can see it but is not a member 403.


def _poll_circle(request: HttpRequest, slug: str) -> Circle:
    circle = _visible_circle(request, slug)
    if not allowed("polls.view_polls", request.user, circle):
        raise NotAllowed("Only the circle's members can see and answer its polls.")
    return circle


def _poll(request: HttpRequest, slug: str, poll_id: int) -> Poll:
    circle = _poll_circle(request, slug)
    poll = (
        Poll.objects.select_related("circle", "circle__federation", "author")
        .filter(pk=poll_id, circle=circle)
        .first()
    )
    if poll is None or not allowed("polls.view_poll", request.user, poll):
        raise NotFound("No such poll in this circle.")
    return poll


def _poll_summary(
    poll: Poll, people: People, *, answers: int, answered_by_me: bool
) -> dict[str, Any]:
    return {
        "id": poll.pk,
        "title": poll.title,
        "kind": poll.kind,
        "status": poll.status,
        "anonymous": poll.anonymous,
        "closes_at": poll.closes_at,
        "closed_at": poll.closed_at,
        "created_at": poll.created_at,
        "author": _person(people, poll.author_id),
        "answers": answers,
        "answered_by_me": answered_by_me,
    }


def _choices_out(kind: str, choices: Any) -> dict[str, Any]:
    """A stored ballot's choices in the shape BallotIn takes them."""
    if kind == PollKind.APPROVAL:
        return {"approved": [int(o) for o in choices]}
    if kind == PollKind.RANKED:
        return {"ranking": [int(o) for o in choices]}
    by_option = {int(o): v for o, v in choices.items()}
    return {"scores" if kind == PollKind.SCORE else "availability": by_option}


def _result_row(kind: str, row: ResultRow) -> dict[str, Any]:
    out: dict[str, Any] = {"option_id": row.option.pk, "lead": row.lead}
    if kind == PollKind.APPROVAL:
        out.update(approvals=int(row.value), share=row.share)
    elif kind == PollKind.SCORE:
        average = round(row.value / row.count, 2) if row.count else None
        out.update(total_score=int(row.value), average_score=average)
    elif kind == PollKind.RANKED:
        out.update(first_preferences=row.first_preferences, final_round_votes=int(row.value))
    else:
        out.update(yes=row.yes, maybe=row.maybe, no=row.no)
    return out


def _runoff_out(results: PollResults) -> dict[str, Any] | None:
    runoff = results.runoff
    if runoff is None:
        return None
    return {
        "winner": runoff.winner,
        "rounds": [
            {
                "number": r.number,
                "votes": dict(r.counts),
                "continuing_ballots": r.continuing_ballots,
                "exhausted": r.exhausted,
                "eliminated": r.eliminated,
                "tie_broken_by": r.tie_broken_by,
                "winner": r.winner,
            }
            for r in runoff.rounds
        ],
        "table": [  # runoff_rows are in option order, like options
            {
                "option_id": option.pk,
                "first_preferences": row.first_preferences,
                "votes": [int(cell) if cell else None for cell in row.cells],
                "eliminated_in": row.eliminated_in,
                "winner": row.winner,
            }
            for option, row in zip(results.options, results.runoff_rows, strict=True)
        ],
        "notes": results.round_notes,
    }


def _poll_out(request: HttpRequest, poll: Poll) -> dict[str, Any]:
    page = poll_selectors.poll_page(user=request.user, poll=poll, practitioner=_me(request))
    people = _people(request, poll.circle)
    mine = page.my_ballot
    results = page.results
    out = {
        **_poll_summary(poll, people, answers=len(page.answered), answered_by_me=mine is not None),
        "circle": poll.circle.slug,
        "details": poll.details,
        "is_author": allowed("polls.close_poll", request.user, poll),
        "accepts_ballots": poll.accepts_ballots,
        "options": [
            {"id": o.pk, "position": o.position, "label": o.label, "starts_at": o.starts_at}
            for o in page.options
        ],
        "answered": page.answered,
        "not_answered": page.not_answered,
        "my_ballot": None
        if mine is None
        else {
            **_choices_out(poll.kind, mine.choices),
            "created_at": mine.created_at,
            "updated_at": mine.updated_at,
        },
        "results": None,
    }
    if results is not None:
        # The selector decides whether members' answers may be shown (never when anonymous).
        ballots = poll.ballots.order_by("created_at", "id") if page.answers else []
        out["results"] = {
            "voters": results.voters,
            "outcome": results.outcome_text(),
            "leaders": results.lead_ids,
            "rows": [_result_row(poll.kind, r) for r in results.rows],
            "runoff": _runoff_out(results),
            "ballots": [
                {**_person(people, b.practitioner_id), **_choices_out(poll.kind, b.choices)}
                for b in ballots
            ],
        }
    return out


@api.get(
    "/circles/{slug:slug}/polls", response={200: list[s.PollSummaryOut], **ERRORS}, tags=["polls"]
)
def poll_list(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    """Open polls (soonest closing first), then up to 50 closed ones (latest first)."""
    circle = _poll_circle(request, slug)
    open_, closed = poll_selectors.circle_polls(circle=circle, practitioner=_me(request))
    people = _people(request, circle)
    return [
        _poll_summary(
            p,
            people,
            answers=p.ballot_count,  # type: ignore[attr-defined]  # annotated by the selector
            answered_by_me=p.answered,  # type: ignore[attr-defined]
        )
        for p in [*open_, *closed]
    ]


@api.post("/circles/{slug:slug}/polls", response={201: s.PollOut, **ERRORS}, tags=["polls"])
def poll_create(request: HttpRequest, slug: str, payload: s.PollIn) -> Status[dict[str, Any]]:
    """Open a poll; every other member is told. Give `options` (labels), or `times` for a
    find-a-time poll."""
    poll = poll_services.poll_open(
        actor=_me(request),
        circle=_poll_circle(request, slug),
        title=payload.title,
        kind=payload.kind,
        closes_at=payload.closes_at,
        options=payload.options,
        times=payload.times,
        details=payload.details,
        anonymous=payload.anonymous,
    )
    return Status(201, _poll_out(request, _poll(request, slug, poll.pk)))


@api.get(
    "/circles/{slug:slug}/polls/{poll_id}", response={200: s.PollOut, **ERRORS}, tags=["polls"]
)
def poll_get(request: HttpRequest, slug: str, poll_id: int) -> dict[str, Any]:
    """Who has answered, your own answer, and the results once you have answered or the poll
    has closed (with each member's answer unless the poll is anonymous)."""
    return _poll_out(request, _poll(request, slug, poll_id))


@api.post(
    "/circles/{slug:slug}/polls/{poll_id}/ballot",
    response={200: s.PollOut, **ERRORS},
    tags=["polls"],
)
def ballot_cast(
    request: HttpRequest, slug: str, poll_id: int, payload: s.BallotIn
) -> dict[str, Any]:
    """Answer, or change your answer (it replaces the earlier one) while the poll is open.
    Returns the poll as you now see it, results included."""
    poll = _poll(request, slug, poll_id)
    poll_services.ballot_cast(
        actor=_me(request),
        poll=poll,
        approved=payload.approved,
        scores=payload.scores,
        ranking=payload.ranking,
        availability=payload.availability,
    )
    return _poll_out(request, poll)


@api.post(
    "/circles/{slug:slug}/polls/{poll_id}/close",
    response={200: s.PollOut, **ERRORS},
    tags=["polls"],
)
def poll_close(request: HttpRequest, slug: str, poll_id: int) -> dict[str, Any]:
    """Close the poll now (the member who opened it only); every member is told the result."""
    poll = _poll(request, slug, poll_id)
    if not allowed("polls.close_poll", request.user, poll):
        raise NotAllowed("Only the member who opened this poll can close it early.")
    poll_services.poll_close(actor=_me(request), poll=poll)
    return _poll_out(request, _poll(request, slug, poll_id))


# --- standing by ------------------------------------------------------------------------------
# Who stands by whom is the circle's members' business: someone who cannot see the circle gets
# 404, someone who can see it but is not a member 403. Withdrawal reasons are only ever in the
# concerns, which are for the circle's members too; the table never shows them.


def _standing_circle(request: HttpRequest, slug: str) -> Circle:
    circle = _visible_circle(request, slug)
    if not allowed("standing.view_standing", request.user, circle):
        raise NotAllowed("Only the circle's members can see and state who stands by whom.")
    return circle


def _statement(request: HttpRequest, slug: str, statement_id: int) -> StandingBy:
    circle = _standing_circle(request, slug)
    statement = (
        StandingBy.objects.select_related("circle", "circle__federation")
        .filter(pk=statement_id, circle=circle)
        .first()
    )
    if statement is None:
        raise NotFound("No such standing-by statement in this circle.")
    return statement


def _concern(request: HttpRequest, slug: str, concern_id: int) -> StandingConcern:
    circle = _standing_circle(request, slug)
    concern = (
        StandingConcern.objects.select_related("circle", "circle__federation", "statement")
        .filter(pk=concern_id, circle=circle)
        .first()
    )
    if concern is None or not allowed("standing.view_concern", request.user, concern):
        raise NotFound("No such concern in this circle.")
    return concern


def _standing_statement_out(statement: StandingBy, people: People) -> dict[str, Any]:
    return {
        "id": statement.pk,
        "by": _person(people, statement.by_id),
        "basis": statement.basis,
        "stated_at": statement.stated_at,
        "lapses_on": statement.lapses_on,
        "state": statement.state(),
    }


def _concern_out(request: HttpRequest, concern: StandingConcern, people: People) -> dict[str, Any]:
    return {
        "id": concern.pk,
        "circle": concern.circle.slug,
        "statement_id": concern.statement_id,
        "raised_by": _person(people, concern.raised_by_id),
        "colleague": _person(people, concern.statement.for_practitioner_id),
        "reason": concern.reason,
        "status": concern.status,
        "response": concern.response,
        "responded_by": None
        if concern.responded_at is None
        else _person(people, concern.responded_by_id),
        "responded_at": concern.responded_at,
        "created_at": concern.created_at,
        "may_respond": concern.status != ConcernStatus.RESOLVED
        and allowed("standing.respond_concern", request.user, concern),
    }


@api.get(
    "/circles/{slug:slug}/standing-by",
    response={200: s.StandingTableOut, **ERRORS},
    tags=["standing by"],
)
def standing_table(request: HttpRequest, slug: str) -> dict[str, Any]:
    """Each member and who stands by them, whether the circle is full and who is missing.
    Withdrawn statements and their reasons are not here: see the concerns."""
    circle = _standing_circle(request, slug)
    page = standing_selectors.standing_page(
        user=request.user, circle=circle, practitioner=_me(request)
    )
    people = _people(request, circle)
    return {
        "circle": circle.slug,
        "full": page.full,
        "need": page.need,
        "review_months": standing_services.review_months(circle),
        "members": [
            {
                **_person(people, row.practitioner_id),
                "need": row.need,
                "live": row.live_count,
                "enough": row.enough,
                "stood_by": [_standing_statement_out(st, people) for st in row.statements],
                "my_statement_id": row.mine.pk if row.mine else None,
            }
            for row in page.rows
        ],
        "missing": [_person(people, row.practitioner_id) for row in page.missing],
        "can_stand_by": [_person(people, row.practitioner_id) for row in page.can_stand_by],
    }


@api.post(
    "/circles/{slug:slug}/standing-by",
    response={201: s.StandingByOut, **ERRORS},
    tags=["standing by"],
)
def standing_by_state(
    request: HttpRequest, slug: str, payload: s.StandByIn
) -> Status[dict[str, Any]]:
    """State that you stand by a colleague's practice. If you already do, this renews it: a new
    statement, the earlier one kept as renewed."""
    circle = _standing_circle(request, slug)
    colleague = Practitioner.objects.filter(pk=payload.colleague_id).first()
    if colleague is None:
        msg = "You can only stand by a current member of this circle."
        raise InvalidInput(msg, fields={"colleague_id": [msg]})
    try:
        statement = standing_services.standing_by_state(
            actor=_me(request), circle=circle, colleague=colleague, basis=payload.basis
        )
    except InvalidInput as exc:  # the service names the field after its own argument
        if "colleague" in exc.fields:
            exc.fields["colleague_id"] = exc.fields.pop("colleague")
        raise
    people = _people(request, circle)
    return Status(
        201,
        {
            **_standing_statement_out(statement, people),
            "circle": circle.slug,
            "colleague": _person(people, statement.for_practitioner_id),
            "renewed_from_id": statement.renewed_from_id,
        },
    )


@api.post(
    "/circles/{slug:slug}/standing-by/{statement_id}/withdraw",
    response={201: s.ConcernOut, **ERRORS},
    tags=["standing by"],
)
def standing_by_withdraw(
    request: HttpRequest, slug: str, statement_id: int, payload: s.WithdrawIn
) -> Status[dict[str, Any]]:
    """Withdraw your own statement, with reasons. It raises a concern the circle responds to;
    publicly, the colleague's count goes down and no reason is shown."""
    concern = standing_services.standing_by_withdraw(
        actor=_me(request),
        statement=_statement(request, slug, statement_id),
        reason=payload.reason,
    )
    return Status(
        201,
        _concern_out(
            request, _concern(request, slug, concern.pk), _people(request, concern.circle)
        ),
    )


@api.get(
    "/circles/{slug:slug}/standing-by/concerns",
    response={200: list[s.ConcernOut], **ERRORS},
    tags=["standing by"],
)
def standing_concern_list(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    """Concerns raised by withdrawals, with their reasons: open ones first, up to 50."""
    circle = _standing_circle(request, slug)
    page = standing_selectors.standing_page(
        user=request.user, circle=circle, practitioner=_me(request)
    )
    people = _people(request, circle)
    return [
        _concern_out(request, c, people)
        for c in page.concerns
        if allowed("standing.view_concern", request.user, c)
    ]


@api.post(
    "/circles/{slug:slug}/standing-by/concerns/{concern_id}/respond",
    response={200: s.ConcernOut, **ERRORS},
    tags=["standing by"],
)
def standing_concern_respond(
    request: HttpRequest, slug: str, concern_id: int, payload: s.ConcernResponseIn
) -> dict[str, Any]:
    """The circle's response, by any member but the one who raised it; `resolve` closes it."""
    concern = standing_services.standing_concern_respond(
        actor=_me(request),
        concern=_concern(request, slug, concern_id),
        response=payload.response,
        resolve=payload.resolve,
    )
    return _concern_out(
        request, _concern(request, slug, concern.pk), _people(request, concern.circle)
    )
