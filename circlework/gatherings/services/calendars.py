"""Calendars: secret feed addresses a calendar app subscribes to, the calendar of one gathering,
and the reminders sent before each meeting.

A feed is read by a calendar app, without a session, so without a second factor: the owner's
audience is computed as for anyone outside a request (`audience_for(user)` on a fresh user,
which counts no circle that asks for two-factor sign-in). Gatherings of such circles are
therefore never in a feed, and a circle feed cannot be made for one; the subscriptions page
says so. The token is shown only to its owner; the database finds it by its SHA-256 digest.
"""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.accounts.services import hash_token
from circlework.circles.models import Circle
from circlework.core import audit, deadlines
from circlework.core.errors import Conflict, NotFound
from circlework.core.permissions import allowed, require
from circlework.core.visibility import Audience, audience_for
from circlework.gatherings import ics
from circlework.gatherings.models import Answer, Attendance, CalendarFeed, Gathering, Occurrence
from circlework.gatherings.selectors import invited_q, invitees
from circlework.notifications.models import NotificationKind
from circlework.notifications.selectors import reminder_leads
from circlework.notifications.services import Notice, notify_each

# A feed holds what happened from this long ago (so last month's meeting is still there)...
FEED_PAST = timedelta(days=60)
# ...a cancelled gathering for this long after (so calendars see the cancellation and remove it)...
FEED_KEEP_CANCELLED = timedelta(days=30)
# ...and at most this many gatherings.
FEED_LIMIT = 500
# A read is written down at most this often, so reading a feed mostly writes nothing.
READ_NOTED_EVERY = timedelta(hours=1)
_TOKEN_LENGTH = 43  # secrets.token_urlsafe(32)


# --- feeds ------------------------------------------------------------------------------------


@transaction.atomic
def feed_create(*, actor: Practitioner, circle: Circle | None = None) -> tuple[CalendarFeed, str]:
    """A new feed address (personal, or one circle's) and its token. A live feed of the same
    kind is revoked first: this is also "regenerate" (the old address stops working)."""
    if circle is not None:
        require("gatherings.view_circle_gatherings", actor, circle)
        if circle.requires_two_factor:
            raise Conflict(
                _(
                    "This circle asks for two-factor sign-in, so its gatherings are not put in "
                    "calendar feeds (a calendar app cannot give a second factor)."
                )
            )
    now = timezone.now()
    live = CalendarFeed.objects.select_for_update().filter(
        practitioner=actor, circle=circle, revoked_at__isnull=True
    )
    replaced = [feed.pk for feed in live]
    CalendarFeed.objects.filter(pk__in=replaced).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        practitioner=actor,
        circle=circle,
        token_digest=hash_token(token),
        token=token,
        created_at=now,
    )
    audit.record(
        actor=actor,
        verb="calendar_feed.created",
        target=feed,
        circle=circle,
        summary=_("Made a calendar feed address")
        if not replaced
        else _("Made a new address for a calendar feed"),
        data={"circle": circle.pk if circle else None, "replaced": replaced},
    )
    return feed, token


@transaction.atomic
def feed_revoke(*, actor: Practitioner, feed: CalendarFeed) -> CalendarFeed:
    """Stop a feed address working. Only its owner may; for anyone else it does not exist."""
    if feed.practitioner_id != actor.pk:
        raise NotFound(_("No such calendar feed."))
    locked = deadlines.lock(CalendarFeed, feed.pk, "circle")
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    audit.record(
        actor=actor,
        verb="calendar_feed.revoked",
        target=locked,
        circle=locked.circle,
        summary=_("Stopped a calendar feed address"),
        data={"circle": locked.circle_id},
    )
    return locked


def feed_by_token(token: str) -> CalendarFeed | None:
    """The live feed with this token, or None (unknown, revoked, or not a token at all)."""
    if len(token) != _TOKEN_LENGTH:
        return None
    return (
        CalendarFeed.objects.select_related("practitioner", "practitioner__user", "circle")
        .filter(token_digest=hash_token(token), revoked_at__isnull=True)
        .first()
    )


