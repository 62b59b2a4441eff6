"""Writes for mandates: grant (the only way one is made), resign, handover plan, leaving, notices.

A mandate is granted by an election's close (or, for founding mandates, by the demo and the
migration that carried recorded delegates over). Its scope comes from its role; its term is
limited by the role as the circle's roles agreement or the federation's covenant defines it.
Nothing extends a mandate: a new term is a new mandate. Permissions lapse by themselves at the
end date (selectors only count live mandates); the daily task only tells people.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.covenant import federation_members, federation_memberships
from circlework.circles.models import Circle, Federation, Membership
from circlework.circles.roles import ROLES, Role, too_many_seats
from circlework.circles.selectors import current_members
from circlework.core import audit, names
from circlework.core.dates import add_months
from circlework.core.errors import InvalidInput, NotAllowed
from circlework.core.permissions import allowed, require
from circlework.core.services import validate
from circlework.mandates.models import FederationNotice, Mandate
from circlework.mandates.selectors import (
    day_words,
    ends_words,
    lapsed_mandate,
    live_mandates_granting,
    one_scope,
)

# Reads of the roles in force, kept importable from here for the services that grant by them.
from circlework.mandates.selectors import role_for as role_for
from circlework.mandates.selectors import roles_for as roles_for
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import notify_many

# A new term that starts within this many days of the last one's end counts as consecutive.
CONSECUTIVE_GAP = timedelta(days=31)
# Holders (and their circles) are warned this long before a mandate ends.
END_WARNING = timedelta(days=30)


def _effective_end(m: Mandate) -> date:
    if m.ended_early_at is not None:
        return min(m.ends_on, timezone.localdate(m.ended_early_at))
    return m.ends_on


def consecutive_term_for(
    *,
    holder: Practitioner,
    role: Role,
    circle: Circle | None = None,
    federation: Federation | None = None,
    starts_on: date,
) -> int:
    """Which consecutive term a mandate starting on `starts_on` would be for this holder: 1 for a
    first term, 2 when they held the same role here until (about) then, and so on back."""
    one_scope(circle, federation)
    scope = {"circle": circle} if circle is not None else {"federation": federation}
    earlier = sorted(
        Mandate.objects.filter(holder=holder, role=role.slug, starts_on__lt=starts_on, **scope),
        key=lambda m: m.starts_on,
        reverse=True,
    )
    term = 1
    start = starts_on
    for m in earlier:  # newest first; each link must reach to within the gap of the next start
        if m.starts_on >= start:
            continue
        if _effective_end(m) >= start - CONSECUTIVE_GAP:
            term += 1
            start = m.starts_on
        else:
            break
    return term


def seat_problem(
    *,
    role: Role,
    circle: Circle | None = None,
    federation: Federation | None = None,
    starts_on: date,
    ends_on: date,
    seats: int = 1,
    holder: Practitioner | None = None,
) -> str | None:
    """Why `seats` more people (`holder` among them, if named) cannot hold this role here from
    `starts_on` to `ends_on`, in words; None when they can.

    The role (as agreed here) has `role.seats` seats. Every other holder's mandate of the role in
    the same circle or federation counts from its start until its end (or early end), so a next
    term that starts on the day the current one ends is fine. An election opening for several
    seats asks with `seats=`; a nomination or a grant asks for one seat, with the holder.
    """
    one_scope(circle, federation)
    too_many = too_many_seats(role, seats)
    if too_many is not None:
        return too_many
    if ends_on <= starts_on:
        return None
    scope = {"circle": circle} if circle is not None else {"federation": federation}
    others = [
        (m, _effective_end(m))
        for m in Mandate.objects.filter(
            role=role.slug,
            holder__isnull=False,
            starts_on__lt=ends_on,
            ends_on__gt=starts_on,
            **scope,
        ).exclude(holder=holder)
    ]
    others = [(m, end) for m, end in others if end > max(m.starts_on, starts_on)]
    # The busiest moment of the term falls on its start or on another mandate's start.
    moments = sorted({starts_on} | {m.starts_on for m, _end in others if m.starts_on > starts_on})
    for moment in moments:
        holding = [(m, end) for m, end in others if m.starts_on <= moment < end]
        if len({m.holder_id for m, _end in holding}) + seats > role.seats:
            first_end = min(end for _m, end in holding)
            words = {
                "role": role.name,
                "n": role.seats,
                "d": day_words(moment),
                "ends": ends_words(first_end, today=moment),
            }
            if role.seats == 1:
                return (
                    _(
                        "The role of %(role)s has one seat here, and on %(d)s it is already "
                        "held: that mandate %(ends)s. A new term must not overlap it."
                    )
                    % words
                )
            return (
                _(
                    "The role of %(role)s has %(n)s seats here, and on %(d)s all of them are "
                    "already held: the first of those mandates %(ends)s. A new term must not "
                    "overlap them while all the seats are held."
                )
                % words
            )
    return None


def term_problems(
    *,
    holder: Practitioner,
    role: Role,
    circle: Circle | None = None,
    federation: Federation | None = None,
    starts_on: date,
    ends_on: date,
) -> list[str]:
    """What is wrong with this term for this holder, in words; empty when it may be granted:
    its length, the consecutive-term cap, and the role's seats (see `seat_problem`)."""
    problems: list[str] = []
    if ends_on <= starts_on:
        problems.append(_("A mandate must end after it starts."))
    longest = add_months(starts_on, role.term_months)
    if ends_on > longest:
        problems.append(
            _("A %(role)s's term is at most %(n)s months: from %(start)s it must end by %(end)s.")
            % {
                "role": role.name,
                "n": role.term_months,
                "start": f"{starts_on:%d %B %Y}",
                "end": f"{longest:%d %B %Y}",
            }
        )
    cap = role.max_consecutive_terms
    if cap is not None:
        term = consecutive_term_for(
            holder=holder, role=role, circle=circle, federation=federation, starts_on=starts_on
        )
        if term > cap:
            problems.append(
                # No name: this message is stored with an election's result (never a name).
                _(
                    "They have held the role of %(role)s for %(n)s terms in a row, the most "
                    "the agreement allows; someone else must take it on."
                )
                % {"role": role.name, "n": term - 1}
            )
    seat = seat_problem(
        role=role,
        circle=circle,
        federation=federation,
        starts_on=starts_on,
        ends_on=ends_on,
        holder=holder,
    )
    if seat is not None:
        problems.append(seat)
    return problems


