"""A member's position on a proposal: taken, changed, every change kept."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.core import audit
from circlework.core.errors import InvalidInput
from circlework.core.permissions import require
from circlework.core.services import validate
from circlework.decisions.decision_rule import Stance
from circlework.decisions.models import Position, Proposal
from circlework.decisions.services.common import ensure_open, lock_proposal


@transaction.atomic
def position_take(
    *, actor: Practitioner, proposal: Proposal, stance: str, reason: str = ""
) -> Position:
    """Take or change a position. Changes are kept: the old row stays, no longer current."""
    require("decisions.take_position", actor, proposal)
    proposal = lock_proposal(
        proposal
    )  # serialises concurrent changes: the last one wins, all are kept
    ensure_open(proposal)
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
