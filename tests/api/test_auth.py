"""Authentication: personal API tokens and the browser session (with CSRF for unsafe methods)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from circlework.accounts import services as account_services
from circlework.accounts.models import ApiToken, Practitioner
from circlework.circles.models import Circle, Membership
from tests import factories
from tests.api.helpers import assert_error, post_json, session_client, url

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

NEW_CIRCLE = {"federation": "", "name": "Tuesday Circle", "purpose": "Peer supervision."}

PROTECTED = [
    ("get", "/me"),
    ("get", "/me/profile"),
    ("patch", "/me/profile"),
    ("get", "/me/credentials"),
    ("post", "/me/credentials"),
    ("delete", "/me/credentials/1"),
    ("get", "/me/invitations"),
    ("get", "/me/notifications"),
    ("post", "/circles"),
    ("patch", "/circles/home-circle"),
    ("post", "/circles/home-circle/leave"),
    ("get", "/circles/home-circle/invitations"),
    ("post", "/circles/home-circle/invitations"),
    ("post", "/circles/home-circle/invitations/1/revoke"),
    ("post", "/invitations/accept"),
    ("post", "/invitations/decline"),
]


def _call(client: Client, method: str, path: str) -> Response:
    if method in ("get", "delete"):
        return getattr(client, method)(url(path))  # type: ignore[no-any-return]
    return getattr(client, method)(url(path), {}, content_type="application/json")  # type: ignore[no-any-return]


def _bearer(secret: str, *, enforce_csrf_checks: bool = False) -> Client:
    return Client(
        headers={"Authorization": f"Bearer {secret}"}, enforce_csrf_checks=enforce_csrf_checks
    )


# --- tokens ---------------------------------------------------------------------------------


def test_valid_token_authenticates_and_records_last_use(practitioner: Practitioner) -> None:
    token, secret = account_services.api_token_create(actor=practitioner, name="script")
    assert token.last_used_at is None
    before = timezone.now()

    response = _bearer(secret).get(url("/me"))

    assert response.status_code == 200
    assert response.json() == {
        "id": practitioner.pk,
        "email": practitioner.user.email,
        "display_name": "Alex Author",
        "time_zone": "Europe/London",
    }
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert before <= token.last_used_at <= timezone.now()


def test_token_secret_is_not_stored(practitioner: Practitioner) -> None:
    token, secret = account_services.api_token_create(actor=practitioner, name="script")
    assert secret.startswith("cw_")
    assert not ApiToken.objects.filter(token_hash=secret).exists()
    assert secret not in token.token_hash


def test_valid_token_can_write_without_csrf(practitioner: Practitioner, federation: object) -> None:
    _token, secret = account_services.api_token_create(actor=practitioner, name="script")
    client = _bearer(secret, enforce_csrf_checks=True)
    response = post_json(client, "/circles", {**NEW_CIRCLE, "federation": "test-federation"})
    assert response.status_code == 201, response.content
    assert Circle.objects.filter(name="Tuesday Circle").exists()


def test_revoked_token_is_refused(practitioner: Practitioner) -> None:
    token, secret = account_services.api_token_create(actor=practitioner, name="script")
    account_services.api_token_revoke(actor=practitioner, token=token)

    response = _bearer(secret).get(url("/me"))

    assert_error(response, 401)
    token.refresh_from_db()
    assert token.last_used_at is None


@pytest.mark.parametrize(
    "header",
    [
        "Bearer cw_not-a-real-token-at-all",
        "Bearer ",
        "Bearer",
        "Token cw_abc",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "x" * 5000,
    ],
)
def test_garbage_token_is_refused(practitioner: Practitioner, header: str) -> None:
    account_services.api_token_create(actor=practitioner, name="script")
    response = Client(headers={"Authorization": header}).get(url("/me"))
    assert_error(response, 401)


def test_garbage_token_on_a_write_is_401_even_with_csrf_enforced(
    practitioner: Practitioner, federation: object
) -> None:
    # A script (not a browser) with a bad token must learn that its token is bad, not about CSRF.
    client = Client(headers={"Authorization": "Bearer cw_wrong"}, enforce_csrf_checks=True)
    response = post_json(client, "/circles", {**NEW_CIRCLE, "federation": "test-federation"})
    assert_error(response, 401)
    assert not Circle.objects.filter(name="Tuesday Circle").exists()


def test_token_of_a_deactivated_account_is_refused(practitioner: Practitioner) -> None:
    _token, secret = account_services.api_token_create(actor=practitioner, name="script")
    practitioner.user.is_active = False
    practitioner.user.save(update_fields=["is_active"])
    assert_error(_bearer(secret).get(url("/me")), 401)


def test_token_acts_as_its_owner_only(practitioner: Practitioner) -> None:
    other = factories.make_practitioner("Bo Other")
    _token, secret = account_services.api_token_create(actor=other, name="script")
    assert _bearer(secret).get(url("/me")).json()["id"] == other.pk


def test_old_token_keeps_working_until_revoked(practitioner: Practitioner) -> None:
    token, secret = account_services.api_token_create(actor=practitioner, name="script")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(days=400))
    assert _bearer(secret).get(url("/me")).status_code == 200


# --- no credentials -------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_protected_operations_need_authentication(circle: Circle, method: str, path: str) -> None:
    body = assert_error(_call(Client(), method, path), 401)
    assert "token" in body["error"].lower() or "sign in" in body["error"].lower()


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_protected_operations_need_authentication_with_csrf_enforced(
    circle: Circle, method: str, path: str
) -> None:
    """Without any credentials the answer is 401, whatever the CSRF state."""
    client = Client(enforce_csrf_checks=True)
    assert_error(_call(client, method, path), 401)


def test_anonymous_write_changes_nothing(circle: Circle) -> None:
    response = Client().patch(
        url(f"/circles/{circle.slug}"), {"name": "Renamed"}, content_type="application/json"
    )
    assert_error(response, 401)
    circle.refresh_from_db()
    assert circle.name == "Home Circle"


# --- session --------------------------------------------------------------------------------


def _with_csrf_cookie(client: Client) -> str:
    secret = get_random_string(32)
    client.cookies[settings.CSRF_COOKIE_NAME] = secret
    return secret


def test_session_read_needs_no_csrf(practitioner: Practitioner) -> None:
    client = session_client(practitioner, enforce_csrf_checks=True)
    response = client.get(url("/me"))
    assert response.status_code == 200
    assert response.json()["id"] == practitioner.pk


def test_session_write_with_csrf_token_succeeds(
    practitioner: Practitioner, federation: object
) -> None:
    client = session_client(practitioner, enforce_csrf_checks=True)
    csrf = _with_csrf_cookie(client)

    response = post_json(
        client,
        "/circles",
        {**NEW_CIRCLE, "federation": "test-federation"},
        headers={"X-CSRFToken": csrf},
    )

    assert response.status_code == 201, response.content
    circle = Circle.objects.get(name="Tuesday Circle")
    assert Membership.objects.current().filter(circle=circle, practitioner=practitioner).exists()


def test_session_write_without_csrf_token_is_refused_and_changes_nothing(
    practitioner: Practitioner, federation: object
) -> None:
    client = session_client(practitioner, enforce_csrf_checks=True)
    _with_csrf_cookie(client)  # the cookie alone proves nothing

    response = post_json(client, "/circles", {**NEW_CIRCLE, "federation": "test-federation"})

    assert_error(response, (401, 403))
    assert not Circle.objects.filter(name="Tuesday Circle").exists()


def test_session_write_with_wrong_csrf_token_is_refused(
    practitioner: Practitioner, circle: Circle
) -> None:
    client = session_client(practitioner, enforce_csrf_checks=True)
    _with_csrf_cookie(client)

    response = client.patch(
        url(f"/circles/{circle.slug}"),
        {"name": "Renamed"},
        content_type="application/json",
        headers={"X-CSRFToken": get_random_string(32)},
    )

    assert_error(response, (401, 403))
    circle.refresh_from_db()
    assert circle.name == "Home Circle"


def test_session_delete_without_csrf_is_refused(practitioner: Practitioner) -> None:
    credential = account_services.credential_add(
        actor=practitioner, title="MA", issuer="Uni", year=2010, visibility="circle"
    )
    client = session_client(practitioner, enforce_csrf_checks=True)

    response = client.delete(url(f"/me/credentials/{credential.pk}"))

    assert_error(response, (401, 403))
    assert practitioner.credentials.filter(pk=credential.pk).exists()


def test_logged_out_session_is_refused(practitioner: Practitioner) -> None:
    client = session_client(practitioner)
    client.logout()
    assert_error(client.get(url("/me")), 401)


def test_session_of_a_user_without_practitioner_is_refused(db: None) -> None:
    from circlework.accounts.models import User

    user = User.objects.create_user("operator@example.org", "a-long-test-password-42")
    client = Client()
    client.force_login(user)
    assert_error(client.get(url("/me")), 401)


# --- tokens and circles that require two-factor authentication (issue 10, finding 2) ---------


@pytest.fixture
def two_factor_circle(federation: Any) -> dict[str, Any]:
    """Leeds requires 2FA; Kim has an authenticator app and a proposal is open in Leeds."""
    from circlework.circles import services as circle_services
    from circlework.core.visibility import mark_second_factor
    from circlework.decisions import services as decision_services

    kim = factories.make_practitioner("Kim With Totp")
    factories.enable_totp(kim)
    leeds = factories.make_circle(founder=kim, federation=federation, name="Leeds")
    leeds = circle_services.circle_update(
        actor=kim, circle=leeds, changes={"requires_two_factor": True}
    )
    mark_second_factor(kim.user, True)  # the service calls below act for Kim with the app
    proposal = decision_services.proposal_open(
        actor=kim,
        circle=leeds,
        title="Meet on Tuesdays",
        text="Let us meet on Tuesdays.",
        closes_at=timezone.now() + timedelta(days=3),
    )
    mark_second_factor(kim.user, False)
    return {"kim": kim, "leeds": leeds, "proposal": proposal}


def _token_page_create(client: Client, name: str = "my script") -> tuple[ApiToken, str]:
    """Create a token on the token page, as a person would: (the token, its secret)."""
    response = client.post("/me/tokens/", {"name": name})
    assert response.status_code == 200, response.content[:300]
    secret = re.search(r'id="new-token">([^<]+)<', response.content.decode())
    assert secret is not None
    return ApiToken.objects.get(name=name), secret[1]


def _reads_and_writes_leeds(secret: str, proposal: Any) -> bool:
    from circlework.decisions.models import Position

    client = _bearer(secret)
    read = client.get(url(f"/circles/leeds/proposals/{proposal.pk}"))
    before = Position.objects.count()
    write = post_json(
        client,
        f"/circles/leeds/proposals/{proposal.pk}/position",
        {"stance": "agree"},
    )
    wrote = Position.objects.count() > before
    if read.status_code == 200:
        assert write.status_code in (200, 201) and wrote, write.content
        return True
    assert_error(read, (403, 404))
    assert_error(write, (403, 404))
    assert not wrote
    return False


def test_a_token_made_in_a_password_only_session_does_not_reach_a_2fa_circle(
    two_factor_circle: dict[str, Any],
) -> None:
    """Kim has the app, but this session signed in with the password only."""
    token, secret = _token_page_create(session_client(two_factor_circle["kim"]))
    assert token.created_with_second_factor is False
    assert not _reads_and_writes_leeds(secret, two_factor_circle["proposal"])
    # Everything else the token may do, it still does.
    assert _bearer(secret).get(url("/me")).status_code == 200


def test_a_token_made_in_a_session_that_used_the_app_reaches_it(
    two_factor_circle: dict[str, Any],
) -> None:
    from tests.second_factor import session_client_with_second_factor

    client = session_client_with_second_factor(two_factor_circle["kim"])
    token, secret = _token_page_create(client)
    assert token.created_with_second_factor is True
    assert _reads_and_writes_leeds(secret, two_factor_circle["proposal"])


def test_such_a_token_stops_reaching_it_when_the_app_is_removed(
    two_factor_circle: dict[str, Any],
) -> None:
    from allauth.mfa.models import Authenticator

    from tests.second_factor import token_with_second_factor

    secret = token_with_second_factor(two_factor_circle["kim"])
    Authenticator.objects.filter(user=two_factor_circle["kim"].user).delete()
    assert not _reads_and_writes_leeds(secret, two_factor_circle["proposal"])


def test_the_token_page_says_which_tokens_reach_2fa_circles(
    two_factor_circle: dict[str, Any], practitioner: Practitioner
) -> None:
    from tests.second_factor import session_client_with_second_factor

    kim = two_factor_circle["kim"]
    page = session_client(kim).get("/me/tokens/").content.decode()
    assert "can open circles that require two-factor authentication only if you made it" in page
    assert "This time you signed in with your password only" in page
    assert "/accounts/2fa/reauthenticate/?next=/me/tokens/" in page
    client = session_client_with_second_factor(kim)
    _token_page_create(client, "with the app")
    page = client.get("/me/tokens/").content.decode()
    assert "You did so this time: a token you create now can open them." in page
    assert re.search(r"<td>with the app</td>.*?<td>Yes</td>", page, re.S)
    # Someone without an app is told how to get one.
    page = session_client(practitioner).get("/me/tokens/").content.decode()
    assert "You do not use an authenticator app, so your tokens cannot open them." in page
