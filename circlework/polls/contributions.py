"""What polls brings to the site-level pages (circlework.core.contributions): the polls waiting
for the practitioner's answer on the home page, their polls and answers in "Download
everything", and the circle's polls in its backup."""

from __future__ import annotations

from typing import Any

from circlework.accounts.models import Practitioner
from circlework.core.contributions import (
    BackupPart,
    BackupSeed,
    ExportPart,
    HomeSection,
    each,
    register_backup_part,
    register_export_part,
    register_home_section,
    when,
)
from circlework.polls.models import Poll, PollAnswer, PollOption
from circlework.polls.selectors import awaiting_answer


def _awaiting(practitioner: Practitioner, user: Any) -> dict[str, Any] | None:
    polls = awaiting_answer(practitioner=practitioner, user=user)
    return {"polls": polls} if polls else None


def _answer(answer: PollAnswer, labels: dict[int, str]) -> Any:
    """A poll answer with option labels in place of option ids."""
    choices = answer.choices
    if isinstance(choices, dict):
        return {labels.get(int(k), str(k)): v for k, v in choices.items()}
    return [labels.get(int(o), str(o)) for o in choices or []]


def _export(practitioner: Practitioner) -> dict[str, Any]:
    p = practitioner
    return {
        "polls": each(
            Poll.objects.filter(author=p).select_related("circle").order_by("pk"),
            lambda x: {
                "circle": x.circle.name,
                "question": x.title,
                "details": x.details,
                "kind": x.kind,
                "anonymous": x.anonymous,
                "status": x.status,
                "created_at": when(x.created_at),
            },
        ),
        "poll_answers": each(
            PollAnswer.objects.filter(practitioner=p)
            .select_related("poll__circle")
            .prefetch_related("poll__options")
            .order_by("pk"),
            lambda b: {
                "circle": b.poll.circle.name,
                "poll": b.poll.title,
                "anonymous": b.poll.anonymous,
                "answer": _answer(b, {o.pk: o.text for o in b.poll.options.all()}),
                "created_at": when(b.created_at),
                "updated_at": when(b.updated_at),
            },
        ),
    }


def _circle_seeds(circle: Any) -> list[BackupSeed]:
    """Its polls with their options and answers."""
    return [
        (Poll, Poll.objects.filter(circle=circle)),
        (PollOption, PollOption.objects.filter(poll__circle=circle)),
        (PollAnswer, PollAnswer.objects.filter(poll__circle=circle)),
    ]


def register() -> None:
    register_home_section(
        HomeSection(
            key="polls.awaiting",
            order=40,
            template="polls/home_sections.html#awaiting",
            context=_awaiting,
        )
    )
    register_export_part(
        ExportPart(
            key="polls",
            order=80,
            build=_export,
            exported={
                "polls.Poll.author": "polls",
                "polls.PollAnswer.practitioner": "poll_answers",
            },
        )
    )
    register_backup_part(BackupPart(key="polls", order=60, circle_seeds=_circle_seeds))
