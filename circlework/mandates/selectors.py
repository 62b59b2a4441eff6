"""Reads about mandates. The one place that answers "may this person act by mandate?"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.agreements.models import AgreementKind
from circlework.agreements.parameters import current_parameters
from circlework.circles.covenant import federation_rules
from circlework.circles.models import Circle, Federation
from circlework.circles.roles import PERMISSIONS, ROLES, Level, Role, role_with_overrides
from circlework.core.errors import InvalidInput
from circlework.core.permissions import allowed
from circlework.core.visibility import (
    A_FORMER_MEMBER,
    A_MEMBER,
    audience_for,
    can_see_name,
    name_reach,
)
from circlework.mandates.models import FederationNotice, Mandate

# --- the roles in force ---------------------------------------------------------------------
# Every role as the circle's roles agreement or the federation's covenant sets it.


def one_scope(circle: Circle | None, federation: Federation | None) -> None:
    """A mandate (and a role) belongs to a circle or to a federation: refuse both or neither."""
    if (circle is None) == (federation is None):
        raise InvalidInput(_("A mandate belongs to a circle or to a federation, not both."))


def circle_role_overrides(circle: Circle) -> dict[str, Any]:
    """role slug → overrides, from the circle's current agreement of kind "roles" (if any)."""
    params = current_parameters(circle, AgreementKind.ROLES) or {}
    roles = params.get("roles")
    return (
        {k: v for k, v in roles.items() if isinstance(v, dict)} if isinstance(roles, dict) else {}
    )


def federation_role_overrides(federation: Federation) -> dict[str, Any]:
    return dict(federation_rules(federation).roles)


def roles_for(*, circle: Circle | None = None, federation: Federation | None = None) -> list[Role]:
    """Every role of this level, as the circle's agreement or the federation's covenant sets it."""
    one_scope(circle, federation)
    if circle is not None:
        overrides = circle_role_overrides(circle)
        level = Level.CIRCLE
    else:
        assert federation is not None
        overrides = federation_role_overrides(federation)
        level = Level.FEDERATION
    return [
        role_with_overrides(r, overrides.get(r.slug)) for r in ROLES.values() if r.level == level
    ]


def role_for(
    slug: str, *, circle: Circle | None = None, federation: Federation | None = None
) -> Role:
    """The role as this circle (or federation) defines it. InvalidInput for an unknown role or
    a role of the other level."""
    one_scope(circle, federation)
    base = ROLES.get(slug)
    level = Level.CIRCLE if circle is not None else Level.FEDERATION
    if base is None or base.level != level:
        msg = (
            _("“%(r)s” is not a role a circle fills.")
            if level == Level.CIRCLE
            else _("“%(r)s” is not a role a federation fills.")
        ) % {"r": slug}
        raise InvalidInput(msg, fields={"role": [msg]})
    if circle is not None:
        overrides = circle_role_overrides(circle).get(slug)
    else:
        assert federation is not None
        overrides = federation_role_overrides(federation).get(slug)
    return role_with_overrides(base, overrides)


# --- mandates ---------------------------------------------------------------------------------


def _scope_q(circle: Circle | None, federation: Federation | None) -> Q:
    if (circle is None) == (federation is None):
        raise ValueError("Give a circle or a federation.")
    return Q(circle=circle) if circle is not None else Q(federation=federation)


def live_mandates_granting(
    perm: str,
    *,
    circle: Circle | None = None,
    federation: Federation | None = None,
    today: date | None = None,
) -> QuerySet[Mandate]:
    """Live mandates in the circle (or federation) whose scope includes `perm`."""
    live = Mandate.objects.live(today).filter(_scope_q(circle, federation))
    # JSON list containment differs between SQLite and PostgreSQL; scopes are tiny, so filter
    # the few live mandates of the scope in Python and return a queryset of their ids.
    ids = [m.pk for m in live.only("pk", "permissions") if perm in (m.permissions or [])]
    return Mandate.objects.filter(pk__in=ids).select_related("holder")


