from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from circlework.circles import two_factor


class TwoFactorCircleMiddleware:
    """Send a member without 2FA to set it up before they reach a circle that requires it.

    Browser sessions only (after AuthenticationMiddleware and MessageMiddleware). Pages redirect
    to allauth's authenticator set-up with a message; the API answers 403 in its error shape;
    an htmx request is told to load the set-up page. Requests with a personal API token are
    checked by the API's TokenAuth, which asks the same `two_factor.blocking_circle`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        blocked = two_factor.blocking_circle(getattr(request, "user", None), request.path_info)
        if blocked is None:
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            return JsonResponse({"error": two_factor.api_message(), "fields": {}}, status=403)
        _slug, name = blocked
        messages.warning(request, two_factor.page_message(name))
        setup = reverse("mfa_activate_totp")
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(setup)
        return HttpResponseRedirect(setup)
