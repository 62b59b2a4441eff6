"""Writes for proposals, positions, amendments, comments and outcomes. Atomic, checked, audited.

The rule that decides a proposal is `decisions/rule.py: evaluate`; closing turns its verdict into
an `Outcome` and, when the proposal adopts an agreement, into the agreement's new version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle, Membership
from circlework.circles.selectors import current_members
from circlework.core import audit
from circlework.core.errors import Conflict, InvalidInput, StaleEdit
from circlework.core.models import AuditEvent
from circlework.core.permissions import require
from circlework.core.services import validate
from circlework.decisions import federation_result
from circlework.decisions.amendments import amendment_url
from circlework.decisions.models import (
    Amendment,
    AmendmentStatus,
    CirclePosition,
    Comment,
    CommentRevision,
    FederationProposal,
    Outcome,
    Position,
    Process,
    Proposal,
    ProposalStatus,
    ProposalVersion,
)
from circlework.decisions.rule import (
    Rule,
    RuleKind,
    Silence,
    Stance,
    Verdict,
    default_silence,
    evaluate,
)
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import notify

MIN_OPEN = timedelta(hours=1)
MAX_OPEN = timedelta(days=90)
REMINDER_BEFORE = timedelta(hours=24)
MANUAL_REMINDER_GAP = timedelta(hours=12)
# Under "extend once and remind": how far the closing time moves, once, for silent members.
EXTENSION = timedelta(days=2)
# After an amendment is accepted, members have at least this long to confirm the new version.
CONFIRM_TIME = timedelta(days=2)


def circle_rule(circle: Circle) -> Rule:
    """The circle's decision rule, from its current decision-rule agreement (consent if none)."""
    from circlework.agreements.models import Agreement, AgreementKind

    agreement = (
        Agreement.objects.filter(
            circle=circle, kind=AgreementKind.DECISION_RULE, current_version__isnull=False
        )
        .select_related("current_version")
        .order_by("-updated_at")
        .first()
    )
    if agreement is None or agreement.current_version is None:
        return Rule()
    params = agreement.current_version.parameters or {}
    try:
        kind = RuleKind(params.get("rule", "consent"))
        return Rule(
            kind=kind,
            fallback_after_rounds=int(params.get("fallback_after_rounds", 3)),
            silence=Silence(params.get("silence") or default_silence(kind)),
        )
    except (ValueError, TypeError):
        return Rule()


def proposal_rule(proposal: Proposal) -> Rule:
    """The rule in force when the proposal opened, as it decides it."""
    return Rule(
        kind=RuleKind(proposal.rule),
        fallback_after_rounds=proposal.fallback_after_rounds,
        silence=Silence(proposal.silence),
    )


def _lock(proposal: Proposal) -> Proposal:
    return (
        Proposal.objects.select_for_update(of=("self",), no_key=True)
        .select_related("circle", "circle__federation")
        .get(pk=proposal.pk)
    )


def _ensure_open(proposal: Proposal) -> None:
    if proposal.status != ProposalStatus.OPEN:
        raise Conflict(_("This proposal is closed; nothing more can be added to it."))
    if proposal.deadline_passed:
        raise Conflict(_("The closing time has passed; the outcome is being recorded."))


def _schedule(proposal: Proposal) -> None:
    from circlework.decisions import tasks

    tasks.schedule_for(proposal)


def _check_closing(closes_at: datetime) -> None:
    now = timezone.now()
    if closes_at < now + MIN_OPEN:
        raise InvalidInput(
            _("Give members at least an hour."),
            fields={"closes_at": [_("Choose a closing time at least an hour from now.")]},
        )
    if closes_at > now + MAX_OPEN:
        raise InvalidInput(
            _("A proposal can stay open for at most 90 days."),
            fields={"closes_at": [_("Choose a closing time within 90 days.")]},
        )


