"""Who may see what: the one place that decides visibility.

Every record carries one level. A viewer is reduced to an `Audience` (their practitioner id,
the circles they currently belong to and those circles' federations); a record is reduced to its
owner, circles and federations. `can_see` compares the two; `visible_q` expresses the same rule as
a query filter for selectors. Views, the API and selectors all go through here (via each app's
rules.py predicates), so nothing checks visibility ad hoc.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import FilteredRelation, Q
from django.utils.translation import gettext_lazy as _

from circlework.core import request_memo
from circlework.core.models_by_label import circle_model, membership_model, practitioner_model


class Visibility(models.TextChoices):
    PRIVATE = "private", _("Only me")
    CIRCLE = "circle", _("My circles")
    FEDERATION = "federation", _("Members of my federation")
    PUBLIC = "public", _("Everyone, including the public")


# Sensitive text (supervision notes, self-assessments, conflict cases) may only use these.
SENSITIVE_LEVELS = (Visibility.PRIVATE, Visibility.CIRCLE)


@dataclass(frozen=True)
class Audience:
    practitioner_id: int | None = None
    circle_ids: frozenset[int] = field(default_factory=frozenset)
    federation_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_anonymous(self) -> bool:
        return self.practitioner_id is None


ANONYMOUS = Audience()


# The circle statuses that count as "the federation": its audience here, and (through
# circles.covenant, which reads this) its elections' electorate and the circles whose consent its
# decisions need. A circle counts once the federation has validated it ("member"); a forming
# circle's members see what the public sees plus what their own circle and its links share.
FEDERATION_STATUSES: tuple[str, ...] = ("member",)


# Set on the request's user by the session middleware (from allauth's record of how this
# session signed in) and by the API's token check (from how the token was created). Absent means
# "no second factor": code that is not serving a request must say so explicitly.
SECOND_FACTOR_ATTR = "_circlework_second_factor"


def mark_second_factor(user: Any, used: bool) -> None:
    """Record whether this user's current session (or token) used a second factor."""
    setattr(user, SECOND_FACTOR_ATTR, used)
    forget_audience(user)


def second_factor_used(user: Any) -> bool:
    return bool(getattr(user, SECOND_FACTOR_ATTR, False))


