"""Polls: questions that are not proposals. Approval, score, ranked choice and find-a-time.

A poll's options are fixed when it opens. Each member has at most one `PollAnswer` per poll;
answering again replaces it (services.py: ballot_cast). Results are never stored: selectors.py
counts them from the answers (counting.py holds the pure counting functions). (An election's
secret vote is another thing: elections.Ballot.)

`PollAnswer.choices` holds the answer in one shape per kind (option ids are the poll's own):
- approval: `[option_id, ...]` — the options approved;
- score: `{"<option_id>": 0..5, ...}` — every option scored;
- ranked: `[option_id, ...]` — best first, each at most once (a partial ranking is allowed);
- time: `{"<option_id>": "yes" | "maybe" | "no", ...}` — every time answered.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from circlework.core import deadlines
from circlework.core.models import TimeStamped


class PollKind(models.TextChoices):
    APPROVAL = "approval", _("Approval")
    SCORE = "score", _("Score")
    RANKED = "ranked", _("Ranked choice")
    TIME = "time", _("Find a time")


KIND_DESCRIPTIONS = [
    (PollKind.APPROVAL.value, _("Approval: choose any number of options")),
    (PollKind.SCORE.value, _("Score: give each option 0 to 5")),
    (PollKind.RANKED.value, _("Ranked choice: rank the options (counted by instant runoff)")),
    (PollKind.TIME.value, _("Find a time: yes, if need be or no for each time")),
]


class PollStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Availability(models.TextChoices):
    YES = "yes", _("Yes")
    MAYBE = "maybe", _("If need be")
    NO = "no", _("No")


SCORE_MIN = 0
SCORE_MAX = 5


class Poll(TimeStamped):
    circle = models.ForeignKey("circles.Circle", on_delete=models.CASCADE, related_name="polls")
    author = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="polls"
    )
    title = models.CharField(_("question"), max_length=200)
    details = models.TextField(
        _("details"),
        blank=True,
        max_length=20_000,
        help_text=_("You can use simple formatting: **bold**, # heading, - list."),
    )
    kind = models.CharField(_("kind of poll"), max_length=10, choices=PollKind.choices)
    anonymous = models.BooleanField(
        _("anonymous"),
        default=False,
        help_text=_("Everyone sees who has answered, but nobody sees what anyone chose."),
    )
    closes_at = models.DateTimeField(_("closes at"))
    status = models.CharField(max_length=10, choices=PollStatus.choices, default=PollStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "closes_at"]),
            # "Polls waiting for your answer" on every home page: the open polls of a few
            # circles, found without reading every open poll of the instance.
            models.Index(fields=["circle", "status"], name="poll_circle_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="poll_closed_at_iff_closed",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("polls:poll_detail", kwargs={"slug": self.circle.slug, "pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.status == PollStatus.OPEN

    @property
    def deadline_passed(self) -> bool:
        return deadlines.is_past(self.closes_at)

    @property
    def accepts_answers(self) -> bool:
        return self.is_open and not self.deadline_passed


def format_time(value: datetime) -> str:
    """A find-a-time option as shown: in the current (the viewer's) time zone."""
    return formats.date_format(timezone.localtime(value), "D j M Y, H:i")


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField()  # 0-based, the order the author gave
    label = models.CharField(_("option"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("time"), null=True, blank=True)  # find-a-time only

    class Meta:
        ordering = ["poll", "position"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "position"], name="one_poll_option_position"),
            models.CheckConstraint(
                condition=(Q(starts_at__isnull=True) & ~Q(label=""))
                | (Q(starts_at__isnull=False) & Q(label="")),
                name="poll_option_label_xor_time",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        return format_time(self.starts_at) if self.starts_at is not None else self.label


class PollAnswer(TimeStamped):
    """One member's answer to one poll. Changing it replaces `choices` in place."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="answers")
    practitioner = models.ForeignKey(
        "accounts.Practitioner",
        null=True,
        on_delete=models.SET_NULL,
        related_name="poll_answers",
    )
    choices = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "practitioner"], name="one_answer_per_member_per_poll"
            )
        ]

    def __str__(self) -> str:
        return f"Answer to poll {self.poll_id}"