def holds(
    practitioner: Practitioner | None,
    perm: str,
    *,
    circle: Circle | None = None,
    federation: Federation | None = None,
    today: date | None = None,
) -> bool:
    """Does this practitioner hold a live mandate granting `perm` here?"""
    if practitioner is None:
        return False
    return (
        live_mandates_granting(perm, circle=circle, federation=federation, today=today)
        .filter(holder=practitioner)
        .exists()
    )


def is_mandated(
    perm: str,
    *,
    circle: Circle | None = None,
    federation: Federation | None = None,
    today: date | None = None,
) -> bool:
    """Has the circle (or federation) given this permission to someone by a live mandate?

    Some acts (recording a meeting with another circle, say) are open to every member until the
    circle chooses to give them to a role; from then on only the role's holder may do them.
    """
    return live_mandates_granting(perm, circle=circle, federation=federation, today=today).exists()


def lapsed_mandate(
    practitioner: Practitioner | None,
    perm: str,
    *,
    circle: Circle | None = None,
    federation: Federation | None = None,
    today: date | None = None,
) -> Mandate | None:
    """The practitioner's latest mandate here granting `perm` that is not live now (ended, ended
    early, or not yet started), so a refusal can say why; None if they never held one."""
    if practitioner is None:
        return None
    day = today or timezone.localdate()
    for m in Mandate.objects.filter(_scope_q(circle, federation), holder=practitioner).order_by(
        "-ends_on", "-pk"
    ):
        if perm in (m.permissions or []) and not m.is_live(day):
            return m
    return None


# --- Dates in words --------------------------------------------------------------------------
# A mandate's permissions lapse at the start of its end date (the server's local date): a mandate
# ending 30 December is live through 29 December. Every page and notice says so in one wording.


def day_words(day: date, *, short: bool = False) -> str:
    """30 December 2026 (in messages and notices) or 30 Dec 2026 (in tables and lists)."""
    return f"{day.day} {day:%b %Y}" if short else f"{day:%d %B %Y}"


def ends_words(ends_on: date, *, today: date | None = None, short: bool = False) -> str:
    """ "ends 30 Dec 2026 (the last day in the role is 29 Dec 2026)", or once that day has
    come, "ended on 30 Dec 2026 (the last day in the role was 29 Dec 2026)"."""
    day = today or timezone.localdate()
    if ends_on <= day:
        return _("ended on %(d)s (the last day in the role was %(l)s)") % {
            "d": day_words(ends_on, short=short),
            "l": day_words(ends_on - timedelta(days=1), short=short),
        }
    return _("ends %(d)s (the last day in the role is %(l)s)") % {
        "d": day_words(ends_on, short=short),
        "l": day_words(ends_on - timedelta(days=1), short=short),
    }


# --- Pages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MandateRow:
    mandate: Mandate
    role_name: str
    holder_name: str  # "a member" where the holder keeps their name from this viewer
    holder_id: int | None  # set only when the name is shown
    scope: list[str]  # what the mandate lets its holder do, in words
    today: date
    # The election that chose the holder, when this viewer may open it (`election_url_for`).
    election_url: str = ""

    @property
    def is_live(self) -> bool:
        return self.mandate.is_live(self.today)

    @property
    def review_due(self) -> bool:
        """The review falls today or within the coming month (once past: `review_overdue`)."""
        review = self.mandate.review_on
        return self.is_live and self.today <= review <= self.today + REVIEW_WINDOW

    @property
    def review_overdue(self) -> bool:
        """The review date has passed and the mandate is still live: shown to its holder (home)
        and to the circle or federation (the mandate's page and the mandates tables)."""
        return self.is_live and self.mandate.review_on < self.today

    @property
    def ending_soon(self) -> bool:
        return self.is_live and self.mandate.ends_on <= self.today + ENDING_SOON

    @property
    def where(self) -> str:
        """The circle's or the federation's name."""
        m = self.mandate
        scope = m.circle if m.circle_id is not None else m.federation
        return scope.name if scope is not None else ""

    @property
    def ends_words(self) -> str:
        """The end date in the one wording pages use (see `ends_words`)."""
        return ends_words(self.mandate.ends_on, today=self.today, short=True)

    @property
    def ended_on(self) -> date:
        m = self.mandate
        if m.ended_early_at is not None:
            return min(m.ends_on, timezone.localdate(m.ended_early_at))
        return m.ends_on


