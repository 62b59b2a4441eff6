"""Federation gatherings: circles signing up and choosing who attends, sessions offered for the
programme and decided by those who arrange it, and registration by members of the public for a
gathering open to them. Atomic, checked, audited; the people concerned are told.

Public registration keeps what it must and no more: the name and address are encrypted; a keyed
digest of the lower-cased address (Django's `salted_hmac`, keyed by the site's secret) finds a
second registration from the same address without reading the others; the cancel link's token
is never stored, only its digest (as personal API tokens, `accounts.services.hash_token`). The
token is derived from the registration (an HMAC of its gathering, address digest and moment,
like Django's password-reset tokens), so the e-mail task is given the registration's id alone
and the task table holds neither the address nor a working link (circles.tasks does the same
for invitations). Audit events of the public's acts carry no name and no address.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_tasks import task

from circlework.accounts.models import Practitioner
from circlework.accounts.services import hash_token
from circlework.circles.models import Circle, Membership
from circlework.circles.rules import is_circle_member
from circlework.core import audit, names
from circlework.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from circlework.core.http import MAX_ID
from circlework.core.permissions import require
from circlework.core.services import validate
from circlework.core.visibility import FEDERATION_STATUSES
from circlework.gatherings.models import (
    CircleSignup,
    Gathering,
    ProgrammeSession,
    PublicRegistration,
    SessionState,
)
from circlework.gatherings.services.planning import local
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import notify, notify_many

EMAIL_SALT = "circlework.gatherings.PublicRegistration.email"
CANCEL_SALT = "circlework.gatherings.PublicRegistration.cancel"
MIN_SESSION, MAX_SESSION = 10, 480


def _field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, fields={field: [message]})


def _federation_gathering(gathering: Gathering) -> None:
    if not gathering.is_federation_gathering:
        raise InvalidInput(_("Only a federation gathering has a programme and circles coming."))


def _lock(gathering: Gathering) -> Gathering:
    return Gathering.objects.select_for_update(no_key=True).get(pk=gathering.pk)


def _still_open(gathering: Gathering, *, by: datetime | None = None) -> None:
    """Refuse changes to a cancelled gathering or one that is over (`by`: the moment that
    closes it, its end unless said)."""
    if gathering.cancelled_at is not None:
        raise Conflict(_("This gathering was cancelled."))
    if (by or gathering.ends_at) <= timezone.now():
        raise Conflict(_("This gathering is over."))


def _arrangers(gathering: Gathering) -> list[Practitioner]:
    """Who hears of sign-ups and offered sessions: the planner and the host circle's members."""
    ids = set()
    if gathering.planned_by_id is not None:
        ids.add(gathering.planned_by_id)
    if gathering.host_circle_id is not None:
        ids |= set(
            Membership.objects.current()
            .filter(circle_id=gathering.host_circle_id)
            .values_list("practitioner_id", flat=True)
        )
    return list(Practitioner.objects.filter(pk__in=ids).order_by("pk"))


def programme_url(gathering: Gathering) -> str:
    return reverse("gatherings:programme", kwargs={"pk": gathering.pk})


# --- circles signing up --------------------------------------------------------------------------


def _signing_circle(actor: Practitioner, gathering: Gathering, circle: Circle) -> None:
    require("gatherings.answer", actor, gathering)  # invited: the federation's members
    if circle.federation_id != gathering.federation_id or circle.status not in FEDERATION_STATUSES:
        raise _field_error(
            "circle", _("Only a validated circle of the federation can say it is coming.")
        )
    if not is_circle_member(actor.user, circle):
        raise NotAllowed(_("Only the circle's own members sign it up."))


