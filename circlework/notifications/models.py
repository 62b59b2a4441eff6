from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    """Every kind a practitioner can set a delivery for. Later capabilities add theirs here."""

    INVITATION = "invitation", _("Invitations to join a circle")
    INVITATION_ANSWERED = "invitation_answered", _("Answers to invitations you sent")
    MEMBERSHIP = "membership", _("Members joining or leaving your circles")
    CIRCLE = "circle", _("Changes to your circles' details")
    ACCOUNT = "account", _("Your account and security")
    PROPOSAL = "proposal", _("New proposals in your circles")
    PROPOSAL_REMINDER = "proposal_reminder", _("Reminders to give your position")
    AMENDMENT = "amendment", _("Amendments and requests to confirm your position")
    OUTCOME = "outcome", _("Decisions reached")
    REVIEW_DUE = "review_due", _("Agreements due for review")
    POLL = "poll", _("Polls in your circles and their results")
    STANDING_BY = "standing_by", _("Colleagues standing by you, and statements about to lapse")
    STANDING_CONCERN = "standing_concern", _("Concerns when a member stops standing by a colleague")
    CIRCLE_LINK = "circle_link", _("Link requests, meetings and validations between circles")
    CIRCLE_STATUS = "circle_status", _("Your circle becoming validated, or forming again")
    ETHICS = "ethics", _("Ethical statements circulated in the federation, and comments on them")
    COVENANT = "covenant", _("Changes to the federation's covenant")
    MANDATE = "mandate", _("Mandates you hold: start, review and end")
    ELECTION = "election", _("Elections: nominations, votes and results")
    FEDERATION_NOTICE = "federation_notice", _("Notices from the federation's officers")
    GATHERING = "gathering", _("Gatherings planned, moved or cancelled, and agenda suggestions")
    GATHERING_REMINDER = "gathering_reminder", _("Reminders before gatherings")
    MINUTES = "minutes", _("Minutes to confirm, and corrections asked for")


class Delivery(models.TextChoices):
    IMMEDIATE = "immediate", _("E-mail me at once")
    DAILY = "daily", _("Daily digest e-mail")
    OFF = "off", _("In Circlework only (no e-mail)")


DEFAULT_DELIVERY = {
    NotificationKind.INVITATION: Delivery.IMMEDIATE,
    NotificationKind.ACCOUNT: Delivery.IMMEDIATE,
    NotificationKind.PROPOSAL_REMINDER: Delivery.IMMEDIATE,
    NotificationKind.OUTCOME: Delivery.IMMEDIATE,
    NotificationKind.CIRCLE_STATUS: Delivery.IMMEDIATE,
    NotificationKind.MANDATE: Delivery.IMMEDIATE,
    # A reminder in tomorrow's digest would come after the gathering it reminds of.
    NotificationKind.GATHERING_REMINDER: Delivery.IMMEDIATE,
}


class EmailState(models.TextChoices):
    """Explicit state on the row: the e-mail task is idempotent because it moves this forward."""

    NOT_WANTED = "not_wanted", _("Not wanted")
    PENDING_NOW = "pending_now", _("To send now")
    PENDING_DIGEST = "pending_digest", _("Waiting for the daily digest")
    SENT = "sent", _("Sent")


class Notification(models.Model):
    recipient = models.ForeignKey(
        "accounts.Practitioner", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, max_length=2000)
    url = models.CharField(max_length=300, blank=True)
    # What the notice is about, when it is about a circle (or, above the circles, a federation):
    # its text is a copy of that circle's records, so it is read only where the circle's records
    # are (notifications.selectors.readable withholds it from a session without a second factor
    # when the circle asks for one).
    circle = models.ForeignKey(
        "circles.Circle", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    federation = models.ForeignKey(
        "circles.Federation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(
        max_length=16, choices=EmailState.choices, default=EmailState.NOT_WANTED
    )
    emailed_at = models.DateTimeField(null=True, blank=True)

    # `title` and `body` are stored texts: people in them are ids (circlework.core.names), never
    # names. What is shown is set by notifications.selectors.readable, for the one reading.
    shown_title: str
    shown_body: str

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["email_state"]),
        ]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    practitioner = models.ForeignKey(
        "accounts.Practitioner", on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    delivery = models.CharField(max_length=12, choices=Delivery.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practitioner", "kind"], name="one_preference_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.delivery}"


class ReminderLead(models.TextChoices):
    """When a member wants to be reminded before a gathering they are invited to."""

    DAY = "day", _("A day before")
    HOUR = "hour", _("An hour before")
    BOTH = "both", _("A day before and an hour before")
    OFF = "off", _("No reminders")


class ReminderSetting(models.Model):
    """A practitioner's choice of reminders before gatherings. No row: the default (a day)."""

    practitioner = models.OneToOneField(
        "accounts.Practitioner", on_delete=models.CASCADE, related_name="reminder_setting"
    )
    gatherings = models.CharField(
        _("reminders before gatherings"),
        max_length=4,
        choices=ReminderLead.choices,
        default=ReminderLead.DAY,
    )

    def __str__(self) -> str:
        return f"Reminders: {self.gatherings}"
