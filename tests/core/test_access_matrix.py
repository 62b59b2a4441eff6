"""Every URL pattern and API operation × every role: allowed or refused, no leaks, no writes.

The matrix is generated from the URL conf and the OpenAPI document, so a new URL without a rule
here fails `test_every_url_has_a_rule`. Bodies are searched for marker strings planted in records
above each role's reach: a 200 that shows a private record is a failure, not just a 200 that
should have been a 403. Every write (a POST to any page, every unsafe API operation) is tried by
every role, and a refused one must also have changed nothing in the database; a page whose form
writes needs a rule in WRITES saying who may. The seeded world, its roles and the requests are
in tests/world.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.world import (
    MARK_CIRCLE,
    MARK_CREDENTIAL,
    MARK_PRIVATE,
    MARK_PRONOUNS,
    ROLES,
    SECOND_FACTOR_ROLES,
    DatabaseWatch,
    api_operations,
    api_request,
    build_world,
    module_world,
    page_kwargs,
    role_client,
    url_patterns,
)

# The world's roles: its holder and expired_holder are simply members where a mandate is not the
# question (see MANDATED). The roles the circle does not count as its members (the forming
# circle's, those without a second factor, the leaver) are in none of the sets below but
# SIGNED_IN: for the circle they are outsiders, and none of them is "the federation".
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
    "forming_member": set(),
    "no2fa_member": set(),
    "password_session_member": set(),
    "leaver": set(),
    "token_2fa_holder": set(),
}
assert set(MAY_SEE) == set(ROLES)
assert set(ROLES) >= SECOND_FACTOR_ROLES
# A personal token does not sign anyone in to the site's pages: there its holder is a stranger.
AS_ON_PAGES = {"token_2fa_holder": "anonymous"}


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    method: str = "get"
    # Markers that this URL shows to anyone it serves (by design, e.g. the invitation link).
    shows: frozenset[str] = frozenset()
    # Form data for a POST page ("{circle}" is the matrix circle's id), so that the permission
    # check, not an empty form, decides.
    data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Writes:
    """Who may change something by POSTing the form of a page read with GET, and the form."""

    writers: frozenset[str]
    # Placeholders: {circle}, {another}, {federation}, {author}, {option} (ids), {circle_name},
    # {me} (the role's own display name), {closes_at} (in ten days), {soon} (in two days).
    data: tuple[tuple[str, str], ...] = ()


PAGES: dict[str, Rule] = {
    "home": Rule(ALL),
    "robots_txt": Rule(ALL),
    "accounts:profile_edit": Rule(SIGNED_IN),
    # One's own profile as the public, the federation or a circle's members see it.
    "accounts:profile_preview": Rule(SIGNED_IN),
    "accounts:credential_list": Rule(SIGNED_IN),
    "accounts:credential_edit": Rule(AUTHOR),
    "accounts:token_list": Rule(SIGNED_IN),
    "accounts:token_revoke": Rule(AUTHOR, "post"),
    "accounts:data": Rule(SIGNED_IN),
    # Everything includes one's own records in a circle that requires a second factor: the
    # download waits for it (the members of the world's 2FA circle without one are sent for it).
    "accounts:data_export": Rule(SIGNED_IN - {"no2fa_member", "password_session_member"}),
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
    # The invitation a browser's session came with (by the link): none in the roles' sessions.
    "circles:invitation_continue": Rule(frozenset()),
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
    # Members read an amendment and what it changes; the proposer decides there (WRITES).
    "decisions:amendment_decide": Rule(CIRCLE),
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
    # The circle is circle-only, so are its agreements (never wider than the circle's page).
    "agreements:agreement_detail": Rule(CIRCLE),
    "agreements:agreement_review": Rule(CIRCLE, "post"),
    # Who reads the agreement: its circle's members choose (no wider than the circle's page).
    "agreements:agreement_visibility": Rule(CIRCLE, "post", data=(("visibility", "circle"),)),
    # Into Another Circle: only its members could, and they may not read the agreement.
    "agreements:agreement_borrow": Rule(frozenset(), "post"),
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
    # Federation notices: read by its members, to whom they were sent (no forming circle's).
    "mandates:federation_notices": Rule(FEDERATION),
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
    # The name search of the nomination form (htmx) and the paged lists of people: both read
    # through the election's own view rule.
    "elections:nominee_search": Rule(CIRCLE),
    "elections:election_people": Rule(CIRCLE),
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
    "links:link_withdraw": Rule(CIRCLE | {"other_member"}, "post"),  # either circle ends it
    "links:federation_map": Rule(ALL),  # hidden circles are left out
    # Gatherings: the world's gathering is the matrix circle's monthly meeting (tests/world.py).
    # --- gatherings: planning ---
    "gatherings:gathering_list": Rule(CIRCLE),
    "gatherings:gathering_new": Rule(CIRCLE),
    # A circle's meeting: those invited are its members (other_member's circle is not invited).
    "gatherings:gathering_detail": Rule(CIRCLE),
    # Arranging a circle's meeting is for its members (WRITES: the forms post to themselves).
    "gatherings:gathering_edit": Rule(CIRCLE),
    "gatherings:gathering_cancel": Rule(CIRCLE),
    "gatherings:occurrence_move": Rule(CIRCLE),
    "gatherings:occurrence_cancel": Rule(CIRCLE),
    # The world's poll is not a find-a-time poll: members are sent back to it with the reason.
    "gatherings:gathering_from_poll": Rule(CIRCLE, "post"),
    # --- end gatherings: planning ---
    # --- gatherings: at the meeting ---
    # The meeting's page and its forms: those invited (the circle). Minutes, who came and the
    # history are tried on the world's past meeting (author and member were there): holders get
    # a message, not a refusal, when the service says only those present confirm.
    "gatherings:occurrence_detail": Rule(CIRCLE),
    "gatherings:attendance_answer": Rule(CIRCLE, "post", data=(("answer", "yes"),)),
    "gatherings:attendance_record": Rule(CIRCLE, "post", data=(("present", "{author}"),)),
    "gatherings:agenda_add": Rule(CIRCLE, "post", data=(("title", "Check-in"),)),
    "gatherings:agenda_item_edit": Rule(CIRCLE),  # every member arranges a circle's meeting
    "gatherings:agenda_item_remove": Rule(CIRCLE, "post"),
    "gatherings:agenda_item_move": Rule(CIRCLE, "post", data=(("direction", "up"),)),
    "gatherings:agenda_suggestion_accept": Rule(CIRCLE, "post"),
    "gatherings:agenda_suggestion_dismiss": Rule(CIRCLE, "post"),
    "gatherings:minutes_write": Rule(
        CIRCLE,
        "post",
        data=(("text", "Shorter minutes"), ("present", "{author}"), ("change_note", "Shorter")),
    ),
    "gatherings:minutes_confirm": Rule(CIRCLE, "post", data=(("version", "1"),)),
    "gatherings:minutes_correction": Rule(
        CIRCLE, "post", data=(("version", "1"), ("correction", "Say weekly"))
    ),
    "gatherings:minutes_history": Rule(CIRCLE),
    # --- end gatherings: at the meeting ---
    # --- gatherings: calendars ---
    "gatherings:calendar_feeds": Rule(SIGNED_IN),
    # Whoever holds the address reads the author's feed: read with no session (so no second
    # factor), it leaves out the matrix circle, which asks for one: no marker may show.
    "gatherings:calendar_feed": Rule(ALL),
    "gatherings:gathering_ics": Rule(CIRCLE),
    # --- end gatherings: calendars ---
    # --- gatherings: federation ---
    # The world's federation gathering is hosted by the circle (the author planned it) and not
    # public; its session is the author's, and the circle has signed up. The second one is open
    # to the public, with one registration whose cancel link the world holds.
    "gatherings:federation_gathering_list": Rule(ALL),
    "gatherings:federation_gathering_new": Rule(FEDERATION),
    "gatherings:programme": Rule(FEDERATION),
    "gatherings:session_offer": Rule(
        FEDERATION, "post", data=(("title", "A talk"), ("minutes", "45"))
    ),
    "gatherings:session_decide": Rule(
        CIRCLE,
        "post",
        data=(("decision", "accept"), ("starts_at", "{closes_at}"), ("room", "Hall")),
    ),
    "gatherings:session_withdraw": Rule(AUTHOR, "post"),
    "gatherings:circle_signup": Rule(CIRCLE, "post", data=(("attendees", "{author}"),)),
    "gatherings:circle_signup_withdraw": Rule(CIRCLE, "post"),
    "gatherings:public_register": Rule(ALL),
    "gatherings:public_register_thanks": Rule(ALL),
    "gatherings:registration_cancel": Rule(ALL),  # whoever holds the e-mailed link
    "gatherings:registrations_csv": Rule(CIRCLE),  # those who arrange it: the host circle
    # --- end gatherings: federation ---
}

# Pages read with GET whose POST writes (a form on the page). A POST to any other GET page must
# change nothing, for anyone: a new form that writes fails the matrix until it is listed here.
WRITES: dict[str, Writes] = {
    "accounts:profile_edit": Writes(
        SIGNED_IN,
        (
            ("display_name", "{me}"),
            ("display_name_visibility", "circle"),
            ("pronouns_visibility", "circle"),
            ("modalities_visibility", "circle"),
            ("languages_visibility", "circle"),
            ("location_visibility", "circle"),
            ("statement", "Changed"),
            ("statement_visibility", "private"),
            ("time_zone", "Europe/London"),
        ),
    ),
    "accounts:credential_list": Writes(
        SIGNED_IN,
        (
            ("title", "Diploma"),
            ("issuer", "Institute"),
            ("year", "2015"),
            ("visibility", "private"),
        ),
    ),
    "accounts:credential_edit": Writes(
        AUTHOR,
        (("title", "Renamed"), ("issuer", "Institute"), ("year", "2011"), ("visibility", "circle")),
    ),
    "accounts:token_list": Writes(SIGNED_IN, (("name", "another token"),)),
    "elections:election_open_circle": Writes(
        CIRCLE,
        (
            ("role", "convener"),
            ("seats", "1"),
            ("nominations_close_at", "{soon}"),
            ("voting_closes_at", "{closes_at}"),
        ),
    ),
    "elections:election_open_federation": Writes(
        FEDERATION,
        (
            ("role", "treasurer"),
            ("seats", "1"),
            ("nominations_close_at", "{soon}"),
            ("voting_closes_at", "{closes_at}"),
        ),
    ),
    # Anyone signed in may found a circle (a forming one).
    "circles:circle_found": Writes(
        SIGNED_IN,
        (
            ("federation", "{federation}"),
            ("name", "A New Circle"),
            ("purpose", "Peer review."),
            ("visibility", "circle"),
            ("open_to_new_members", "on"),
        ),
    ),
    "circles:circle_edit": Writes(
        CIRCLE,
        (
            ("name", "{circle_name}"),
            ("purpose", "A changed purpose."),
            ("visibility", "circle"),
            ("open_to_new_members", "on"),
            ("requires_two_factor", "on"),
        ),
    ),
    "circles:circle_invitations": Writes(CIRCLE, (("email", "new.person@example.org"),)),
    "circles:circle_leave": Writes(CIRCLE),
    # Whoever holds the e-mailed link may accept it, if not a member already, but this circle
    # requires two-factor authentication and none of the world's non-members has it.
    "circles:invitation_respond": Writes(frozenset(), (("action", "accept"),)),
    "circles:invitation_continue": Writes(frozenset(), (("action", "accept"),)),
    "decisions:comment_edit": Writes(AUTHOR, (("comment-text", "My view, edited"),)),
    "decisions:amendment_decide": Writes(AUTHOR, (("decision", "accept"),)),
    "decisions:proposal_new": Writes(
        CIRCLE,
        (
            ("title", "Weekly?"),
            ("text", "Shall we meet weekly?"),
            ("process", "consent"),
            ("adopts", "none"),
            ("closes_at", "{closes_at}"),
        ),
    ),
    "decisions:federation_proposal_new": Writes(
        FEDERATION,
        (
            ("circle", "{circle}"),
            ("title", "For all"),
            ("text", "Shall we all?"),
            ("closes_at", "{closes_at}"),
        ),
    ),
    "mandates:federation_notice": Writes(
        frozenset({"author", "holder"}), (("title", "Gathering"), ("text", "In April"))
    ),
    "polls:poll_detail": Writes(CIRCLE, (("approved", "{option}"),)),  # answers (again)
    "polls:poll_new": Writes(
        CIRCLE,
        (
            ("title", "Tea or coffee?"),
            ("kind", "approval"),
            ("options", "Tea\nCoffee"),
            ("closes_at", "{closes_at}"),
        ),
    ),
    "standing:standing_page": Writes(
        CIRCLE, (("colleague", "{author}"), ("basis", "Peer supervision"))
    ),
    # The author raised the concern: the other members respond.
    "standing:concern_detail": Writes(
        CIRCLE - AUTHOR, (("response", "We talked."), ("resolve", "on"))
    ),
    # Asks Another Circle: already asked, so a 409 for the circle's members.
    "links:circle_links": Writes(CIRCLE, (("validating_circle", "{another}"), ("message", "Hi"))),
    "notifications:preferences": Writes(SIGNED_IN),
    # --- gatherings: planning ---
    # Each test runs in its own savepoint: a change or cancellation here is gone before the next.
    "gatherings:gathering_new": Writes(
        CIRCLE,
        (
            ("title", "Extra meeting"),
            ("date", (timezone.now() + timedelta(days=20)).date().isoformat()),
            ("start", "18:00"),
            ("end", "20:00"),
            ("time_zone", "Europe/London"),
            ("repeat", "weekly"),
            ("ends", "count"),
            ("count", "4"),
        ),
    ),
    "gatherings:gathering_edit": Writes(
        CIRCLE,
        (
            ("title", "Monthly meeting, changed"),
            ("details", "What it is for, changed"),
            ("date", (timezone.now() + timedelta(days=8)).date().isoformat()),
            ("start", "18:30"),
            ("end", "20:30"),
            ("time_zone", "Europe/London"),
            ("place", "Room 5"),
            ("repeat", "monthly_weekday"),
            ("ends", "never"),
        ),
    ),
    "gatherings:gathering_cancel": Writes(CIRCLE, (("reason", "We pause for the summer"),)),
    "gatherings:occurrence_move": Writes(
        CIRCLE,
        (
            ("date", (timezone.now() + timedelta(days=9)).date().isoformat()),
            ("start", "18:00"),
            ("end", "20:00"),
            ("reason", "The room is taken"),
        ),
    ),
    "gatherings:occurrence_cancel": Writes(CIRCLE, (("reason", "Too few can come"),)),
    # --- end gatherings: planning ---
    # --- gatherings: at the meeting ---
    "gatherings:agenda_item_edit": Writes(CIRCLE, (("title", "Renamed item"),)),
    # --- end gatherings: at the meeting ---
    # --- gatherings: calendars ---
    # Each signed-in role makes (or renews) their own personal feed address.
    "gatherings:calendar_feeds": Writes(SIGNED_IN, (("action", "create"),)),
    # --- end gatherings: calendars ---
    # --- gatherings: federation ---
    # Another circle's member may propose one, but not hosted by a circle not theirs: a 400.
    "gatherings:federation_gathering_new": Writes(
        FEDERATION,
        (
            ("title", "Summer gathering"),
            ("starts_at", "{soon}"),
            ("time_zone", "Europe/London"),
            ("host_circle", "{circle}"),
        ),
    ),
    "gatherings:public_register": Writes(
        ALL, (("name", "Pat Public"), ("email", "pat.public@example.org"))
    ),
    "gatherings:registration_cancel": Writes(ALL),
    # --- end gatherings: federation ---
}
# Writes whose form above does not write for the first writer, and why.
WRITES_THAT_CHANGE_NOTHING = {
    "circles:invitation_respond": "nobody may accept the invitation (see WRITES)",
    "circles:invitation_continue": "no role's session came with an invitation",
    "links:circle_links": "the circle has already asked Another Circle",
    "notifications:preferences": "no form data: the choices are one per kind of notice",
    "standing:standing_page": "the author cannot stand by themselves",
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
    "agreement_list": Rule(CIRCLE),  # circle-only, as the circle is
    "agreement_get": Rule(CIRCLE),
    "agreement_review": Rule(CIRCLE, "post"),
    "agreement_visibility": Rule(CIRCLE, "post"),
    "agreement_borrow": Rule(frozenset(), "post"),  # see agreements:agreement_borrow
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
    # The election's lists a page at a time: the same view rule as the election itself.
    "nomination_list": Rule(CIRCLE),
    "consent_list": Rule(CIRCLE),
    "election_people": Rule(CIRCLE),
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
    "link_withdraw": Rule(CIRCLE | {"other_member"}, "post"),  # either circle; 409: not validated
    "federation_map": Rule(ALL),
    # --- gatherings API ---
    # The world's gathering is the circle's monthly meeting; its first meeting is a week away,
    # so attendance, minutes and their answers are 409 for those who may (not started yet).
    "gathering_list": Rule(CIRCLE),
    "gathering_plan": Rule(CIRCLE, "post"),
    "gathering_get": Rule(CIRCLE),
    "gathering_change": Rule(CIRCLE, "patch"),
    "gathering_cancel": Rule(CIRCLE, "post"),
    "occurrence_list": Rule(CIRCLE),
    "occurrence_get": Rule(CIRCLE),
    "occurrence_move": Rule(CIRCLE, "post"),
    "occurrence_cancel": Rule(CIRCLE, "post"),
    "attendance_answer": Rule(CIRCLE, "put"),
    "attendance_record": Rule(CIRCLE, "put"),
    "agenda_list": Rule(CIRCLE),
    "agenda_item_add": Rule(CIRCLE, "post"),
    "agenda_item_change": Rule(CIRCLE, "patch"),  # the author added it; members arrange
    "agenda_item_remove": Rule(CIRCLE, "delete"),
    "agenda_reorder": Rule(CIRCLE, "put"),
    "agenda_suggestion_accept": Rule(CIRCLE, "post"),  # 409: the item is no suggestion
    "agenda_suggestion_dismiss": Rule(CIRCLE, "post"),
    "minutes_get": Rule(CIRCLE),
    "minutes_write": Rule(CIRCLE, "post"),
    "minutes_confirm": Rule(CIRCLE, "post"),
    "minutes_ask_correction": Rule(CIRCLE, "post"),
    "my_gatherings": Rule(SIGNED_IN),
    "feed_list": Rule(SIGNED_IN),
    "feed_create": Rule(SIGNED_IN, "post"),  # a personal feed: anyone signed in
    "feed_revoke": Rule(AUTHOR, "post"),  # the author's own feed; anyone else's is not there
    # federation: the world's federation gathering, hosted by the circle; the author's session
    "federation_gathering_list": Rule(ALL),
    "federation_gathering_plan": Rule(FEDERATION, "post"),  # 400 for another circle's member
    "programme_get": Rule(FEDERATION),
    "circle_signup": Rule(CIRCLE, "put"),
    "circle_signup_withdraw": Rule(CIRCLE, "delete"),
    "session_offer": Rule(FEDERATION, "post"),
    "session_decide": Rule(CIRCLE, "post"),
    "session_withdraw": Rule(AUTHOR, "delete"),
    # --- end gatherings API ---
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
for _name, _writes in list(WRITES.items()):
    if _name not in MANDATED and "member" in _writes.writers:
        WRITES[_name] = replace(_writes, writers=_writes.writers | {"holder", "expired_holder"})
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
    for name, writes in WRITES.items():
        assert PAGES[name].method == "get", f"{name} is POSTed by test_page_access already"
        assert writes.writers <= PAGES[name].allowed | {"anonymous"}, name


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


# Where a refused request is sent: to sign in; a member of the circle without the second factor
# it requires, to set up an authenticator app or to enter a code from it.
_REFUSAL_REDIRECTS = ("/accounts/login/", "/accounts/2fa/")


def _refused(response: Any) -> bool:
    if response.status_code in (401, 403, 404, 405):
        return True
    location = response.get("Location", "") if response.status_code == 302 else ""
    return location.startswith(_REFUSAL_REDIRECTS)


def _unchanged(watch: DatabaseWatch, role: str, label: str) -> None:
    changes = watch.changes()
    assert not changes, f"{role} was refused at {label} but changed the database: {changes}"


def _fill(data: tuple[tuple[str, str], ...], world: dict[str, Any], role: str) -> dict[str, str]:
    me = world["roles"].get(role)
    values = {
        "{circle}": str(world["circle"].pk),
        "{another}": str(world["another"].pk),
        "{federation}": str(world["federation"].pk),
        "{author}": str(world["roles"]["author"].pk),
        "{option}": str(world["poll"].options.order_by("position")[0].pk),
        "{circle_name}": world["circle"].name,
        "{me}": me.display_name if me is not None else "Nobody",
        "{closes_at}": (timezone.localtime() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
        "{soon}": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
    }
    filled = {}
    for key, value in data:
        for placeholder, real in values.items():
            value = value.replace(placeholder, real)
        filled[key] = value
    return filled


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_access(world: dict[str, Any], name: str, role: str) -> None:
    rule = PAGES[name]
    url = reverse(name, kwargs=page_kwargs(name, world))
    data = _fill(rule.data, world, role)
    client = role_client(world, role)
    allowed = AS_ON_PAGES.get(role, role) in rule.allowed
    with DatabaseWatch(active=not allowed) as watch:
        response = (
            client.post(url, data) if rule.method == "post" else getattr(client, rule.method)(url)
        )
    assert response.status_code < 500
    if allowed:
        assert not _refused(response), f"{role} refused at {name}: {response.status_code}"
    else:
        assert _refused(response), f"{role} allowed at {name}: {response.status_code}"
        _unchanged(watch, role, name)
    _assert_no_leak(role, name, _body(response), rule.shows)


# Every role POSTs to every page read with GET: a page whose form writes (WRITES) with its form
# data, the others (which must ignore a POST or refuse it) with none. A view that wrote before
# asking the rules would be caught by the roles it refuses.
POSTS_TO_GET_PAGES = sorted(
    (name, role) for name, rule in PAGES.items() if rule.method == "get" for role in ROLES
)


@pytest.mark.parametrize(("name", "role"), POSTS_TO_GET_PAGES)
def test_page_post(world: dict[str, Any], name: str, role: str) -> None:
    """A POST to a page read with GET: its form, sent by whoever, changes only what it may."""
    rule, writes = PAGES[name], WRITES.get(name, Writes(frozenset()))
    url = reverse(name, kwargs=page_kwargs(name, world))
    client = role_client(world, role)
    as_role = AS_ON_PAGES.get(role, role)
    with DatabaseWatch(active=as_role not in writes.writers) as watch:
        response = client.post(url, _fill(writes.data, world, role))
    assert response.status_code < 500
    if as_role in writes.writers:
        assert not _refused(response), f"{role} refused at {name}: {response.status_code}"
    else:
        _unchanged(watch, role, f"POST {name}")
    if as_role not in rule.allowed:
        assert _refused(response), f"{role} allowed to POST at {name}: {response.status_code}"
    _assert_no_leak(role, name, _body(response), rule.shows)


_PROVING_ORDER = ("author", "member", "holder", "other_member", "outsider")


@pytest.mark.parametrize("name", sorted(set(WRITES) - set(WRITES_THAT_CHANGE_NOTHING)))
def test_the_write_forms_write(world: dict[str, Any], name: str) -> None:
    """The form data above gets past the form to the service: a refusal is the rules' doing."""
    writes = WRITES[name]
    role = next(r for r in _PROVING_ORDER if r in writes.writers)
    url = reverse(name, kwargs=page_kwargs(name, world))
    client = role_client(world, role)
    with DatabaseWatch() as watch:
        response = client.post(url, _fill(writes.data, world, role))
    assert not _refused(response), (role, response.status_code)
    assert watch.changes(), f"{role}'s POST at {name} changed nothing: {response}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", sorted(API))