def _is_member_of_circle(circle: Circle, practitioner: Practitioner) -> bool:
    return Membership.objects.current().filter(circle=circle, practitioner=practitioner).exists()


def _is_member_of_federation(federation: Federation, practitioner: Practitioner) -> bool:
    """Only the federation (its validated circles' members) holds the federation's mandates."""
    return federation_memberships(federation).filter(practitioner=practitioner).exists()


def _scope_name(m: Mandate) -> str:
    return m.circle.name if m.circle is not None else (m.federation.name if m.federation else "")


def role_name(m: Mandate) -> str:
    role = ROLES.get(m.role)
    return str(role.name) if role is not None else m.role


def _tell_scope(m: Mandate, *, title: str, body: str = "", exclude: int | None = None) -> None:
    """The holder, and for a circle mandate every current member of the circle."""
    recipients: list[Practitioner] = []
    if m.holder is not None and m.holder.pk != exclude:
        recipients.append(m.holder)
    if m.circle is not None:
        recipients += list(current_members(circle=m.circle, exclude=[m.holder_id, exclude]))
    notify_many(
        recipients,
        federation=m.federation,
        circle=m.circle,
        kind=NotificationKind.MANDATE,
        title=title,
        body=body,
        url=m.get_absolute_url(),
    )


def lapsed_message(mandate: Mandate, *, today: date | None = None) -> str:
    """Why a mandate no longer (or not yet) grants anything, naming the date."""
    day = today or timezone.localdate()
    words = {"role": role_name(mandate), "where": _scope_name(mandate)}
    if mandate.ended_early_at is not None:
        return _(
            "Your mandate as %(role)s in %(where)s ended early on %(d)s (%(why)s): its "
            "permissions lapsed with it. Nothing was changed."
        ) % {**words, "d": day_words(_effective_end(mandate)), "why": mandate.end_reason}
    if mandate.starts_on > day:
        return _(
            "Your mandate as %(role)s in %(where)s starts on %(d)s; until then it grants nothing."
        ) % {**words, "d": day_words(mandate.starts_on)}
    return _(
        "Your mandate as %(role)s in %(where)s %(ended)s. Nothing was changed; a new term needs "
        "an election."
    ) % {**words, "ended": ends_words(mandate.ends_on, today=day)}


def require_mandate(
    rule: str,
    actor: Practitioner | None,
    obj: Any,
    *,
    grant: str,
    circle: Circle | None = None,
    federation: Federation | None = None,
) -> None:
    """`require(rule, actor, obj)`, but a refusal because the actor's mandate granting `grant`
    here has ended (or not begun) says so, with the date."""
    if allowed(rule, actor.user if actor is not None else None, obj):
        return
    lapsed = lapsed_mandate(actor, grant, circle=circle, federation=federation)
    raise NotAllowed(lapsed_message(lapsed) if lapsed is not None else None)


