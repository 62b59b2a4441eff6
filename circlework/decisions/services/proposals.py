"""Opening a proposal (with the rule in force), withdrawing it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.agreements import ceremonies
from circlework.agreements.models import Agreement, AgreementKind
from circlework.agreements.parameters import current_parameters
from circlework.circles.models import Circle
from circlework.circles.selectors import current_members
from circlework.core import audit
from circlework.core.errors import Conflict, InvalidInput
from circlework.core.permissions import require
from circlework.core.services import validate
from circlework.decisions.decision_rule import Rule, RuleKind, Silence, default_silence
from circlework.decisions.models import Proposal, ProposalStatus, ProposalVersion
from circlework.decisions.services.common import check_closing, ensure_open, lock_proposal, schedule
from circlework.decisions.services.federation import require_in_federation
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import notify_many


def circle_rule(circle: Circle) -> Rule:
    """The circle's decision rule, from its current decision-rule agreement (consent if none)."""
    params = current_parameters(circle, AgreementKind.DECISION_RULE)
    if params is None:
        return Rule()
    try:
        kind = RuleKind(params.get("rule", "consent"))
        return Rule(
            kind=kind,
            fallback_after_rounds=int(params.get("fallback_after_rounds", 3)),
            silence=Silence(params.get("silence") or default_silence(kind)),
        )
    except (ValueError, TypeError):
        return Rule()


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
        require_in_federation(actor, circle)
    check_closing(closes_at)
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
    if agreement is None and new_agreement_title and new_agreement_kind not in AgreementKind.values:
        raise InvalidInput(
            _("Choose the kind of agreement."),
            fields={"new_agreement_kind": [_("Choose one of the kinds.")]},
        )
    if agreement is not None:
        agreement = _lock_agreement_for_revision(agreement)
    adopted_kind = agreement.kind if agreement is not None else new_agreement_kind
    sent = bool(agreement_parameters)
    if agreement is not None and not agreement_parameters and agreement.current_version is not None:
        # Revising a decision rule's text must not silently drop the rule it encodes (nor a
        # ceremony its moment and roles).
        agreement_parameters = ceremonies.carried_on(
            adopted_kind, agreement.current_version.parameters
        )
    if agreement_parameters:
        _check_rule_parameters(agreement_parameters)
        # No choice of what silence means: the rule's usual way (decisions.decision_rule.default_silence).
        agreement_parameters = {
            k: v for k, v in agreement_parameters.items() if not (k == "silence" and v is None)
        }
    if sent and agreement_parameters and adopted_kind == AgreementKind.CEREMONY:
        # When the ceremony is used and the roles people take, in the one vocabulary.
        agreement_parameters = ceremonies.checked_parameters(agreement_parameters)
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
    notify_many(
        current_members(circle=circle, exclude=[actor.pk]),
        circle=circle,
        kind=NotificationKind.PROPOSAL,
        title=_("New proposal in %(c)s: %(t)s") % {"c": circle.name, "t": proposal.title},
        body=_("Your position is asked for by %(d)s.")
        % {"d": f"{timezone.localtime(closes_at):%d %B %Y %H:%M}"},
        url=proposal.get_absolute_url(),
    )
    schedule(proposal)
    return proposal


def _lock_agreement_for_revision(agreement: Any) -> Any:
    """Lock the agreement and refuse a second open proposal revising it.

    An agreement changes only through a proposal; two open at once would each adopt a text
    written on the same version, the later silently undoing the earlier (a lost update). So
    changes to an agreement under discussion go through amendments to the one proposal, which
    are versioned (amendment_propose / amendment_accept)."""
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
def proposal_withdraw(*, actor: Practitioner, proposal: Proposal) -> Proposal:
    require("decisions.withdraw_proposal", actor, proposal)
    proposal = lock_proposal(proposal)
    ensure_open(proposal)
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
