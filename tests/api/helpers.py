"""Shared helpers for the JSON API tests.

Clients authenticate the way real API callers do: a personal API token in the Authorization
header, or a browser session. Every helper returns a plain `django.test.Client`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.test import Client

from circlework.accounts import services as account_services
from circlework.accounts.models import Practitioner
from circlework.core.visibility import forget_audience

if TYPE_CHECKING:
    # The test client's response type exists only in django-stubs.
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

API = "/api/v1"


def url(path: str) -> str:
    return API + path


def token_client(practitioner: Practitioner, **client_kwargs: Any) -> Client:
    """A client that sends a fresh personal API token for this practitioner."""
    _token, secret = account_services.api_token_create(actor=practitioner, name="tests")
    return Client(headers={"Authorization": f"Bearer {secret}"}, **client_kwargs)


def session_client(practitioner: Practitioner, **client_kwargs: Any) -> Client:
    client = Client(**client_kwargs)
    client.force_login(practitioner.user)
    return client


def post_json(client: Client, path: str, data: Any, **extra: Any) -> Response:
    return client.post(url(path), data, content_type="application/json", **extra)


def patch_json(client: Client, path: str, data: Any, **extra: Any) -> Response:
    return client.patch(url(path), data, content_type="application/json", **extra)


def assert_error(response: Response, status: int | tuple[int, ...], *fields: str) -> dict[str, Any]:
    """The one error shape: 4xx, JSON `{"error": str, "fields": {name: [str, ...]}}`.

    Each name in `fields` must be present with at least one message.
    """
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.content[:500])
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error", "fields"}, body
    assert isinstance(body["error"], str) and body["error"].strip(), body
    assert isinstance(body["fields"], dict), body
    for name, messages in body["fields"].items():
        assert isinstance(name, str)
        assert isinstance(messages, list) and messages, body
        assert all(isinstance(m, str) and m for m in messages), body
    for name in fields:
        assert name in body["fields"], (name, body)
    return body  # type: ignore[no-any-return]


def fresh(practitioner: Practitioner) -> Practitioner:
    """Reload a practitioner so that no audience cached on its user object goes stale.

    The audience (which circles a user belongs to) is cached on the user object for the length
    of a request; test code that keeps one object across membership changes must drop it.
    """
    forget_audience(practitioner.user)
    return Practitioner.objects.select_related("user").get(pk=practitioner.pk)


def soon(days: float = 7) -> str:
    """An ISO closing time (with its UTC offset) some days from now."""
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.now() + timedelta(days=days)).isoformat()
