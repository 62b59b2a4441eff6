"""Writes for elections: open, nominate, answer, the consent rounds, ballots, the count, cancel.

Each is atomic, checked by the rules, validated, audited and tells the people concerned. The
election row is locked for every change to it, so a ballot, a consent or the close cannot race.
Secret ballots: the `Ballot` row carries the choices and nothing that ties it to its voter; the
`BallotCast` row (one per voter, a database constraint) records who voted, and each cast rewrites
the election's ballots in content order so that storage order ties no ballot to a voter (see
models.Ballot for what this secrecy holds against). Audit events name who voted, never what they
chose. The count (counting.py, stvpoll) is stored with its rounds and can be recomputed by
`recount` from the stored ballots and the ballot paper fixed when voting opened. Facilitating is
asked at each act (`require_facilitator`): a live mandate, or the opener while no one holds one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from circlework.accounts.models import Practitioner
from circlework.circles.covenant import OfficerElectorate, federation_rules
from circlework.circles.models import Circle, Federation
from circlework.circles.roles import Method, Role, too_many_seats
from circlework.core import audit, names
from circlework.core.dates import add_months
from circlework.core.errors import ApplicationError, Conflict, InvalidInput, NotAllowed
from circlework.core.permissions import allowed, require
from circlework.core.services import validate

# The tasks call the use cases and the use cases queue the tasks: a module import on both sides
# (its names read at call time), so either may be imported first.
from circlework.elections import counting, selectors, tasks
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
from circlework.mandates.selectors import lapsed_mandate, live_mandates_granting
from circlework.mandates.services import lapsed_message, mandate_grant, role_for, term_problems
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import notify

MAX_SEATS = 12
FACILITATE = "elections.facilitate"


# --- helpers ------------------------------------------------------------------------------------


def _lock(election: Election) -> Election:
    return (
        Election.objects.select_for_update(of=("self",), no_key=True)
        .select_related("circle", "circle__federation", "federation")
        .get(pk=election.pk)
    )


def _when(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%d %B %Y, %H:%M}"


def _day(d: date) -> str:
    return f"{d:%d %B %Y}"


def _role(election: Election) -> Role:
    return role_for(election.role, **selectors.scope_kwargs(election))


def _audit(
    election: Election,
    *,
    actor: Practitioner | None,
    verb: str,
    summary: str,
    data: dict[str, Any] | None = None,
    target: Any = None,
) -> None:
    audit.record(
        actor=actor,
        verb=verb,
        target=target if target is not None else election,
        circle=election.circle,
        federation=selectors.federation_of(election),
        summary=summary,
        data=data,
    )


def _tell(
    election: Election,
    people: Iterable[Practitioner],
    *,
    title: str,
    body: str = "",
    exclude: int | None = None,
) -> None:
    for person in people:
        if person.pk != exclude:
            notify(
                recipient=person,
                federation=election.federation,
                circle=election.circle,
                kind=NotificationKind.ELECTION,
                title=title,
                body=body,
                url=election.get_absolute_url(),
            )


def _title(election: Election, text: str) -> str:
    return names.text(
        _("%(role)s in %(scope)s: %(text)s"),
        role=selectors.role_name(election),
        scope=selectors.scope_name(election),
        text=text,  # a stored text (names.text) stays one; any other string is escaped
    )


def _schedule(election: Election) -> None:
    tasks.schedule_for(election)


def _field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, fields={field: [message]})


def require_facilitator(*, actor: Practitioner, election: Election) -> None:
    """Facilitating is asked at each act, not fixed when the election opened: a live mandate
    granting "elections.facilitate" in the election's scope, or, while no one holds one there,
    having opened the election. A facilitator whose mandate has ended (or who resigned) is told
    so, with the date; nothing is changed."""
    if allowed(FACILITATE, actor.user, election):
        return
    if not allowed("elections.view_election", actor.user, election):
        raise NotAllowed()
    lapsed = lapsed_mandate(actor, FACILITATE, **selectors.scope_kwargs(election))
    if lapsed is not None:
        raise NotAllowed(lapsed_message(lapsed))
    raise NotAllowed(
        _(
            "Only the facilitator may do this: whoever holds a mandate to facilitate elections "
            "here, or, while no one does, the member who opened the election."
        )
    )


# --- opening ------------------------------------------------------------------------------------


@transaction.atomic
def election_open(
    *,
    actor: Practitioner,
    role: str,
    circle: Circle | None = None,
    federation: Federation | None = None,
    seats: int = 1,
    method: str | None = None,
    secret: bool | None = None,
    nominations_close_at: datetime,
    voting_closes_at: datetime,
    term_starts_on: date | None = None,
    term_ends_on: date | None = None,
    handover_plan: str = "",
    description: str = "",
) -> Election:
    """Open an election to fill a role in a circle or a federation. The electorate is the
    circle's members, or as the federation's covenant says: its circles' delegates or all
    members. Method, term and secrecy default to what the role (as agreed) says."""
    if (circle is None) == (federation is None):
        raise InvalidInput(_("An election belongs to a circle or to a federation."))
    if circle is not None:
        require("elections.open_circle_election", actor, circle)
        Circle.objects.select_for_update(no_key=True).filter(
            pk=circle.pk
        ).first()  # one opening at a time
    else:
        assert federation is not None
        require("elections.open_federation_election", actor, federation)
        Federation.objects.select_for_update(no_key=True).filter(pk=federation.pk).first()
    the_role = role_for(role, circle=circle, federation=federation)
    chosen = Method.parse(method) if method else the_role.method
    if chosen is None:
        raise _field_error(
            "method",
            _("Choose a consent election, ranked ballots, instant runoff or approval voting."),
        )
    method = chosen
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 1:
        raise _field_error("seats", _("An election fills at least one seat."))
    if seats > MAX_SEATS:
        raise _field_error("seats", _("An election fills at most %(n)s seats.") % {"n": MAX_SEATS})
    too_many = too_many_seats(the_role, seats)
    if too_many is not None:
        raise _field_error(
            "seats",
            too_many
            + " "
            + ngettext(
                "Open the election for %(n)s seat, or change the role's seats by agreement first.",
                "Open the election for at most %(n)s seats, or change the role's seats by "
                "agreement first.",
                the_role.seats,
            )
            % {"n": the_role.seats},
        )
    if method == Method.CONSENT and seats != 1:
        raise _field_error("seats", _("A consent election fills one seat at a time."))
    if method == Method.IRV and seats != 1:
        raise _field_error(
            "seats",
            _(
                "Instant runoff fills one seat. For more seats, choose ranked ballots (single "
                "transferable vote)."
            ),
        )
    # Consent elections are open by nature: everyone's nomination and consent is on the record.
    secret = False if method == Method.CONSENT else (True if secret is None else bool(secret))
    now = timezone.now()
    if timezone.is_naive(nominations_close_at) or timezone.is_naive(voting_closes_at):
        raise InvalidInput(_("Give closing times with their time zone."))
    if nominations_close_at <= now:
        raise _field_error(
            "nominations_close_at", _("Nominations must close in the future, not in the past.")
        )
    if voting_closes_at <= nominations_close_at:
        raise _field_error(
            "voting_closes_at",
            _("Voting must close after nominations close: electors need to know who stands."),
        )
    today = timezone.localdate()
    starts = term_starts_on or timezone.localdate(voting_closes_at)
    if starts < today:
        raise _field_error("term_starts_on", _("The term cannot start in the past."))
    try:
        longest = add_months(starts, the_role.term_months)
    except ValueError:  # past year 9999
        field = "term_starts_on" if term_starts_on else "voting_closes_at"
        raise _field_error(field, _("That is too far ahead for a term to follow.")) from None
    ends = term_ends_on or longest
    if ends <= starts:
        raise _field_error("term_ends_on", _("The term must end after it starts."))
    if ends > longest:
        raise _field_error(
            "term_ends_on",
            _(
                "A %(role)s's term is at most %(n)s months, as agreed: from %(s)s it must end "
                "by %(e)s."
            )
            % {
                "role": the_role.name,
                "n": the_role.term_months,
                "s": _day(starts),
                "e": _day(longest),
            },
        )
    if ends <= timezone.localdate(voting_closes_at):
        raise _field_error(
            "term_ends_on", _("The term would be over before voting closes; end it later.")
        )
    if selectors.open_election_for(the_role.slug, circle=circle, federation=federation):
        raise Conflict(
            _("An election for %(role)s is already open here; finish or cancel it first.")
            % {"role": the_role.name}
        )
    if circle is not None:
        electorate = Electorate.CIRCLE_MEMBERS
        facilitators = live_mandates_granting(FACILITATE, circle=circle)
    else:
        assert federation is not None
        rules = federation_rules(federation)
        electorate = (
            Electorate.DELEGATES
            if rules.officer_electorate == OfficerElectorate.DELEGATES
            else Electorate.FEDERATION_MEMBERS
        )
        facilitators = live_mandates_granting(FACILITATE, federation=federation)
    holder = next((m.holder for m in facilitators.order_by("starts_on", "pk") if m.holder), None)
    election = Election(
        role=the_role.slug,
        circle=circle,
        federation=federation,
        method=method,
        electorate=electorate,
        seats=seats,
        secret=secret,
        opened_by=actor,
        facilitator=holder or actor,
        description=(description or "").strip(),
        nominations_close_at=nominations_close_at,
        voting_closes_at=voting_closes_at,
        term_starts_on=starts,
        term_ends_on=ends,
        handover_plan=(handover_plan or "").strip(),
    )
    validate(election)
    voters = selectors.electors(election)
    if not voters:
        if electorate == Electorate.DELEGATES:
            raise Conflict(
                _(
                    "The covenant says the circles' delegates elect federation officers, and no "
                    "circle has a delegate with a current mandate yet."
                )
            )
        raise Conflict(_("There is no one to vote in this election."))
    election.save()
    scope = circle.name if circle is not None else federation.name  # type: ignore[union-attr]
    _audit(
        election,
        actor=actor,
        verb="election.open",
        summary=names.text(
            _("%(who)s opened an election for %(role)s in %(scope)s"),
            who=names.person(actor),
            role=the_role.name,
            scope=scope,
        ),
        data={
            "role": the_role.slug,
            "method": method,
            "seats": seats,
            "secret": secret,
            "electorate": electorate,
            "term": [starts.isoformat(), ends.isoformat()],
        },
    )
    if method == Method.CONSENT:
        body = _(
            "A consent election: give your nomination, with your reasons, on the election's page."
        )
    else:
        body = _("Nominations close %(n)s; voting closes %(v)s. Term: %(s)s to %(e)s.") % {
            "n": _when(nominations_close_at),
            "v": _when(voting_closes_at),
            "s": _day(starts),
            "e": _day(ends),
        }
    _tell(
        election, voters, title=_title(election, _("nominations open")), body=body, exclude=actor.pk
    )
    _schedule(election)
    return election


# --- nominations --------------------------------------------------------------------------------


def _check_nominee(election: Election, nominee: Practitioner) -> None:
    """Eligible: a member in the election's scope, whose name the electorate may see, and whom
    the role's term rules allow (length, consecutive terms)."""
    if not selectors.is_in_scope(election, nominee):
        msg = (
            _("Only a current member of %(c)s can hold this role.")
            if election.circle_id is not None
            else _("Only a current member of a circle in %(c)s can hold this role.")
        ) % {"c": selectors.scope_name(election)}
        raise _field_error("nominee", msg)
    if not selectors.name_is_visible_to_electorate(election, nominee):
        raise _field_error(
            "nominee",
            _(
                "This person keeps their name from some of the electors. To stand, they would "
                "first let the electorate see their name (in their profile)."
            ),
        )
    problems = term_problems(
        holder=nominee,
        role=_role(election),
        starts_on=election.term_starts_on,
        ends_on=election.term_ends_on,
        **selectors.scope_kwargs(election),
    )
    if problems:
        raise InvalidInput(problems[0], fields={"nominee": problems})


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise _field_error("reason", _("Give your reasons: everyone reads them."))
    return text