def live_feeds(*, practitioner: Practitioner) -> list[CalendarFeed]:
    """The practitioner's own live feeds (personal and per circle), for their page and API."""
    return list(
        CalendarFeed.objects.filter(practitioner=practitioner, revoked_at__isnull=True)
        .select_related("circle")
        .order_by("circle_id", "pk")
    )


def feed_note_read(feed: CalendarFeed, *, now: datetime | None = None) -> None:
    """Write down that the feed was read, at most once an hour (one UPDATE, no audit: it is
    bookkeeping, shown to the owner as "last read")."""
    moment = now or timezone.now()
    if feed.last_read_at is not None and moment - feed.last_read_at < READ_NOTED_EVERY:
        return
    CalendarFeed.objects.filter(pk=feed.pk).filter(
        Q(last_read_at__isnull=True) | Q(last_read_at__lt=moment - READ_NOTED_EVERY)
    ).update(last_read_at=moment)
    feed.last_read_at = moment


def _owner_audience(practitioner: Practitioner) -> Audience:
    """The owner's audience outside any request: a fresh user object, which carries no second
    factor, so circles that ask for one are left out (core.visibility.audience_for)."""
    user = get_user_model().objects.get(pk=practitioner.user_id)
    return audience_for(user)


def _with_exceptions(qs: QuerySet[Gathering]) -> QuerySet[Gathering]:
    return qs.select_related("circle", "link", "federation").prefetch_related(
        Prefetch(
            "occurrences",
            queryset=Occurrence.objects.filter(
                Q(moved_at__isnull=False) | Q(cancelled_at__isnull=False)
            ).order_by("original_start"),
            to_attr="calendar_exceptions",
        )
    )


def feed_gatherings(feed: CalendarFeed, *, now: datetime | None = None) -> list[Gathering] | None:
    """What a feed holds now, or None when it holds nothing any more (a circle feed whose
    owner is no longer counted among the circle's members: the address answers 404)."""
    moment = now or timezone.now()
    audience = _owner_audience(feed.practitioner)
    qs = Gathering.objects.filter(invited_q(audience))
    if feed.circle_id is not None:
        if feed.circle_id not in audience.circle_ids:
            return None
        qs = qs.filter(circle_id=feed.circle_id)
    since = moment - FEED_PAST
    qs = qs.filter(
        Q(ends_at__gte=since)
        | Exists(Occurrence.objects.filter(gathering=OuterRef("pk"), ends_at__gte=since))
    ).exclude(cancelled_at__lt=moment - FEED_KEEP_CANCELLED)
    # Over the limit, what is still to come is kept first (soonest first), then the recent past
    # (latest first): a federation with many gatherings in the last weeks still shows its next.
    coming = Q(ends_at__gte=moment) | Exists(
        Occurrence.objects.filter(gathering=OuterRef("pk"), ends_at__gte=moment)
    )
    kept = list(_with_exceptions(qs.filter(coming)).order_by("starts_at", "pk")[:FEED_LIMIT])
    room = FEED_LIMIT - len(kept)
    if room > 0:
        kept += _with_exceptions(qs.exclude(coming)).order_by("-starts_at", "-pk")[:room]
    return sorted(kept, key=lambda g: (g.starts_at, g.pk))


def _name_of(feed: CalendarFeed) -> str:
    if feed.circle is not None:
        return _("%(c)s: gatherings") % {"c": feed.circle.name}
    return _("My gatherings (Circlework)")


def calendar_for_feed(feed: CalendarFeed, *, now: datetime | None = None) -> bytes:
    """The feed's calendar (every gathering in it is one its owner is invited to). NotFound
    when the feed holds nothing any more (a circle feed whose owner left: `feed_gatherings`)."""
    moment = now or timezone.now()
    gatherings = feed_gatherings(feed, now=moment)
    if gatherings is None:
        raise NotFound(_("No such calendar feed."))
    entries = [
        ics.Entry(g, invited=True, exceptions=getattr(g, "calendar_exceptions", ()))
        for g in gatherings
    ]
    return ics.build(_name_of(feed), entries, now=moment)


