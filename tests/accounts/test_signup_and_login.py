"""Accounts through allauth: sign-up makes a practitioner; duplicates and lock-out are handled."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client

from circlework.accounts.models import Practitioner, User
from tests import factories

pytestmark = pytest.mark.django_db


def test_signup_creates_a_practitioner_and_sends_verification(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {
            "display_name": "Nadia Q",
            "email": "nadia@example.org",
            "password1": "a-good-long-passphrase",
            "password2": "a-good-long-passphrase",
        },
    )
    assert response.status_code == 302
    p = Practitioner.objects.get(user__email="nadia@example.org")
    assert p.display_name == "Nadia Q"
    assert any(
        "nadia@example.org" in m.to and "/accounts/confirm-email/" in m.body for m in mail.outbox
    )
    # Unverified: not logged in to the product yet.
    assert client.get("/me/profile/").status_code == 302


def test_duplicate_email_creates_nothing_and_tells_the_owner(client: Client) -> None:
    """allauth prevents account enumeration: the page does not say the address is taken; the
    address's owner is told by e-mail instead. Nothing new is created."""
    factories.make_practitioner(email="taken@example.org")
    mail.outbox.clear()
    response = client.post(
        "/accounts/signup/",
        {
            "display_name": "Again",
            "email": "Taken@example.org",
            "password1": "a-good-long-passphrase",
            "password2": "a-good-long-passphrase",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(email__iexact="taken@example.org").count() == 1
    assert Practitioner.objects.filter(display_name="Again").count() == 0
    assert len(mail.outbox) == 1 and "already" in mail.outbox[0].body.lower()


def test_repeated_failed_logins_are_locked_out(client: Client) -> None:
    p = factories.make_practitioner(email="locked@example.org")
    for _ in range(5):
        client.post(
            "/accounts/login/", {"login": "locked@example.org", "password": "wrong-password"}
        )
    response = client.post(
        "/accounts/login/", {"login": "locked@example.org", "password": factories.PASSWORD}
    )
    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session
    assert p.user.is_active


def test_passwords_are_hashed_with_argon2_outside_tests() -> None:
    from config.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert django_settings.AUTH_USER_MODEL == "accounts.User"


def test_profile_page_shows_only_shared_fields(
    client: Client, circle: Any, practitioner: Any
) -> None:
    from circlework.accounts import services

    services.practitioner_update(
        actor=practitioner,
        practitioner=practitioner,
        changes={
            "display_name_visibility": "public",
            "location": "Leeds",
            "location_visibility": "public",
            "pronouns": "she/her",
            "pronouns_visibility": "circle",
        },
    )
    body = client.get(f"/practitioners/{practitioner.pk}/").content.decode()
    assert "Leeds" in body and "she/her" not in body
    client.force_login(practitioner.user)
    assert "she/her" in client.get(f"/practitioners/{practitioner.pk}/").content.decode()


def test_times_are_shown_in_the_practitioners_zone(
    client: Client, circle: Any, practitioner: Any
) -> None:
    from circlework.accounts import services
    from circlework.core.models import AuditEvent

    event = AuditEvent.objects.filter(circle=circle).first()
    assert event is not None
    services.practitioner_update(
        actor=practitioner, practitioner=practitioner, changes={"time_zone": "Asia/Tokyo"}
    )
    client.force_login(practitioner.user)
    body = client.get(f"/circles/{circle.slug}/history/").content.decode()
    from zoneinfo import ZoneInfo

    assert event.created_at.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M") in body


# --- the lock-out behind a reverse proxy (issue 10, finding 8) ------------------------------
# Every request reaches the site from the proxy's address; the client's own address is in
# X-Forwarded-For, which only a proxy we trust may vouch for (docs/operations.md, TRUSTED_PROXIES).

PROXY = "10.0.0.7"


@pytest.fixture
def fresh_rate_limits() -> Any:
    """allauth counts failures in the cache, which outlives a test: start and end empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _fail_logins(client: Client, times: int, **meta: Any) -> None:
    # A different address each time, so only the per-address limit can lock anyone out.
    for n in range(times):
        client.post(
            "/accounts/login/",
            {"login": f"nobody{n}@example.org", "password": "wrong-password"},
            **meta,
        )


def _logs_in(practitioner: Practitioner, **meta: Any) -> bool:
    client = Client()
    client.post(
        "/accounts/login/",
        {"login": practitioner.user.email, "password": factories.PASSWORD},
        **meta,
    )
    return "_auth_user_id" in client.session


def test_behind_a_trusted_proxy_each_client_is_locked_out_on_its_own(
    settings: Any, fresh_rate_limits: None
) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    member = factories.make_practitioner(email="behind-proxy@example.org")
    _fail_logins(Client(), 6, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert not _logs_in(member, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    # Another person behind the same proxy is not locked out by the first one's failures.
    assert _logs_in(member, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.20")
    # The locked-out client cannot escape by sending its own X-Forwarded-For: the proxy appends
    # the address it saw, and that right-most entry is the one that counts.
    assert not _logs_in(
        member, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.77, 203.0.113.5"
    )


def test_an_untrusted_peer_cannot_escape_the_lock_out_with_x_forwarded_for(
    settings: Any, fresh_rate_limits: None
) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    member = factories.make_practitioner(email="spoofer-victim@example.org")
    attacker = Client()
    for n in range(6):  # a made-up X-Forwarded-For on every try
        attacker.post(
            "/accounts/login/",
            {"login": f"guess{n}@example.org", "password": "wrong-password"},
            REMOTE_ADDR="192.0.2.66",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n + 1}",
        )
    assert not _logs_in(member, REMOTE_ADDR="192.0.2.66", HTTP_X_FORWARDED_FOR="198.51.100.99")
    # Someone else, arriving directly, is unaffected.
    assert _logs_in(member, REMOTE_ADDR="192.0.2.67")


def test_without_trusted_proxies_x_forwarded_for_is_ignored(
    settings: Any, fresh_rate_limits: None
) -> None:
    settings.TRUSTED_PROXIES = []
    member = factories.make_practitioner(email="no-proxy@example.org")
    _fail_logins(Client(), 6, REMOTE_ADDR="192.0.2.80", HTTP_X_FORWARDED_FOR="203.0.113.80")
    assert not _logs_in(member, REMOTE_ADDR="192.0.2.80", HTTP_X_FORWARDED_FOR="198.51.100.80")
