"""Circles that require two-factor authentication of their members: the one place that decides.

A circle with `requires_two_factor` is closed to those of its members who have no authenticator
app (an allauth TOTP authenticator) until they set one up. Everything that belongs to the circle
is reached either under its slug (`/circles/<slug>/…`) or by the id of a record of its own (a
link, a mandate or an election: `/links/<id>/…`, `/mandates/<id>/…`, `/elections/<id>/…`), and
the API uses the same paths under `/api/v1/`. `blocking_circle` maps a request path to the
circle it belongs to and says whether that circle shuts this user out; the middleware
(circles/middleware.py) asks it for browser sessions, the API's TokenAuth for personal tokens.
Everything under the circle waits, leaving included: one factor alone cannot act for the member
there. The member's own pages, home, other circles and the federation's pages stay reachable,
and so does allauth's 2FA set-up. Invitations to such a circle need 2FA before they are
accepted (circles.services.invitation_accept).
"""

from __future__ import annotations

import re
from typing import Any

from allauth.mfa.models import Authenticator
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from circlework.circles.models import Circle, Membership

# Paths below the API's mount point and the site root look the same after this prefix.
_PREFIX = r"^/(?:api/v1/)?"
_CIRCLE_PATH = re.compile(_PREFIX + r"circles/(?P<slug>[-\w]+)(?:/|$)")
_RECORD_PATH = re.compile(_PREFIX + r"(?P<kind>links|mandates|elections)/(?P<pk>\d+)(?:/|$)")


def api_message() -> str:
    return _(
        "This circle requires two-factor authentication of its members: set up an authenticator "
        "app for your account (Account → Two-factor authentication) first."
    )


def page_message(circle_name: str) -> str:
    return _(
        "%(c)s requires two-factor authentication of its members. Set up an authenticator app "
        "for your account to open its pages."
    ) % {"c": circle_name}


def has_two_factor(user: Any) -> bool:
    """Whether the user signs in with an authenticator app (recovery codes alone do not count)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(
        Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()
    )


def _locked_circles(user: Any) -> dict[int, tuple[str, str]]:
    """{circle id: (slug, name)} of the user's circles that shut them out. Cached per request."""
    cached = getattr(user, "_circlework_two_factor_locked", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    rows = (
        Membership.objects.current()
        .filter(practitioner__user_id=user.pk, circle__requires_two_factor=True)
        .values_list("circle_id", "circle__slug", "circle__name")
    )
    locked = {pk: (slug, name) for pk, slug, name in rows}
    if locked and has_two_factor(user):
        locked = {}
    user._circlework_two_factor_locked = locked
    return locked


def _record_circle_ids(kind: str, pk: int) -> set[int]:
    from circlework.elections.models import Election
    from circlework.links.models import CircleLink
    from circlework.mandates.models import Mandate

    if kind == "links":
        row = (
            CircleLink.objects.filter(pk=pk)
            .values_list("asking_circle_id", "validating_circle_id")
            .first()
        )
        return {c for c in row or () if c is not None}
    model = Mandate if kind == "mandates" else Election
    circle_id = model.objects.filter(pk=pk).values_list("circle_id", flat=True).first()
    return {circle_id} if circle_id is not None else set()


def blocking_circle(user: Any, path: str) -> tuple[str, str] | None:
    """(slug, name) of the circle this path belongs to, if it shuts this user out; else None.

    Costs one query on a circle's paths (none elsewhere) for a member of no such circle.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    circle_match = _CIRCLE_PATH.match(path)
    record_match = None if circle_match else _RECORD_PATH.match(path)
    if circle_match is None and record_match is None:
        return None
    locked = _locked_circles(user)
    if not locked:
        return None
    if circle_match is not None:
        slug = circle_match["slug"]
        return next((v for v in locked.values() if v[0] == slug), None)
    assert record_match is not None
    for circle_id in _record_circle_ids(record_match["kind"], int(record_match["pk"])):
        if circle_id in locked:
            return locked[circle_id]
    return None


def members_without_two_factor(circle: Circle) -> tuple[int, int]:
    """(how many current members have no authenticator app, how many current members)."""
    totp = Authenticator.Type.TOTP
    counts = Membership.objects.current().filter(circle=circle, practitioner__isnull=False)
    result = counts.aggregate(
        total=Count("pk", distinct=True),
        with_2fa=Count(
            "pk",
            distinct=True,
            filter=Q(practitioner__user__authenticator__type=totp),
        ),
    )
    return result["total"] - result["with_2fa"], result["total"]
