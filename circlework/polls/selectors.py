"""Reads for polls: the circle's list, a poll's page, and its results counted from the answers.

Query shape: a poll page costs the same few queries however many answers or members there are
(the options, the answers and the circle's memberships, each loaded once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib.humanize.templatetags.humanize import ordinal
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle
from circlework.circles.selectors import circle_members
from circlework.core.visibility import audience_for
from circlework.polls import charts, counting
from circlework.polls.models import (
    Availability,
    Poll,
    PollAnswer,
    PollKind,
    PollOption,
    PollStatus,
)

FORMER = "a former member"


def circle_polls(
    *, circle: Circle, practitioner: Practitioner
) -> tuple[QuerySet[Poll], QuerySet[Poll]]:
    """Open polls (closing soonest first) and the latest closed ones, with answer counts and
    whether this practitioner has answered."""
    mine = PollAnswer.objects.filter(poll=OuterRef("pk"), practitioner=practitioner)
    base = circle.polls.select_related("author").annotate(
        answer_count=Count("answers"), answered=Exists(mine)
    )
    return (
        base.filter(status=PollStatus.OPEN).order_by("closes_at"),
        base.filter(status=PollStatus.CLOSED).order_by("-closed_at")[:50],
    )


def _options(poll: Poll) -> list[PollOption]:
    return list(poll.options.order_by("position"))


def _answers(poll: Poll) -> list[PollAnswer]:
    # By member, not by when they answered: nothing read from the list follows answer order.
    return list(poll.answers.order_by("practitioner_id", "id"))


def _ids(answer: PollAnswer) -> list[int]:
    return [int(o) for o in answer.choices or []]


def _scores(answer: PollAnswer) -> dict[int, int]:
    return {int(o): int(v) for o, v in (answer.choices or {}).items()}


def _availability(answer: PollAnswer) -> dict[int, str]:
    return {int(o): str(v) for o, v in (answer.choices or {}).items()}


@dataclass(frozen=True)
class ResultRow:
    option: PollOption
    label: str
    value: float  # what its bar shows
    value_text: str
    lead: bool
    share: int = 0  # approval: per cent of those who answered
    count: int = 0  # score: how many scored it
    average: str = ""  # score: the mean score, formatted
    yes: int = 0
    maybe: int = 0
    no: int = 0
    first_preferences: int = 0  # ranked


@dataclass(frozen=True)
class RunoffRow:
    label: str
    first_preferences: int
    cells: list[str]  # per round: votes, or "" once eliminated
    eliminated_in: int | None
    winner: bool


@dataclass(frozen=True)
class PollResults:
    poll: Poll
    options: list[PollOption]
    voters: int
    rows: list[ResultRow]
    lead_ids: list[int]
    runoff: counting.RunoffResult | None = None
    runoff_rows: list[RunoffRow] = field(default_factory=list)
    round_notes: list[str] = field(default_factory=list)
    exhausted: list[str] = field(default_factory=list)
    chart: charts.BarChart | None = None
    grid: charts.GridChart | None = None

    def leaders(self) -> list[PollOption]:
        return [o for o in self.options if o.pk in self.lead_ids]

    def outcome_text(self) -> str:
        """One sentence: what the poll found (in the active time zone, for find-a-time)."""
        if self.voters == 0:
            return _("Nobody answered.")
        names = ", ".join(o.text for o in self.leaders())
        lead = next((r for r in self.rows if r.lead), None)
        kind = self.poll.kind
        if kind == PollKind.RANKED:
            runoff = self.runoff
            if runoff is None or runoff.winner is None or lead is None:
                return _("No option was ranked.")
            final = runoff.rounds[-1]
            return _("%(o)s wins in round %(r)s with %(n)s of %(m)s continuing ballots.") % {
                "o": names,
                "r": final.number,
                "n": final.counts[runoff.winner],
                "m": final.continuing_ballots,
            }
        if lead is None:
            if kind == PollKind.TIME:
                return _("No time suits anyone.")
            return _("No option has any support.")
        tied = len(self.lead_ids) > 1
        if kind == PollKind.APPROVAL:
            text = (
                _("Most approved, tied: %(o)s (%(n)s of %(m)s each).")
                if tied
                else _("Most approved: %(o)s (%(n)s of %(m)s).")
            )
            return text % {"o": names, "n": lead.value_text, "m": self.voters}
        if kind == PollKind.SCORE:
            text = (
                _("Highest total score, tied: %(o)s (%(n)s each, average %(a)s).")
                if tied
                else _("Highest total score: %(o)s (%(n)s, average %(a)s).")
            )
            return text % {"o": names, "n": lead.value_text, "a": lead.average}
        text = (
            _("Best times, tied: %(o)s (%(y)s yes, %(m)s if need be each).")
            if tied
            else _("Best time: %(o)s (%(y)s yes, %(m)s if need be).")
        )
        return text % {"o": names, "y": lead.yes, "m": lead.maybe}

    def summary(self) -> str:
        """The accessible name of the chart: the outcome, then every option's number."""
        answered = ngettext("%(n)s member answered.", "%(n)s members answered.", self.voters) % {
            "n": self.voters
        }
        if self.poll.kind == PollKind.TIME:
            detail = "; ".join(
                _("%(o)s: %(y)s yes, %(m)s if need be, %(no)s no")
                % {"o": r.label, "y": r.yes, "m": r.maybe, "no": r.no}
                for r in self.rows
            )
        elif self.poll.kind == PollKind.RANKED:
            runoff = self.runoff
            if runoff is None or not runoff.rounds:
                detail = ""
            else:
                final = runoff.rounds[-1]
                detail = _("Final round: %(d)s") % {
                    "d": ", ".join(
                        f"{r.label} {final.counts[r.option.pk]}"
                        for r in self.rows
                        if r.option.pk in final.counts
                    )
                }
        else:
            detail = ", ".join(f"{r.label} {r.value_text}" for r in self.rows)
        return " ".join(t for t in (self.outcome_text(), answered, detail) if t)