ENDING_SOON = timedelta(weeks=6)  # time to carry out the handover plan
REVIEW_WINDOW = timedelta(days=30)


def role_label(slug: str) -> str:
    role = ROLES.get(slug)
    return str(role.name) if role is not None else slug


def scope_words(permissions: Iterable[str]) -> list[str]:
    return [str(PERMISSIONS[p]) for p in permissions if p in PERMISSIONS]


def _rows(
    user: Any,
    mandates: Iterable[Mandate],
    *,
    reach: dict[int, tuple[set[int], set[int]]] | None = None,
    today: date | None = None,
) -> list[MandateRow]:
    """Rows for display, each holder's name shown only as far as its owner allows (the one
    name rule, core.visibility.can_see_name; `reach` when the holders' reach is known)."""
    day = today or timezone.localdate()
    audience = audience_for(user)
    mandates = list(mandates)
    if reach is None:
        reach = name_reach({m.holder_id for m in mandates if m.holder_id is not None})
    rows = []
    for m in mandates:
        p = m.holder
        name, pk = _("a former member"), None
        if p is not None:
            visible = can_see_name(audience, p, reach=reach[p.pk])
            name, pk = (p.display_name, p.pk) if visible else (_("a member"), None)
        rows.append(
            MandateRow(m, role_label(m.role), str(name), pk, scope_words(m.permissions or []), day)
        )
    return rows


def mandate_row(*, user: Any, mandate: Mandate) -> MandateRow:
    return replace(_rows(user, [mandate])[0], election_url=election_url_for(user, mandate))


def election_url_for(user: Any, mandate: Mandate) -> str:
    """The address of the election that chose the holder, if this viewer may follow it (the
    election's own visibility rule); "" otherwise, so the page names it in plain text."""
    election = mandate.election
    if election is None or not allowed("elections.view_election", user, election):
        return ""
    return election.get_absolute_url()


@dataclass(frozen=True)
class MandatesPage:
    live: list[MandateRow]
    past: list[MandateRow]
    upcoming: list[MandateRow]
    roles: list[Role]


PAST_SHOWN = 50


def _scope_page(
    user: Any, scope: Q, roles: list[Role], federation: Federation | None
) -> MandatesPage:
    today = timezone.localdate()
    related = ("holder", "circle", "federation", "election")
    base = Mandate.objects.filter(scope).select_related(*related)
    live = list(
        Mandate.objects.live(today)
        .filter(scope)
        .select_related(*related)
        .order_by("role", "starts_on")
    )
    upcoming = list(
        base.filter(starts_on__gt=today, ended_early_at__isnull=True).order_by("starts_on")
    )
    past = list(
        base.filter(Q(ends_on__lte=today) | Q(ended_early_at__isnull=False)).order_by(
            "-ends_on", "-pk"
        )[:PAST_SHOWN]
    )
    # Every holder's reach for the name rule in one query, whatever the number of mandates.
    reach = name_reach({m.holder_id for m in live + upcoming + past if m.holder_id is not None})
    return MandatesPage(
        live=_rows(user, live, reach=reach, today=today),
        past=_rows(user, past, reach=reach, today=today),
        upcoming=_rows(user, upcoming, reach=reach, today=today),
        roles=roles,
    )


def circle_mandates_page(*, user: Any, circle: Circle) -> MandatesPage:
    return _scope_page(user, Q(circle=circle), roles_for(circle=circle), federation=None)


def federation_mandates_page(*, user: Any, federation: Federation) -> MandatesPage:
    return _scope_page(
        user,
        Q(federation=federation),
        roles_for(federation=federation),
        federation=federation,
    )


