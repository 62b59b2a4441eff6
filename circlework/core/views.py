from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from circlework.agreements.selectors import reviews_due_for
from circlework.circles.selectors import circles_of, federations, pending_invitations_for
from circlework.decisions.selectors import awaiting_voice
from circlework.elections.selectors import awaiting_me as elections_awaiting_me
from circlework.mandates.selectors import mandates_held
from circlework.notifications.selectors import unread
from circlework.polls.selectors import awaiting_answer


def home(request: HttpRequest) -> HttpResponse:
    """Signed in: "what needs me". Signed out: what Circlework is."""
    if not request.user.is_authenticated or not hasattr(request.user, "practitioner"):
        return render(request, "core/landing.html", {"federations": federations()})
    practitioner = request.user.practitioner
    # Every list is read through the viewer's audience (request.user carries how the session
    # signed in): a circle that asks for two-factor authentication shows nothing of its own to
    # a session without the second factor, here as on its pages.
    user = request.user
    context: dict[str, Any] = {
        "practitioner": practitioner,
        "circles": circles_of(practitioner=practitioner),
        "invitations": pending_invitations_for(practitioner=practitioner),
        "awaiting": awaiting_voice(practitioner=practitioner, user=user),
        "polls": awaiting_answer(practitioner=practitioner, user=user),
        "reviews_due": reviews_due_for(practitioner=practitioner, user=user),
        "today": timezone.localdate(),
        "notifications": unread(practitioner=practitioner, limit=8, user=user),
        "mandates": mandates_held(practitioner=practitioner, user=user),
        "elections": elections_awaiting_me(practitioner=practitioner, user=user),
    }
    return render(request, "core/home.html", context)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form (missing or stale CSRF token) in the site's own layout, not Django's page
    (whose inline styles our Content-Security-Policy blocks)."""
    return render(request, "403_csrf.html", status=403)


# Search engines may read the public register (federations, circles, practitioners who chose to
# be public); never the account pages, the API or the operators' admin.
ROBOTS_TXT = """User-agent: *
Disallow: /accounts/
Disallow: /api/
Disallow: /operator-admin/
Disallow: /me/
Disallow: /invitations/
Allow: /
"""


@require_safe
@cache_control(max_age=86400, public=True)
def robots_txt(request: HttpRequest) -> HttpResponse:
    return HttpResponse(ROBOTS_TXT, content_type="text/plain; charset=utf-8")
