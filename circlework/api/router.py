"""JSON API v1. Thin operations over the same services and selectors the pages use.

Every error is `{"error": "...", "fields": {...}}` with a 4xx status.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, URLResolver, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from circlework.accounts import selectors as account_selectors
from circlework.accounts import services as account_services
from circlework.accounts.models import Credential, Practitioner
from circlework.api import schemas as s
from circlework.api.auth import PractitionerSession, TokenAuth, authenticate_optional
from circlework.circles import selectors as circle_selectors
from circlework.circles import services as circle_services
from circlework.circles.models import Circle, Federation, Invitation
from circlework.core.errors import ApplicationError, NotAllowed, NotFound
from circlework.core.permissions import allowed
from circlework.core.visibility import forget_audience
from circlework.notifications import selectors as notification_selectors


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
    description="Practitioners, circles, memberships and invitations. Authenticate with a personal "
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
