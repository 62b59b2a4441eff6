from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circlework.core.crypto import EncryptedTextField
from circlework.core.models import TimeStamped
from circlework.core.visibility import Visibility


class Federation(TimeStamped):
    """A loose federation of circles. An instance may host several."""

    name = models.CharField(_("name"), max_length=160, unique=True)
    slug = models.SlugField(unique=True)
    description = models.TextField(_("description"), blank=True)
    # The current covenant's text, kept here for reading; versions and the rules they set
    # (minimum circle size, links needed…) are CovenantVersion rows, read by circles.covenant.
    covenant = models.TextField(_("covenant"), help_text=_("What circles affirm when they join."))

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("circles:federation_detail", kwargs={"slug": self.slug})


class CovenantVersion(models.Model):
    """A version of a federation's covenant: its text and the rules its circles live by.

    The first version comes with the federation; later ones only through a federation proposal
    the circles agreed. The parameters are read by `circlework.circles.covenant`.
    """

    federation = models.ForeignKey(
        Federation, on_delete=models.CASCADE, related_name="covenant_versions"
    )
    number = models.PositiveIntegerField()
    text = models.TextField(_("covenant"), max_length=50_000)
    parameters = models.JSONField(default=dict, blank=True)
    adopted_by = models.OneToOneField(
        "decisions.FederationProposal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adopted_covenant",
    )
    adopted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["federation", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["federation", "number"], name="one_covenant_version_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.federation} covenant v{self.number}"


class CircleStatus(models.TextChoices):
    FORMING = "forming", _("Forming")
    MEMBER = "member", _("Member (validated)")


class Circle(TimeStamped):
    """A local self and peer review group."""

    federation = models.ForeignKey(Federation, on_delete=models.PROTECT, related_name="circles")
    name = models.CharField(_("name"), max_length=160)
    slug = models.SlugField(unique=True, max_length=80)
    purpose = models.TextField(
        _("purpose"),
        max_length=3000,
        help_text=_("You can use simple formatting: **bold**, # heading, - list."),
    )
    locality = models.CharField(_("locality"), max_length=160, blank=True)
    meeting_pattern = models.CharField(
        _("meeting pattern"),
        max_length=200,
        blank=True,
        help_text=_("e.g. every other Wednesday evening, plus a weekend each spring."),
    )
    open_to_new_members = models.BooleanField(_("open to new members"), default=True)
    status = models.CharField(
        max_length=12, choices=CircleStatus.choices, default=CircleStatus.FORMING
    )
    visibility = models.CharField(
        _("who can see this circle's page"),
        max_length=12,
        choices=Visibility.choices,
        default=Visibility.PUBLIC,
        help_text=_("Members, history and invitations are only ever shown to members."),
    )
    founded_by = models.ForeignKey(
        "accounts.Practitioner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="circles_founded",
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # Enforced by the rules (core.visibility.audience_for): a member counts as one only in a
    # session, or through a token, that used a second factor (circles.two_factor decides which).
    requires_two_factor = models.BooleanField(
        _("members must use two-factor authentication"),
        default=False,
        help_text=_(
            "Members who have not set up an authenticator app are asked to do so before they "
            "can open the circle's pages. Only a member who uses it can turn this on."
        ),
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "federation",
                name="circle_name_unique_in_federation",
                violation_error_message=_(
                    "A circle with this name already exists in the federation."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(visibility=Visibility.PRIVATE), name="circle_visibility_not_private"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("circles:circle_detail", kwargs={"slug": self.slug})


class MembershipQuerySet(models.QuerySet["Membership"]):
    def current(self) -> MembershipQuerySet:
        return self.filter(left_at__isnull=True)


class Membership(models.Model):
    """A practitioner's time in a circle. Rows are kept after leaving: the dates are history."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="memberships")
    # Nulled when an account is deleted: the circle keeps "a former member" and the dates.
    practitioner = models.ForeignKey(
        "accounts.Practitioner",
        null=True,
        on_delete=models.SET_NULL,
        related_name="memberships",
    )
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)
    left_at = models.DateTimeField(_("left"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["joined_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["circle", "practitioner"],
                condition=Q(left_at__isnull=True),
                name="one_current_membership_per_circle",
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=models.F("joined_at")),
                name="membership_leaves_after_joining",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} in {self.circle}"

    @property
    def is_current(self) -> bool:
        return self.left_at is None


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    REVOKED = "revoked", _("Revoked")


class Invitation(TimeStamped):
    """A single-use, expiring, revocable invitation to join a circle, sent by e-mail link.

    Only a hash of the link's secret is stored; the secret travels in the e-mail alone.
    """

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail address"))
    invited_by = models.ForeignKey(
        "accounts.Practitioner",
        null=True,
        on_delete=models.SET_NULL,
        related_name="invitations_sent",
    )
    message = EncryptedTextField(_("personal message"), blank=True, max_length=2000)
    token_hash = models.CharField(max_length=64, unique=True)
    # The link's secret, encrypted, only until the invitation e-mail has gone out: the mail task
    # is given the invitation's id and builds the e-mail itself (circles.tasks), so the secret
    # never sits in the task table. Emptied once sent, or once the invitation is no longer open.
    mail_secret = EncryptedTextField(blank=True, editable=False)
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        "accounts.Practitioner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_answered",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["circle", "email"],
                condition=Q(status="pending"),
                name="one_pending_invitation_per_email",
            )
        ]
        # "Invitations waiting for your answer" on every home page: found by the address alone
        # (stored in lower case by circles.services.invitation_create), whatever their number.
        indexes = [
            models.Index(
                fields=["email"], condition=Q(status="pending"), name="pending_invitation_email"
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.circle}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_open(self) -> bool:
        return self.status == InvitationStatus.PENDING and not self.is_expired
