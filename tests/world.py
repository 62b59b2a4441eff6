"""The seeded world the access matrix, the CSRF suite and the API fuzzer send their requests to.

`build_world` seeds a federation with a circle and a record of every kind an URL or API
operation names (and, for the matrix, a practitioner in every role); `module_world` makes the
module-scoped fixture that builds it once for a test module inside a transaction rolled back at
the module's end. The helpers turn a URL name or an operation into a request in that world,
and `DatabaseWatch` tells what requests changed in the database. What each role may do there
(the rules) and what is asserted stay in the test modules.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from circlework.accounts import services as account_services
from circlework.accounts.models import Practitioner
from circlework.agreements import services as agreement_services
from circlework.api.router import api
from circlework.circles import services as circle_services
from circlework.circles.models import Circle, CircleStatus
from circlework.core.visibility import forget_audience, mark_second_factor
from circlework.decisions import services as decision_services
from circlework.decisions.models import Proposal
from circlework.elections import services as election_services
from circlework.elections.models import Election
from circlework.gatherings.services import calendars as gathering_calendars
from circlework.gatherings.services import planning as gathering_planning
from circlework.links import services as link_services
from circlework.notifications.models import Notification
from circlework.polls import services as poll_services
from circlework.standing import services as standing_services
from tests import factories

# holder: a member of the circle holding its live delegate mandate and the federation's
# registrar mandate; expired_holder: a member of the circle whose same two mandates ended
# yesterday. Everywhere a mandate is not the question they are simply members.
#
# The circle requires two-factor authentication; its members above sign in with password and
# authenticator code. Members it does not count, because of how they come:
# no2fa_member: a member with no authenticator app; password_session_member: has one, but this
# session signed in with the password only; token_2fa_holder: has one, and calls the API with a
# personal token made in a password-only session (on pages, with no session: a stranger);
# leaver: was a member and left. forming_member: the only member of a forming (not validated)
# circle in the same federation, so not "the federation" either.
ROLES = (
    "anonymous",
    "outsider",
    "member",
    "other_member",
    "author",
    "holder",
    "expired_holder",
    "forming_member",
    "no2fa_member",
    "password_session_member",
    "leaver",
    "token_2fa_holder",
)
# The world's members who sign in with a second factor (the circle requires it of them).
SECOND_FACTOR_ROLES = frozenset({"member", "author", "holder", "expired_holder"})

MARK_CIRCLE = "MARKERCIRCLEPURPOSE"  # in the circle's purpose (circle-only in the matrix)
MARK_CREDENTIAL = "MARKERCIRCLECREDENTIAL"  # the author's circle-only credential
MARK_PRIVATE = "MARKERPRIVATESTATEMENT"  # the author's private statement
MARK_PRONOUNS = "markerpronouns"  # the author's circle-only pronouns


def module_world(build: Callable[[], dict[str, Any]]) -> Any:
    """A module-scoped fixture (assign it to a module-level name) yielding `build()`.

    The records are built once for the module inside a transaction rolled back at its end. Each
    test still runs in its own savepoint (the `db` fixture), so what one request writes is gone
    before the next: the same isolation as building the world per test, at a fraction of the
    cost (the matrix has several hundred cases).
    """

    @pytest.fixture(scope="module")
    def fixture(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
            try:
                yield build()
            finally:
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)

    return fixture


def _in_days(days: int) -> datetime:
    return timezone.now() + timedelta(days=days)


# Agreements the world's proposals adopt: (kind, title, text).
PROCEDURE = ("procedure", "Meeting procedure", "We meet monthly.")
ETHICS = ("ethics", "Ethical statement", "We keep confidences.")


def _proposal(
    author: Practitioner,
    circle: Circle,
    title: str,
    text: str,
    days: int,
    adopts: tuple[str, str, str] = ("", "", ""),
) -> Proposal:
    """A proposal closing in `days`; `adopts` is the agreement it adopts, if any."""
    kind, agreement_title, agreement_text = adopts
    return decision_services.proposal_open(
        actor=author,
        circle=circle,
        title=title,
        text=text,
        closes_at=_in_days(days),
        new_agreement_kind=kind,
        new_agreement_title=agreement_title,
        agreement_text=agreement_text,
    )


def _election(actor: Practitioner, role: str, voting_days: int, **scope: Any) -> Election:
    return election_services.election_open(
        actor=actor,
        role=role,
        nominations_close_at=_in_days(2),
        voting_closes_at=_in_days(voting_days),
        **scope,
    )


def build_world(name: str = "Matrix", *, public: bool = False, full: bool = True) -> dict[str, Any]:
    """The federation "<name> Federation" and its records, planted with the MARK_* strings.

    public: the circle and the author's name are public (the fuzzer's world), not circle-only.
    full: also what only the matrix asks for: the mandate holders, a federation proposal and
    election, cast ballots, a second standing statement and an ethics comment. The fuzzer leaves
    them out: an open coordinator election or a cast ballot would turn its requests into 409s
    before they reach what they test.
    """
    visibility = "public" if public else "circle"
    # Circles there are validated by having two members: the circle and "Another Circle" are the
    # federation's validated circles, whose members are "the federation" (core.visibility).
    federation = factories.make_federation_validating_by_size(f"{name} Federation")
    author = factories.make_practitioner(
        "Author Person",
        display_name_visibility=visibility,
        pronouns=MARK_PRONOUNS,
        pronouns_visibility="circle",
        statement=MARK_PRIVATE,
        statement_visibility="private",
    )
    member = factories.make_practitioner("Member Person")
    other = factories.make_practitioner("Other Member")
    outsider = factories.make_practitioner("Outside Person")
    roles = {"outsider": outsider, "member": member, "other_member": other, "author": author}
    circle = factories.make_circle(
        founder=author,
        federation=federation,
        members=[member],
        name=f"{name} Circle",
        purpose=MARK_CIRCLE,
        visibility=visibility,
    )
    another = factories.make_circle(
        founder=other,
        federation=federation,
        members=[factories.make_practitioner("Another Second")],
        name="Another Circle",
    )
    for validated in (circle, another):
        validated.refresh_from_db()  # its second member's joining validated it
        assert validated.status == CircleStatus.MEMBER
    for person in roles.values():
        forget_audience(person.user)  # cached while their circle was forming
    credential = account_services.credential_add(
        actor=author,
        title=MARK_CREDENTIAL,
        issuer="Institute",
        year=2010,
        visibility="circle",
        document=SimpleUploadedFile("c.pdf", b"%PDF-1.4 test", content_type="application/pdf"),
    )
    token, token_secret = account_services.api_token_create(
        actor=author, name=f"{name.lower()} token"
    )
    invitation, secret = factories.make_invitation(circle, "someone@example.org", inviter=author)
    notification = Notification.objects.filter(recipient=author).first()
    assert notification is not None

    adopting = _proposal(author, circle, "Adopt a procedure", "Let us adopt it.", 3, PROCEDURE)
    for person in (author, member):
        decision_services.position_take(actor=person, proposal=adopting, stance="agree")
    decision_services.proposal_close(actor=author, proposal=adopting, early=True)
    adopting.refresh_from_db()
    assert adopting.agreement is not None
    proposal = _proposal(author, circle, "Open question", "Shall we?", 3)
    amendment = decision_services.amendment_propose(
        actor=member, proposal=proposal, text="Shall we, please?", reason="Kinder"
    )
    comment = decision_services.comment_add(actor=author, proposal=proposal, text="My view")
    federation_proposal = None
    if full:
        federation_proposal = decision_services.federation_proposal_open(
            actor=author,
            circle=circle,
            title="Federation question",
            text="For all circles.",
            closes_at=_in_days(10),
        )

    poll = poll_services.poll_open(
        actor=author,
        circle=circle,
        title=f"{name} poll",
        kind="approval",
        options=["Yes", "No"],
        closes_at=_in_days(3),
    )
    if full:
        for person in (author, member):
            poll_services.ballot_cast(
                actor=person, poll=poll, approved=[poll.options.order_by("position")[0].pk]
            )

    withdrawn = standing_services.standing_by_state(
        actor=author, circle=circle, colleague=member, basis="Peer supervision"
    )
    concern = standing_services.standing_by_withdraw(
        actor=author, statement=withdrawn, reason=MARK_CIRCLE
    )
    statement = standing_services.standing_by_state(
        actor=author, circle=circle, colleague=member, basis="Peer supervision again"
    )
    if full:
        standing_services.standing_by_state(
            actor=member, circle=circle, colleague=author, basis="Peer supervision"
        )
    coordinator = factories.grant_mandate(
        "coordinator", author, federation=federation, handover_plan="Plan"
    )
    if full:
        roles.update(_mandate_holders(author, circle))

    ethics_draft = _proposal(author, circle, "Our ethical statement (draft)", "A draft.", 5, ETHICS)
    circulation = agreement_services.ethics_circulate(actor=author, proposal=ethics_draft)
    if full:
        agreement_services.ethics_comment_add(actor=other, circulation=circulation, text="Nice")

    election = _election(author, "facilitator", 9, circle=circle, description=MARK_CIRCLE)
    nomination = election_services.nomination_add(
        actor=member, election=election, nominee=author, reason="Author keeps time well."
    )
    if full:
        _election(other, "coordinator", 5, federation=federation)

    link = link_services.link_request(
        actor=author,
        asking_circle=circle,
        validating_circle=another,
        message="We would value your eyes on our process.",
        reciprocal=False,
    )
    gatherings = _gatherings(author=author, member=member, circle=circle, link=link)
    more: dict[str, Any] = {}
    if full:
        more = _two_factor_and_former_members(author, circle, proposal, roles)
    return {
        **more,
        **gatherings,
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
        "roles": roles,
        "federation": federation,
        "circle": circle,
        "another": another,
        "credential": credential,
        "token": token,
        "token_secret": token_secret,
        "invitation": invitation,
        "secret": secret,
        "notification": notification,
    }


def _gatherings(
    *, author: Practitioner, member: Practitioner, circle: Circle, link: Any
) -> dict[str, Any]:
    """The circle's monthly meeting (MARK_CIRCLE in what it is for: only those invited see it)
    and its first occurrence, and what each part of gatherings adds to them."""
    start = (timezone.now() + timedelta(days=7)).replace(microsecond=0, second=0, minute=0)
    gathering = gathering_planning.gathering_plan(
        actor=author,
        circle=circle,
        title="Monthly meeting",
        details=MARK_CIRCLE,
        place="Room 4",
        when=gathering_planning.When(
            start, start + timedelta(hours=2), "Europe/London", "FREQ=MONTHLY;COUNT=6"
        ),
    )
    occurrence = gathering.occurrences.order_by("starts_at")[0]
    records: dict[str, Any] = {"gathering": gathering, "occurrence": occurrence}
    # --- gatherings world: api ---
    # An agenda item (MARK_CIRCLE in its details) and the author's calendar feed of the circle,
    # for the API's {agenda_item_id} and {calendar_feed_id}: a circle feed, so that the personal
    # feed made below (which replaces any personal one) leaves it live. Made before the circle
    # asks for two-factor sign-in, as a feed made earlier would be.
    from circlework.gatherings.services import meeting as gathering_meeting

    records["agenda_item"] = gathering_meeting.agenda_item_add(
        actor=author, occurrence=occurrence, title="How we practise", details=MARK_CIRCLE
    )
    records["calendar_feed"], _feed_token = gathering_calendars.feed_create(
        actor=author, circle=circle
    )
    # --- end gatherings world: api ---
    # --- gatherings world: at the meeting ---
    # A meeting two days ago (planned after the fact) whose minutes (MARK_CIRCLE) the author
    # wrote with the author and the member there; a suggestion waiting on the coming meeting.
    from circlework.gatherings.services import meeting as at_the_meeting

    began = (timezone.now() - timedelta(days=2)).replace(microsecond=0, second=0, minute=0)
    past_gathering = gathering_planning.gathering_plan(
        actor=author,
        circle=circle,
        title="Last meeting",
        when=gathering_planning.When(began, began + timedelta(hours=2), "Europe/London"),
    )
    past_occurrence = past_gathering.occurrences.get()
    at_the_meeting.minutes_write(
        actor=author,
        occurrence=past_occurrence,
        text=f"We met. {MARK_CIRCLE}",
        present_ids=[author.pk, member.pk],
    )
    past_occurrence.refresh_from_db()
    records["past_occurrence"] = past_occurrence
    records["suggested_item"] = at_the_meeting.agenda_suggest(
        occurrence=occurrence,
        title="A welcome",
        kind="ceremony",
        reason="Someone joined",
        suggestion_key="world:welcome",
    )
    # --- end gatherings world: at the meeting ---
    # --- gatherings world: calendars ---
    # The author's personal calendar feed: read with the token alone (no session, so no second
    # factor), it must leave out the matrix circle, which asks for one.
    _feed, records["calendar_feed_token"] = gathering_calendars.feed_create(actor=author)
    # --- end gatherings world: calendars ---
    # --- gatherings world: federation ---
    # A federation gathering hosted by the circle (planned by the author; nothing secret in it:
    # the federation sees it), with the author's session offered and the circle signed up; and
    # a second one open to the public, with one registration from the public.
    from circlework.gatherings.services import federation as federation_gatherings

    opens = (timezone.now() + timedelta(days=9)).replace(microsecond=0, second=0, minute=0)
    federation_gathering = gathering_planning.gathering_plan(
        actor=author,
        federation=circle.federation,
        host_circle=circle,
        title="Federation gathering",
        details="Exchange among the circles.",
        place="Leeds",
        when=gathering_planning.When(opens, opens + timedelta(days=2), "Europe/London"),
    )
    public_gathering = gathering_planning.gathering_plan(
        actor=author,
        federation=circle.federation,
        host_circle=circle,
        title="Open day",
        when=gathering_planning.When(
            opens + timedelta(days=3), opens + timedelta(days=3, hours=6), "Europe/London"
        ),
        is_public=True,
    )
    records["federation_gathering"] = federation_gathering
    records["public_gathering"] = public_gathering
    records["programme_session"] = federation_gatherings.session_offer(
        actor=author, gathering=federation_gathering, title="A workshop"
    )
    records["circle_signup"] = federation_gatherings.circle_signup(
        actor=author,
        gathering=federation_gathering,
        circle=circle,
        attendee_ids=[author.pk, member.pk],
    )
    _registration, records["registration_token"] = federation_gatherings.public_register(
        gathering=public_gathering, name="Public Person", email="public.person@example.org"
    )
    # --- end gatherings world: federation ---
    return records


def _mandate_holders(author: Practitioner, circle: Circle) -> dict[str, Practitioner]:
    """Two more members of the circle: "holder" with live delegate and registrar mandates,
    "expired_holder" with the same two mandates ended yesterday."""
    federation = circle.federation
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
            **scope,
        )
    return {"holder": holder, "expired_holder": expired_holder}


def _two_factor_and_former_members(
    author: Practitioner, circle: Circle, proposal: Proposal, roles: dict[str, Practitioner]
) -> dict[str, Any]:
    """The roles of the forming circle, of the circle's two-factor requirement and the leaver;
    then the circle starts requiring two-factor authentication (as a circle would turn it on
    once its members have joined: an invitation to it could not be accepted without 2FA)."""
    federation = circle.federation
    forming_member = factories.make_practitioner("Forming Person")
    forming = factories.make_circle(
        founder=forming_member, federation=federation, name="Forming Circle"
    )
    assert forming.status == CircleStatus.FORMING  # one member of the two it needs
    new = {
        "forming_member": forming_member,
        "no2fa_member": factories.make_practitioner("Without App"),
        "password_session_member": factories.make_practitioner("Password Only"),
        "leaver": factories.make_practitioner("Former Member"),
        "token_2fa_holder": factories.make_practitioner("Token Holder"),
    }
    for role in ("no2fa_member", "password_session_member", "leaver", "token_2fa_holder"):
        factories.add_member(circle, new[role], inviter=author)
    # The leaver's comment, written while a member: a leaver must not edit it any more.
    leaver_comment = decision_services.comment_add(
        actor=new["leaver"], proposal=proposal, text="Before I left"
    )
    circle_services.membership_leave(actor=new["leaver"], circle=circle)
    roles.update(new)
    for role in (*SECOND_FACTOR_ROLES, "password_session_member", "token_2fa_holder"):
        factories.enable_totp(roles[role])
    # Made in a session without a second factor (nobody is marked here): it does not reach the
    # circle once the circle requires 2FA.
    _token, holder_secret = account_services.api_token_create(
        actor=new["token_2fa_holder"], name="made with password only"
    )
    # Code outside a request says when it acts with a second factor (core.visibility).
    mark_second_factor(author.user, True)
    try:
        circle_services.circle_update(
            actor=author, circle=circle, changes={"requires_two_factor": True}
        )
    finally:
        mark_second_factor(author.user, False)
    circle.refresh_from_db()
    assert circle.requires_two_factor and circle.status == CircleStatus.MEMBER
    return {
        "forming_circle": forming,
        "leaver_comment": leaver_comment,
        "holder_token_secret": holder_secret,
    }


def role_client(world: dict[str, Any], role: str, **client_kwargs: Any) -> Client:
    """A test client for the world's practitioner in `role` (none for "anonymous").

    Members of the circle (which requires 2FA in the full world) sign in with their password and
    authenticator code, everyone else with a password; "token_2fa_holder" sends its personal API
    token instead of signing in.
    """
    client = Client(**client_kwargs)
    if role == "anonymous":
        return client
    if role == "token_2fa_holder":
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world['holder_token_secret']}"
        return client
    # Only the full world's circle requires 2FA (and gives its members an authenticator app).
    second_factor = role in SECOND_FACTOR_ROLES and "holder_token_secret" in world
    factories.sign_in(client, world["roles"][role].user, second_factor=second_factor)
    return client


# --- URL conf and OpenAPI document ---------------------------------------------------------------


def url_patterns(
    patterns: list[Any] | None = None, namespace: str | None = None
) -> Iterator[tuple[str, URLPattern]]:
    """Every pattern of the URL conf, with its name ("namespace:name" where namespaced)."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            yield from url_patterns(p.url_patterns, p.namespace or namespace)
        elif isinstance(p, URLPattern):
            yield (f"{namespace}:{p.name}" if namespace else str(p.name)), p


