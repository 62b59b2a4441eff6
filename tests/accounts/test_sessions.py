"""Changing how an account signs in ends the account's OTHER sessions.

Two browsers (two test clients) are signed in as the same practitioner. After a password change,
an e-mail change or turning 2FA off in one, the other's next request to a signed-in page sends it
to log in, while the one that made the change stays signed in. A password reset ends every
session. Personal API tokens are separate, deliberately made credentials: a password change keeps
them (and says how many still work); a password reset revokes them.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.test import Client

from circlework.accounts import services
from circlework.accounts.models import ApiToken, User
from circlework.core.models import AuditEvent
from circlework.notifications.models import Notification
from tests import factories
from tests.api.helpers import url

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-passphrase-77"
SIGNED_IN_PAGE = "/me/profile/"


def _signed_in(client: Client) -> bool:
    response = client.get(SIGNED_IN_PAGE)
    if response.status_code == 200:
        return True
    assert response.status_code == 302, response.status_code
    assert response["Location"].startswith("/accounts/login/"), response["Location"]
    return False


def _log_in(email: str, password: str = factories.PASSWORD) -> Client:
    """Through allauth's log-in form, as a browser would."""
    client = Client()
    response = client.post("/accounts/login/", {"login": email, "password": password})
    assert response.status_code == 302, response.content[:300]
    assert _signed_in(client)
    return client


@pytest.fixture
def person(db: None) -> Any:
    return factories.make_practitioner("Two Browsers", email="two@example.org")


