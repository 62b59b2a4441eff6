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
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


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


def audience_for(user: Any) -> Audience:
    """The audience for a request user; cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    cached = getattr(user, "_circlework_audience", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    from circlework.circles.models import Membership

    practitioner = getattr(user, "practitioner", None)
    if practitioner is None:
        return ANONYMOUS
    rows = list(
        Membership.objects.current()
        .filter(practitioner_id=practitioner.pk)
        .values_list("circle_id", "circle__federation_id")
    )
    audience = Audience(
        practitioner_id=practitioner.pk,
        circle_ids=frozenset(r[0] for r in rows),
        federation_ids=frozenset(r[1] for r in rows),
    )
    user._circlework_audience = audience
    return audience


def forget_audience(user: Any) -> None:
    """Call after a membership change within the same request."""
    if hasattr(user, "_circlework_audience"):
        del user._circlework_audience


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
    if level == Visibility.FEDERATION:
        return not audience.federation_ids.isdisjoint(federation_ids)
    if level == Visibility.CIRCLE:
        return not audience.circle_ids.isdisjoint(circle_ids)
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
        q |= Q(**{level_field: Visibility.CIRCLE, f"{circle_field}__in": audience.circle_ids})
    return q