@transaction.atomic
def circle_signup(
    *,
    actor: Practitioner,
    gathering: Gathering,
    circle: Circle,
    attendee_ids: Collection[int],
    note: str = "",
) -> CircleSignup:
    """Say that `circle` is coming and who from it attends (replacing what it said before)."""
    _federation_gathering(gathering)
    _signing_circle(actor, gathering, circle)
    locked = _lock(gathering)
    _still_open(locked)
    wanted = set(attendee_ids)
    if not wanted:
        raise _field_error("attendee_ids", _("Choose who from the circle is coming."))
    # An id no record can have (past the database's range) is refused before any query.
    if any(not 1 <= pk <= MAX_ID for pk in wanted):
        raise _field_error(
            "attendee_ids", _("Only the circle's current members can come on its behalf.")
        )
    members = set(
        Membership.objects.current()
        .filter(circle=circle, practitioner_id__in=wanted)
        .values_list("practitioner_id", flat=True)
    )
    if members != wanted:
        raise _field_error(
            "attendee_ids", _("Only the circle's current members can come on its behalf.")
        )
    signup = (
        CircleSignup.objects.select_for_update(no_key=True)
        .filter(gathering=locked, circle=circle)
        .first()
    )
    replaced = signup is not None
    if signup is None:
        signup = CircleSignup(gathering=locked, circle=circle)
    signup.signed_up_by = actor
    signup.note = note.strip()
    validate(signup, exclude=["gathering", "circle"] if replaced else None)
    if replaced:
        signup.save(update_fields=["signed_up_by", "note", "updated_at"])
    else:
        signup.save()
    before = set(signup.attendees.values_list("pk", flat=True)) if replaced else set()
    signup.attendees.set(sorted(wanted))
    audit.record(
        actor=actor,
        verb="gathering.circle_signed_up",
        target=locked,
        federation=locked.federation,
        # No circle's name in the federation's history: a circle may keep its name to itself.
        summary=names.text(
            _("%(a)s signed their circle up for a federation gathering"), a=names.person(actor)
        ),
        data={"circle": circle.pk, "attendees": len(wanted), "replaced": replaced},
    )
    newly = Practitioner.objects.filter(pk__in=wanted - before - {actor.pk})
    notify_many(
        newly,
        kind=NotificationKind.GATHERING,
        title=_("%(c)s is coming to %(t)s, with you") % {"c": circle.name, "t": locked.title},
        url=programme_url(locked),
        federation=locked.federation,
    )
    if not replaced:
        notify_many(
            [p for p in _arrangers(locked) if p.pk != actor.pk],
            kind=NotificationKind.GATHERING,
            # Those who arrange it may not see the circle's name: the programme page names it
            # as far as each reader may.
            title=_("A circle is coming to %(t)s") % {"t": locked.title},
            url=programme_url(locked),
            federation=locked.federation,
        )
    return signup


@transaction.atomic
def circle_signup_withdraw(*, actor: Practitioner, signup: CircleSignup) -> None:
    """The circle is not coming after all."""
    gathering = signup.gathering
    _signing_circle(actor, gathering, signup.circle)
    locked = _lock(gathering)
    _still_open(locked)
    circle = signup.circle
    deleted, _rows = CircleSignup.objects.filter(pk=signup.pk).delete()
    if not deleted:
        raise NotFound(_("This circle has not said it is coming."))
    audit.record(
        actor=actor,
        verb="gathering.circle_signup_withdrawn",
        target=locked,
        federation=locked.federation,
        summary=names.text(
            _("%(a)s withdrew their circle from a federation gathering"), a=names.person(actor)
        ),
        data={"circle": circle.pk},
    )
    notify_many(
        [p for p in _arrangers(locked) if p.pk != actor.pk],
        kind=NotificationKind.GATHERING,
        title=_("A circle is no longer coming to %(t)s") % {"t": locked.title},
        url=programme_url(locked),
        federation=locked.federation,
    )


# --- the programme -------------------------------------------------------------------------------


