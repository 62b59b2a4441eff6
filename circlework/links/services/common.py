"""What the links use cases share: telling and recording for both circles, locking a link,
the federation's links as edges, and the texts several of them give.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from types import SimpleNamespace
from typing import Any

from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle, Membership
from circlework.circles.names import a_circle, may_name_circle
from circlework.circles.selectors import current_members
from circlework.core import audit, deadlines
from circlework.core.errors import Conflict
from circlework.core.visibility import circle_audience
from circlework.links.models import (
    PENDING_STATUSES,
    REQUEST_EXPIRES_AFTER,
    CircleLink,
    LinkStatus,
    stale_request_q,
)
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import notify_many


def day_text(d: date) -> str:
    return date_format(d, "j F Y")


def is_current_member(circle: Circle, practitioner: Practitioner) -> bool:
    return Membership.objects.current().filter(circle=circle, practitioner=practitioner).exists()


def possessive(name: str) -> str:
    return f"{name}’" if name.endswith("s") else f"{name}’s"


def tell(
    circles: Iterable[Circle],
    *,
    title: str,
    body: str = "",
    url: str = "",
    exclude: Iterable[int | None] = (),
    kind: str = NotificationKind.CIRCLE_LINK,
) -> int:
    """Notify every current member of these circles once (someone in both is told once)."""
    skip = {pk for pk in exclude if pk is not None}
    told = 0
    for circle in circles:
        members = list(current_members(circle=circle, exclude=list(skip)))
        notify_many(members, kind=kind, title=title, body=body, url=url, circle=circle)
        skip.update(member.pk for member in members)
        told += len(members)
    return told


def record(
    *,
    actor: Practitioner | None,
    verb: str,
    link: CircleLink,
    summary: str,
    circles: Sequence[Circle],
    data: dict[str, object] | None = None,
) -> None:
    """One audit event in the history of each circle concerned (never with reasons or notes)."""
    for circle in circles:
        audit.record(
            actor=actor,
            verb=verb,
            target=link,
            circle=circle,
            summary=summary,
            data={
                "asking": link.asking_circle_id,
                "validating": link.validating_circle_id,
                **(data or {}),
            },
        )


def lock_link(link: CircleLink) -> CircleLink:
    return deadlines.lock(
        CircleLink, link.pk, "asking_circle", "validating_circle", "federation", "decision"
    )


def both_circles(link: CircleLink) -> tuple[Circle, Circle]:
    return link.asking_circle, link.validating_circle


def federation_edges(
    federation_id: int, *, today: date, live_only: bool, exclude: Iterable[int] = ()
) -> list[tuple[int, int]]:
    """The federation's links as (asking, validating) pairs: live ones, or open and live ones.
    A request past its expiry is not open, whether or not the worker has marked it expired."""
    live = Q(status=LinkStatus.VALIDATED, lapses_on__gt=today)
    pending = Q(status__in=PENDING_STATUSES) & ~stale_request_q()
    condition = live if live_only else live | pending
    rows = (
        CircleLink.objects.filter(condition, federation_id=federation_id)
        .exclude(pk__in=list(exclude))
        .values_list("asking_circle_id", "validating_circle_id")
    )
    return list(rows)


def only_validated_circles_validate() -> str:
    """Why a circle the federation has not validated cannot validate another (outside founding)."""
    return _("Only a circle the federation has validated can validate another circle.")


def not_counting_text(link: CircleLink) -> str:
    """Why a validated link does not count toward the asking circle's validation."""
    return (
        _(
            "It does not count toward %(a)s’s validation: %(v)s was not validated when it "
            "decided, and the federation already had enough validated circles."
        )
        % {"a": link.asking_circle.name, "v": link.validating_circle.name}
        + " "
        + only_validated_circles_validate()
    )


def cannot_validate_message(validating: Circle) -> str:
    return (
        only_validated_circles_validate()
        + " "
        + _(
            "%(v)s is not validated yet, and the federation already has enough validated "
            "circles: ask one of them."
        )
        % {"v": validating.name}
    )


def readers_of(*circles: Circle) -> list[SimpleNamespace]:
    """Stand-ins for "every member of these circles" as viewers, for a text they all read: each
    carries its circle's audience (core.visibility.circle_audience), so the circle name rule
    (circles.names.circle_name_for) decides for them as for any viewer."""
    return [
        SimpleNamespace(is_authenticated=True, _circlework_audience=circle_audience(c))
        for c in circles
    ]


def triangle_message(a: Circle, b: Circle, closers: list[int], *, readers: Sequence[Any]) -> str:
    """Why the triangle rule refuses the link. A closing circle is named only if every reader
    may see it (the circle name rule); otherwise it is "a circle"."""
    names = [
        c.name if all(may_name_circle(r, c) for r in readers) else a_circle()
        for c in Circle.objects.filter(pk__in=closers).order_by("name")
    ]
    return _(
        "The federation's covenant asks that no three circles are all linked with each other, so "
        "that validation keeps reaching outward: %(a)s and %(b)s are both already linked with %(c)s."
    ) % {"a": a.name, "b": b.name, "c": ", ".join(names)}


def expired_conflict(link: CircleLink) -> Conflict:
    return Conflict(
        _(
            "This request expired: it was not decided within %(n)s days of being asked. %(a)s can "
            "ask again."
        )
        % {"n": REQUEST_EXPIRES_AFTER.days, "a": link.asking_circle.name}
    )
