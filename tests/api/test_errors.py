"""The one error shape, and no 500 for any bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle
from tests import factories
from tests.api.helpers import (
    assert_error,
    patch_json,
    post_json,
    session_client,
    token_client,
    url,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "body", [b"{", b"not json", b'{"name": "x",}', b"\xff\xfe", b"{'single': 'quotes'}"]
)
def test_unparsable_json_is_400(
    practitioner: Practitioner, federation: object, body: bytes
) -> None:
    response = token_client(practitioner).post(
        url("/circles"), body, content_type="application/json"
    )
    body_json = assert_error(response, 400)
    assert "json" in body_json["error"].lower()
    assert not Circle.objects.exists()


@pytest.mark.parametrize("body", [[], ["a"], "a string", 42, None, True])
def test_json_that_is_not_an_object_is_4xx(
    practitioner: Practitioner, federation: object, body: Any
) -> None:
    response = post_json(token_client(practitioner), "/circles", body)
    assert_error(response, (400, 422))
    assert not Circle.objects.exists()


def test_form_encoded_body_is_4xx(practitioner: Practitioner, federation: object) -> None:
    response = token_client(practitioner).post(
        url("/circles"), {"federation": "test-federation", "name": "F", "purpose": "P"}
    )
    assert_error(response, (400, 415, 422))
    assert not Circle.objects.exists()


def test_empty_body_is_422(practitioner: Practitioner, federation: object) -> None:
    response = token_client(practitioner).post(url("/circles"), content_type="application/json")
    assert_error(response, 422)


def test_validation_errors_name_nested_fields_without_the_body_prefix(
    practitioner: Practitioner,
) -> None:
    response = patch_json(token_client(practitioner), "/me/profile", {"pronouns": "x" * 41})
    body = assert_error(response, 422, "pronouns")
    assert not any(k.startswith(("body", "payload")) for k in body["fields"])


@pytest.mark.parametrize(
    "path", ["/circles/no-such-circle", "/practitioners/999999", "/practitioners/not-a-number"]
)
def test_not_found_and_bad_path_params_are_json(db: None, path: str) -> None:
    assert_error(Client().get(url(path)), (404, 422))


def test_huge_ids_are_not_a_server_error(practitioner: Practitioner, circle: Circle) -> None:
    client = token_client(practitioner)
    huge = "9" * 30
    assert_error(client.get(url(f"/practitioners/{huge}")), (404, 422))
    assert_error(client.delete(url(f"/me/credentials/{huge}")), (404, 422))
    assert_error(
        post_json(client, f"/circles/{circle.slug}/invitations/{huge}/revoke", {}), (404, 422)
    )


def test_garbage_token_on_a_public_read_is_401(circle: Circle) -> None:
    client = Client(headers={"Authorization": "Bearer cw_revoked-or-made-up"})
    assert_error(client.get(url("/circles")), 401)
    assert_error(client.get(url(f"/circles/{circle.slug}")), 401)


def test_public_reads_honour_a_token(federation: object) -> None:
    founder = factories.make_practitioner("Fay Founder")
    hidden = factories.make_circle(founder=founder, name="Hidden", visibility="circle")
    client = token_client(founder)
    assert hidden.slug in {c["slug"] for c in client.get(url("/circles")).json()}
    assert client.get(url(f"/circles/{hidden.slug}")).json()["is_member"] is True
    assert client.get(url(f"/circles/{hidden.slug}/memberships")).status_code == 200
    assert_error(Client().get(url(f"/circles/{hidden.slug}")), 404)


def test_public_profile_honours_a_token(circle: Circle, practitioner: Practitioner) -> None:
    quiet = factories.make_practitioner(
        "Quinn Quiet", display_name_visibility="circle", pronouns="they/them"
    )
    factories.add_member(circle, quiet)
    assert_error(Client().get(url(f"/practitioners/{quiet.pk}")), 404)
    response = token_client(practitioner).get(url(f"/practitioners/{quiet.pk}"))
    assert response.status_code == 200
    assert response.json()["fields"]["display_name"] == "Quinn Quiet"
    assert response.json()["fields"]["pronouns"] == "they/them"


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/no-such-thing"), ("post", "/circles/x/y/z"), ("get", "/me/"), ("get", "/")],
)
def test_unknown_operation_under_the_api_is_a_json_404(db: None, method: str, path: str) -> None:
    assert_error(getattr(Client(enforce_csrf_checks=True), method)(url(path)), 404)


def test_wrong_method_is_a_json_405(practitioner: Practitioner) -> None:
    response = token_client(practitioner).put(
        url("/me/profile"), {}, content_type="application/json"
    )
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "fields"} and body["error"]
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "PATCH"}


# --- text the database cannot store -------------------------------------------------------
# PostgreSQL (what CI and production run) refuses NUL in text; no database takes a lone surrogate.


@pytest.mark.parametrize(
    ("path", "method", "payload", "field"),
    [
        ("/me/profile", "patch", {"display_name": "A\x00B"}, "display_name"),
        ("/me/profile", "patch", {"location": "Leeds\x00"}, "location"),
        ("/me/credentials", "post", {"title": "T\x00", "issuer": "I", "year": 2000}, "title"),
        (
            "/circles",
            "post",
            {"federation": "test-federation", "name": "N\x00", "purpose": "P"},
            "name",
        ),
        ("/circles/home-circle", "patch", {"purpose": "\x00"}, "purpose"),
        ("/circles/home-circle/invitations", "post", {"email": "a\x00@example.org"}, "email"),
        ("/invitations/accept", "post", {"secret": "0123456789\x00"}, "secret"),
    ],
)
def test_text_with_nul_is_refused(
    practitioner: Practitioner,
    circle: Circle,
    path: str,
    method: str,
    payload: dict[str, Any],
    field: str,
) -> None:
    send = patch_json if method == "patch" else post_json
    response = send(token_client(practitioner), path, payload)
    assert_error(response, (400, 422), field)
    circle.refresh_from_db()
    practitioner.refresh_from_db()
    assert "\x00" not in circle.name + circle.purpose + practitioner.display_name
    assert "\x00" not in practitioner.location
    assert not practitioner.credentials.exists()


@pytest.mark.parametrize("field", ["display_name", "statement", "pronouns"])
def test_text_with_a_lone_surrogate_is_refused(practitioner: Practitioner, field: str) -> None:
    body = ('{"' + field + '": "caf\\ud800"}').encode()
    response = token_client(practitioner).patch(
        url("/me/profile"), body, content_type="application/json"
    )
    assert_error(response, (400, 422), field)


@pytest.mark.parametrize("slug", ["%00", "a%00b", "%ED%A0%80", "caf%C3%A9", "a.b", "%20"])
def test_odd_circle_slugs_are_404(practitioner: Practitioner, circle: Circle, slug: str) -> None:
    client = token_client(practitioner)
    assert_error(client.get(url(f"/circles/{slug}")), 404)
    assert_error(Client().get(url(f"/circles/{slug}/memberships")), 404)
    assert_error(patch_json(client, f"/circles/{slug}", {"name": "X"}), 404)


# --- no 500 for any input -------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
PROFILE_KEYS = [
    "display_name",
    "display_name_visibility",
    "pronouns",
    "location",
    "location_visibility",
    "statement",
    "time_zone",
    "languages",
    "unknown",
]
CIRCLE_KEYS = ["federation", "name", "purpose", "locality", "visibility", "open_to_new_members"]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _assert_answered(response: Any) -> None:
    assert response.status_code < 500, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    if response.status_code >= 400:
        assert_error(response, response.status_code)


@FUZZ
@given(payload=st.dictionaries(st.sampled_from(PROFILE_KEYS), json_values | st.text(), max_size=4))
def test_profile_patch_never_fails_on_the_server(
    practitioner: Practitioner, payload: dict[str, Any]
) -> None:
    _assert_answered(patch_json(token_client(practitioner), "/me/profile", payload))


@FUZZ
@given(payload=st.dictionaries(st.sampled_from(CIRCLE_KEYS), json_values | st.text(), max_size=6))
def test_circle_found_never_fails_on_the_server(
    practitioner: Practitioner, federation: object, payload: dict[str, Any]
) -> None:
    _assert_answered(post_json(token_client(practitioner), "/circles", payload))


@FUZZ
@given(
    email=st.text(max_size=60) | st.emails().map(str),
    message=st.text(max_size=50),
)
def test_invitation_create_never_fails_on_the_server(
    practitioner: Practitioner, circle: Circle, email: str, message: str
) -> None:
    response = post_json(
        token_client(practitioner),
        f"/circles/{circle.slug}/invitations",
        {"email": email, "message": message},
    )
    _assert_answered(response)


@FUZZ
@given(
    slug=st.text(min_size=1, max_size=40).filter(
        lambda s: "/" not in s and "?" not in s and "#" not in s
    )
)
def test_circle_get_never_fails_on_the_server(db: None, slug: str) -> None:
    from urllib.parse import quote

    response = Client().get(url(f"/circles/{quote(slug, safe='')}"))
    assert response.status_code < 500


# --- a body over the upload limit (issue 10, finding 10) -------------------------------------


@pytest.fixture
def small_upload_limit(settings: Any) -> int:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    return 2_000


def _big_json(limit: int) -> bytes:
    return b'{"name": "' + b"x" * (limit * 2) + b'", "purpose": "P", "federation": "x"}'


def test_a_body_over_the_limit_is_413_in_the_error_shape(
    practitioner: Practitioner, federation: object, small_upload_limit: int
) -> None:
    response = token_client(practitioner).post(
        url("/circles"), _big_json(small_upload_limit), content_type="application/json"
    )
    body = assert_error(response, 413)
    assert body["fields"] == {}
    assert "too large" in body["error"].lower()
    assert not Circle.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("patch", "/me/profile"), ("post", "/invitations/accept"), ("post", "/me/credentials")],
)
def test_a_body_over_the_limit_is_413_everywhere_under_the_api(
    practitioner: Practitioner, small_upload_limit: int, method: str, path: str
) -> None:
    for client in (token_client(practitioner), session_client(practitioner)):
        response = getattr(client, method)(
            url(path), _big_json(small_upload_limit), content_type="application/json"
        )
        assert_error(response, 413)


def test_a_form_encoded_body_over_the_limit_is_413_in_the_error_shape(
    practitioner: Practitioner, small_upload_limit: int
) -> None:
    response = token_client(practitioner).patch(
        url("/me/profile"),
        "display_name=" + "x" * (small_upload_limit * 2),
        content_type="application/x-www-form-urlencoded",
    )
    assert_error(response, 413)


def test_a_form_over_the_limit_gets_a_page_in_plain_words(
    practitioner: Practitioner, small_upload_limit: int
) -> None:
    client = Client()
    client.force_login(practitioner.user)
    response = client.post("/me/profile/", {"statement": "x" * (small_upload_limit * 2)})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "too large" in page.lower() and "<h1>" in page
    practitioner.refresh_from_db()
    assert practitioner.statement == ""


def test_an_upload_over_the_limit_is_refused_before_it_is_read(
    practitioner: Practitioner, small_upload_limit: int
) -> None:
    """Uploaded files are not counted by Django's own body limit: the declared size is."""
    client = Client()
    client.force_login(practitioner.user)
    document = SimpleUploadedFile(
        "big.pdf", b"%PDF-1.4 " + b"x" * (small_upload_limit * 4), content_type="application/pdf"
    )
    response = client.post(
        "/me/credentials/",
        {"title": "Diploma", "issuer": "Institute", "year": 2010, "document": document},
    )
    assert response.status_code == 413
    assert "too large" in response.content.decode().lower()
    assert "Content-Security-Policy" in response
    assert not practitioner.credentials.exists()


def test_a_body_read_before_the_api_is_413_in_the_error_shape_too(db: None) -> None:
    """A middleware that reads the body first hands the error to handler400, not to the API."""
    import json

    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
    from django.test import RequestFactory

    from circlework.core.error_pages import bad_request

    request = RequestFactory().post(url("/circles"))
    for exc, status in ((RequestDataTooBig(), 413), (TooManyFieldsSent(), 400)):
        response = bad_request(request, exc)
        assert response.status_code == status
        assert response["Content-Type"].startswith("application/json")
        body = json.loads(response.content)
        assert set(body) == {"error", "fields"} and body["error"] and body["fields"] == {}
