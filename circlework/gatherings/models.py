"""Gatherings: where the practice happens. A circle's meetings, link meetings between two
circles, and the federation's gatherings; who is coming and who came; the agenda; the minutes
those present confirm; calendar feeds.

A `Gathering` is what is planned: a title, a first start and end in a named time zone, a place
or an online link, and, for a meeting that repeats, a recurrence rule (RFC 5545 RRULE, expanded
by `recurrence.py` in the gathering's own local time). Each time it happens is an `Occurrence`
row: made for the coming months when the gathering is planned and kept ahead by a task, so
answers, agenda items and minutes hang on a real row. An occurrence moved or cancelled on its
own keeps its `original_start` (the calendar's RECURRENCE-ID).

Who is invited (and so may see the place, the link and the agenda) is decided once, in
`rules.py`. The minutes are sensitive: they are encrypted at rest and read only by those invited.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from circlework.accounts.models import DEFAULT_TIME_ZONE
from circlework.core.crypto import EncryptedTextField
from circlework.core.models import TimeStamped


class Gathering(TimeStamped):
    """A meeting that happens once or repeats. It belongs to a circle, to a link between two
    circles (their validation meeting), or, with neither, to the federation itself."""

    federation = models.ForeignKey(
        "circles.Federation", on_delete=models.CASCADE, related_name="gatherings"
    )
    circle = models.ForeignKey(
        "circles.Circle",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="gatherings",
    )
    link = models.ForeignKey(
        "links.CircleLink",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="gatherings",
    )
    # A federation gathering is proposed by one of the federation's circles, which hosts it.
    host_circle = models.ForeignKey(
        "circles.Circle",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hosted_gatherings",
    )
    planned_by = models.ForeignKey(
        "accounts.Practitioner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gatherings_planned",
    )
    title = models.CharField(_("title"), max_length=200)
    details = models.TextField(
        _("what it is for"),
        max_length=5000,
        blank=True,
        help_text=_("You can use simple formatting: **bold**, # heading, - list."),
    )
    # The first occurrence: DTSTART and DTEND of the series, in `time_zone`'s local time.
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    time_zone = models.CharField(_("time zone"), max_length=64, default=DEFAULT_TIME_ZONE)
    place = models.CharField(_("place"), max_length=300, blank=True)
    online_link = models.URLField(_("online link"), max_length=500, blank=True)
    # An RRULE body ("FREQ=MONTHLY;BYDAY=+2WE"), normalised by recurrence.normalise; "" = once.
    recurrence = models.CharField(_("repeats"), max_length=300, blank=True)
    # Federation gatherings only: the public may see it and register.
    is_public = models.BooleanField(_("open to the public"), default=False)
    # The calendar's identity of the event, and its revision (RFC 5545 UID and SEQUENCE).
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["circle", "starts_at"], name="gathering_circle_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="gathering_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(circle__isnull=True) | Q(link__isnull=True),
                name="gathering_of_circle_or_link",
            ),
            models.CheckConstraint(
                condition=Q(is_public=False) | (Q(circle__isnull=True) & Q(link__isnull=True)),
                name="gathering_public_only_federation",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_federation_gathering(self) -> bool:
        return self.circle_id is None and self.link_id is None

    @property
    def repeats(self) -> bool:
        return bool(self.recurrence)

    def get_absolute_url(self) -> str:
        return reverse("gatherings:gathering_detail", kwargs={"pk": self.pk})


class MinutesState(models.TextChoices):
    NONE = "none", _("No minutes yet")
    AWAITING = "awaiting", _("Minutes waiting to be confirmed")
    CONFIRMED = "confirmed", _("Minutes confirmed")


class Occurrence(models.Model):
    """One time a gathering happens. Moved or cancelled on its own, it keeps `original_start`."""

    gathering = models.ForeignKey(Gathering, on_delete=models.CASCADE, related_name="occurrences")
    original_start = models.DateTimeField()
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    # Set when this one occurrence was moved on its own (a calendar override).
    moved_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("why"), max_length=300, blank=True)
    minutes_state = models.CharField(
        max_length=10, choices=MinutesState.choices, default=MinutesState.NONE
    )
    # The number of the minutes' current version (0: none written yet), kept with the state so
    # that "whose answer is still wanted" is read with joins, not a subquery a row.
    minutes_version = models.PositiveIntegerField(default=0)
    # Silence counts as confirming after this time, unless a correction is still asked for.
    minutes_confirm_by = models.DateTimeField(null=True, blank=True)
    minutes_confirmed_at = models.DateTimeField(null=True, blank=True)
    # The reminders sent (idempotent: the task checks these under a lock).
    reminded_day_at = models.DateTimeField(null=True, blank=True)
    reminded_hour_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["starts_at"], name="occurrence_start"),
            models.Index(fields=["minutes_state", "minutes_confirm_by"], name="occurrence_minutes"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["gathering", "original_start"], name="one_occurrence_per_start"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="occurrence_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gathering_id} at {self.starts_at.isoformat()}"

    def get_absolute_url(self) -> str:
        return reverse(
            "gatherings:occurrence_detail",
            kwargs={"pk": self.gathering_id, "occurrence": self.pk},
        )

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class Answer(models.TextChoices):
    YES = "yes", _("Coming")
    MAYBE = "maybe", _("Maybe")
    NO = "no", _("Not coming")


class Attendance(TimeStamped):
    """One invitee's answer before (yes / maybe / no) and, after, whether they came."""

    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE, related_name="attendance")
    practitioner = models.ForeignKey(
        "accounts.Practitioner", on_delete=models.CASCADE, related_name="gathering_attendance"
    )
    answer = models.CharField(_("coming?"), max_length=5, choices=Answer.choices, blank=True)
    attended = models.BooleanField(_("came"), null=True, blank=True)

    class Meta:
        ordering = ["occurrence", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["occurrence", "practitioner"], name="one_attendance_per_occurrence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.practitioner_id} at {self.occurrence_id}: {self.answer}"


class AgendaKind(models.TextChoices):
    TOPIC = "topic", _("Something to talk about")
    PROPOSAL = "proposal", _("A proposal to discuss")
    AGREEMENT = "agreement", _("An agreement due for review")
    LINK = "link", _("A link with another circle")
    ELECTION = "election", _("A nomination round")
    CEREMONY = "ceremony", _("A ceremony")


class AgendaState(models.TextChoices):
    ON = "on", _("On the agenda")
    SUGGESTED = "suggested", _("Suggested")
    DISMISSED = "dismissed", _("Set aside")


class AgendaItem(TimeStamped):
    """What a meeting is for: ordered, time-boxed, linked to what it is about. An item the
    platform suggests (a ceremony after a key moment) waits for the circle to take it or set it
    aside; apps above gatherings (supervision, audit, inquiry) point their own rows at an item."""

    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE, related_name="agenda")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(_("item"), max_length=200)
    details = models.TextField(_("details"), max_length=2000, blank=True)
    minutes = models.PositiveSmallIntegerField(_("minutes"), null=True, blank=True)
    kind = models.CharField(
        _("kind"), max_length=12, choices=AgendaKind.choices, default=AgendaKind.TOPIC
    )
    state = models.CharField(max_length=10, choices=AgendaState.choices, default=AgendaState.ON)
    added_by = models.ForeignKey(
        "accounts.Practitioner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agenda_items_added",
    )
    proposal = models.ForeignKey(
        "decisions.Proposal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agreement = models.ForeignKey(
        "agreements.Agreement", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    election = models.ForeignKey(
        "elections.Election", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    link = models.ForeignKey(
        "links.CircleLink", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why the platform suggested it (a names.text with person tokens, rendered per reader), and
    # a key so one moment suggests one item however often it is announced.
    reason = models.CharField(max_length=500, blank=True)
    suggestion_key = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["occurrence", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["occurrence", "suggestion_key"],
                condition=~Q(suggestion_key=""),
                name="one_suggestion_per_moment",
            ),
            models.CheckConstraint(
                condition=Q(minutes__isnull=True) | Q(minutes__gte=1, minutes__lte=480),
                name="agenda_item_minutes_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class MinutesVersion(models.Model):
    """One version of an occurrence's minutes. A correction is a new version; none is changed."""

    occurrence = models.ForeignKey(
        Occurrence, on_delete=models.CASCADE, related_name="minutes_versions"
    )
    number = models.PositiveIntegerField()
    text = EncryptedTextField(_("minutes"), max_length=50_000)
    written_by = models.ForeignKey(
        "accounts.Practitioner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="minutes_written",
    )
    written_at = models.DateTimeField()
    change_note = models.CharField(_("what changed"), max_length=500, blank=True)

    class Meta:
        ordering = ["occurrence", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["occurrence", "number"], name="one_minutes_version_number"
            )
        ]

    def __str__(self) -> str:
        return f"Minutes {self.occurrence_id} v{self.number}"


class ConfirmationAnswer(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    CORRECTION = "correction", _("Asked for a correction")


class MinutesConfirmation(models.Model):
    """Someone present confirms a version of the minutes, or asks for a correction."""

    occurrence = models.ForeignKey(
        Occurrence, on_delete=models.CASCADE, related_name="minutes_confirmations"
    )
    practitioner = models.ForeignKey(
        "accounts.Practitioner", on_delete=models.CASCADE, related_name="minutes_confirmations"
    )
    version = models.PositiveIntegerField()
    answer = models.CharField(max_length=10, choices=ConfirmationAnswer.choices)
    correction = EncryptedTextField(_("what should change"), max_length=5000, blank=True)
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["occurrence", "answered_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["occurrence", "practitioner", "version"],
                name="one_confirmation_per_version",
            )
        ]

    def __str__(self) -> str:
        return f"{self.practitioner_id} on minutes {self.occurrence_id} v{self.version}"


class CalendarFeed(models.Model):
    """A secret address a calendar app subscribes to: the practitioner's own gatherings, or one
    circle's. Only a digest finds it; the token itself is kept encrypted so its owner can copy
    the address again. Revoked feeds answer 404."""

    practitioner = models.ForeignKey(
        "accounts.Practitioner", on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    circle = models.ForeignKey(
        "circles.Circle",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
    )
    token_digest = models.CharField(max_length=64, unique=True)
    token = EncryptedTextField()
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["practitioner", "circle"],
                condition=Q(revoked_at__isnull=True) & Q(circle__isnull=False),
                name="one_live_circle_feed",
            ),
            models.UniqueConstraint(
                fields=["practitioner"],
                condition=Q(revoked_at__isnull=True) & Q(circle__isnull=True),
                name="one_live_personal_feed",
            ),
        ]

    def __str__(self) -> str:
        return f"Calendar feed {self.pk}"


class CircleSignup(TimeStamped):
    """A circle says it is coming to a federation gathering, and who from it attends."""

    gathering = models.ForeignKey(Gathering, on_delete=models.CASCADE, related_name="signups")
    circle = models.ForeignKey(
        "circles.Circle", on_delete=models.CASCADE, related_name="gathering_signups"
    )
    signed_up_by = models.ForeignKey(
        "accounts.Practitioner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gathering_signups_made",
    )
    attendees = models.ManyToManyField(
        "accounts.Practitioner", blank=True, related_name="gathering_signups"
    )
    note = models.CharField(_("a note for the organisers"), max_length=500, blank=True)

    class Meta:
        ordering = ["gathering", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["gathering", "circle"], name="one_signup_per_circle")
        ]

    def __str__(self) -> str:
        return f"{self.circle_id} at {self.gathering_id}"


class SessionState(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("In the programme")
    DECLINED = "declined", _("Not this time")


class ProgrammeSession(TimeStamped):
    """A session a member offers for a federation gathering; accepted ones make the programme."""

    gathering = models.ForeignKey(Gathering, on_delete=models.CASCADE, related_name="sessions")
    offered_by = models.ForeignKey(
        "accounts.Practitioner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="programme_sessions",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what it offers"), max_length=3000, blank=True)
    minutes = models.PositiveSmallIntegerField(_("length in minutes"), default=60)
    state = models.CharField(
        max_length=10, choices=SessionState.choices, default=SessionState.OFFERED
    )
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    room = models.CharField(_("room"), max_length=100, blank=True)

    class Meta:
        ordering = ["gathering", "starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gte=10, minutes__lte=480), name="session_minutes_range"
            )
        ]

    def __str__(self) -> str:
        return self.title


class PublicRegistration(models.Model):
    """Someone from the public registers for a public federation gathering. Name and address
    are encrypted; the digest finds a second registration from the same address; the cancel
    token's digest lets them withdraw from the link in their e-mail."""

    gathering = models.ForeignKey(
        Gathering, on_delete=models.CASCADE, related_name="public_registrations"
    )
    name = EncryptedTextField(_("name"), max_length=160)
    email = EncryptedTextField(_("e-mail address"), max_length=254)
    email_digest = models.CharField(max_length=64)
    cancel_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["gathering", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["gathering", "email_digest"],
                condition=Q(cancelled_at__isnull=True),
                name="one_live_registration_per_address",
            )
        ]

    def __str__(self) -> str:
        return f"Registration {self.pk}"