@transaction.atomic
def session_offer(
    *,
    actor: Practitioner,
    gathering: Gathering,
    title: str,
    description: str = "",
    minutes: int = 60,
) -> ProgrammeSession:
    """Offer a session (a workshop, a talk, a circle) for the gathering's programme."""
    _federation_gathering(gathering)
    require("gatherings.answer", actor, gathering)
    locked = _lock(gathering)
    _still_open(locked)
    if not title.strip():
        raise _field_error("title", _("Give the session a title."))
    if not MIN_SESSION <= minutes <= MAX_SESSION:
        raise _field_error(
            "minutes", _("A session lasts from 10 minutes to 8 hours (480 minutes).")
        )
    session = ProgrammeSession(
        gathering=locked,
        offered_by=actor,
        title=title.strip(),
        description=description.strip(),
        minutes=minutes,
    )
    validate(session)
    session.save()
    audit.record(
        actor=actor,
        verb="gathering.session_offered",
        target=session,
        federation=locked.federation,
        summary=names.text(_("%(a)s offered a session"), a=names.person(actor)),
        data={"gathering": locked.pk, "minutes": minutes},
    )
    notify_many(
        [p for p in _arrangers(locked) if p.pk != actor.pk],
        kind=NotificationKind.GATHERING,
        title=_("A session is offered for %(t)s: %(s)s") % {"t": locked.title, "s": session.title},
        url=programme_url(locked),
        federation=locked.federation,
    )
    return session


def _lock_session(session: ProgrammeSession) -> ProgrammeSession:
    return (
        ProgrammeSession.objects.select_for_update(of=("self",), no_key=True)
        .select_related("gathering", "gathering__federation")
        .get(pk=session.pk)
    )


@transaction.atomic
def session_decide(
    *,
    actor: Practitioner,
    session: ProgrammeSession,
    accept: bool,
    starts_at: datetime | None = None,
    room: str = "",
) -> ProgrammeSession:
    """Take an offered session into the programme at a time (and room), or decline it. A
    decision can be made again: to move an accepted session, or to take a declined one after
    all. A naive `starts_at` is the clock on the wall where the gathering is."""
    gathering = session.gathering
    require("gatherings.arrange", actor, gathering)
    locked = _lock_session(session)
    gathering = locked.gathering
    _still_open(gathering)
    if accept:
        if starts_at is None:
            raise _field_error("starts_at", _("Say when the session starts."))
        start = local(starts_at, gathering.time_zone)
        end = start + timedelta(minutes=locked.minutes)
        if start < gathering.starts_at or end > gathering.ends_at:
            raise _field_error(
                "starts_at", _("The session must start and end while the gathering is on.")
            )
        locked.state = SessionState.ACCEPTED
        locked.starts_at = start
        locked.room = room.strip()
    else:
        locked.state = SessionState.DECLINED
        locked.starts_at = None
        locked.room = ""
    validate(locked)
    locked.save(update_fields=["state", "starts_at", "room", "updated_at"])
    audit.record(
        actor=actor,
        verb="gathering.session_accepted" if accept else "gathering.session_declined",
        target=locked,
        federation=gathering.federation,
        summary=names.text(
            _("%(a)s took a session into the programme")
            if accept
            else _("%(a)s declined a session"),
            a=names.person(actor),
        ),
        data={
            "gathering": gathering.pk,
            "starts_at": locked.starts_at.isoformat() if locked.starts_at else None,
        },
    )
    if locked.offered_by is not None and locked.offered_by_id != actor.pk:
        notify(
            recipient=locked.offered_by,
            kind=NotificationKind.GATHERING,
            title=(
                _("Your session “%(s)s” is in the programme of %(t)s")
                if accept
                else _("Your session “%(s)s” is not in the programme of %(t)s this time")
            )
            % {"s": locked.title, "t": gathering.title},
            url=programme_url(gathering),
            federation=gathering.federation,
        )
    return locked


@transaction.atomic
def session_withdraw(*, actor: Practitioner, session: ProgrammeSession) -> None:
    """Whoever offered a session takes it back (from the programme too, if it was accepted)."""
    gathering = session.gathering
    require("gatherings.answer", actor, gathering)
    if session.offered_by_id != actor.pk:
        raise NotAllowed(_("Only whoever offered a session withdraws it."))
    locked = _lock_session(session)
    _still_open(locked.gathering)
    was = locked.state
    locked.delete()
    audit.record(
        actor=actor,
        verb="gathering.session_withdrawn",
        target=gathering,
        federation=gathering.federation,
        summary=names.text(_("%(a)s withdrew a session"), a=names.person(actor)),
        data={"session": session.pk, "was": was},
    )
    if was == SessionState.ACCEPTED:
        notify_many(
            [p for p in _arrangers(gathering) if p.pk != actor.pk],
            kind=NotificationKind.GATHERING,
            title=_("A session was withdrawn from the programme of %(t)s: %(s)s")
            % {"t": gathering.title, "s": session.title},
            url=programme_url(gathering),
            federation=gathering.federation,
        )


