"""Reads for agreements: a circle's forms, reviews due, lineage (diffs: core.diff)."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.agreements.models import (
    Agreement,
    AgreementKind,
    AgreementVersion,
    EthicsCirculation,
    EthicsComment,
)
from circlework.agreements.parameters import adopted
from circlework.circles.models import Circle
from circlework.circles.names import circle_name_for
from circlework.circles.selectors import circles_visible_to
from circlework.core.permissions import allowed
from circlework.core.visibility import (
    Audience,
    Visibility,
    audience_for,
    can_see,
    can_see_name,
    name_reach,
    visible_q,
)


def visible_agreements_q(audience: Audience) -> Q:
    """`rules.can_view_agreement` as a filter: the circle's own members read all its agreements;
    anyone else only as widely as both the agreement and its circle's page allow."""
    circle_ids = list(audience.circle_ids)
    as_chosen = visible_q(
        audience,
        level_field="visibility",
        circle_field="circle_id",
        federation_field="circle__federation_id",
    )
    within_the_circle = visible_q(
        audience,
        level_field="circle__visibility",
        circle_field="circle_id",
        federation_field="circle__federation_id",
    )
    return Q(circle_id__in=circle_ids) | (as_chosen & within_the_circle)


def circle_agreements(*, circle: Circle) -> QuerySet[Agreement]:
    return circle.agreements.select_related(
        "current_version", "borrowed_from__agreement__circle"
    ).order_by("kind", "title")


# Members are told of a review this many days before it is due, or, for an agreement reviewed
# more often than every two months, half its interval before (15 days a month): an agreement
# adopted today is never "due for review".
REVIEW_NOTICE_DAYS = 30
NOTICE_DAYS_PER_MONTH = 15


def notice_days(interval_months: int, within_days: int = REVIEW_NOTICE_DAYS) -> int:
    return min(within_days, NOTICE_DAYS_PER_MONTH * max(1, interval_months))


