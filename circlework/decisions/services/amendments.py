"""Amendments: proposed on a version, accepted (a new version, positions to confirm) or declined."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.selectors import current_members
from circlework.core import audit
from circlework.core.errors import Conflict, InvalidInput, StaleEdit
from circlework.core.permissions import require
from circlework.core.services import validate
from circlework.decisions.amendments import amendment_url
from circlework.decisions.models import Amendment, AmendmentStatus, Proposal, ProposalVersion
from circlework.decisions.services.common import ensure_open, lock_proposal, schedule
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import notify, notify_many

# After an amendment is accepted, members have at least this long to confirm the new version.
CONFIRM_TIME = timedelta(days=2)


@transaction.atomic
def amendment_propose(
    *,
    actor: Practitioner,
    proposal: Proposal,
    text: str,
    reason: str,
    agreement_text: str = "",
    base_version: int | None = None,
) -> Amendment:
    """Propose a changed text. `base_version` is the version the author read and changed: if
    the proposal has moved on since, the amendment is refused (StaleEdit) rather than undo the
    accepted change it never saw. Without it, the current version is assumed (older clients)."""
    require("decisions.propose_amendment", actor, proposal)
    proposal = lock_proposal(proposal)
    ensure_open(proposal)
    if base_version is not None and base_version != proposal.version:
        raise StaleEdit(
            _(
                "The proposal changed while you were writing: version %(v)s is now current. "
                "Your text is kept below: compare it with the current text, then send it again."
            )
            % {"v": proposal.version},
            current=proposal.version,
            fields={"base_version": [_("Version %(v)s is now current.") % {"v": proposal.version}]},
        )
    if not reason.strip():
        raise InvalidInput(
            _("Say why you propose this change."), fields={"reason": [_("This field is required.")]}
        )
    agreement_text = agreement_text.strip() if proposal.adopts_agreement else ""
    unchanged_agreement = not agreement_text or agreement_text == proposal.agreement_text
    if text.strip() == proposal.text and unchanged_agreement:
        raise InvalidInput(
            _("The amendment does not change anything."),
            fields={"text": [_("Change the text to propose an amendment.")]},
        )
    amendment = Amendment(
        proposal=proposal,
        author=actor,
        based_on_version=proposal.version,
        text=text.strip(),
        agreement_text=agreement_text.strip() if proposal.adopts_agreement else "",
        reason=reason.strip(),
    )
    validate(amendment)
    amendment.save()
    audit.record(
        actor=actor,
        verb="amendment.proposed",
        target=amendment,
        circle=proposal.circle,
        summary=_("Proposed an amendment to “%(t)s”") % {"t": proposal.title},
    )
    if proposal.author is not None and proposal.author.pk != actor.pk:
        notify(
            recipient=proposal.author,
            circle=proposal.circle,
            kind=NotificationKind.AMENDMENT,
            title=_("An amendment to your proposal “%(t)s”") % {"t": proposal.title},
            body=_("Read what it changes, then accept or decline it."),
            url=amendment_url(amendment),
        )
    return amendment


@transaction.atomic
def amendment_accept(
    *, actor: Practitioner, amendment: Amendment, response: str = ""
) -> ProposalVersion:
    """The proposer accepts: a new version, and every member is asked to confirm or revise."""
    require("decisions.decide_amendment", actor, amendment)
    proposal = lock_proposal(amendment.proposal)
    ensure_open(proposal)
    amendment = Amendment.objects.select_for_update(no_key=True).get(pk=amendment.pk)
    if amendment.status != AmendmentStatus.OPEN:
        raise Conflict(_("This amendment has already been decided."))
    if amendment.based_on_version != proposal.version:
        raise Conflict(
            _(
                "The proposal has changed since this amendment was written; ask its author to write it again on the current text."
            )
        )
    proposal.version += 1
    proposal.round += 1
    proposal.text = amendment.text
    if proposal.adopts_agreement and amendment.agreement_text:
        proposal.agreement_text = amendment.agreement_text
    # Every position now answers an earlier text: leave members time to confirm the new one,
    # so a change made minutes before the close is not decided in their silence.
    confirm_by = timezone.now() + CONFIRM_TIME
    moved = proposal.closes_at < confirm_by
    if moved:
        proposal.closes_at = confirm_by
    proposal.save(
        update_fields=["version", "round", "text", "agreement_text", "closes_at", "updated_at"]
    )
    if moved:
        schedule(proposal)
    version = ProposalVersion.objects.create(
        proposal=proposal,
        number=proposal.version,
        title=proposal.title,
        text=proposal.text,
        agreement_text=proposal.agreement_text,
        amendment=amendment,
    )
    amendment.status = AmendmentStatus.ACCEPTED
    amendment.decided_by = actor
    amendment.decided_at = timezone.now()
    amendment.response = response.strip()
    amendment.save(update_fields=["status", "decided_by", "decided_at", "response", "updated_at"])
    audit.record(
        actor=actor,
        verb="amendment.accepted",
        target=amendment,
        circle=proposal.circle,
        summary=_("Accepted an amendment: “%(t)s” is now version %(v)s")
        % {"t": proposal.title, "v": proposal.version},
    )
    notify_many(
        current_members(circle=proposal.circle),
        circle=proposal.circle,
        kind=NotificationKind.AMENDMENT,
        title=_("“%(t)s” changed: please confirm or revise your position") % {"t": proposal.title},
        body=_("It is now version %(v)s. Confirm or change your position by %(d)s.")
        % {
            "v": proposal.version,
            "d": f"{timezone.localtime(proposal.closes_at):%d %B %Y %H:%M}",
        },
        url=proposal.get_absolute_url(),
    )
    return version


@transaction.atomic
def amendment_decline(*, actor: Practitioner, amendment: Amendment, response: str) -> Amendment:
    require("decisions.decide_amendment", actor, amendment)
    proposal = lock_proposal(amendment.proposal)
    ensure_open(proposal)
    amendment = Amendment.objects.select_for_update(no_key=True).get(pk=amendment.pk)
    if amendment.status != AmendmentStatus.OPEN:
        raise Conflict(_("This amendment has already been decided."))
    if not response.strip():
        raise InvalidInput(
            _("Say why you decline it."), fields={"response": [_("This field is required.")]}
        )
    amendment.status = AmendmentStatus.DECLINED
    amendment.decided_by = actor
    amendment.decided_at = timezone.now()
    amendment.response = response.strip()
    amendment.save(update_fields=["status", "decided_by", "decided_at", "response", "updated_at"])
    audit.record(
        actor=actor,
        verb="amendment.declined",
        target=amendment,
        circle=proposal.circle,
        summary=_("Declined an amendment to “%(t)s”") % {"t": proposal.title},
    )
    if amendment.author is not None:
        notify(
            recipient=amendment.author,
            circle=proposal.circle,
            kind=NotificationKind.AMENDMENT,
            title=_("Your amendment to “%(t)s” was declined") % {"t": proposal.title},
            body=amendment.response,
            url=proposal.get_absolute_url(),
        )
    return amendment
