"""Who stands by whom in a circle, and the concerns withdrawals raise."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from circlework.accounts.models import Practitioner
from circlework.api import schemas as s
from circlework.api.base import ERRORS, People, _me, _people, _person
from circlework.api.loaders import member_circle
from circlework.api.paging import PageIn, page_rows, ts
from circlework.circles.models import Circle
from circlework.core.errors import InvalidInput, NotFound
from circlework.core.permissions import allowed
from circlework.standing import selectors as standing_selectors
from circlework.standing import services as standing_services
from circlework.standing.models import ConcernStatus, StandingBy, StandingConcern
from circlework.standing.selectors import MemberStanding

router = Router()


# --- standing by ------------------------------------------------------------------------------
# Who stands by whom is the circle's members' business: someone who cannot see the circle gets
# 404, someone who can see it but is not a member 403. Withdrawal reasons are only ever in the
# concerns, which are for the circle's members too; the table never shows them.


def _standing_circle(request: HttpRequest, slug: str) -> Circle:
    return member_circle(
        request,
        slug,
        rule="standing.view_standing",
        refusal="Only the circle's members can see and state who stands by whom.",
    )


def _statement(request: HttpRequest, slug: str, statement_id: int) -> StandingBy:
    circle = _standing_circle(request, slug)
    statement = (
        StandingBy.objects.select_related("circle", "circle__federation")
        .filter(pk=statement_id, circle=circle)
        .first()
    )
    if statement is None:
        raise NotFound("No such standing-by statement in this circle.")
    return statement


def _concern(request: HttpRequest, slug: str, concern_id: int) -> StandingConcern:
    circle = _standing_circle(request, slug)
    concern = (
        StandingConcern.objects.select_related("circle", "circle__federation", "statement")
        .filter(pk=concern_id, circle=circle)
        .first()
    )
    if concern is None or not allowed("standing.view_concern", request.user, concern):
        raise NotFound("No such concern in this circle.")
    return concern


# The models' choice fields hold exactly the values the schemas' literals name (a test in
# tests/api/test_standing.py keeps them in step): the casts tell mypy what the choices guarantee.


def _standing_statement_out(statement: StandingBy, people: People) -> s.StandingStatementOut:
    return s.StandingStatementOut(
        id=statement.pk,
        by=_person(people, statement.by_id),
        basis=statement.basis,
        stated_at=statement.stated_at,
        lapses_on=statement.lapses_on,
        state=cast(s.StandingStateName, statement.state()),
    )


def _standing_by_out(statement: StandingBy, circle: Circle, people: People) -> s.StandingByOut:
    return s.StandingByOut(
        id=statement.pk,
        by=_person(people, statement.by_id),
        basis=statement.basis,
        stated_at=statement.stated_at,
        lapses_on=statement.lapses_on,
        state=cast(s.StandingStateName, statement.state()),
        circle=circle.slug,
        colleague=_person(people, statement.for_practitioner_id),
        renewed_from_id=statement.renewed_from_id,
    )


def _member_out(row: MemberStanding, people: People) -> s.StandingMemberOut:
    person = _person(people, row.practitioner_id)
    return s.StandingMemberOut(
        practitioner_id=person.practitioner_id,
        name=person.name,
        need=row.need,
        live=row.live_count,
        enough=row.enough,
        stood_by=[_standing_statement_out(st, people) for st in row.statements],
        my_statement_id=row.mine.pk if row.mine else None,
    )


def _concern_out(request: HttpRequest, concern: StandingConcern, people: People) -> s.ConcernOut:
    return s.ConcernOut(
        id=concern.pk,
        circle=concern.circle.slug,
        statement_id=concern.statement_id,
        raised_by=_person(people, concern.raised_by_id),
        colleague=_person(people, concern.statement.for_practitioner_id),
        reason=concern.reason,
        status=cast(s.ConcernStatusName, concern.status),
        response=concern.response,
        responded_by=None
        if concern.responded_at is None
        else _person(people, concern.responded_by_id),
        responded_at=concern.responded_at,
        created_at=concern.created_at,
        may_respond=concern.status != ConcernStatus.RESOLVED
        and allowed("standing.respond_concern", request.user, concern),
    )


@router.get(
    "/circles/{slug:slug}/standing-by",
    response={200: s.StandingTableOut, **ERRORS},
    tags=["standing by"],
)
def standing_table(request: HttpRequest, slug: str) -> s.StandingTableOut:
    """Each member and who stands by them, whether the circle is full and who is missing.
    Withdrawn statements and their reasons are not here: see the concerns."""
    circle = _standing_circle(request, slug)
    page = standing_selectors.standing_page(
        user=request.user, circle=circle, practitioner=_me(request)
    )
    people = _people(request, circle)
    return s.StandingTableOut(
        circle=circle.slug,
        full=page.full,
        need=page.need,
        review_months=standing_services.review_months(circle),
        members=[_member_out(row, people) for row in page.rows],
        missing=[_person(people, row.practitioner_id) for row in page.missing],
        can_stand_by=[_person(people, row.practitioner_id) for row in page.can_stand_by],
    )


@router.post(
    "/circles/{slug:slug}/standing-by",
    response={201: s.StandingByOut, **ERRORS},
    tags=["standing by"],
)
def standing_by_state(
    request: HttpRequest, slug: str, payload: s.StandByIn
) -> Status[s.StandingByOut]:
    """State that you stand by a colleague's practice. If you already do, this renews it: a new
    statement, the earlier one kept as renewed."""
    circle = _standing_circle(request, slug)
    colleague = Practitioner.objects.filter(pk=payload.colleague_id).first()
    if colleague is None:
        msg = "You can only stand by a current member of this circle."
        raise InvalidInput(msg, fields={"colleague_id": [msg]})
    try:
        statement = standing_services.standing_by_state(
            actor=_me(request), circle=circle, colleague=colleague, basis=payload.basis
        )
    except InvalidInput as exc:  # the service names the field after its own argument
        if "colleague" in exc.fields:
            exc.fields["colleague_id"] = exc.fields.pop("colleague")
        raise
    people = _people(request, circle)
    return Status(201, _standing_by_out(statement, circle, people))


@router.post(
    "/circles/{slug:slug}/standing-by/{statement_id}/withdraw",
    response={201: s.ConcernOut, **ERRORS},
    tags=["standing by"],
)
def standing_by_withdraw(
    request: HttpRequest, slug: str, statement_id: int, payload: s.WithdrawIn
) -> Status[s.ConcernOut]:
    """Withdraw your own statement, with reasons. It raises a concern the circle responds to;
    publicly, the colleague's count goes down and no reason is shown."""
    concern = standing_services.standing_by_withdraw(
        actor=_me(request),
        statement=_statement(request, slug, statement_id),
        reason=payload.reason,
    )
    return Status(
        201,
        _concern_out(
            request, _concern(request, slug, concern.pk), _people(request, concern.circle)
        ),
    )


