"""CSRF on every form, every htmx call and every session-authenticated API write.

Generated like the access matrix (its rules come from tests/core/test_access_matrix.py, the
world, its roles and the requests from tests/world.py), so a new URL or operation is covered as
soon as it has a rule there. Every URL of ours is POSTed to, whether or not it takes forms:
Django's CSRF middleware must refuse a POST without a token before any view runs. The same POST
with the token is then let through (to show that the refusal was the token's doing, not the
rules'). Clients use `Client(enforce_csrf_checks=True)`, which the plain test client switches off.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from circlework.core.visibility import mark_second_factor
from tests import factories
from tests.core.test_access_matrix import API, PAGES
from tests.world import (
    SECOND_FACTOR_ROLES,
    DatabaseWatch,
    api_request,
    build_world,
    module_world,
    page_kwargs,
    role_client,
    url_patterns,
)

# The access matrix's seeded world, built once for this module as the matrix builds it.
shared_world = module_world(build_world)


@pytest.fixture
def world(shared_world: dict[str, Any], db: None) -> dict[str, Any]:
    return shared_world


# Roles tried first: whoever the rules let in, so that only the missing token can refuse.
PREFERRED = ("author", "member", "holder", "other_member", "outsider", "expired_holder")


def _allowed_role(allowed: frozenset[str]) -> str:
    """A role the rules let in; for a write nobody may make, still a signed-in one: there is a
    session to protect, and the token must be checked before the rules refuse."""
    return next((r for r in PREFERRED if r in allowed), "author")


def _client(world: dict[str, Any], role: str) -> Client:
    return role_client(world, role, enforce_csrf_checks=True)


def _csrf_token(client: Client) -> str:
    """The token a page hands the browser (it sets the cookie the token is checked against)."""
    page = client.get("/").content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, "the home page carries no CSRF token"
    assert settings.CSRF_COOKIE_NAME in client.cookies
    return match[1]


def _refused_for_csrf(response: Any) -> bool:
    if response.status_code != 403:
        return False
    # Our CSRF failure page (circlework.core.views.csrf_failure), not any other 403.
    return "Your form could not be sent" in response.content.decode(errors="replace")


# --- pages and forms ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_page_refuses_a_post_without_a_token(world: dict[str, Any], name: str) -> None:
    rule = PAGES[name]
    url = reverse(name, kwargs=page_kwargs(name, world))
    data = {k: v.replace("{circle}", str(world["circle"].pk)) for k, v in rule.data}
    client = _client(world, _allowed_role(rule.allowed))
    with DatabaseWatch() as watch:
        response = client.post(url, data)
    assert _refused_for_csrf(response), f"{name}: {response.status_code}"
    assert not watch.changes(), f"{name} wrote something without a CSRF token"

    token = _csrf_token(client)
    response = client.post(url, {**data, "csrfmiddlewaretoken": token})
    assert response.status_code < 500
    assert not _refused_for_csrf(response), f"{name} refused a POST with the token"


def _allauth_url_names() -> list[str]:
    """allauth's own pages that take no URL arguments (log-in, password, e-mail, 2FA…)."""
    return sorted(
        {
            str(p.name)
            for _name, p in url_patterns()
            if p.callback.__module__.startswith("allauth.")
            and p.name
            and not p.pattern.regex.groupindex
        }
    )


@pytest.mark.parametrize("name", _allauth_url_names())
@pytest.mark.parametrize("signed_in", [False, True])
def test_allauth_pages_refuse_a_post_without_a_token(
    world: dict[str, Any], name: str, signed_in: bool
) -> None:
    client = _client(world, "author" if signed_in else "anonymous")
    response = client.post(reverse(name), {"login": "x@example.org", "password": "x"})
    assert _refused_for_csrf(response), f"{name}: {response.status_code}"


def test_allauth_pages_are_all_covered() -> None:
    names = _allauth_url_names()
    for expected in ("account_login", "account_logout", "account_change_password"):
        assert expected in names
    assert "mfa_deactivate_totp" in names


# --- htmx -----------------------------------------------------------------------------------------


