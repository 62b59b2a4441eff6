"""Reads for elections: who may vote, who stands, lists, an election's page and its result table.

Names: a person's name is shown only as far as they let the viewer see it (a federation's
elections reach members of other circles); a candidate must let the electorate see their name to
stand at all (services.nominations checks), so ballots never show "a member".
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from circlework.accounts.models import Practitioner
from circlework.circles.covenant import in_federation_q
from circlework.circles.models import Circle, Federation, Membership
from circlework.circles.roles import ROLES, Method
from circlework.core.names import fill
from circlework.core.visibility import (
    A_MEMBER,
    FEDERATION_STATUSES,
    Visibility,
    audience_for,
    can_see_name,
    name_reach,
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
from circlework.mandates.selectors import live_mandates_granting

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


def electorates_for(elections: Iterable[Election]) -> dict[int, set[int]]:
    """Who may vote (or consent) in each election, now, by election id: the circle's current
    members; every current member of the federation's circles; or the holders of live delegate
    mandates (granting the circle's voice in the federation) who are still members of the circle
    they speak for. The federation's circles are those it has validated (circles.covenant): a
    forming circle's members and delegates have no vote in its elections. Two queries at most,
    however many elections and circles."""
    elections = list(elections)
    out: dict[int, set[int]] = {e.pk: set() for e in elections}
    circle_ids = {
        e.circle_id
        for e in elections
        if e.electorate == Electorate.CIRCLE_MEMBERS and e.circle_id is not None
    }
    federation_ids = {
        _federation_id(e) for e in elections if e.electorate != Electorate.CIRCLE_MEMBERS
    }
    delegate_federations = {
        _federation_id(e) for e in elections if e.electorate == Electorate.DELEGATES
    }
    if not circle_ids and not federation_ids:
        return out
    by_circle: dict[int, set[int]] = defaultdict(set)
    by_federation: dict[int, set[int]] = defaultdict(set)
    for pk, circle_id, federation_id, status in (
        Membership.objects.current()
        .filter(
            Q(circle_id__in=circle_ids)
            | (Q(circle__federation_id__in=federation_ids) & in_federation_q("circle__"))
        )
        .filter(practitioner__isnull=False)
        .values_list("practitioner_id", "circle_id", "circle__federation_id", "circle__status")
    ):
        by_circle[circle_id].add(pk)
        if status in FEDERATION_STATUSES:
            by_federation[federation_id].add(pk)
    delegates: dict[int, set[int]] = defaultdict(set)
    if delegate_federations:
        # Permissions are a JSON list (containment differs between databases): filter in Python.
        for holder_id, circle_id, federation_id, permissions in (
            Mandate.objects.live()
            .filter(
                in_federation_q("circle__"),
                circle__federation_id__in=delegate_federations,
                holder__isnull=False,
            )
            .values_list("holder_id", "circle_id", "circle__federation_id", "permissions")
        ):
            if DELEGATE_PERMISSION in (permissions or []) and holder_id in by_circle[circle_id]:
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
    live = list(live_mandates_granting(FACILITATE, **scope_kwargs(election)))
    if live:
        return Facilitation(frozenset(m.holder_id for m in live if m.holder_id is not None), True)
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


def nominee_choices(election: Election) -> list[tuple[int, str]]:
    """Who can be nominated: members in the election's scope whose names the electorate sees."""
    kw = scope_kwargs(election)
    level = "circle" if election.circle_id is not None else "federation"
    return [
        (p.pk, p.display_name)
        for p in scope_members(**kw).filter(display_name_visibility__in=NAME_LEVELS[level])
    ]


# --- names ------------------------------------------------------------------------------------


def names_with_visibility(user: Any, ids: Iterable[int | None]) -> dict[int, tuple[str, bool]]:
    """Each practitioner's name as far as they let this viewer see it, and whether it is shown
    (otherwise the name is "a member")."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    people = list(
        Practitioner.objects.filter(pk__in=wanted).only(
            "pk", "display_name", "display_name_visibility"
        )
    )
    # The one name rule (core.visibility); a name kept from this viewer reads "a member".
    audience = audience_for(user)
    reach = name_reach(p.pk for p in people)
    return {
        p.pk: (p.display_name, True)
        if can_see_name(audience, p, reach=reach[p.pk])
        else (str(A_MEMBER), False)
        for p in people
    }


def names_for(user: Any, ids: Iterable[int | None]) -> dict[int, str]:
    """Each practitioner's name as far as they let this viewer see it."""
    return {pk: name for pk, (name, _shown) in names_with_visibility(user, ids).items()}


def _name(names: dict[int, str], pk: int | None) -> str:
    return names.get(pk, _(FORMER)) if pk is not None else _(FORMER)


# --- lists --------------------------------------------------------------------------------------


def elections_for(
    *, circle: Circle | None = None, federation: Federation | None = None
) -> tuple[list[Election], list[Election]]:
    """Open elections (closing soonest first) and past ones (latest first)."""
    qs = Election.objects.select_related("circle", "circle__federation", "federation")
    qs = qs.filter(circle=circle) if circle is not None else qs.filter(federation=federation)
    open_ = list(
        qs.exclude(status__in=[ElectionStatus.CLOSED, ElectionStatus.CANCELLED]).order_by(
            "voting_closes_at"
        )
    )
    past = list(
        qs.filter(status__in=[ElectionStatus.CLOSED, ElectionStatus.CANCELLED]).order_by(
            "-closed_at", "-pk"
        )[:50]
    )
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
    audience = audience_for(user if user is not None else practitioner.user)
    circle_ids, federation_ids = audience.circle_ids, audience.federation_ids
    if not circle_ids and not federation_ids:
        return []
    open_elections = list(
        Election.objects.filter(Q(circle_id__in=circle_ids) | Q(federation_id__in=federation_ids))
        .exclude(status__in=[ElectionStatus.CLOSED, ElectionStatus.CANCELLED])
        .select_related("circle", "circle__federation", "federation")
        .order_by("voting_closes_at")
    )
    if not open_elections:
        return []
    # A constant number of queries, however many elections: what concerns me, for all at once.
    election_ids = [e.pk for e in open_elections]
    electorates = electorates_for(open_elections)
    to_answer: set[int] = set()
    nominated: set[int] = set()
    for election_id, nominee_id, nominated_by_id, accepted in Nomination.objects.filter(
        Q(nominee=practitioner) | Q(nominated_by=practitioner),
        election_id__in=election_ids,
        is_current=True,
    ).values_list("election_id", "nominee_id", "nominated_by_id", "accepted"):
        if nominee_id == practitioner.pk and accepted is None:
            to_answer.add(election_id)
        if nominated_by_id == practitioner.pk:
            nominated.add(election_id)
    consented = set(
        ConsentResponse.objects.filter(
            election_id__in=election_ids,
            voter=practitioner,
            is_current=True,
            stance=ConsentStance.CONSENT,
        ).values_list("election_id", "candidate_id")
    )
    cast = set(
        BallotCast.objects.filter(election_id__in=election_ids, voter=practitioner).values_list(
            "election_id", flat=True
        )
    )
    out: list[Awaiting] = []
    for election in open_elections:
        what = _awaiting_what(
            election,
            to_answer=election.pk in to_answer,
            is_elector=practitioner.pk in electorates[election.pk],
            nominated=election.pk in nominated,
            consented=(election.pk, election.proposed_id) in consented,
            cast=election.pk in cast,
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
    to_answer: list[NominationRow]
    my_standing: Nomination | None  # my accepted nomination, while I may still withdraw
    electorate: list[str]
    is_elector: bool
    is_facilitator: bool  # may I facilitate now
    facilitators: list[str]  # who may facilitate now
    facilitation_by_mandate: bool  # False: no one holds a mandate to, so the opener does
    voted: list[str]
    not_voted: list[str]
    my_cast: bool
    proposed: str
    consents: list[ConsentRow]
    earlier_consents: list[ConsentRow]
    not_consented: list[str]
    result: ResultView | None
    open_ballots: list[OpenBallot]
    mandates: list[Any]
    nominee_choices: list[tuple[int, str]]


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


def election_page(*, user: Any, election: Election, practitioner: Practitioner) -> ElectionPage:
    nominations = list(election.nominations.all().order_by("created_at", "pk"))
    responses = list(election.consent_responses.all().order_by("created_at", "pk"))
    casts = list(election.casts.all())
    elector_ids = electorate_ids(election)
    ids: set[int | None] = set(elector_ids)
    for n in nominations:
        ids |= {n.nominee_id, n.nominated_by_id}
    for r in responses:
        ids |= {r.voter_id, r.candidate_id}
    ids |= {c.voter_id for c in casts}
    facilitating = facilitation(election)
    ids |= set(facilitating.ids) | {election.proposed_id}
    ids |= set(int(i) for i in (election.result or {}).get("candidates", []))
    names = names_for(user, ids)

    def row(n: Nomination) -> NominationRow:
        return NominationRow(
            n,
            _name(names, n.nominee_id),
            _name(names, n.nominated_by_id),
            n.nominee_id == practitioner.pk and n.accepted is None and election.is_open,
        )

    current = [row(n) for n in nominations if n.is_current]
    earlier = [row(n) for n in nominations if not n.is_current]
    candidates = election_page_candidates(election, user)
    my_nomination = next(
        (n for n in nominations if n.is_current and n.nominated_by_id == practitioner.pk), None
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
    voted_ids = {c.voter_id for c in casts}
    consents = [
        ConsentRow(r, _name(names, r.voter_id), _name(names, r.candidate_id))
        for r in responses
        if r.is_current and r.candidate_id == election.proposed_id
    ]
    earlier_consents = [
        ConsentRow(r, _name(names, r.voter_id), _name(names, r.candidate_id))
        for r in responses
        if not (r.is_current and r.candidate_id == election.proposed_id)
    ]
    consented = {
        r.response.voter_id for r in consents if r.response.stance == ConsentStance.CONSENT
    }
    open_ballots: list[OpenBallot] = []
    if not election.secret and election.status == ElectionStatus.CLOSED:
        for ballot in Ballot.objects.filter(election=election).order_by("voter__display_name"):
            open_ballots.append(
                OpenBallot(
                    _name(names, ballot.voter_id),
                    [_name(names, int(c)) for c in ballot.choices],
                )
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
        to_answer=[r for r in current if r.mine_to_answer],
        my_standing=my_standing,
        electorate=sorted(_name(names, pk) for pk in elector_ids),
        is_elector=practitioner.pk in elector_ids,
        is_facilitator=practitioner.pk in facilitating.ids,
        facilitators=sorted(_name(names, pk) for pk in facilitating.ids),
        facilitation_by_mandate=facilitating.by_mandate,
        voted=sorted(_name(names, pk) for pk in voted_ids),
        not_voted=sorted(_name(names, pk) for pk in elector_ids - voted_ids),
        my_cast=practitioner.pk in voted_ids,
        proposed=_name(names, election.proposed_id) if election.proposed_id else "",
        consents=consents,
        earlier_consents=earlier_consents,
        not_consented=sorted(_name(names, pk) for pk in elector_ids - consented),
        result=result_view(election, names) if election.status == ElectionStatus.CLOSED else None,
        open_ballots=open_ballots,
        mandates=list(election.mandates.select_related("holder").order_by("pk")),
        nominee_choices=nominee_choices(election) if election.is_open else [],
    )


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