@transaction.atomic
def mandate_grant(
    *,
    role: str,
    holder: Practitioner,
    circle: Circle | None = None,
    federation: Federation | None = None,
    starts_on: date,
    ends_on: date,
    handover_plan: str = "",
    election: Any = None,
    actor: Practitioner | None = None,
) -> Mandate:
    """Make a mandate: the only way one is created (an election's close, founding mandates).

    `election`: the elections.Election that won it, or None (typed `Any`: elections is the
    floor above mandates, which may not import it even for type checking)."""
    one_scope(circle, federation)
    the_role = role_for(role, circle=circle, federation=federation)
    if circle is not None and not _is_member_of_circle(circle, holder):
        msg = _("They are not a current member of %(c)s, so cannot hold its mandates.") % {
            "c": circle.name,
        }
        raise InvalidInput(msg, fields={"holder": [msg]})
    if federation is not None and not _is_member_of_federation(federation, holder):
        msg = _("They are not a member of any circle in %(f)s, so cannot hold its mandates.") % {
            "f": federation.name,
        }
        raise InvalidInput(msg, fields={"holder": [msg]})
    problems = term_problems(
        holder=holder,
        role=the_role,
        circle=circle,
        federation=federation,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    if problems:
        raise InvalidInput(problems[0], fields={"ends_on": problems})
    review_on = min(add_months(starts_on, the_role.review_months), ends_on - timedelta(days=1))
    mandate = Mandate(
        role=the_role.slug,
        circle=circle,
        federation=federation,
        holder=holder,
        permissions=list(the_role.permissions),
        starts_on=starts_on,
        ends_on=ends_on,
        review_on=max(review_on, starts_on),
        handover_plan=(handover_plan or "").strip(),
        election=election,
        consecutive_term=consecutive_term_for(
            holder=holder,
            role=the_role,
            circle=circle,
            federation=federation,
            starts_on=starts_on,
        ),
    )
    validate(mandate)
    mandate.save()
    where = circle.name if circle is not None else federation.name  # type: ignore[union-attr]
    audit.record(
        actor=actor,
        verb="mandate.grant",
        target=mandate,
        circle=circle,
        federation=federation if circle is None else None,
        summary=names.text(
            _("%(who)s holds the mandate of %(role)s in %(where)s from %(s)s; it %(ends)s"),
            who=names.person(holder),
            role=the_role.name,
            where=where,
            s=day_words(starts_on),
            ends=ends_words(ends_on, today=starts_on),
        ),
        data={
            "role": the_role.slug,
            "holder": holder.pk,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
            "election": election.pk if election is not None else None,
            "consecutive_term": mandate.consecutive_term,
        },
    )
    _tell_scope(
        mandate,
        title=names.text(
            _("%(who)s holds the mandate of %(role)s in %(where)s"),
            who=names.person(holder),
            role=the_role.name,
            where=where,
        ),
        body=_("From %(s)s; it %(ends)s. Review on %(r)s.")
        % {
            "s": day_words(starts_on),
            "ends": ends_words(ends_on, today=starts_on),
            "r": day_words(mandate.review_on),
        },
    )
    return mandate


def _lock(mandate: Mandate) -> Mandate:
    return (
        Mandate.objects.select_for_update(of=("self",), no_key=True)
        .select_related("circle", "circle__federation", "federation", "holder")
        .get(pk=mandate.pk)
    )


def _end_early(locked: Mandate, *, reason: str, actor: Practitioner | None, verb: str) -> None:
    locked.ended_early_at = timezone.now()
    locked.end_reason = reason[:500]
    locked.save(update_fields=["ended_early_at", "end_reason", "updated_at"])
    audit.record(
        actor=actor,
        verb=verb,
        target=locked,
        circle=locked.circle,
        federation=locked.federation if locked.circle is None else None,
        summary=names.text(
            _("%(who)s's mandate of %(role)s in %(where)s ended early: %(why)s"),
            who=names.person(locked.holder),
            role=role_name(locked),
            where=_scope_name(locked),
            why=locked.end_reason,
        ),
        data={"role": locked.role, "reason": locked.end_reason},
    )


@transaction.atomic
def mandate_resign(*, actor: Practitioner, mandate: Mandate, reason: str) -> Mandate:
    """The holder ends their mandate early. Its permissions lapse at once."""
    require("mandates.resign", actor, mandate)
    reason = (reason or "").strip()
    if not reason:
        msg = _("Say briefly why you are stepping down: the circle will want to know.")
        raise InvalidInput(msg, fields={"reason": [msg]})
    locked = _lock(mandate)
    if not locked.is_live():  # acting on an ended mandate: refused, naming the date
        raise NotAllowed(lapsed_message(locked))
    _end_early(locked, reason=reason, actor=actor, verb="mandate.resign")
    _tell_scope(
        locked,
        title=names.text(
            _("%(who)s stepped down as %(role)s in %(where)s"),
            who=names.person(actor),
            role=role_name(locked),
            where=_scope_name(locked),
        ),
        body=reason,
        exclude=None,
    )
    mandate.refresh_from_db()
    return locked


@transaction.atomic
def mandate_handover_update(
    *, actor: Practitioner, mandate: Mandate, handover_plan: str
) -> Mandate:
    """The holder writes how the role will be reduced or passed on."""
    require("mandates.change_handover", actor, mandate)
    plan = (handover_plan or "").strip()
    if not plan:
        msg = _("Write how this role will be reduced or passed on.")
        raise InvalidInput(msg, fields={"handover_plan": [msg]})
    locked = _lock(mandate)
    if not locked.is_live():
        raise NotAllowed(lapsed_message(locked))
    locked.handover_plan = plan
    validate(locked)
    locked.save(update_fields=["handover_plan", "updated_at"])
    audit.record(
        actor=actor,
        verb="mandate.handover_update",
        target=locked,
        circle=locked.circle,
        federation=locked.federation if locked.circle is None else None,
        summary=names.text(
            _("%(who)s updated the handover plan of the %(role)s mandate"),
            who=names.person(actor),
            role=role_name(locked),
        ),
    )
    mandate.refresh_from_db()
    return locked


def _live_or_upcoming(**scope: Any) -> list[int]:
    today = timezone.localdate()
    return list(
        Mandate.objects.filter(ended_early_at__isnull=True, ends_on__gt=today, **scope)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def mandate_end_for_leaver(*, practitioner: Practitioner, circle: Circle) -> int:
    """Someone left the circle: their live (and not yet started) mandates in it end early; and
    when it was their last circle in the federation, so do their federation mandates there ("no
    longer a member of the federation"). Returns how many ended.

    Called inside the leave's transaction, after the membership ended (circles.services
    membership_leave, and practitioner_withdraw_everywhere on account deletion).
    """
    ended = _end_each(
        _live_or_upcoming(circle=circle, holder=practitioner),
        practitioner=practitioner,
        reason=str(_("left the circle")),
        tell=lambda locked: _tell_scope(
            locked,
            title=names.text(
                _("%(who)s left %(c)s, so their mandate of %(role)s ended"),
                who=names.person(practitioner),
                c=circle.name,
                role=role_name(locked),
            ),
            body=_("Its permissions lapsed. The circle can hold an election to fill the role."),
            exclude=practitioner.pk,
        ),
    )
    federation = circle.federation
    if _is_member_of_federation(federation, practitioner):
        return ended
    return ended + _end_each(
        _live_or_upcoming(federation=federation, holder=practitioner),
        practitioner=practitioner,
        reason=str(_("no longer a member of the federation")),
        tell=lambda locked: _tell_scope(
            locked,
            title=_(
                "Your mandate of %(role)s in %(f)s ended: you are no longer a member of the "
                "federation"
            )
            % {"role": role_name(locked), "f": federation.name},
            body=_(
                "You left your last circle in %(f)s, so the mandate's permissions lapsed. The "
                "federation can hold an election to fill the role."
            )
            % {"f": federation.name},
        ),
    )


def _end_each(
    pks: Iterable[int],
    *,
    practitioner: Practitioner,
    reason: str,
    tell: Callable[[Mandate], object],
) -> int:
    """End each of a leaver's mandates (skipping any ended meanwhile), telling whom `tell`
    tells. Returns how many ended."""
    ended = 0
    for pk in pks:
        locked = _lock(Mandate(pk=pk))
        if locked.ended_early_at is not None:
            continue
        _end_early(locked, reason=reason, actor=practitioner, verb="mandate.end_for_leaver")
        tell(locked)
        ended += 1
    return ended


@transaction.atomic
def federation_notice_send(
    *, actor: Practitioner, federation: Federation, title: str, text: str
) -> int:
    """A live holder of a mandate granting "federation.notice" tells every current member of
    the federation's circles. Returns how many were told."""
    require_mandate(
        "mandates.send_federation_notice",
        actor,
        federation,
        grant="federation.notice",
        federation=federation,
    )
    title = (title or "").strip()
    text = (text or "").strip()
    fields: dict[str, list[str]] = {}
    if not title:
        fields["title"] = [_("Give the notice a title.")]
    elif len(title) > 160:
        fields["title"] = [_("Keep the title under 160 characters.")]
    if not text:
        fields["text"] = [_("Write the notice.")]
    elif len(text) > 5000:
        fields["text"] = [_("Keep the notice under 5000 characters.")]
    if fields:
        first = next(iter(fields.values()))[0]
        raise InvalidInput(first, fields=fields)
    # The federation is its validated circles' members: a notice is not sent to forming circles.
    recipients = federation_members(federation)
    # Kept for the federation's notices page, with the mandate it was sent by.
    notice = FederationNotice.objects.create(
        federation=federation,
        mandate=live_mandates_granting("federation.notice", federation=federation)
        .filter(holder=actor)
        .order_by("starts_on", "pk")
        .first(),
        title=title,
        text=text,
    )
    url = (
        reverse("mandates:federation_notices", kwargs={"slug": federation.slug})
        + f"?notice={notice.pk}#notice-{notice.pk}"  # the page that holds it, however many follow
    )
    told = len(
        notify_many(
            recipients,
            federation=federation,
            kind=NotificationKind.FEDERATION_NOTICE,
            title=_("%(f)s: %(t)s") % {"f": federation.name, "t": title},
            body=names.text(
                _("%(text)s\n\n— %(who)s, by mandate"), text=text, who=names.person(actor)
            ),
            url=url,
        )
    )
    audit.record(
        actor=actor,
        verb="federation.notice",
        target=federation,
        federation=federation,
        summary=names.text(
            _("%(who)s sent a notice to the federation: %(t)s"),
            who=names.person(actor),
            t=title,
        ),
        data={"recipients": told, "notice": notice.pk},
    )
    return told


def mandate_notices(*, today: date | None = None) -> int:
    """Review reminders, end warnings and end notices, each once (the *_on fields remember)."""
    today = today or timezone.localdate()
    told = 0
    candidates = Mandate.objects.filter(
        ended_early_at__isnull=True, starts_on__lte=today, holder__isnull=False
    ).filter(
        # due something: a review reached, an end near or reached, not yet told
        review_on__lte=today
    ) | Mandate.objects.filter(
        ended_early_at__isnull=True,
        starts_on__lte=today,
        holder__isnull=False,
        ends_on__lte=today + END_WARNING,
    )
    for pk in list(candidates.values_list("pk", flat=True).distinct()):
        with transaction.atomic():
            m = _lock(Mandate(pk=pk))
            if m.ended_early_at is not None or m.holder is None:
                continue
            where = _scope_name(m)
            name = role_name(m)
            holder = names.person(m.holder)
            if m.ends_on <= today:
                if m.end_notified_on == m.ends_on:
                    continue
                m.end_notified_on = m.ends_on
                m.end_warned_on = m.end_warned_on or m.ends_on
                m.review_notified_on = m.review_notified_on or m.review_on
                title = names.text(
                    _("%(who)s's mandate of %(role)s in %(where)s ended on %(d)s"),
                    who=holder,
                    role=name,
                    where=where,
                    d=day_words(m.ends_on),
                )
                body = _("The mandate %(ended)s. A new term needs an election.") % {
                    "ended": ends_words(m.ends_on, today=today)
                }
            elif m.ends_on <= today + END_WARNING and m.end_warned_on != m.ends_on:
                m.end_warned_on = m.ends_on
                m.review_notified_on = m.review_notified_on or m.review_on
                title = names.text(
                    _("%(who)s's mandate of %(role)s in %(where)s ends %(d)s"),
                    who=holder,
                    role=name,
                    where=where,
                    d=day_words(m.ends_on),
                )
                body = _(
                    "The mandate %(ends)s. Time to carry out the handover plan, and to hold an "
                    "election if the role is still needed."
                ) % {"ends": ends_words(m.ends_on, today=today)}
            elif m.review_on <= today and m.review_notified_on != m.review_on:
                m.review_notified_on = m.review_on
                title = names.text(
                    _("Review due: %(who)s's mandate of %(role)s in %(where)s"),
                    who=holder,
                    role=name,
                    where=where,
                )
                body = _(
                    "The mandate %(ends)s. Is the role still needed, and as much of it? Look "
                    "again at the handover plan: how this role will be reduced or passed on."
                ) % {"ends": ends_words(m.ends_on, today=today)}
            else:
                continue
            m.save(update_fields=["end_notified_on", "end_warned_on", "review_notified_on"])
            _tell_scope(m, title=title, body=body)
            told += 1
    return told
