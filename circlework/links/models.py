"""Circle validation links: another circle's recorded validation of a circle's process.

A link is one direction: the *validating* circle validates the *asking* circle. A reciprocal
request makes two links, one each way, tied by `counterpart`; each follows its own meeting and
decision. A circle is validated in its federation with at least N live links (N from the
federation's covenant). Withdrawal reasons go to both circles only: encrypted at rest.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circlework.core import deadlines
from circlework.core.crypto import EncryptedTextField
from circlework.core.models import TimeStamped


class LinkStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    MET = "met", _("Met — deciding")
    VALIDATED = "validated", _("Validated")
    DECLINED = "declined", _("Not validated")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    LAPSED = "lapsed", _("Lapsed")
    CANCELLED = "cancelled", _("Request cancelled")
    EXPIRED = "expired", _("Request expired")


class LinkCount(models.TextChoices):
    """Whether a validated link counts toward the asking circle's validation, decided when the
    validating circle decided (links.validation_rule.link_counts) and kept: later status changes
    of either circle do not change it. A renewal decides it again."""

    NOT_DECIDED = "", _("Not decided yet")
    BY_VALIDATED_CIRCLE = "validated", _("Counts: the validating circle was validated")
    FOUNDING = "founding", _("Counts: decided while the federation was being founded")
    NO = "no", _("Does not count: the validating circle was not validated")


COUNTING = (LinkCount.BY_VALIDATED_CIRCLE, LinkCount.FOUNDING)


# A link in one of these states blocks a second one between the same circles in the same direction.
OPEN_STATUSES = (LinkStatus.REQUESTED, LinkStatus.MET, LinkStatus.VALIDATED)
PENDING_STATUSES = (LinkStatus.REQUESTED, LinkStatus.MET)

# A request the validating circle never decided expires this long after it was made, so that a
# stale request cannot hold a place in the triangle rule (or in anyone's list) for ever. A request
# whose decision is open is being decided and does not expire while it is.
REQUEST_EXPIRES_AFTER = timedelta(days=180)  # about six months: time to meet and decide


def stale_request_q(now: datetime | None = None, prefix: str = "") -> Q:
    """Requests past their expiry, as a filter: read as expired whether or not the worker has
    marked them yet (`CircleLink.is_stale` is the same rule for one link)."""
    cutoff = (now or timezone.now()) - REQUEST_EXPIRES_AFTER
    undecided = Q(**{f"{prefix}decision__isnull": True}) | ~Q(
        **{f"{prefix}decision__status": "open"}
    )
    return (
        Q(**{f"{prefix}status__in": PENDING_STATUSES, f"{prefix}requested_at__lte": cutoff})
        & undecided
    )


class CircleLinkQuerySet(models.QuerySet["CircleLink"]):
    def live(self, today: date | None = None) -> CircleLinkQuerySet:
        return self.filter(status=LinkStatus.VALIDATED, lapses_on__gt=today or timezone.localdate())

    def counting(self) -> CircleLinkQuerySet:
        """Links that count toward validation (see LinkCount); with `live()`, a circle's links."""
        return self.filter(counts__in=COUNTING)

    def open(self) -> CircleLinkQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def pending(self, now: datetime | None = None) -> CircleLinkQuerySet:
        """Requests waiting for the validating circle, leaving out those expired by now."""
        return self.filter(status__in=PENDING_STATUSES).exclude(stale_request_q(now))

    def stale(self, now: datetime | None = None) -> CircleLinkQuerySet:
        return self.filter(stale_request_q(now))


