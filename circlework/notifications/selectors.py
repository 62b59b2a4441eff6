from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, Subquery, Window
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.core import names, request_memo
from circlework.core.visibility import (
    Audience,
    audience_for,
    can_see,
    circles_asking_second_factor,
    federations_behind_second_factor,
)
from circlework.notifications.models import (
    DEFAULT_DELIVERY,
    Delivery,
    Notification,
    NotificationKind,
    NotificationPreference,
    ReminderLead,
    ReminderSetting,
)


def _unread_key(practitioner: Practitioner) -> tuple[str, int]:
    return ("notifications.unread_count", practitioner.pk)


def unread_count(*, practitioner: Practitioner) -> int:
    """How many are unread (the header's badge). No query when this read-only request has
    already read them all (`unread` on the home page: fewer than its limit)."""
    memo = request_memo.current()
    if memo is not None and _unread_key(practitioner) in memo:
        known: int = memo[_unread_key(practitioner)]
        return known
    return Notification.objects.filter(recipient=practitioner, read_at__isnull=True).count()


def readable(
    notifications: Iterable[Notification], audience: Audience, *, by_email: bool = False
) -> list[Notification]:
    """The notifications with `shown_title` and `shown_body`: their stored texts given names as
    far as the recipient may see them now (circlework.core.names). Show these, never the stored
    `title` and `body`.

    A notice about a circle is a copy of the circle's records, so it is read where they are: one
    about a circle that asks for two-factor authentication, read by an audience that does not
    count as its member (a session or token without a second factor, or someone who left),
    shows a plain line saying so instead (`withheld_lines`). `by_email`: for the e-mail, which
    is read outside Circlework and carries the text as before (docs/threat-model.md says so).
    """
    rows = list(notifications)
    withheld = {} if by_email else withheld_lines(rows, audience)
    open_rows = [n for n in rows if n.pk not in withheld]
    texts = names.render_all(
        [(text, n.created_at) for n in open_rows for text in (n.title, n.body)], audience
    )
    for i, n in enumerate(open_rows):
        n.shown_title, n.shown_body = texts[2 * i], texts[2 * i + 1]
    for n in rows:
        if n.pk in withheld:
            n.shown_title, n.shown_body = withheld[n.pk], ""
    return rows


def withheld_lines(notifications: Iterable[Notification], audience: Audience) -> dict[int, str]:
    """Which notifications this audience may not read for want of a second factor, by id, with
    the line to show instead. At most two queries, however many notifications.

    The audience decides (core.visibility.audience_for): a notice about a circle that asks for
    two-factor authentication is read only while the circle is among the audience's circles; a
    notice to a federation only while the federation is the audience's, or when the second
    factor would not make it so (a member of a forming circle told of a new covenant reads it).
    """
    rows = list(notifications)
    circle_ids = {
        n.circle_id
        for n in rows
        if n.circle_id is not None and n.circle_id not in audience.circle_ids
    }
    circles = circles_asking_second_factor(circle_ids)
    federation_ids = {
        n.federation_id
        for n in rows
        if n.circle_id is None
        and n.federation_id is not None
        and n.federation_id not in audience.federation_ids
    }
    federations: dict[int, str] = {}
    if federation_ids and audience.practitioner_id is not None:
        federations = federations_behind_second_factor(audience.practitioner_id, federation_ids)
    lines: dict[int, str] = {}
    for n in rows:
        circle = circles.get(n.circle_id) if n.circle_id is not None else None
        if circle is not None:
            named = can_see(
                audience,
                level=circle.visibility,
                circle_ids=[circle.pk],
                federation_ids=[circle.federation_id],
            )
            lines[n.pk] = (
                _(
                    "A notice from %(c)s, a circle that asks for two-factor authentication — "
                    "sign in with your authenticator code to read it."
                )
                % {"c": circle.name}
                if named
                else _(
                    "A notice from a circle that asks for two-factor authentication — sign in "
                    "with your authenticator code to read it."
                )
            )
        elif n.circle_id is None and n.federation_id in federations:
            lines[n.pk] = _(
                "A notice to %(f)s, which you belong to through a circle that asks for "
                "two-factor authentication — sign in with your authenticator code to read it."
            ) % {"f": federations[n.federation_id]}  # federations are public (their register)
    return lines


