"""Standing by: a member's dated statement that they know and stand by a colleague's practice.

A statement lapses after the circle's review period unless renewed. A renewal is a new row; the
old one is marked superseded, so the history is kept. Withdrawing one raises a `StandingConcern`
the circle must respond to. Reasons are sensitive: encrypted, and shown to circle members only.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circlework.core.crypto import EncryptedTextField
from circlework.core.models import TimeStamped

LAPSING_WITHIN = timedelta(days=14)


class StandingState(models.TextChoices):
    LIVE = "live", _("Current")
    LAPSING = "lapsing", _("Lapsing soon")
    LAPSED = "lapsed", _("Lapsed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SUPERSEDED = "superseded", _("Renewed")


class StandingByQuerySet(models.QuerySet["StandingBy"]):
    def current(self) -> StandingByQuerySet:
        """The latest statement of each pair that has not been withdrawn (it may have lapsed)."""
        return self.filter(superseded_at__isnull=True, withdrawn_at__isnull=True)

    def live(self, today: date | None = None) -> StandingByQuerySet:
        return self.current().filter(lapses_on__gt=today or timezone.localdate())


class StandingBy(TimeStamped):
    circle = models.ForeignKey(
        "circles.Circle", on_delete=models.CASCADE, related_name="standing_statements"
    )
    by = models.ForeignKey(
        "accounts.Practitioner", on_delete=models.CASCADE, related_name="standing_by_given"
    )
    for_practitioner = models.ForeignKey(
        "accounts.Practitioner", on_delete=models.CASCADE, related_name="standing_by_received"
    )
    basis = models.CharField(
        _("basis"),
        max_length=300,
        help_text=_(
            "How you know their practice, e.g. “we have met for two years in peer supervision”."
        ),
    )
    stated_at = models.DateTimeField(_("stated"), default=timezone.now)
    lapses_on = models.DateField(_("lapses on"))
    renewed_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="renewal"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = EncryptedTextField(_("reasons"), blank=True, max_length=5000)
    # The lapse date each notice went out for: the lapse task is idempotent.
    lapse_warned_on = models.DateField(null=True, blank=True)
    lapse_notified_on = models.DateField(null=True, blank=True)

    objects = StandingByQuerySet.as_manager()

    class Meta:
        ordering = ["-stated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["circle", "by", "for_practitioner"],
                condition=Q(superseded_at__isnull=True, withdrawn_at__isnull=True),
                name="one_current_standing_by_per_pair",
                violation_error_message=_("You already stand by this colleague here."),
            ),
            models.CheckConstraint(
                condition=~Q(by=F("for_practitioner")),
                name="standing_by_not_yourself",
                violation_error_message=_("You cannot stand by yourself."),
            ),
        ]
        indexes = [models.Index(fields=["circle", "lapses_on"])]

    def __str__(self) -> str:
        return f"{self.by} stands by {self.for_practitioner} in {self.circle}"

    def state(self, today: date | None = None) -> str:
        today = today or timezone.localdate()
        if self.withdrawn_at is not None:
            return StandingState.WITHDRAWN
        if self.superseded_at is not None:
            return StandingState.SUPERSEDED
        if self.lapses_on <= today:
            return StandingState.LAPSED
        if self.lapses_on <= today + LAPSING_WITHIN:
            return StandingState.LAPSING
        return StandingState.LIVE

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None and self.withdrawn_at is None


class ConcernStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESPONDED = "responded", _("Responded to")
    RESOLVED = "resolved", _("Resolved")


class StandingConcern(TimeStamped):
    """Raised when a statement is withdrawn: the circle must respond. Circle members only."""

    circle = models.ForeignKey(
        "circles.Circle", on_delete=models.CASCADE, related_name="standing_concerns"
    )
    statement = models.OneToOneField(StandingBy, on_delete=models.CASCADE, related_name="concern")
    raised_by = models.ForeignKey(
        "accounts.Practitioner",
        null=True,
        on_delete=models.SET_NULL,
        related_name="standing_concerns_raised",
    )
    reason = EncryptedTextField(_("reasons"), max_length=5000)
    status = models.CharField(
        max_length=10, choices=ConcernStatus.choices, default=ConcernStatus.OPEN
    )
    response = EncryptedTextField(_("the circle's response"), blank=True, max_length=5000)
    responded_by = models.ForeignKey(
        "accounts.Practitioner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="standing_concerns_answered",
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Concern in {self.circle} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("standing:concern_detail", kwargs={"slug": self.circle.slug, "pk": self.pk})
