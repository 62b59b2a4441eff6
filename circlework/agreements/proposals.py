"""The proposals about agreements, as agreements' pages reach them.

An agreement changes only by decision, and proposals live in `decisions`, the app above. So
agreements never reads or opens a proposal itself: decisions provides these reads and this
action once, in its `AppConfig.ready` (decisions/registrations.py calls `provide`), and
agreements' pages call them through `provider()`. What agreements reads of a proposal is
`AgreementProposal`; a decisions.Proposal is one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from circlework.accounts.models import Practitioner
from circlework.agreements.models import Agreement
from circlework.circles.models import Circle


class AgreementProposal(Protocol):
    """A proposal that adopts or revises an agreement, as agreements reads it."""

    @property
    def pk(self) -> Any: ...
    @property
    def title(self) -> str: ...
    @property
    def circle(self) -> Circle: ...
    @property
    def agreement(self) -> Agreement | None: ...
    @property
    def agreement_id(self) -> int | None: ...
    @property
    def new_agreement_kind(self) -> str: ...
    @property
    def new_agreement_title(self) -> str: ...
    @property
    def agreement_text(self) -> str: ...
    @property
    def is_open(self) -> bool: ...
    def get_absolute_url(self) -> str: ...


@dataclass(frozen=True)
class Provider:
    # The open proposal revising the agreement (one at a time), if any.
    open_about: Callable[[Agreement], AgreementProposal | None]
    # The circle's open proposals that adopt or revise an ethical statement, newest first.
    ethics_drafts: Callable[[Circle], Iterable[AgreementProposal]]
    # The circle's proposal `pk` (by the circle's slug), or Http404.
    proposal_in: Callable[[str, int], AgreementProposal]
    # Borrow another circle's agreement as a draft proposal (decisions' agreement_borrow).
    borrow: Callable[[Practitioner, Agreement, Circle, datetime], AgreementProposal]


_provider: list[Provider] = []


def provide(provider: Provider) -> None:
    """Called once by decisions' AppConfig.ready; again replaces it (tests reload apps)."""
    _provider[:] = [provider]


def provider() -> Provider:
    if not _provider:
        raise RuntimeError("decisions provides the proposals about agreements: is it installed?")
    return _provider[0]
