"""A circle's polls and their answers."""

from __future__ import annotations

from typing import Any, Literal, cast

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from circlework.api import schemas as s
from circlework.api.base import ERRORS, People, _me, _people, _person
from circlework.api.loaders import member_circle
from circlework.api.paging import PageIn, page_rows, ts
from circlework.circles.models import Circle
from circlework.core.errors import NotAllowed, NotFound
from circlework.core.permissions import allowed
from circlework.polls import selectors as poll_selectors
from circlework.polls import services as poll_services
from circlework.polls.models import Poll, PollAnswer, PollKind, PollStatus
from circlework.polls.selectors import PollPage, PollResults, ResultRow, by_name

router = Router()


# --- polls ------------------------------------------------------------------------------------
# Like proposals, a circle's polls are its members' business: someone who cannot see the circle
# gets 404, someone who can see it but is not a member 403.


def _poll_circle(request: HttpRequest, slug: str) -> Circle:
    return member_circle(
        request,
        slug,
        rule="polls.view_polls",
        refusal="Only the circle's members can see and answer its polls.",
    )


def _poll(request: HttpRequest, slug: str, poll_id: int) -> Poll:
    circle = _poll_circle(request, slug)
    poll = (
        Poll.objects.select_related("circle", "circle__federation", "author")
        .filter(pk=poll_id, circle=circle)
        .first()
    )
    if poll is None or not allowed("polls.view_poll", request.user, poll):
        raise NotFound("No such poll in this circle.")
    return poll


# The models' choice fields hold exactly the values the schemas' literals name (a test in
# tests/api/test_polls.py keeps them in step): the casts tell mypy what the choices guarantee.


def _poll_summary(
    poll: Poll, people: People, *, answers: int, answered_by_me: bool
) -> s.PollSummaryOut:
    return s.PollSummaryOut(
        id=poll.pk,
        title=poll.title,
        kind=cast(s.PollKindName, poll.kind),
        status=cast(s.PollStatusName, poll.status),
        anonymous=poll.anonymous,
        closes_at=poll.closes_at,
        closed_at=poll.closed_at,
        created_at=poll.created_at,
        author=_person(people, poll.author_id),
        answers=answers,
        answered_by_me=answered_by_me,
    )


def _choices_out(kind: str, choices: Any) -> s.BallotChoicesOut:
    """A stored answer's choices (JSON) in the shape BallotIn takes them."""
    if kind == PollKind.APPROVAL:
        return s.BallotChoicesOut(approved=[int(o) for o in choices])
    if kind == PollKind.RANKED:
        return s.BallotChoicesOut(ranking=[int(o) for o in choices])
    by_option = {int(o): v for o, v in choices.items()}
    if kind == PollKind.SCORE:
        return s.BallotChoicesOut(scores=by_option)
    return s.BallotChoicesOut(availability=by_option)


def _my_ballot_out(kind: str, mine: PollAnswer) -> s.MyBallotOut:
    choices = _choices_out(kind, mine.choices)
    return s.MyBallotOut(
        approved=choices.approved,
        scores=choices.scores,
        ranking=choices.ranking,
        availability=choices.availability,
        created_at=mine.created_at,
        updated_at=mine.updated_at,
    )


def _member_ballot_out(kind: str, answer: PollAnswer, people: People) -> s.MemberBallotOut:
    choices = _choices_out(kind, answer.choices)
    person = _person(people, answer.practitioner_id)
    return s.MemberBallotOut(
        approved=choices.approved,
        scores=choices.scores,
        ranking=choices.ranking,
        availability=choices.availability,
        practitioner_id=person.practitioner_id,
        name=person.name,
    )


def _result_row(kind: str, row: ResultRow) -> s.PollResultRowOut:
    option_id, lead = row.option.pk, row.lead
    if kind == PollKind.APPROVAL:
        return s.PollResultRowOut(
            option_id=option_id, lead=lead, approvals=int(row.value), share=row.share
        )
    if kind == PollKind.SCORE:
        average = round(row.value / row.count, 2) if row.count else None
        return s.PollResultRowOut(
            option_id=option_id, lead=lead, total_score=int(row.value), average_score=average
        )
    if kind == PollKind.RANKED:
        return s.PollResultRowOut(
            option_id=option_id,
            lead=lead,
            first_preferences=row.first_preferences,
            final_round_votes=int(row.value),
        )
    return s.PollResultRowOut(
        option_id=option_id, lead=lead, yes=row.yes, maybe=row.maybe, no=row.no
    )


def _runoff_out(results: PollResults) -> s.RunoffOut | None:
    runoff = results.runoff
    if runoff is None:
        return None
    return s.RunoffOut(
        winner=runoff.winner,
        rounds=[
            s.RunoffRoundOut(
                number=r.number,
                votes=dict(r.counts),
                continuing_ballots=r.continuing_ballots,
                exhausted=r.exhausted,
                eliminated=r.eliminated,
                # counting.RunoffRound keeps it to "" or one of its two named rules.
                tie_broken_by=cast(
                    Literal["", "first_preferences", "option_order"], r.tie_broken_by
                ),
                winner=r.winner,
            )
            for r in runoff.rounds
        ],
        table=[  # runoff_rows are in option order, like options
            s.RunoffTableRowOut(
                option_id=option.pk,
                first_preferences=row.first_preferences,
                votes=[int(cell) if cell else None for cell in row.cells],
                eliminated_in=row.eliminated_in,
                winner=row.winner,
            )
            for option, row in zip(results.options, results.runoff_rows, strict=True)
        ],
        notes=results.round_notes,
    )