@router.get(
    "/circles/{slug:slug}/standing-by/concerns",
    response={200: list[s.ConcernOut], **ERRORS},
    tags=["standing by"],
)
def standing_concern_list(
    request: HttpRequest, slug: str, response: HttpResponse, paging: Query[PageIn]
) -> list[s.ConcernOut]:
    """Concerns raised by withdrawals, with their reasons: open ones first, then responded,
    then resolved, newest first in each, up to 50; a page at a time (`limit`, `cursor`: see
    the Link header). The cursor keys on (that status, time, id): a concern answered while
    you walk may move."""
    circle = _standing_circle(request, slug)
    page = standing_selectors.standing_page(
        user=request.user, circle=circle, practitioner=_me(request)
    )
    rank: dict[str, int] = {ConcernStatus.OPEN: 0, ConcernStatus.RESPONDED: 1}
    rows = page_rows(
        request,
        response,
        paging,
        [c for c in page.concerns if allowed("standing.view_concern", request.user, c)],
        key=lambda c: (rank.get(c.status, 2), -ts(c.created_at), -c.pk),
    )
    people = _people(request, circle)
    return [_concern_out(request, c, people) for c in rows]


@router.post(
    "/circles/{slug:slug}/standing-by/concerns/{concern_id}/respond",
    response={200: s.ConcernOut, **ERRORS},
    tags=["standing by"],
)
def standing_concern_respond(
    request: HttpRequest, slug: str, concern_id: int, payload: s.ConcernResponseIn
) -> s.ConcernOut:
    """The circle's response, by any member but the one who raised it; `resolve` closes it."""
    concern = standing_services.standing_concern_respond(
        actor=_me(request),
        concern=_concern(request, slug, concern_id),
        response=payload.response,
        resolve=payload.resolve,
    )
    return _concern_out(
        request, _concern(request, slug, concern.pk), _people(request, concern.circle)
    )
