"""Every URL pattern and API operation × every role: allowed or refused, and no leaks.

The matrix is generated from the URL conf and the OpenAPI document, so a new URL without a rule
here fails `test_every_url_has_a_rule`. Bodies are searched for marker strings planted in records
above each role's reach: a 200 that shows a private record is a failure, not just a 200 that
should have been a 403.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from circlework.accounts import services as account_services
from circlework.api.router import api
from circlework.notifications.models import Notification
from tests import factories

ROLES = ("anonymous", "outsider", "member", "other_member", "author")
ALL = frozenset(ROLES)
SIGNED_IN = ALL - {"anonymous"}
CIRCLE = frozenset({"member", "author"})
AUTHOR = frozenset({"author"})
FEDERATION = frozenset({"member", "author", "other_member"})  # members of any circle in it

MARK_CIRCLE = "MARKERCIRCLEPURPOSE"  # in a circle-only circle's purpose
MARK_CREDENTIAL = "MARKERCIRCLECREDENTIAL"  # the author's circle-only credential
MARK_PRIVATE = "MARKERPRIVATESTATEMENT"  # the author's private statement
MARK_PRONOUNS = "markerpronouns"  # the author's circle-only pronouns

# Which markers each role may see, anywhere.
MAY_SEE = {
    "anonymous": set(),
    "outsider": set(),
    "other_member": set(),
    "member": {MARK_CIRCLE, MARK_CREDENTIAL, MARK_PRONOUNS},
    "author": {MARK_CIRCLE, MARK_CREDENTIAL, MARK_PRIVATE, MARK_PRONOUNS},
}


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    method: str = "get"
    # Markers that this URL shows to anyone it serves (by design, e.g. the invitation link).
    shows: frozenset[str] = frozenset()


PAGES: dict[str, Rule] = {
    "home": Rule(ALL),
    "accounts:profile_edit": Rule(SIGNED_IN),
    "accounts:credential_list": Rule(SIGNED_IN),
    "accounts:credential_edit": Rule(AUTHOR),
    "accounts:token_list": Rule(SIGNED_IN),
    "accounts:token_revoke": Rule(AUTHOR, "post"),
    "accounts:data": Rule(SIGNED_IN),
    "accounts:data_export": Rule(SIGNED_IN),
    "accounts:account_delete": Rule(SIGNED_IN, "post"),
    "accounts:practitioner_detail": Rule(CIRCLE),
    "accounts:credential_document": Rule(CIRCLE),
    "circles:federation_list": Rule(ALL),
    "circles:federation_detail": Rule(ALL),
    "circles:circle_list": Rule(SIGNED_IN),
    "circles:circle_found": Rule(SIGNED_IN),
    "circles:circle_detail": Rule(CIRCLE),
    "circles:circle_edit": Rule(CIRCLE),
    "circles:circle_invitations": Rule(CIRCLE),
    "circles:invitation_revoke": Rule(CIRCLE, "post"),
    "circles:circle_leave": Rule(CIRCLE),
    "circles:circle_history": Rule(CIRCLE),
    # Whoever holds the e-mailed link may read what they are invited to.
    "circles:invitation_respond": Rule(ALL, shows=frozenset({MARK_CIRCLE})),
    "notifications:inbox": Rule(SIGNED_IN),
    "notifications:mark_read": Rule(AUTHOR, "post"),
    "notifications:mark_all_read": Rule(SIGNED_IN, "post"),
    "notifications:preferences": Rule(SIGNED_IN),
    "decisions:proposal_list": Rule(CIRCLE),
    "decisions:proposal_new": Rule(CIRCLE),
    "decisions:proposal_detail": Rule(CIRCLE),
    "decisions:version_diff": Rule(CIRCLE),
    "decisions:position_take": Rule(CIRCLE, "post"),
    "decisions:amendment_propose": Rule(CIRCLE, "post"),
    "decisions:amendment_decide": Rule(AUTHOR, "post"),
    "decisions:comment_add": Rule(CIRCLE, "post"),
    "decisions:comment_edit": Rule(AUTHOR),
    "decisions:proposal_action": Rule(CIRCLE, "post"),
    "circles:circle_delegate": Rule(CIRCLE),
    "decisions:federation_proposal_list": Rule(FEDERATION),
    "decisions:federation_proposal_new": Rule(FEDERATION),
    "decisions:federation_proposal_detail": Rule(FEDERATION),
    "decisions:circle_position_record": Rule(FEDERATION, "post"),
    "decisions:federation_proposal_deliberate": Rule(FEDERATION, "post"),
    "decisions:federation_proposal_close": Rule(FEDERATION, "post"),
    "agreements:lineage": Rule(ALL),
    "agreements:agreement_list": Rule(CIRCLE),
    "agreements:agreement_detail": Rule(CIRCLE | {"other_member"}),  # federation-visible
    "agreements:agreement_review": Rule(CIRCLE, "post"),
    "agreements:agreement_borrow": Rule(
        frozenset({"other_member"}), "post"
    ),  # into their own circle
    "polls:poll_list": Rule(CIRCLE),
    "polls:poll_new": Rule(CIRCLE),
    "polls:poll_detail": Rule(CIRCLE),
    # Members who did not open the poll are told on its page that they cannot close it.
    "polls:poll_close": Rule(CIRCLE, "post"),
    "standing:standing_page": Rule(CIRCLE),
    "standing:standing_withdraw": Rule(AUTHOR, "post"),
    "standing:concern_detail": Rule(CIRCLE),
}

# API operations by operationId (the view function's name).
API: dict[str, Rule] = {
    "me": Rule(SIGNED_IN),
    "profile_get": Rule(SIGNED_IN),
    "profile_patch": Rule(SIGNED_IN, "patch"),
    "credentials_list": Rule(SIGNED_IN),
    "credentials_add": Rule(SIGNED_IN, "post"),
    "credentials_remove": Rule(AUTHOR, "delete"),
    "my_invitations": Rule(SIGNED_IN),
    "my_notifications": Rule(SIGNED_IN),
    "practitioner_get": Rule(CIRCLE),
    "federation_list": Rule(ALL),
    "circle_list": Rule(ALL),
    "circle_found": Rule(SIGNED_IN, "post"),
    "circle_get": Rule(CIRCLE),
    "circle_patch": Rule(CIRCLE, "patch"),
    "circle_memberships": Rule(CIRCLE),
    "circle_leave": Rule(CIRCLE, "post"),
    "circle_invitations": Rule(CIRCLE),
    "invitation_create": Rule(CIRCLE, "post"),
    "invitation_revoke": Rule(CIRCLE, "post"),
    "invitation_accept": Rule(SIGNED_IN, "post"),
    "invitation_decline": Rule(SIGNED_IN, "post"),
    "proposal_list": Rule(CIRCLE),
    "proposal_create": Rule(CIRCLE, "post"),
    "proposal_get": Rule(CIRCLE),
    "position_take": Rule(CIRCLE, "post"),
    "amendment_propose": Rule(CIRCLE, "post"),
    "amendment_accept": Rule(AUTHOR, "post"),  # the proposer decides
    "amendment_decline": Rule(AUTHOR, "post"),
    "proposal_close": Rule(AUTHOR, "post"),  # refused with 409 while a voice is missing
    "proposal_withdraw": Rule(AUTHOR, "post"),
    "proposal_remind": Rule(CIRCLE, "post"),
    "comment_list": Rule(CIRCLE),
    "comment_add": Rule(CIRCLE, "post"),
    "agreement_list": Rule(CIRCLE | {"other_member"}),  # the agreement is federation-visible
    "agreement_get": Rule(CIRCLE | {"other_member"}),
    "agreement_review": Rule(CIRCLE, "post"),
    "agreement_borrow": Rule(frozenset({"other_member"}), "post"),  # into their own circle
    "poll_list": Rule(CIRCLE),
    "poll_create": Rule(CIRCLE, "post"),
    "poll_get": Rule(CIRCLE),
    "ballot_cast": Rule(CIRCLE, "post"),
    "poll_close": Rule(AUTHOR, "post"),  # the member who opened it
    "standing_table": Rule(CIRCLE),
    # The body names the author: the member renews standing by them; the author gets 400 for
    # standing by themselves (only after the rules have let them in).
    "standing_by_state": Rule(CIRCLE, "post"),
    "standing_by_withdraw": Rule(AUTHOR, "post"),  # the author's own statement
    "standing_concern_list": Rule(CIRCLE),  # with the reasons (MARK_CIRCLE)
    # The author raised the concern: any other member responds.
    "standing_concern_respond": Rule(frozenset({"member"}), "post"),
}
# Well-formed bodies, so that the permission check (not input validation) decides.
VALID_BODIES: dict[str, dict[str, Any]] = {
    "invitation_create": {"email": "new.person@example.org"},
    "circle_found": {
        "federation": "matrix-federation",
        "name": "A New Circle",
        "purpose": "Peer review.",
    },
    "credentials_add": {"title": "Diploma", "issuer": "Institute", "year": 2015},
    "profile_patch": {"pronouns": "they/them"},
    "circle_patch": {"locality": "Leeds"},
    "proposal_create": {
        "title": "Another question",
        "text": "Shall we meet weekly?",
        "closes_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
    },
    "position_take": {"stance": "concerns", "reason": "Not sure yet"},
    "amendment_propose": {"text": "Shall we, kindly?", "reason": "Kinder still"},
    "amendment_accept": {"response": "Thank you"},
    "amendment_decline": {"response": "Not this time"},
    "comment_add": {"text": "A thought"},
    "agreement_review": {},
    "agreement_borrow": {"circle": "another-circle"},
    "poll_create": {
        "title": "Another poll",
        "kind": "approval",
        "closes_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        "options": ["Tea", "Coffee"],
    },
    # "{option_id}" is replaced like a path parameter (see test_api_access).
    "ballot_cast": {"approved": ["{option_id}"]},
    "standing_by_state": {"colleague_id": "{practitioner_id}", "basis": "Peer supervision"},
    "standing_by_withdraw": {"reason": "We no longer meet."},
    "standing_concern_respond": {"response": "We talked it through.", "resolve": True},
}
# Framework URLs that are not operations of ours.
NOT_OPERATIONS = {"api:openapi-json", "api:api-root"}


def _walk(patterns: list[Any], namespace: str | None = None) -> Iterator[tuple[str, str]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, p.namespace or namespace)
        elif isinstance(p, URLPattern):
            yield (f"{namespace}:{p.name}" if namespace else str(p.name)), p.callback.__module__


def our_url_names() -> set[str]:
    # allauth's own pages (log-in, sign-up, 2FA…) are tested by allauth and by our browser flow.
    return {
        name
        for name, module in _walk(get_resolver().url_patterns)
        if not module.startswith("allauth.") and not name.startswith("api:")
    }


def api_operations() -> dict[str, tuple[str, str]]:
    schema = api.get_openapi_schema()
    ops = {}
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            ops[op["operationId"]] = (path, method)
    return ops


def test_every_url_has_a_rule() -> None:
    missing = our_url_names() - set(PAGES)
    assert not missing, f"URLs without an access rule in the matrix: {sorted(missing)}"
    assert not set(PAGES) - our_url_names(), "rules for URLs that no longer exist"


def test_every_api_operation_has_a_rule() -> None:
    ops = api_operations()
    missing = set(ops) - set(API)
    assert not missing, f"API operations without an access rule: {sorted(missing)}"
    assert not set(API) - set(ops)
    for name, (_path, method) in ops.items():
        assert API[name].method == method, name


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    federation = factories.make_federation("Matrix Federation")
    author = factories.make_practitioner(
        "Author Person",
        display_name_visibility="circle",
        pronouns=MARK_PRONOUNS,
        pronouns_visibility="circle",
        statement=MARK_PRIVATE,
        statement_visibility="private",
    )
    member = factories.make_practitioner("Member Person")
    other = factories.make_practitioner("Other Member")
    outsider = factories.make_practitioner("Outside Person")
    circle = factories.make_circle(
        founder=author,
        federation=federation,
        members=[member],
        name="Closed Circle",
        purpose=MARK_CIRCLE,
        visibility="circle",
    )
    factories.make_circle(founder=other, federation=federation, name="Another Circle")
    from django.core.files.uploadedfile import SimpleUploadedFile

    credential = account_services.credential_add(
        actor=author,
        title=MARK_CREDENTIAL,
        issuer="Institute",
        year=2010,
        visibility="circle",
        document=SimpleUploadedFile("c.pdf", b"%PDF-1.4 test", content_type="application/pdf"),
    )
    token, _secret = account_services.api_token_create(actor=author, name="matrix token")
    invitation, secret = factories.make_invitation(circle, "someone@example.org", inviter=author)
    notification = Notification.objects.filter(recipient=author).first()
    assert notification is not None
    from datetime import timedelta

    from django.utils import timezone

    from circlework.decisions import services as decision_services

    adopting = decision_services.proposal_open(
        actor=author,
        circle=circle,
        title="Adopt a procedure",
        text="Let us adopt it.",
        closes_at=timezone.now() + timedelta(days=3),
        new_agreement_kind="procedure",
        new_agreement_title="Meeting procedure",
        agreement_text="We meet monthly.",
    )
    for person in (author, member):
        decision_services.position_take(actor=person, proposal=adopting, stance="agree")
    decision_services.proposal_close(actor=author, proposal=adopting, early=True)
    adopting.refresh_from_db()
    proposal = decision_services.proposal_open(
        actor=author,
        circle=circle,
        title="Open question",
        text="Shall we?",
        closes_at=timezone.now() + timedelta(days=3),
    )
    amendment = decision_services.amendment_propose(
        actor=member, proposal=proposal, text="Shall we, please?", reason="Kinder"
    )
    comment = decision_services.comment_add(actor=author, proposal=proposal, text="My view")
    federation_proposal = decision_services.federation_proposal_open(
        actor=author,
        circle=circle,
        title="Federation question",
        text="For all circles.",
        closes_at=timezone.now() + timedelta(days=10),
    )
    from circlework.polls import services as poll_services

    poll = poll_services.poll_open(
        actor=author,
        circle=circle,
        title="Matrix poll",
        kind="approval",
        options=["Yes", "No"],
        closes_at=timezone.now() + timedelta(days=3),
    )
    for person in (author, member):
        poll_services.ballot_cast(
            actor=person, poll=poll, approved=[poll.options.order_by("position")[0].pk]
        )
    from circlework.standing import services as standing_services

    withdrawn = standing_services.standing_by_state(
        actor=author, circle=circle, colleague=member, basis="Peer supervision"
    )
    concern = standing_services.standing_by_withdraw(
        actor=author, statement=withdrawn, reason=MARK_CIRCLE
    )
    statement = standing_services.standing_by_state(
        actor=author, circle=circle, colleague=member, basis="Peer supervision again"
    )
    standing_services.standing_by_state(
        actor=member, circle=circle, colleague=author, basis="Peer supervision"
    )
    return {
        "statement": statement,
        "concern": concern,
        "proposal": proposal,
        "poll": poll,
        "federation_proposal": federation_proposal,
        "amendment": amendment,
        "comment": comment,
        "agreement": adopting.agreement,
        "roles": {"outsider": outsider, "member": member, "other_member": other, "author": author},
        "federation": federation,
        "circle": circle,
        "credential": credential,
        "token": token,
        "invitation": invitation,
        "secret": secret,
        "notification": notification,
    }


def _client(world: dict[str, Any], role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(world["roles"][role].user)
    return client


def _page_kwargs(name: str, world: dict[str, Any]) -> dict[str, Any]:
    by_name: dict[str, dict[str, Any]] = {
        "accounts:credential_edit": {"pk": world["credential"].pk},
        "accounts:credential_document": {"pk": world["credential"].pk},
        "accounts:token_revoke": {"pk": world["token"].pk},
        "accounts:practitioner_detail": {"pk": world["roles"]["author"].pk},
        "circles:federation_detail": {"slug": world["federation"].slug},
        "circles:invitation_revoke": {"slug": world["circle"].slug, "pk": world["invitation"].pk},
        "circles:invitation_respond": {"secret": world["secret"]},
        "notifications:mark_read": {"pk": world["notification"].pk},
        "decisions:amendment_decide": {
            "slug": world["circle"].slug,
            "pk": world["proposal"].pk,
            "amendment_pk": world["amendment"].pk,
        },
        "decisions:comment_edit": {
            "slug": world["circle"].slug,
            "pk": world["proposal"].pk,
            "comment_pk": world["comment"].pk,
        },
        "decisions:proposal_action": {
            "slug": world["circle"].slug,
            "pk": world["proposal"].pk,
            "action": "remind",
        },
    }
    if name in by_name:
        return by_name[name]
    if name.startswith("standing:"):
        pk = {"standing:standing_withdraw": "statement", "standing:concern_detail": "concern"}
        if name in pk:
            return {"slug": world["circle"].slug, "pk": world[pk[name]].pk}
        return {"slug": world["circle"].slug}
    if name.startswith("polls:"):
        if name in ("polls:poll_list", "polls:poll_new"):
            return {"slug": world["circle"].slug}
        return {"slug": world["circle"].slug, "pk": world["poll"].pk}
    if (
        name.startswith("decisions:federation_proposal")
        or name == "decisions:circle_position_record"
    ):
        if name in ("decisions:federation_proposal_list", "decisions:federation_proposal_new"):
            return {"slug": world["federation"].slug}
        return {"slug": world["federation"].slug, "pk": world["federation_proposal"].pk}
    if name == "agreements:lineage":
        return {"slug": world["federation"].slug}
    if name.startswith("decisions:") and name not in (
        "decisions:proposal_list",
        "decisions:proposal_new",
    ):
        return {"slug": world["circle"].slug, "pk": world["proposal"].pk}
    if name.startswith("agreements:") and name != "agreements:agreement_list":
        return {"slug": world["circle"].slug, "pk": world["agreement"].pk}
    if (
        name.startswith("circles:circle_")
        or name
        in (
            "decisions:proposal_list",
            "decisions:proposal_new",
            "agreements:agreement_list",
            "circles:circle_delegate",
        )
    ) and name not in (
        "circles:circle_list",
        "circles:circle_found",
    ):
        return {"slug": world["circle"].slug}
    return {}


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return str(b"".join(response.streaming_content).decode(errors="replace"))
    return str(response.content.decode(errors="replace"))


def _assert_no_leak(role: str, label: str, body: str, shows: frozenset[str] = frozenset()) -> None:
    for marker in (MARK_CIRCLE, MARK_CREDENTIAL, MARK_PRIVATE, MARK_PRONOUNS):
        if marker in body and marker not in MAY_SEE[role] and marker not in shows:
            pytest.fail(f"{label} shows {marker} to {role}")


def _refused(response: Any) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_access(world: dict[str, Any], name: str, role: str) -> None:
    rule = PAGES[name]
    url = reverse(name, kwargs=_page_kwargs(name, world))
    response = getattr(_client(world, role), rule.method)(url)
    assert response.status_code < 500
    if role in rule.allowed:
        assert not _refused(response), f"{role} refused at {name}: {response.status_code}"
    else:
        assert _refused(response), f"{role} allowed at {name}: {response.status_code}"
    _assert_no_leak(role, name, _body(response), rule.shows)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", sorted(API))
def test_api_access(world: dict[str, Any], operation: str, role: str) -> None:
    rule = API[operation]
    path, method = api_operations()[operation]
    values = {
        "slug": world["circle"].slug,
        "practitioner_id": world["roles"]["author"].pk,
        "credential_id": world["credential"].pk,
        "invitation_id": world["invitation"].pk,
        "proposal_id": world["proposal"].pk,
        "amendment_id": world["amendment"].pk,
        "agreement_id": world["agreement"].pk,
        "poll_id": world["poll"].pk,
        "option_id": world["poll"].options.order_by("position")[0].pk,
        "statement_id": world["statement"].pk,
        "concern_id": world["concern"].pk,
    }
    for key, value in values.items():
        path = path.replace("{" + key + "}", str(value))
    client = _client(world, role)
    if method == "get":
        response = client.get(path)
    else:
        body = json.dumps(VALID_BODIES.get(operation, {}))
        for key, value in values.items():
            body = body.replace('"{' + key + '}"', str(value))
        response = getattr(client, method)(path, data=body, content_type="application/json")
    assert response.status_code < 500, response.content
    if role in rule.allowed:
        assert response.status_code not in (401, 403, 404), (
            f"{role} refused at {operation}: {response.content!r}"
        )
    else:
        assert response.status_code in (401, 403, 404), (
            f"{role} allowed at {operation}: {response.status_code}"
        )
        assert set(response.json()) == {"error", "fields"}
    _assert_no_leak(role, operation, _body(response))