def _known_answer(election: Election, nominee: Practitioner) -> bool | None:
    return (
        election.nominations.filter(nominee=nominee, is_current=True, accepted__isnull=False)
        .order_by("-created_at", "-pk")
        .values_list("accepted", flat=True)
        .first()
    )


def _new_nomination(
    election: Election,
    *,
    actor: Practitioner,
    nominee: Practitioner,
    reason: str,
    in_change_round: bool = False,
) -> Nomination:
    accepted: bool | None = True if nominee.pk == actor.pk else _known_answer(election, nominee)
    if accepted is False and nominee.pk != actor.pk:
        accepted = None  # asked again by someone new
    nomination = Nomination(
        election=election,
        nominee=nominee,
        nominated_by=actor,
        reason=reason,
        accepted=accepted,
        in_change_round=in_change_round,
    )
    validate(nomination, exclude=["election", "accepted"])  # None: not yet answered
    nomination.save()
    if nominee.pk != actor.pk:
        notify(
            recipient=nominee,
            federation=election.federation,
            circle=election.circle,
            kind=NotificationKind.ELECTION,
            title=_title(election, _("you are nominated")),
            body=names.text(
                _(
                    "%(who)s nominated you: %(why)s\n\nWill you stand? Answer on the election's page."
                ),
                who=names.person(actor),
                why=reason,
            ),
            url=election.get_absolute_url(),
        )
    return nomination