def poll_results(
    *,
    poll: Poll,
    options: Sequence[PollOption] | None = None,
    answers: Sequence[PollAnswer] | None = None,
) -> PollResults:
    """Count the answers. Labels of find-a-time options are in the active time zone."""
    opts = list(options) if options is not None else _options(poll)
    votes = list(answers) if answers is not None else _answers(poll)
    ids = [o.pk for o in opts]
    n = len(votes)
    if poll.kind == PollKind.APPROVAL:
        return _approval_results(poll, opts, votes, ids)
    if poll.kind == PollKind.SCORE:
        return _score_results(poll, opts, votes, ids)
    if poll.kind == PollKind.RANKED:
        return _ranked_results(poll, opts, votes, ids)
    counts = counting.availability_counts(ids, [_availability(b) for b in votes])
    best = counting.best_times(counts)
    rows = [
        ResultRow(
            option=o,
            label=o.text,
            value=counts[o.pk]["yes"] + counts[o.pk]["maybe"],
            value_text=str(counts[o.pk]["yes"] + counts[o.pk]["maybe"]),
            lead=o.pk in best,
            yes=counts[o.pk]["yes"],
            maybe=counts[o.pk]["maybe"],
            no=counts[o.pk]["no"],
        )
        for o in opts
    ]
    results = PollResults(poll=poll, options=opts, voters=n, rows=rows, lead_ids=best)
    grid = charts.time_grid(
        [(r.label, counts[r.option.pk], r.lead) for r in rows],
        voters=n,
        headers=[str(label) for label in Availability.labels],
        summary=results.summary(),
    )
    return _with(results, grid=grid)


def _with(results: PollResults, **changes: Any) -> PollResults:
    return replace(results, **changes)


def _bars(results: PollResults, maximum: float) -> charts.BarChart:
    return charts.bar_chart(
        [charts.BarItem(r.label, r.value, r.value_text, r.lead) for r in results.rows],
        maximum=maximum,
        summary=results.summary(),
    )


def _approval_results(
    poll: Poll, opts: list[PollOption], votes: list[PollAnswer], ids: list[int]
) -> PollResults:
    n = len(votes)
    totals = counting.approval_totals(ids, [_ids(b) for b in votes])
    lead = counting.leaders(totals)
    rows = [
        ResultRow(
            option=o,
            label=o.text,
            value=totals[o.pk],
            value_text=str(totals[o.pk]),
            lead=o.pk in lead,
            share=round(100 * totals[o.pk] / n) if n else 0,
        )
        for o in opts
    ]
    results = PollResults(poll=poll, options=opts, voters=n, rows=rows, lead_ids=lead)
    return _with(results, chart=_bars(results, maximum=max(n, 1)))


