from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from circlework.core.models import TimeStamped
from circlework.core.visibility import Visibility

# Who may read an agreement: its circle, the federation or everyone (never only one person), and
# never wider than its circle's own page (agreements.rules.agreement_levels decides which).
AGREEMENT_LEVELS = [c for c in Visibility.choices if c[0] != Visibility.PRIVATE]
# The same levels in the words a circle's members read when choosing who reads an agreement.
AGREEMENT_LEVEL_WORDS: dict[str, Promise] = {
    Visibility.CIRCLE: _("Only this circle's members"),
    Visibility.FEDERATION: _("Members of the federation's validated circles"),
    Visibility.PUBLIC: _("Everyone, including the public"),
}


class AgreementKind(models.TextChoices):
    POLICY = "policy", _("Policy")
    PROCEDURE = "procedure", _("Procedure")
    DECISION_RULE = "decision_rule", _("Decision rule")
    COMPETENCE_CRITERIA = "competence_criteria", _("Competence criteria")
    CONFLICT_PROCEDURE = "conflict_procedure", _("Conflict procedure")
    CEREMONY = "ceremony", _("Ceremony")
    ETHICS = "ethics", _("Ethical statement")
    COVENANT = "covenant", _("Covenant")
    ROLES = "roles", _("Roles and mandates")
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
        choices=AGREEMENT_LEVELS,
        # The narrowest level: every agreement made through a service is given its circle's
        # choice (by default the circle's own visibility) when it is adopted.
        default=Visibility.CIRCLE,
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

    @property
    def visibility_words(self) -> str:
        return str(AGREEMENT_LEVEL_WORDS.get(self.visibility, self.get_visibility_display()))

    def get_absolute_url(self) -> str:
        return reverse(
            "agreements:agreement_detail", kwargs={"slug": self.circle.slug, "pk": self.pk}
        )


class ProposedVisibility(models.Model):
    """Who will read the new agreement a proposal adopts, as the circle chose when proposing it.

    Kept beside the proposal (the decisions app knows nothing of who reads agreements) and
    applied when the proposal is agreed and the agreement is created (services.version_adopt).
    """

    proposal = models.OneToOneField(
        "decisions.Proposal", on_delete=models.CASCADE, related_name="proposed_visibility"
    )
    visibility = models.CharField(_("who can read it"), max_length=12, choices=AGREEMENT_LEVELS)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(visibility=Visibility.PRIVATE), name="proposed_visibility_not_private"
            )
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.visibility}"


class AgreementVersion(models.Model):
    """A version's text. It becomes current only through the outcome of a proposal."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    text = models.TextField(_("text"), max_length=50_000)
    # For decision-rule agreements: the rule's parameters (see decisions/decision_rule.py).
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


class EthicsCirculation(models.Model):
    """A circle's ethical statement sent round the federation, for members of every circle to
    read and comment on: an adopted version, or a draft its circle is still deciding.

    The text is kept as circulated, so comments stay next to what they answer.
    """

    circle = models.ForeignKey(
        "circles.Circle", on_delete=models.CASCADE, related_name="ethics_circulations"
    )
    agreement = models.ForeignKey(
        Agreement, null=True, blank=True, on_delete=models.CASCADE, related_name="circulations"
    )
    version = models.ForeignKey(
        AgreementVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    proposal = models.ForeignKey(
        "decisions.Proposal",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="ethics_circulations",
        help_text=_("The open proposal whose draft was circulated."),
    )
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text as circulated"), max_length=50_000)
    circulated_by = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    circulated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-circulated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(version__isnull=False) | Q(proposal__isnull=False),
                name="ethics_circulation_of_a_version_or_draft",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.circle_id}, circulated)"

    def get_absolute_url(self) -> str:
        return reverse(
            "agreements:ethics_circulation", kwargs={"slug": self.circle.slug, "pk": self.pk}
        )

    @property
    def is_draft(self) -> bool:
        return self.version_id is None


class EthicsComment(TimeStamped):
    """A federation member's comment on a circulated ethical statement. Only members of the
    federation's circles read them; never the public."""

    circulation = models.ForeignKey(
        EthicsCirculation, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The commenter's circle when they commented: "a member of York" when their name is not
    # theirs to show to this reader.
    author_circle = models.ForeignKey(
        "circles.Circle", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("comment"), max_length=5000)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment on {self.circulation_id}"
