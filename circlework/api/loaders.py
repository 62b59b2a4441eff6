"""The one place the API loads a circle or a federation by slug for a caller.

Every router asks here, so "no such circle" and "only its members" read the same everywhere:
a circle you may not see (or that does not exist) → 404; one you may see whose part you may not
take (its proposals, polls, standing by, elections) → 403 with the reason.
"""

from __future__ import annotations

from django.http import HttpRequest

from circlework.circles.models import Circle, Federation
from circlework.core.errors import NotAllowed, NotFound
from circlework.core.permissions import allowed

NO_SUCH_CIRCLE = "No such circle, or it is not visible to you."


def circle_by_slug(slug: str) -> Circle | None:
    """The circle with its federation, or None; for an operation that decides visibility itself."""
    return Circle.objects.select_related("federation").filter(slug=slug).first()


def visible_circle(
    request: HttpRequest,
    slug: str,
    *,
    rule: str = "circles.view_circle",
    missing: str = NO_SUCH_CIRCLE,
) -> Circle:
    """The circle, if the caller may see it (by `rule`: the circle's page, or a part of it that
    has its own audience, such as its mandates); 404 with `missing` otherwise."""
    circle = circle_by_slug(slug)
    if circle is None or not allowed(rule, request.user, circle):
        raise NotFound(missing)
    return circle


def member_circle(request: HttpRequest, slug: str, *, rule: str, refusal: str) -> Circle:
    """The circle, for its members' business: 404 if the caller cannot see it, 403 with `refusal`
    if they can see it but `rule` (its members' permission for this part) does not allow them."""
    circle = visible_circle(request, slug)
    if not allowed(rule, request.user, circle):
        raise NotAllowed(refusal)
    return circle


def federation_by_slug(slug: str) -> Federation:
    """The federation; 404 if there is none (federations themselves are public)."""
    federation = Federation.objects.filter(slug=slug).first()
    if federation is None:
        raise NotFound("No such federation.")
    return federation
