from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from circlework.accounts.models import ApiToken
from circlework.accounts.services import hash_token


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
        request.user = row.practitioner.user
        return row.practitioner.user


class PractitionerSession(SessionAuth):
    """The browser session, with CSRF checked for unsafe methods."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None and not hasattr(user, "practitioner"):
            return None
        return user