def _score_results(
    poll: Poll, opts: list[PollOption], votes: list[PollAnswer], ids: list[int]
) -> PollResults:
    n = len(votes)
    totals = counting.score_totals(ids, [_scores(b) for b in votes])
    lead = counting.leaders({o: t for o, (t, _c) in totals.items()})
    rows = [
        ResultRow(
            option=o,
            label=o.text,
            value=totals[o.pk][0],
            value_text=str(totals[o.pk][0]),
            lead=o.pk in lead,
            count=totals[o.pk][1],
            average=formats.number_format(totals[o.pk][0] / totals[o.pk][1], 1)
            if totals[o.pk][1]
            else "—",
        )
        for o in opts
    ]
    results = PollResults(poll=poll, options=opts, voters=n, rows=rows, lead_ids=lead)
    return _with(results, chart=_bars(results, maximum=max(5 * n, 1)))


def _ranked_results(
    poll: Poll, opts: list[PollOption], votes: list[PollAnswer], ids: list[int]
) -> PollResults:
    n = len(votes)
    runoff = counting.instant_runoff(ids, [_ids(b) for b in votes])
    by_id = {o.pk: o for o in opts}
    lead = [runoff.winner] if runoff.winner is not None else []
    final = runoff.rounds[-1] if runoff.rounds else None
    rows = [
        ResultRow(
            option=o,
            label=o.text,
            value=final.counts.get(o.pk, 0) if final else 0,
            value_text=str(final.counts.get(o.pk, 0)) if final else "0",
            lead=o.pk in lead,
            first_preferences=runoff.first_preferences.get(o.pk, 0),
        )
        for o in opts
    ]
    eliminated_in = {r.eliminated: r.number for r in runoff.rounds if r.eliminated is not None}
    table = [
        RunoffRow(
            label=o.text,
            first_preferences=runoff.first_preferences.get(o.pk, 0),
            cells=[str(r.counts[o.pk]) if o.pk in r.counts else "" for r in runoff.rounds],
            eliminated_in=eliminated_in.get(o.pk),
            winner=o.pk == runoff.winner,
        )
        for o in opts
    ]
    notes = []
    for r in runoff.rounds:
        if r.winner is not None:
            notes.append(
                _(
                    "Round %(r)s: %(o)s has %(n)s of %(m)s continuing ballots, more than half, and wins."
                )
                % {
                    "r": r.number,
                    "o": by_id[r.winner].text,
                    "n": r.counts[r.winner],
                    "m": r.continuing_ballots,
                }
            )
        elif r.eliminated is not None:
            how = {
                counting.FIRST_PREFERENCES: _(
                    " (tied for fewest; it had the fewest first preferences)"
                ),
                counting.OPTION_ORDER: _(
                    " (tied for fewest, also on first preferences; it is listed last)"
                ),
            }.get(r.tie_broken_by, "")
            notes.append(
                _(
                    "Round %(r)s: no option has more than half of %(m)s continuing ballots; %(o)s has the fewest votes and is eliminated%(how)s."
                )
                % {
                    "r": r.number,
                    "m": r.continuing_ballots,
                    "o": by_id[r.eliminated].text,
                    "how": how,
                }
            )
    results = PollResults(
        poll=poll,
        options=opts,
        voters=n,
        rows=rows,
        lead_ids=lead,
        runoff=runoff,
        runoff_rows=table,
        round_notes=notes,
        exhausted=[str(r.exhausted) for r in runoff.rounds],
    )
    if final is None:
        return results
    finalists = [r for r in rows if r.option.pk in final.counts]
    chart = charts.bar_chart(
        [charts.BarItem(r.label, r.value, r.value_text, r.lead) for r in finalists],
        maximum=max(final.continuing_ballots, 1),
        summary=results.summary(),
    )
    return _with(results, chart=chart)


@dataclass(frozen=True)
class AnswerCell:
    text: str
    css: str = ""


@dataclass(frozen=True)
class MemberAnswers:
    name: str
    cells: list[AnswerCell]