def test_api_access(world: dict[str, Any], operation: str, role: str) -> None:
    rule = API[operation]
    client = role_client(world, role)
    with DatabaseWatch(active=role not in rule.allowed) as watch:
        response = api_request(world, operation, client)
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
        _unchanged(watch, role, operation)
    _assert_no_leak(role, operation, _body(response))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ["close", "withdraw"])
def test_proposal_actions_beyond_remind(world: dict[str, Any], action: str, role: str) -> None:
    """`decisions:proposal_action` carries three actions in its URL; the matrix's row tries
    "remind": closing early and withdrawing are the author's alone, and change nothing else."""
    proposal = world["proposal"]
    url = reverse(
        "decisions:proposal_action",
        kwargs={"slug": world["circle"].slug, "pk": proposal.pk, "action": action},
    )
    client = role_client(world, role)
    with DatabaseWatch(active=role != "author") as watch:
        response = client.post(url)
    assert response.status_code < 500
    if role == "author":
        return  # may still be refused for its own reason (not everyone has spoken): not a rule
    assert _refused(response), f"{role} allowed to {action}: {response.status_code}"
    _unchanged(watch, role, f"{action} proposal")


def test_a_leaver_cannot_edit_what_they_wrote_as_a_member(world: dict[str, Any]) -> None:
    comment = world["leaver_comment"]
    url = reverse(
        "decisions:comment_edit",
        kwargs={"slug": world["circle"].slug, "pk": comment.proposal_id, "comment_pk": comment.pk},
    )
    client = role_client(world, "leaver")
    with DatabaseWatch() as watch:
        get = client.get(url)
        post = client.post(url, {"comment-text": "Edited after leaving"})
    assert _refused(get) and _refused(post), (get.status_code, post.status_code)
    _unchanged(watch, "leaver", "their own comment's edit page")


