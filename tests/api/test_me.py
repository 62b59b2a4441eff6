"""/me, /me/profile and /me/credentials."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from circlework.accounts import services as account_services
from circlework.accounts.models import Credential, Practitioner
from circlework.core.models import AuditEvent
from tests import factories
from tests.api.helpers import assert_error, patch_json, post_json, token_client, url

pytestmark = pytest.mark.django_db


def test_me(practitioner: Practitioner) -> None:
    response = token_client(practitioner).get(url("/me"))
    assert response.status_code == 200
    assert response.json() == {
        "id": practitioner.pk,
        "email": practitioner.user.email,
        "display_name": "Alex Author",
        "time_zone": "Europe/London",
    }


# --- profile --------------------------------------------------------------------------------


def test_profile_get(db: None) -> None:
    p = factories.make_practitioner(
        "Sam Example", pronouns="they/them", location="Leeds", location_visibility="private"
    )
    response = token_client(p).get(url("/me/profile"))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == p.pk
    assert body["display_name"] == "Sam Example"
    assert body["pronouns"] == "they/them"
    assert body["location"] == "Leeds"
    assert body["location_visibility"] == "private"
    assert body["display_name_visibility"] == "federation"
    assert body["time_zone"] == "Europe/London"
    assert "email" not in body and "user" not in body


def test_profile_patch_changes_only_what_was_sent(practitioner: Practitioner) -> None:
    client = token_client(practitioner)
    response = patch_json(
        client,
        "/me/profile",
        {
            "display_name": "  Alex A. Author  ",
            "display_name_visibility": "circle",
            "time_zone": "America/Toronto",
            "modalities": "gestalt, person-centred",
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["display_name"] == "Alex A. Author"
    assert body["display_name_visibility"] == "circle"
    assert body["time_zone"] == "America/Toronto"
    practitioner.refresh_from_db()
    assert practitioner.display_name == "Alex A. Author"
    assert practitioner.display_name_visibility == "circle"
    assert practitioner.time_zone == "America/Toronto"
    assert practitioner.modalities == "gestalt, person-centred"
    assert practitioner.pronouns_visibility == "circle"  # untouched default
    assert AuditEvent.objects.filter(verb="practitioner.updated", actor=practitioner).exists()


def test_profile_patch_with_empty_body_changes_nothing(practitioner: Practitioner) -> None:
    response = patch_json(token_client(practitioner), "/me/profile", {})
    assert response.status_code == 200
    assert response.json()["display_name"] == "Alex Author"


def test_profile_patch_null_means_unchanged(practitioner: Practitioner) -> None:
    response = patch_json(
        token_client(practitioner), "/me/profile", {"display_name": None, "pronouns": "she/her"}
    )
    assert response.status_code == 200
    practitioner.refresh_from_db()
    assert practitioner.display_name == "Alex Author"
    assert practitioner.pronouns == "she/her"


def test_profile_patch_invalid_visibility_is_422(practitioner: Practitioner) -> None:
    response = patch_json(
        token_client(practitioner), "/me/profile", {"display_name_visibility": "everyone"}
    )
    body = assert_error(response, 422, "display_name_visibility")
    assert "invalid" in body["error"].lower() or "missing" in body["error"].lower()
    practitioner.refresh_from_db()
    assert practitioner.display_name_visibility == "federation"


def test_profile_patch_unknown_time_zone_is_400(practitioner: Practitioner) -> None:
    response = patch_json(token_client(practitioner), "/me/profile", {"time_zone": "Mars/Olympus"})
    assert_error(response, 400, "time_zone")
    practitioner.refresh_from_db()
    assert practitioner.time_zone == "Europe/London"


@pytest.mark.parametrize("location", ["Leeds LS1", "10 Downing Street", "SW1A 1AA"])
def test_profile_patch_location_with_postcode_is_400(
    practitioner: Practitioner, location: str
) -> None:
    response = patch_json(token_client(practitioner), "/me/profile", {"location": location})
    assert_error(response, 400, "location")
    practitioner.refresh_from_db()
    assert practitioner.location == ""


def test_profile_patch_rejected_change_keeps_the_valid_part_out_too(
    practitioner: Practitioner,
) -> None:
    response = patch_json(
        token_client(practitioner), "/me/profile", {"pronouns": "he/him", "location": "Flat 3"}
    )
    assert_error(response, 400, "location")
    practitioner.refresh_from_db()
    assert practitioner.pronouns == ""


@pytest.mark.parametrize(
    "payload",
    [
        {"display_name": ""},
        {"display_name": "x" * 121},
        {"statement": "x" * 5001},
        {"display_name": 42},
        {"pronouns": ["a"]},
        {"location_visibility": None, "statement_visibility": "PUBLIC"},
    ],
)
def test_profile_patch_schema_violations_are_422(
    practitioner: Practitioner, payload: dict[str, Any]
) -> None:
    response = patch_json(token_client(practitioner), "/me/profile", payload)
    assert_error(response, 422)
    practitioner.refresh_from_db()
    assert practitioner.display_name == "Alex Author"


def test_profile_patch_ignores_fields_that_are_not_the_profile(practitioner: Practitioner) -> None:
    other = factories.make_practitioner("Bo Other")
    response = patch_json(
        token_client(practitioner),
        "/me/profile",
        {"id": other.pk, "user": other.user.pk, "email": "x@example.org", "pronouns": "ze"},
    )
    assert response.status_code == 200
    assert response.json()["id"] == practitioner.pk
    practitioner.refresh_from_db()
    other.refresh_from_db()
    assert practitioner.pronouns == "ze"
    assert practitioner.user.email != "x@example.org"
    assert other.pronouns == ""


# --- credentials ----------------------------------------------------------------------------


def test_credentials_add_list_delete(practitioner: Practitioner) -> None:
    client = token_client(practitioner)

    response = post_json(
        client,
        "/me/credentials",
        {"title": " MA Psychotherapy ", "issuer": "Metanoia", "year": 2015},
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created == {
        "id": created["id"],
        "title": "MA Psychotherapy",
        "issuer": "Metanoia",
        "year": 2015,
        "visibility": "federation",
        "has_document": False,
    }
    credential = Credential.objects.get(pk=created["id"])
    assert credential.practitioner_id == practitioner.pk

    post_json(
        client,
        "/me/credentials",
        {"title": "BA", "issuer": "Uni", "year": 2008, "visibility": "private"},
    )
    listed = client.get(url("/me/credentials"))
    assert listed.status_code == 200
    assert [(c["title"], c["visibility"]) for c in listed.json()] == [
        ("MA Psychotherapy", "federation"),
        ("BA", "private"),
    ]

    deleted = client.delete(url(f"/me/credentials/{credential.pk}"))
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert not Credential.objects.filter(pk=credential.pk).exists()
    assert [c["title"] for c in client.get(url("/me/credentials")).json()] == ["BA"]


def test_credentials_list_shows_only_mine(practitioner: Practitioner) -> None:
    other = factories.make_practitioner("Bo Other")
    account_services.credential_add(
        actor=other, title="Theirs", issuer="X", year=2000, visibility="public"
    )
    assert token_client(practitioner).get(url("/me/credentials")).json() == []


@pytest.mark.parametrize("year", [1899, 1000, 2101, -1, 0])
def test_credential_year_out_of_range_is_422(practitioner: Practitioner, year: int) -> None:
    response = post_json(
        token_client(practitioner), "/me/credentials", {"title": "T", "issuer": "I", "year": year}
    )
    assert_error(response, 422, "year")
    assert not practitioner.credentials.exists()


def test_credential_year_in_the_future_is_refused(practitioner: Practitioner) -> None:
    next_year = timezone.now().year + 1
    response = post_json(
        token_client(practitioner),
        "/me/credentials",
        {"title": "T", "issuer": "I", "year": next_year},
    )
    assert_error(response, (400, 422), "year")
    assert not practitioner.credentials.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"title": "T", "issuer": "I"},
        {"title": "", "issuer": "I", "year": 2000},
        {"title": "T", "issuer": "I", "year": "last year"},
        {"title": "T", "issuer": "I", "year": 2000, "visibility": "friends"},
    ],
)
def test_credential_invalid_payload_is_422(
    practitioner: Practitioner, payload: dict[str, Any]
) -> None:
    response = post_json(token_client(practitioner), "/me/credentials", payload)
    assert_error(response, 422)
    assert not practitioner.credentials.exists()


def test_credential_blank_after_trimming_is_400(practitioner: Practitioner) -> None:
    response = post_json(
        token_client(practitioner), "/me/credentials", {"title": "   ", "issuer": "I", "year": 2000}
    )
    assert_error(response, 400, "title")
    assert not practitioner.credentials.exists()


def test_deleting_someone_elses_credential_is_404_and_it_stays(practitioner: Practitioner) -> None:
    other = factories.make_practitioner("Bo Other")
    theirs = account_services.credential_add(
        actor=other, title="Theirs", issuer="X", year=2000, visibility="public"
    )

    response = token_client(practitioner).delete(url(f"/me/credentials/{theirs.pk}"))

    assert_error(response, 404)
    assert Credential.objects.filter(pk=theirs.pk, practitioner=other).exists()


@pytest.mark.parametrize("credential_id", ["999999", "abc", "-1", "99999999999999999999999"])
def test_deleting_a_missing_credential_is_4xx(
    practitioner: Practitioner, credential_id: str
) -> None:
    response = token_client(practitioner).delete(url(f"/me/credentials/{credential_id}"))
    assert_error(response, (404, 422))


# --- notifications --------------------------------------------------------------------------


def test_notifications_are_mine(practitioner: Practitioner) -> None:
    from circlework.notifications.services import notify

    other = factories.make_practitioner("Bo Other")
    notify(recipient=practitioner, kind="circle", title="For me", email=False)
    notify(recipient=other, kind="circle", title="Not for me", email=False)

    response = token_client(practitioner).get(url("/me/notifications"))

    assert response.status_code == 200
    assert [n["title"] for n in response.json()] == ["For me"]
    assert response.json()[0]["read"] is False