def review_due_q(*, today: date, within_days: int = REVIEW_NOTICE_DAYS) -> Q:
    """`is_review_due` as a filter."""
    full = -(-within_days // NOTICE_DAYS_PER_MONTH)  # from this interval on, the whole notice
    due = Q(review_interval_months__gte=full, review_due__lte=today + timedelta(days=within_days))
    for months in range(1, full):
        due |= Q(
            review_interval_months=months,
            review_due__lte=today + timedelta(days=notice_days(months, within_days)),
        )
    return Q(current_version__isnull=False, review_due__isnull=False) & due


def is_review_due(
    agreement: Agreement, *, today: date | None = None, within_days: int = REVIEW_NOTICE_DAYS
) -> bool:
    """Whether the agreement's review is due (or overdue): its review date is near."""
    today = today or timezone.localdate()
    if agreement.current_version_id is None or agreement.review_due is None:
        return False
    notice = notice_days(agreement.review_interval_months, within_days)
    return agreement.review_due <= today + timedelta(days=notice)


def reviews_due(*, circles: Any, within_days: int = REVIEW_NOTICE_DAYS) -> QuerySet[Agreement]:
    return (
        Agreement.objects.filter(circle__in=circles)
        .filter(review_due_q(today=timezone.localdate(), within_days=within_days))
        .select_related("circle")
        .order_by("review_due")
    )


@dataclass(frozen=True)
class ReviewDraft:
    """What a review proposal starts with; nothing is opened until a member sends it."""

    title: str
    text: str
    agreement_text: str
    parameters: dict[str, Any]
    due: bool


def review_draft(agreement: Agreement, *, today: date | None = None) -> ReviewDraft:
    """A review of the agreement's current version, worded for whether it is due."""
    current = agreement.current_version
    if current is None:
        raise ValueError("An agreement without an adopted version has nothing to review.")
    due = is_review_due(agreement, today=today)
    words = {
        "t": agreement.title,
        "v": current.number,
        "m": agreement.review_interval_months,
        "a": f"{timezone.localtime(current.adopted_at):%d %B %Y}",
        "d": f"{agreement.review_due:%d %B %Y}" if agreement.review_due else "",
    }
    if due:
        text = _(
            "Our agreement “%(t)s” (version %(v)s) is due for review. Propose changes as "
            "amendments, or agree to keep it as it is for another %(m)s months."
        )
    else:
        text = _(
            "I propose we look again at our agreement “%(t)s” (version %(v)s, adopted "
            "%(a)s) before its review date. Change its text below to say what you would change, "
            "or agree to keep it as it is."
        )
    return ReviewDraft(
        title=_("Review: %(t)s") % {"t": agreement.title},
        text=text % words,
        agreement_text=current.text,
        parameters=dict(current.parameters or {}),
        due=due,
    )


def reviews_due_for(
    *, practitioner: Practitioner, within_days: int = 30, user: Any = None
) -> QuerySet[Agreement]:
    """My circles' agreements due for review within `within_days` (for the home page).

    `user` is the signed-in practitioner: it carries how the session signed in, and a circle
    that asks for two-factor authentication counts only with a second factor (the audience,
    core.visibility.audience_for). Without it, as seen without a second factor.
    """
    audience = audience_for(user if user is not None else practitioner.user)
    return reviews_due(circles=sorted(audience.circle_ids), within_days=within_days).only(
        # What the home page shows of each.
        "pk",
        "title",
        "review_due",
        "review_interval_months",
        "current_version_id",
        "circle__name",
        "circle__slug",
    )


def borrowable(*, user: Any, exclude_circle: Circle | None = None) -> QuerySet[Agreement]:
    """Agreements of other circles that this viewer may read and so borrow."""
    audience = audience_for(user)
    qs = Agreement.objects.filter(current_version__isnull=False).filter(
        visible_agreements_q(audience)
    )
    if exclude_circle is not None:
        qs = qs.exclude(circle=exclude_circle)
    return qs.select_related("circle", "current_version").order_by("kind", "title")


def divergence(a: str, b: str) -> float:
    """How far two texts have drifted apart: 0 identical, 1 nothing shared. Comparing two long
    texts is dear, and the answer depends on nothing but them: it is kept in the cache under a
    digest of the two texts (a changed text is a new key; nothing to invalidate)."""
    key = "divergence:v1:" + hashlib.sha256(a.encode() + b"\0" + b.encode()).hexdigest()
    found = cache.get(key)
    if isinstance(found, float):
        return found
    value = round(1 - difflib.SequenceMatcher(None, a, b).ratio(), 2)
    cache.set(key, value, 7 * 24 * 3600)
    return value


@dataclass(frozen=True)
class Borrowing:
    agreement: Agreement
    source: AgreementVersion
    divergence: float
    # The two circles as the viewer may see them: a name, or "a circle".
    circle_name: str = ""
    source_circle_name: str = ""


BORROWINGS_PER_PAGE = 25


def _borrowed(*, user: Any, federation_id: int) -> QuerySet[Agreement]:
    """The borrowings this viewer may read: first those of circles they may see named, by the
    circle's name (then title); then those of circles shown as "a circle", by when they were
    made (pk) alone, so that where one sits tells nothing of its circle's real name."""
    audience = audience_for(user)
    named = visible_q(
        audience,
        level_field="circle__visibility",
        circle_field="circle_id",
        federation_field="circle__federation_id",
    )  # circles.rules.can_view_circle as a filter, as circles_visible_to has it
    return (
        Agreement.objects.filter(circle__federation_id=federation_id, borrowed_from__isnull=False)
        .filter(visible_agreements_q(audience))
        .select_related("circle", "current_version", "borrowed_from__agreement__circle")
        .annotate(
            hidden_circle=Case(When(named, then=Value(0)), default=Value(1)),
            shown_circle_name=Case(
                When(named, then=F("circle__name")), default=Value(""), output_field=CharField()
            ),
            shown_title=Case(
                When(named, then=F("title")), default=Value(""), output_field=CharField()
            ),
        )
        .order_by("hidden_circle", "shown_circle_name", "shown_title", "pk")
    )


def _borrowings(user: Any, agreements: Any) -> list[Borrowing]:
    return [
        Borrowing(
            a,
            a.borrowed_from,
            divergence(a.borrowed_from.text, a.current_version.text if a.current_version else ""),
            circle_name_for(user, a.circle),
            circle_name_for(user, a.borrowed_from.agreement.circle),
        )
        for a in agreements
        if a.borrowed_from is not None
    ]


def lineage(*, user: Any, federation_id: int) -> list[Borrowing]:
    """Who borrowed what from whom, and how far each has diverged since."""
    return _borrowings(user, _borrowed(user=user, federation_id=federation_id))


@dataclass(frozen=True)
class LineagePage:
    borrowings: list[Borrowing]
    number: int
    pages: int
    count: int


def lineage_page(*, user: Any, federation_id: int, page: Any = 1) -> LineagePage:
    """One page of the lineage, by the borrowing circle's name: two queries (the count and the
    page), however many circles borrow."""
    paginator = Paginator(
        _borrowed(user=user, federation_id=federation_id),
        BORROWINGS_PER_PAGE,
        allow_empty_first_page=True,
    )
    shown = paginator.get_page(page)
    return LineagePage(
        _borrowings(user, shown.object_list), shown.number, paginator.num_pages, paginator.count
    )


def borrowings_of(*, user: Any, agreement: Agreement) -> list[Agreement]:
    """The other circles' agreements borrowed from this one's current version, as far as this
    viewer may read them."""
    if agreement.current_version_id is None:
        return []
    return list(
        Agreement.objects.filter(borrowed_from_id=agreement.current_version_id)
        .filter(visible_agreements_q(audience_for(user)))
        .select_related("circle__federation")
        .order_by("circle__name", "title")
    )


# --- ethical statements ----------------------------------------------------------------------


def circulations_of(*, agreement: Agreement) -> QuerySet[EthicsCirculation]:
    """Every circulation of the agreement: its adopted versions and the drafts that led to it."""
    return (
        EthicsCirculation.objects.filter(Q(agreement=agreement) | Q(proposal__agreement=agreement))
        .select_related("circle__federation", "version", "proposal", "circulated_by")
        .order_by("-circulated_at", "-id")
    )


def federation_circulations(*, federation_id: int) -> QuerySet[EthicsCirculation]:
    return (
        EthicsCirculation.objects.filter(circle__federation_id=federation_id)
        .select_related("circle__federation", "version", "proposal", "circulated_by")
        .annotate(comment_count=Count("comments"))
        .order_by("-circulated_at", "-id")
    )


@dataclass(frozen=True)
class CommentRow:
    comment: EthicsComment
    name: str  # the commenter's name, or "a member of York…" where it is not theirs to show you


Reach = dict[int, tuple[set[int], set[int]]]


def _shown_name(
    audience: Any,
    practitioner: Practitioner | None,
    circle: Circle | None,
    reach: Reach | None = None,
) -> str:
    if practitioner is None:
        return _("a former member")
    # The one name rule (core.visibility); `reach` is the people's reach when read at once.
    if can_see_name(
        audience, practitioner, reach=reach.get(practitioner.pk) if reach is not None else None
    ):
        return practitioner.display_name
    if circle is not None and can_see(
        audience,
        level=circle.visibility,
        circle_ids=[circle.pk],
        federation_ids=[circle.federation_id],
    ):
        return _("a member of %(c)s") % {"c": circle.name}
    return _("a member of another circle")


@dataclass(frozen=True)
class CirculationRows:
    """Circulations with who circulated each and their comments, as one viewer may read them."""

    by: dict[int, str]  # circulation id → who circulated it, named as far as they allow
    comments: dict[int, list[CommentRow]]  # circulation id → its comments, oldest first


def circulation_rows(*, user: Any, circulations: list[EthicsCirculation]) -> CirculationRows:
    """Who circulated each and the comments on each, in two queries for any number of
    circulations: the comments, and the reach of every name they show (core.visibility)."""
    audience = audience_for(user)
    ids = [c.pk for c in circulations]
    comments = list(
        EthicsComment.objects.filter(circulation_id__in=ids)
        .select_related("author", "author_circle")
        .order_by("created_at", "id")
    )
    people = {c.circulated_by_id for c in circulations} | {c.author_id for c in comments}
    reach = name_reach(pk for pk in people if pk is not None)
    by_circulation: dict[int, list[CommentRow]] = {pk: [] for pk in ids}
    for c in comments:
        by_circulation[c.circulation_id].append(
            CommentRow(c, _shown_name(audience, c.author, c.author_circle, reach))
        )
    return CirculationRows(
        by={c.pk: _shown_name(audience, c.circulated_by, c.circle, reach) for c in circulations},
        comments=by_circulation,
    )


def comment_rows(*, user: Any, circulation: EthicsCirculation) -> list[CommentRow]:
    """The comments on a circulation, each commenter named only as far as they allow."""
    return circulation_rows(user=user, circulations=[circulation]).comments[circulation.pk]


def circulated_by_name(*, user: Any, circulation: EthicsCirculation) -> str:
    return _shown_name(audience_for(user), circulation.circulated_by, circulation.circle)


def circle_statement(*, user: Any, circle: Circle) -> Agreement | None:
    """The circle's adopted ethical statement as this viewer may read it (public ones first).
    Read with the circle's other adopted agreements its page shows (parameters.adopted), each
    kept only if the rule lets this viewer read it (agreements.view_agreement)."""
    readable = [
        a
        for a in adopted(circle, [AgreementKind.ETHICS])
        if allowed("agreements.view_agreement", user, a)
    ]
    readable.sort(key=lambda a: -a.current_version.adopted_at.timestamp())  # type: ignore[union-attr]
    readable.sort(key=lambda a: 0 if a.visibility == Visibility.PUBLIC else 1)
    return readable[0] if readable else None


def _published_statements(*, user: Any, federation_id: int) -> QuerySet[Agreement]:
    """Every circle's published ethical statement: one per circle (its newest adopted), of the
    circles whose page the viewer may see, by circle name.

    "Newest" is the greatest (adoption time, id) of the circle's published statements, asked as
    "no published statement of the same circle is newer" (an anti-join): PostgreSQL estimates
    that well, where an `id = (newest of the circle)` subquery is taken for a filter keeping
    one row, and the versions and circles are then joined by scanning them once per statement."""
    visible = circles_visible_to(user=user).filter(federation_id=federation_id)
    published = Agreement.objects.filter(
        kind=AgreementKind.ETHICS, visibility=Visibility.PUBLIC, current_version__isnull=False
    )
    adopted_at = OuterRef("current_version__adopted_at")
    newer = published.filter(circle_id=OuterRef("circle_id")).filter(
        Q(current_version__adopted_at__gt=adopted_at)
        | Q(current_version__adopted_at=adopted_at, pk__gt=OuterRef("pk"))
    )
    return (
        published.filter(~Exists(newer), circle__in=visible)
        .select_related("circle", "current_version", "borrowed_from__agreement__circle")
        .order_by("circle__name", "circle_id")
    )


def published_statements(*, user: Any, federation_id: int) -> list[Agreement]:
    """Every circle's published ethical statement, side by side: one per circle, the newest
    adopted within a circle. Circles whose page the viewer may not see are left out."""
    return list(_published_statements(user=user, federation_id=federation_id))


# The public register shows this many statements a page, and of a long statement its opening.
STATEMENTS_PER_PAGE = 10
EXCERPT_CHARS = 1500


@dataclass(frozen=True)
class Statement:
    agreement: Agreement
    text: str  # the statement's text, or its opening when it is long (`shortened`)
    shortened: bool


@dataclass(frozen=True)
class StatementsPage:
    statements: list[Statement]
    number: int
    pages: int
    count: int
    query: str


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> tuple[str, bool]:
    """The text, or its opening up to `limit` characters cut at a paragraph (or a word)."""
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    at = cut.rfind("\n\n")
    if at < limit // 3:
        at = cut.rfind(" ")
    return cut[: at if at > 0 else limit].rstrip() + " …", True


def published_statements_page(
    *, user: Any, federation_id: int, page: Any = 1, query: str = ""
) -> StatementsPage:
    """One page of the public register, by circle name; `query` finds circles by name. Two
    queries (the count and the page), however many circles have published."""
    statements = _published_statements(user=user, federation_id=federation_id)
    query = query.strip()[:100]
    if query:
        statements = statements.filter(circle__name__icontains=query)
    paginator = Paginator(statements, STATEMENTS_PER_PAGE, allow_empty_first_page=True)
    shown = paginator.get_page(page)
    rows = []
    for agreement in shown.object_list:
        text, shortened = excerpt(
            agreement.current_version.text if agreement.current_version else ""
        )
        rows.append(Statement(agreement, text, shortened))
    return StatementsPage(
        statements=rows,
        number=shown.number,
        pages=paginator.num_pages,
        count=paginator.count,
        query=query,
    )
