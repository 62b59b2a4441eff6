from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from circlework.core.error_pages import bad_request, is_api_request, too_large

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


class PractitionerTimezoneMiddleware:
    """Show every time in the practitioner's own zone; storage stays UTC."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tz_name = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            practitioner = getattr(user, "practitioner", None)
            tz_name = practitioner.time_zone if practitioner else None
        if tz_name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(tz_name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """A strict Content-Security-Policy (no inline script or style) and a few safe defaults."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class RequestSizeMiddleware:
    """Refuse a request whose declared body is over the limit before anything reads it, and a
    page asked for with a NUL character in its path or query string (`has_nul`).

    Django's DATA_UPLOAD_MAX_MEMORY_SIZE leaves uploaded files out, so a huge upload would be
    written to disk in full before the service could refuse it. The answer is the same 413 as
    for any body over the limit (core.error_pages): the API's error shape, or a page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return too_large(request)
        if has_nul(request) and not is_api_request(request):
            # A page is refused here; the API refuses it itself with its 422 naming the field
            # (api.base._nul_in_request), before any operation runs.
            return bad_request(request, SuspiciousOperation("NUL character in the request"))
        return self.get_response(request)


def has_nul(request: HttpRequest) -> bool:
    """Whether the path or the query string holds a NUL character (written as %00 or not).
    PostgreSQL refuses NUL in a text parameter: a search (`?q=%00`) or a slug with one would
    end in a server error wherever it reaches a query; it is a malformed request, a 400."""
    if "\x00" in request.path or "\x00" in request.path_info:
        return True
    return any(
        "\x00" in name or any("\x00" in value for value in values)
        for name, values in request.GET.lists()
    )