def _results_out(poll: Poll, page: PollPage, people: People) -> s.PollResultsOut | None:
    results = page.results
    if results is None:
        return None
    # The selector decides whether members' answers may be shown (never when anonymous).
    # Listed by name like the page, never in the order they were given.
    given = poll.answers.all() if page.answers else []
    shown = sorted(
        (_member_ballot_out(poll.kind, b, people) for b in given),
        key=lambda row: by_name(str(row.name)),
    )
    return s.PollResultsOut(
        voters=results.voters,
        outcome=results.outcome_text(),
        leaders=results.lead_ids,
        rows=[_result_row(poll.kind, r) for r in results.rows],
        runoff=_runoff_out(results),
        ballots=shown,
    )


def _poll_out(request: HttpRequest, poll: Poll) -> s.PollOut:
    page = poll_selectors.poll_page(user=request.user, poll=poll, practitioner=_me(request))
    people = _people(request, poll.circle)
    mine = page.my_answer
    return s.PollOut(
        id=poll.pk,
        title=poll.title,
        kind=cast(s.PollKindName, poll.kind),
        status=cast(s.PollStatusName, poll.status),
        anonymous=poll.anonymous,
        closes_at=poll.closes_at,
        closed_at=poll.closed_at,
        created_at=poll.created_at,
        author=_person(people, poll.author_id),
        answers=len(page.answered),
        answered_by_me=mine is not None,
        circle=poll.circle.slug,
        details=poll.details,
        is_author=allowed("polls.close_poll", request.user, poll),
        accepts_ballots=poll.accepts_answers,
        options=[
            s.PollOptionOut(id=o.pk, position=o.position, label=o.label, starts_at=o.starts_at)
            for o in page.options
        ],
        answered=page.answered,
        not_answered=page.not_answered,
        my_ballot=None if mine is None else _my_ballot_out(poll.kind, mine),
        results=_results_out(poll, page, people),
    )


@router.get(
    "/circles/{slug:slug}/polls", response={200: list[s.PollSummaryOut], **ERRORS}, tags=["polls"]
)
def poll_list(
    request: HttpRequest, slug: str, response: HttpResponse, paging: Query[PageIn]
) -> list[s.PollSummaryOut]:
    """Open polls (soonest closing first), then the latest 50 closed ones (latest first); a
    page at a time (`limit`, `cursor`: see the Link header). The cursor keys on (open or not,
    that time, id), so a poll that closes while you walk may move to the closed part."""
    circle = _poll_circle(request, slug)
    open_, closed = poll_selectors.circle_polls(circle=circle, practitioner=_me(request))
    rows = page_rows(
        request,
        response,
        paging,
        [*open_, *closed],
        key=lambda p: (
            (0, ts(p.closes_at), p.pk)
            if p.status == PollStatus.OPEN
            else (1, -ts(p.closed_at), -p.pk)
        ),
    )
    people = _people(request, circle)
    return [
        _poll_summary(
            p,
            people,
            answers=p.answer_count,  # type: ignore[attr-defined]  # annotated by the selector
            answered_by_me=p.answered,  # type: ignore[attr-defined]
        )
        for p in rows
    ]


@router.post("/circles/{slug:slug}/polls", response={201: s.PollOut, **ERRORS}, tags=["polls"])
def poll_create(request: HttpRequest, slug: str, payload: s.PollIn) -> Status[s.PollOut]:
    """Open a poll; every other member is told. Give `options` (labels), or `times` for a
    find-a-time poll."""
    poll = poll_services.poll_open(
        actor=_me(request),
        circle=_poll_circle(request, slug),
        title=payload.title,
        kind=payload.kind,
        closes_at=payload.closes_at,
        options=payload.options,
        times=payload.times,
        details=payload.details,
        anonymous=payload.anonymous,
    )
    return Status(201, _poll_out(request, _poll(request, slug, poll.pk)))


@router.get(
    "/circles/{slug:slug}/polls/{poll_id}", response={200: s.PollOut, **ERRORS}, tags=["polls"]
)
def poll_get(request: HttpRequest, slug: str, poll_id: int) -> s.PollOut:
    """Who has answered (by name), your own answer, and the results: once you have answered or
    the poll has closed, and for an anonymous poll only once it has closed (with each member's
    answer unless the poll is anonymous)."""
    return _poll_out(request, _poll(request, slug, poll_id))


@router.post(
    "/circles/{slug:slug}/polls/{poll_id}/ballot",
    response={200: s.PollOut, **ERRORS},
    tags=["polls"],
)
def ballot_cast(request: HttpRequest, slug: str, poll_id: int, payload: s.BallotIn) -> s.PollOut:
    """Answer, or change your answer (it replaces the earlier one) while the poll is open.
    Returns the poll as you now see it (results included, unless the poll is anonymous and
    still open)."""
    poll = _poll(request, slug, poll_id)
    poll_services.ballot_cast(
        actor=_me(request),
        poll=poll,
        approved=payload.approved,
        scores=payload.scores,
        ranking=payload.ranking,
        availability=payload.availability,
    )
    return _poll_out(request, poll)


@router.post(
    "/circles/{slug:slug}/polls/{poll_id}/close",
    response={200: s.PollOut, **ERRORS},
    tags=["polls"],
)
def poll_close(request: HttpRequest, slug: str, poll_id: int) -> s.PollOut:
    """Close the poll now (the member who opened it only); every member is told the result."""
    poll = _poll(request, slug, poll_id)
    if not allowed("polls.close_poll", request.user, poll):
        raise NotAllowed("Only the member who opened this poll can close it early.")
    poll_services.poll_close(actor=_me(request), poll=poll)
    return _poll_out(request, _poll(request, slug, poll_id))