@transaction.atomic
def proposal_open(
    *,
    actor: Practitioner,
    circle: Circle,
    title: str,
    text: str,
    closes_at: datetime,
    process: str = "consent",
    agreement: Any = None,
    new_agreement_kind: str = "",
    new_agreement_title: str = "",
    agreement_text: str = "",
    agreement_parameters: Mapping[str, Any] | None = None,
    borrowed_from: Any = None,
    federation_proposal: Any = None,
) -> Proposal:
    require("decisions.open_proposal", actor, circle)
    if (
        federation_proposal is not None
        and federation_proposal.federation_id != circle.federation_id
    ):
        raise InvalidInput(_("That federation proposal belongs to another federation."))
    if federation_proposal is not None:
        _require_in_federation(actor, circle)
    _check_closing(closes_at)
    if agreement is not None and agreement.circle_id != circle.pk:
        raise InvalidInput(
            _("That agreement belongs to another circle."),
            fields={"agreement": [_("Choose one of this circle's agreements.")]},
        )
    if (agreement is not None or new_agreement_title) and not agreement_text.strip():
        raise InvalidInput(
            _("Give the agreement text this proposal would adopt."),
            fields={"agreement_text": [_("This field is required.")]},
        )
    if new_agreement_title and not new_agreement_kind:
        raise InvalidInput(
            _("Choose the kind of agreement."),
            fields={"new_agreement_kind": [_("This field is required.")]},
        )
    from circlework.agreements.models import AgreementKind

    if agreement is None and new_agreement_title and new_agreement_kind not in AgreementKind.values:
        raise InvalidInput(
            _("Choose the kind of agreement."),
            fields={"new_agreement_kind": [_("Choose one of the kinds.")]},
        )
    if agreement is not None:
        agreement = _lock_agreement_for_revision(agreement)
    if agreement is not None and not agreement_parameters and agreement.current_version is not None:
        # Revising a decision rule's text must not silently drop the rule it encodes.
        agreement_parameters = agreement.current_version.parameters
    if agreement_parameters:
        _check_rule_parameters(agreement_parameters)
        # No choice of what silence means: the rule's usual way (decisions.rule.default_silence).
        agreement_parameters = {
            k: v for k, v in agreement_parameters.items() if not (k == "silence" and v is None)
        }
    rule = circle_rule(circle)
    proposal = Proposal(
        circle=circle,
        author=actor,
        title=title.strip(),
        text=text.strip(),
        process=process,
        rule=rule.kind.value,
        fallback_after_rounds=rule.fallback_after_rounds,
        silence=rule.silence_rule.value,
        closes_at=closes_at,
        agreement=agreement,
        new_agreement_kind=new_agreement_kind if agreement is None else "",
        new_agreement_title=new_agreement_title.strip() if agreement is None else "",
        agreement_text=agreement_text.strip(),
        agreement_parameters=dict(agreement_parameters or {}),
        borrowed_from=borrowed_from,
        federation_proposal=federation_proposal,
    )
    validate(proposal)
    proposal.save()
    ProposalVersion.objects.create(
        proposal=proposal,
        number=1,
        title=proposal.title,
        text=proposal.text,
        agreement_text=proposal.agreement_text,
    )
    audit.record(
        actor=actor,
        verb="proposal.opened",
        target=proposal,
        circle=circle,
        summary=_("Opened the proposal “%(t)s”") % {"t": proposal.title},
    )
    for member in current_members(circle=circle):
        if member.pk != actor.pk:
            notify(
                recipient=member,
                circle=circle,
                kind=NotificationKind.PROPOSAL,
                title=_("New proposal in %(c)s: %(t)s") % {"c": circle.name, "t": proposal.title},
                body=_("Your position is asked for by %(d)s.")
                % {"d": f"{timezone.localtime(closes_at):%d %B %Y %H:%M}"},
                url=proposal.get_absolute_url(),
            )
    _schedule(proposal)
    return proposal


