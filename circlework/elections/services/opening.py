"""Opening an election: the role, method, seats, secrecy, closing times and term, checked against
what the role (as agreed) allows; the electorate is told and the deadlines queued.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from circlework.accounts.models import Practitioner
from circlework.circles.covenant import OfficerElectorate, federation_rules
from circlework.circles.models import Circle, Federation
from circlework.circles.roles import Method, too_many_seats
from circlework.core import names
from circlework.core.dates import add_months
from circlework.core.errors import Conflict, InvalidInput
from circlework.core.permissions import require
from circlework.core.services import validate
from circlework.elections import selectors
from circlework.elections.models import Election, Electorate
from circlework.elections.services.common import (
    FACILITATE,
    day_text,
    field_error,
    record,
    schedule,
    tell,
    title,
    when_text,
)
from circlework.mandates.selectors import live_mandates_granting
from circlework.mandates.services import role_for

MAX_SEATS = 12


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
        raise field_error(
            "method",
            _("Choose a consent election, ranked ballots, instant runoff or approval voting."),
        )
    method = chosen
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 1:
        raise field_error("seats", _("An election fills at least one seat."))
    if seats > MAX_SEATS:
        raise field_error("seats", _("An election fills at most %(n)s seats.") % {"n": MAX_SEATS})
    too_many = too_many_seats(the_role, seats)
    if too_many is not None:
        raise field_error(
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
        raise field_error("seats", _("A consent election fills one seat at a time."))
    if method == Method.IRV and seats != 1:
        raise field_error(
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
        raise field_error(
            "nominations_close_at", _("Nominations must close in the future, not in the past.")
        )
    if voting_closes_at <= nominations_close_at:
        raise field_error(
            "voting_closes_at",
            _("Voting must close after nominations close: electors need to know who stands."),
        )
    today = timezone.localdate()
    starts = term_starts_on or timezone.localdate(voting_closes_at)
    if starts < today:
        raise field_error("term_starts_on", _("The term cannot start in the past."))
    try:
        longest = add_months(starts, the_role.term_months)
    except ValueError:  # past year 9999
        field = "term_starts_on" if term_starts_on else "voting_closes_at"
        raise field_error(field, _("That is too far ahead for a term to follow.")) from None
    ends = term_ends_on or longest
    if ends <= starts:
        raise field_error("term_ends_on", _("The term must end after it starts."))
    if ends > longest:
        raise field_error(
            "term_ends_on",
            _(
                "A %(role)s's term is at most %(n)s months, as agreed: from %(s)s it must end "
                "by %(e)s."
            )
            % {
                "role": the_role.name,
                "n": the_role.term_months,
                "s": day_text(starts),
                "e": day_text(longest),
            },
        )
    if ends <= timezone.localdate(voting_closes_at):
        raise field_error(
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
    record(
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
            "n": when_text(nominations_close_at),
            "v": when_text(voting_closes_at),
            "s": day_text(starts),
            "e": day_text(ends),
        }
    tell(
        election, voters, title=title(election, _("nominations open")), body=body, exclude=actor.pk
    )
    schedule(election)
    return election