def _answer_cells(poll: Poll, ids: list[int], answer: PollAnswer) -> list[AnswerCell]:
    if poll.kind == PollKind.APPROVAL:
        chosen = set(_ids(answer))
        return [
            AnswerCell(_("Approves"), "answer-yes") if o in chosen else AnswerCell("—") for o in ids
        ]
    if poll.kind == PollKind.SCORE:
        scores = _scores(answer)
        return [AnswerCell(str(scores.get(o, "—"))) for o in ids]
    if poll.kind == PollKind.RANKED:
        ranks = {o: i for i, o in enumerate(_ids(answer), start=1)}
        return [AnswerCell(str(ordinal(ranks[o])) if o in ranks else "—") for o in ids]
    labels = dict(Availability.choices)
    given = _availability(answer)
    return [
        AnswerCell(str(labels.get(given.get(o, ""), "—")), f"answer-{given.get(o, '')}")
        for o in ids
    ]


@dataclass(frozen=True)
class PollPage:
    poll: Poll
    options: list[PollOption]
    my_answer: PollAnswer | None
    answered: list[str]
    not_answered: list[str]
    show_results: bool
    results: PollResults | None
    answers: list[MemberAnswers]  # each member's answer; empty when the poll is anonymous


def results_shown(*, poll: Poll, answered: bool) -> bool:
    """Whether a member may see the poll's results now.

    Once the closing time has passed nobody can answer, so results show even before the close
    task runs. Before that, a member who has answered sees the count so far, unless the poll is
    anonymous: then results wait for the close for everyone. Live results of an anonymous poll
    would tell anyone who reads them twice what the member who answered in between chose."""
    if poll.status == PollStatus.CLOSED or poll.closes_at <= timezone.now():
        return True
    return answered and not poll.anonymous


def by_name(name: str) -> tuple[bool, str, str]:
    """Who answered is listed by name (former members last), never in the order they answered:
    that order, read beside anything that changed in between, would tell who chose what."""
    return (name == FORMER, name.casefold(), name)


def poll_page(*, user: Any, poll: Poll, practitioner: Practitioner) -> PollPage:
    """What a member sees: their own answer, who has and has not answered (by name), and the
    results when `results_shown` allows (and, unless anonymous, who chose what)."""
    options = _options(poll)
    given = _answers(poll)
    rows = circle_members(user=user, circle=poll.circle, include_former=True)
    names: dict[int, str] = {}
    current: list[tuple[int, str]] = []
    for row in rows:
        pid = row.membership.practitioner_id
        if pid is None:
            continue
        names[pid] = row.name
        if row.membership.left_at is None:
            current.append((pid, row.name))

    def name_of(answer: PollAnswer) -> str:
        pid = answer.practitioner_id
        return names.get(pid, FORMER) if pid is not None else FORMER

    voted = {a.practitioner_id for a in given}
    mine = next((a for a in given if a.practitioner_id == practitioner.pk), None)
    show = results_shown(poll=poll, answered=mine is not None)
    results = poll_results(poll=poll, options=options, answers=given) if show else None
    answers: list[MemberAnswers] = []
    if show and not poll.anonymous:
        ids = [o.pk for o in options]
        answers = sorted(
            (MemberAnswers(name=name_of(a), cells=_answer_cells(poll, ids, a)) for a in given),
            key=lambda a: by_name(a.name),
        )
    return PollPage(
        poll=poll,
        options=options,
        my_answer=mine,
        answered=sorted((name_of(a) for a in given), key=by_name),
        not_answered=sorted((name for pid, name in current if pid not in voted), key=by_name),
        show_results=show,
        results=results,
        answers=answers,
    )


def awaiting_answer(*, practitioner: Practitioner, user: Any = None) -> QuerySet[Poll]:
    """Open polls in my circles that I have not answered yet (for the home page).

    `user` is the signed-in practitioner: it carries how the session signed in, and a circle
    that asks for two-factor authentication counts only with a second factor (the audience,
    core.visibility.audience_for). Without it, as seen without a second factor.
    """
    audience = audience_for(user if user is not None else practitioner.user)
    answered = PollAnswer.objects.filter(poll=OuterRef("pk"), practitioner=practitioner)
    return (
        Poll.objects.filter(status=PollStatus.OPEN, circle_id__in=audience.circle_ids)
        .exclude(Exists(answered))
        .select_related("circle")
        .order_by("closes_at")
    )
