"""The OpenAPI document: it loads, lists every operation, and declares the error responses."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.api.helpers import url

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("get", "/me"),
    ("get", "/me/profile"),
    ("patch", "/me/profile"),
    ("get", "/me/credentials"),
    ("post", "/me/credentials"),
    ("delete", "/me/credentials/{credential_id}"),
    ("get", "/me/invitations"),
    ("get", "/me/notifications"),
    ("get", "/practitioners/{practitioner_id}"),
    ("get", "/federations"),
    ("get", "/circles"),
    ("post", "/circles"),
    ("get", "/circles/{slug}"),
    ("patch", "/circles/{slug}"),
    ("get", "/circles/{slug}/memberships"),
    ("post", "/circles/{slug}/leave"),
    ("get", "/circles/{slug}/invitations"),
    ("post", "/circles/{slug}/invitations"),
    ("post", "/circles/{slug}/invitations/{invitation_id}/revoke"),
    ("post", "/invitations/accept"),
    ("post", "/invitations/decline"),
    ("get", "/circles/{slug}/proposals"),
    ("post", "/circles/{slug}/proposals"),
    ("get", "/circles/{slug}/proposals/{proposal_id}"),
    ("post", "/circles/{slug}/proposals/{proposal_id}/position"),
    ("post", "/circles/{slug}/proposals/{proposal_id}/amendments"),
    ("post", "/circles/{slug}/proposals/{proposal_id}/amendments/{amendment_id}/accept"),
    ("post", "/circles/{slug}/proposals/{proposal_id}/amendments/{amendment_id}/decline"),
    ("post", "/circles/{slug}/proposals/{proposal_id}/close"),
    ("post", "/circles/{slug}/proposals/{proposal_id}/withdraw"),
    ("post", "/circles/{slug}/proposals/{proposal_id}/remind"),
    ("get", "/circles/{slug}/proposals/{proposal_id}/comments"),
    ("post", "/circles/{slug}/proposals/{proposal_id}/comments"),
    ("get", "/circles/{slug}/agreements"),
    ("get", "/circles/{slug}/agreements/{agreement_id}"),
    ("post", "/circles/{slug}/agreements/{agreement_id}/review"),
    ("post", "/circles/{slug}/agreements/{agreement_id}/borrow"),
    ("post", "/circles/{slug}/agreements/{agreement_id}/visibility"),
    ("get", "/circles/{slug}/polls"),
    ("post", "/circles/{slug}/polls"),
    ("get", "/circles/{slug}/polls/{poll_id}"),
    ("post", "/circles/{slug}/polls/{poll_id}/ballot"),
    ("post", "/circles/{slug}/polls/{poll_id}/close"),
    ("get", "/circles/{slug}/standing-by"),
    ("post", "/circles/{slug}/standing-by"),
    ("post", "/circles/{slug}/standing-by/{statement_id}/withdraw"),
    ("get", "/circles/{slug}/standing-by/concerns"),
    ("post", "/circles/{slug}/standing-by/concerns/{concern_id}/respond"),
    ("get", "/me/mandates"),
    ("get", "/circles/{slug}/mandates"),
    ("get", "/federations/{federation_slug}/mandates"),
    ("get", "/mandates/{mandate_id}"),
    ("post", "/mandates/{mandate_id}/resign"),
    ("post", "/mandates/{mandate_id}/handover"),
    ("post", "/federations/{federation_slug}/notices"),
    ("get", "/federations/{federation_slug}/covenant"),
    ("post", "/circles/{slug}/agreements/{agreement_id}/circulate"),
    ("post", "/circles/{slug}/proposals/{proposal_id}/circulate"),
    ("post", "/circles/{slug}/agreements/{agreement_id}/publish"),
    ("get", "/circles/{slug}/ethics/circulations"),
    ("get", "/circles/{slug}/ethics/circulations/{circulation_id}/comments"),
    ("post", "/circles/{slug}/ethics/circulations/{circulation_id}/comments"),
    ("get", "/federations/{federation_slug}/ethics"),
    ("get", "/circles/{slug}/elections"),
    ("post", "/circles/{slug}/elections"),
    ("get", "/federations/{federation_slug}/elections"),
    ("post", "/federations/{federation_slug}/elections"),
    ("get", "/elections/{election_id}"),
    ("get", "/elections/{election_id}/result"),
    ("get", "/elections/{election_id}/nominations"),
    ("get", "/elections/{election_id}/consents"),
    ("get", "/elections/{election_id}/people/{which}"),
    ("post", "/elections/{election_id}/nominations"),
    ("post", "/elections/{election_id}/nominations/{nomination_id}/answer"),
    ("post", "/elections/{election_id}/nominations/change"),
    ("post", "/elections/{election_id}/change-round"),
    ("post", "/elections/{election_id}/propose"),
    ("post", "/elections/{election_id}/consent"),
    ("post", "/elections/{election_id}/ballots"),
    ("post", "/elections/{election_id}/cancel"),
    ("get", "/circles/{slug}/links"),
    ("post", "/circles/{slug}/links"),
    ("get", "/links/{link_id}"),
    ("post", "/links/{link_id}/cancel"),
    ("post", "/links/{link_id}/meetings"),
    ("post", "/links/{link_id}/decision"),
    ("post", "/links/{link_id}/statement"),
    ("post", "/links/{link_id}/withdraw"),
    ("get", "/circles/{slug}/gatherings"),
    ("post", "/circles/{slug}/gatherings"),
    ("get", "/gatherings/{gathering_id}"),
    ("patch", "/gatherings/{gathering_id}"),
    ("post", "/gatherings/{gathering_id}/cancel"),
    ("get", "/gatherings/{gathering_id}/occurrences"),
    ("get", "/occurrences/{occurrence_id}"),
    ("post", "/occurrences/{occurrence_id}/move"),
    ("post", "/occurrences/{occurrence_id}/cancel"),
    ("put", "/occurrences/{occurrence_id}/attendance"),
    ("put", "/occurrences/{occurrence_id}/present"),
    ("get", "/occurrences/{occurrence_id}/agenda"),
    ("post", "/occurrences/{occurrence_id}/agenda"),
    ("put", "/occurrences/{occurrence_id}/agenda/order"),
    ("patch", "/agenda-items/{agenda_item_id}"),
    ("delete", "/agenda-items/{agenda_item_id}"),
    ("post", "/agenda-items/{agenda_item_id}/accept"),
    ("post", "/agenda-items/{agenda_item_id}/dismiss"),
    ("get", "/occurrences/{occurrence_id}/minutes"),
    ("post", "/occurrences/{occurrence_id}/minutes"),
    ("post", "/occurrences/{occurrence_id}/minutes/confirm"),
    ("post", "/occurrences/{occurrence_id}/minutes/correction"),
    ("get", "/me/gatherings"),
    ("get", "/me/calendar-feeds"),
    ("post", "/me/calendar-feeds"),
    ("post", "/me/calendar-feeds/{calendar_feed_id}/revoke"),
    ("get", "/federations/{federation_slug}/gatherings"),
    ("post", "/federations/{federation_slug}/gatherings"),
    ("get", "/gatherings/{federation_gathering_id}/programme"),
    ("put", "/gatherings/{federation_gathering_id}/signups/{slug}"),
    ("delete", "/gatherings/{federation_gathering_id}/signups/{slug}"),
    ("post", "/gatherings/{federation_gathering_id}/sessions"),
    ("post", "/programme-sessions/{programme_session_id}/decision"),
    ("delete", "/programme-sessions/{programme_session_id}"),
    ("get", "/federations/{federation_slug}/map"),
}
PUBLIC = {
    ("get", "/circles/{slug}/links"),
    ("get", "/links/{link_id}"),
    ("get", "/federations/{federation_slug}/map"),
    ("get", "/federations/{federation_slug}/covenant"),
    ("get", "/federations/{federation_slug}/ethics"),  # published statements only
    ("get", "/practitioners/{practitioner_id}"),
    ("get", "/federations"),
    ("get", "/circles"),
    ("get", "/circles/{slug}"),
    ("get", "/circles/{slug}/memberships"),
    ("get", "/circles/{slug}/agreements"),  # each agreement has its own visibility
    ("get", "/circles/{slug}/agreements/{agreement_id}"),
    ("get", "/federations/{federation_slug}/gatherings"),  # public ones to everyone
    ("get", "/gatherings/{federation_gathering_id}/programme"),  # a public gathering's
}
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


@pytest.fixture
def schema() -> dict[str, Any]:
    response = Client().get(url("/openapi.json"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.json()  # type: ignore[no-any-return]


def _operations(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    ops = {}
    for path, item in schema["paths"].items():
        assert path.startswith("/api/v1/"), path
        for method, op in item.items():
            if method in HTTP_METHODS:
                ops[(method, path.removeprefix("/api/v1"))] = op
    return ops


def test_document_loads_anonymously(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Circlework API"
    assert schema["info"]["version"] == "1"


def test_document_lists_every_operation(schema: dict[str, Any]) -> None:
    assert set(_operations(schema)) == OPERATIONS


def test_operation_ids_are_unique(schema: dict[str, Any]) -> None:
    ids = [op["operationId"] for op in _operations(schema).values()]
    assert len(ids) == len(set(ids))


def test_operation_ids_are_the_view_names_whatever_module_holds_them(
    schema: dict[str, Any],
) -> None:
    ops = _operations(schema)
    assert ops[("get", "/me")]["operationId"] == "me"
    assert ops[("post", "/circles/{slug}/polls")]["operationId"] == "poll_create"


def test_every_operation_declares_error_responses_in_the_error_shape(
    schema: dict[str, Any],
) -> None:
    error_schema = schema["components"]["schemas"]["ErrorOut"]
    assert set(error_schema["required"]) >= {"error"}
    assert set(error_schema["properties"]) == {"error", "fields"}
    for key, op in _operations(schema).items():
        declared = {int(code) for code in op["responses"]}
        errors = {code for code in declared if 400 <= code < 500}
        assert errors >= {400, 401, 403, 404, 409, 422}, (key, sorted(declared))
        success = declared - errors
        assert success and all(200 <= code < 300 for code in success), (key, sorted(declared))
        for code in errors:
            content = op["responses"][str(code)]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/ErrorOut"}, (key, code)


def test_protected_operations_declare_both_auth_schemes(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    assert any(s.get("in") == "cookie" for s in schemes.values())
    for key, op in _operations(schema).items():
        if key in PUBLIC:
            assert not op.get("security"), key
        else:
            assert len(op.get("security", [])) == 2, key


def test_interactive_docs_are_off() -> None:
    # They would load assets from a CDN; the OpenAPI document is the documentation.
    assert Client().get(url("/docs")).status_code == 404