def _ensure_nominating(election: Election) -> None:
    if election.status != ElectionStatus.NOMINATING:
        raise Conflict(_("Nominations are closed in this election."))
    if election.method != Method.CONSENT and timezone.now() >= election.nominations_close_at:
        raise Conflict(
            _("Nominations closed at %(d)s.") % {"d": _when(election.nominations_close_at)}
        )


@transaction.atomic
def nomination_add(
    *, actor: Practitioner, election: Election, nominee: Practitioner, reason: str
) -> Nomination:
    """Nominate yourself or another, with reasons. In a consent election each elector gives one
    nomination (they may change it in the change round)."""
    require("elections.nominate", actor, election)
    election = _lock(election)
    _ensure_nominating(election)
    reason = _reason(reason)
    mine = election.nominations.filter(nominated_by=actor, is_current=True)
    if election.method == Method.CONSENT:
        if actor.pk not in selectors.electorate_ids(election):
            raise NotAllowed(_("Only the electors give nominations in a consent election."))
        if mine.exists():
            raise Conflict(
                _(
                    "You have already given your nomination. You may change it in the change "
                    "round, after everyone has heard each other's reasons."
                )
            )
    elif mine.filter(nominee=nominee).exists():
        raise Conflict(_("You have already nominated this person in this election."))
    _check_nominee(election, nominee)
    nomination = _new_nomination(election, actor=actor, nominee=nominee, reason=reason)
    _audit(
        election,
        actor=actor,
        verb="election.nominate",
        target=nomination,
        summary=names.text(
            _("%(a)s nominated %(b)s for %(role)s"),
            a=names.person(actor),
            b=names.person(nominee),
            role=selectors.role_name(election),
        ),
        data={"election": election.pk, "nominee": nominee.pk},
    )
    return nomination


