"""Property-based fuzzing of the whole JSON API with schemathesis, from its OpenAPI document.

Every operation in `/api/v1/openapi.json` gets schemathesis' coverage cases (boundaries, missing
and mistyped fields, unexpected methods) and generated requests (valid and invalid), once
anonymously and once with the personal API token of the practitioner who founded the seeded
circle; then every date field of every operation gets the calendar's edges. Each response must
not be a 5xx and must have a status code the operation declares, the declared content type and
a body that matches the declared schema. The requests go through Django's WSGI application
in-process (no server) against seeded records; most generated path parameters and id fields
are swapped for the ids of those records so that operations get past their 404s. Generation is
derandomized: every run (SQLite or PostgreSQL, locally or in CI) sends the same requests.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import factories
from tests.world import api_ids, build_world, module_world

OPENAPI = "/api/v1/openapi.json"
# Generated examples per operation and mode in the fuzzing phase. The coverage phase adds the
# schema's boundary and type-mismatch cases (about 25 more per operation), deterministically.
MAX_EXAMPLES = {"anonymous": 5, "token": 30}
# The least number of requests a full run (every operation, both modes) must make; a run makes
# about 7,900 (the issue asks for a few thousand).
MIN_REQUESTS = 5000
# One request in this many keeps what schemathesis generated for path parameters and id fields
# (which name no record: 404s and 400s); the others get the ids of the seeded records.
KEEP_GENERATED = 4
# Uncompressed answers: the checks read the body as it is (the site gzips for clients that ask).
PLAIN = {"Accept-Encoding": "identity"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _settings(mode: str) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=MAX_EXAMPLES[mode],
        derandomize=True,  # the same requests on every run, locally and in CI
        deadline=None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )


ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "api-fuzz.json"

# Dates and times: near today (so that "within 90 days" and "not in the past" pass and the
# operation goes on), the calendar's edges (year 1, year 9999, leap days; far-off time zones
# that push a time past either end in UTC), or anywhere in between.
_ZONES = [UTC, dt.timezone(timedelta(hours=14)), dt.timezone(-timedelta(hours=12, minutes=30))]
_EDGE_DATES = [
    dt.date.min,
    dt.date.max,
    dt.date(9999, 12, 1),
    dt.date(2028, 2, 29),
    dt.date(1970, 1, 1),
]
schemathesis.openapi.format(
    "date-time",
    st.one_of(
        st.integers(-10 * 86400, 400 * 86400).map(
            lambda s: (timezone.now() + timedelta(seconds=s)).isoformat()
        ),
        st.builds(
            lambda day, zone: dt.datetime.combine(day, dt.time(23, 59, 59), zone).isoformat(),
            st.sampled_from(_EDGE_DATES),
            st.sampled_from(_ZONES),
        ),
        st.datetimes(timezones=st.sampled_from(_ZONES)).map(dt.datetime.isoformat),
    ),
)
schemathesis.openapi.format(
    "date",
    st.one_of(
        st.integers(-400, 800).map(
            lambda d: (timezone.localdate() + timedelta(days=d)).isoformat()
        ),
        st.sampled_from(_EDGE_DATES).map(dt.date.isoformat),
        st.dates().map(dt.date.isoformat),
    ),
)
schema = schemathesis.openapi.from_wsgi(OPENAPI, get_wsgi_application())
OPERATIONS = sum(1 for _ in schema.get_all_operations())

# Status codes received, by (mode, operation label).
statuses: collections.defaultdict[tuple[str, str], collections.Counter[int]] = (
    collections.defaultdict(collections.Counter)
)


@pytest.fixture
def world(fuzz_world: dict[str, Any], db: None) -> Iterator[dict[str, Any]]:
    # Django's WSGI handler closes the database connection after each request (the test client
    # does not): that would end the test's transaction, so keep the connection meanwhile.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield fuzz_world
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(scope="module", autouse=True)
def _report(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print how many requests were made and check the floor; save the status codes."""
    yield
    by_mode: collections.Counter[str] = collections.Counter()
    by_class: collections.Counter[str] = collections.Counter()
    for (mode, _label), counts in statuses.items():
        by_mode[mode] += counts.total()
        for status, n in counts.items():
            by_class[f"{status // 100}xx"] += n
    total = by_mode.total()
    line = (
        f"API fuzzing: {total} requests over {len(statuses)} operation runs "
        f"({', '.join(f'{m} {n}' for m, n in sorted(by_mode.items()))}; "
        f"{', '.join(f'{c} {n}' for c, n in sorted(by_class.items()))})"
    )
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            print("\n" + line)
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(
        json.dumps(
            {f"{mode} {label}": dict(c) for (mode, label), c in sorted(statuses.items())},
            indent=1,
        )
    )
    if sum(mode in MAX_EXAMPLES for mode, _label in statuses) == 2 * OPERATIONS:  # not -k
        assert total >= MIN_REQUESTS, line