def test_the_watch_sees_a_change_and_not_the_bookkeeping(world: dict[str, Any]) -> None:
    """What `_unchanged` relies on: a changed column is seen; signing in and token use are not."""
    from circlework.notifications.models import Notification

    author, token_holder = role_client(world, "author"), role_client(world, "token_2fa_holder")
    with DatabaseWatch() as watch:
        author.get(reverse("notifications:inbox"))  # the session (and its messages)
        api_request(world, "me", token_holder)  # the token's last use
    assert watch.before is not None  # the token's last use was written…
    assert not watch.changes()  # …and is not a change
    with DatabaseWatch() as watch:
        Notification.objects.filter(pk=world["notification"].pk).update(title="Changed")
    assert set(watch.changes()) == {"notifications_notification"}


_POST_FORM = re.compile(r"<form\b[^>]*\bmethod=\"post\"[^>]*>", re.IGNORECASE)
_ACTION = re.compile(r"\baction=\"([^\"]*)\"")


def test_every_page_whose_form_posts_to_itself_is_in_writes(world: dict[str, Any]) -> None:
    """A new page with a form that writes must say who may send it (WRITES), or the matrix
    would post nothing to it and never see a write that skips the rules."""
    unlisted = []
    for name, rule in sorted(PAGES.items()):
        if rule.method != "get" or name in WRITES:
            continue
        reader = next((r for r in _PROVING_ORDER if r in rule.allowed), None)
        if reader is None:
            continue
        url = reverse(name, kwargs=page_kwargs(name, world))
        body = _body(role_client(world, reader).get(url))
        actions = [(_ACTION.search(form) or [None, ""])[1] for form in _POST_FORM.findall(body)]
        if any(action in ("", url) for action in actions):
            unlisted.append(name)
    assert unlisted == [], f"pages posting to themselves without a WRITES entry: {unlisted}"