@transaction.atomic
def nomination_answer(*, actor: Practitioner, nomination: Nomination, accept: bool) -> Nomination:
    """The nominee says whether they will stand. Their answer holds for every nomination of
    them in this election; they may change it while nominations are open."""
    require("elections.answer_nomination", actor, nomination)
    election = _lock(nomination.election)
    if election.status not in (ElectionStatus.NOMINATING, ElectionStatus.CHANGE_ROUND):
        raise Conflict(_("Nominations are closed: the answer can no longer be changed."))
    if election.method != Method.CONSENT and timezone.now() >= election.nominations_close_at:
        raise Conflict(
            _("Nominations closed at %(d)s.") % {"d": _when(election.nominations_close_at)}
        )
    if not nomination.is_current:
        raise Conflict(_("This nomination was changed; answer the current one."))
    if accept:
        _check_nominee(election, actor)
    election.nominations.filter(nominee=actor, is_current=True).update(accepted=bool(accept))
    nomination.refresh_from_db()
    _audit(
        election,
        actor=actor,
        verb="election.nomination_accept" if accept else "election.nomination_decline",
        target=nomination,
        summary=names.text(
            _("%(who)s accepted to stand for %(role)s")
            if accept
            else _("%(who)s declined to stand for %(role)s"),
            who=names.person(actor),
            role=selectors.role_name(election),
        ),
        data={"election": election.pk},
    )
    return nomination


# --- consent elections --------------------------------------------------------------------------


def _ensure_consent(election: Election) -> None:
    if election.method != Method.CONSENT:
        raise Conflict(_("This is not a consent election."))


