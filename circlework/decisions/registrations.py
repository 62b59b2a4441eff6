"""What decisions registers, once, from `DecisionsConfig.ready()`.

- The subjects its outcomes may be about that live in the apps below it (decisions.subjects):
  "agreement" (an agreed proposal adopts the agreement's new version) and "covenant" (an agreed
  federation proposal makes the covenant's next version). Links, above, registers "link" itself;
  decisions comes first in INSTALLED_APPS, so an agreement is adopted before a link is decided.
- The proposals about agreements that agreements' pages show and open (agreements.proposals).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from circlework.agreements import proposals
from circlework.circles.models import Circle
from circlework.circles.tabs import Tab, register_circle_tab, register_federation_tab
from circlework.decisions import selectors, subjects
from circlework.decisions.models import Proposal
from circlework.decisions.services.agreement_proposals import adopt_agreement, borrow
from circlework.decisions.services.federation import adopt_covenant


def _ethics_drafts(circle: Circle) -> Iterable[Proposal]:
    return selectors.ethics_drafts(circle=circle)


def register() -> None:
    register_circle_tab(Tab("decisions", 10, _("Decisions"), "decisions:proposal_list"))
    register_federation_tab(
        Tab(
            "decisions",
            20,
            _("Federation decisions"),
            "decisions:federation_proposal_list",
            members_only=True,
        )
    )
    subjects.register("agreement", adopt_agreement)
    subjects.register_federation("covenant", adopt_covenant)
    proposals.provide(
        proposals.Provider(
            open_about=selectors.open_about,
            ethics_drafts=_ethics_drafts,
            proposal_in=selectors.proposal_in,
            borrow=borrow,
        )
    )