def _build_world() -> dict[str, Any]:
    """The access matrix's world (tests/world.py) with its circle and founder in public and
    without the matrix's extra roles and records, plus a second circle of the founder's."""
    world = build_world("Fuzz", public=True, full=False)
    author, member, other = (world["roles"][r] for r in ("author", "member", "other_member"))
    federation, another, poll = world["federation"], world["another"], world["poll"]
    second = factories.make_circle(founder=author, federation=federation, name="Fuzz Second")
    return {
        "secret": world["token_secret"],
        "ids": api_ids(world),
        # Values for body fields that name records or need a future time, by field name.
        "body": {
            "federation": lambda: federation.slug,
            "role": lambda: "facilitator",
            "circle": lambda: second.slug,
            "validating_circle": lambda: another.slug,
            "colleague_id": lambda: member.pk,
            "nominee_id": lambda: member.pk,
            "candidate_id": lambda: author.pk,
            "choices": lambda: [author.pk],
            "attendee_ids": lambda: [author.pk, other.pk],
            "approved": lambda: [poll.options.order_by("position")[0].pk],
            "agreement_id": lambda: world["agreement"].pk,
            "parent_id": lambda: world["comment"].pk,
            "secret": lambda: world["secret"],
            "email": lambda: "newcomer@example.org",
            "met_on": lambda: timezone.localdate().isoformat(),
            "closes_at": lambda: (timezone.now() + timedelta(days=5)).isoformat(),
            "nominations_close_at": lambda: (timezone.now() + timedelta(days=2)).isoformat(),
            "voting_closes_at": lambda: (timezone.now() + timedelta(days=9)).isoformat(),
        },
    }


# Each operation's test runs in its own savepoint (the `db` fixture), so what the requests of one
# operation write is gone before the next operation's.
fuzz_world = module_world(_build_world)


def _call(case: schemathesis.Case[Any], world: dict[str, Any], mode: str) -> None:
    counts = statuses[(mode, case.operation.label)]
    turn = counts.total()
    # Each field keeps its generated value on a different turn, so a request with real ids
    # can still carry, say, a generated date.
    for i, name in enumerate(case.path_parameters or {}):
        if name in world["ids"] and (turn + i) % KEEP_GENERATED:
            case.path_parameters[name] = world["ids"][name]
    if isinstance(case.body, dict):
        for i, name in enumerate(case.body):
            if name in world["body"] and (turn + i) % KEEP_GENERATED:
                case.body[name] = world["body"][name]()
    headers = dict(PLAIN)
    if mode == "token":
        headers["Authorization"] = f"Bearer {world['secret']}"
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    counts[response.status_code] += 1


@schema.parametrize()
@_settings("anonymous")
def test_fuzz_anonymous(case: schemathesis.Case[Any], world: dict[str, Any]) -> None:
    """No credentials (schemathesis may still send a made-up token): public operations answer,
    the others refuse with 401 in the error shape."""
    _call(case, world, "anonymous")


@schema.parametrize()
@_settings("token")
def test_fuzz_token(case: schemathesis.Case[Any], world: dict[str, Any]) -> None:
    """The personal API token of the practitioner who founded the seeded circle."""
    _call(case, world, "token")


# --- the calendar's edges in every date field ---------------------------------------------------
# Random generation rarely reaches a date deep in an operation (every other field must be valid
# first), so each date field of each operation also gets each edge value, the rest of the body
# being the least valid one the schema allows.

EDGE_TIMES = [
    dt.datetime.combine(day, time, zone).isoformat()
    for day in _EDGE_DATES
    for time in (dt.time(0, 0), dt.time(23, 59, 59))
    for zone in _ZONES
]
# Roles that exist where the operation opens an election.
ROLE_FOR = {"federation_election_open": "coordinator"}


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema.raw_schema["components"]["schemas"][name]
    options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
    return _resolve(options[0]) if options else node


def _date_fields() -> Iterator[tuple[str, str, str, str]]:
    for path, methods in schema.raw_schema["paths"].items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            body = _resolve(content["application/json"]["schema"])
            for name, prop in body.get("properties", {}).items():
                if _resolve(prop).get("format") in ("date", "date-time"):
                    yield operation["operationId"], path, method, name


def _least_body(operation_id: str, path: str, method: str, world: dict[str, Any]) -> dict[str, Any]:
    operation = schema.raw_schema["paths"][path][method]
    body = _resolve(operation["requestBody"]["content"]["application/json"]["schema"])
    least: dict[str, Any] = {}
    for name in body.get("required", []):
        prop = _resolve(body["properties"][name])
        if name == "role" and operation_id in ROLE_FOR:
            least[name] = ROLE_FOR[operation_id]
        elif name in world["body"]:
            least[name] = world["body"][name]()
        elif "enum" in prop:
            least[name] = prop["enum"][0]
        else:
            least[name] = {
                "string": "x" * max(1, prop.get("minLength", 1)),
                "integer": prop.get("minimum", 1),
                "boolean": False,
                "array": [],
            }.get(prop.get("type", "string"), {})
    return least


@pytest.mark.parametrize(
    ("operation_id", "path", "method", "field"),
    [pytest.param(*f, id=f"{f[0]}.{f[3]}") for f in sorted(_date_fields())],
)
def test_edge_dates(
    world: dict[str, Any], operation_id: str, path: str, method: str, field: str
) -> None:
    operation = schema[path][method.upper()]
    prop = _resolve(
        _resolve(operation.definition.raw["requestBody"]["content"]["application/json"]["schema"])[
            "properties"
        ][field]
    )
    edges = EDGE_TIMES if prop["format"] == "date-time" else [d.isoformat() for d in _EDGE_DATES]
    path_parameters = {
        name: world["ids"][name] for name in world["ids"] if "{" + name + "}" in path
    }
    counts = statuses[("token edge dates", f"{method.upper()} {path}")]
    for edge in edges:
        body = {**_least_body(operation_id, path, method, world), field: edge}
        case = operation.Case(
            path_parameters=path_parameters, body=body, media_type="application/json"
        )
        response = case.call_and_validate(
            headers={**PLAIN, "Authorization": f"Bearer {world['secret']}"}, checks=CHECKS
        )
        counts[response.status_code] += 1
