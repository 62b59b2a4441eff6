"""Deadlines without cron: each proposal queues its own reminder and close at the right time."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import default_task_backend, task

from circlework.core import deadlines
from circlework.core.scheduling import recurring

# The use cases queue these tasks and the tasks call the use cases: a module import on both
# sides (its names read at call time), so either may be imported first.
from circlework.decisions import services
from circlework.decisions.models import FederationProposal, Proposal, ProposalStatus

REMINDER_BEFORE = timedelta(hours=24)


def schedule_for(proposal: Proposal) -> None:
    """Queue the reminder and the close. Both handlers are idempotent, so re-queueing is safe."""
    if not default_task_backend.supports_defer:
        return  # the immediate backend (tests): the hourly sweep and direct calls do the work
    remind_at = max(timezone.now(), proposal.closes_at - REMINDER_BEFORE)
    if proposal.closes_at - proposal.created_at > REMINDER_BEFORE * 2:
        remind_silent_members.using(run_after=remind_at).enqueue(proposal.pk)
    close_proposal.using(run_after=proposal.closes_at).enqueue(proposal.pk)


@task()
def close_proposal(proposal_id: int) -> bool:
    proposal = Proposal.objects.filter(pk=proposal_id).first()
    return (
        proposal is not None and services.proposal_close(actor=None, proposal=proposal) is not None
    )


@task()
def remind_silent_members(proposal_id: int) -> int:
    proposal = Proposal.objects.filter(
        pk=proposal_id, status=ProposalStatus.OPEN, reminder_sent_at__isnull=True
    ).first()
    return 0 if proposal is None else services.members_remind(actor=None, proposal=proposal)


@recurring(every=timedelta(minutes=10))
@task()
def sweep_deadlines() -> int:
    """A safety net: close anything past its time and send reminders that were missed."""
    now = timezone.now()
    done = deadlines.sweep(
        Proposal.objects.filter(status=ProposalStatus.OPEN, closes_at__lte=now).values_list(
            "pk", flat=True
        ),
        close_proposal.call,
    )
    due = Proposal.objects.filter(
        status=ProposalStatus.OPEN,
        reminder_sent_at__isnull=True,
        closes_at__lte=now + REMINDER_BEFORE,
        closes_at__gt=now,
    )
    for proposal in due:
        services.members_remind(actor=None, proposal=proposal)
    done += deadlines.sweep(
        FederationProposal.objects.filter(
            status=ProposalStatus.OPEN, closes_at__lte=now
        ).values_list("pk", flat=True),
        close_federation_proposal.call,
    )
    return done


def schedule_federation_close(fp: FederationProposal) -> None:
    if default_task_backend.supports_defer:
        close_federation_proposal.using(run_after=fp.closes_at).enqueue(fp.pk)


@task()
def close_federation_proposal(federation_proposal_id: int) -> bool:
    fp = FederationProposal.objects.filter(pk=federation_proposal_id).first()
    return (
        fp is not None
        and services.federation_proposal_close(actor=None, federation_proposal=fp) is not None
    )
