from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from circlework.core import deadlines
from circlework.core.models import TimeStamped
from circlework.decisions.decision_rule import RuleKind, Silence, Stance


class Process(models.TextChoices):
    """Process templates: how the conversation goes. The circle's rule decides the result."""

    CONSENT = "consent", _("Consent")
    CONSENSUS = "consensus", _("Consensus")
    ADVICE = "advice", _("Advice process")
    GRADIENTS = "gradients", _("Gradients of agreement")
    QUESTION_ROUND = "question_round", _("Question round")


class StanceChoice(models.TextChoices):
    AGREE = Stance.AGREE.value, _("Agree")
    CONCERNS = Stance.CONCERNS.value, _("Agree with concerns")
    DISAGREE = Stance.DISAGREE.value, _("Disagree")
    STAND_ASIDE = Stance.STAND_ASIDE.value, _("Stand aside")
    BLOCK = Stance.BLOCK.value, _("Block")


class RuleChoice(models.TextChoices):
    CONSENT = RuleKind.CONSENT.value, _("Consent: no block, every voice heard")
    CONSENSUS = RuleKind.CONSENSUS.value, _("Consensus: everyone agrees")
    MAJORITY_AFTER_ROUNDS = (
        RuleKind.MAJORITY_AFTER_ROUNDS.value,
        _("Consent, then a majority after N rounds"),
    )


class SilenceChoice(models.TextChoices):
    """What a missing or unconfirmed voice means at the closing time (decisions.decision_rule.Silence)."""

    EXTEND_ONCE = (
        Silence.EXTEND_ONCE.value,
        _("Extend once and remind, then decide with the voices given"),
    )
    NO_OBJECTION = Silence.NO_OBJECTION.value, _("Silence counts as no objection")
    EVERY_VOICE = Silence.EVERY_VOICE.value, _("Every voice is needed")


class ProposalStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Proposal(TimeStamped):
    circle = models.ForeignKey("circles.Circle", on_delete=models.CASCADE, related_name="proposals")
    author = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="proposals"
    )
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(
        _("proposal"),
        max_length=20_000,
        help_text=_("You can use simple formatting: **bold**, # heading, - list."),
    )
    process = models.CharField(
        _("process"), max_length=20, choices=Process.choices, default=Process.CONSENT
    )
    # The rule in force when the proposal opened (from the circle's decision-rule agreement).
    rule = models.CharField(max_length=24, choices=RuleChoice.choices, default=RuleChoice.CONSENT)
    fallback_after_rounds = models.PositiveSmallIntegerField(default=3)
    # What silence means at the closing time, from the same agreement, shown on the proposal.
    silence = models.CharField(
        max_length=16, choices=SilenceChoice.choices, default=SilenceChoice.EXTEND_ONCE
    )
    closes_at = models.DateTimeField(_("closes at"))
    # Set when the closing time was moved once for silent members (`silence` extend once):
    # the closing time it had before.
    extended_from = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.OPEN
    )
    version = models.PositiveIntegerField(default=1)  # rises with each accepted amendment
    round = models.PositiveIntegerField(default=1)  # rises when members are asked to confirm again
    # What the proposal would adopt: a new version of an agreement, or a new agreement.
    agreement = models.ForeignKey(
        "agreements.Agreement",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proposals",
    )
    new_agreement_kind = models.CharField(max_length=24, blank=True)
    new_agreement_title = models.CharField(max_length=200, blank=True)
    agreement_text = models.TextField(
        _("agreement text it would adopt"), blank=True, max_length=50_000
    )
    agreement_parameters = models.JSONField(default=dict, blank=True)
    borrowed_from = models.ForeignKey(
        "agreements.AgreementVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set when the circle forms its position on a federation proposal through this proposal.
    federation_proposal = models.ForeignKey(
        "decisions.FederationProposal",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="internal_proposals",
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    decision_requested_at = models.DateTimeField(null=True, blank=True)  # advice process only

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "closes_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "decisions:proposal_detail", kwargs={"slug": self.circle.slug, "pk": self.pk}
        )

    @property
    def is_open(self) -> bool:
        return self.status == ProposalStatus.OPEN

    @property
    def adopts_agreement(self) -> bool:
        return bool(self.agreement_id or self.new_agreement_title)

    @property
    def deadline_passed(self) -> bool:
        return deadlines.is_past(self.closes_at)


class ProposalVersion(models.Model):
    """Every version of a proposal's text; accepted amendments make new ones (diffs shown)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    text = models.TextField(max_length=20_000)
    agreement_text = models.TextField(blank=True, max_length=50_000)
    created_at = models.DateTimeField(auto_now_add=True)
    amendment = models.OneToOneField(
        "decisions.Amendment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="produced_version",
    )

    class Meta:
        ordering = ["proposal", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "number"], name="one_proposal_version_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.proposal} v{self.number}"


class Position(models.Model):
    """A member's stance. Each change is a new row; `is_current` marks the latest one."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="positions")
    practitioner = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="positions"
    )
    stance = models.CharField(_("your position"), max_length=12, choices=StanceChoice.choices)
    reason = models.TextField(_("reason"), blank=True, max_length=5000)
    version = models.PositiveIntegerField()  # the proposal version this position answers
    round = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "practitioner"],
                condition=Q(is_current=True),
                name="one_current_position",
            ),
            models.CheckConstraint(
                condition=Q(stance="agree") | ~Q(reason=""), name="position_reason_unless_agree"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner}: {self.stance}"


class AmendmentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Amendment(TimeStamped):
    """A member's proposed change to the text; the proposer accepts or declines it."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="amendments")
    author = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="amendments"
    )
    based_on_version = models.PositiveIntegerField()
    text = models.TextField(_("amended proposal text"), max_length=20_000)
    agreement_text = models.TextField(_("amended agreement text"), blank=True, max_length=50_000)
    reason = models.TextField(_("why this change"), max_length=5000)
    status = models.CharField(
        max_length=10, choices=AmendmentStatus.choices, default=AmendmentStatus.OPEN
    )
    decided_by = models.ForeignKey(
        "accounts.Practitioner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    response = models.TextField(blank=True, max_length=5000)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Amendment to {self.proposal}"


class Comment(TimeStamped):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="comments"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    quote = models.TextField(blank=True, max_length=2000)
    text = models.TextField(_("comment"), max_length=10_000)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment on {self.proposal}"

    def get_absolute_url(self) -> str:
        """The proposal's page at the page of comments holding this one, at the comment."""
        return f"{self.proposal.get_absolute_url()}?comment={self.pk}#comment-{self.pk}"


class CommentRevision(models.Model):
    """The text a comment had before each edit."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    text = models.TextField(max_length=10_000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Revision of {self.comment_id}"


class Outcome(models.Model):
    """What a closed proposal decided, every member's final position and the dissent that remains."""

    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="outcome")
    passed = models.BooleanField()
    statement = models.TextField(_("decision"), max_length=20_000)
    reason = models.CharField(max_length=300)
    rule = models.CharField(max_length=24, choices=RuleChoice.choices)
    # [{"practitioner_id", "stance", "reason"}]; names are looked up when shown, so a deleted
    # account reads "a former member" while what they said stays in the record.
    final_positions = models.JSONField(default=list)
    dissent = models.JSONField(default=list)  # the concerns, disagreements, stand-asides and blocks
    missing = models.JSONField(default=list)  # members who did not speak
    # Members whose final position answers an earlier version (not confirmed on the one decided).
    unconfirmed = models.JSONField(default=list)
    silence = models.CharField(
        max_length=16, choices=SilenceChoice.choices, default=SilenceChoice.EXTEND_ONCE
    )
    version = models.PositiveIntegerField(default=1)  # the proposal version decided
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"Outcome of {self.proposal}"


class FederationProposal(TimeStamped):
    """A federation question decided by circles: each circle forms its own position inside."""

    federation = models.ForeignKey(
        "circles.Federation", on_delete=models.CASCADE, related_name="proposals"
    )
    author = models.ForeignKey(
        "accounts.Practitioner",
        null=True,
        on_delete=models.SET_NULL,
        related_name="federation_proposals",
    )
    circle = models.ForeignKey(
        "circles.Circle",
        null=True,
        on_delete=models.SET_NULL,
        related_name="federation_proposals_raised",
        help_text=_("The circle that raised it."),
    )
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(
        _("proposal"),
        max_length=20_000,
        help_text=_("You can use simple formatting: **bold**, # heading, - list."),
    )
    closes_at = models.DateTimeField(_("closes at"))
    status = models.CharField(
        max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.OPEN
    )
    passed = models.BooleanField(null=True, blank=True)
    # Why it passed or not, naming no circle: the circles it is about are `result_circles`.
    result = models.CharField(max_length=300, blank=True)
    # The circles the result is about, by id: {"opposed": [...]} (did not consent) or
    # {"missing": [...]} (gave no position). Named when read, as far as each reader may see
    # them (decisions.federation_result), never written into a text that outlives a choice.
    result_circles = models.JSONField(default=dict, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # When it revises the covenant: the covenant's whole text and rules as they would read
    # (circles.covenant). Adopted as the next CovenantVersion when the circles agree.
    covenant_text = models.TextField(_("covenant as it would read"), blank=True, max_length=50_000)
    covenant_parameters = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def revises_covenant(self) -> bool:
        return bool(self.covenant_text)

    def get_absolute_url(self) -> str:
        return reverse(
            "decisions:federation_proposal_detail",
            kwargs={"slug": self.federation.slug, "pk": self.pk},
        )

    @property
    def deadline_passed(self) -> bool:
        return deadlines.is_past(self.closes_at)


class CirclePosition(models.Model):
    """A circle's position on a federation proposal, recorded by its delegate. Changes are kept."""

    federation_proposal = models.ForeignKey(
        FederationProposal, on_delete=models.CASCADE, related_name="circle_positions"
    )
    circle = models.ForeignKey(
        "circles.Circle", on_delete=models.CASCADE, related_name="federation_positions"
    )
    stance = models.CharField(
        _("the circle's position"), max_length=12, choices=StanceChoice.choices
    )
    reason = models.TextField(_("the circle's reasons"), max_length=5000)
    dissent = models.TextField(
        _("dissent inside the circle"),
        blank=True,
        max_length=5000,
        help_text=_("Concerns and disagreement that remain among the circle's members."),
    )
    internal_proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["federation_proposal", "circle"],
                condition=Q(is_current=True),
                name="one_current_circle_position",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.circle}: {self.stance}"
