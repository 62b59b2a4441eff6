"""Reads for decisions: what a proposal page shows, what its rule says now, what awaits each
member's voice, and the proposals about agreements that agreements' pages show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.shortcuts import get_object_or_404

from circlework.accounts.models import Practitioner
from circlework.agreements.models import Agreement, AgreementKind
from circlework.agreements.paging import LatestPage, latest_page, page_holding
from circlework.circles.models import Circle, Membership
from circlework.circles.selectors import MemberRow, circle_members
from circlework.core.diff import DiffLine, diff
from circlework.core.visibility import A_FORMER_MEMBER, audience_for
from circlework.decisions.decision_rule import Rule, RuleKind, Silence, Stance, Verdict, evaluate
from circlework.decisions.models import (
    Amendment,
    Comment,
    CommentRevision,
    Outcome,
    Position,
    Proposal,
    ProposalStatus,
    ProposalVersion,
    StanceChoice,
)


def proposal_rule(proposal: Proposal) -> Rule:
    """The rule in force when the proposal opened, as it decides it."""
    return Rule(
        kind=RuleKind(proposal.rule),
        fallback_after_rounds=proposal.fallback_after_rounds,
        silence=Silence(proposal.silence),
    )


def current_positions(proposal: Proposal) -> dict[int, Position]:
    rows = Position.objects.filter(proposal=proposal, is_current=True, practitioner__isnull=False)
    return {p.practitioner_id: p for p in rows if p.practitioner_id is not None}


def verdict_for(
    proposal: Proposal,
    *,
    deadline_passed: bool | None = None,
    positions: Mapping[int, Position] | None = None,
    members: set[int | None] | None = None,
) -> Verdict:
    """What the proposal's rule says now. A position counts for the version it was given on:
    one on an earlier version is "not yet confirmed" (the rule decides what that means).

    `positions` (the current ones) and `members` (the circle's current members) when the
    caller has read them already."""
    if members is None:
        members = set(
            Membership.objects.current()
            .filter(circle_id=proposal.circle_id)
            .values_list("practitioner_id", flat=True)
        )
    current = current_positions(proposal) if positions is None else positions
    return evaluate(
        proposal_rule(proposal),
        members={m for m in members if m is not None},
        positions={
            pid: Stance(p.stance) for pid, p in current.items() if p.version >= proposal.version
        },
        earlier={
            pid: Stance(p.stance) for pid, p in current.items() if p.version < proposal.version
        },
        round_number=proposal.round,
        deadline_passed=proposal.deadline_passed if deadline_passed is None else deadline_passed,
        extended=proposal.extended_from is not None,
    )


def circle_proposals(*, circle: Circle) -> tuple[QuerySet[Proposal], QuerySet[Proposal]]:
    """Open proposals, soonest closing first, and the latest 50 decided or withdrawn; without
    the texts, which the lists do not show."""
    base = circle.proposals.select_related("author", "outcome").defer(
        "text", "agreement_text", "outcome__statement", "outcome__final_positions"
    )
    return base.filter(status=ProposalStatus.OPEN).order_by("closes_at"), base.exclude(
        status=ProposalStatus.OPEN
    ).order_by("-updated_at")[:50]


def awaiting_voice(*, practitioner: Practitioner, user: Any = None) -> QuerySet[Proposal]:
    """Open proposals in my circles where I have no position on the current version.

    `user` is the signed-in practitioner: it carries how the session signed in, and a circle
    that asks for two-factor authentication counts only with a second factor (the audience,
    core.visibility.audience_for). Without it, as seen without a second factor.
    """
    audience = audience_for(user if user is not None else practitioner.user)
    answered = Position.objects.filter(
        proposal=OuterRef("pk"),
        practitioner=practitioner,
        is_current=True,
        version=OuterRef("version"),
    )
    return (
        Proposal.objects.filter(status=ProposalStatus.OPEN, circle_id__in=audience.circle_ids)
        .exclude(Exists(answered))
        .select_related("circle")
        # What the home page shows of each (not the texts, which may be long).
        .only("pk", "title", "closes_at", "version", "status", "circle__name", "circle__slug")
        .order_by("closes_at")
    )


@dataclass(frozen=True)
class MemberPosition:
    name: str
    practitioner_id: int | None
    stance: str | None
    stance_label: str
    reason: str
    needs_confirming: bool  # their position answers an earlier version ("not yet confirmed")
    history: list[Position]
    version: int | None = None  # the version their current position was given on


@dataclass(frozen=True)
class ProposalPage:
    proposal: Proposal
    members: list[MemberPosition]
    silent: list[str]  # names of members with no position at all
    verdict: Any
    versions: list[ProposalVersion]
    latest_changes: list[DiffLine]
    latest_agreement_changes: list[DiffLine]
    # Names of members whose position answers an earlier version: "not yet confirmed".
    unconfirmed: list[str] = field(default_factory=list)


def _latest_versions(proposal: Proposal, full: bool) -> list[ProposalVersion]:
    """Every version, oldest first; with `full` False only the last two carry their texts (the
    page shows what the last amendment changed), so many long versions cost nothing. One query."""
    if full:
        return list(proposal.versions.all())
    latest, text = Q(number__gte=proposal.version - 1), TextField()
    versions = list(
        proposal.versions.defer("text", "agreement_text").annotate(
            shown_text=Case(When(latest, then=F("text")), default=Value(""), output_field=text),
            shown_agreement_text=Case(
                When(latest, then=F("agreement_text")), default=Value(""), output_field=text
            ),
        )
    )
    shown: list[ProposalVersion] = []
    for v in versions:
        v.text, v.agreement_text = v.shown_text, v.shown_agreement_text
        shown.append(v)
    return shown


def proposal_page(
    *, user: Any, proposal: Proposal, members: list[MemberRow] | None = None, full: bool = True
) -> ProposalPage:
    """What the proposal's page shows. `members`: the circle's members as this viewer may see
    them (circles.selectors.circle_members), when the caller has read them already (with former
    members, for an outcome's record); `full` False: only the last two versions' texts."""
    if members is None:
        members = circle_members(user=user, circle=proposal.circle)
    rows = [row for row in members if row.membership.left_at is None]
    labels = dict(StanceChoice.choices)
    history: dict[int | None, list[Position]] = {}
    for p in Position.objects.filter(proposal=proposal).order_by("created_at", "id"):
        history.setdefault(p.practitioner_id, []).append(p)
    current_of: dict[int, Position] = {}
    members_out = []
    for row in rows:
        pid = row.membership.practitioner_id
        mine = history.get(pid, [])
        current = next((p for p in reversed(mine) if p.is_current), None)
        members_out.append(
            MemberPosition(
                name=row.name,
                practitioner_id=pid,
                stance=current.stance if current else None,
                stance_label=str(labels.get(current.stance, "")) if current else "",
                reason=current.reason if current else "",
                needs_confirming=bool(current and current.version < proposal.version),
                history=mine,
                version=current.version if current else None,
            )
        )
    # Current positions of everyone (a former member's too, as current_positions reads them).
    for pid, mine in history.items():
        if pid is None:
            continue
        current = next((p for p in reversed(mine) if p.is_current), None)
        if current is not None:
            current_of[pid] = current
    versions = _latest_versions(proposal, full)
    latest_changes: list[DiffLine] = []
    latest_agreement_changes: list[DiffLine] = []
    if len(versions) > 1:
        latest_changes = diff(versions[-2].text, versions[-1].text)
        latest_agreement_changes = diff(versions[-2].agreement_text, versions[-1].agreement_text)
    elif proposal.agreement is not None and proposal.agreement.current_version is not None:
        latest_agreement_changes = diff(
            proposal.agreement.current_version.text, proposal.agreement_text
        )
    if not any(line.kind != "same" for line in latest_changes):
        latest_changes = []
    if not any(line.kind != "same" for line in latest_agreement_changes):
        latest_agreement_changes = []
    return ProposalPage(
        proposal=proposal,
        members=members_out,
        silent=[m.name for m in members_out if m.stance is None],
        unconfirmed=[m.name for m in members_out if m.needs_confirming],
        verdict=verdict_for(
            proposal,
            positions=current_of,
            members={row.membership.practitioner_id for row in rows} - {None},
        ),
        versions=versions,
        latest_changes=latest_changes,
        latest_agreement_changes=latest_agreement_changes,
    )


# A proposal's page shows its latest comments and amendments, with links to the earlier ones
# (agreements.paging: one query a list, the count with it, however long the conversation).
COMMENTS_PER_PAGE = 20
AMENDMENTS_PER_PAGE = 10
# A comment's earlier texts shown at once (asked for with ?comment=), the latest first.
REVISIONS_SHOWN = 10
NEWEST_FIRST = ("-created_at", "-id")


def comments_page(
    *, proposal: Proposal, page: int = 1, holding: int | None = None
) -> LatestPage[Comment]:
    """A page of the proposal's comments, 1 being the latest; `holding`: the page holding that
    comment instead (a link to a comment lands where it is), or the latest if it is none of
    the proposal's."""
    comments = Comment.objects.filter(proposal=proposal)
    if holding is not None:
        at = Subquery(comments.filter(pk=holding).values("created_at")[:1])
        newer = comments.filter(Q(created_at__gt=at) | Q(created_at=at, pk__gt=holding)).count()
        page = page_holding(newer, COMMENTS_PER_PAGE)
    return latest_page(
        comments.select_related("author"),
        number=page,
        size=COMMENTS_PER_PAGE,
        newest_first=NEWEST_FIRST,
    )


def comment_history(*, comment: Comment) -> tuple[list[CommentRevision], bool]:
    """The comment's earlier texts, the latest first, at most REVISIONS_SHOWN; and whether there
    are older ones besides."""
    rows = list(comment.revisions.order_by("-created_at", "-id")[: REVISIONS_SHOWN + 1])
    return rows[:REVISIONS_SHOWN], len(rows) > REVISIONS_SHOWN


def amendments_page(*, proposal: Proposal, page: int = 1) -> LatestPage[Amendment]:
    """A page of the proposal's amendments, 1 being the latest, without their texts (their own
    pages show them, amendments.amendment_changes)."""
    return latest_page(
        Amendment.objects.filter(proposal=proposal)
        .select_related("author")
        .defer("text", "agreement_text"),
        number=page,
        size=AMENDMENTS_PER_PAGE,
        newest_first=NEWEST_FIRST,
    )


@dataclass(frozen=True)
class OutcomeRecord:
    """An outcome as this viewer may read it: every final position (with the version it was
    given on), and who gave none and who had not confirmed theirs, named as far as each lets
    the viewer see (core.visibility, through circles.selectors.circle_members)."""

    rows: list[dict[str, Any]]
    missing: list[str]
    unconfirmed: list[str]


def outcome_record(
    *, user: Any, outcome: Outcome, members: list[MemberRow] | None = None
) -> OutcomeRecord:
    """`members`: the circle's members with former ones (circles.selectors.circle_members with
    include_former), when the caller has read them already."""
    if members is None:
        members = circle_members(user=user, circle=outcome.proposal.circle, include_former=True)
    names = {r.membership.practitioner_id: r.name for r in members}
    labels = dict(StanceChoice.choices)

    def name(pid: int | None) -> str:
        return names.get(pid, str(A_FORMER_MEMBER))

    rows = [
        {
            **row,
            "name": name(row["practitioner_id"]),
            "stance_label": labels.get(row["stance"], row["stance"]),
            "confirmed": row.get("version") is None or row["version"] >= outcome.version,
        }
        for row in outcome.final_positions
    ]
    return OutcomeRecord(
        rows=rows,
        missing=[name(pid) for pid in outcome.missing],
        unconfirmed=[name(pid) for pid in outcome.unconfirmed],
    )


def outcome_rows(*, user: Any, outcome: Outcome) -> list[dict[str, Any]]:
    """Final positions with names as the viewer may see them; a deleted account is "a former member"."""
    return outcome_record(user=user, outcome=outcome).rows


# --- the proposals about agreements (agreements' pages read them: agreements.proposals) ------


def open_about(agreement: Agreement) -> Proposal | None:
    """The open proposal revising the agreement (one at a time: decisions.services.proposals)."""
    return agreement.proposals.filter(status=ProposalStatus.OPEN).select_related("circle").first()


def revisable(*, circle: Circle) -> list[tuple[Agreement, Proposal | None]]:
    """The circle's adopted agreements, each with the proposal now deciding about it, if any
    (an agreement is revised by one open proposal at a time)."""
    agreements = list(
        circle.agreements.filter(current_version__isnull=False)
        .select_related("current_version")
        .order_by("title")
    )
    open_ = {
        p.agreement_id: p
        for p in circle.proposals.filter(status=ProposalStatus.OPEN, agreement__isnull=False)
    }
    return [(a, open_.get(a.pk)) for a in agreements]


def ethics_drafts(*, circle: Circle) -> QuerySet[Proposal]:
    """Open proposals of the circle that adopt or revise an ethical statement."""
    return (
        Proposal.objects.filter(circle=circle, status=ProposalStatus.OPEN)
        .filter(
            Q(agreement__isnull=True, new_agreement_kind=AgreementKind.ETHICS)
            | Q(agreement__kind=AgreementKind.ETHICS)
        )
        .select_related("agreement")
        .order_by("-created_at")
    )


def proposal_in(slug: str, pk: int) -> Proposal:
    """The circle's proposal (by the circle's slug), or 404."""
    return get_object_or_404(
        Proposal.objects.select_related("circle__federation", "agreement"),
        pk=pk,
        circle__slug=slug,
    )