@transaction.atomic
def election_change_round(*, actor: Practitioner, election: Election) -> Election:
    """The facilitator closes the nominations round: electors may now change their nomination."""
    require_facilitator(actor=actor, election=election)
    election = _lock(election)
    _ensure_consent(election)
    if election.status != ElectionStatus.NOMINATING:
        raise Conflict(_("The nominations round is already over."))
    if not election.nominations.filter(is_current=True).exists():
        raise Conflict(_("No one has been nominated yet."))
    election.status = ElectionStatus.CHANGE_ROUND
    election.save(update_fields=["status", "updated_at"])
    _audit(
        election,
        actor=actor,
        verb="election.change_round",
        summary=names.text(_("%(who)s opened the change round"), who=names.person(actor)),
    )
    _tell(
        election,
        selectors.electors(election),
        title=_title(election, _("change round")),
        body=_("Having read everyone's reasons, you may change your nomination."),
        exclude=actor.pk,
    )
    return election


@transaction.atomic
def nomination_change(
    *, actor: Practitioner, election: Election, nominee: Practitioner, reason: str
) -> Nomination:
    """In the change round an elector names someone else (or gives a first nomination). The
    earlier nomination stays on the record, no longer current."""
    require("elections.vote", actor, election)
    election = _lock(election)
    _ensure_consent(election)
    if election.status != ElectionStatus.CHANGE_ROUND:
        raise Conflict(_("Nominations can be changed only in the change round."))
    reason = _reason(reason)
    previous = election.nominations.filter(nominated_by=actor, is_current=True).first()
    if previous is not None and previous.nominee_id == nominee.pk:
        raise Conflict(_("Your nomination already names this person; to keep it, do nothing."))
    _check_nominee(election, nominee)
    if previous is not None:
        previous.is_current = False
        previous.save(update_fields=["is_current"])
    nomination = _new_nomination(
        election, actor=actor, nominee=nominee, reason=reason, in_change_round=True
    )
    _audit(
        election,
        actor=actor,
        verb="election.nomination_change",
        target=nomination,
        summary=names.text(
            _("%(a)s changed their nomination to %(b)s"),
            a=names.person(actor),
            b=names.person(nominee),
        ),
        data={
            "election": election.pk,
            "nominee": nominee.pk,
            "was": previous.nominee_id if previous else None,
        },
    )
    return nomination


@transaction.atomic
def election_propose(
    *, actor: Practitioner, election: Election, candidate: Practitioner
) -> Election:
    """The facilitator proposes a candidate (after the change round, or instead of one who drew
    an objection). Earlier consents and objections stay on the record, no longer current."""
    require_facilitator(actor=actor, election=election)
    election = _lock(election)
    _ensure_consent(election)
    if election.status not in (ElectionStatus.CHANGE_ROUND, ElectionStatus.CONSENT_ROUND):
        raise Conflict(_("A candidate is proposed after the change round."))
    if election.proposed_id == candidate.pk and election.status == ElectionStatus.CONSENT_ROUND:
        raise Conflict(_("This candidate is already proposed."))
    current = election.nominations.filter(nominee=candidate, is_current=True)
    if not current.exists():
        raise _field_error("candidate", _("Propose someone who has been nominated."))
    if not current.filter(accepted=True).exists():
        raise _field_error("candidate", _("This nominee has not accepted to stand."))
    _check_nominee(election, candidate)
    election.consent_responses.filter(is_current=True).update(is_current=False)
    election.proposed = candidate
    election.status = ElectionStatus.CONSENT_ROUND
    election.save(update_fields=["proposed", "status", "updated_at"])
    _audit(
        election,
        actor=actor,
        verb="election.propose",
        summary=names.text(
            _("%(a)s proposed %(b)s for %(role)s"),
            a=names.person(actor),
            b=names.person(candidate),
            role=selectors.role_name(election),
        ),
        data={"candidate": candidate.pk},
    )
    _tell(
        election,
        selectors.electors(election),
        title=_title(election, names.text(_("%(who)s is proposed"), who=names.person(candidate))),
        body=_("Consent, or object with your reasons, on the election's page."),
        exclude=actor.pk,
    )
    return election


