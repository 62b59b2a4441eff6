"""What decisions brings to the site-level pages (circlework.core.contributions): the proposals
awaiting the practitioner's voice on the home page, their proposals, positions, amendments and
comments in "Download everything", and the circle's proposals in its backup."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from circlework.accounts.models import Practitioner
from circlework.core.contributions import (
    BackupPart,
    BackupSeed,
    ExportPart,
    HomeSection,
    each,
    register_backup_part,
    register_export_part,
    register_home_section,
    when,
)
from circlework.decisions.models import (
    Amendment,
    CirclePosition,
    Comment,
    CommentRevision,
    FederationProposal,
    Outcome,
    Position,
    Proposal,
    ProposalVersion,
)
from circlework.decisions.selectors import awaiting_voice


def _awaiting(practitioner: Practitioner, user: Any) -> dict[str, Any] | None:
    awaiting = awaiting_voice(practitioner=practitioner, user=user)
    return {"awaiting": awaiting} if awaiting else None


def _export(practitioner: Practitioner) -> dict[str, Any]:
    p = practitioner
    return {
        "proposals": each(
            Proposal.objects.filter(author=p).select_related("circle"),
            lambda x: {
                "circle": x.circle.name,
                "title": x.title,
                "text": x.text,
                "process": x.process,
                "status": x.status,
                "version": x.version,
                "created_at": when(x.created_at),
                "closes_at": when(x.closes_at),
            },
        ),
        "positions": each(
            Position.objects.filter(practitioner=p)
            .select_related("proposal__circle")
            .order_by("created_at", "pk"),
            lambda x: {
                "circle": x.proposal.circle.name,
                "proposal": x.proposal.title,
                "stance": x.stance,
                "reason": x.reason,
                "version": x.version,
                "round": x.round,
                "current": x.is_current,
                "created_at": when(x.created_at),
            },
        ),
        "amendments": each(
            Amendment.objects.filter(author=p).select_related("proposal__circle").order_by("pk"),
            lambda a: {
                "circle": a.proposal.circle.name,
                "proposal": a.proposal.title,
                "text": a.text,
                "agreement_text": a.agreement_text,
                "reason": a.reason,
                "status": a.status,
                "response": a.response,
                "created_at": when(a.created_at),
            },
        ),
        "amendments_decided": each(
            Amendment.objects.filter(decided_by=p)
            .select_related("proposal__circle")
            .order_by("pk"),
            lambda a: {
                "circle": a.proposal.circle.name,
                "proposal": a.proposal.title,
                "status": a.status,
                "response": a.response,
                "decided_at": when(a.decided_at),
            },
        ),
        "comments": each(
            Comment.objects.filter(author=p)
            .select_related("proposal__circle")
            .prefetch_related("revisions")
            .order_by("created_at", "pk"),
            lambda c: {
                "circle": c.proposal.circle.name,
                "proposal": c.proposal.title,
                "quote": c.quote,
                "text": c.text,
                "earlier_texts": [r.text for r in c.revisions.all()],
                "created_at": when(c.created_at),
                "edited_at": when(c.edited_at),
            },
        ),
        "federation_proposals": each(
            FederationProposal.objects.filter(author=p)
            .select_related("federation", "circle")
            .order_by("pk"),
            lambda f: {
                "federation": f.federation.name,
                "raised_by_circle": f.circle.name if f.circle else None,
                "title": f.title,
                "text": f.text,
                "status": f.status,
                "created_at": when(f.created_at),
            },
        ),
        "circle_positions_recorded": each(
            CirclePosition.objects.filter(recorded_by=p)
            .select_related("circle", "federation_proposal")
            .order_by("pk"),
            lambda c: {
                "circle": c.circle.name,
                "federation_proposal": c.federation_proposal.title,
                "stance": c.stance,
                "reason": c.reason,
                "dissent": c.dissent,
                "created_at": when(c.created_at),
            },
        ),
    }


def _circle_seeds(circle: Any) -> list[BackupSeed]:
    """Its proposals with their versions, positions, amendments, comments and outcomes, and the
    federation proposals it raised or answered with its own positions."""
    proposals = Proposal.objects.filter(circle=circle)
    fed_proposals = FederationProposal.objects.filter(
        Q(circle=circle) | Q(circle_positions__circle=circle) | Q(internal_proposals__circle=circle)
    ).distinct()
    return [
        (Proposal, proposals),
        (ProposalVersion, ProposalVersion.objects.filter(proposal__in=proposals)),
        (Position, Position.objects.filter(proposal__in=proposals)),
        (Amendment, Amendment.objects.filter(proposal__in=proposals)),
        (Comment, Comment.objects.filter(proposal__in=proposals)),
        (CommentRevision, CommentRevision.objects.filter(comment__proposal__in=proposals)),
        (Outcome, Outcome.objects.filter(proposal__in=proposals)),
        (FederationProposal, fed_proposals),
        (CirclePosition, CirclePosition.objects.filter(circle=circle)),
    ]


def register() -> None:
    register_home_section(
        HomeSection(
            key="decisions.awaiting",
            order=20,
            template="decisions/home_sections.html#awaiting",
            context=_awaiting,
        )
    )
    register_export_part(
        ExportPart(
            key="decisions",
            order=60,
            build=_export,
            exported={
                "decisions.Proposal.author": "proposals",
                "decisions.Position.practitioner": "positions",
                "decisions.Amendment.author": "amendments",
                "decisions.Amendment.decided_by": "amendments_decided",
                "decisions.Comment.author": "comments",
                "decisions.FederationProposal.author": "federation_proposals",
                "decisions.CirclePosition.recorded_by": "circle_positions_recorded",
            },
        )
    )
    register_backup_part(BackupPart(key="decisions", order=40, circle_seeds=_circle_seeds))