# --- public registration -------------------------------------------------------------------------


def email_digest(email: str) -> str:
    """The keyed digest that finds a second registration from the same address."""
    return salted_hmac(EMAIL_SALT, email.strip().lower(), algorithm="sha256").hexdigest()


def cancel_token(registration: PublicRegistration) -> str:
    """The secret of the registration's cancel link, made again from the row when needed."""
    value = (
        f"{registration.gathering_id}:{registration.email_digest}:"
        f"{registration.created_at.isoformat()}"
    )
    return salted_hmac(CANCEL_SALT, value, algorithm="sha256").hexdigest()


def cancel_link(token: str) -> str:
    return reverse("gatherings:registration_cancel", kwargs={"token": token})


@transaction.atomic
def public_register(
    *, gathering: Gathering, name: str, email: str, base_url: str = ""
) -> tuple[PublicRegistration, str]:
    """Someone from the public registers for a gathering open to the public. Returns the
    registration and its cancel token (sent in the confirmation e-mail only)."""
    locked = _lock(gathering)
    if not (locked.is_federation_gathering and locked.is_public):
        raise NotFound(_("This gathering is not open to the public."))
    if locked.cancelled_at is not None:
        raise Conflict(_("This gathering was cancelled."))
    if locked.starts_at <= timezone.now():
        raise Conflict(_("Registration has closed: the gathering has begun."))
    name = name.strip()
    if not name:
        raise _field_error("name", _("Tell us your name."))
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise _field_error("email", _("Enter a valid e-mail address.")) from exc
    digest = email_digest(email)
    already = _("This address is already registered. The e-mail we sent has a link to cancel.")
    if PublicRegistration.objects.filter(
        gathering=locked, email_digest=digest, cancelled_at__isnull=True
    ).exists():
        raise Conflict(already, fields={"email": [already]})
    registration = PublicRegistration(
        gathering=locked, name=name, email=email, email_digest=digest, created_at=timezone.now()
    )
    token = cancel_token(registration)
    registration.cancel_digest = hash_token(token)
    validate(registration, exclude=["cancel_digest", "email_digest"])
    try:
        with transaction.atomic():
            registration.save()
    except IntegrityError as exc:
        raise Conflict(already, fields={"email": [already]}) from exc
    audit.record(
        actor=None,
        verb="gathering.public_registered",
        target=registration,
        federation=locked.federation,
        summary=_("Someone from the public registered"),
        data={"gathering": locked.pk},
    )
    send_registration_email.enqueue(registration.pk, base_url)
    return registration, token


def registration_for_token(token: str) -> PublicRegistration:
    registration = (
        PublicRegistration.objects.select_related("gathering", "gathering__federation")
        .filter(cancel_digest=hash_token(token))
        .first()
    )
    if registration is None:
        raise NotFound(_("This link is not valid."))
    return registration


@transaction.atomic
def public_registration_cancel(*, token: str) -> PublicRegistration:
    """Whoever holds the e-mailed link cancels the registration. The name and address are not
    kept after that: the organisers have no more use for them."""
    found = registration_for_token(token)
    registration = (
        PublicRegistration.objects.select_for_update(of=("self",), no_key=True)
        .select_related("gathering", "gathering__federation")
        .get(pk=found.pk)
    )
    if registration.cancelled_at is not None:
        raise Conflict(_("This registration is already cancelled."))
    registration.cancelled_at = timezone.now()
    registration.name = registration.email = ""
    registration.save(update_fields=["cancelled_at", "name", "email"])
    audit.record(
        actor=None,
        verb="gathering.public_registration_cancelled",
        target=registration,
        federation=registration.gathering.federation,
        summary=_("Someone from the public cancelled their registration"),
        data={"gathering": registration.gathering_id},
    )
    return registration


