"""JSON API v1: the API object, its error shape and the helpers its operation modules share.

Every error is `{"error": "...", "fields": {...}}` with a 4xx status.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.operation import Operation

from circlework.accounts.models import Practitioner
from circlework.agreements.models import AgreementVersion
from circlework.api import schemas as s
from circlework.api.auth import PractitionerSession, TokenAuth
from circlework.circles import selectors as circle_selectors
from circlework.circles.models import Circle, Invitation
from circlework.circles.selectors import MemberRow
from circlework.core.errors import ApplicationError, TooLarge
from circlework.core.permissions import allowed


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

    def get_openapi_operation_id(self, operation: Operation) -> str:
        """The view function's name, so operationIds do not depend on which module holds it."""
        return operation.view_func.__name__

    def _json_errors(self, view: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(view):  # no async operations yet; leave any as they are
            return view

        @functools.wraps(view)  # keeps the view's csrf_exempt mark
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refused = _nul_in_request(request)
            if refused is not None:
                return refused
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
    "its polls and their answers; who stands by whom, and the concerns withdrawals raise; "
    "circle validation links and the federation map; the covenant and ethical statements; "
    "mandates, federation notices and elections (nominations, consent rounds, ballots, results). "
    "Authenticate with a personal "
    "API token (`Authorization: Bearer …`, created under My practice → API tokens) or a browser "
    "session. Operations without a security requirement are public; with a token or session they "
    "also show what your memberships let you see. "
    "Every list is paged: it answers a JSON array of at most `limit` items (1 to 200, 50 if left "
    'out); when there are more, the response has a `Link: <…>; rel="next"` header (RFC 8288) '
    "whose URL, with its opaque `cursor`, gives the next page. The last page has no Link header. "
    "A cursor is the last item's sort key, not an offset: items added while you walk a list do "
    "not shift its pages.",
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
    413: s.ErrorOut,
    422: s.ErrorOut,
}


def _error(
    request: HttpRequest, status: int, message: str, fields: dict[str, list[str]] | None = None
) -> HttpResponse:
    return api.create_response(request, {"error": message, "fields": fields or {}}, status=status)


NUL_REFUSED = "Text may not contain NUL characters."


def _nul_in_request(request: HttpRequest) -> HttpResponse | None:
    """A 422 for a NUL character in the query string or the path, before any operation runs:
    PostgreSQL refuses one in a query parameter, which would otherwise end in a server error.
    (Request bodies are checked by their schemas: schemas.InSchema.)"""
    fields: dict[str, list[str]] = {}
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in v for v in values):
            fields[name.replace("\x00", "") or "__all__"] = [NUL_REFUSED]
    if "\x00" in request.path:
        fields["path"] = [NUL_REFUSED]
    if not fields:
        return None
    return _error(request, 422, "The request has invalid or missing fields.", fields)


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
    return _error(request, 401, "Authentication required: send a personal API token or sign in.")


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


@api.exception_handler(RequestDataTooBig)
def on_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # A body over DATA_UPLOAD_MAX_MEMORY_SIZE, read by django-ninja; one read earlier (by a
    # middleware) reaches circlework.core.error_pages.bad_request, which answers the same.
    return _error(request, TooLarge.status_code, TooLarge().message)


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    # Too many form fields or files, and the like: the request's fault, never a 500.
    return _error(request, 400, "The request could not be read.")


@api.exception_handler(OverflowError)
def on_overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # A safety net: a number beyond what the database or the calendar holds (an id past 2**63,
    # a time zone pushing 9999-12-31 into year 10000, …) is the request's fault, not a 500.
    return _error(request, 422, "A number or date in the request is out of range.")


def _me(request: HttpRequest) -> Practitioner:
    return request.user.practitioner  # type: ignore[union-attr]


def _invitation_out(i: Invitation) -> s.InvitationOut:
    return s.InvitationOut(
        id=i.pk,
        circle=i.circle.slug,
        email=i.email,
        status=i.status,
        expires_at=i.expires_at,
        created_at=i.created_at,
    )


People = dict[int, MemberRow]


def _people(request: HttpRequest, circle: Circle) -> People:
    """Everyone who is or was in the circle, by id, named as the member list names them to you."""
    rows = circle_selectors.circle_members(user=request.user, circle=circle, include_former=True)
    return {r.membership.practitioner_id: r for r in rows if r.membership.practitioner_id}


def _person(people: People, practitioner_id: int | None) -> s.PersonOut:
    row = people.get(practitioner_id) if practitioner_id is not None else None
    if row is None:
        return s.PersonOut(practitioner_id=None, name="a former member")
    return s.PersonOut(practitioner_id=row.practitioner_id, name=row.name)


def _provenance(request: HttpRequest, source: AgreementVersion | None) -> s.ProvenanceOut | None:
    if source is None:
        return None
    agreement = source.agreement
    if not allowed("agreements.view_agreement", request.user, agreement):
        return s.ProvenanceOut(visible=False)
    return s.ProvenanceOut(
        visible=True,
        circle=agreement.circle.slug,
        circle_name=agreement.circle.name,
        agreement_id=agreement.pk,
        title=agreement.title,
        version=source.number,
    )
