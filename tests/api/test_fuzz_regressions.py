"""Regressions for what the API fuzzer (test_fuzz_schemathesis.py) found, one test per finding."""

from __future__ import annotations

import collections
import json
import typing
from typing import Any

import pydantic
import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from circlework.api.base import on_overflow
from circlework.api.router import api
from tests.api.helpers import assert_error, post_json, soon, token_client, url
from tests.links.helpers import ask, make_net

BEYOND_INT64 = 206236151775131538030592  # the id the fuzzer sent: past what SQLite stores


@pytest.mark.django_db
def test_an_attendee_id_past_the_database_range_is_refused_not_a_crash() -> None:
    # Was a 500: "Python int too large to convert to SQLite INTEGER" in the attendee lookup.
    net = make_net(["A", "B"])
    link = ask(net, "A", "B")
    body = {"met_on": str(timezone.localdate()), "attendee_ids": [net.first("B").pk, BEYOND_INT64]}
    response = post_json(token_client(net.first("B")), f"/links/{link.pk}/meetings", body)
    fields = assert_error(response, 422)["fields"]
    assert any(name.startswith("attendee_ids") for name in fields), fields


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("dates", "field"),
    [
        ({"term_starts_on": "9999-12-31"}, "term_starts_on"),
        ({"voting_closes_at": "9999-12-31T23:59:59+00:00"}, "voting_closes_at"),
    ],
)
def test_an_election_whose_term_would_end_past_year_9999_is_refused_not_a_crash(
    four: dict[str, Any], dates: dict[str, str], field: str
) -> None:
    # Was a 500: "year 10000 is out of range" working out the longest term (found by the
    # fuzzer's edge-date pass).
    body = {"role": "facilitator", "nominations_close_at": soon(2), "voting_closes_at": soon(9)}
    response = post_json(four["c"]["Ana"], "/circles/four/elections", {**body, **dates})
    assert_error(response, 400, field)


def test_the_document_bounds_attendee_ids_to_what_the_database_stores() -> None:
    schema = Client().get(url("/openapi.json")).json()
    items = schema["components"]["schemas"]["LinkMeetingIn"]["properties"]["attendee_ids"]
    assert items["items"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


def test_an_overflow_anywhere_in_an_operation_answers_422_in_the_error_shape() -> None:
    request = RequestFactory().post(url("/links/1/meetings"))
    response = on_overflow(request, OverflowError("date value out of range"))
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/json")
    assert set(json.loads(response.content)) == {"error", "fields"}


def _models(tp: Any, found: set[type[pydantic.BaseModel]]) -> None:
    if isinstance(tp, type) and issubclass(tp, pydantic.BaseModel):
        if tp not in found:
            found.add(tp)
            for field in tp.model_fields.values():
                _models(field.annotation, found)
        return
    for arg in typing.get_args(tp):
        _models(arg, found)


def test_every_schema_name_in_the_document_stands_for_one_model() -> None:
    # Elections' and polls' ballots were both named BallotIn: the document showed the poll
    # ballot operation the election ballot's body ({"choices"}), so no client could vote.
    found: set[type[pydantic.BaseModel]] = set()
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    _models(model, found)
                for response_model in operation.response_models.values():
                    _models(response_model, found)
    by_name: dict[str, set[str]] = collections.defaultdict(set)
    for model in found:
        by_name[model.__name__].add(f"{model.__module__}.{model.__qualname__}")
    clashes = {name: sorted(paths) for name, paths in by_name.items() if len(paths) > 1}
    assert not clashes, clashes


def test_the_poll_ballot_operation_documents_the_poll_ballot_body() -> None:
    schema = Client().get(url("/openapi.json")).json()
    operation = schema["paths"]["/api/v1/circles/{slug}/polls/{poll_id}/ballot"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"approved", "scores", "ranking", "availability"} <= set(body["properties"])
