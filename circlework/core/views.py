from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe


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
