"""Every URL pattern and API operation × every role: allowed or refused, and no leaks.

The matrix is generated from the URL conf and the OpenAPI document, so a new URL without a rule
here fails `test_every_url_has_a_rule`. Bodies are searched for marker strings planted in records
above each role's reach: a 200 that shows a private record is a failure, not just a 200 that
should have been a 403.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from circlework.accounts import services as account_services
from circlework.api.router import api
from circlework.circles import services as circle_services
from circlework.notifications.models import Notification
from tests import factories

# holder: a member of the circle holding its live delegate mandate and the federation's
# registrar mandate; expired_holder: a member of the circle whose same two mandates ended
# yesterday. Everywhere a mandate is not the question they are simply members (see MANDATED).
ROLES = ("anonymous", "outsider", "member", "other_member", "author", "holder", "expired_holder")
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
    "mandate_resign": {"reason": "Stepping back"},
    "mandate_handover_update": {"handover_plan": "Pass it on"},
    "federation_notice_send": {"title": "Gathering", "text": "In April"},
    "ethics_comment_add": {"text": "A thought"},
    "circle_election_open": {
        "role": "convener",
        "nominations_close_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        "voting_closes_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
    },
    "federation_election_open": {
        "role": "registrar",
        "nominations_close_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        "voting_closes_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
    },
    "nomination_add": {"nominee_id": "{practitioner_id}", "reason": "Good at it"},
    "nomination_answer": {"accept": True},
    "nomination_change": {"nominee_id": "{practitioner_id}", "reason": "Changed my mind"},
    "election_change_round": {},
    "election_propose": {"candidate_id": "{practitioner_id}"},
    "consent_respond": {"stance": "consent"},
    "election_ballot_cast": {"choices": ["{practitioner_id}"]},
    "election_cancel": {"reason": "Opened by mistake."},
    "link_request": {"validating_circle": "another-circle", "message": "Please meet us."},
    "link_meeting_record": {"met_on": "2020-01-01", "attendee_ids": []},
    "link_decision_open": {"closes_at": (datetime.now(UTC) + timedelta(days=3)).isoformat()},
    "link_statement_set": {"statement": "They review with care."},
    "link_withdraw": {"reason": "They stopped meeting."},
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


@functools.cache
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


@pytest.fixture(scope="module")
def shared_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """The seeded records, built once for the module inside a transaction rolled back at its end.

    Each test still runs in its own savepoint (the `db` fixture), so what one request writes is
    gone before the next: the same isolation as building the world per test, at a fraction of
    the cost (the matrix has several hundred cases).
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(shared_world: dict[str, Any], db: None) -> dict[str, Any]:
    return shared_world


def _build_world() -> dict[str, Any]:
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
    another = factories.make_circle(founder=other, federation=federation, name="Another Circle")
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
    coordinator = factories.grant_mandate(
        "coordinator", author, federation=federation, handover_plan="Plan"
    )
    holder = factories.make_practitioner("Mandate Holder")
    expired_holder = factories.make_practitioner("Expired Holder")
    for person in (holder, expired_holder):
        _inv, invite_secret = factories.make_invitation(circle, person.user.email, inviter=author)
        circle_services.invitation_accept(actor=person, secret=invite_secret)
    factories.grant_mandate("delegate", holder, circle=circle)
    factories.grant_mandate("registrar", holder, federation=federation)
    today = timezone.localdate()
    for role_slug, scope in (
        ("delegate", {"circle": circle}),
        ("registrar", {"federation": federation}),
    ):
        factories.grant_mandate(
            role_slug,
            expired_holder,
            starts_on=today - timedelta(days=200),
            ends_on=today - timedelta(days=1),
            **scope,  # type: ignore[arg-type]
        )
    from circlework.agreements import services as agreement_services

    ethics_draft = decision_services.proposal_open(
        actor=author,
        circle=circle,
        title="Our ethical statement (draft)",
        text="A draft.",
        closes_at=timezone.now() + timedelta(days=5),
        new_agreement_kind="ethics",
        new_agreement_title="Ethical statement",
        agreement_text="We keep confidences.",
    )
    circulation = agreement_services.ethics_circulate(actor=author, proposal=ethics_draft)
    agreement_services.ethics_comment_add(actor=other, circulation=circulation, text="Nice")
    from circlework.elections import services as election_services

    election = election_services.election_open(
        actor=author,
        role="facilitator",
        circle=circle,
        nominations_close_at=timezone.now() + timedelta(days=2),
        voting_closes_at=timezone.now() + timedelta(days=9),
        description=MARK_CIRCLE,
    )
    nomination = election_services.nomination_add(
        actor=member, election=election, nominee=author, reason="Author keeps time well."
    )
    election_services.election_open(
        actor=other,
        role="coordinator",
        federation=federation,
        nominations_close_at=timezone.now() + timedelta(days=2),
        voting_closes_at=timezone.now() + timedelta(days=5),
    )
    from circlework.links import services as link_services

    link = link_services.link_request(
        actor=author,
        asking_circle=circle,
        validating_circle=another,
        message="We would value your eyes on our process.",
        reciprocal=False,
    )
    return {
        "link": link,
        "election": election,
        "nomination": nomination,
        "mandate": coordinator,
        "circulation": circulation,
        "statement": statement,
        "concern": concern,
        "proposal": proposal,
        "poll": poll,
        "federation_proposal": federation_proposal,
        "amendment": amendment,
        "comment": comment,
        "agreement": adopting.agreement,
        "roles": {
            "outsider": outsider,
            "member": member,
            "other_member": other,
            "author": author,
            "holder": holder,
            "expired_holder": expired_holder,
        },
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
    if name.startswith("links:"):
        if name == "links:circle_links":
            return {"slug": world["circle"].slug}
        if name == "links:federation_map":
            return {"slug": world["federation"].slug}
        return {"pk": world["link"].pk}
    if name.startswith("elections:"):
        if name in ("elections:election_list_circle", "elections:election_open_circle"):
            return {"slug": world["circle"].slug}
        if name in ("elections:election_list_federation", "elections:election_open_federation"):
            return {"slug": world["federation"].slug}
        if name == "elections:nomination_answer":
            return {"pk": world["election"].pk, "nomination_pk": world["nomination"].pk}
        return {"pk": world["election"].pk}
    if name.startswith("mandates:"):
        if name == "mandates:circle_mandates":
            return {"slug": world["circle"].slug}
        if name.startswith("mandates:federation_"):
            return {"slug": world["federation"].slug}
        return {"pk": world["mandate"].pk}
    if name in (
        "agreements:covenant",
        "agreements:ethics_register",
        "agreements:ethics_circulations",
    ):
        return {"slug": world["federation"].slug}
    if name in ("agreements:ethics_circulation", "agreements:ethics_comment_add"):
        return {"slug": world["circle"].slug, "pk": world["circulation"].pk}
    if name == "agreements:ethics_circulate_draft":
        return {"slug": world["circle"].slug, "pk": world["proposal"].pk}
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
    data = {k: v.replace("{circle}", str(world["circle"].pk)) for k, v in rule.data}
    client = _client(world, role)
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
        "mandate_id": world["mandate"].pk,
        "federation_slug": world["federation"].slug,
        "circulation_id": world["circulation"].pk,
        "election_id": world["election"].pk,
        "nomination_id": world["nomination"].pk,
        "link_id": world["link"].pk,
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
