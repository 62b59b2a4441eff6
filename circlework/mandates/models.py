"""Mandates: every position of authority, scoped, time-limited, reviewed, and lapsing on its own.

A mandate belongs either to a circle (convener, facilitator, delegate…) or to a federation
(coordinator, registrar, treasurer…). `permissions` is the scope: the permission codes it grants
(see circlework.circles.roles.PERMISSIONS), only while it is live. Nothing extends a mandate:
a new term is a new mandate, won by an election.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circlework.core.models import TimeStamped


class MandateQuerySet(models.QuerySet["Mandate"]):
    def live(self, today: date | None = None) -> MandateQuerySet:
        day = today or timezone.localdate()
        return self.filter(starts_on__lte=day, ends_on__gt=day, ended_early_at__isnull=True)


class Mandate(TimeStamped):
    role = models.SlugField(_("role"), max_length=40)
    circle = models.ForeignKey(
        "circles.Circle", null=True, blank=True, on_delete=models.CASCADE, related_name="mandates"
    )
    federation = models.ForeignKey(
        "circles.Federation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="mandates",
    )
    holder = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="mandates"
    )
    permissions = models.JSONField(_("scope"), default=list, blank=True)
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    review_on = models.DateField(_("review"))
    handover_plan = models.TextField(
        _("handover plan"),
        max_length=5000,
        blank=True,
        help_text=_("How this role will be reduced or passed on."),
    )
    election = models.ForeignKey(
        "elections.Election",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mandates",
    )
    # Counted when granted: 1 for a first term, 2 when the holder held it just before, …
    consecutive_term = models.PositiveSmallIntegerField(default=1)
    ended_early_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(_("why it ended early"), max_length=500, blank=True)
    # The date each notice went out for, so the lapse task is idempotent.
    review_notified_on = models.DateField(null=True, blank=True)
    end_warned_on = models.DateField(null=True, blank=True)
    end_notified_on = models.DateField(null=True, blank=True)

    objects = MandateQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "role"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(circle__isnull=False) & Q(federation__isnull=True))
                | (Q(circle__isnull=True) & Q(federation__isnull=False)),
                name="mandate_in_circle_or_federation",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="mandate_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(review_on__gte=F("starts_on")) & Q(review_on__lte=F("ends_on")),
                name="mandate_review_within_term",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.holder}"

    def get_absolute_url(self) -> str:
        return reverse("mandates:mandate_detail", kwargs={"pk": self.pk})

    def is_live(self, today: date | None = None) -> bool:
        day = today or timezone.localdate()
        return self.ended_early_at is None and self.starts_on <= day < self.ends_on


class FederationNotice(models.Model):
    """A notice an officer sent to every member of the federation, by a mandate granting
    "federation.notice" (services.federation_notice_send): kept for the federation's notices
    page, where its members read every notice, newest first. The sender is the mandate's
    holder; their name is shown as far as they let the reader see it."""

    federation = models.ForeignKey(
        "circles.Federation", on_delete=models.CASCADE, related_name="notices"
    )
    mandate = models.ForeignKey(
        Mandate, null=True, on_delete=models.SET_NULL, related_name="notices"
    )
    title = models.CharField(_("title"), max_length=160)
    text = models.TextField(_("notice"), max_length=5000)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["federation", "-created_at", "-id"])]

    def __str__(self) -> str:
        return self.title
