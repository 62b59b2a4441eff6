"""Polls through the services: opening, answering (replaced, never duplicated), closing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from circlework.core.errors import Conflict, InvalidInput, NotAllowed
from circlework.core.models import AuditEvent
from circlework.notifications.models import Notification
from circlework.polls import selectors, services, tasks
from circlework.polls.models import Poll, PollAnswer, PollStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def four(federation: Any) -> dict[str, Any]:
    people = [factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy", "Dee")]
    circle = factories.make_circle(
        founder=people[0], federation=federation, members=people[1:], name="Four"
    )
    return {"circle": circle, "people": people}


def _open(four: dict[str, Any], kind: str = "approval", **kw: Any) -> Poll:
    if kind == "time" and "times" not in kw:
        start = timezone.now() + timedelta(days=10)
        kw["times"] = [start, start + timedelta(days=1), start + timedelta(days=2)]
    elif kind != "time":
        kw.setdefault("options", ["Monday", "Tuesday", "Wednesday"])
    return services.poll_open(
        actor=kw.pop("actor", four["people"][0]),
        circle=four["circle"],
        title=kw.pop("title", "When shall we meet?"),
        kind=kind,
        closes_at=kw.pop("closes_at", timezone.now() + timedelta(days=7)),
        **kw,
    )


def _ids(poll: Poll) -> list[int]:
    return list(poll.options.order_by("position").values_list("pk", flat=True))


def test_opening_creates_options_in_order_and_tells_the_others(four: dict[str, Any]) -> None:
    poll = _open(four, details="Bring *ideas*.")
    assert [o.label for o in poll.options.all()] == ["Monday", "Tuesday", "Wednesday"]
    assert poll.status == PollStatus.OPEN and poll.closed_at is None
    for p in four["people"][1:]:
        assert Notification.objects.filter(recipient=p, kind="poll").exists()
    assert not Notification.objects.filter(recipient=four["people"][0], kind="poll").exists()
    assert AuditEvent.objects.filter(verb="poll.opened", object_id=str(poll.pk)).exists()


def test_find_a_time_options_are_times(four: dict[str, Any]) -> None:
    poll = _open(four, "time")
    options = list(poll.options.all())
    assert all(o.label == "" and o.starts_at is not None for o in options)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"options": ["Only one"]}, "options"),
        ({"options": []}, "options"),
        ({"options": ["Same", "same"]}, "options"),
        ({"options": ["A", "  "]}, "options"),
        ({"options": ["A", "x" * 201]}, "options"),
        ({"options": [f"o{i}" for i in range(31)]}, "options"),
        ({"closes_at_in": timedelta(minutes=5)}, "closes_at"),
        ({"closes_at_in": timedelta(days=91)}, "closes_at"),
        ({"kind": "lottery"}, "kind"),
        ({"title": "  "}, "title"),
    ],
)
def test_bad_polls_change_nothing(four: dict[str, Any], kw: dict[str, Any], field: str) -> None:
    if "closes_at_in" in kw:
        kw["closes_at"] = timezone.now() + kw.pop("closes_at_in")
    with pytest.raises(InvalidInput) as exc:
        _open(four, kw.pop("kind", "approval"), **kw)
    assert field in exc.value.fields
    assert not Poll.objects.exists()


def test_bad_times_change_nothing(four: dict[str, Any]) -> None:
    later = timezone.now() + timedelta(days=3)
    for times in (
        [later],  # fewer than two
        [later, later],  # twice
        [later, timezone.now() - timedelta(hours=1)],  # passed
    ):
        with pytest.raises(InvalidInput) as exc:
            _open(four, "time", times=times)
        assert "options" in exc.value.fields
    with pytest.raises(InvalidInput):
        _open(four, "time", times=[later, later + timedelta(hours=1)], options=["a", "b"])
    with pytest.raises(InvalidInput):
        _open(four, "approval", times=[later, later + timedelta(hours=1)])
    assert not Poll.objects.exists()


def test_outsiders_cannot_open_answer_or_close(four: dict[str, Any]) -> None:
    outsider = factories.make_practitioner()
    with pytest.raises(NotAllowed):
        _open(four, actor=outsider)
    poll = _open(four)
    with pytest.raises(NotAllowed):
        services.ballot_cast(actor=outsider, poll=poll, approved=_ids(poll)[:1])
    with pytest.raises(NotAllowed):
        services.poll_close(actor=outsider, poll=poll)
    assert not PollAnswer.objects.exists() and Poll.objects.get().status == PollStatus.OPEN


def test_a_second_ballot_replaces_the_first(four: dict[str, Any]) -> None:
    poll = _open(four)
    ben = four["people"][1]
    mon, tue, wed = _ids(poll)
    first = services.ballot_cast(actor=ben, poll=poll, approved=[wed, mon])
    assert first.choices == [mon, wed]  # stored in option order
    second = services.ballot_cast(actor=ben, poll=poll, approved=[tue])
    assert second.pk == first.pk
    assert list(PollAnswer.objects.values_list("choices", flat=True)) == [[tue]]
    verbs = list(
        AuditEvent.objects.filter(object_type="polls.pollanswer")
        .order_by("id")
        .values_list("verb", flat=True)
    )
    assert verbs == ["ballot.cast", "ballot.changed"]


@pytest.mark.parametrize(
    ("kind", "answer"),
    [
        ("approval", {"approved": []}),
        ("approval", {"approved": [999_999]}),
        ("approval", {"ranking": [0]}),  # the wrong kind of answer
        ("score", {"scores": {0: 6, 1: 2, 2: 3}}),
        ("score", {"scores": {0: -1, 1: 2, 2: 3}}),
        ("score", {"scores": {0: 2, 1: 2}}),  # one not scored
        ("score", {"scores": {0: True, 1: 2, 2: 3}}),
        ("ranked", {"ranking": [0, 1, 0]}),  # repeats an option
        ("ranked", {"ranking": []}),
        ("ranked", {"ranking": [0, 999_999]}),
        ("time", {"availability": {0: "yes", 1: "perhaps", 2: "no"}}),
        ("time", {"availability": {0: "yes"}}),
    ],
)
def test_bad_ballots_change_nothing(
    four: dict[str, Any], kind: str, answer: dict[str, Any]
) -> None:
    poll = _open(four, kind)
    ids = _ids(poll)

    def real(value: Any) -> Any:  # option indexes in the cases above → the poll's option ids
        if isinstance(value, dict):
            return {ids[k] if k < len(ids) else k: v for k, v in value.items()}
        if isinstance(value, list):
            return [ids[k] if k < len(ids) else k for k in value]
        return value

    ben = four["people"][1]
    services.ballot_cast(actor=four["people"][2], poll=poll, **_valid(kind, ids))
    before = list(PollAnswer.objects.values_list("choices", flat=True))
    with pytest.raises(InvalidInput):
        services.ballot_cast(actor=ben, poll=poll, **{k: real(v) for k, v in answer.items()})
    assert list(PollAnswer.objects.values_list("choices", flat=True)) == before
    assert not PollAnswer.objects.filter(practitioner=ben).exists()


def _valid(kind: str, ids: list[int]) -> dict[str, Any]:
    answers: dict[str, dict[str, Any]] = {
        "approval": {"approved": ids[:2]},
        "score": {"scores": dict.fromkeys(ids, 3)},
        "ranked": {"ranking": list(reversed(ids))},
        "time": {"availability": dict.fromkeys(ids, "maybe")},
    }
    return answers[kind]


@pytest.mark.parametrize("kind", ["approval", "score", "ranked", "time"])
def test_every_kind_counts(four: dict[str, Any], kind: str) -> None:
    poll = _open(four, kind)
    ids = _ids(poll)
    for person in four["people"][:3]:
        services.ballot_cast(actor=person, poll=poll, **_valid(kind, ids))
    results = selectors.poll_results(poll=poll)
    assert results.voters == 3
    expected_lead = {"approval": ids[:2], "score": ids, "ranked": [ids[-1]], "time": ids}
    assert results.lead_ids == expected_lead[kind]
    assert results.outcome_text()
    assert (results.grid if kind == "time" else results.chart) is not None


def test_no_ballot_after_close(four: dict[str, Any]) -> None:
    poll = _open(four)
    ana, ben = four["people"][:2]
    services.ballot_cast(actor=ben, poll=poll, approved=_ids(poll)[:1])
    services.poll_close(actor=ana, poll=poll)
    with pytest.raises(Conflict):
        services.ballot_cast(actor=ben, poll=poll, approved=_ids(poll)[1:2])
    with pytest.raises(Conflict):
        services.ballot_cast(actor=ana, poll=poll, approved=_ids(poll)[1:2])
    assert list(PollAnswer.objects.values_list("choices", flat=True)) == [_ids(poll)[:1]]


def test_no_ballot_once_the_time_has_passed_even_before_the_sweep(four: dict[str, Any]) -> None:
    poll = _open(four)
    with time_machine.travel(timezone.now() + timedelta(days=8)), pytest.raises(Conflict):
        services.ballot_cast(actor=four["people"][1], poll=poll, approved=_ids(poll)[:1])
    assert not PollAnswer.objects.exists()


def test_only_the_author_closes_early_and_everyone_hears(four: dict[str, Any]) -> None:
    poll = _open(four)
    ana, ben = four["people"][:2]
    services.ballot_cast(actor=ben, poll=poll, approved=_ids(poll)[1:2])
    with pytest.raises(NotAllowed):
        services.poll_close(actor=ben, poll=poll)
    closed = services.poll_close(actor=ana, poll=poll)
    assert closed is not None and closed.status == PollStatus.CLOSED and closed.closed_at
    for p in four["people"]:
        note = Notification.objects.get(recipient=p, title__startswith="Poll closed")
        assert "Tuesday" in note.body
    assert AuditEvent.objects.get(verb="poll.closed").data == {"voters": 1, "early": True}
    with pytest.raises(Conflict):
        services.poll_close(actor=ana, poll=poll)
    assert services.poll_close(actor=None, poll=poll) is None


def test_the_worker_closes_at_the_closing_time_not_before(four: dict[str, Any]) -> None:
    poll = _open(four)
    assert tasks.close_poll.call(poll.pk) is False
    assert tasks.sweep_poll_deadlines.call() == 0
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert tasks.sweep_poll_deadlines.call() == 1
        assert tasks.close_poll.call(poll.pk) is False  # already closed: nothing happens twice
    poll.refresh_from_db()
    assert poll.status == PollStatus.CLOSED
    event = AuditEvent.objects.get(verb="poll.closed")
    assert event.by_system and event.data["early"] is False


def test_the_close_is_queued_for_the_closing_time(four: dict[str, Any], settings: Any) -> None:
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    from django_tasks_db.models import DBTaskResult

    poll = _open(four)
    row = DBTaskResult.objects.get(task_path__endswith="close_poll")
    assert row.run_after == poll.closes_at and row.args_kwargs["args"] == [poll.pk]


def test_the_sweep_is_registered_as_recurring() -> None:
    from circlework.core.scheduling import REGISTRY

    assert any(r.task.module_path.endswith("sweep_poll_deadlines") for r in REGISTRY)


def test_anonymous_poll_page_shows_who_but_not_what(four: dict[str, Any]) -> None:
    poll = _open(four, anonymous=True)
    ana, ben, cy, _dee = four["people"]
    services.ballot_cast(actor=ben, poll=poll, approved=_ids(poll)[:1])
    services.ballot_cast(actor=cy, poll=poll, approved=_ids(poll)[1:])
    page = selectors.poll_page(user=ana.user, poll=poll, practitioner=ana)
    assert not page.show_results and page.results is None  # Ana has not answered yet
    assert page.answered == ["Ben", "Cy"] and page.not_answered == ["Ana", "Dee"]
    services.ballot_cast(actor=ana, poll=poll, approved=_ids(poll)[:1])
    page = selectors.poll_page(user=ana.user, poll=poll, practitioner=ana)
    assert page.results is None  # anonymous: not even for those who answered, until the close
    with pytest.raises(Conflict):  # Dee has not answered: closing now could tell her answer
        services.poll_close(actor=ana, poll=poll)
    services.ballot_cast(actor=_dee, poll=poll, approved=_ids(poll)[1:])
    services.poll_close(actor=ana, poll=poll)  # everyone has answered: early is fine
    poll.refresh_from_db()
    page = selectors.poll_page(user=ana.user, poll=poll, practitioner=ana)
    assert page.results is not None and page.results.voters == 4
    assert page.answers == []


def test_ranked_results_table(four: dict[str, Any]) -> None:
    poll = _open(four, "ranked", options=["A", "B", "C", "D"])
    a, b, c, d = _ids(poll)
    ana, ben, cy, dee = four["people"]
    services.ballot_cast(actor=ana, poll=poll, ranking=[a])
    services.ballot_cast(actor=ben, poll=poll, ranking=[a])
    services.ballot_cast(actor=cy, poll=poll, ranking=[b, c])
    services.ballot_cast(actor=dee, poll=poll, ranking=[d, c, b])
    results = selectors.poll_results(poll=poll)
    rows = {r.label: r.cells for r in results.runoff_rows}
    assert rows == {
        "A": ["2", "2", "2", "2"],
        "B": ["1", "1", "2", ""],
        "C": ["0", "", "", ""],
        "D": ["1", "1", "", ""],
    }
    assert results.exhausted == ["0", "0", "0", "2"]
    assert results.lead_ids == [a]
    assert results.outcome_text() == "A wins in round 4 with 2 of 2 continuing ballots."
    assert len(results.round_notes) == 4
    assert "listed last" in results.round_notes[1] and "D" in results.round_notes[1]
    assert "first preferences" in results.round_notes[2]


def test_ranking_with_non_integer_ids_is_refused_pg_safe() -> None:
    from circlework.polls.services import _choices_for

    with pytest.raises(InvalidInput):
        _choices_for(
            "ranked", [1, 2], approved=None, scores=None, ranking=[True], availability=None
        )
    with pytest.raises(InvalidInput):
        _choices_for("ranked", [1, 2], approved=None, scores=None, ranking=[2.0], availability=None)  # type: ignore[list-item]
