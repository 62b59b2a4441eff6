"""Writes for standing by: state (or renew), withdraw with reasons, respond to the concern.

Each is atomic, checked by the rules, validated, audited and tells the people concerned.
Reasons are never put in audit summaries or notifications: they stay on the encrypted rows.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.agreements.models import AgreementKind
from circlework.agreements.parameters import parameters_in_force
from circlework.circles.models import Circle, Membership
from circlework.circles.selectors import current_members
from circlework.core import audit, names
from circlework.core.dates import add_months
from circlework.core.errors import Conflict, InvalidInput
from circlework.core.permissions import require
from circlework.core.services import validate
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import notify, notify_many
from circlework.standing.models import (
    LAPSING_WITHIN,
    ConcernStatus,
    StandingBy,
    StandingConcern,
)

DEFAULT_REVIEW_MONTHS = 12
PARAM_REVIEW_MONTHS = "standing_by_review_months"
PARAM_REQUIRED = "standing_by_required"


def circle_parameter(circle: Circle, key: str) -> int | None:
    """A positive whole number from the circle's current policy or procedure agreements, if set
    (the most recently changed agreement that sets it to one)."""
    for params in parameters_in_force(circle, [AgreementKind.POLICY, AgreementKind.PROCEDURE]):
        if key in params:
            try:
                value = int(params[key])
            except (TypeError, ValueError):
                continue
            if value >= 1:
                return value
    return None


def review_months(circle: Circle) -> int:
    return circle_parameter(circle, PARAM_REVIEW_MONTHS) or DEFAULT_REVIEW_MONTHS


def lapse_date(circle: Circle, stated_on: date) -> date:
    return add_months(stated_on, review_months(circle))


def _is_current_member(circle: Circle, practitioner: Practitioner) -> bool:
    return Membership.objects.current().filter(circle=circle, practitioner=practitioner).exists()


def _other_members(circle: Circle, *exclude: int | None) -> list[Practitioner]:
    return list(current_members(circle=circle, exclude=exclude))


def _page_url(circle: Circle) -> str:
    return reverse("standing:standing_page", kwargs={"slug": circle.slug})


@transaction.atomic
def standing_by_state(
    *, actor: Practitioner, circle: Circle, colleague: Practitioner, basis: str
) -> StandingBy:
    """Stand by a colleague. If a statement for the pair exists, this renews it."""
    require("standing.stand_by", actor, circle)
    if colleague.pk == actor.pk:
        msg = _("You cannot stand by yourself: a colleague in the circle stands by you.")
        raise InvalidInput(msg, fields={"colleague": [msg]})
    if not _is_current_member(circle, actor):
        raise InvalidInput(_("Only current members of the circle can stand by a colleague."))
    if not _is_current_member(circle, colleague):
        msg = _("You can only stand by a current member of this circle.")
        raise InvalidInput(msg, fields={"colleague": [msg]})
    basis = (basis or "").strip()
    now = timezone.now()
    previous = (
        StandingBy.objects.select_for_update(no_key=True)
        .current()
        .filter(circle=circle, by=actor, for_practitioner=colleague)
        .first()
    )
    statement = StandingBy(
        circle=circle,
        by=actor,
        for_practitioner=colleague,
        basis=basis,
        stated_at=now,
        lapses_on=lapse_date(circle, timezone.localdate(now)),
        renewed_from=previous,
    )
    if previous is not None:  # rolled back with the rest if the new statement is refused
        previous.superseded_at = now
        previous.save(update_fields=["superseded_at", "updated_at"])
    validate(statement)
    statement.save()
    verb = "standing_by.renew" if previous else "standing_by.state"
    audit.record(
        actor=actor,
        verb=verb,
        target=statement,
        circle=circle,
        summary=names.text(
            _("%(a)s renewed standing by %(b)s") if previous else _("%(a)s stands by %(b)s"),
            a=names.person(actor),
            b=names.person(colleague),
        ),
        data={"for": colleague.pk, "lapses_on": statement.lapses_on.isoformat()},
    )
    notify(
        recipient=colleague,
        circle=circle,
        kind=NotificationKind.STANDING_BY,
        title=names.text(
            _("%(a)s renewed standing by you in %(c)s")
            if previous
            else _("%(a)s stands by your practice in %(c)s"),
            a=names.person(actor),
            c=circle.name,
        ),
        body=_("Until %(d)s. Basis: %(b)s") % {"d": f"{statement.lapses_on:%d %B %Y}", "b": basis},
        url=_page_url(circle),
    )
    return statement


@transaction.atomic
def standing_by_withdraw(
    *, actor: Practitioner, statement: StandingBy, reason: str
) -> StandingConcern:
    """Withdraw a statement with reasons. The circle gets a concern it must respond to."""
    require("standing.withdraw", actor, statement)
    reason = (reason or "").strip()
    if not reason:
        msg = _("Give your reasons: the circle needs them to respond.")
        raise InvalidInput(msg, fields={"reason": [msg]})
    locked = (
        StandingBy.objects.select_for_update(of=("self",), no_key=True)
        .select_related("circle", "circle__federation", "for_practitioner")
        .get(pk=statement.pk)
    )
    if not locked.is_current:
        raise Conflict(_("This statement has already been withdrawn or renewed."))
    now = timezone.now()
    locked.withdrawn_at = now
    locked.withdrawal_reason = reason
    locked.save(update_fields=["withdrawn_at", "withdrawal_reason", "updated_at"])
    concern = StandingConcern(
        circle=locked.circle, statement=locked, raised_by=actor, reason=reason
    )
    validate(concern)
    concern.save()
    circle = locked.circle
    colleague = locked.for_practitioner
    audit.record(
        actor=actor,
        verb="standing_by.withdraw",
        target=locked,
        circle=circle,
        summary=names.text(
            _("%(a)s no longer stands by %(b)s; the circle is asked to respond"),
            a=names.person(actor),
            b=names.person(colleague),
        ),
        data={"for": colleague.pk, "concern": concern.pk},
    )
    notify_many(
        _other_members(circle, actor.pk),
        circle=circle,
        kind=NotificationKind.STANDING_CONCERN,
        title=names.text(
            _("%(a)s no longer stands by %(b)s in %(c)s"),
            a=names.person(actor),
            b=names.person(colleague),
            c=circle.name,
        ),
        body=_("The circle is asked to respond. The reasons are on the concern's page."),
        url=concern.get_absolute_url(),
    )
    statement.refresh_from_db()
    return concern


@transaction.atomic
def standing_concern_respond(
    *, actor: Practitioner, concern: StandingConcern, response: str, resolve: bool
) -> StandingConcern:
    """The circle's response, by any member other than the one who raised it."""
    require("standing.respond_concern", actor, concern)
    response = (response or "").strip()
    if not response:
        msg = _("Write the circle's response.")
        raise InvalidInput(msg, fields={"response": [msg]})
    locked = (
        StandingConcern.objects.select_for_update(of=("self",), no_key=True)
        .select_related("circle", "circle__federation", "raised_by")
        .get(pk=concern.pk)
    )
    if locked.status == ConcernStatus.RESOLVED:
        raise Conflict(_("This concern is already resolved."))
    locked.response = response
    locked.responded_by = actor
    locked.responded_at = timezone.now()
    locked.status = ConcernStatus.RESOLVED if resolve else ConcernStatus.RESPONDED
    validate(locked)
    locked.save(update_fields=["response", "responded_by", "responded_at", "status", "updated_at"])
    audit.record(
        actor=actor,
        verb="standing_concern.resolve" if resolve else "standing_concern.respond",
        target=locked,
        circle=locked.circle,
        summary=names.text(
            _("%(a)s resolved a standing-by concern")
            if resolve
            else _("%(a)s responded to a standing-by concern"),
            a=names.person(actor),
        ),
    )
    if locked.raised_by is not None:
        notify(
            recipient=locked.raised_by,
            circle=locked.circle,
            kind=NotificationKind.STANDING_CONCERN,
            title=_("The circle responded to your concern in %(c)s") % {"c": locked.circle.name},
            url=locked.get_absolute_url(),
        )
    concern.refresh_from_db()
    return locked


