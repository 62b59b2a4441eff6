"""Closing a proposal: reminders before the close, the once-only extension, the outcome.

The rule that decides is `decisions/decision_rule.py: evaluate`; closing turns its verdict into
an `Outcome`, and every subject the proposal may be about (an agreement, a circle link…) hears
of it through `decisions.subjects`, inside the same transaction, before members are told.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from circlework.accounts.models import Practitioner
from circlework.circles.models import Membership
from circlework.circles.selectors import current_members
from circlework.core import audit
from circlework.core.errors import Conflict, InvalidInput
from circlework.core.models import AuditEvent
from circlework.core.permissions import require
from circlework.decisions import subjects
from circlework.decisions.decision_rule import Stance, Verdict
from circlework.decisions.models import Outcome, Process, Proposal, ProposalStatus
from circlework.decisions.selectors import current_positions, verdict_for
from circlework.decisions.services.common import lock_proposal, schedule
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import Notice, notify, notify_each, notify_many

REMINDER_BEFORE = timedelta(hours=24)
MANUAL_REMINDER_GAP = timedelta(hours=12)
# Under "extend once and remind": how far the closing time moves, once, for silent members.
EXTENSION = timedelta(days=2)


@transaction.atomic
def proposal_close(
    *,
    actor: Practitioner | None,
    proposal: Proposal,
    early: bool = False,
    advice_decision: bool | None = None,
    statement: str = "",
) -> Outcome | None:
    """Record the outcome. Called by the worker at the closing time (actor None), or early by the
    proposer once every member has spoken. Idempotent: a closed proposal is left as it is.

    Under the advice process the proposer decides, after hearing everyone: the worker does not
    close it at the deadline but tells the proposer it is time to decide (`advice_decision`).
    """
    if actor is not None:
        require("decisions.close_proposal", actor, proposal)
    proposal = lock_proposal(proposal)
    if proposal.status != ProposalStatus.OPEN:
        return None
    if actor is None and not proposal.deadline_passed:
        return None  # woken too early (the closing time was moved): the later task will close it
    positions = current_positions(proposal)
    verdict = verdict_for(proposal, deadline_passed=proposal.deadline_passed, positions=positions)
    if actor is not None and not proposal.deadline_passed:
        if verdict.missing:
            raise Conflict(_("It can be closed early only when every member has spoken."))
        if verdict.unconfirmed:
            raise Conflict(
                _(
                    "It can be closed early only when every member has confirmed or revised their position on the current version."
                )
            )
    if proposal.process == Process.ADVICE:
        if actor is None:
            _ask_proposer_to_decide(proposal)
            return None
        if advice_decision is None or not statement.strip():
            raise InvalidInput(
                _(
                    "Under the advice process you decide: say what you decided and why, having heard everyone."
                ),
                fields={"statement": [_("This field is required.")]},
            )
        heard = len(current_positions(proposal))
        verdict = Verdict(
            advice_decision,
            ngettext(
                "The proposer decided after hearing the advice of %(n)s member: %(s)s",
                "The proposer decided after hearing the advice of %(n)s members: %(s)s",
                heard,
            )
            % {"n": heard, "s": statement.strip()},
            verdict.missing,
            verdict.counts,
            verdict.unconfirmed,
        )
    elif verdict.extend:
        # The circle's rule: at the closing time, silent voices move it once and are reminded,
        # whether the worker or the proposer gets there first.
        _extend_once(proposal)
        return None
    members = set(
        Membership.objects.current()
        .filter(circle_id=proposal.circle_id)
        .values_list("practitioner_id", flat=True)
    )
    # Only the voices of the circle's members now count, and only they are in the record.
    final = [
        {"practitioner_id": pid, "stance": p.stance, "reason": p.reason, "version": p.version}
        for pid, p in sorted(positions.items(), key=lambda kv: kv[1].created_at)
        if pid in members
    ]
    dissent = [f for f in final if f["stance"] != Stance.AGREE]
    now = timezone.now()
    proposal.status = ProposalStatus.CLOSED
    proposal.save(update_fields=["status", "updated_at"])
    outcome = Outcome.objects.create(
        proposal=proposal,
        passed=verdict.passes,
        statement=proposal.text,
        reason=verdict.reason[:300],
        rule=proposal.rule,
        final_positions=final,
        dissent=dissent,
        missing=sorted(verdict.missing),
        unconfirmed=sorted(verdict.unconfirmed),
        silence=proposal.silence,
        version=proposal.version,
        decided_at=now,
    )
    summary = _("“%(t)s” was agreed") if verdict.passes else _("“%(t)s” was not agreed")
    audit.record(
        actor=actor,
        verb="proposal.closed",
        target=proposal,
        circle=proposal.circle,
        summary=summary % {"t": proposal.title},
        data={"passed": verdict.passes, "reason": verdict.reason},
    )
    # What the proposal was about hears of it: an agreement adopts its new version, a circle
    # link is validated or declined (decisions.subjects, in the order the apps registered).
    subjects.outcome_recorded(outcome)
    notify_many(
        current_members(circle=proposal.circle),
        circle=proposal.circle,
        kind=NotificationKind.OUTCOME,
        title=summary % {"t": proposal.title},
        body=verdict.reason
        + (
            " "
            + ngettext(
                "%(n)s concern or dissent recorded.",
                "%(n)s concerns or dissents recorded.",
                len(dissent),
            )
            % {"n": len(dissent)}
            if dissent
            else ""
        ),
        url=proposal.get_absolute_url(),
    )
    return outcome


def _ask_proposer_to_decide(proposal: Proposal) -> None:
    if proposal.decision_requested_at is not None or proposal.author is None:
        return
    proposal.decision_requested_at = timezone.now()
    proposal.save(update_fields=["decision_requested_at", "updated_at"])
    notify(
        recipient=proposal.author,
        circle=proposal.circle,
        kind=NotificationKind.OUTCOME,
        title=_("Time to decide: “%(t)s”") % {"t": proposal.title},
        body=_("The advice round has closed. Record your decision and why, having heard everyone."),
        url=proposal.get_absolute_url(),
    )


@transaction.atomic
def members_remind(*, actor: Practitioner | None, proposal: Proposal) -> int:
    """Remind members who have not spoken (in-app and e-mail). The worker calls it before the close."""
    if actor is not None:
        require("decisions.remind", actor, proposal)
    proposal = lock_proposal(proposal)
    if proposal.status != ProposalStatus.OPEN:
        return 0
    if actor is None and proposal.reminder_sent_at is not None:
        return 0  # the queued task and the sweep both reach here: the reminder goes once
    if actor is not None:
        recent = AuditEvent.objects.filter(
            verb="proposal.reminded",
            object_type=proposal._meta.label_lower,
            object_id=str(proposal.pk),
            by_system=False,
            created_at__gte=timezone.now() - MANUAL_REMINDER_GAP,
        )
        if recent.exists():
            raise Conflict(_("Members were reminded less than 12 hours ago."))
    silent = _remind_silent(proposal)
    if actor is None:  # the scheduled reminder; a member's own reminder does not replace it
        proposal.reminder_sent_at = timezone.now()
        proposal.save(update_fields=["reminder_sent_at", "updated_at"])
    audit.record(
        actor=actor,
        verb="proposal.reminded",
        target=proposal,
        circle=proposal.circle,
        summary=ngettext(
            "Reminded %(n)s member to give their position on “%(t)s”",
            "Reminded %(n)s members to give their position on “%(t)s”",
            silent,
        )
        % {"n": silent, "t": proposal.title},
    )
    return silent


def _remind_silent(proposal: Proposal) -> int:
    """Remind every member without a position on the current version: those who have not
    spoken, and those whose position answers an earlier version (to confirm or revise it)."""
    positions = current_positions(proposal)
    closes = f"{timezone.localtime(proposal.closes_at):%d %B %Y %H:%M}"
    notices = []
    for member in current_members(circle=proposal.circle):
        position = positions.get(member.pk)
        if position is not None and position.version >= proposal.version:
            continue
        if position is None:
            title = _("Your voice is missing on “%(t)s”") % {"t": proposal.title}
            body = _(
                "It closes on %(d)s. Agree, agree with concerns, disagree, stand aside or block — every voice counts."
            ) % {"d": closes}
        else:
            title = _("Please confirm your position on “%(t)s”") % {"t": proposal.title}
            body = _(
                "The text changed (version %(v)s) after you gave your position on version %(p)s. "
                "Confirm it or change it by %(d)s: until then your agreement does not count for the "
                "new text."
            ) % {"v": proposal.version, "p": position.version, "d": closes}
        notices.append(Notice(member, title, body))
    notify_each(
        notices,
        circle=proposal.circle,
        kind=NotificationKind.PROPOSAL_REMINDER,
        url=proposal.get_absolute_url(),
    )
    return len(notices)


def _extend_once(proposal: Proposal) -> None:
    """Move the closing time once (the circle's rule "extend once and remind"), remind every
    member without a position on this version, and queue the new close."""
    now = timezone.now()
    proposal.extended_from = proposal.closes_at
    proposal.closes_at = max(proposal.closes_at, now) + EXTENSION
    proposal.reminder_sent_at = now  # the reminder goes now, with the new closing time
    proposal.save(update_fields=["extended_from", "closes_at", "reminder_sent_at", "updated_at"])
    reminded = _remind_silent(proposal)
    audit.record(
        actor=None,
        verb="proposal.extended",
        target=proposal,
        circle=proposal.circle,
        summary=ngettext(
            "The closing time of “%(t)s” moved once, to %(d)s: %(n)s member gave no position "
            "on its current version and was reminded",
            "The closing time of “%(t)s” moved once, to %(d)s: %(n)s members gave no position "
            "on its current version and were reminded",
            reminded,
        )
        % {
            "t": proposal.title,
            "d": f"{timezone.localtime(proposal.closes_at):%d %B %Y %H:%M}",
            "n": reminded,
        },
    )
    schedule(proposal)