def registrations_downloaded(*, actor: Practitioner, gathering: Gathering) -> list[tuple[str, str]]:
    """The live registrations' names and addresses, for those who arrange the gathering; the
    download is recorded."""
    require("gatherings.arrange", actor, gathering)
    rows = [
        (r.name, r.email)
        for r in PublicRegistration.objects.filter(
            gathering=gathering, cancelled_at__isnull=True
        ).order_by("created_at", "pk")
    ]
    audit.record(
        actor=actor,
        verb="gathering.registrations_downloaded",
        target=gathering,
        federation=gathering.federation,
        summary=names.text(
            _("%(a)s downloaded the list of public registrations"), a=names.person(actor)
        ),
        data={"count": len(rows)},
    )
    return rows


# The confirmation e-mail is a task (here rather than in tasks.py: it belongs to this part of
# gatherings alone). Given the registration's id, never the address or the link.
@task()
def send_registration_email(registration_id: int, base_url: str = "") -> bool:
    """Send the confirmation with the cancel link. Returns whether one went out."""
    registration = (
        PublicRegistration.objects.select_related("gathering", "gathering__federation")
        .filter(pk=registration_id, cancelled_at__isnull=True)
        .first()
    )
    if registration is None:
        return False  # cancelled (and forgotten) before the e-mail went out
    gathering = registration.gathering
    when = timezone.localtime(gathering.starts_at, timezone=zoneinfo.ZoneInfo(gathering.time_zone))
    body = _(
        "Dear %(n)s,\n\nYou are registered for %(t)s, a gathering of %(f)s, on %(d)s (%(z)s "
        "time).%(p)s\n\nIf you cannot come, cancel here:\n%(l)s\n"
    ) % {
        "n": registration.name,
        "t": gathering.title,
        "f": gathering.federation.name,
        "d": f"{when:%d %B %Y, %H:%M}",
        "z": gathering.time_zone,
        "p": ("\n" + _("Where: %(p)s") % {"p": gathering.place}) if gathering.place else "",
        "l": (base_url or settings.SITE_URL.rstrip("/")) + cancel_link(cancel_token(registration)),
    }
    subject = _("You are registered: %(t)s") % {"t": gathering.title}
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [registration.email])
    return True


# How long after a public gathering its organisers keep the names and addresses of those who
# came from the public: long enough to send a note afterwards, then they are forgotten.
REGISTRATIONS_KEPT_FOR = timedelta(days=30)


def registrations_forget(*, now: datetime | None = None) -> int:
    """Forget the names and addresses of the public's registrations for gatherings that ended
    (or were cancelled) more than `REGISTRATIONS_KEPT_FOR` ago. The rows stay, so the number who
    registered is kept; nothing in them identifies anyone. Idempotent."""
    cutoff = (now or timezone.now()) - REGISTRATIONS_KEPT_FOR
    gathering_ids = list(
        PublicRegistration.objects.exclude(email_digest__startswith="forgotten-")
        .filter(
            models.Q(gathering__ends_at__lt=cutoff, gathering__recurrence="")
            | models.Q(gathering__cancelled_at__lt=cutoff)
        )
        .values_list("gathering_id", flat=True)
        .distinct()
    )
    forgotten = 0
    for gathering_id in gathering_ids:
        with transaction.atomic():
            rows = list(
                PublicRegistration.objects.select_for_update(no_key=True)
                .filter(gathering_id=gathering_id)
                .exclude(email_digest__startswith="forgotten-")
                .values_list("pk", flat=True)
            )
            for pk in rows:
                PublicRegistration.objects.filter(pk=pk).update(
                    name="", email="", email_digest=f"forgotten-{pk}"
                )
            gathering = Gathering.objects.select_related("federation").get(pk=gathering_id)
            audit.record(
                actor=None,
                verb="gathering.public_registrations_forgotten",
                target=gathering,
                federation=gathering.federation,
                summary=_("The public's names and addresses for this gathering were forgotten"),
                data={"registrations": len(rows)},
            )
            forgotten += len(rows)
    return forgotten