def lapse_notices(*, today: date | None = None) -> int:
    """Tell both people once two weeks before a statement lapses, and once when it lapses."""
    today = today or timezone.localdate()
    told = 0
    due = StandingBy.objects.current().filter(lapses_on__lte=today + LAPSING_WITHIN)
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            s = (
                StandingBy.objects.select_for_update(of=("self",), no_key=True)
                .select_related("circle", "by", "for_practitioner")
                .get(pk=pk)
            )
            if not s.is_current:
                continue
            lapsed = s.lapses_on <= today
            if lapsed and s.lapse_notified_on != s.lapses_on:
                s.lapse_notified_on = s.lapse_warned_on = s.lapses_on
                title = _("Standing by has lapsed: %(a)s for %(b)s in %(c)s")
            elif not lapsed and s.lapse_warned_on != s.lapses_on:
                s.lapse_warned_on = s.lapses_on
                title = _("Standing by lapses on %(d)s: %(a)s for %(b)s in %(c)s")
            else:
                continue
            s.save(update_fields=["lapse_notified_on", "lapse_warned_on"])
            text = names.text(
                title,
                a=names.person(s.by),
                b=names.person(s.for_practitioner),
                c=s.circle.name,
                d=f"{s.lapses_on:%d %B %Y}",
            )
            notify_many(
                (s.by, s.for_practitioner),
                circle=s.circle,
                kind=NotificationKind.STANDING_BY,
                title=text,
                body=_("It can be renewed in one click on the circle's standing-by page."),
                url=_page_url(s.circle),
            )
            told += 1
    return told
