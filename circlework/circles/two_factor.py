"""Circles that require two-factor authentication of their members: how a session earns it.

The rule itself is decided in one place, `core.visibility.audience_for`: a member of a circle
with `requires_two_factor` counts as its member only when the request's user carries the
second-factor mark (`core.visibility.mark_second_factor`). Every `require()` and every selector
asks the audience, so the rule holds on every URL, in the API and for personal tokens alike.

This module decides the mark and helps people earn it:

- A browser session used a second factor when allauth's record of how it signed in has an "mfa"
  step (the authenticator code at log-in, a recovery code, or the code asked again by allauth's
  "confirm it's you" page) and the account still has an authenticator app. Setting up the
  authenticator app in the session counts too: the member has just typed a code from it, and
  could as well have signed out and in again with it. allauth does not record that step, so
  `on_authenticator_added` does (connected when this module is imported, which the middleware
  and the apps' registrations do at start-up). `SecondFactorSessionMiddleware`
  (circles/middleware.py) marks every signed-in request's user with `session_used_second_factor`.
- A personal API token carries the mark of the session it was created in
  (`ApiToken.created_with_second_factor`, read by `api.auth.TokenAuth`).
- Code that is not serving a request (tasks, the demo, tests) carries no mark: where it acts
  for a member of such a circle it says so with `mark_second_factor(user, True)`.

`circle_needing_second_factor` is for `TwoFactorCircleMiddleware` only, which sends a member who
opens the circle's pages without the second factor to set it up, or to enter their code: a
convenience that explains the refusal, not the enforcement. Records that belong to circles but
live in apps above this one (links, mandates, elections) have pages there: each such app
registers how to find a record's circles with `register_record_kind`, from its
`registrations.py`, imported in its `AppConfig.ready`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.db.models import Count, Q
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import gettext as _

from circlework.accounts.selectors import has_two_factor
from circlework.circles.models import Circle, Membership
from circlework.core.visibility import own_memberships, second_factor_used

# The circle's own pages (`/circles/<slug>/…`) and pages of records that belong to circles
# (`/<kind>/<pk>/…`, for a kind registered below). Only used to choose where to send someone: a
# URL missing here is still refused by the rules.
_CIRCLE_PATH = re.compile(r"^/circles/(?P<slug>[-\w]+)(?:/|$)")
_RECORD_PATH = re.compile(r"^/(?P<kind>[-\w]+)/(?P<pk>\d+)(?:/|$)")

# The ids of the circles a record belongs to, given the record's id (empty if there is none).
RecordCircles = Callable[[int], set[int]]

_record_kinds: dict[str, RecordCircles] = {}


def register_record_kind(kind: str, circles_of: RecordCircles) -> None:
    """Pages under `/<kind>/<pk>/` show a record that belongs to the circles `circles_of(pk)`
    returns. Registering a kind twice replaces it (tests reload apps)."""
    _record_kinds[kind] = circles_of


def record_kinds() -> list[str]:
    """The registered kinds of record, for the architecture test and docs."""
    return sorted(_record_kinds)


# allauth's name for an authentication step that used an authenticator (app or recovery code).
_MFA_METHOD = "mfa"


def page_message(circle_name: str) -> str:
    return _(
        "%(c)s requires two-factor authentication of its members. Set up an authenticator app "
        "for your account to open its pages."
    ) % {"c": circle_name}


def sign_in_again_message(circle_name: str) -> str:
    return _(
        "%(c)s requires two-factor authentication of its members, and this time you signed in "
        "with your password only. Enter a code from your authenticator app to open its pages."
    ) % {"c": circle_name}


def session_used_second_factor(request: HttpRequest, user: Any) -> bool:
    """Whether this browser session signed in (or confirmed itself) with a second factor.

    Costs no query for a password-only session, one for a session that used a second factor
    (the account must still have its authenticator app: turning it off ends the mark too).
    """
    records = get_authentication_records(request, user)
    if not any(record.get("method") == _MFA_METHOD for record in records):
        return False
    return has_two_factor(user)


@receiver(mfa_signals.authenticator_added, dispatch_uid="circlework_two_factor_activated")
def on_authenticator_added(
    sender: Any, request: HttpRequest | None, user: Any, authenticator: Any, **kwargs: Any
) -> None:
    """Setting up the authenticator app needs a code from it: count that as this session's use."""
    if request is None or authenticator.type != Authenticator.Type.TOTP:
        return
    # allauth's own log of the session's authentication steps, the one that
    # `session_used_second_factor` reads (an internal module: its public twin only reads).
    from allauth.account.internal.flows.login import record_authentication

    record_authentication(
        request, user, _MFA_METHOD, id=authenticator.pk, type=authenticator.type, activated=True
    )


def _circles_needing_it(user: Any) -> dict[int, tuple[str, str]]:
    """{circle id: (slug, name)} of the user's circles that require a second factor. From the
    rows the audience is made of (core.visibility.own_memberships): no query of its own."""
    return {
        pk: (slug, name)
        for pk, _fed, _status, requires_two_factor, slug, name, *_rest in own_memberships(user)
        if requires_two_factor
    }


def circle_needing_second_factor(user: Any, path: str) -> tuple[str, bool] | None:
    """(circle name, whether the user has an authenticator app) when `path` is a page of a circle
    of theirs that requires a second factor this request has not used; else None.

    No query for anonymous visitors, for requests with the mark, or away from circle pages;
    one on a circle's pages for a member of no such circle.
    """
    if user is None or not getattr(user, "is_authenticated", False) or second_factor_used(user):
        return None
    circle_match = _CIRCLE_PATH.match(path)
    record_match = None if circle_match else _RECORD_PATH.match(path)
    if record_match is not None and record_match["kind"] not in _record_kinds:
        record_match = None
    if circle_match is None and record_match is None:
        return None
    circles = _circles_needing_it(user)
    if not circles:
        return None
    if circle_match is not None:
        names = [name for slug, name in circles.values() if slug == circle_match["slug"]]
    else:
        assert record_match is not None
        ids = _record_kinds[record_match["kind"]](int(record_match["pk"]))
        names = [circles[pk][1] for pk in sorted(ids) if pk in circles]
    if not names:
        return None
    return names[0], has_two_factor(user)


def whole_account_needs_second_factor(user: Any) -> tuple[str, bool] | None:
    """For what covers the whole account (the download of everything): (the name of a circle
    of theirs that requires a second factor, whether they have an authenticator app) when this
    request has not used one; else None. Their own records there belong to that circle too."""
    if user is None or not getattr(user, "is_authenticated", False) or second_factor_used(user):
        return None
    circles = _circles_needing_it(user)
    if not circles:
        return None
    _slug, name = min(circles.values())
    return name, has_two_factor(user)


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