def calendar_for_gathering(gathering: Gathering, *, user: Any) -> bytes:
    """One gathering's calendar, for someone who may see it (the caller asked
    gatherings.view): the online link and what it is for only if they are invited; the place
    if they may see it (gatherings.view_place: also anyone, for a public gathering)."""
    (loaded,) = _with_exceptions(Gathering.objects.filter(pk=gathering.pk))
    entry = ics.Entry(
        loaded,
        invited=allowed("gatherings.view_invited", user, loaded),
        exceptions=getattr(loaded, "calendar_exceptions", ()),
        show_place=allowed("gatherings.view_place", user, loaded),
    )
    return ics.build(loaded.title, [entry], now=timezone.now())


# --- reminders --------------------------------------------------------------------------------

DAY = timedelta(hours=24)
HOUR = timedelta(hours=1)
_LEADS_WANTING = {"day": {"day", "both"}, "hour": {"hour", "both"}}


def reminders_due(*, now: datetime | None = None) -> list[int]:
    """Occurrences starting within a day (or an hour) that have not had that reminder yet, of
    gatherings still going. The ids only: each is then sent in its own transaction."""
    moment = now or timezone.now()
    due = Occurrence.objects.filter(
        Q(starts_at__lte=moment + DAY, reminded_day_at__isnull=True)
        | Q(starts_at__lte=moment + HOUR, reminded_hour_at__isnull=True),
        starts_at__gt=moment,
        cancelled_at__isnull=True,
        gathering__cancelled_at__isnull=True,
    )
    return list(due.order_by("starts_at", "pk").values_list("pk", flat=True))


def _zone(practitioner: Practitioner) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(practitioner.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


@transaction.atomic
def occurrence_remind(occurrence_id: int, *, now: datetime | None = None) -> int:
    """Send the reminders now due for one occurrence, under a lock on its row, and note them
    sent: run twice, the second run sends nothing. Each invitee who chose that reminder (and
    has not said they are not coming) gets one notice, with the time in their own time zone.
    Returns how many were told."""
    moment = now or timezone.now()
    occurrence = deadlines.lock(Occurrence, occurrence_id, "gathering")
    gathering = occurrence.gathering
    if (
        occurrence.cancelled_at is not None
        or gathering.cancelled_at is not None
        or occurrence.starts_at <= moment
    ):
        return 0
    leads = set()
    if occurrence.reminded_day_at is None and occurrence.starts_at <= moment + DAY:
        leads.add("day")
    if occurrence.reminded_hour_at is None and occurrence.starts_at <= moment + HOUR:
        leads.add("hour")
    if not leads:
        return 0
    wanting = set().union(*(_LEADS_WANTING[lead] for lead in leads))
    not_coming = set(
        Attendance.objects.filter(occurrence=occurrence, answer=Answer.NO).values_list(
            "practitioner_id", flat=True
        )
    )
    people = [p for p in invitees(gathering) if p.pk not in not_coming]
    chosen = reminder_leads([p.pk for p in people])
    title = _("Reminder: %(t)s") % {"t": gathering.title}
    notices = []
    for person in people:
        if chosen[person.pk] not in wanting:
            continue
        with timezone.override(_zone(person)):
            when = f"{timezone.localtime(occurrence.starts_at):%A %d %B %Y, %H:%M}"
        notices.append(Notice(person, title, _("It starts on %(w)s (your time).") % {"w": when}))
    notify_each(
        notices,
        kind=NotificationKind.GATHERING_REMINDER,
        url=occurrence.get_absolute_url(),
        circle=gathering.circle,
        federation=gathering.federation if gathering.circle_id is None else None,
    )
    fields = []
    if "day" in leads:
        occurrence.reminded_day_at = moment
        fields.append("reminded_day_at")
    if "hour" in leads:
        occurrence.reminded_hour_at = moment
        fields.append("reminded_hour_at")
    occurrence.save(update_fields=fields)
    return len(notices)