def _hx_headers(page: str) -> dict[str, str]:
    match = re.search(r"<body[^>]*\shx-headers='([^']*)'", page)
    assert match, "<body> has no hx-headers: htmx requests would carry no CSRF token"
    headers: dict[str, str] = json.loads(match[1])
    return headers


@pytest.mark.parametrize("role", ["anonymous", "author"])
def test_the_base_template_gives_htmx_the_token(world: dict[str, Any], role: str) -> None:
    client = _client(world, role)
    for path in ("/", reverse("circles:federation_list")):
        headers = _hx_headers(client.get(path).content.decode())
        assert headers.get("X-CSRFToken"), headers
        assert settings.CSRF_HEADER_NAME == "HTTP_X_CSRFTOKEN"


def test_an_htmx_call_with_the_page_token_passes_and_without_it_fails(
    world: dict[str, Any],
) -> None:
    client = _client(world, "author")
    headers = _hx_headers(client.get(reverse("notifications:inbox")).content.decode())
    url = reverse("notifications:mark_read", kwargs={"pk": world["notification"].pk})
    refused = client.post(url, headers={"HX-Request": "true"})
    assert _refused_for_csrf(refused)
    world["notification"].refresh_from_db()
    assert world["notification"].read_at is None
    response = client.post(url, headers={"HX-Request": "true", **headers})
    assert response.status_code == 200, response.status_code
    world["notification"].refresh_from_db()
    assert world["notification"].read_at is not None


# --- API --------------------------------------------------------------------------------------------

UNSAFE_API = sorted(op for op, rule in API.items() if rule.method != "get")
# Operations some signed-in role may call: those are the ones a token can be tried on.
TOKEN_API = [op for op in UNSAFE_API if set(PREFERRED) & API[op].allowed]


def test_there_are_unsafe_operations_to_check() -> None:
    assert len(UNSAFE_API) > 40


@pytest.mark.parametrize("operation", UNSAFE_API)
def test_session_api_writes_need_the_csrf_token(world: dict[str, Any], operation: str) -> None:
    client = _client(world, _allowed_role(API[operation].allowed))
    with DatabaseWatch() as watch:
        response = api_request(world, operation, client)
    assert response.status_code == 403, (operation, response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"error", "fields"} and "CSRF" in body["error"], body
    assert not watch.changes(), f"{operation} wrote something without a CSRF token"

    token = _csrf_token(client)
    response = api_request(world, operation, client, headers={"X-CSRFToken": token})
    assert response.status_code < 500, response.content[:300]
    assert not (response.status_code == 403 and "CSRF" in response.json()["error"]), operation


@pytest.mark.parametrize("operation", TOKEN_API)
def test_bearer_token_writes_need_no_csrf_token(world: dict[str, Any], operation: str) -> None:
    """A personal API token is not an ambient credential a forged cross-site request carries."""
    from circlework.accounts import services as account_services

    role = _allowed_role(API[operation].allowed)
    practitioner = world["roles"][role]
    # Made as the role would make it: in a session with the second factor the world's circle
    # requires of its members (else the token does not reach the circle at all).
    mark_second_factor(practitioner.user, role in SECOND_FACTOR_ROLES)
    try:
        _token, secret = account_services.api_token_create(actor=practitioner, name="csrf")
    finally:
        mark_second_factor(practitioner.user, False)
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {secret}"})
    response = api_request(world, operation, client)
    assert response.status_code < 500, response.content[:300]
    assert response.status_code not in (401, 403), (operation, response.content[:300])


def test_a_bogus_bearer_token_does_not_lift_the_check_for_a_session(
    world: dict[str, Any],
) -> None:
    client = _client(world, "author")
    response = api_request(
        world, "comment_add", client, headers={"Authorization": "Bearer cw_not-a-real-token"}
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]


@pytest.mark.django_db
def test_a_refused_form_is_explained_in_the_site_layout() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(factories.make_practitioner("Csrf Person").user)
    response = client.post(reverse("circles:circle_found"), {"name": "x"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "Your form could not be sent" in body
    assert "<style" not in body  # Django's own page carries inline styles our CSP blocks