def audience_for(user: Any) -> Audience:
    """The audience for a request user; cached on the user object for the request.

    Two rules are decided here and nowhere else:
    - a member of a circle that requires two-factor authentication counts as its member only
      in a session (or through a token) that used a second factor;
    - "the federation" is the circles the federation has validated (status member): a member
      of a forming circle is not in the federation's audience until the circle is validated.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    cached = getattr(user, "_circlework_audience", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    practitioner = getattr(user, "practitioner", None)
    if practitioner is None:
        return ANONYMOUS
    rows = own_memberships(user)
    second_factor = second_factor_used(user)
    counted = [row for row in rows if second_factor or not row[3]]
    audience = Audience(
        practitioner_id=practitioner.pk,
        circle_ids=frozenset(r[0] for r in counted),
        federation_ids=frozenset(r[1] for r in counted if r[2] in FEDERATION_STATUSES),
    )
    user._circlework_audience = audience
    # The same rows are the viewer's own reach for their name (`name_reach`: every current
    # membership, whatever the second factor or the circle's status): remembered for the
    # request, so a page that names its viewer asks no more.
    reaches = _reach_memo()
    if reaches is not None:
        reaches[practitioner.pk] = ({r[0] for r in rows}, {r[1] for r in rows})
    return audience


# A current membership of the viewer's: (circle id, its federation id, its status, whether it
# requires a second factor, its slug, its name, its federation's name, its meeting pattern).
OwnMembership = tuple[int, int, str, bool, str, str, str, str]


def own_memberships(user: Any) -> list[OwnMembership]:
    """The signed-in user's current memberships, whatever the second factor: one query, kept
    on the user object for the request (like the audience made from them). What the audience
    counts of them is `audience_for`'s to decide; the two-factor hint
    (circles.two_factor) reads the circles that ask for a second factor from the same rows, and
    the home page's "Your circles" (circles.contributions) its list."""
    cached = getattr(user, "_circlework_memberships", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    practitioner = getattr(user, "practitioner", None)
    if practitioner is None:
        return []
    rows: list[OwnMembership] = list(
        membership_model()
        .objects.current()
        .filter(practitioner_id=practitioner.pk)
        .values_list(
            "circle_id",
            "circle__federation_id",
            "circle__status",
            "circle__requires_two_factor",
            "circle__slug",
            "circle__name",
            "circle__federation__name",
            "circle__meeting_pattern",
        )
    )
    user._circlework_memberships = rows
    return rows


def forget_audience(user: Any) -> None:
    """Call after a membership change within the same request."""
    for attr in ("_circlework_audience", "_circlework_memberships"):
        if hasattr(user, attr):
            delattr(user, attr)
    request_memo.forget_all()


# What the two-factor rule of `audience_for` withholds, for pages that say so instead of
# showing nothing (a notice about such a circle, a mandate of such a federation). Here, beside
# the rule, so that "who would count in with a second factor" is decided once.


def circles_asking_second_factor(circle_ids: Iterable[int]) -> dict[int, Any]:
    """Those of these circles that ask their members for two-factor authentication, by id, with
    their pk, name, visibility and federation_id loaded. One query; none for no ids."""
    wanted = set(circle_ids)
    if not wanted:
        return {}
    rows = (
        circle_model()
        .objects.filter(pk__in=wanted, requires_two_factor=True)
        .only("pk", "name", "visibility", "federation_id")
    )
    return {c.pk: c for c in rows}


def federations_behind_second_factor(
    practitioner_id: int, federation_ids: Iterable[int]
) -> dict[int, str]:
    """Of these federations, those (id → name) this person would count in with a second factor:
    through a validated circle of theirs that asks for it (the one reason `audience_for` leaves a
    member of the federation out). One query."""
    return dict(
        membership_model()
        .objects.current()
        .filter(
            practitioner_id=practitioner_id,
            circle__requires_two_factor=True,
            circle__status__in=FEDERATION_STATUSES,
            circle__federation_id__in=set(federation_ids),
        )
        .values_list("circle__federation_id", "circle__federation__name")
    )


def can_see(
    audience: Audience,
    *,
    level: str,
    owner_id: int | None = None,
    circle_ids: Iterable[int] = (),
    federation_ids: Iterable[int] = (),
) -> bool:
    if owner_id is not None and audience.practitioner_id == owner_id:
        return True
    if level == Visibility.PUBLIC:
        return True
    if audience.is_anonymous:
        return False
    # A record's own circles always see it at circle level or wider, validated or not: a
    # forming circle's members read their own circle's federation-level records.
    if level in (Visibility.FEDERATION, Visibility.CIRCLE) and not audience.circle_ids.isdisjoint(
        circle_ids
    ):
        return True
    if level == Visibility.FEDERATION:
        return not audience.federation_ids.isdisjoint(federation_ids)
    return False


def visible_q(
    audience: Audience,
    *,
    level_field: str,
    owner_field: str | None = None,
    circle_field: str | None = None,
    federation_field: str | None = None,
) -> Q:
    """The `can_see` rule as a filter. Field paths are relative to the queried model."""
    q = Q(**{level_field: Visibility.PUBLIC})
    if audience.is_anonymous:
        return q
    if owner_field:
        q |= Q(**{owner_field: audience.practitioner_id})
    if federation_field:
        q |= Q(
            **{
                level_field: Visibility.FEDERATION,
                f"{federation_field}__in": audience.federation_ids,
            }
        )
    if circle_field:
        q |= Q(
            **{
                f"{level_field}__in": (Visibility.CIRCLE, Visibility.FEDERATION),
                f"{circle_field}__in": audience.circle_ids,
            }
        )
    return q


# --- names ----------------------------------------------------------------------------------------
# Who may see a practitioner's name: decided here and nowhere else. Pages, the API, notifications,
# the circle history and exports all ask `can_see_name` / `names_for`; stored texts carry ids and
# are given names when read (circlework.core.names), so a name never outlives its owner's choice.

A_MEMBER = _("a member")
A_FORMER_MEMBER = _("a former member")


Reach = tuple[set[int], set[int]]

_REACH_MEMO = "core.visibility.name_reach"


def _reach_memo() -> dict[int, Reach] | None:
    """The reaches already read in this read-only request (core.request_memo), by practitioner."""
    memo = request_memo.current()
    if memo is None:
        return None
    reaches: dict[int, Reach] = memo.setdefault(_REACH_MEMO, {})
    return reaches


def name_reach(practitioner_ids: Iterable[int]) -> dict[int, Reach]:
    """Each practitioner's reach for their name: the circles they belong to now, and those
    circles' federations. One query for any number of practitioners; none for those already
    read in this request (core.request_memo)."""
    wanted = set(practitioner_ids)
    known = _reach_memo()
    reach: dict[int, Reach] = {}
    missing = wanted
    if known is not None:
        reach = {pk: known[pk] for pk in wanted if pk in known}
        missing = wanted - set(reach)
    fresh: dict[int, Reach] = {pk: (set(), set()) for pk in missing}
    if fresh:
        rows = (
            membership_model()
            .objects.current()
            .filter(practitioner_id__in=missing)
            .values_list("practitioner_id", "circle_id", "circle__federation_id")
        )
        for pk, circle_id, federation_id in rows:
            fresh[pk][0].add(circle_id)
            fresh[pk][1].add(federation_id)
        if known is not None:
            known.update(fresh)
    # Copies: a caller may change what it is given without changing what is remembered.
    return {pk: (set(c), set(f)) for pk, (c, f) in {**reach, **fresh}.items()}


def remember_reach(reach: dict[int, Reach]) -> None:
    """Reaches a selector read along with its own rows (every current membership of each of
    these practitioners, as `name_reach` reads them): remembered for the request, so that
    `name_reach` asks nothing more of them."""
    known = _reach_memo()
    if known is not None:
        for pk, (circles, federations) in reach.items():
            known.setdefault(pk, (set(circles), set(federations)))


def circle_audience(circle: Any) -> Audience:
    """What every member of a circle may see, as one audience: for a text written once for all
    of them (a proposal put to the circle), which must show nothing one of them may not see."""
    federations = frozenset({circle.federation_id}) if _is_validated(circle) else frozenset()
    return Audience(
        practitioner_id=0, circle_ids=frozenset({circle.pk}), federation_ids=federations
    )


def _is_validated(circle: Any) -> bool:
    return circle.status in FEDERATION_STATUSES


def can_see_name(
    audience: Audience,
    practitioner: Any,
    *,
    reach: tuple[Iterable[int], Iterable[int]] | None = None,
) -> bool:
    """Whether this audience may see the practitioner's name, by the practitioner's own setting.

    "My circles" means the circles the practitioner belongs to now; "my federation" their
    circles' federations (and the audience's federation counts only validated circles, see
    `audience_for`). `reach` is the practitioner's (circles, federations) when already known.
    """
    if practitioner is None:
        return False
    if reach is None:
        reach = name_reach([practitioner.pk])[practitioner.pk]
    circles, federations = reach
    level = str(practitioner.display_name_visibility)
    # The levels widen one another (can_see): a name shown to the federation is shown to the
    # person's own circles too, even a forming circle whose members are not yet "the federation".
    return can_see(
        audience,
        level=level,
        owner_id=practitioner.pk,
        circle_ids=circles,
        federation_ids=federations,
    )


def name_for(audience: Audience, practitioner: Any, *, hidden: str | None = None) -> str:
    """The practitioner's name as this audience may see it: their name, "a member" (or `hidden`)
    where they keep it from this audience, "a former member" where the account is gone."""
    if practitioner is None:
        return str(A_FORMER_MEMBER)
    if can_see_name(audience, practitioner):
        return str(practitioner.display_name)
    return str(A_MEMBER) if hidden is None else hidden


def names_for(
    audience: Audience, practitioners: Iterable[Any], *, hidden: str | None = None
) -> dict[int, str]:
    """`name_for` for many at once (practitioners or their ids; None is skipped), by id, in two
    queries at most; those given by id are read with their reach (`name_reach`) in one. An id
    with no practitioner (a deleted account) is "a former member"."""
    objects: dict[int, Any] = {}
    ids: set[int] = set()
    for item in practitioners:
        if item is None:
            continue
        if isinstance(item, int):
            ids.add(item)
        else:
            objects[item.pk] = item
    missing = ids - set(objects)
    read, reach = _read_with_reach(missing) if missing else ({}, {})
    reach.update(name_reach(set(objects) - set(read)))
    objects.update(read)
    return _shown_names(audience, objects, reach, ids, hidden)


def _shown_names(
    audience: Audience,
    objects: dict[int, Any],
    reach: dict[int, Reach],
    ids: set[int],
    hidden: str | None,
) -> dict[int, str]:
    shown = {
        pk: (
            str(p.display_name)
            if can_see_name(audience, p, reach=reach[pk])
            else (str(A_MEMBER) if hidden is None else hidden)
        )
        for pk, p in objects.items()
    }
    for pk in ids - set(objects):
        shown[pk] = str(A_FORMER_MEMBER)
    return shown


def people_and_names(
    audience: Audience, ids: Iterable[int], *, hidden: str | None = None
) -> tuple[dict[int, Any], dict[int, str]]:
    """The practitioners with these ids (pk, name, its level, when they joined) and `names_for`
    them, in one query: they are read with their reach."""
    wanted = set(ids)
    if not wanted:
        return {}, {}
    people, reach = _read_with_reach(wanted)
    return people, _shown_names(audience, people, reach, wanted, hidden)


def _read_with_reach(ids: set[int]) -> tuple[dict[int, Any], dict[int, Reach]]:
    """The practitioners with these ids (what the name rule reads of them), and in the same
    query their reach as `name_reach` reads it (their current memberships, `current()`), which
    is remembered for the request as `name_reach` remembers it."""
    model = practitioner_model()
    rows = (
        model.objects.filter(pk__in=ids)
        .annotate(
            _now_in=FilteredRelation("memberships", condition=Q(memberships__left_at__isnull=True))
        )
        .values_list(
            "pk",
            "display_name",
            "display_name_visibility",
            "created_at",
            "_now_in__circle_id",
            "_now_in__circle__federation_id",
        )
        .order_by()
    )
    found: dict[int, Any] = {}
    reach: dict[int, Reach] = {}
    for pk, name, level, created_at, circle_id, federation_id in rows:
        if pk not in found:
            found[pk] = model(
                pk=pk, display_name=name, display_name_visibility=level, created_at=created_at
            )
            reach[pk] = (set(), set())
        if circle_id is not None:
            reach[pk][0].add(circle_id)
            reach[pk][1].add(federation_id)
    remember_reach(reach)
    return found, reach
