"""What a proposal is about, and what its outcome does to it.

A proposal may be *about* a subject that lives in another app: an agreement version, the
federation's covenant, a validation link between two circles, and soon an audit's criteria, an
inquiry report or a conflict case. The subject's app registers an `OutcomeHandler` here in its
`AppConfig.ready`; `decisions` calls `outcome_recorded` inside the closing transaction, once per
outcome, and every handler decides for itself whether the proposal was about its subject (a
cheap lookup by the proposal's id) and what follows (adopt the text, validate the link…).

A federation proposal is decided by circles and records no `Outcome`: what its result does to
its subject (the covenant) is registered the same way, with `register_federation`, and heard
through `federation_outcome_recorded` inside federation_proposal_close.

Explicit calls, not Django signals: the closing service names this one call, and `handlers()`
lists who reacts (docs/architecture.md). A handler that raises rolls the outcome back.
"""

from __future__ import annotations

from collections.abc import Callable

from circlework.decisions.models import FederationProposal, Outcome

OutcomeHandler = Callable[[Outcome], None]
FederationOutcomeHandler = Callable[[FederationProposal], None]

_handlers: list[tuple[str, OutcomeHandler]] = []
_federation_handlers: list[tuple[str, FederationOutcomeHandler]] = []


def register(subject: str, handler: OutcomeHandler) -> None:
    """Register what an outcome does to `subject` (a short name: "agreement", "covenant",
    "link"…). Registering a subject twice replaces its handler (tests reload apps)."""
    _handlers[:] = [(name, h) for name, h in _handlers if name != subject]
    _handlers.append((subject, handler))


def outcome_recorded(outcome: Outcome) -> None:
    """Every registered subject hears of the outcome, in the order they registered."""
    for _subject, handler in _handlers:
        handler(outcome)


def handlers() -> list[str]:
    return [name for name, _ in _handlers]


def register_federation(subject: str, handler: FederationOutcomeHandler) -> None:
    """Register what a closed federation proposal does to `subject` ("covenant"…)."""
    _federation_handlers[:] = [(name, h) for name, h in _federation_handlers if name != subject]
    _federation_handlers.append((subject, handler))


def federation_outcome_recorded(federation_proposal: FederationProposal) -> None:
    """Every registered subject hears of the closed federation proposal, in registration order."""
    for _subject, handler in _federation_handlers:
        handler(federation_proposal)


def federation_handlers() -> list[str]:
    return [name for name, _ in _federation_handlers]