class CircleLink(TimeStamped):
    federation = models.ForeignKey(
        "circles.Federation", on_delete=models.CASCADE, related_name="links"
    )
    asking_circle = models.ForeignKey(
        "circles.Circle", on_delete=models.CASCADE, related_name="links_asked"
    )
    validating_circle = models.ForeignKey(
        "circles.Circle", on_delete=models.CASCADE, related_name="links_given"
    )
    # The link the other way, when the request was for a reciprocal link.
    counterpart = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=LinkStatus.choices, default=LinkStatus.REQUESTED
    )
    message = models.TextField(
        _("message to the other circle"),
        max_length=3000,
        blank=True,
        help_text=_("Who you are, how you work, and why you ask them."),
    )
    requested_by = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    # The validating circle's own proposal: "do we validate their process?"
    decision = models.OneToOneField(
        "decisions.Proposal",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="circle_link",
    )
    statement = models.TextField(
        _("statement"),
        max_length=5000,
        blank=True,
        help_text=_("What the validating circle says about the asking circle's process. Public."),
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    counts = models.CharField(
        _("counts toward validation"),
        max_length=10,
        choices=LinkCount.choices,
        default=LinkCount.NOT_DECIDED,
        blank=True,
    )
    validated_on = models.DateField(null=True, blank=True)
    lapses_on = models.DateField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)  # withdrawn, lapsed or cancelled
    withdrawn_by = models.ForeignKey(
        "accounts.Practitioner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawal_reason = EncryptedTextField(_("reasons"), blank=True, max_length=5000)
    # Which circle ended the link: the validating circle withdraws its validation; the asking
    # circle may end it too. Null for links ended before either could.
    withdrawn_by_circle = models.ForeignKey(
        "circles.Circle", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The lapse date each notice went out for, so the lapse task is idempotent.
    lapse_warned_on = models.DateField(null=True, blank=True)

    objects = CircleLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(asking_circle=F("validating_circle")),
                name="link_not_to_own_circle",
                violation_error_message=_("A circle cannot validate itself."),
            ),
            models.UniqueConstraint(
                fields=["asking_circle", "validating_circle"],
                condition=Q(status__in=["requested", "met", "validated"]),
                name="one_open_link_per_direction",
                violation_error_message=_("There is already a link or request between them."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.validating_circle} validates {self.asking_circle}"

    def get_absolute_url(self) -> str:
        return reverse("links:link_detail", kwargs={"pk": self.pk})

    @property
    def counted(self) -> bool:
        return self.counts in COUNTING

    @property
    def expires_at(self) -> datetime:
        """When the request expires if it is still undecided (REQUEST_EXPIRES_AFTER)."""
        return self.requested_at + REQUEST_EXPIRES_AFTER

    def is_stale(self, now: datetime | None = None) -> bool:
        """An undecided request past its expiry: expired, whether or not the worker has marked
        it yet (the same rule as `stale_request_q`)."""
        if self.status not in PENDING_STATUSES or not deadlines.is_past(self.expires_at, now):
            return False
        return self.decision_id is None or not self.decision.is_open  # type: ignore[union-attr]

    def shown_status(self, now: datetime | None = None) -> str:
        """The status as of now: a validated link past its date reads "lapsed", an undecided
        request past its expiry "expired", before the worker has marked them."""
        now = now or timezone.now()
        if self.status == LinkStatus.VALIDATED and not self.is_live(timezone.localdate(now)):
            return LinkStatus.LAPSED
        if self.is_stale(now):
            return LinkStatus.EXPIRED
        return self.status

    @property
    def status_now(self) -> str:
        return self.shown_status()

    @property
    def status_now_label(self) -> str:
        return str(LinkStatus(self.shown_status()).label)

    def is_live(self, today: date | None = None) -> bool:
        return (
            self.status == LinkStatus.VALIDATED
            and self.lapses_on is not None
            and self.lapses_on > (today or timezone.localdate())
        )


class LinkMeeting(models.Model):
    """The validating circle met the asking circle. A simple record until gatherings exist."""

    link = models.ForeignKey(CircleLink, on_delete=models.CASCADE, related_name="meetings")
    met_on = models.DateField(_("date of the meeting"))
    attendees = models.ManyToManyField(
        "accounts.Practitioner", related_name="link_meetings", verbose_name=_("who came")
    )
    notes = models.TextField(
        _("notes"),
        max_length=5000,
        blank=True,
        help_text=_("What you did together. Seen by both circles' members."),
    )
    recorded_by = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["met_on", "id"]

    def __str__(self) -> str:
        return f"{self.link} met {self.met_on}"
