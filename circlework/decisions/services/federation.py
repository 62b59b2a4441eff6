"""Federation proposals: decided by circles, each through its own process."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.covenant import (
    FormingCirclesMay,
    counts_in_federation,
    covenant_parameters_check,
    current_covenant,
    federation_members,
    federation_rules,
    forming_circles_may,
    parameters_of,
)
from circlework.circles.covenant import federation_circles as counting
from circlework.circles.models import Circle
from circlework.circles.services import covenant_adopt
from circlework.core import audit, deadlines
from circlework.core.errors import Conflict, InvalidInput, NotAllowed
from circlework.core.permissions import allowed, require
from circlework.core.services import validate
from circlework.decisions import federation_result, subjects, tasks
from circlework.decisions.decision_rule import Rule, RuleKind, Silence, Stance, Verdict, evaluate
from circlework.decisions.models import CirclePosition, FederationProposal, Proposal, ProposalStatus
from circlework.decisions.services.common import check_closing
from circlework.mandates.models import Mandate
from circlework.mandates.selectors import is_mandated, lapsed_mandate
from circlework.mandates.services import require_mandate
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import notify_many

# A covenant revision stays open this long at least, so every circle can form its position.
COVENANT_MIN_OPEN = timedelta(days=14)
DELEGATE_GRANT = "decisions.record_circle_position"


def adopt_covenant(fp: FederationProposal) -> None:
    """The "covenant" subject (decisions.subjects): a federation proposal the circles agreed
    that revises the covenant makes its next version."""
    if fp.passed and fp.revises_covenant:
        covenant_adopt(federation_proposal=fp)


def has_delegate(circle: Circle) -> bool:
    """Does the circle have a live delegate mandate (someone who can record its position)?"""
    return is_mandated(DELEGATE_GRANT, circle=circle)


def delegated(circle_ids: Iterable[int]) -> set[int]:
    """Of these circles, those with a live delegate mandate (`has_delegate` for many at once, in
    one query): scopes are tiny, so the permissions are read in Python, as mandates does."""
    live = (
        Mandate.objects.live()
        .filter(circle_id__in=set(circle_ids))
        .only("circle_id", "permissions")
    )
    return {m.circle_id for m in live if m.circle_id and DELEGATE_GRANT in (m.permissions or [])}


def no_delegate_message(circle: Circle) -> str:
    return _("%(c)s has no delegate: open an election for one.") % {"c": circle.name}


def _lock_federation_proposal(fp: FederationProposal) -> FederationProposal:
    return deadlines.lock(FederationProposal, fp.pk, "federation")


def federation_circles(federation_id: int) -> list[Circle]:
    """The circles a federation decision asks, and whose consent it needs: the validated ones
    (circles.covenant decides who counts as the federation). A forming circle is not asked, so
    its silence holds nothing up."""
    return list(counting(federation_id))


def _followers(federation: Any) -> Any:
    """Who is told about federation proposals: the federation's members, and the members of its
    forming circles where the covenant lets them follow its decisions."""
    if not forming_circles_may(federation, FormingCirclesMay.FOLLOW_FEDERATION_DECISIONS):
        return federation_members(federation)
    return (
        Practitioner.objects.filter(
            memberships__circle__federation=federation, memberships__left_at__isnull=True
        )
        .distinct()
        .order_by("pk")
    )


def require_in_federation(actor: Practitioner, circle: Circle) -> None:
    """Only a circle of the federation (validated) forms a position on its proposals."""
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
    require("decisions.open_proposal", actor, circle)
    if not counts_in_federation(circle):
        raise NotAllowed(not_in_federation_message(circle))
    require("decisions.raise_federation_proposal", actor, circle)
    check_closing(closes_at)
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
    notify_many(
        _followers(circle.federation).exclude(pk=actor.pk),
        federation=circle.federation,
        kind=NotificationKind.PROPOSAL,
        title=_("Federation proposal: %(t)s") % {"t": fp.title},
        body=_("Each circle forms its position and its delegate records it by %(d)s.")
        % {"d": f"{timezone.localtime(closes_at):%d %B %Y}"},
        url=fp.get_absolute_url(),
    )
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
    deadlines.ensure_open(
        is_open=fp.status == ProposalStatus.OPEN,
        closes_at=fp.closes_at,
        closed=_("This federation proposal is closed."),
        passing=_("This federation proposal is closed."),
    )
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
    fp: FederationProposal,
    *,
    deadline_passed: bool | None = None,
    circles_asked: list[Circle] | None = None,
    current: Mapping[int, CirclePosition] | None = None,
) -> FederationVerdict:
    """Circles decide by consent: no circle blocks, and every circle spoke or had its time.

    A proposal that revises the covenant needs every circle's consent, spoken (`_covenant_verdict`).
    "Every circle" is the federation's validated circles, now: a position recorded while a circle
    was validated no longer counts once its validation lapses. `circles_asked` (those circles)
    and `current` (the current positions) when the caller has read them already.
    """
    if circles_asked is None:
        circles_asked = federation_circles(fp.federation_id)
    by_id = {c.pk: c for c in circles_asked}
    circles = set(by_id)
    if current is None:
        current = circle_positions(fp)
    positions = {cid: Stance(p.stance) for cid, p in current.items()}
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
    # Early, by the member who raised it while still in the circle that raised it.
    if actor is not None and not allowed(
        "decisions.close_federation_proposal", actor.user, federation_proposal
    ):
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
    # What the proposal was about hears of it: a covenant revision agreed becomes the
    # covenant's next version (decisions.subjects), before the federation is told.
    subjects.federation_outcome_recorded(fp)
    notify_many(
        _followers(fp.federation),
        federation=fp.federation,
        kind=NotificationKind.OUTCOME,
        title=summary % {"t": fp.title},
        url=fp.get_absolute_url(),
    )
    return fp
