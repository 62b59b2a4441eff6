"""What every use case on an open proposal shares: the lock, the open check, the deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.core import deadlines
from circlework.core.errors import InvalidInput

# The tasks call the use cases and the use cases queue the tasks: a module import (read at call
# time) on both sides, so either may be imported first.
from circlework.decisions import tasks
from circlework.decisions.models import Proposal, ProposalStatus

MIN_OPEN = timedelta(hours=1)
MAX_OPEN = timedelta(days=90)


def lock_proposal(proposal: Proposal) -> Proposal:
    return deadlines.lock(Proposal, proposal.pk, "circle", "circle__federation")


def ensure_open(proposal: Proposal) -> None:
    deadlines.ensure_open(
        is_open=proposal.status == ProposalStatus.OPEN,
        closes_at=proposal.closes_at,
        closed=_("This proposal is closed; nothing more can be added to it."),
        passing=_("The closing time has passed; the outcome is being recorded."),
    )


def schedule(proposal: Proposal) -> None:
    tasks.schedule_for(proposal)


def check_closing(closes_at: datetime) -> None:
    now = timezone.now()
    if closes_at < now + MIN_OPEN:
        raise InvalidInput(
            _("Give members at least an hour."),
            fields={"closes_at": [_("Choose a closing time at least an hour from now.")]},
        )
    if closes_at > now + MAX_OPEN:
        raise InvalidInput(
            _("A proposal can stay open for at most 90 days."),
            fields={"closes_at": [_("Choose a closing time within 90 days.")]},
        )
