"""The demo's polls (../shared/DEMO.md): Leeds finding a day for its audit, York ranking themes
for its next inquiry cycle. Built through the real services."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle
from circlework.polls.services import ballot_cast, poll_open


def seed_polls(people: dict[str, Practitioner], circles: dict[str, Circle]) -> None:
    leeds = circles["Leeds Wednesday Circle"]
    when = timezone.localtime(timezone.now()).replace(hour=10, minute=0, second=0, microsecond=0)
    day = poll_open(
        actor=people["ruth"],
        circle=leeds,
        title="When shall we hold the spring audit day?",
        kind="time",
        closes_at=timezone.now() + timedelta(days=6),
        times=[when + timedelta(days=d) for d in (24, 31, 38)],
        details="A full day for the audit meeting: each of us presents our self-assessment.",
    )
    options = list(day.options.order_by("pk"))
    for key, answers in {
        "ruth": ["yes", "maybe", "no"],
        "tom": ["yes", "yes", "no"],
        "amira": ["no", "yes", "yes"],
    }.items():
        ballot_cast(
            actor=people[key],
            poll=day,
            availability={o.pk: a for o, a in zip(options, answers, strict=True)},
        )
    york = circles["York Riverside Group"]
    topic = poll_open(
        actor=people["sam"],
        circle=york,
        title="Which theme for our next inquiry cycle?",
        kind="ranked",
        closes_at=timezone.now() + timedelta(days=9),
        options=["Shame in first sessions", "Working with silence", "Endings and loss"],
    )
    options = list(topic.options.order_by("pk"))
    for key, order in {
        "sam": [0, 1, 2],
        "maria": [2, 0, 1],
        "ben": [1, 0, 2],
        "lucy": [0, 2, 1],
    }.items():
        ballot_cast(actor=people[key], poll=topic, ranking=[options[i].pk for i in order])
