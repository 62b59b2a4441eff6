"""Writes for proposals, positions, amendments, comments and outcomes. Atomic, checked, audited.

One module per use case; every public name is re-exported here, so `services.proposal_open`
keeps working. Reads (what the rule says now, the current positions) are in selectors.

- proposals: open a proposal with the rule in force, withdraw it
- positions / comments / amendments: what members add while it is open
- closing: reminders, the once-only extension, the outcome (and its subjects)
- federation: federation proposals, decided by circles
- agreement_proposals: proposals about agreements (new, review, borrowed)
"""

from circlework.decisions.services.agreement_proposals import (
    agreement_borrow,
    agreement_propose,
    agreement_review_open,
)
from circlework.decisions.services.amendments import (
    CONFIRM_TIME,
    amendment_accept,
    amendment_decline,
    amendment_propose,
)
from circlework.decisions.services.closing import (
    EXTENSION,
    MANUAL_REMINDER_GAP,
    REMINDER_BEFORE,
    members_remind,
    proposal_close,
)
from circlework.decisions.services.comments import comment_add, comment_edit, comment_revision
from circlework.decisions.services.common import MAX_OPEN, MIN_OPEN
from circlework.decisions.services.federation import (
    COVENANT_MIN_OPEN,
    DELEGATE_GRANT,
    FederationVerdict,
    circle_position_record,
    circle_positions,
    delegated,
    federation_circles,
    federation_proposal_close,
    federation_proposal_open,
    federation_verdict,
    has_delegate,
    no_delegate_message,
    not_in_federation_message,
)
from circlework.decisions.services.positions import position_take
from circlework.decisions.services.proposals import circle_rule, proposal_open, proposal_withdraw

__all__ = [
    "CONFIRM_TIME",
    "COVENANT_MIN_OPEN",
    "DELEGATE_GRANT",
    "EXTENSION",
    "MANUAL_REMINDER_GAP",
    "MAX_OPEN",
    "MIN_OPEN",
    "REMINDER_BEFORE",
    "FederationVerdict",
    "agreement_borrow",
    "agreement_propose",
    "agreement_review_open",
    "amendment_accept",
    "amendment_decline",
    "amendment_propose",
    "circle_position_record",
    "circle_positions",
    "circle_rule",
    "comment_add",
    "comment_edit",
    "comment_revision",
    "delegated",
    "federation_circles",
    "federation_proposal_close",
    "federation_proposal_open",
    "federation_verdict",
    "has_delegate",
    "members_remind",
    "no_delegate_message",
    "not_in_federation_message",
    "position_take",
    "proposal_close",
    "proposal_open",
    "proposal_withdraw",
]
