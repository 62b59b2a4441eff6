"""Reads for elections: who may vote, who stands, lists, an election's page and its result table.

Names: a person's name is shown only as far as they let the viewer see it (a federation's
elections reach members of other circles); a candidate must let the electorate see their name to
stand at all (services.nominations checks), so ballots never show "a member".
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from circlework.accounts.models import Practitioner
from circlework.circles.covenant import in_federation_q
from circlework.circles.models import Circle, Federation, Membership
from circlework.circles.roles import ROLES, Method
from circlework.core import request_memo
from circlework.core.http import MAX_QUERY_NUMBER
from circlework.core.names import fill
from circlework.core.visibility import (
    A_MEMBER,
    FEDERATION_STATUSES,
    Visibility,
    audience_for,
    can_see_name,
    own_memberships,
)
from circlework.elections import counting
from circlework.elections.models import (
    Ballot,
    BallotCast,
    ConsentResponse,
    ConsentStance,
    Election,
    ElectionStatus,
    Electorate,
    Nomination,
)
from circlework.mandates.models import Mandate

DELEGATE_PERMISSION = "decisions.record_circle_position"
FACILITATE = "elections.facilitate"
FORMER = "a former member"

# Whose names the electorate can read: a candidate must be at least this visible.
NAME_LEVELS = {
    "circle": (Visibility.CIRCLE, Visibility.FEDERATION, Visibility.PUBLIC),
    "federation": (Visibility.FEDERATION, Visibility.PUBLIC),
}

BALLOT_METHODS = (*Method.RANKED, Method.APPROVAL)


# --- scope and electorate ---------------------------------------------------------------------


def federation_of(election: Election) -> Federation:
    if election.circle_id is not None:
        assert election.circle is not None
        return election.circle.federation
    assert election.federation is not None
    return election.federation


def scope_name(election: Election) -> str:
    return election.circle.name if election.circle is not None else federation_of(election).name


def scope_kwargs(election: Election) -> dict[str, Any]:
    if election.circle is not None:
        return {"circle": election.circle}
    return {"federation": election.federation}


def role_name(election: Election) -> str:
    role = ROLES.get(election.role)
    return str(role.name) if role is not None else election.role


def scope_members(
    *, circle: Circle | None = None, federation: Federation | None = None
) -> QuerySet[Practitioner]:
    """Current members of the circle, or of any circle of the federation (validated: a forming
    circle is not yet the federation), by name."""
    # One filter() call: both conditions must hold of the same membership.
    scope: dict[str, Any] = (
        {"memberships__circle": circle}
        if circle is not None
        else {
            "memberships__circle__federation": federation,
            "memberships__circle__status__in": FEDERATION_STATUSES,
        }
    )
    qs = Practitioner.objects.filter(memberships__left_at__isnull=True, **scope)
    return qs.distinct().select_related("user").order_by("display_name", "pk")


def _federation_id(election: Election) -> int:
    if election.federation_id is not None:
        return election.federation_id
    assert election.circle is not None
    return election.circle.federation_id


# A mandate's permissions as stored when they are the delegate's permission alone.
_DELEGATE_ONLY = json.dumps([DELEGATE_PERMISSION])


def _names_permission(mandates: QuerySet[Mandate], permission: str) -> QuerySet[Mandate]:
    """The mandates whose permissions, as text, hold the permission's name: every mandate
    granting it, and perhaps others (the caller checks the list itself, in Python)."""
    return mandates.alias(_permissions_text=Cast("permissions", TextField())).filter(
        _permissions_text__contains=permission
    )


def electorates_for(elections: Iterable[Election]) -> dict[int, set[int]]:
    """Who may vote (or consent) in each election, now, by election id: the circle's current
    members; every current member of the federation's circles; or the holders of live delegate
    mandates (granting the circle's voice in the federation) who are still members of the circle
    they speak for. The federation's circles are those it has validated (circles.covenant): a
    forming circle's members and delegates have no vote in its elections. Two queries at most
    (one for members, one for delegates), however many elections and circles."""
    elections = list(elections)
    out: dict[int, set[int]] = {e.pk: set() for e in elections}
    circle_ids = {
        e.circle_id
        for e in elections
        if e.electorate == Electorate.CIRCLE_MEMBERS and e.circle_id is not None
    }
    delegate_federations = {
        _federation_id(e) for e in elections if e.electorate == Electorate.DELEGATES
    }
    member_federations = {
        _federation_id(e) for e in elections if e.electorate == Electorate.FEDERATION_MEMBERS
    }
    by_circle: dict[int, set[int]] = defaultdict(set)
    by_federation: dict[int, set[int]] = defaultdict(set)
    if circle_ids or member_federations:
        for pk, circle_id, federation_id, status in (
            Membership.objects.current()
            .filter(
                Q(circle_id__in=circle_ids)
                | (Q(circle__federation_id__in=member_federations) & in_federation_q("circle__"))
            )
            .filter(practitioner__isnull=False)
            .values_list("practitioner_id", "circle_id", "circle__federation_id", "circle__status")
        ):
            by_circle[circle_id].add(pk)
            if status in FEDERATION_STATUSES:
                by_federation[federation_id].add(pk)
    delegates: dict[int, set[int]] = defaultdict(set)
    if delegate_federations:
        # A delegate still belongs to the circle they speak for: asked in the same query.
        # Permissions are a JSON list (containment differs between databases): filter in Python,
        # after a coarse filter in SQL (`_names_permission`) that leaves out the federation's
        # other mandates, so their lists are neither sent nor decoded. Read as text: a list of
        # just this permission (most delegates') needs no decoding to be known.
        for holder_id, federation_id, text in (
            _names_permission(Mandate.objects.live(), DELEGATE_PERMISSION)
            .filter(
                Exists(
                    Membership.objects.current().filter(
                        practitioner_id=OuterRef("holder_id"), circle_id=OuterRef("circle_id")
                    )
                ),
                in_federation_q("circle__"),
                circle__federation_id__in=delegate_federations,
                holder__isnull=False,
            )
            .order_by()
            .annotate(_permissions=Cast("permissions", TextField()))
            .values_list("holder_id", "circle__federation_id", "_permissions")
        ):
            if text == _DELEGATE_ONLY or DELEGATE_PERMISSION in (json.loads(text) or []):
                delegates[federation_id].add(holder_id)
    for e in elections:
        if e.electorate == Electorate.CIRCLE_MEMBERS:
            out[e.pk] = set(by_circle[e.circle_id]) if e.circle_id is not None else set()
        elif e.electorate == Electorate.DELEGATES:
            out[e.pk] = set(delegates[_federation_id(e)])
        else:
            out[e.pk] = set(by_federation[_federation_id(e)])
    return out


def electorate_ids(election: Election) -> set[int]:
    """Who may vote (or consent) in this election, now."""
    return electorates_for([election])[election.pk]


_USER = Practitioner._meta.get_field("user")


def my_electorates(practitioner: Practitioner, elections: Iterable[Election]) -> set[int]:
    """The ids of those of these elections whose electorate this practitioner is in, now: the
    rule of `electorates_for`, asked of one person (their memberships, and their live delegate
    mandates when an election is the delegates'). Two queries at most, whatever the size of the
    federation. In a read-only request, when the practitioner came with their user (the signed-in
    user), their memberships are those the request has read already (core.visibility.own_memberships: every
    current membership, whatever the second factor, as the electorate counts them)."""
    elections = list(elections)
    if not elections:
        return set()
    circles: set[int] = set()
    federations: set[int] = set()
    rows: Iterable[tuple[int, int, str]]
    if request_memo.current() is not None and _USER.is_cached(practitioner):
        rows = [(r[0], r[1], r[2]) for r in own_memberships(practitioner.user)]
    else:
        rows = (
            Membership.objects.current()
            .filter(practitioner=practitioner)
            .values_list("circle_id", "circle__federation_id", "circle__status")
        )
    for circle_id, federation_id, status in rows:
        circles.add(circle_id)
        if status in FEDERATION_STATUSES:
            federations.add(federation_id)
    delegate_federations = {
        _federation_id(e) for e in elections if e.electorate == Electorate.DELEGATES
    }
    speaks_for: set[int] = set()
    if delegate_federations & federations:
        for circle_id, federation_id, permissions in (
            Mandate.objects.live()
            .filter(
                in_federation_q("circle__"),
                holder=practitioner,
                circle__federation_id__in=delegate_federations,
            )
            .values_list("circle_id", "circle__federation_id", "permissions")
        ):
            if circle_id in circles and DELEGATE_PERMISSION in (permissions or []):
                speaks_for.add(federation_id)
    out: set[int] = set()
    for e in elections:
        if e.electorate == Electorate.CIRCLE_MEMBERS:
            inside = e.circle_id is not None and e.circle_id in circles
        elif e.electorate == Electorate.DELEGATES:
            inside = _federation_id(e) in speaks_for
        else:
            inside = _federation_id(e) in federations
        if inside:
            out.add(e.pk)
    return out


def electors(election: Election) -> list[Practitioner]:
    ids = electorate_ids(election)
    return list(Practitioner.objects.filter(pk__in=ids).select_related("user").order_by("pk"))


@dataclass(frozen=True)
class Facilitation:
    """Who may facilitate the election now (change round, proposing, cancelling).

    The holders of live mandates granting "elections.facilitate" in the election's circle or
    federation; while no one holds such a mandate there, the member who opened the election.
    Asked at each act, so a mandate that ends (or is resigned) takes its authority with it.
    """

    ids: frozenset[int]
    by_mandate: bool  # False: the opener facilitates, as no live mandate grants it here


def facilitation(election: Election) -> Facilitation:
    """One query: the scope's live mandates (mandates.models' rule of "live") and their scopes,
    filtered in Python as mandates.selectors.live_mandates_granting does (JSON containment
    differs between databases)."""
    granting = [
        holder_id
        for holder_id, permissions in Mandate.objects.live()
        .filter(**scope_kwargs(election))
        .values_list("holder_id", "permissions")
        if FACILITATE in (permissions or [])
    ]
    if granting:
        return Facilitation(frozenset(pk for pk in granting if pk is not None), True)
    opener = election.opened_by_id
    return Facilitation(frozenset({opener} if opener is not None else ()), False)


def is_in_scope(election: Election, practitioner: Practitioner) -> bool:
    """A current member of the election's circle, or of a circle of its federation (validated)."""
    members = Membership.objects.current().filter(practitioner=practitioner)
    if election.circle_id is not None:
        return members.filter(circle_id=election.circle_id).exists()
    return members.filter(
        in_federation_q("circle__"), circle__federation=election.federation
    ).exists()


def name_is_visible_to_electorate(election: Election, practitioner: Practitioner) -> bool:
    level = "circle" if election.circle_id is not None else "federation"
    return practitioner.display_name_visibility in NAME_LEVELS[level]


def nominated_candidate_ids(election: Election) -> list[int]:
    """Nominees who accepted to stand (on a current nomination), in id order."""
    return sorted(
        {
            pk
            for pk in election.nominations.filter(is_current=True, accepted=True).values_list(
                "nominee_id", flat=True
            )
            if pk is not None
        }
    )


def candidate_ids(election: Election) -> list[int]:
    """The candidates, in id order: once voting has opened, the ballot paper fixed then (what
    the count uses, whatever happens to the nominations or accounts afterwards); before, the
    nominees who accepted to stand."""
    if election.ballot_candidates is not None:
        return sorted(int(c) for c in election.ballot_candidates)
    return nominated_candidate_ids(election)


def election_page_candidates(election: Election, user: Any) -> list[tuple[int, str]]:
    """The candidates, named as this viewer may see them (a candidate may have hidden their
    name since they were nominated), in the order of the names shown."""
    names = names_for(user, candidate_ids(election))
    return sorted(names.items(), key=lambda row: (row[1].casefold(), row[0]))


def eligible_nominees(election: Election) -> QuerySet[Practitioner]:
    """Who can be nominated: members in the election's scope (as `scope_members`) whose names
    the electorate sees (`name_is_visible_to_electorate`). Unordered, as a subquery-backed
    queryset: no DISTINCT over the scope's memberships."""
    members = Membership.objects.current().filter(practitioner__isnull=False)
    if election.circle_id is not None:
        members = members.filter(circle_id=election.circle_id)
        level = "circle"
    else:
        members = members.filter(
            circle__federation_id=_federation_id(election),
            circle__status__in=FEDERATION_STATUSES,
        )
        level = "federation"
    return Practitioner.objects.filter(
        pk__in=members.values("practitioner_id"),
        display_name_visibility__in=NAME_LEVELS[level],
    )


def search_terms(q: str | None) -> list[str]:
    """The words of a name search: at most five, each at most 40 characters."""
    return [word[:40] for word in (q or "").split()][:5]


def nominee_choices(
    election: Election, *, q: str = "", limit: int | None = None, only: Iterable[int] = ()
) -> list[tuple[int, str]]:
    """Who can be nominated, by name (`eligible_nominees`): those whose name holds every word of
    `q` (any case), at most `limit` of them; `only`: just these people, if eligible.

    Only eligible people are searched, and their names are the electorate's to see, so a search
    shows no name its viewer could not see otherwise (election_page checks each name again)."""
    qs = eligible_nominees(election)
    wanted = list(only)
    if wanted:
        qs = qs.filter(pk__in=wanted)
    for word in search_terms(q):
        qs = qs.filter(display_name__icontains=word)
    rows = qs.order_by("display_name", "pk").values_list("pk", "display_name")
    return list(rows if limit is None else rows[:limit])


# --- names ------------------------------------------------------------------------------------


def names_with_visibility(user: Any, ids: Iterable[int | None]) -> dict[int, tuple[str, bool]]:
    """Each practitioner's name as far as they let this viewer see it, and whether it is shown
    (otherwise the name is "a member").

    One query: each person with their memberships, from which their reach is taken as
    core.visibility.name_reach takes it (the circles they belong to now, and those circles'
    federations); the rule itself is core.visibility.can_see_name's."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    people: dict[int, Practitioner] = {}
    reach: dict[int, tuple[set[int], set[int]]] = {}
    for pk, name, level, circle_id, federation_id, left_at in (
        Practitioner.objects.filter(pk__in=wanted)
        .order_by()
        .values_list(
            "pk",
            "display_name",
            "display_name_visibility",
            "memberships__circle_id",
            "memberships__circle__federation_id",
            "memberships__left_at",
        )
    ):
        if pk not in people:
            people[pk] = Practitioner(pk=pk, display_name=name, display_name_visibility=level)
            reach[pk] = (set(), set())
        if circle_id is not None and left_at is None:
            reach[pk][0].add(circle_id)
            reach[pk][1].add(federation_id)
    # The one name rule (core.visibility); a name kept from this viewer reads "a member".
    audience = audience_for(user)
    return {
        pk: (p.display_name, True)
        if can_see_name(audience, p, reach=reach[pk])
        else (str(A_MEMBER), False)
        for pk, p in people.items()
    }


def names_for(user: Any, ids: Iterable[int | None]) -> dict[int, str]:
    """Each practitioner's name as far as they let this viewer see it."""
    return {pk: name for pk, (name, _shown) in names_with_visibility(user, ids).items()}


def _name(names: dict[int, str], pk: int | None) -> str:
    return names.get(pk, _(FORMER)) if pk is not None else _(FORMER)


# --- lists --------------------------------------------------------------------------------------


PAST_PER_PAGE = 50


def election_lists(
    *, circle: Circle | None = None, federation: Federation | None = None, page: int = 1
) -> tuple[list[Election], list[Election], bool]:
    """Open elections (closing soonest first; one at most per role), and the `page`th page of
    past ones (latest first, PAST_PER_PAGE a page), and whether an older page follows."""
    qs = Election.objects.select_related("circle", "circle__federation", "federation")
    qs = qs.filter(circle=circle) if circle is not None else qs.filter(federation=federation)
    open_ = list(
        qs.exclude(status__in=[ElectionStatus.CLOSED, ElectionStatus.CANCELLED]).order_by(
            "voting_closes_at"
        )
    )
    start = (
        min(max(page, 1), MAX_QUERY_NUMBER) - 1
    ) * PAST_PER_PAGE  # an OFFSET the database takes
    past = list(
        qs.filter(status__in=[ElectionStatus.CLOSED, ElectionStatus.CANCELLED]).order_by(
            "-closed_at", "-pk"
        )[start : start + PAST_PER_PAGE + 1]
    )
    return open_, past[:PAST_PER_PAGE], len(past) > PAST_PER_PAGE


def elections_for(
    *, circle: Circle | None = None, federation: Federation | None = None
) -> tuple[list[Election], list[Election]]:
    """Open elections (closing soonest first) and the latest PAST_PER_PAGE past ones."""
    open_, past, _more = election_lists(circle=circle, federation=federation)
    return open_, past


def open_election_for(
    role: str, *, circle: Circle | None = None, federation: Federation | None = None
) -> Election | None:
    qs = Election.objects.filter(role=role).exclude(
        status__in=[ElectionStatus.CLOSED, ElectionStatus.CANCELLED]
    )
    qs = qs.filter(circle=circle) if circle is not None else qs.filter(federation=federation)
    return qs.first()


# --- what needs me --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Awaiting:
    election: Election
    what: str  # "answer", "nominate", "consent", "vote"
    scope: str
    role: str

    @property
    def text(self) -> str:
        return {
            "answer": _("You are nominated: will you stand?"),
            "nominate": _("Give your nomination"),
            "consent": _("Consent or object to the proposed candidate"),
            "vote": _("Cast your ballot"),
        }[self.what]


def awaiting_me(*, practitioner: Practitioner, user: Any = None) -> list[Awaiting]:
    """Open elections in my circles and federations that wait for me (for the home page).

    `user` is the signed-in practitioner: it carries how the session signed in, and a circle
    that asks for two-factor authentication counts only with a second factor (the audience,
    core.visibility.audience_for). Without it, as seen without a second factor.
    """
    # The audience, as everywhere: a forming circle's members are not yet the federation (its
    # elections do not wait for them), nor a 2FA circle's members without the second factor.
    viewer = user if user is not None else practitioner.user
    audience = audience_for(viewer)
    circle_ids, federation_ids = audience.circle_ids, audience.federation_ids
    if not circle_ids and not federation_ids:
        return []
    # One query, however many elections: each open election with what concerns me in it
    # (asking about me only, not about every member of the federation).
    me = practitioner.pk
    mine_q = {"election_id": OuterRef("pk")}
    open_elections = list(
        Election.objects.filter(Q(circle_id__in=circle_ids) | Q(federation_id__in=federation_ids))
        .exclude(status__in=[ElectionStatus.CLOSED, ElectionStatus.CANCELLED])
        .select_related("circle", "circle__federation", "federation")
        .annotate(
            _to_answer=Exists(
                Nomination.objects.filter(
                    **mine_q, is_current=True, nominee_id=me, accepted__isnull=True
                )
            ),
            _nominated=Exists(
                Nomination.objects.filter(**mine_q, is_current=True, nominated_by_id=me)
            ),
            _consented=Exists(
                ConsentResponse.objects.filter(
                    **mine_q,
                    voter_id=me,
                    is_current=True,
                    stance=ConsentStance.CONSENT,
                    candidate_id=OuterRef("proposed_id"),
                )
            ),
            _cast=Exists(BallotCast.objects.filter(**mine_q, voter_id=me)),
        )
        .order_by("voting_closes_at")
    )
    if not open_elections:
        return []
    mine = my_electorates(practitioner, open_elections)
    out: list[Awaiting] = []
    for election in open_elections:
        what = _awaiting_what(
            election,
            to_answer=election._to_answer,
            is_elector=election.pk in mine,
            nominated=election._nominated,
            consented=election._consented,
            cast=election._cast,
        )
        if what:
            out.append(Awaiting(election, what, scope_name(election), role_name(election)))
    return out


def _awaiting_what(
    election: Election,
    *,
    to_answer: bool,
    is_elector: bool,
    nominated: bool,
    consented: bool,
    cast: bool,
) -> str:
    if election.status in (ElectionStatus.NOMINATING, ElectionStatus.CHANGE_ROUND) and to_answer:
        return "answer"
    if (
        election.method != Method.CONSENT
        and election.status == ElectionStatus.NOMINATING
        and timezone.now() < election.nominations_close_at
    ):
        # Anyone in the election's scope may nominate (elections.rules), not only its electors;
        # the elections listed here are those in the viewer's scope.
        return "" if nominated else "nominate"
    if not is_elector:
        return ""
    if election.method == Method.CONSENT:
        if election.status == ElectionStatus.NOMINATING:
            return "" if nominated else "nominate"
        if election.status == ElectionStatus.CONSENT_ROUND:
            return "" if consented else "consent"
        return ""
    if election.status == ElectionStatus.VOTING:
        return "" if cast else "vote"
    return ""


# --- the election's page ------------------------------------------------------------------------


@dataclass(frozen=True)
class NominationRow:
    nomination: Nomination
    nominee: str
    nominated_by: str
    mine_to_answer: bool


@dataclass(frozen=True)
class ConsentRow:
    response: ConsentResponse
    voter: str
    candidate: str


@dataclass(frozen=True)
class TableRow:
    candidate_id: int
    name: str
    cells: list[str | None]  # votes per round; None once no longer continuing
    outcome: str  # "elected", "excluded", "tied" or ""
    outcome_round: int | None


@dataclass(frozen=True)
class ResultView:
    method: str
    elected: list[tuple[int, str]]
    note: str
    quota: str | None
    ballots: int
    rounds: list[dict[str, Any]]
    rows: list[TableRow]
    exhausted: list[str]
    explanations: list[str]
    approvals: list[tuple[str, int, bool]] = field(default_factory=list)
    mandate_problems: list[str] = field(default_factory=list)
    consents: int = 0  # a consent election: how many electors consented


@dataclass(frozen=True)
class OpenBallot:
    voter: str
    choices: list[str]


# A list of people longer than this is shown on the election's page as a count, with a link to
# its own pages (`people_page`): the page stays the same size whatever the electorate.
INLINE_PEOPLE = 40
PEOPLE_PER_PAGE = 100
# Nominations and consents (each with its reasons) shown a page at a time.
RECORD_PER_PAGE = 20
# The nominations of me that wait for my answer, shown with their reasons (one answer holds
# for all of them; the others are in the record).
ANSWER_SHOWN = 3
# A name search offers at most this many people.
SEARCH_LIMIT = 20


@dataclass(frozen=True)
class PeopleList:
    """Some of an election's people: how many, and their names (as this viewer may see them,
    sorted) when there are few enough to show on the election's page."""

    key: str  # "electorate", "voted", "not-voted", "not-consented", "ballots"
    count: int
    names: list[str] | None  # None: too many for the page, see the list's own pages

    @property
    def is_paged(self) -> bool:
        return self.names is None


@dataclass(frozen=True)
class NomineePicker:
    """Whom this viewer may nominate from the page: without a search, everyone eligible when
    they are few; otherwise those whose names match the search (at most SEARCH_LIMIT)."""

    choices: list[tuple[int, str]]  # (id, name), themself first when eligible
    q: str
    searchable: bool  # more eligible people than can be listed: a name search is offered
    more: bool  # the search matched more people than are listed


@dataclass(frozen=True)
class ElectionPage:
    election: Election
    role_name: str
    scope_name: str
    phase: str
    nominations: list[NominationRow]
    earlier_nominations: list[NominationRow]
    candidates: list[tuple[int, str]]
    my_nomination: Nomination | None
    my_nominee: str  # the name my nomination gives, as I may see it
    to_answer: list[NominationRow]  # the first few nominations of me, not yet answered
    to_answer_count: int  # all of them: one answer holds for every one
    my_standing: Nomination | None  # my accepted nomination, while I may still withdraw
    electorate: PeopleList
    is_elector: bool
    is_facilitator: bool  # may I facilitate now
    facilitators: list[str]  # who may facilitate now
    facilitation_by_mandate: bool  # False: no one holds a mandate to, so the opener does
    voted: PeopleList
    not_voted: PeopleList
    my_cast: bool
    proposed: str
    consents: list[ConsentRow]
    earlier_consents: list[ConsentRow]
    not_consented: PeopleList
    result: ResultView | None
    open_ballots: list[OpenBallot]
    open_ballot_count: int
    mandates: list[tuple[Any, str]]  # (mandate, holder's name)
    nominees: NomineePicker | None  # None: no nominating from this page now
    record_page: int  # the page of the record (nominations, consents) shown
    record_pages: int


def phase_text(election: Election) -> str:
    status = election.status
    if status == ElectionStatus.NOMINATING:
        if election.method == Method.CONSENT:
            return _(
                "Nominations round: each elector names the person they think should hold the "
                "role, with reasons. Everyone sees every nomination."
            )
        return _("Nominations are open until %(d)s. Voting follows until %(v)s.") % {
            "d": _when(election.nominations_close_at),
            "v": _when(election.voting_closes_at),
        }
    if status == ElectionStatus.CHANGE_ROUND:
        return _(
            "Change round: having heard everyone's reasons, electors may change their nomination. "
            "Then the facilitator proposes a candidate."
        )
    if status == ElectionStatus.CONSENT_ROUND:
        return _(
            "Consent round: each elector consents or objects, with reasons, to the proposed "
            "candidate. An objection is talked through; the objector may then consent, or the "
            "facilitator proposes someone else."
        )
    if status == ElectionStatus.VOTING:
        return _("Voting is open until %(v)s.") % {"v": _when(election.voting_closes_at)}
    if status == ElectionStatus.CANCELLED:
        return _("This election was cancelled.")
    return _("This election is closed.")


def _when(moment: Any) -> str:
    return f"{timezone.localtime(moment):%d %B %Y, %H:%M}"


def may_nominate_now(election: Election) -> bool:
    """The phases in which the page offers to nominate (or change a nomination)."""
    return election.status in (ElectionStatus.NOMINATING, ElectionStatus.CHANGE_ROUND)


def _people(key: str, ids: Collection[int | None], names: dict[int, str]) -> PeopleList:
    if len(ids) > INLINE_PEOPLE:
        return PeopleList(key, len(ids), None)
    return PeopleList(key, len(ids), sorted(_name(names, pk) for pk in ids))


def _short(ids: Collection[int | None]) -> set[int | None]:
    return set(ids) if len(ids) <= INLINE_PEOPLE else set()


def election_page(
    *,
    user: Any,
    election: Election,
    practitioner: Practitioner,
    q: str = "",
    record_page: int = 1,
) -> ElectionPage:
    """Everything the election's page shows, in a constant number of queries whatever the size
    of the electorate: lists of people longer than INLINE_PEOPLE are counted, not named (their
    own pages name them, `people_page`), nominees are found by a name search, and the record
    (nominations, consents) is shown RECORD_PER_PAGE rows a page (`record_page`)."""
    is_consent = election.method == Method.CONSENT
    closed = election.status == ElectionStatus.CLOSED
    nominations = list(election.nominations.all().order_by("created_at", "pk"))
    responses = (
        list(election.consent_responses.all().order_by("created_at", "pk")) if is_consent else []
    )
    open_ballots_rows: list[Ballot] = []
    if not is_consent and closed and not election.secret:
        # An open election's ballots name their voters: who voted, without BallotCast.
        # In the order cast: sorted below by the names this viewer sees, never by hidden ones.
        open_ballots_rows = list(Ballot.objects.filter(election=election).order_by("pk"))
        voted_ids: set[int | None] = {b.voter_id for b in open_ballots_rows}
    elif not is_consent and election.status != ElectionStatus.NOMINATING:
        # A deleted account's vote is still counted, unattributed: "a former member".
        voted_ids = set(election.casts.values_list("voter_id", flat=True))
    else:
        voted_ids = set()  # no ballots before voting opens, nor in a consent election
    elector_ids = electorate_ids(election)
    facilitating = facilitation(election) if election.is_open else Facilitation(frozenset(), False)
    mandates = (
        list(election.mandates.all().order_by("pk")) if closed else []
    )  # granted when it closed
    # Nominees: searched among the eligible (a name only the electorate may see), one query.
    picker_rows: list[tuple[int, str]] = []
    offer = may_nominate_now(election)
    if offer:
        picker_rows = nominee_choices(election, q=q, limit=SEARCH_LIMIT + 1)

    # The record, a page at a time: every list of it sliced alike.
    current_all = [n for n in nominations if n.is_current]
    earlier_all = [n for n in nominations if not n.is_current]
    consents_all = [r for r in responses if r.is_current and r.candidate_id == election.proposed_id]
    earlier_consents_all = [
        r for r in responses if not (r.is_current and r.candidate_id == election.proposed_id)
    ]
    longest = max(len(current_all), len(earlier_all), len(consents_all), len(earlier_consents_all))
    record_pages = max(1, -(-longest // RECORD_PER_PAGE))
    record_page = min(max(record_page, 1), record_pages)
    window = slice((record_page - 1) * RECORD_PER_PAGE, record_page * RECORD_PER_PAGE)
    mine_to_answer = [
        n
        for n in current_all
        if n.nominee_id == practitioner.pk and n.accepted is None and election.is_open
    ]
    my_nomination = next((n for n in current_all if n.nominated_by_id == practitioner.pk), None)
    if election.ballot_candidates is not None:
        candidate_pks = sorted(int(c) for c in election.ballot_candidates)
    else:  # as nominated_candidate_ids, from the nominations already read
        candidate_pks = sorted(
            {n.nominee_id for n in current_all if n.accepted and n.nominee_id is not None}
        )

    # The people whose names the page shows: named in one go.
    ids: set[int | None] = {practitioner.pk, election.proposed_id, *candidate_pks}
    for n in [*current_all[window], *earlier_all[window], *mine_to_answer[:ANSWER_SHOWN]]:
        ids |= {n.nominee_id, n.nominated_by_id}
    if my_nomination is not None:
        ids.add(my_nomination.nominee_id)
    for r in [*consents_all[window], *earlier_consents_all[window]]:
        ids |= {r.voter_id, r.candidate_id}
    ids |= set(facilitating.ids)
    ids |= set(int(i) for i in (election.result or {}).get("candidates", []))
    ids |= {m.holder_id for m in mandates}
    ids |= {pk for pk, _n in picker_rows}
    consented = {
        r.voter_id
        for r in consents_all
        if r.stance == ConsentStance.CONSENT and r.voter_id is not None
    }
    not_voted_ids = {pk for pk in elector_ids if pk not in voted_ids}
    not_consented_ids = elector_ids - consented
    for group in (elector_ids, voted_ids, not_voted_ids, not_consented_ids):
        ids |= _short(group)
    if len(open_ballots_rows) <= INLINE_PEOPLE:
        for ballot in open_ballots_rows:
            ids |= {ballot.voter_id, *(int(c) for c in ballot.choices)}
    shown = names_with_visibility(user, ids)
    names = {pk: name for pk, (name, _shown) in shown.items()}

    def row(n: Nomination) -> NominationRow:
        return NominationRow(
            n,
            _name(names, n.nominee_id),
            _name(names, n.nominated_by_id),
            n.nominee_id == practitioner.pk and n.accepted is None and election.is_open,
        )

    current = [row(n) for n in current_all[window]]
    earlier = [row(n) for n in earlier_all[window]]
    candidates = sorted(
        ((pk, names[pk]) for pk in candidate_pks if pk in names),
        key=lambda item: (item[1].casefold(), item[0]),
    )
    answering = election.status in (ElectionStatus.NOMINATING, ElectionStatus.CHANGE_ROUND) and (
        election.method == Method.CONSENT or timezone.now() < election.nominations_close_at
    )
    my_standing = next(
        (
            n
            for n in nominations
            if answering and n.is_current and n.nominee_id == practitioner.pk and n.accepted
        ),
        None,
    )
    consents = [
        ConsentRow(r, _name(names, r.voter_id), _name(names, r.candidate_id))
        for r in consents_all[window]
    ]
    earlier_consents = [
        ConsentRow(r, _name(names, r.voter_id), _name(names, r.candidate_id))
        for r in earlier_consents_all[window]
    ]
    # By the voter's name as this viewer sees it (as people_page sorts): a name kept from them
    # reads "a member" and sits among the others so named, in the order cast, so its place in
    # the list tells nothing of the real name.
    open_ballots = (
        _sorted_ballots(open_ballots_rows, names) if len(open_ballots_rows) <= INLINE_PEOPLE else []
    )
    return ElectionPage(
        election=election,
        role_name=role_name(election),
        scope_name=scope_name(election),
        phase=phase_text(election),
        nominations=current,
        earlier_nominations=earlier,
        candidates=candidates,
        my_nomination=my_nomination,
        my_nominee=_name(names, my_nomination.nominee_id) if my_nomination else "",
        to_answer=[row(n) for n in mine_to_answer[:ANSWER_SHOWN]],
        to_answer_count=len(mine_to_answer),
        my_standing=my_standing,
        electorate=_people("electorate", elector_ids, names),
        is_elector=practitioner.pk in elector_ids,
        is_facilitator=practitioner.pk in facilitating.ids,
        facilitators=sorted(_name(names, pk) for pk in facilitating.ids),
        facilitation_by_mandate=facilitating.by_mandate,
        voted=_people("voted", voted_ids, names),
        not_voted=_people("not-voted", not_voted_ids, names),
        my_cast=practitioner.pk in voted_ids,
        proposed=_name(names, election.proposed_id) if election.proposed_id else "",
        consents=consents,
        earlier_consents=earlier_consents,
        not_consented=_people("not-consented", not_consented_ids, names),
        result=result_view(election, names) if closed else None,
        open_ballots=open_ballots,
        open_ballot_count=len(open_ballots_rows),
        mandates=[(m, _name(names, m.holder_id)) for m in mandates],
        nominees=_picker(election, practitioner, picker_rows, shown, q) if offer else None,
        record_page=record_page,
        record_pages=record_pages,
    )


def _picker(
    election: Election,
    practitioner: Practitioner,
    rows: list[tuple[int, str]],
    shown: dict[int, tuple[str, bool]],
    q: str,
) -> NomineePicker:
    """The viewer first (when eligible), then the matches; a match whose name the viewer may
    not see is left out (none should be: only names the electorate sees are searched)."""
    terms = search_terms(q)
    more = len(rows) > SEARCH_LIMIT
    visible = [(pk, name) for pk, name in rows[:SEARCH_LIMIT] if shown.get(pk, ("", False))[1]]
    choices: list[tuple[int, str]] = []
    me_eligible = name_is_visible_to_electorate(election, practitioner)
    if me_eligible:
        choices.append(
            (practitioner.pk, _("%(name)s (yourself)") % {"name": practitioner.display_name})
        )
    choices += [(pk, name) for pk, name in visible if pk != practitioner.pk]
    return NomineePicker(
        choices=choices, q=" ".join(terms), searchable=more or bool(terms), more=more
    )


def nominee_picker(
    *, user: Any, election: Election, practitioner: Practitioner, q: str = ""
) -> NomineePicker | None:
    """The nominee choices alone (for the search as one types): as on the election's page."""
    if not may_nominate_now(election):
        return None
    rows = nominee_choices(election, q=q, limit=SEARCH_LIMIT + 1)
    shown = names_with_visibility(user, [pk for pk, _name in rows])
    return _picker(election, practitioner, rows, shown, q)


def _sorted_ballots(rows: list[Ballot], names: dict[int, str]) -> list[OpenBallot]:
    """An open election's ballots by the voter's name as this viewer sees it (never by a hidden
    one), in the order cast where names are alike."""
    return [
        OpenBallot(voter, [_name(names, int(c)) for c in b.choices])
        for voter, _pk, b in sorted(
            ((_name(names, b.voter_id), b.pk, b) for b in rows),
            key=lambda item: (item[0].casefold(), item[0], item[1]),
        )
    ]


def ballots_page(
    *, user: Any, election: Election, page: int
) -> tuple[list[OpenBallot], int, int] | None:
    """One page of a closed open election's ballots (who chose whom: an open election keeps
    every ballot on the record), with their number and the number of pages. None: this election
    keeps no such record (secret, consent, or not closed)."""
    if (
        election.method == Method.CONSENT
        or election.status != ElectionStatus.CLOSED
        or election.secret
    ):
        return None
    rows = list(Ballot.objects.filter(election=election).order_by("pk"))
    ids = {b.voter_id for b in rows} | {int(c) for b in rows for c in b.choices}
    names = {pk: name for pk, (name, _shown) in names_with_visibility(user, ids).items()}
    ordered = _sorted_ballots(rows, names)
    pages = max(1, -(-len(ordered) // PEOPLE_PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * PEOPLE_PER_PAGE
    return ordered[start : start + PEOPLE_PER_PAGE], len(ordered), pages


def people_page(
    *, user: Any, election: Election, key: str, page: int
) -> tuple[list[str], int, int] | None:
    """One page of one of the election's lists of people (`PeopleList.key`), as this viewer may
    see their names, sorted; with the list's length and the number of pages. None: no such list
    for this election now. The names of the whole list are read (to sort by what the viewer
    sees, so a hidden name's place in the order tells nothing), the page alone is shown."""
    is_consent = election.method == Method.CONSENT
    elector_ids = electorate_ids(election)
    if key == "electorate":
        ids = elector_ids
    elif (
        key in ("voted", "not-voted")
        and not is_consent
        and election.status != ElectionStatus.NOMINATING
    ):
        voted = {pk for pk in election.casts.values_list("voter_id", flat=True) if pk is not None}
        ids = voted if key == "voted" else elector_ids - voted
    elif key == "not-consented" and is_consent and election.proposed_id is not None:
        consented = set(
            election.consent_responses.filter(
                is_current=True,
                candidate_id=election.proposed_id,
                stance=ConsentStance.CONSENT,
                voter__isnull=False,
            ).values_list("voter_id", flat=True)
        )
        ids = elector_ids - consented
    else:
        return None
    names = sorted(name for name, _shown in names_with_visibility(user, ids).values())
    pages = max(1, -(-len(names) // PEOPLE_PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * PEOPLE_PER_PAGE
    return names[start : start + PEOPLE_PER_PAGE], len(names), pages


# --- results ------------------------------------------------------------------------------------


def _join(names: Sequence[str]) -> str:
    return ", ".join(names)


def explain_round(r: dict[str, Any], names: dict[int, str], quota: str | None) -> str:
    who = _join([_name(names, int(c)) for c in r.get("selected", [])])
    n = int(r.get("number", 0))
    reason = r.get("reason")
    if reason == counting.QUOTA:
        text = _("%(who)s reached the quota of %(q)s votes and is elected.") % {
            "who": who,
            "q": quota,
        }
    elif reason == counting.LAST_STANDING:
        text = _("%(who)s: elected, as no more candidates remained than seats to fill.") % {
            "who": who
        }
    elif reason == counting.FEWEST:
        text = _(
            "%(who)s had the fewest votes and is excluded; those ballots pass to each voter's "
            "next choice."
        ) % {"who": who}
    elif reason == counting.FEWEST_TIEBREAK:
        text = _(
            "%(who)s, tied for the fewest votes, had fewer in an earlier round and is excluded."
        ) % {"who": who}
    elif reason == counting.TIE:
        text = _(
            "%(who)s are tied, and no earlier round separates them. No lot is drawn: the count "
            "stops and the seat stays empty."
        ) % {"who": who}
    elif reason == counting.MOST_APPROVALS:
        text = (
            _("%(who)s: elected with the most approvals.") % {"who": who}
            if who
            else _("No one elected.")
        )
    else:
        text = who
    return _("Round %(n)s: %(text)s") % {"n": n, "text": text}


def note_text(result: dict[str, Any], names: dict[int, str]) -> str:
    note = result.get("note", "")
    tied = _join([_name(names, int(c)) for c in result.get("tied", [])])
    if note == counting.NOTE_TIE:
        return _(
            "A tie that no earlier round could break, between %(who)s. Rather than draw lots, the "
            "count leaves the seat empty: hold a new election for it."
        ) % {"who": tied}
    if note == counting.NOTE_NO_BALLOTS:
        return _("No ballots were cast, so no one was elected.")
    if note == counting.NOTE_NO_CANDIDATES:
        return _("No one accepted a nomination, so no one was elected.")
    if note == counting.NOTE_NO_APPROVALS:
        return _("Not enough candidates were approved by anyone to fill every seat.")
    return ""


def result_view(election: Election, names: dict[int, str]) -> ResultView | None:
    result = election.result or {}
    if not result:
        return None
    method = str(result.get("method", ""))
    candidates = [int(c) for c in result.get("candidates", [])]
    elected = [(int(c), _name(names, int(c))) for c in result.get("elected", [])]
    rounds = list(result.get("rounds", []))
    quota = result.get("quota")
    rows: list[TableRow] = []
    exhausted: list[str] = []
    approvals: list[tuple[str, int, bool]] = []
    if method in (counting.IRV, counting.STV):
        elected_ids = {c for c, _n in elected}
        tied_ids = {int(c) for c in result.get("tied", [])}
        for pk in candidates:
            cells = [r.get("votes", {}).get(str(pk)) for r in rounds]
            outcome, at = "", None
            for r in rounds:
                if pk in [int(c) for c in r.get("selected", [])]:
                    outcome = {"elected": "elected", "excluded": "excluded", "tie": "tied"}.get(
                        r.get("action", ""), ""
                    )
                    at = int(r.get("number", 0))
            if pk in tied_ids:
                outcome = "tied"
            if pk in elected_ids:
                outcome = "elected"
            rows.append(TableRow(pk, _name(names, pk), cells, outcome, at))
        exhausted = [str(r.get("exhausted", "0")) for r in rounds]
    elif method == counting.APPROVAL:
        tallies = result.get("tallies", {})
        elected_ids = {c for c, _n in elected}
        approvals = sorted(
            (
                (_name(names, pk), int(tallies.get(str(pk), 0)), pk in elected_ids)
                for pk in candidates
            ),
            key=lambda a: (-a[1], a[0]),
        )
    explanations = (
        [explain_round(r, names, quota) for r in rounds]
        if method in (counting.IRV, counting.STV)
        else []
    )
    # Stored with tokens for the people they name (services.closing's mandate grants): named for this viewer.
    problems = [fill(str(m), names) for m in (result.get("mandate_problems") or {}).values()]
    return ResultView(
        method=method,
        elected=elected,
        note=note_text(result, names),
        quota=quota,
        ballots=int(result.get("ballots", 0) or 0),
        rounds=rounds,
        rows=rows,
        exhausted=exhausted,
        explanations=explanations,
        approvals=approvals,
        mandate_problems=problems,
        consents=int(result.get("consents", 0) or 0),
    )


def result_summary(election: Election, names: dict[int, str]) -> str:
    """One line for notifications and lists."""
    result = election.result or {}
    elected = [_name(names, int(c)) for c in result.get("elected", [])]
    if election.status == ElectionStatus.CANCELLED:
        return _("Cancelled.")
    if not elected:
        return note_text(result, names) or _("No one was elected.")
    line = ngettext("Elected: %(who)s.", "Elected: %(who)s.", len(elected)) % {
        "who": _join(elected)
    }
    extra = note_text(result, names)
    return f"{line} {extra}".strip()


# --- the count ------------------------------------------------------------------------------


def ballot_order(choices: Sequence[int]) -> str:
    """A ballot's sort key: ballots are kept and counted in the order of their content."""
    return json.dumps([int(c) for c in choices])


def stored_ballots(election: Election) -> list[list[int]]:
    """The stored ballots, sorted by their content: storage order cannot matter."""
    ballots = [
        [int(c) for c in choices] for choices in election.ballots.values_list("choices", flat=True)
    ]
    return sorted(ballots, key=ballot_order)


def count(election: Election) -> dict[str, Any]:
    """Count the stored ballots of a ranked or approval election, among the candidates on the
    ballot paper fixed when voting opened (not the nominations as they are now: a nominee who
    deletes their account afterwards is still a candidate the ballots ranked)."""
    candidates = candidate_ids(election)
    ballots = stored_ballots(election)
    if election.method == Method.APPROVAL:
        return counting.count_approval(candidates, ballots, election.seats).as_json()
    return counting.count_ranked(candidates, ballots, election.seats).as_json()


def current_consents(election: Election, candidate_id: int) -> int:
    """The current consents to the candidate, as rows, not voter ids: a deleted account leaves
    its consent on the record, unattributed. Only the last proposed candidate's answers are
    current (proposing another sets the earlier ones aside), so the answers to a candidate whose
    account is gone are still theirs."""
    return (
        election.consent_responses.filter(is_current=True, stance=ConsentStance.CONSENT)
        .filter(Q(candidate_id=candidate_id) | Q(candidate__isnull=True))
        .count()
    )


def recount(election: Election) -> dict[str, Any]:
    """The count again, from the stored ballots (or, for a consent election, the recorded
    consents). `recount_matches` says whether it agrees with the stored result."""
    if election.method == Method.CONSENT:
        stored = election.result or {}
        candidate = (stored.get("elected") or [None])[0]
        consents = current_consents(election, int(candidate)) if candidate is not None else 0
        return {
            "method": Method.CONSENT,
            "elected": [candidate] if candidate is not None and consents else [],
            "consents": consents,
        }
    return count(election)


def recount_matches(election: Election) -> bool:
    again = recount(election)
    stored = election.result or {}
    return all(stored.get(k) == v for k, v in again.items())
