from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth

from circlework.accounts.models import ApiToken
from circlework.accounts.selectors import has_two_factor
from circlework.accounts.services import hash_token
from circlework.core.visibility import mark_second_factor


class TokenAuth(HttpBearer):
    """Personal API tokens: `Authorization: Bearer cw_…`."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        row = (
            ApiToken.objects.select_related("practitioner__user")
            .filter(token_hash=hash_token(token), revoked_at__isnull=True)
            .first()
        )
        if row is None or not row.practitioner.user.is_active:
            return None
        # Bookkeeping, not a domain write: no audit event for "token used".
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
        user = row.practitioner.user
        # The token carries the standing of the session that created it: only a token made in
        # a session that used a second factor reaches circles requiring two-factor
        # authentication (core.visibility.audience_for), and only while the account still has
        # its authenticator app. Sessions are marked by circles.middleware.
        mark_second_factor(user, row.created_with_second_factor and has_two_factor(user))
        request.user = user
        return user


class PractitionerSession(SessionAuth):
    """The browser session, with CSRF checked for unsafe methods.

    CSRF protects an ambient credential, so it is checked only when there is a logged-in
    session to protect. A request without one (a script with a wrong token, or no credentials at
    all) is simply not authenticated by this scheme and ends in a 401, not a CSRF 403.
    """

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not hasattr(user, "practitioner"):
            return None
        return super().__call__(request)  # checks CSRF for unsafe methods, then authenticates

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None and not hasattr(user, "practitioner"):
            return None
        return user


def authenticate_optional(request: HttpRequest) -> None:
    """For operations anyone may call (`auth=None`): honour a personal API token if one is sent.

    django-ninja runs no authentication at all for `auth=None`, so without this a token caller
    would be read as anonymous and miss what their memberships let them see. Without an
    Authorization header the request stays as it came (the session user, or anonymous); a header
    that does not carry a valid token is refused with 401 rather than silently read as anonymous.
    """
    if "Authorization" not in request.headers:
        return
    if TokenAuth()(request) is None:
        raise AuthenticationError()