@transaction.atomic
def consent_respond(
    *, actor: Practitioner, election: Election, stance: str, reason: str = ""
) -> ConsentResponse:
    """An elector consents to the proposed candidate, or objects with reasons. A later answer
    replaces the earlier (kept, no longer current). When every elector consents, the candidate
    is elected and the mandate granted."""
    require("elections.vote", actor, election)
    election = _lock(election)
    _ensure_consent(election)
    if election.status != ElectionStatus.CONSENT_ROUND or election.proposed is None:
        raise Conflict(_("No candidate is proposed at the moment."))
    if stance not in ConsentStance.values:
        raise _field_error("stance", _("Consent or object."))
    reason = (reason or "").strip()
    if stance == ConsentStance.OBJECT and not reason:
        raise _field_error(
            "reason", _("Give your reasons for objecting, so that they can be talked through.")
        )
    candidate = election.proposed
    election.consent_responses.filter(voter=actor, candidate=candidate, is_current=True).update(
        is_current=False
    )
    response = ConsentResponse(
        election=election, candidate=candidate, voter=actor, stance=stance, reason=reason
    )
    validate(response, exclude=["election"])
    response.save()
    _audit(
        election,
        actor=actor,
        verb="election.consent" if stance == ConsentStance.CONSENT else "election.object",
        target=response,
        summary=names.text(
            _("%(a)s consents to %(b)s")
            if stance == ConsentStance.CONSENT
            else _("%(a)s objects to %(b)s"),
            a=names.person(actor),
            b=names.person(candidate),
        ),
        data={"election": election.pk, "candidate": candidate.pk},
    )
    if stance == ConsentStance.OBJECT:  # to whoever may facilitate now
        _tell(
            election,
            Practitioner.objects.filter(pk__in=selectors.facilitation(election).ids).order_by("pk"),
            title=_title(election, _("an objection to talk through")),
            body=reason,
            exclude=actor.pk,
        )
    voters = selectors.electorate_ids(election)
    consented = set(
        election.consent_responses.filter(
            candidate=candidate, is_current=True, stance=ConsentStance.CONSENT
        ).values_list("voter_id", flat=True)
    )
    if voters and voters <= consented:
        _finish(
            election,
            {
                "method": Method.CONSENT,
                "seats": 1,
                "candidates": [candidate.pk],
                "elected": [candidate.pk],
                "consents": _consents(election, candidate.pk),
                "complete": True,
                "note": "",
            },
        )
    return response


# --- ballots ------------------------------------------------------------------------------------


def _ballot_choices(election: Election, choices: Any) -> list[int]:
    """Check a ballot against the method and the candidates; return it as stored."""
    ranked = election.method in Method.RANKED
    field = "ranking" if ranked else "approved"
    if not isinstance(choices, list | tuple | set | frozenset):
        raise _field_error(field, _("Choose among the candidates."))
    items = list(choices)
    # True == 1 in Python: insist on real ids before comparing.
    if any(isinstance(c, bool) or not isinstance(c, int) for c in items):
        raise _field_error(field, _("Choose among the candidates."))
    known = set(selectors.candidate_ids(election))
    if not items:
        msg = (
            _("Rank at least your first choice.")
            if ranked
            else _("Approve at least one candidate.")
        )
        raise _field_error(field, msg)
    if not set(items) <= known:
        raise _field_error(field, _("Choose only among this election's candidates."))
    if ranked:
        if len(set(items)) != len(items):
            raise _field_error(field, _("Rank each candidate at most once."))
        return items
    return sorted(set(items))