@functools.cache
def api_operations() -> dict[str, tuple[str, str]]:
    """(path, method) by operationId; builds the OpenAPI document once, not per test."""
    schema = api.get_openapi_schema()
    ops = {}
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            ops[op["operationId"]] = (path, method)
    return ops


# --- requests in the world -----------------------------------------------------------------------


def page_kwargs(name: str, world: dict[str, Any]) -> dict[str, Any]:
    """The URL arguments for the page `name` that point at the world's records."""
    on_proposal = {"slug": world["circle"].slug, "pk": world["proposal"].pk}
    by_name: dict[str, dict[str, Any]] = {
        "accounts:credential_edit": {"pk": world["credential"].pk},
        "accounts:credential_document": {"pk": world["credential"].pk},
        "accounts:token_revoke": {"pk": world["token"].pk},
        "accounts:practitioner_detail": {"pk": world["roles"]["author"].pk},
        "circles:federation_detail": {"slug": world["federation"].slug},
        "circles:invitation_revoke": {"slug": world["circle"].slug, "pk": world["invitation"].pk},
        "circles:invitation_respond": {"secret": world["secret"]},
        "notifications:mark_read": {"pk": world["notification"].pk},
        "decisions:amendment_decide": {**on_proposal, "amendment_pk": world["amendment"].pk},
        "decisions:comment_edit": {**on_proposal, "comment_pk": world["comment"].pk},
        "decisions:proposal_action": {**on_proposal, "action": "remind"},
    }
    if name in by_name:
        return by_name[name]
    if name.startswith("gatherings:"):
        return _gathering_kwargs(name, world)
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
        if name == "elections:election_people":
            return {"pk": world["election"].pk, "which": "electorate"}
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