def _lock_agreement_for_revision(agreement: Any) -> Any:
    """Lock the agreement and refuse a second open proposal revising it.

    An agreement changes only through a proposal; two open at once would each adopt a text
    written on the same version, the later silently undoing the earlier (a lost update). So
    changes to an agreement under discussion go through amendments to the one proposal, which
    are versioned (amendment_propose / amendment_accept)."""
    from circlework.agreements.models import Agreement

    locked = (
        Agreement.objects.select_for_update(of=("self",), no_key=True)
        .select_related("current_version")
        .get(pk=agreement.pk)
    )
    already = Proposal.objects.filter(agreement=locked, status=ProposalStatus.OPEN).first()
    if already is not None:
        msg = _(
            "A proposal about this agreement is already open: “%(t)s”. Propose your change as "
            "an amendment to it."
        ) % {"t": already.title}
        raise Conflict(msg, fields={"agreement": [msg]})
    return locked


def _check_rule_parameters(params: Mapping[str, Any]) -> None:
    try:
        kind = RuleKind(params.get("rule", "consent"))
        rounds = int(params.get("fallback_after_rounds", 3))
    except (ValueError, TypeError) as exc:
        raise InvalidInput(
            _("The decision rule is not valid."),
            fields={"rule": [_("Choose consent, consensus or majority after rounds.")]},
        ) from exc
    try:
        Silence(params.get("silence") or default_silence(kind))
    except ValueError as exc:
        raise InvalidInput(
            _("Say what silence means at the closing time."),
            fields={
                "silence": [
                    _(
                        "Choose: extend once and remind, silence counts as no objection, or "
                        "every voice is needed."
                    )
                ]
            },
        ) from exc
    if kind == RuleKind.MAJORITY_AFTER_ROUNDS and not 1 <= rounds <= 10:
        raise InvalidInput(
            _("The number of rounds must be between 1 and 10."),
            fields={"fallback_after_rounds": [_("Between 1 and 10.")]},
        )