@transaction.atomic
def ballot_cast(*, actor: Practitioner, election: Election, choices: Sequence[int]) -> BallotCast:
    """Cast a ballot: ranked, candidate ids in order of preference (at least one, no repeats);
    approval, the ids approved. Once only: a ballot cannot be changed. In a secret election
    the ballot does not record its voter; `BallotCast` records that they voted."""
    if not allowed("elections.view_election", actor.user, election):
        raise NotAllowed()
    if not allowed("elections.vote", actor.user, election):
        raise NotAllowed(_electorate_refusal(election))
    election = _lock(election)
    if election.method == Method.CONSENT:
        raise Conflict(_("This is a consent election: consent or object instead of voting."))
    now = timezone.now()
    if election.status == ElectionStatus.NOMINATING:
        raise Conflict(
            _("Voting has not started: nominations close at %(d)s.")
            % {"d": _when(election.nominations_close_at)}
        )
    if election.status != ElectionStatus.VOTING or now >= election.voting_closes_at:
        raise Conflict(
            _("Voting closed at %(d)s; ballots are no longer accepted.")
            % {"d": _when(election.voting_closes_at)}
        )
    if BallotCast.objects.filter(election=election, voter=actor).exists():
        raise Conflict(_("You have already voted in this election. A ballot cannot be changed."))
    stored = _ballot_choices(election, choices)
    try:
        with transaction.atomic():
            cast = BallotCast.objects.create(election=election, voter=actor)
    except IntegrityError as exc:  # a second ballot racing the first
        raise Conflict(
            _("You have already voted in this election. A ballot cannot be changed.")
        ) from exc
    Ballot.objects.create(
        election=election, choices=stored, voter=None if election.secret else actor
    )
    if election.secret:
        _reshuffle_secret_ballots(election)
    _audit(
        election,
        actor=actor,
        verb="election.ballot_cast",
        target=cast,
        summary=names.text(_("%(who)s voted"), who=names.person(actor)),
        data={"election": election.pk}
        if election.secret
        else {"election": election.pk, "choices": stored},
    )
    return cast


def _ballot_order(choices: Sequence[int]) -> str:
    return json.dumps([int(c) for c in choices])


def _reshuffle_secret_ballots(election: Election) -> None:
    """Rewrite all of a secret election's ballots in the order of their content, with new random
    ids, in the casting transaction (the election row is locked). Otherwise the order rows are
    stored in (SQLite's rowid, PostgreSQL's physical order) and the transaction that wrote each
    (PostgreSQL's xmin, shared with its `BallotCast`) would tie a ballot to its voter. After this
    every ballot sits in content order and bears the latest cast's transaction. A rewrite per
    cast costs a few hundred rows at most: electorates are circles and federations."""
    ballots = sorted(
        (list(choices) for choices in election.ballots.values_list("choices", flat=True)),
        key=_ballot_order,
    )
    election.ballots.all().delete()
    Ballot.objects.bulk_create(
        [Ballot(id=uuid.uuid4(), election=election, choices=c, voter=None) for c in ballots]
    )


def _electorate_refusal(election: Election) -> str:
    if election.electorate == Electorate.DELEGATES:
        return _("Only the circles' delegates vote in this election, as the covenant says.")
    if election.electorate == Electorate.CIRCLE_MEMBERS:
        return _("Only the circle's current members vote in this election.")
    return _("Only current members of the federation's validated circles vote in this election.")


# --- the count ----------------------------------------------------------------------------------


def _stored_ballots(election: Election) -> list[list[int]]:
    """The stored ballots, sorted by their content: storage order cannot matter."""
    ballots = [
        [int(c) for c in choices] for choices in election.ballots.values_list("choices", flat=True)
    ]
    return sorted(ballots, key=_ballot_order)


def count(election: Election) -> dict[str, Any]:
    """Count the stored ballots of a ranked or approval election, among the candidates on the
    ballot paper fixed when voting opened (not the nominations as they are now: a nominee who
    deletes their account afterwards is still a candidate the ballots ranked)."""
    candidates = selectors.candidate_ids(election)
    ballots = _stored_ballots(election)
    if election.method == Method.APPROVAL:
        return counting.count_approval(candidates, ballots, election.seats).as_json()
    return counting.count_ranked(candidates, ballots, election.seats).as_json()


def _consents(election: Election, candidate_id: int) -> int:
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
        consents = _consents(election, int(candidate)) if candidate is not None else 0
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


def _grant_mandates(election: Election, elected: Sequence[int]) -> dict[str, str]:
    """A mandate for each person elected, with the announced term and handover plan. Problems
    (someone left the circle meanwhile…) are returned, by practitioner id, for the record."""
    problems: dict[str, str] = {}
    starts = max(election.term_starts_on, timezone.localdate())
    for pk in elected:
        holder = Practitioner.objects.filter(pk=pk).first()
        if holder is None:
            problems[str(pk)] = _("The person elected no longer has an account.")
            continue
        try:
            mandate_grant(
                role=election.role,
                holder=holder,
                starts_on=starts,
                ends_on=election.term_ends_on,
                handover_plan=election.handover_plan,
                election=election,
                actor=None,
                **selectors.scope_kwargs(election),
            )
        except ApplicationError as exc:
            # Kept in the result and shown by ResultView: named when read, by the name rule.
            problems[str(pk)] = names.text(
                _("%(who)s: no mandate could be granted. %(why)s"),
                who=names.person(holder),
                why=exc.message,
            )
    return problems