def _meeting_kwargs(
    world: dict[str, Any], on_occurrence: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """At the meeting: the world's agenda items on the coming meeting; who came and the minutes
    on the past one."""
    past = world["past_occurrence"]
    on_past = {"pk": past.gathering_id, "occurrence": past.pk}
    item = {**on_occurrence, "item": world["agenda_item"].pk}
    suggested = {**on_occurrence, "item": world["suggested_item"].pk}
    return {
        "gatherings:agenda_item_edit": item,
        "gatherings:agenda_item_remove": item,
        "gatherings:agenda_item_move": item,
        "gatherings:agenda_suggestion_accept": suggested,
        "gatherings:agenda_suggestion_dismiss": suggested,
        "gatherings:attendance_answer": on_occurrence,
        "gatherings:attendance_record": on_past,
        "gatherings:minutes_write": on_past,
        "gatherings:minutes_confirm": on_past,
        "gatherings:minutes_correction": on_past,
        "gatherings:minutes_history": on_past,
    }


def _gathering_kwargs(name: str, world: dict[str, Any]) -> dict[str, Any]:
    gathering, occurrence = world["gathering"], world["occurrence"]
    on_occurrence = {"pk": gathering.pk, "occurrence": occurrence.pk}
    by_name: dict[str, dict[str, Any]] = {
        "gatherings:gathering_list": {"slug": world["circle"].slug},
        "gatherings:gathering_new": {"slug": world["circle"].slug},
        # --- gatherings kwargs: planning ---
        "gatherings:gathering_from_poll": {"slug": world["circle"].slug, "poll": world["poll"].pk},
        # --- end gatherings kwargs: planning ---
        # --- gatherings kwargs: at the meeting ---
        **_meeting_kwargs(world, on_occurrence),
        # --- end gatherings kwargs: at the meeting ---
        # --- gatherings kwargs: calendars ---
        "gatherings:calendar_feeds": {},
        "gatherings:calendar_feed": {"token": world["calendar_feed_token"]},
        # --- end gatherings kwargs: calendars ---
        # --- gatherings kwargs: federation ---
        "gatherings:federation_gathering_list": {"slug": world["federation"].slug},
        "gatherings:federation_gathering_new": {"slug": world["federation"].slug},
        "gatherings:programme": {"pk": world["federation_gathering"].pk},
        "gatherings:session_offer": {"pk": world["federation_gathering"].pk},
        "gatherings:session_decide": {
            "pk": world["federation_gathering"].pk,
            "session": world["programme_session"].pk,
        },
        "gatherings:session_withdraw": {
            "pk": world["federation_gathering"].pk,
            "session": world["programme_session"].pk,
        },
        "gatherings:circle_signup": {
            "pk": world["federation_gathering"].pk,
            "circle": world["circle"].slug,
        },
        "gatherings:circle_signup_withdraw": {
            "pk": world["federation_gathering"].pk,
            "circle": world["circle"].slug,
        },
        "gatherings:public_register": {"pk": world["public_gathering"].pk},
        "gatherings:public_register_thanks": {"pk": world["public_gathering"].pk},
        "gatherings:registration_cancel": {"token": world["registration_token"]},
        "gatherings:registrations_csv": {"pk": world["public_gathering"].pk},
        # --- end gatherings kwargs: federation ---
    }
    if name in by_name:
        return by_name[name]
    if "occurrence" in name or name.startswith(("gatherings:agenda", "gatherings:minutes")):
        return on_occurrence
    return {"pk": gathering.pk}


# The world's records that API paths name by "<record>_id".
ID_RECORDS = (
    "credential",
    "invitation",
    "proposal",
    "amendment",
    "agreement",
    "poll",
    "statement",
    "concern",
    "mandate",
    "circulation",
    "election",
    "nomination",
    "link",
    "gathering",
    "occurrence",
    # --- gatherings ID_RECORDS ---
    "agenda_item",
    "calendar_feed",
    # federation
    "federation_gathering",
    "programme_session",
    # --- end gatherings ID_RECORDS ---
)


def api_ids(world: dict[str, Any]) -> dict[str, Any]:
    """Values for the API's path parameters (and "{name}" placeholders in bodies)."""
    return {
        "slug": world["circle"].slug,
        "federation_slug": world["federation"].slug,
        "practitioner_id": world["roles"]["author"].pk,
        "option_id": world["poll"].options.order_by("position")[0].pk,
        "which": "electorate",
        **{f"{record}_id": world[record].pk for record in ID_RECORDS},
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
    "agreement_visibility": {"visibility": "circle"},
    "poll_create": {
        "title": "Another poll",
        "kind": "approval",
        "closes_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        "options": ["Tea", "Coffee"],
    },
    # "{option_id}" is replaced like a path parameter (see api_request).
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
    # --- gatherings VALID_BODIES ---
    "gathering_plan": {
        "title": "Another meeting",
        "starts_at": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
        "ends_at": (datetime.now(UTC) + timedelta(days=10, hours=2)).isoformat(),
        "time_zone": "Europe/London",
    },
    "gathering_change": {"title": "Our monthly meeting"},
    "gathering_cancel": {"reason": "We pause for the summer."},
    "occurrence_move": {
        "starts_at": (datetime.now(UTC) + timedelta(days=9)).isoformat(),
        "ends_at": (datetime.now(UTC) + timedelta(days=9, hours=2)).isoformat(),
    },
    "occurrence_cancel": {"reason": "Too few can come."},
    "attendance_answer": {"answer": "yes"},
    # The meeting has not started: 409 for those who may.
    "attendance_record": {"present_ids": ["{practitioner_id}"]},
    "agenda_item_add": {"title": "Supervision round", "minutes": 30},
    "agenda_item_change": {"title": "How we practise now"},
    "agenda_reorder": {"item_ids": ["{agenda_item_id}"]},
    "minutes_write": {"text": "We met.", "present_ids": ["{practitioner_id}"]},
    "minutes_confirm": {"version": 1},  # 409 for those who may: no minutes yet
    "minutes_ask_correction": {"version": 1, "correction": "I was there too."},
    "feed_create": {},
    # federation
    "federation_gathering_plan": {
        "title": "Summer gathering",
        "starts_at": (datetime.now(UTC) + timedelta(days=20)).isoformat(),
        "ends_at": (datetime.now(UTC) + timedelta(days=21)).isoformat(),
        "time_zone": "Europe/London",
        "host_circle": "matrix-circle",
    },
    "circle_signup": {"attendee_ids": ["{practitioner_id}"], "note": "We come by train."},
    "session_offer": {"title": "A talk", "minutes": 45},
    # Within the world's federation gathering (in 9 to 11 days).
    "session_decide": {
        "accept": True,
        "starts_at": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
        "room": "Hall",
    },
    # --- end gatherings VALID_BODIES ---
}


def api_request(world: dict[str, Any], operation: str, client: Client, **extra: Any) -> Any:
    """Call `operation` on the world's records; a write sends its VALID_BODIES body as JSON."""
    path, method = api_operations()[operation]
    body = json.dumps(VALID_BODIES.get(operation, {}))
    for key, value in api_ids(world).items():
        path = path.replace("{" + key + "}", str(value))
        body = body.replace('"{' + key + '}"', str(value))
    if method == "get":
        return client.get(path, **extra)
    return getattr(client, method)(path, data=body, content_type="application/json", **extra)


# --- what a request changed in the database ------------------------------------------------------

# Bookkeeping a request may write whoever sends it: the session (signing in, messages) and when a
# personal token was last used. Everything else counts.
IGNORED_TABLES = frozenset({"django_session", "django_migrations"})
IGNORED_COLUMNS = {"accounts_apitoken": frozenset({"last_used_at"})}
_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?(\w+)"?', re.I)


def _snapshot() -> dict[str, Counter[str]]:
    """Every row of every table (bar the bookkeeping), as text."""
    tables: dict[str, Counter[str]] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table in IGNORED_TABLES:
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            names = [column[0] for column in cursor.description]
            ignored = IGNORED_COLUMNS.get(table, frozenset())
            keep = [i for i, name in enumerate(names) if name not in ignored]
            tables[table] = Counter(repr(tuple(row[i] for i in keep)) for row in cursor.fetchall())
    return tables


class DatabaseWatch:
    """What the requests made inside `with DatabaseWatch() as watch:` changed in the database.

    The tables are read (a query per table) only when a statement that writes is about to run:
    before it, into `before`; and again by `changes()`. A request that writes nothing, as a
    refused one should, costs nothing, and a denied request that wrote and was rolled back is
    not mistaken for a change. Not for requests that may write: `changes()` is for asserting
    that nothing changed (`active=False` watches nothing, for the cases that may).
    """

    def __init__(self, active: bool = True) -> None:
        self.before: dict[str, Counter[str]] | None = None
        self._reading = False
        self._wrapper: Any = None
        self.active = active
        # Work deferred to the commit (a mail, a queued task) never runs in the matrix's world,
        # which is rolled back: counted here instead, with the mails sent at once.
        self._on_commit = len(connection.run_on_commit)
        self._outbox = len(mail.outbox)

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.before is None and not self._reading:
            match = _WRITE.match(sql)
            if match and match[1] not in IGNORED_TABLES:
                self._reading = True
                try:
                    self.before = _snapshot()
                finally:
                    self._reading = False
        return execute(sql, params, many, context)

    def __enter__(self) -> DatabaseWatch:
        if self.active:
            self._wrapper = connection.execute_wrapper(self)
            self._wrapper.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._wrapper is not None:
            self._wrapper.__exit__(*exc)
            self._wrapper = None

    def changes(self) -> dict[str, str]:
        """{table: what changed}, with work left for the commit and mails sent; empty when
        nothing changed."""
        assert self.active, "an inactive watch saw nothing"
        changed: dict[str, str] = {}
        if len(connection.run_on_commit) != self._on_commit:
            changed["(on commit)"] = repr(connection.run_on_commit[self._on_commit :])[:400]
        if len(mail.outbox) != self._outbox:
            changed["(mail)"] = repr([m.subject for m in mail.outbox[self._outbox :]])
        if self.before is None:
            return changed
        after = _snapshot()
        for table in sorted(set(self.before) | set(after)):
            gone = self.before.get(table, Counter()) - after.get(table, Counter())
            new = after.get(table, Counter()) - self.before.get(table, Counter())
            if gone or new:
                changed[table] = f"-{sorted(gone)[:2]} +{sorted(new)[:2]}"[:400]
        return changed
