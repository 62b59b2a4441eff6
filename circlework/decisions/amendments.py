"""Reading an amendment: where it lives and what it would change, shown before anyone decides."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from circlework.core.diff import TextDiff, diff
from circlework.decisions.models import Amendment


def amendment_url(amendment: Amendment) -> str:
    """The amendment's own page: its text, what it changes, and (for the proposer) the decision."""
    proposal = amendment.proposal
    return reverse(
        "decisions:amendment_decide",
        kwargs={"slug": proposal.circle.slug, "pk": proposal.pk, "amendment_pk": amendment.pk},
    )


@dataclass(frozen=True)
class AmendmentChanges:
    based_on: int  # the proposal version the amendment was written on
    current: bool  # that version is still the proposal's current one
    text: TextDiff  # from that version's text to the amendment's
    agreement_text: TextDiff | None  # the same for the agreement text, where it changes it


def amendment_changes(amendment: Amendment) -> AmendmentChanges:
    """What accepting the amendment would change: the version it was written on, to its text."""
    proposal = amendment.proposal
    base = proposal.versions.filter(number=amendment.based_on_version).first()
    base_text = base.text if base is not None else proposal.text
    base_agreement = base.agreement_text if base is not None else proposal.agreement_text
    agreement_changes = None
    if proposal.adopts_agreement and amendment.agreement_text:
        agreement_changes = diff(base_agreement, amendment.agreement_text)
    return AmendmentChanges(
        based_on=amendment.based_on_version,
        current=amendment.based_on_version == proposal.version,
        text=diff(base_text, amendment.text),
        agreement_text=agreement_changes,
    )
