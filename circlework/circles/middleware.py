from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from circlework.circles import two_factor
from circlework.core.visibility import mark_second_factor


class SecondFactorSessionMiddleware:
    """Mark the signed-in user with whether THIS session used a second factor.

    Right after AuthenticationMiddleware, so that every rule asked during the request sees the
    mark (core.visibility.audience_for reads it). Requests with a personal API token are marked
    by the API's TokenAuth instead, from how the token was created.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            mark_second_factor(user, two_factor.session_used_second_factor(request, user))
        return self.get_response(request)


class TwoFactorCircleMiddleware:
    """Send a member who opens a 2FA circle's pages without a second factor where they can get one.

    Not the enforcement (the rules refuse such a member everywhere, whatever the URL): this only
    turns the refusal on the circle's own pages into a way forward, with a message. A member
    without an authenticator app is sent to set one up; one who has it but signed in with their
    password only is asked for a code from it (allauth's "confirm it's you" with the app), and
    comes back to the page they asked for. The API is left to the rules. An htmx request is told
    to load the page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            return self.get_response(request)
        found = two_factor.circle_needing_second_factor(
            getattr(request, "user", None), request.path_info
        )
        if found is None:
            return self.get_response(request)
        name, has_app = found
        if has_app:
            messages.warning(request, two_factor.sign_in_again_message(name))
            back = request.get_full_path() if request.method == "GET" else request.path
            target = reverse("mfa_reauthenticate") + "?" + urlencode({"next": back})
        else:
            messages.warning(request, two_factor.page_message(name))
            target = reverse("mfa_activate_totp")
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(target)
        return HttpResponseRedirect(target)
