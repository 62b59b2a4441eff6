"""Sessions and tokens that used a second factor, for tests of circles that require 2FA.

`core.visibility.audience_for` counts a member of such a circle as a member only when the
request's user carries the second-factor mark. A browser session earns it from allauth's record
of how the session signed in (`circles.two_factor.session_used_second_factor`); a personal API
token from the session it was made in (`ApiToken.created_with_second_factor`); a test that calls
services directly says so with `core.visibility.mark_second_factor(user, True)`.
"""

from __future__ import annotations

from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import Client

from circlework.accounts import services as account_services
from circlework.accounts.models import Practitioner
from circlework.core.visibility import mark_second_factor, second_factor_used
from tests import factories


def login_with_second_factor(client: Client, practitioner: Practitioner) -> Client:
    """Signed in as allauth leaves a session after the password and an authenticator code.

    The practitioner must have an authenticator app (`factories.enable_totp`): the mark also
    needs the account to have it still (tests/accounts/test_sessions.py does one log-in for real).
    """
    factories.sign_in(client, practitioner.user, second_factor=True)
    return client


def session_client_with_second_factor(practitioner: Practitioner, **kwargs: object) -> Client:
    return login_with_second_factor(Client(**kwargs), practitioner)  # type: ignore[arg-type]


def token_with_second_factor(practitioner: Practitioner, name: str = "tests") -> str:
    """The secret of a personal API token made in a session that used a second factor."""
    user = practitioner.user
    before = second_factor_used(user)
    mark_second_factor(user, True)  # as the token page's request would be
    try:
        _token, secret = account_services.api_token_create(actor=practitioner, name=name)
    finally:
        mark_second_factor(user, before)
    return secret


def token_client_with_second_factor(practitioner: Practitioner, **kwargs: object) -> Client:
    secret = token_with_second_factor(practitioner)
    return Client(headers={"Authorization": f"Bearer {secret}"}, **kwargs)  # type: ignore[arg-type]


def totp_code(secret: str) -> str:
    """The current code for `secret`, with allauth's own helpers (as tests/browser does).

    The test settings accept the step before and after too (MFA_TOTP_TOLERANCE), so a code
    made just before a roll-over still counts: no waiting on the clock.
    """
    counters = list(yield_hotp_counters_from_time())
    current = counters[len(counters) // 2]
    return str(format_hotp_value(hotp_value(secret, current)))
