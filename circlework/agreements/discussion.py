"""Reads for an ethical statement's page and a circulation's page: the statement's circulations
and the federation's comments, each a page at a time from the latest (agreements.paging), as one
viewer may read them.

Each list is one query whatever its length or whether it is empty: the rows with the count of
the whole list, and with each name's reach for this viewer (whether the person shares a circle,
or a federation, with the viewer now: all the one name rule asks of it, core.visibility), so no
name costs a query of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.aggregates import Count, Max
from django.db.models.functions import Coalesce, FirstValue

from circlework.agreements.models import Agreement, EthicsCirculation, EthicsComment
from circlework.agreements.paging import LatestPage, latest_page
from circlework.agreements.selectors import CommentRow, _shown_name
from circlework.circles.models import Membership
from circlework.core.visibility import Audience, audience_for

# A statement's page shows this many of its circulations, and of the comments on them, at once.
CIRCULATIONS_PER_PAGE = 5
COMMENTS_PER_PAGE = 20
NEWEST_FIRST = ("-created_at", "-id")


def _with_reach(rows: QuerySet[Any], audience: Audience, person: str) -> QuerySet[Any]:
    """`rows` with whether the practitioner in the field `person` belongs now to one of the
    viewer's circles, and to a circle of one of the viewer's federations."""
    current = Membership.objects.current().filter(practitioner_id=OuterRef(person))
    annotated: QuerySet[Any] = rows.annotate(
        shares_circle=Exists(current.filter(circle_id__in=sorted(audience.circle_ids))),
        shares_federation=Exists(
            current.filter(circle__federation_id__in=sorted(audience.federation_ids))
        ),
    )
    return annotated


def _name(audience: Audience, row: Any, practitioner: Any, circle: Any) -> str:
    if practitioner is None:
        return _shown_name(audience, None, circle)
    reach = (
        set(audience.circle_ids) if row.shares_circle else set(),
        set(audience.federation_ids) if row.shares_federation else set(),
    )
    return _shown_name(audience, practitioner, circle, {practitioner.pk: reach})


@dataclass(frozen=True)
class CirculationRow:
    circulation: EthicsCirculation
    by: str  # who circulated it, named as far as they allow
    comment_count: int


@dataclass(frozen=True)
class Circulations:
    page: LatestPage[EthicsCirculation]
    rows: list[CirculationRow]
    latest_id: int | None  # the newest circulation (comments added on the page go to it)
    current_circulated_at: datetime | None  # when the current version was circulated, if it was


def statement_circulations(*, user: Any, agreement: Agreement, page: int = 1) -> Circulations:
    """The statement's circulations, its adopted versions and the drafts that led to it, newest
    first, a page at a time; one query."""
    audience = audience_for(user)
    comments = (
        EthicsComment.objects.filter(circulation=OuterRef("pk"))
        .order_by()
        .values("circulation")
        .annotate(n=Count("pk"))
        .values("n")
    )
    current = agreement.current_version_id
    rows = _with_reach(
        EthicsCirculation.objects.filter(Q(agreement=agreement) | Q(proposal__agreement=agreement))
        .filter(circle_id=agreement.circle_id)
        .select_related("circle", "version", "circulated_by")
        .defer("text", "version__text", "version__parameters"),
        audience,
        "circulated_by_id",
    ).annotate(
        comment_count=Coalesce(Subquery(comments), Value(0), output_field=IntegerField()),
        latest_id=Window(FirstValue("pk"), order_by=[F("circulated_at").desc(), F("id").desc()]),
        current_circulated_at=Window(
            Max(
                Case(
                    When(version_id=current, then=F("circulated_at")),
                    default=None,
                    output_field=DateTimeField(),
                )
                if current is not None
                else Value(None, output_field=DateTimeField())
            )
        ),
    )
    shown = latest_page(
        rows, number=page, size=CIRCULATIONS_PER_PAGE, newest_first=("-circulated_at", "-id")
    )
    newest_first = list(reversed(shown.rows))  # a list of circulations reads newest first
    head = newest_first[0] if newest_first else None
    return Circulations(
        page=shown,
        rows=[
            CirculationRow(c, _name(audience, c, c.circulated_by, c.circle), c.comment_count)
            for c in newest_first
        ],
        latest_id=head.latest_id if head is not None else None,
        current_circulated_at=head.current_circulated_at if head is not None else None,
    )


@dataclass(frozen=True)
class Comments:
    page: LatestPage[EthicsComment]
    rows: list[CommentRow]  # oldest first


def _comments(rows: QuerySet[EthicsComment], *, user: Any, page: int) -> Comments:
    audience = audience_for(user)
    shown = latest_page(
        _with_reach(rows.select_related("author", "author_circle"), audience, "author_id"),
        number=page,
        size=COMMENTS_PER_PAGE,
        newest_first=NEWEST_FIRST,
    )
    return Comments(
        page=shown,
        rows=[CommentRow(c, _name(audience, c, c.author, c.author_circle)) for c in shown.rows],
    )


def statement_comments(*, user: Any, agreement: Agreement, page: int = 1) -> Comments:
    """The federation's comments on every circulation of the statement, the latest first, a page
    at a time (each with its circulation, for the page to say which it answers); one query."""
    rows = (
        EthicsComment.objects.filter(
            Q(circulation__agreement=agreement) | Q(circulation__proposal__agreement=agreement)
        )
        .filter(circulation__circle_id=agreement.circle_id)
        .select_related("circulation__circle", "circulation__version")
        .defer(
            "circulation__text", "circulation__version__text", "circulation__version__parameters"
        )
    )
    return _comments(rows, user=user, page=page)


def circulation_comments(*, user: Any, circulation: EthicsCirculation, page: int = 1) -> Comments:
    """The comments on one circulation, the latest first, a page at a time; one query."""
    return _comments(EthicsComment.objects.filter(circulation=circulation), user=user, page=page)