@transaction.atomic
def position_take(
    *, actor: Practitioner, proposal: Proposal, stance: str, reason: str = ""
) -> Position:
    """Take or change a position. Changes are kept: the old row stays, no longer current."""
    require("decisions.take_position", actor, proposal)
    proposal = _lock(proposal)  # serialises concurrent changes: the last one wins, all are kept
    _ensure_open(proposal)
    try:
        stance_value = Stance(stance)
    except ValueError as exc:
        raise InvalidInput(
            _("Choose a position."), fields={"stance": [_("Choose one of the positions.")]}
        ) from exc
    reason = reason.strip()
    if stance_value != Stance.AGREE and not reason:
        raise InvalidInput(
            _("Please give your reason: every position but agree needs one."),
            fields={"reason": [_("A reason is needed for this position.")]},
        )
    current = Position.objects.filter(
        proposal=proposal, practitioner=actor, is_current=True
    ).first()
    if current is not None and (
        current.stance,
        current.reason,
        current.version,
        current.round,
    ) == (stance_value.value, reason, proposal.version, proposal.round):
        return current  # the same position sent twice (a double click): recorded once
    if current is not None:
        Position.objects.filter(pk=current.pk).update(is_current=False)
    position = Position(
        proposal=proposal,
        practitioner=actor,
        stance=stance_value.value,
        reason=reason,
        version=proposal.version,
        round=proposal.round,
    )
    validate(position)
    position.save()
    audit.record(
        actor=actor,
        verb="position.taken",
        target=position,
        circle=proposal.circle,
        summary=_("Took a position on “%(t)s”: %(s)s")
        % {"t": proposal.title, "s": position.get_stance_display()},
    )
    return position


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
    proposal = _lock(proposal)
    _ensure_open(proposal)
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
    proposal = _lock(amendment.proposal)
    _ensure_open(proposal)
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
        _schedule(proposal)
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
    for member in current_members(circle=proposal.circle):
        notify(
            recipient=member,
            circle=proposal.circle,
            kind=NotificationKind.AMENDMENT,
            title=_("“%(t)s” changed: please confirm or revise your position")
            % {"t": proposal.title},
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
    proposal = _lock(amendment.proposal)
    _ensure_open(proposal)
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


@transaction.atomic
def comment_add(
    *,
    actor: Practitioner,
    proposal: Proposal,
    text: str,
    parent: Comment | None = None,
    quote: str = "",
) -> Comment:
    require("decisions.comment", actor, proposal)
    if parent is not None and parent.proposal_id != proposal.pk:
        raise InvalidInput(
            _("You can only reply to a comment on the same proposal."),
            fields={"parent": [_("Not on this proposal.")]},
        )
    if not text.strip():
        raise InvalidInput(
            _("Write something first."), fields={"text": [_("This field is required.")]}
        )
    comment = Comment(
        proposal=proposal,
        author=actor,
        parent=parent,
        quote=quote.strip()[:2000],
        text=text.strip(),
    )
    validate(comment)
    comment.save()
    audit.record(
        actor=actor,
        verb="comment.added",
        target=comment,
        circle=proposal.circle,
        summary=_("Commented on “%(t)s”") % {"t": proposal.title},
    )
    return comment


def comment_revision(comment: Comment) -> int:
    """How many times the comment has been edited: the revision an edit must name."""
    return CommentRevision.objects.filter(comment=comment).count()


@transaction.atomic
def comment_edit(
    *, actor: Practitioner, comment: Comment, text: str, base_revision: int | None = None
) -> Comment:
    """Edit a comment, keeping the text it had. `base_revision` (comment_revision when the edit
    began) refuses an edit made on a text that was edited again meanwhile (StaleEdit)."""
    require("decisions.edit_comment", actor, comment)
    if not text.strip():
        raise InvalidInput(
            _("Write something first."), fields={"text": [_("This field is required.")]}
        )
    comment = (
        Comment.objects.select_for_update(no_key=True)
        .select_related("proposal__circle")
        .get(pk=comment.pk)
    )
    current = comment_revision(comment)
    if base_revision is not None and base_revision != current:
        raise StaleEdit(
            _(
                "The comment was edited again while you were writing. Your text is kept below "
                "and the comment as it now reads above it: send yours again if it should replace it."
            ),
            current=current,
        )
    if text.strip() == comment.text:
        return comment
    CommentRevision.objects.create(comment=comment, text=comment.text)
    comment.text = text.strip()
    comment.edited_at = timezone.now()
    comment.save(update_fields=["text", "edited_at", "updated_at"])
    audit.record(
        actor=actor,
        verb="comment.edited",
        target=comment,
        circle=comment.proposal.circle,
        summary=_("Edited a comment on “%(t)s”") % {"t": comment.proposal.title},
    )
    return comment


def current_positions(proposal: Proposal) -> dict[int, Position]:
    rows = Position.objects.filter(proposal=proposal, is_current=True, practitioner__isnull=False)
    return {p.practitioner_id: p for p in rows if p.practitioner_id is not None}


def verdict_for(
    proposal: Proposal,
    *,
    deadline_passed: bool | None = None,
    positions: Mapping[int, Position] | None = None,
) -> Verdict:
    """What the proposal's rule says now. A position counts for the version it was given on:
    one on an earlier version is "not yet confirmed" (the rule decides what that means)."""
    members = set(
        Membership.objects.current()
        .filter(circle_id=proposal.circle_id)
        .values_list("practitioner_id", flat=True)
    )
    members.discard(None)
    current = current_positions(proposal) if positions is None else positions
    return evaluate(
        proposal_rule(proposal),
        members={m for m in members if m is not None},
        positions={
            pid: Stance(p.stance) for pid, p in current.items() if p.version >= proposal.version
        },
        earlier={
            pid: Stance(p.stance) for pid, p in current.items() if p.version < proposal.version
        },
        round_number=proposal.round,
        deadline_passed=proposal.deadline_passed if deadline_passed is None else deadline_passed,
        extended=proposal.extended_from is not None,
    )


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
    proposal = _lock(proposal)
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
    if verdict.passes and proposal.adopts_agreement:
        from circlework.agreements.services import version_adopt

        version_adopt(outcome=outcome)
    from circlework.links.services import link_decided

    link_decided(outcome=outcome)  # a circle link's "do we validate …?": validated or declined
    for member in current_members(circle=proposal.circle):
        notify(
            recipient=member,
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
def proposal_withdraw(*, actor: Practitioner, proposal: Proposal) -> Proposal:
    require("decisions.withdraw_proposal", actor, proposal)
    proposal = _lock(proposal)
    _ensure_open(proposal)
    proposal.status = ProposalStatus.WITHDRAWN
    proposal.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        verb="proposal.withdrawn",
        target=proposal,
        circle=proposal.circle,
        summary=_("Withdrew the proposal “%(t)s”") % {"t": proposal.title},
    )
    return proposal


@transaction.atomic
def members_remind(*, actor: Practitioner | None, proposal: Proposal) -> int:
    """Remind members who have not spoken (in-app and e-mail). The worker calls it before the close."""
    if actor is not None:
        require("decisions.remind", actor, proposal)
    proposal = _lock(proposal)
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
    reminded = 0
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
        notify(
            recipient=member,
            circle=proposal.circle,
            kind=NotificationKind.PROPOSAL_REMINDER,
            title=title,
            body=body,
            url=proposal.get_absolute_url(),
        )
        reminded += 1
    return reminded


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
    _schedule(proposal)


# --- Federation proposals: decided by circles, each through its own process ---------------------


# A covenant revision stays open this long at least, so every circle can form its position.
COVENANT_MIN_OPEN = timedelta(days=14)
DELEGATE_GRANT = "decisions.record_circle_position"


def has_delegate(circle: Circle) -> bool:
    """Does the circle have a live delegate mandate (someone who can record its position)?"""
    from circlework.mandates.selectors import is_mandated

    return is_mandated(DELEGATE_GRANT, circle=circle)


def no_delegate_message(circle: Circle) -> str:
    return _("%(c)s has no delegate: open an election for one.") % {"c": circle.name}


def _lock_federation_proposal(fp: FederationProposal) -> FederationProposal:
    return (
        FederationProposal.objects.select_for_update(of=("self",), no_key=True)
        .select_related("federation")
        .get(pk=fp.pk)
    )


def federation_circles(federation_id: int) -> list[Circle]:
    """The circles a federation decision asks, and whose consent it needs: the validated ones
    (circles.covenant decides who counts as the federation). A forming circle is not asked, so
    its silence holds nothing up."""
    from circlework.circles.covenant import federation_circles as counting

    return list(counting(federation_id))


def _followers(federation: Any) -> Any:
    """Who is told about federation proposals: the federation's members, and the members of its
    forming circles where the covenant lets them follow its decisions."""
    from circlework.circles.covenant import (
        FormingCirclesMay,
        federation_members,
        forming_circles_may,
    )

    if not forming_circles_may(federation, FormingCirclesMay.FOLLOW_FEDERATION_DECISIONS):
        return federation_members(federation)
    return (
        Practitioner.objects.filter(
            memberships__circle__federation=federation, memberships__left_at__isnull=True
        )
        .distinct()
        .order_by("pk")
    )


def _require_in_federation(actor: Practitioner, circle: Circle) -> None:
    """Only a circle of the federation (validated) forms a position on its proposals."""
    from circlework.circles.covenant import counts_in_federation
    from circlework.core.errors import NotAllowed

    if not counts_in_federation(circle):
        raise NotAllowed(not_in_federation_message(circle))
    require("decisions.deliberate_federation_proposal", actor, circle)


def not_in_federation_message(circle: Circle) -> str:
    return _(
        "%(c)s is a forming circle: the federation asks its validated circles, and will ask "
        "%(c)s once other circles have validated it."
    ) % {"c": circle.name}


def _covenant_revision(
    circle: Circle, covenant_text: str, covenant_parameters: Mapping[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    """The covenant's text and rules as a federation proposal would make them, checked.

    Parameters may be partial (the rest stay as they are now). Nothing given: no revision.
    """
    from circlework.circles.covenant import (
        covenant_parameters_check,
        current_covenant,
        federation_rules,
        parameters_of,
    )

    text = covenant_text.strip()
    if not text and not covenant_parameters:
        return "", {}
    now = parameters_of(federation_rules(circle.federation))
    parameters = covenant_parameters_check({**now, **(covenant_parameters or {})})
    current = current_covenant(circle.federation)
    current_text = current.text if current else circle.federation.covenant
    if not text:
        if parameters == now:
            return "", {}
        raise InvalidInput(
            _("Give the covenant's text as it would read with these rules."),
            fields={"covenant_text": [_("This field is required when the rules change.")]},
        )
    if text == current_text.strip() and parameters == now:
        raise InvalidInput(
            _("This would leave the covenant as it is: change its text or its rules."),
            fields={"covenant_text": [_("The same as the current covenant.")]},
        )
    return text, parameters


@transaction.atomic
def federation_proposal_open(
    *,
    actor: Practitioner,
    circle: Circle,
    title: str,
    text: str,
    closes_at: datetime,
    covenant_text: str = "",
    covenant_parameters: Mapping[str, Any] | None = None,
) -> FederationProposal:
    """A member raises a federation question on behalf of their circle; every circle of the
    federation (validated) is asked.

    With a covenant text (and rules), agreeing the proposal adopts the next covenant version.
    """
    from circlework.circles.covenant import counts_in_federation
    from circlework.core.errors import NotAllowed

    require("decisions.open_proposal", actor, circle)
    if not counts_in_federation(circle):
        raise NotAllowed(not_in_federation_message(circle))
    require("decisions.raise_federation_proposal", actor, circle)
    _check_closing(closes_at)
    new_covenant, new_rules = _covenant_revision(circle, covenant_text, covenant_parameters)
    if new_covenant and closes_at < timezone.now() + COVENANT_MIN_OPEN:
        raise InvalidInput(
            _("A proposal that revises the covenant stays open at least 14 days."),
            fields={
                "closes_at": [
                    _(
                        "Choose a closing time at least 14 days from now: every circle needs "
                        "the time to form its position on the covenant."
                    )
                ]
            },
        )
    fp = FederationProposal(
        federation=circle.federation,
        author=actor,
        circle=circle,
        title=title.strip(),
        text=text.strip(),
        closes_at=closes_at,
        covenant_text=new_covenant,
        covenant_parameters=new_rules,
    )
    validate(fp)
    fp.save()
    audit.record(
        actor=actor,
        verb="federation_proposal.opened",
        target=fp,
        federation=circle.federation,
        summary=_("%(c)s raised a federation proposal: “%(t)s”")
        % {"c": circle.name, "t": fp.title},
    )
    for member in _followers(circle.federation).exclude(pk=actor.pk):
        notify(
            recipient=member,
            federation=circle.federation,
            kind=NotificationKind.PROPOSAL,
            title=_("Federation proposal: %(t)s") % {"t": fp.title},
            body=_("Each circle forms its position and its delegate records it by %(d)s.")
            % {"d": f"{timezone.localtime(closes_at):%d %B %Y}"},
            url=fp.get_absolute_url(),
        )
    from circlework.decisions import tasks

    tasks.schedule_federation_close(fp)
    return fp


@transaction.atomic
def circle_position_record(
    *,
    actor: Practitioner,
    federation_proposal: FederationProposal,
    circle: Circle,
    stance: str,
    reason: str,
    dissent: str = "",
    internal_proposal: Proposal | None = None,
) -> CirclePosition:
    """The circle's delegate (a live delegate mandate) records the circle's position, with its
    reasons and inner dissent."""
    from circlework.circles.covenant import counts_in_federation
    from circlework.core.errors import NotAllowed
    from circlework.mandates.selectors import lapsed_mandate
    from circlework.mandates.services import require_mandate

    circle = Circle.objects.select_related("federation").get(pk=circle.pk)
    if not counts_in_federation(circle):
        raise NotAllowed(not_in_federation_message(circle))
    if not has_delegate(circle) and lapsed_mandate(actor, DELEGATE_GRANT, circle=circle) is None:
        raise NotAllowed(no_delegate_message(circle))
    # Only a live delegate mandate carries this: one that has ended is refused with its date.
    require_mandate(
        "decisions.record_circle_position",
        actor,
        circle,
        grant="decisions.record_circle_position",
        circle=circle,
    )
    fp = _lock_federation_proposal(federation_proposal)
    if fp.status != ProposalStatus.OPEN or fp.deadline_passed:
        raise Conflict(_("This federation proposal is closed."))
    if circle.federation_id != fp.federation_id:
        raise InvalidInput(_("That circle is not in this federation."))
    try:
        stance_value = Stance(stance)
    except ValueError as exc:
        raise InvalidInput(
            _("Choose a position."), fields={"stance": [_("Choose one of the positions.")]}
        ) from exc
    if not reason.strip():
        raise InvalidInput(
            _("Give the circle's reasons."), fields={"reason": [_("This field is required.")]}
        )
    if internal_proposal is not None and (
        internal_proposal.circle_id != circle.pk
        or internal_proposal.federation_proposal_id != fp.pk
    ):
        raise InvalidInput(
            _("Link the circle's own proposal about this question."),
            fields={"internal_proposal": [_("Not this circle's proposal on this question.")]},
        )
    CirclePosition.objects.filter(federation_proposal=fp, circle=circle, is_current=True).update(
        is_current=False
    )
    position = CirclePosition.objects.create(
        federation_proposal=fp,
        circle=circle,
        stance=stance_value.value,
        reason=reason.strip(),
        dissent=dissent.strip(),
        internal_proposal=internal_proposal,
        recorded_by=actor,
    )
    audit.record(
        actor=actor,
        verb="circle_position.recorded",
        target=position,
        circle=circle,
        summary=_("Recorded the circle's position on the federation proposal “%(t)s”: %(s)s")
        % {"t": fp.title, "s": position.get_stance_display()},
    )
    return position


def circle_positions(fp: FederationProposal) -> dict[int, CirclePosition]:
    return {
        p.circle_id: p
        for p in fp.circle_positions.filter(is_current=True).select_related("circle", "recorded_by")
    }


@dataclass(frozen=True)
class FederationVerdict(Verdict):
    """A verdict on a federation proposal. Its reason names no circle: the circles it is about
    are `about`, by id ("opposed" or "missing"), named when read (decisions.federation_result)
    as far as each reader may see them."""

    about: Mapping[str, list[int]] = field(default_factory=dict)


def _covenant_verdict(
    circles: Mapping[int, Circle], positions: Mapping[int, Stance]
) -> FederationVerdict:
    """The covenant changes only when every circle of the federation (validated) has spoken and
    none disagrees or blocks.

    Agreeing, agreeing with concerns and standing aside are consent; silence never is, not even
    at the deadline (a circle without a delegate cannot speak, so it holds the covenant as it is).
    A forming circle is not asked: founding a circle gives no hold over the covenant.
    """
    current = {cid: s for cid, s in positions.items() if cid in circles}
    missing = frozenset(circles.keys() - current.keys())
    counts = {s.value: sum(1 for v in current.values() if v == s) for s in Stance}
    opposed = sorted(cid for cid, s in current.items() if s in (Stance.DISAGREE, Stance.BLOCK))
    about: dict[str, list[int]] = {}
    if not circles:
        reason, passes = _("The federation has no validated circles."), False
    elif opposed:
        about = {federation_result.OPPOSED: opposed}
        reason = federation_result.reason(
            federation_result.OPPOSED, federation_result.counted(len(opposed))
        )
        passes = False
    elif missing:
        about = {federation_result.MISSING: sorted(missing)}
        reason = federation_result.reason(
            federation_result.MISSING, federation_result.counted(len(missing))
        )
        passes = False
    else:
        reason = _("Every circle consented to the new covenant.")
        passes = True
    return FederationVerdict(passes, reason[:300], missing, counts, about=about)


def federation_verdict(
    fp: FederationProposal, *, deadline_passed: bool | None = None
) -> FederationVerdict:
    """Circles decide by consent: no circle blocks, and every circle spoke or had its time.

    A proposal that revises the covenant needs every circle's consent, spoken (`_covenant_verdict`).
    "Every circle" is the federation's validated circles, now: a position recorded while a circle
    was validated no longer counts once its validation lapses.
    """
    by_id = {c.pk: c for c in federation_circles(fp.federation_id)}
    circles = set(by_id)
    positions = {cid: Stance(p.stance) for cid, p in circle_positions(fp).items()}
    if fp.revises_covenant:
        return _covenant_verdict(by_id, positions)
    if not circles:
        return FederationVerdict(
            False,
            _("The federation has no validated circles."),
            frozenset(),
            {stance.value: 0 for stance in Stance},
        )
    verdict = evaluate(
        # Between circles, a circle's silence at the closing time is no objection.
        Rule(RuleKind.CONSENT, silence=Silence.NO_OBJECTION),
        members=circles,
        positions=positions,
        round_number=1,
        deadline_passed=fp.deadline_passed if deadline_passed is None else deadline_passed,
    )
    # The rule speaks of members; here the members are circles. Its reasons name no one.
    reason = verdict.reason.replace("member", "circle")
    if verdict.passes and verdict.missing:
        reason = _("No block stands and every circle was heard or had its time.")
    return FederationVerdict(verdict.passes, reason, verdict.missing, verdict.counts)


@transaction.atomic
def federation_proposal_close(
    *, actor: Practitioner | None, federation_proposal: FederationProposal
) -> FederationProposal | None:
    if actor is not None:
        # Early, by the member who raised it while still in the circle that raised it.
        from circlework.core.errors import NotAllowed
        from circlework.core.permissions import allowed

        if not allowed("decisions.close_federation_proposal", actor.user, federation_proposal):
            raise NotAllowed(
                _("Only the member who raised it, while still in its circle, can close it early.")
            )
    fp = _lock_federation_proposal(federation_proposal)
    if fp.status != ProposalStatus.OPEN:
        return None
    if actor is None and not fp.deadline_passed:
        return None
    verdict = federation_verdict(fp)
    if actor is not None and verdict.missing and not fp.deadline_passed:
        raise Conflict(_("It can be closed early only when every circle has given its position."))
    fp.status = ProposalStatus.CLOSED
    fp.passed = verdict.passes
    fp.result = verdict.reason
    fp.result_circles = {kind: list(ids) for kind, ids in verdict.about.items()}
    fp.decided_at = timezone.now()
    fp.save(
        update_fields=["status", "passed", "result", "result_circles", "decided_at", "updated_at"]
    )
    summary = (
        _("The federation agreed “%(t)s”")
        if verdict.passes
        else _("The federation did not agree “%(t)s”")
    )
    audit.record(
        actor=actor,
        verb="federation_proposal.closed",
        target=fp,
        federation=fp.federation,
        summary=summary % {"t": fp.title},
    )
    if fp.passed and fp.revises_covenant:
        from circlework.circles.services import covenant_adopt

        covenant_adopt(federation_proposal=fp)
    for member in _followers(fp.federation):
        notify(
            recipient=member,
            federation=fp.federation,
            kind=NotificationKind.OUTCOME,
            title=summary % {"t": fp.title},
            url=fp.get_absolute_url(),
        )
    return fp