def circle_live_mandates(*, user: Any, circle: Circle) -> list[MandateRow]:
    """For the circle's page: its live mandates, by role."""
    qs = (
        Mandate.objects.live()
        .filter(circle=circle)
        .select_related("holder", "circle")
        .order_by("role", "starts_on")
    )
    return _rows(user, qs)


def mandates_held(*, practitioner: Practitioner, user: Any = None) -> list[MandateRow]:
    """The practitioner's live mandates, soonest end first (for their home page and the API).

    Only those whose scope is in the viewer's audience (the rule the holder reads their mandate
    by, mandates.rules.holder_in_scope): `user` is the signed-in practitioner, whose session
    may not count in a circle that asks for two-factor authentication. Without it, as seen
    without a second factor.
    """
    viewer = user if user is not None else practitioner.user
    audience = audience_for(viewer)
    qs = (
        Mandate.objects.live()
        .filter(holder=practitioner)
        .filter(
            Q(circle_id__in=audience.circle_ids)
            | Q(circle__isnull=True, federation_id__in=audience.federation_ids)
        )
        .select_related("holder", "circle", "federation")
        .order_by("ends_on", "pk")
    )
    return _rows(viewer, qs)


def mandates_of(*, practitioner: Practitioner, include_past: bool = True) -> QuerySet[Mandate]:
    qs = Mandate.objects.filter(holder=practitioner).select_related(
        "holder", "circle", "circle__federation", "federation"
    )
    return qs if include_past else qs.live()


# --- Federation notices ------------------------------------------------------------------------

NOTICES_PER_PAGE = 10


@dataclass(frozen=True)
class NoticeRow:
    notice: FederationNotice
    sender: str  # the holder's name as this reader may see it ("a member" where they keep it)
    sender_id: int | None  # set only when the name is shown
    role_name: str  # the role they sent it by; "" if that mandate is gone


@dataclass(frozen=True)
class NoticesPage:
    page: Page[FederationNotice]
    rows: list[NoticeRow]


def federation_notices_page(
    *,
    user: Any,
    federation: Federation,
    page: str | int | None = None,
    notice: str | int | None = None,
) -> NoticesPage:
    """One page of the notices the federation's officers sent, newest first, each sender named
    as far as they let this reader see (core.visibility.names_for). The same number of queries
    for any page and any number of notices. Who may read them is the rule's question
    (mandates.view_federation_notices), asked by the view."""
    notices = (
        FederationNotice.objects.filter(federation=federation)
        .select_related("mandate", "mandate__holder")
        .order_by("-created_at", "-pk")
    )
    if notice is not None and str(notice).isdigit():
        # A notification's link: the page that holds this notice (newer ones come before it).
        target = notices.filter(pk=int(notice)).values_list("created_at", "pk").first()
        if target is not None:
            newer = notices.filter(
                Q(created_at__gt=target[0]) | Q(created_at=target[0], pk__gt=target[1])
            ).count()
            page = newer // NOTICES_PER_PAGE + 1
    current = Paginator(notices, NOTICES_PER_PAGE).get_page(page)
    shown = list(current.object_list)
    audience = audience_for(user)
    # Every sender's reach for the name rule in one query, however many notices.
    reach = name_reach(
        {n.mandate.holder_id for n in shown if n.mandate is not None and n.mandate.holder_id}
    )
    rows = []
    for n in shown:
        holder = n.mandate.holder if n.mandate is not None else None
        name, pk = str(A_FORMER_MEMBER), None
        if holder is not None:
            if can_see_name(audience, holder, reach=reach[holder.pk]):
                name, pk = str(holder.display_name), holder.pk
            else:
                name = str(A_MEMBER)
        role = role_label(n.mandate.role) if n.mandate is not None else ""
        rows.append(NoticeRow(notice=n, sender=name, sender_id=pk, role_name=role))
    return NoticesPage(current, rows)
