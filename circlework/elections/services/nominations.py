"""Nominations: nominate yourself or another with reasons, and the nominee's answer. What a
nominee must be (in scope, named to the electorate, allowed by the term rules) is checked here
for the consent rounds too.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.roles import Method
from circlework.core import deadlines, names
from circlework.core.errors import Conflict, InvalidInput, NotAllowed
from circlework.core.permissions import require
from circlework.core.services import validate
from circlework.elections import selectors
from circlework.elections.models import Election, ElectionStatus, Nomination
from circlework.elections.services.common import (
    election_role,
    field_error,
    lock_election,
    record,
    title,
    when_text,
)
from circlework.mandates.services import term_problems
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import notify


def check_nominee(election: Election, nominee: Practitioner) -> None:
    """Eligible: a member in the election's scope, whose name the electorate may see, and whom
    the role's term rules allow (length, consecutive terms)."""
    if not selectors.is_in_scope(election, nominee):
        msg = (
            _("Only a current member of %(c)s can hold this role.")
            if election.circle_id is not None
            else _("Only a current member of a circle in %(c)s can hold this role.")
        ) % {"c": selectors.scope_name(election)}
        raise field_error("nominee", msg)
    if not selectors.name_is_visible_to_electorate(election, nominee):
        raise field_error(
            "nominee",
            _(
                "This person keeps their name from some of the electors. To stand, they would "
                "first let the electorate see their name (in their profile)."
            ),
        )
    problems = term_problems(
        holder=nominee,
        role=election_role(election),
        starts_on=election.term_starts_on,
        ends_on=election.term_ends_on,
        **selectors.scope_kwargs(election),
    )
    if problems:
        raise InvalidInput(problems[0], fields={"nominee": problems})


def given_reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise field_error("reason", _("Give your reasons: everyone reads them."))
    return text


def _known_answer(election: Election, nominee: Practitioner) -> bool | None:
    return (
        election.nominations.filter(nominee=nominee, is_current=True, accepted__isnull=False)
        .order_by("-created_at", "-pk")
        .values_list("accepted", flat=True)
        .first()
    )


def new_nomination(
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
            title=title(election, _("you are nominated")),
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
    if election.method != Method.CONSENT and deadlines.is_past(election.nominations_close_at):
        raise Conflict(
            _("Nominations closed at %(d)s.") % {"d": when_text(election.nominations_close_at)}
        )


@transaction.atomic
def nomination_add(
    *, actor: Practitioner, election: Election, nominee: Practitioner, reason: str
) -> Nomination:
    """Nominate yourself or another, with reasons. In a consent election each elector gives one
    nomination (they may change it in the change round)."""
    require("elections.nominate", actor, election)
    election = lock_election(election)
    _ensure_nominating(election)
    reason = given_reason(reason)
    mine = election.nominations.filter(nominated_by=actor, is_current=True)
    if election.method == Method.CONSENT:
        if election.pk not in selectors.my_electorates(actor, [election]):
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
    check_nominee(election, nominee)
    nomination = new_nomination(election, actor=actor, nominee=nominee, reason=reason)
    record(
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
    election = lock_election(nomination.election)
    if election.status not in (ElectionStatus.NOMINATING, ElectionStatus.CHANGE_ROUND):
        raise Conflict(_("Nominations are closed: the answer can no longer be changed."))
    if election.method != Method.CONSENT and deadlines.is_past(election.nominations_close_at):
        raise Conflict(
            _("Nominations closed at %(d)s.") % {"d": when_text(election.nominations_close_at)}
        )
    if not nomination.is_current:
        raise Conflict(_("This nomination was changed; answer the current one."))
    if accept:
        check_nominee(election, actor)
    election.nominations.filter(nominee=actor, is_current=True).update(accepted=bool(accept))
    nomination.refresh_from_db()
    record(
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
