"""Elections fill mandates: nominations, then the method the circle or federation agreed.

Secret ballots: a `Ballot` holds the choices and nothing that ties it to a voter (a random id,
no time); `BallotCast` records who voted, once. Counts are reproducible from the stored ballots,
and the stored result (with its round-by-round table) is what a recount must give again.
Consent elections are open by nature: everyone's nomination and consent are on the record.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circlework.circles.roles import Method
from circlework.core.models import TimeStamped


class ElectionStatus(models.TextChoices):
    NOMINATING = "nominating", _("Nominations open")
    CHANGE_ROUND = "change", _("Change round")  # consent: members may change their nomination
    CONSENT_ROUND = "consent", _("Consent round")  # consent: a candidate is proposed
    VOTING = "voting", _("Voting")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class Electorate(models.TextChoices):
    CIRCLE_MEMBERS = "circle", _("The circle's members")
    DELEGATES = "delegates", _("The circles' delegates")
    FEDERATION_MEMBERS = "federation", _("Every member of the federation")


class Election(TimeStamped):
    role = models.SlugField(_("role"), max_length=40)
    circle = models.ForeignKey(
        "circles.Circle", null=True, blank=True, on_delete=models.CASCADE, related_name="elections"
    )
    federation = models.ForeignKey(
        "circles.Federation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="elections",
    )
    method = models.CharField(_("method"), max_length=10, choices=Method.CHOICES)
    electorate = models.CharField(max_length=10, choices=Electorate.choices)
    seats = models.PositiveSmallIntegerField(_("seats"), default=1)
    secret = models.BooleanField(_("secret ballot"), default=True)
    status = models.CharField(
        max_length=10, choices=ElectionStatus.choices, default=ElectionStatus.NOMINATING
    )
    opened_by = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who facilitated when the election opened, for the record. Authority to facilitate is not
    # this field: it is asked at each act (rules.may_facilitate) — a live mandate granting
    # "elections.facilitate" in the election's scope, or the opener while no one holds one.
    facilitator = models.ForeignKey(
        "accounts.Practitioner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.TextField(_("about this election"), max_length=5000, blank=True)
    nominations_close_at = models.DateTimeField(_("nominations close"))
    voting_closes_at = models.DateTimeField(_("voting closes"))
    # The mandate's term as announced when the election opened.
    term_starts_on = models.DateField(_("term starts"))
    term_ends_on = models.DateField(_("term ends"))
    handover_plan = models.TextField(_("handover plan"), max_length=5000, blank=True)
    # Consent elections: the candidate currently proposed.
    proposed = models.ForeignKey(
        "accounts.Practitioner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Ranked and approval elections: the ballot paper, fixed when voting opens (practitioner ids,
    # sorted). The count and every recount use this list and not the nominations, so nothing
    # done afterwards (a nominee deleting their account, say) can change a result. None until
    # voting opens, and always for consent elections.
    ballot_candidates = models.JSONField(null=True, blank=True, default=None)
    # {"method", "elected": [practitioner ids], "rounds": [...], "tallies": {...}, "note"}
    result = models.JSONField(default=dict, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(circle__isnull=False) & Q(federation__isnull=True))
                | (Q(circle__isnull=True) & Q(federation__isnull=False)),
                name="election_in_circle_or_federation",
            ),
            models.CheckConstraint(condition=Q(seats__gte=1), name="election_has_a_seat"),
            models.CheckConstraint(
                condition=Q(voting_closes_at__gt=models.F("nominations_close_at")),
                name="election_votes_after_nominations",
            ),
        ]

    def __str__(self) -> str:
        return f"Election: {self.role}"

    def get_absolute_url(self) -> str:
        return reverse("elections:election_detail", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.status not in (ElectionStatus.CLOSED, ElectionStatus.CANCELLED)


class Nomination(models.Model):
    """Someone named for the role, by themself or by another, with reasons.

    In a consent election every member gives one nomination (and may change it in the change
    round: the old row is kept with is_current False). In ballot elections a nomination makes a
    candidate once the nominee accepts to stand.
    """

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="nominations")
    # Nulled when the nominee deletes their account: the record stays, as "a former member".
    nominee = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="nominations"
    )
    nominated_by = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(_("reasons"), max_length=3000)
    accepted = models.BooleanField(null=True)  # the nominee's answer; None until they answer
    is_current = models.BooleanField(default=True)
    in_change_round = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.nominee} for {self.election}"


class ConsentStance(models.TextChoices):
    CONSENT = "consent", _("Consent")
    OBJECT = "object", _("Object")


class ConsentResponse(models.Model):
    """A member's consent or objection to the proposed candidate. Changes are kept."""

    election = models.ForeignKey(
        Election, on_delete=models.CASCADE, related_name="consent_responses"
    )
    # Both nulled when the account is deleted: the answer stays on the record (and in a recount).
    candidate = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    voter = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    stance = models.CharField(max_length=8, choices=ConsentStance.choices)
    reason = models.TextField(_("reasons"), max_length=3000, blank=True)
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "candidate", "voter"],
                condition=Q(is_current=True),
                name="one_current_consent_response",
            ),
            models.CheckConstraint(
                condition=Q(stance="consent") | ~Q(reason=""),
                name="objection_has_reasons",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voter}: {self.stance} {self.candidate}"


class Ballot(models.Model):
    """The choices on one ballot. Nothing here says whose it is when the ballot is secret.

    What the secrecy holds against:

    - Other users, always: no page, API answer, export or audit event shows who chose what;
      they show who voted (`BallotCast`) and, once closed, the count.
    - An operator reading the database (SQL, a dump, a backup) sees the set of ballots and,
      separately, who voted, but not who cast which. The row carries no voter and no time, and
      its id is random; and since storage order could otherwise pair ballots with casts
      (SQLite's rowid, PostgreSQL's physical order, and its xmin, the id of the transaction that
      wrote the row), every cast rewrites all the election's ballots in the same transaction, in
      the order of their content, with new random ids (services.ballots, on each cast): the
      stored order is content order and every row bears the latest cast's transaction.
    - Not against an operator who compares two snapshots of the database taken between two
      votes (the difference is one ballot and one cast), nor one who reads what the database
      has not yet reused or vacuumed (SQLite's free pages and journal, PostgreSQL's dead rows
      and write-ahead log, which keep earlier versions for a while). Secrecy from the people
      running the server rests on them not doing that.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="ballots")
    # Ranked: practitioner ids in order of preference. Approval: the approved ids (sorted).
    choices = models.JSONField(default=list)
    # Only for open (non-secret) ballots.
    voter = models.ForeignKey(
        "accounts.Practitioner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Ballot in {self.election_id}"


class BallotCast(models.Model):
    """Who voted. One per voter and election."""

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="casts")
    voter = models.ForeignKey(
        "accounts.Practitioner", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    cast_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["cast_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "voter"],
                name="one_ballot_per_voter",
                violation_error_message=_("You have already voted in this election."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.voter} voted in election {self.election_id}"