def inbox(*, practitioner: Practitioner, limit: int = 50, user: Any = None) -> list[Notification]:
    """The newest notifications, readable. `user` is the signed-in recipient (it carries how the
    session signed in); without it, the recipient as seen without a second factor (e-mail)."""
    return readable(
        Notification.objects.filter(recipient=practitioner)[:limit],
        audience_for(user if user is not None else practitioner.user),
    )


# The inbox shows this many a page: a page stays small (tens of kilobytes) however many there are.
INBOX_PAGE_SIZE = 20


@dataclass(frozen=True)
class InboxPage:
    """One page of the inbox, newest first. `older` and `newer` are the cursors for the pages
    either side (a notification's id: the page starts after it), None where there is none."""

    notifications: list[Notification]
    older: int | None
    newer: int | None


def inbox_page(
    *,
    practitioner: Practitioner,
    before: int | None = None,
    after: int | None = None,
    user: Any = None,
    size: int = INBOX_PAGE_SIZE,
) -> InboxPage:
    """A page of the recipient's notifications, newest first: the newest, or those just older
    than `before`, or just newer than `after` (keyset pages on (created_at, id): new arrivals do
    not shift a page, and every page takes the same queries however long the inbox). A cursor
    that is not one of the recipient's notifications gives the newest page."""
    mine = Notification.objects.filter(recipient=practitioner)
    cursor = before if before is not None else after
    rows: list[Notification] = []
    has_older = has_newer = False
    if cursor is not None:
        at = Subquery(mine.filter(pk=cursor).values("created_at")[:1])
        if before is not None:
            older = mine.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=cursor))
            rows = list(older.order_by("-created_at", "-pk")[: size + 1])
            has_older, has_newer = len(rows) > size, True
            rows = rows[:size]
        else:
            newer = mine.filter(Q(created_at__gt=at) | Q(created_at=at, pk__gt=cursor))
            rows = list(newer.order_by("created_at", "pk")[: size + 1])
            has_older, has_newer = True, len(rows) > size
            rows = rows[:size][::-1]
    if not rows:
        rows = list(mine.order_by("-created_at", "-pk")[: size + 1])
        has_older, has_newer = len(rows) > size, False
        rows = rows[:size]
    shown = readable(rows, audience_for(user if user is not None else practitioner.user))
    return InboxPage(
        notifications=shown,
        older=shown[-1].pk if has_older and shown else None,
        newer=shown[0].pk if has_newer and shown else None,
    )


def unread(*, practitioner: Practitioner, limit: int = 8, user: Any = None) -> list[Notification]:
    """The newest `limit` unread notifications. The same query counts all the unread ones (a
    window over the whole filter, before the limit), remembered for the header's badge
    (`unread_count`), which then asks nothing."""
    rows = list(
        Notification.objects.filter(recipient=practitioner, read_at__isnull=True).annotate(
            unread_total=Window(Count("pk"))
        )[:limit]
    )
    memo = request_memo.current()
    if memo is not None:
        memo[_unread_key(practitioner)] = rows[0].unread_total if rows else 0
    return readable(rows, audience_for(user if user is not None else practitioner.user))


def preferences(*, practitioner: Practitioner) -> dict[str, str]:
    chosen = dict(
        NotificationPreference.objects.filter(practitioner=practitioner).values_list(
            "kind", "delivery"
        )
    )
    return {
        kind: str(chosen.get(kind) or DEFAULT_DELIVERY.get(kind, Delivery.DAILY))  # type: ignore[call-overload]
        for kind in NotificationKind.values
    }


def reminder_lead(*, practitioner: Practitioner) -> str:
    """When this practitioner wants reminding before a gathering (ReminderLead; default a day)."""
    return reminder_leads([practitioner.pk])[practitioner.pk]


def reminder_leads(practitioner_ids: Iterable[int]) -> dict[int, str]:
    """When each of these practitioners wants reminding before a gathering: one query."""
    ids = list(dict.fromkeys(practitioner_ids))
    chosen = dict(
        ReminderSetting.objects.filter(practitioner_id__in=ids).values_list(
            "practitioner_id", "gatherings"
        )
    )
    return {pk: str(chosen.get(pk) or ReminderLead.DAY) for pk in ids}
