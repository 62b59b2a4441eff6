"""Proposals about agreements: a new one with who will read it, a review, a borrowing.

An agreement changes only by decision. These use cases open the proposal here, in decisions,
and call down to agreements for what belongs to the agreement (who reads it, the review's draft).
When the proposal is agreed, `adopt_agreement` (the "agreement" subject of decisions.subjects)
has agreements adopt the new version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.agreements import ceremonies
from circlework.agreements.models import Agreement
from circlework.agreements.rules import BorrowInto
from circlework.agreements.selectors import review_draft
from circlework.agreements.services import level_check, version_adopt, visibility_propose
from circlework.circles.models import Circle
from circlework.core.errors import Conflict, InvalidInput, NotAllowed
from circlework.core.permissions import require
from circlework.decisions.models import Outcome, Proposal
from circlework.decisions.selectors import open_about
from circlework.decisions.services.proposals import proposal_open


def adopt_agreement(outcome: Outcome) -> None:
    """The "agreement" subject: an agreed proposal that adopts an agreement adopts its version."""
    if outcome.passed and outcome.proposal.adopts_agreement:
        version_adopt(outcome=outcome)


def borrow(
    actor: Practitioner, agreement: Agreement, circle: Circle, closes_at: datetime
) -> Proposal:
    """agreement_borrow, as agreements' borrow page calls it (agreements.proposals)."""
    return agreement_borrow(actor=actor, agreement=agreement, circle=circle, closes_at=closes_at)


@transaction.atomic
def agreement_propose(
    *, actor: Practitioner, circle: Circle, visibility: str, **proposal_fields: Any
) -> Proposal:
    """Open a proposal adopting a new agreement, with who will read it once adopted.

    `visibility` is the circle's choice: its own page's level or narrower. The other arguments
    are those of proposal_open (with `new_agreement_kind` and `_title`).
    """
    require("decisions.open_proposal", actor, circle)
    if proposal_fields.get("agreement") is not None or not proposal_fields.get(
        "new_agreement_title"
    ):
        raise InvalidInput(_("Who reads it is chosen here only for a new agreement."))
    level_check(circle, visibility, "new_agreement_visibility")
    proposal = proposal_open(actor=actor, circle=circle, **proposal_fields)
    visibility_propose(proposal=proposal, visibility=visibility)
    return proposal


@transaction.atomic
def agreement_review_open(
    *, actor: Practitioner, agreement: Agreement, closes_at: datetime
) -> Proposal:
    """One click: a review proposal pre-filled with the current text."""
    require("agreements.review_agreement", actor, agreement)
    # Two clicks at once (or two members) open one review: the second waits here, then finds it.
    agreement = (
        Agreement.objects.select_for_update(of=("self",), no_key=True)
        .select_related("circle", "current_version")
        .get(pk=agreement.pk)
    )
    if agreement.current_version is None:
        raise Conflict(_("This agreement has no adopted version to review yet."))
    existing = open_about(agreement)
    if existing is not None:
        raise Conflict(
            _("A proposal about this agreement is already open: “%(t)s”.") % {"t": existing.title}
        )
    draft = review_draft(agreement)  # worded for whether the review is due yet
    return proposal_open(
        actor=actor,
        circle=agreement.circle,
        title=draft.title,
        text=draft.text,
        closes_at=closes_at,
        agreement=agreement,
        agreement_text=draft.agreement_text,
        agreement_parameters=ceremonies.carried_on(agreement.kind, draft.parameters),
    )


@transaction.atomic
def agreement_borrow(
    *, actor: Practitioner, agreement: Agreement, circle: Circle, closes_at: datetime
) -> Proposal:
    """Copy another circle's agreement into your circle as a draft proposal, with provenance.

    Only into a circle whose every member may read the agreement (agreements.rules decides).
    The draft's title and text name no circle: where it came from is `borrowed_from`, shown to
    each reader as far as they may see the source circle when they read it.
    """
    require("agreements.borrow_agreement", actor, agreement)
    require("decisions.open_proposal", actor, circle)
    if circle.pk == agreement.circle_id:
        raise InvalidInput(
            _("Borrow into one of your other circles."),
            fields={"circle": [_("This is the agreement's own circle.")]},
        )
    try:
        require("agreements.borrow_agreement_into", actor, BorrowInto(agreement, circle))
    except NotAllowed as exc:
        raise NotAllowed(
            _(
                "Not everyone in %(c)s may read this agreement, so it cannot be borrowed there. "
                "An agreement kept to its circle is not borrowed; one shared with its federation "
                "goes only to the federation's validated circles."
            )
            % {"c": circle.name}
        ) from exc
    source = agreement.current_version
    if source is None:
        raise Conflict(_("This agreement has no adopted version to borrow."))
    return proposal_open(
        actor=actor,
        circle=circle,
        title=_("Adopt “%(t)s”, borrowed from another circle") % {"t": agreement.title},
        text=_(
            "I propose we adopt this agreement, borrowed from another circle (their version "
            "%(v)s), as our own, changed as we agree here. Amend the text below before we decide."
        )
        % {"v": source.number},
        closes_at=closes_at,
        new_agreement_kind=agreement.kind,
        new_agreement_title=agreement.title,
        agreement_text=source.text,
        agreement_parameters=ceremonies.carried_on(agreement.kind, source.parameters),
        borrowed_from=source,
    )
