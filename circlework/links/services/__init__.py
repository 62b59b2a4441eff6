"""Writes for circle validation links, and the circle status they decide. Atomic, checked,
audited; one module per use case, every public name re-exported here, so `services.link_request`
keeps working. Reads are in links.selectors; the pure rules in links.validation_rule.

A circle asks another circle of its federation for a link; the other circle meets it, then
decides by its own proposal (decisions.services.proposal_open) whether it validates the asking
circle's process. When that proposal closes, decisions.subjects hands its outcome to
`link_decided` (registered by links.registrations). A validated link lapses after the covenant's
period unless renewed, and can be withdrawn with reasons (encrypted; only the two circles'
members read them — never in audit summaries or notifications). A circle is a *member* of its
federation with enough live links and members (`validation_rule.is_validated`);
`circle_status_refresh` keeps `Circle.status` in step after every link change and every
membership change.

Only links that count make a circle validated (`validation_rule.link_counts`): a link counts
when the validating circle was validated when it decided — or, while the federation is being
founded (fewer validated circles than the covenant's number of links, besides the asking
circle), whatever its status. Otherwise circles nobody validated could validate each other and
become "the federation". Whether a link counts is recorded on it when it is decided
(`CircleLink.counts`).

- asking: ask for a link, cancel the request; undecided requests expire
- meetings: the validating circle records meeting the asking circle
- deciding: open the circle's decision, and what its outcome does to the link
- statement / withdrawal: the validating circle's statement; either circle ends a live link
- status: the circle's status (member or forming) from its live links and members
- lapsing: the warning a month ahead, and the lapse
- common: what they share (telling both circles, recording, locking, the texts)
"""

from circlework.links.services.asking import link_cancel, link_request, link_requests_expire
from circlework.links.services.common import not_counting_text, only_validated_circles_validate
from circlework.links.services.deciding import (
    decision_title,
    link_decided,
    link_decision_open,
    renewable,
)
from circlework.links.services.lapsing import (
    LAPSE_WARNING,
    lapse_moment,
    link_lapse_due,
    link_lapse_notices,
)
from circlework.links.services.meetings import link_meeting_record
from circlework.links.services.statement import link_statement_set
from circlework.links.services.status import circle_status_refresh
from circlework.links.services.withdrawal import link_withdraw

__all__ = [
    "LAPSE_WARNING",
    "circle_status_refresh",
    "decision_title",
    "lapse_moment",
    "link_cancel",
    "link_decided",
    "link_decision_open",
    "link_lapse_due",
    "link_lapse_notices",
    "link_meeting_record",
    "link_request",
    "link_requests_expire",
    "link_statement_set",
    "link_withdraw",
    "not_counting_text",
    "only_validated_circles_validate",
    "renewable",
]
