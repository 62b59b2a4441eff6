from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("Audit events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("Audit events are append-only.")


class AuditEvent(models.Model):
    """One row per service write: who did what to which record, and when. Never changed.

    `actor` is nulled when an account is deleted, so the history then reads "a former member":
    a circle keeps the shape of its history without keeping the person.
    """

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        "accounts.Practitioner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    by_system = models.BooleanField(default=False)
    verb = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=400)
    circle = models.ForeignKey(
        "circles.Circle",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="audit_events",
    )
    federation = models.ForeignKey(
        "circles.Federation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="audit_events",
    )
    data = models.JSONField(default=dict, blank=True)
    # Tamper evidence (see circlework.core.audit): who acted, as a keyed digest that survives the
    # deletion of their account, and a hash chain over every event in the order sealed (`seq`,
    # empty until the event is sealed just after its transaction commits).
    actor_digest = models.CharField(max_length=64, blank=True)
    seq = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    sealed_at = models.DateTimeField(null=True, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["circle", "-created_at"]),
            # The sealer looks for unsealed events on every audited commit: keep that cheap.
            models.Index(
                fields=["id"], condition=models.Q(seq__isnull=True), name="audit_unsealed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_display} {self.verb}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("Audit events are append-only.")

    @property
    def actor_display(self) -> str:
        if self.by_system:
            return str(_("Circlework (scheduled)"))
        if self.actor is None:
            return str(_("a former member"))
        return self.actor.display_name