def _finish(election: Election, result: dict[str, Any]) -> None:
    """Store the result, close, grant the mandates, tell the electorate. Election locked."""
    election.status = ElectionStatus.CLOSED
    election.closed_at = timezone.now()
    problems = _grant_mandates(election, [int(c) for c in result.get("elected", [])])
    if problems:
        result = {**result, "mandate_problems": problems}
    election.result = result
    election.save(update_fields=["status", "closed_at", "result", "updated_at"])
    # Tokens for the candidates (named when read), so the stored summary carries no name; the
    # rest of the line is the fixed wording of result_summary.
    tokens = {int(c): str(names.people([int(c)])) for c in result.get("candidates", [])}
    summary = names.Stored(selectors.result_summary(election, tokens))
    _audit(
        election,
        actor=None,
        verb="election.close",
        summary=names.text(
            _("Election for %(role)s closed. %(s)s"),
            role=selectors.role_name(election),
            s=summary,
        ),
        data={"elected": result.get("elected", []), "note": result.get("note", "")},
    )
    _tell(
        election,
        selectors.electors(election),
        title=_title(election, _("the result")),
        body=summary,
    )


def _start_voting(election: Election) -> None:
    """Fix the ballot paper (the count uses it, never the nominations again) and open voting."""
    election.ballot_candidates = selectors.nominated_candidate_ids(election)
    election.save(update_fields=["ballot_candidates", "updated_at"])
    if not election.ballot_candidates:
        _finish(election, count(election))
        return
    election.status = ElectionStatus.VOTING
    election.save(update_fields=["status", "updated_at"])
    candidates = names.people(
        Practitioner.objects.filter(pk__in=selectors.candidate_ids(election))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    _audit(
        election,
        actor=None,
        verb="election.voting_open",
        summary=names.text(
            _("Voting opened for %(role)s; candidates: %(c)s"),
            role=selectors.role_name(election),
            c=candidates,
        ),
    )
    _tell(
        election,
        selectors.electors(election),
        title=_title(election, _("voting is open")),
        body=names.text(
            _("Candidates: %(c)s. Voting closes %(d)s."),
            c=candidates,
            d=_when(election.voting_closes_at),
        ),
    )


@transaction.atomic
def election_advance(*, election: Election) -> str | None:
    """The worker's step at a closing time (idempotent): when nominations close a ballot
    election moves to voting; when voting closes it is counted and closed. Returns what it did
    ("voting", "closed") or None when nothing was due."""
    election = _lock(election)
    if election.method == Method.CONSENT or not election.is_open:
        return None
    now = timezone.now()
    did = None
    if election.status == ElectionStatus.NOMINATING and now >= election.nominations_close_at:
        _start_voting(election)
        did = "closed" if election.status == ElectionStatus.CLOSED else "voting"
    if election.status == ElectionStatus.VOTING and now >= election.voting_closes_at:
        _finish(election, count(election))
        did = "closed"
    return did


@transaction.atomic
def election_cancel(*, actor: Practitioner, election: Election, reason: str) -> Election:
    """The facilitator cancels an open election, with reasons (a new one may then be opened)."""
    require_facilitator(actor=actor, election=election)
    election = _lock(election)
    if not election.is_open:
        raise Conflict(_("This election is already over."))
    text = (reason or "").strip()
    if not text:
        raise _field_error("reason", _("Say why the election is cancelled."))
    election.status = ElectionStatus.CANCELLED
    election.closed_at = timezone.now()
    election.result = {"method": election.method, "elected": [], "cancelled": text[:1000]}
    election.save(update_fields=["status", "closed_at", "result", "updated_at"])
    _audit(
        election,
        actor=actor,
        verb="election.cancel",
        summary=names.text(
            _("%(who)s cancelled the election for %(role)s"),
            who=names.person(actor),
            role=selectors.role_name(election),
        ),
        data={"reason": text[:1000]},
    )
    _tell(
        election,
        selectors.electors(election),
        title=_title(election, _("cancelled")),
        body=text,
        exclude=actor.pk,
    )
    return election