def test_password_change_signs_out_the_other_session_only(person: Any) -> None:
    here, there = _log_in("two@example.org"), _log_in("two@example.org")
    response = here.post(
        "/accounts/password/change/",
        {"oldpassword": factories.PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content[:500]
    assert _signed_in(here)
    assert not _signed_in(there)
    # The other browser's session cookie is no longer honoured by the API either.
    assert there.get(url("/me")).status_code == 401
    # ...and it can log in again with the new password only.
    old = Client().post(
        "/accounts/login/", {"login": "two@example.org", "password": factories.PASSWORD}
    )
    assert old.status_code == 200  # the form again, with its error
    assert _signed_in(_log_in("two@example.org", NEW_PASSWORD))
    assert AuditEvent.objects.filter(verb="account.password_changed", actor=person)


def test_password_change_keeps_api_tokens_and_says_so(person: Any) -> None:
    _token, secret = services.api_token_create(actor=person, name="my script")
    here = _log_in("two@example.org")
    here.post(
        "/accounts/password/change/",
        {"oldpassword": factories.PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    assert api.get(url("/me")).status_code == 200
    notice = Notification.objects.get(recipient=person, title="Your password was changed")
    assert "Every other session was signed out." in notice.body
    assert "Your 1 personal API token still works" in notice.body
    assert notice.url == "/me/tokens/"


def _reset_password(email: str, password: str) -> Client:
    client = Client()
    mail.outbox.clear()
    assert client.post("/accounts/password/reset/", {"email": email}).status_code == 302
    link = re.search(
        r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", str(mail.outbox[-1].body)
    )
    assert link, mail.outbox[-1].body
    response = client.get(link[1])
    assert response.status_code == 302  # allauth hides the key from the address bar
    response = client.post(response["Location"], {"password1": password, "password2": password})
    assert response.status_code == 302, response.content[:500]
    return client


def test_password_reset_signs_out_every_session_and_revokes_tokens(person: Any) -> None:
    _token, secret = services.api_token_create(actor=person, name="my script")
    one, two = _log_in("two@example.org"), _log_in("two@example.org")
    _reset_password("two@example.org", NEW_PASSWORD)
    assert not _signed_in(one)
    assert not _signed_in(two)
    assert Client(headers={"Authorization": f"Bearer {secret}"}).get(url("/me")).status_code == 401
    assert not ApiToken.objects.filter(practitioner=person, revoked_at__isnull=True).exists()
    notice = Notification.objects.get(recipient=person, title="Your password was reset")
    assert "Your personal API token was revoked" in notice.body
    event = AuditEvent.objects.get(verb="account.password_reset", actor=person)
    assert event.data == {"api_tokens_revoked": 1}
    assert _signed_in(_log_in("two@example.org", NEW_PASSWORD))


def test_email_change_signs_out_the_other_session(person: Any) -> None:
    here, there = _log_in("two@example.org"), _log_in("two@example.org")
    mail.outbox.clear()
    response = here.post("/accounts/email/", {"action_add": "", "email": "new.two@example.org"})
    assert response.status_code == 302, response.content[:500]
    # Nothing changes until the new address is confirmed.
    assert _signed_in(there)
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", str(mail.outbox[-1].body))
    assert link, mail.outbox[-1].body
    assert here.post(link[1]).status_code == 302
    assert User.objects.get(pk=person.user.pk).email == "new.two@example.org"
    assert _signed_in(here)
    assert not _signed_in(there)
    assert Notification.objects.filter(recipient=person, title="Your e-mail address was changed")
    assert AuditEvent.objects.filter(verb="account.sessions_ended", actor=person)


def test_turning_2fa_off_signs_out_the_other_session(person: Any) -> None:
    factories.enable_totp(person)
    here, there = Client(), Client()
    for client in (here, there):
        client.force_login(person.user)
        assert _signed_in(client)
    # allauth asks for the password again before an authenticator is removed.
    response = here.post("/accounts/reauthenticate/", {"password": factories.PASSWORD})
    assert response.status_code == 302, response.content[:500]
    response = here.post("/accounts/2fa/totp/deactivate/")
    assert response.status_code == 302, response.content[:500]
    assert not Authenticator.objects.filter(user=person.user, type="totp").exists()
    assert _signed_in(here)
    assert not _signed_in(there)
    notices = Notification.objects.filter(
        recipient=person, title="Two-factor authentication was turned off"
    )
    assert notices.count() == 1  # once, though the recovery codes went too


def test_ending_other_sessions_keeps_the_current_one_and_old_sessions_stay_valid(
    person: Any,
) -> None:
    """Generation 0 hashes exactly as Django does, so sessions made before the field existed
    stay signed in; each raise ends all sessions but the one given the new hash."""
    old = Client()
    old.force_login(person.user)
    assert _signed_in(old)
    services.sessions_end_others(user=person.user, request=None, reason="test")
    assert not _signed_in(old)
    person.user.refresh_from_db()
    assert person.user.session_generation == 1
    fresh = Client()
    fresh.force_login(person.user)
    assert _signed_in(fresh)


# --- which sessions count as using a second factor (issue 10, finding 2) ---------------------
# A circle that requires two-factor authentication counts someone as its member only in a
# session that used a second factor (core.visibility.audience_for). The session's own record of
# how it signed in decides (allauth's, read by circles.two_factor.session_used_second_factor).


@pytest.fixture
def guarded(person: Any) -> Any:
    """Leeds requires 2FA of its members; the person belongs to it and has an authenticator app."""
    from circlework.circles import services as circle_services

    founder = factories.make_practitioner("Founder")
    factories.enable_totp(founder)
    leeds = factories.make_circle(founder=founder, members=[person], name="Leeds")
    secret = factories.enable_totp(person)
    circle_services.circle_update(
        actor=founder, circle=leeds, changes={"requires_two_factor": True}
    )
    return secret


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """allauth keeps rate limits and used codes in the cache; start every test clean."""
    from django.core.cache import cache

    cache.clear()


def _reaches_leeds(client: Client) -> bool:
    page = client.get("/circles/leeds/history/")
    api = client.get(url("/circles/leeds/proposals"))
    assert (page.status_code == 200) == (api.status_code == 200), (page, api)
    return page.status_code == 200


def test_a_log_in_with_password_and_code_reaches_the_circle(guarded: str) -> None:
    from tests.second_factor import totp_code

    client = Client()
    response = client.post(
        "/accounts/login/", {"login": "two@example.org", "password": factories.PASSWORD}
    )
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(guarded)})
    assert response.status_code == 302, response.content[:500]
    methods = [r["method"] for r in client.session["account_authentication_methods"]]
    assert methods == ["password", "mfa"]
    assert _reaches_leeds(client)


def test_a_password_only_session_of_someone_with_the_app_is_refused(person: Any) -> None:
    """The browser signed in before the app was set up (in another browser): its session used
    the password only, so the circle asks it for a code, and the rules refuse it meanwhile."""
    from circlework.circles import services as circle_services
    from tests.second_factor import totp_code

    earlier = _log_in("two@example.org")
    founder = factories.make_practitioner("Founder")
    factories.enable_totp(founder)
    leeds = factories.make_circle(founder=founder, members=[person], name="Leeds")
    secret = factories.enable_totp(person)
    circle_services.circle_update(
        actor=founder, circle=leeds, changes={"requires_two_factor": True}
    )
    assert not _reaches_leeds(earlier)
    assert earlier.get("/circles/leeds/")["Location"].startswith("/accounts/2fa/reauthenticate/")
    # Entering a code from the app in this session opens it.
    response = earlier.post("/accounts/2fa/reauthenticate/", {"code": totp_code(secret)})
    assert response.status_code == 302, response.content[:500]
    assert _reaches_leeds(earlier)


def test_turning_the_app_off_ends_the_mark_of_the_current_session(
    person: Any, guarded: str
) -> None:
    from tests.second_factor import login_with_second_factor

    here = login_with_second_factor(Client(), person)
    assert _reaches_leeds(here)
    here.post("/accounts/reauthenticate/", {"password": factories.PASSWORD})
    assert here.post("/accounts/2fa/totp/deactivate/").status_code == 302
    assert _signed_in(here)
    assert not _reaches_leeds(here)
    assert here.get("/circles/leeds/")["Location"] == "/accounts/2fa/totp/activate/"
