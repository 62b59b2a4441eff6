"""Every URL pattern and API operation × every role: allowed or refused, and no leaks.

The matrix is generated from the URL conf and the OpenAPI document, so a new URL without a rule
here fails `test_every_url_has_a_rule`. Bodies are searched for marker strings planted in records
above each role's reach: a 200 that shows a private record is a failure, not just a 200 that
should have been a 403. The seeded world, its roles and the requests are in tests/world.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest
from django.urls import reverse

from tests.world import (
    MARK_CIRCLE,
    MARK_CREDENTIAL,
    MARK_PRIVATE,
    MARK_PRONOUNS,
    ROLES,
    api_operations,
    api_request,
    build_world,
    module_world,
    page_kwargs,
    role_client,
    url_patterns,
)

# The world's roles: its holder and expired_holder are simply members where a mandate is not the
# question (see MANDATED).
ALL = frozenset(ROLES)
SIGNED_IN = ALL - {"anonymous"}
CIRCLE = frozenset({"member", "author"})
AUTHOR = frozenset({"author"})
FEDERATION = frozenset({"member", "author", "other_member"})  # members of any circle in it

# Which markers each role may see, anywhere.
MAY_SEE = {
    "anonymous": set(),
    "outsider": set(),
    "other_member": set(),
    "member": {MARK_CIRCLE, MARK_CREDENTIAL, MARK_PRONOUNS},
    "holder": {MARK_CIRCLE, MARK_CREDENTIAL, MARK_PRONOUNS},
    "expired_holder": {MARK_CIRCLE, MARK_CREDENTIAL, MARK_PRONOUNS},
    "author": {MARK_CIRCLE, MARK_CREDENTIAL, MARK_PRIVATE, MARK_PRONOUNS},
}


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    method: str = "get"
    # Markers that this URL shows to anyone it serves (by design, e.g. the invitation link).
    shows: frozenset[str] = frozenset()
    # Form data for a POST page ("{circle}" is the matrix circle's id), so that the permission
    # check, not an empty form, decides.
    data: tuple[tuple[str, str], ...] = ()


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
    "decisions:federation_proposal_list": Rule(FEDERATION),
    "decisions:federation_proposal_new": Rule(FEDERATION),
    "decisions:federation_proposal_detail": Rule(FEDERATION),
    # Only the circle's live delegate records its position; an ended mandate is refused (403).
    "decisions:circle_position_record": Rule(
        frozenset({"holder"}),
        "post",
        data=(("circle", "{circle}"), ("stance", "agree"), ("reason", "We agree.")),
    ),
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
    # A circle's mandates are seen by whoever may see the circle (circle-only here); federation
    # mandates (the world's "mandate" is the author's coordinator mandate) by its members.
    "mandates:circle_mandates": Rule(CIRCLE),
    "mandates:federation_mandates": Rule(FEDERATION),
    # The author holds the coordinator mandate, the holder the registrar's: both grant notices.
    "mandates:federation_notice": Rule(frozenset({"author", "holder"})),
    "mandates:mandate_detail": Rule(FEDERATION),
    "mandates:mandate_resign": Rule(AUTHOR, "post"),
    "mandates:mandate_handover": Rule(AUTHOR, "post"),
    "agreements:covenant": Rule(ALL),
    "agreements:ethics_register": Rule(ALL),
    "agreements:ethics_circulations": Rule(FEDERATION),
    # The matrix's agreement is a procedure: members get a 302 with an error message.
    "agreements:ethics_circulate": Rule(CIRCLE, "post"),
    "agreements:ethics_publish": Rule(CIRCLE, "post"),
    "agreements:ethics_circulate_draft": Rule(CIRCLE, "post"),
    "agreements:ethics_circulation": Rule(FEDERATION),
    "agreements:ethics_comment_add": Rule(FEDERATION, "post"),
    # The matrix's circle election carries MARK_CIRCLE in its description.
    "elections:election_list_circle": Rule(CIRCLE),
    "elections:election_open_circle": Rule(CIRCLE),
    "elections:election_list_federation": Rule(FEDERATION),
    "elections:election_open_federation": Rule(FEDERATION),
    "elections:election_detail": Rule(CIRCLE),
    "elections:nomination_add": Rule(CIRCLE, "post"),
    "elections:nomination_answer": Rule(AUTHOR, "post"),  # the nominee
    "elections:nomination_change": Rule(CIRCLE, "post"),
    "elections:election_change_round": Rule(AUTHOR, "post"),  # the facilitator
    "elections:election_propose": Rule(AUTHOR, "post"),
    "elections:consent_respond": Rule(CIRCLE, "post"),
    "elections:ballot_cast": Rule(CIRCLE, "post"),  # a consent election: 409, not refused
    "elections:election_cancel": Rule(AUTHOR, "post"),
    # The matrix's link: the circle-only circle asks the other member's circle. Both circles'
    # members are parties; outsiders cannot see the asking circle, so not its link either.
    "links:circle_links": Rule(CIRCLE),
    "links:link_detail": Rule(CIRCLE | {"other_member"}),
    "links:link_cancel": Rule(CIRCLE, "post"),  # the asking circle
    "links:meeting_record": Rule(frozenset({"other_member"}), "post"),  # the validating circle
    "links:decision_open": Rule(frozenset({"other_member"}), "post"),
    "links:statement_set": Rule(frozenset({"other_member"}), "post"),
    "links:link_withdraw": Rule(frozenset({"other_member"}), "post"),
    "links:federation_map": Rule(ALL),  # hidden circles are left out
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
    "my_mandate_list": Rule(SIGNED_IN),
    "circle_mandate_list": Rule(CIRCLE),
    "federation_mandate_list": Rule(FEDERATION),
    "mandate_get": Rule(FEDERATION),
    "mandate_resign": Rule(AUTHOR, "post"),
    "mandate_handover_update": Rule(AUTHOR, "post"),
    "federation_notice_send": Rule(frozenset({"author", "holder"}), "post"),
    "covenant_get": Rule(ALL),
    "ethics_register": Rule(ALL),
    # Members get 400 (the matrix's agreement and proposal are not ethical statements).
    "ethics_circulate": Rule(CIRCLE, "post"),
    "ethics_circulate_draft": Rule(CIRCLE, "post"),
    "ethics_publish": Rule(CIRCLE, "post"),
    "ethics_circulation_list": Rule(FEDERATION),
    "ethics_comment_list": Rule(FEDERATION),
    "ethics_comment_add": Rule(FEDERATION, "post"),
    "circle_election_list": Rule(CIRCLE),
    "federation_election_list": Rule(FEDERATION),
    "circle_election_open": Rule(CIRCLE, "post"),
    "federation_election_open": Rule(FEDERATION, "post"),
    "election_get": Rule(CIRCLE),
    "election_result": Rule(CIRCLE),  # 409 while open
    "nomination_add": Rule(CIRCLE, "post"),
    "nomination_answer": Rule(AUTHOR, "post"),
    "nomination_change": Rule(CIRCLE, "post"),  # 409: not the change round
    "election_change_round": Rule(AUTHOR, "post"),
    "election_propose": Rule(AUTHOR, "post"),  # 409: no change round yet
    "consent_respond": Rule(CIRCLE, "post"),  # 409: no candidate proposed yet
    "election_ballot_cast": Rule(CIRCLE, "post"),  # 409: a consent election
    "election_cancel": Rule(AUTHOR, "post"),
    "circle_links": Rule(CIRCLE),
    "link_get": Rule(CIRCLE | {"other_member"}),
    "link_request": Rule(CIRCLE, "post"),  # 409 for members: already asked
    "link_cancel": Rule(CIRCLE, "post"),
    "link_meeting_record": Rule(frozenset({"other_member"}), "post"),  # 400: no attendees
    "link_decision_open": Rule(frozenset({"other_member"}), "post"),  # 409: no meeting yet
    "link_statement_set": Rule(frozenset({"other_member"}), "post"),  # 409: not validated
    "link_withdraw": Rule(frozenset({"other_member"}), "post"),  # 409: not validated
    "federation_map": Rule(ALL),
}
# Where a mandate is the question, the rules above name holder / expired_holder themselves;
# everywhere else the two are members of the circle like "member".
MANDATED = {"decisions:circle_position_record", "mandates:federation_notice"} | {
    "federation_notice_send"
}
for _rules in (PAGES, API):
    for _name, _rule in list(_rules.items()):
        if _name not in MANDATED and "member" in _rule.allowed:
            _rules[_name] = replace(_rule, allowed=_rule.allowed | {"holder", "expired_holder"})
# Framework URLs that are not operations of ours.
NOT_OPERATIONS = {"api:openapi-json", "api:api-root"}


def our_url_names() -> set[str]:
    # allauth's own pages (log-in, sign-up, 2FA…) are tested by allauth and by our browser flow.
    return {
        name
        for name, pattern in url_patterns()
        if not pattern.callback.__module__.startswith("allauth.") and not name.startswith("api:")
    }


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


shared_world = module_world(build_world)


@pytest.fixture
def world(shared_world: dict[str, Any], db: None) -> dict[str, Any]:
    return shared_world


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
    url = reverse(name, kwargs=page_kwargs(name, world))
    data = {k: v.replace("{circle}", str(world["circle"].pk)) for k, v in rule.data}
    client = role_client(world, role)
    response = (
        client.post(url, data) if rule.method == "post" else getattr(client, rule.method)(url)
    )
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
    response = api_request(world, operation, role_client(world, role))
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
