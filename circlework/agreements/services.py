"""Writes for agreements. A version becomes current only through an outcome (version_adopt)."""

from __future__ import annotations

import calendar
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.agreements.models import Agreement, AgreementVersion
from circlework.circles.models import Circle
from circlework.core import audit
from circlework.core.errors import Conflict, InvalidInput
from circlework.core.permissions import require
from circlework.decisions.models import Outcome, Proposal, ProposalStatus


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def version_adopt(*, outcome: Outcome) -> AgreementVersion:
    """Called inside proposal_close when a proposal that adopts an agreement passes."""
    proposal = outcome.proposal
    if not outcome.passed:
        raise Conflict(_("Only an agreed proposal can adopt an agreement."))
    agreement = proposal.agreement
    if agreement is None:
        agreement = Agreement.objects.create(
            circle=proposal.circle,
            kind=proposal.new_agreement_kind,
            title=proposal.new_agreement_title,
            borrowed_from=proposal.borrowed_from,
        )
        proposal.agreement = agreement
        proposal.save(update_fields=["agreement", "updated_at"])
    agreement = Agreement.objects.select_for_update(of=("self",)).get(pk=agreement.pk)
    last = agreement.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = AgreementVersion.objects.create(
        agreement=agreement,
        number=last + 1,
        text=proposal.agreement_text,
        parameters=proposal.agreement_parameters,
        adopted_by=outcome,
        adopted_at=outcome.decided_at,
    )
    agreement.current_version = version
    agreement.review_due = add_months(timezone.localdate(), agreement.review_interval_months)
    agreement.review_notified_on = None
    agreement.save(
        update_fields=["current_version", "review_due", "review_notified_on", "updated_at"]
    )
    audit.record(
        actor=None,
        verb="agreement.version_adopted",
        target=version,
        circle=agreement.circle,
        summary=_("“%(t)s” version %(v)s adopted by decision")
        % {"t": agreement.title, "v": version.number},
    )
    return version


def _open_review(agreement: Agreement) -> Proposal | None:
    return agreement.proposals.filter(status=ProposalStatus.OPEN).first()


@transaction.atomic
def agreement_review_open(
    *, actor: Practitioner, agreement: Agreement, closes_at: datetime
) -> Proposal:
    """One click: a review proposal pre-filled with the current text."""
    from circlework.decisions.services import proposal_open

    require("agreements.review_agreement", actor, agreement)
    if agreement.current_version is None:
        raise Conflict(_("This agreement has no adopted version to review yet."))
    existing = _open_review(agreement)
    if existing is not None:
        raise Conflict(
            _("A proposal about this agreement is already open: “%(t)s”.") % {"t": existing.title}
        )
    current = agreement.current_version
    return proposal_open(
        actor=actor,
        circle=agreement.circle,
        title=_("Review: %(t)s") % {"t": agreement.title},
        text=_(
            "Our agreement “%(t)s” (version %(v)s) is due for review. Propose changes as amendments, "
            "or agree to keep it as it is for another %(m)s months."
        )
        % {"t": agreement.title, "v": current.number, "m": agreement.review_interval_months},
        closes_at=closes_at,
        agreement=agreement,
        agreement_text=current.text,
        agreement_parameters=current.parameters,
    )


@transaction.atomic
def agreement_borrow(
    *, actor: Practitioner, agreement: Agreement, circle: Circle, closes_at: datetime
) -> Proposal:
    """Copy another circle's agreement into your circle as a draft proposal, with provenance."""
    from circlework.decisions.services import proposal_open

    require("agreements.borrow_agreement", actor, agreement)
    require("decisions.open_proposal", actor, circle)
    if circle.pk == agreement.circle_id:
        raise InvalidInput(
            _("Borrow into one of your other circles."),
            fields={"circle": [_("This is the agreement's own circle.")]},
        )
    source = agreement.current_version
    if source is None:
        raise Conflict(_("This agreement has no adopted version to borrow."))
    return proposal_open(
        actor=actor,
        circle=circle,
        title=_("Adopt “%(t)s” (borrowed from %(c)s)")
        % {"t": agreement.title, "c": agreement.circle.name},
        text=_(
            "I propose we adopt %(c)s's “%(t)s” (their version %(v)s) as our own, changed as we "
            "agree here. Amend the text below before we decide."
        )
        % {"c": agreement.circle.name, "t": agreement.title, "v": source.number},
        closes_at=closes_at,
        new_agreement_kind=agreement.kind,
        new_agreement_title=agreement.title,
        agreement_text=source.text,
        agreement_parameters=source.parameters,
        borrowed_from=source,
    )
