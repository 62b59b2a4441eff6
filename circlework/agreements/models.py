from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from circlework.core.models import TimeStamped
from circlework.core.visibility import Visibility


class AgreementKind(models.TextChoices):
    POLICY = "policy", _("Policy")
    PROCEDURE = "procedure", _("Procedure")
    DECISION_RULE = "decision_rule", _("Decision rule")
    COMPETENCE_CRITERIA = "competence_criteria", _("Competence criteria")
    CONFLICT_PROCEDURE = "conflict_procedure", _("Conflict procedure")
    CEREMONY = "ceremony", _("Ceremony")
    ETHICS = "ethics", _("Ethical statement")
    COVENANT = "covenant", _("Covenant")
    OTHER = "other", _("Other")


class Agreement(TimeStamped):
    """One of a circle's living forms: adopted by decision, versioned, reviewed, borrowable."""

    circle = models.ForeignKey(
        "circles.Circle", on_delete=models.CASCADE, related_name="agreements"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=AgreementKind.choices)
    title = models.CharField(_("title"), max_length=200)
    review_interval_months = models.PositiveSmallIntegerField(
        _("review every (months)"), default=12
    )
    review_due = models.DateField(_("review due"), null=True, blank=True)
    review_notified_on = models.DateField(
        null=True, blank=True
    )  # the due date members were told of
    current_version = models.ForeignKey(
        "agreements.AgreementVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Provenance when borrowed: the other circle's version this one started from.
    borrowed_from = models.ForeignKey(
        "agreements.AgreementVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="borrowings",
    )
    visibility = models.CharField(
        _("who can read it"),
        max_length=12,
        choices=[c for c in Visibility.choices if c[0] != Visibility.PRIVATE],
        default=Visibility.FEDERATION,
    )

    class Meta:
        ordering = ["kind", "title"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(visibility=Visibility.PRIVATE), name="agreement_not_private"
            ),
            models.CheckConstraint(
                condition=Q(review_interval_months__gte=1),
                name="agreement_review_interval_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "agreements:agreement_detail", kwargs={"slug": self.circle.slug, "pk": self.pk}
        )


class AgreementVersion(models.Model):
    """A version's text. It becomes current only through the outcome of a proposal."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    text = models.TextField(_("text"), max_length=50_000)
    # For decision-rule agreements: the rule's parameters (see decisions/rule.py).
    parameters = models.JSONField(default=dict, blank=True)
    adopted_by = models.OneToOneField(
        "decisions.Outcome", on_delete=models.PROTECT, related_name="adopted_version"
    )
    adopted_at = models.DateTimeField()

    class Meta:
        ordering = ["agreement", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "number"], name="one_version_number_per_agreement"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agreement} v{self.number}"
