"""What a practitioner did and gave in their circles, for "Download everything".

`selectors.practitioner_export` gives the account, profile and settings; `records` gives every
record that refers to the practitioner: proposals, positions, comments, amendments, polls and
poll answers, standing-by statements and concerns, links, mandates, elections, nominations, and
so on. `EXPORTED` names, for every reference to a practitioner (or their log-in) in the data
model, the export section that carries those records; `NOT_EXPORTED` names the few left out and
why. A test walks the models and fails on a reference in neither, so a new model that refers to
a practitioner cannot be forgotten.

Their own sensitive texts (reasons for withdrawing, concerns, personal messages) are exported
as they wrote them, decrypted. Other people appear by name only as far as the practitioner may
see that name (`core.visibility.names_for`), otherwise as "a member". The number of queries is
fixed, however many records there are: one per section, and one for the names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from circlework.accounts.models import Practitioner
from circlework.core.visibility import A_FORMER_MEMBER, audience_for, names_for

# "app_label.Model.field" of each reference to a practitioner or user -> export section.
EXPORTED: dict[str, str] = {
    "accounts.Practitioner.user": "profile",
    "account.EmailAddress.user": "email_addresses",
    "mfa.Authenticator.user": "second_factors",
    "accounts.Credential.practitioner": "credentials",
    "accounts.ApiToken.practitioner": "api_tokens",
    "circles.Circle.founded_by": "circles_founded",
    "circles.Membership.practitioner": "memberships",
    "circles.Invitation.invited_by": "invitations_sent",
    "circles.Invitation.responded_by": "invitations_answered",
    "notifications.Notification.recipient": "notifications",
    "notifications.NotificationPreference.practitioner": "notification_preferences",
    "core.AuditEvent.actor": "activity",
    "decisions.Proposal.author": "proposals",
    "decisions.Position.practitioner": "positions",
    "decisions.Amendment.author": "amendments",
    "decisions.Amendment.decided_by": "amendments_decided",
    "decisions.Comment.author": "comments",
    "decisions.FederationProposal.author": "federation_proposals",
    "decisions.CirclePosition.recorded_by": "circle_positions_recorded",
    "agreements.EthicsCirculation.circulated_by": "ethics_circulations",
    "agreements.EthicsComment.author": "ethics_comments",
    "polls.Poll.author": "polls",
    "polls.Ballot.practitioner": "poll_answers",
    "standing.StandingBy.by": "standing_by_given",
    "standing.StandingBy.for_practitioner": "standing_by_received",
    "standing.StandingConcern.raised_by": "concerns_raised",
    "standing.StandingConcern.responded_by": "concerns_responded",
    "links.CircleLink.requested_by": "links_requested",
    "links.CircleLink.withdrawn_by": "links_withdrawn",
    "links.LinkMeeting.recorded_by": "link_meetings_recorded",
    "links.LinkMeeting_attendees.practitioner": "link_meetings_attended",
    "mandates.Mandate.holder": "mandates",
    "elections.Election.opened_by": "elections_opened",
    "elections.Election.facilitator": "elections_facilitated",
    "elections.Election.proposed": "elections_proposed_as_candidate",
    "elections.Nomination.nominee": "nominations_received",
    "elections.Nomination.nominated_by": "nominations_made",
    "elections.ConsentResponse.voter": "consent_responses",
    "elections.Ballot.voter": "election_ballots",
    "elections.BallotCast.voter": "votes_cast",
}

# References left out of the export, and why.
NOT_EXPORTED: dict[str, str] = {
    "accounts.User_groups.user": (
        "Operators' Django groups (the admin site only); Circlework grants no powers through them."
    ),
    "accounts.User_user_permissions.user": (
        "Operators' Django permissions (the admin site only); Circlework grants none."
    ),
    "elections.ConsentResponse.candidate": (
        "Other electors' consents and objections to you as a candidate: their answers, not "
        "yours. The election's page shows them to those it shows them to."
    ),
}
# Secret election ballots carry no reference to their voter by design (elections.Ballot.voter
# is empty for them); `votes_cast` records that you voted, never how.


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _scope(record: Any) -> str:
    """The circle or federation a record belongs to, by name."""
    circle = getattr(record, "circle", None)
    if circle is not None:
        return str(circle.name)
    federation = getattr(record, "federation", None)
    return str(federation.name) if federation is not None else ""


def _answer(ballot: Any, labels: dict[int, str]) -> Any:
    """A poll answer with option labels in place of option ids."""
    choices = ballot.choices
    if isinstance(choices, dict):
        return {labels.get(int(k), str(k)): v for k, v in choices.items()}
    return [labels.get(int(o), str(o)) for o in choices or []]


def records(*, practitioner: Practitioner) -> dict[str, Any]:
    """Every record that refers to the practitioner, by section (see EXPORTED)."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    from circlework.agreements.models import EthicsCirculation, EthicsComment
    from circlework.circles.models import Circle, Invitation
    from circlework.decisions.models import (
        Amendment,
        CirclePosition,
        Comment,
        FederationProposal,
        Position,
        Proposal,
    )
    from circlework.elections.models import Ballot as ElectionBallot
    from circlework.elections.models import BallotCast, ConsentResponse, Election, Nomination
    from circlework.links.models import CircleLink, LinkMeeting
    from circlework.mandates.models import Mandate
    from circlework.polls.models import Ballot as PollBallot
    from circlework.polls.models import Poll
    from circlework.standing.models import StandingBy, StandingConcern

    p = practitioner
    user = p.user
    links = ("asking_circle", "validating_circle")
    election = ("election__circle", "election__federation")
    # Rows first (one query each), then everyone they name, named in one go.
    rows = {
        "email_addresses": list(EmailAddress.objects.filter(user=user).order_by("pk")),
        "second_factors": list(Authenticator.objects.filter(user=user).order_by("pk")),
        "circles_founded": list(Circle.objects.filter(founded_by=p).order_by("pk")),
        "invitations_answered": list(
            Invitation.objects.filter(responded_by=p).select_related("circle").order_by("pk")
        ),
        "proposals": list(Proposal.objects.filter(author=p).select_related("circle")),
        "positions": list(
            Position.objects.filter(practitioner=p)
            .select_related("proposal__circle")
            .order_by("created_at", "pk")
        ),
        "amendments": list(
            Amendment.objects.filter(author=p).select_related("proposal__circle").order_by("pk")
        ),
        "amendments_decided": list(
            Amendment.objects.filter(decided_by=p).select_related("proposal__circle").order_by("pk")
        ),
        "comments": list(
            Comment.objects.filter(author=p)
            .select_related("proposal__circle")
            .prefetch_related("revisions")
            .order_by("created_at", "pk")
        ),
        "federation_proposals": list(
            FederationProposal.objects.filter(author=p)
            .select_related("federation", "circle")
            .order_by("pk")
        ),
        "circle_positions_recorded": list(
            CirclePosition.objects.filter(recorded_by=p)
            .select_related("circle", "federation_proposal")
            .order_by("pk")
        ),
        "ethics_circulations": list(
            EthicsCirculation.objects.filter(circulated_by=p)
            .select_related("circle")
            .order_by("pk")
        ),
        "ethics_comments": list(
            EthicsComment.objects.filter(author=p)
            .select_related("circulation__circle")
            .order_by("pk")
        ),
        "polls": list(Poll.objects.filter(author=p).select_related("circle").order_by("pk")),
        "poll_answers": list(
            PollBallot.objects.filter(practitioner=p)
            .select_related("poll__circle")
            .prefetch_related("poll__options")
            .order_by("pk")
        ),
        "standing_by_given": list(
            StandingBy.objects.filter(by=p).select_related("circle").order_by("pk")
        ),
        "standing_by_received": list(
            StandingBy.objects.filter(for_practitioner=p).select_related("circle").order_by("pk")
        ),
        "concerns_raised": list(
            StandingConcern.objects.filter(raised_by=p).select_related("circle").order_by("pk")
        ),
        "concerns_responded": list(
            StandingConcern.objects.filter(responded_by=p).select_related("circle").order_by("pk")
        ),
        "links_requested": list(
            CircleLink.objects.filter(requested_by=p).select_related(*links).order_by("pk")
        ),
        "links_withdrawn": list(
            CircleLink.objects.filter(withdrawn_by=p).select_related(*links).order_by("pk")
        ),
        "link_meetings_recorded": list(
            LinkMeeting.objects.filter(recorded_by=p)
            .select_related(*(f"link__{f}" for f in links))
            .order_by("pk")
        ),
        "link_meetings_attended": list(
            LinkMeeting.objects.filter(attendees=p)
            .select_related(*(f"link__{f}" for f in links))
            .order_by("pk")
        ),
        "mandates": list(
            Mandate.objects.filter(holder=p)
            .select_related("circle", "federation")
            .prefetch_related("notices")
            .order_by("pk")
        ),
        "elections_opened": list(
            Election.objects.filter(opened_by=p)
            .select_related("circle", "federation")
            .order_by("pk")
        ),
        "elections_facilitated": list(
            Election.objects.filter(facilitator=p)
            .select_related("circle", "federation")
            .order_by("pk")
        ),
        "elections_proposed_as_candidate": list(
            Election.objects.filter(proposed=p)
            .select_related("circle", "federation")
            .order_by("pk")
        ),
        "nominations_received": list(
            Nomination.objects.filter(nominee=p).select_related(*election).order_by("pk")
        ),
        "nominations_made": list(
            Nomination.objects.filter(nominated_by=p).select_related(*election).order_by("pk")
        ),
        "consent_responses": list(
            ConsentResponse.objects.filter(voter=p).select_related(*election).order_by("pk")
        ),
        "election_ballots": list(
            ElectionBallot.objects.filter(voter=p).select_related(*election).order_by("pk")
        ),
        "votes_cast": list(
            BallotCast.objects.filter(voter=p).select_related(*election).order_by("pk")
        ),
    }
    named: set[int] = set()
    for s in rows["standing_by_given"]:
        named.add(s.for_practitioner_id)
    for s in rows["standing_by_received"]:
        named.add(s.by_id)
    for c in rows["concerns_raised"]:
        named.add(c.responded_by_id)
    for n in rows["nominations_received"]:
        named.add(n.nominated_by_id)
    for n in rows["nominations_made"]:
        named.add(n.nominee_id)
    for r in rows["consent_responses"]:
        named.add(r.candidate_id)
    for b in rows["election_ballots"]:
        named.update(int(c) for c in b.choices or [])
    named.discard(None)  # type: ignore[arg-type]
    shown = names_for(audience_for(user), sorted(named))

    def name(pk: int | None) -> str | None:
        return None if pk is None else shown.get(pk, str(A_FORMER_MEMBER))

    def each(section: str, build: Callable[[Any], dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"id": _id(r), **build(r)} for r in rows[section]]

    def on_election(e: Any) -> dict[str, Any]:
        return {"election": e.role, "in": _scope(e)}

    out: dict[str, Any] = {
        "email_addresses": each(
            "email_addresses",
            lambda e: {"email": e.email, "verified": e.verified, "primary": e.primary},
        ),
        # What kind of second factor and when it was used; never its secret.
        "second_factors": each(
            "second_factors",
            lambda a: {
                "type": a.type,
                "created_at": _when(a.created_at),
                "last_used_at": _when(a.last_used_at),
            },
        ),
        "circles_founded": each(
            "circles_founded", lambda c: {"circle": c.name, "created_at": _when(c.created_at)}
        ),
        "invitations_answered": each(
            "invitations_answered",
            lambda i: {
                "circle": i.circle.name,
                "status": i.status,
                "responded_at": _when(i.responded_at),
            },
        ),
        "proposals": each(
            "proposals",
            lambda x: {
                "circle": x.circle.name,
                "title": x.title,
                "text": x.text,
                "process": x.process,
                "status": x.status,
                "version": x.version,
                "created_at": _when(x.created_at),
                "closes_at": _when(x.closes_at),
            },
        ),
        "positions": each(
            "positions",
            lambda x: {
                "circle": x.proposal.circle.name,
                "proposal": x.proposal.title,
                "stance": x.stance,
                "reason": x.reason,
                "version": x.version,
                "round": x.round,
                "current": x.is_current,
                "created_at": _when(x.created_at),
            },
        ),
        "amendments": each(
            "amendments",
            lambda a: {
                "circle": a.proposal.circle.name,
                "proposal": a.proposal.title,
                "text": a.text,
                "agreement_text": a.agreement_text,
                "reason": a.reason,
                "status": a.status,
                "response": a.response,
                "created_at": _when(a.created_at),
            },
        ),
        "amendments_decided": each(
            "amendments_decided",
            lambda a: {
                "circle": a.proposal.circle.name,
                "proposal": a.proposal.title,
                "status": a.status,
                "response": a.response,
                "decided_at": _when(a.decided_at),
            },
        ),
        "comments": each(
            "comments",
            lambda c: {
                "circle": c.proposal.circle.name,
                "proposal": c.proposal.title,
                "quote": c.quote,
                "text": c.text,
                "earlier_texts": [r.text for r in c.revisions.all()],
                "created_at": _when(c.created_at),
                "edited_at": _when(c.edited_at),
            },
        ),
        "federation_proposals": each(
            "federation_proposals",
            lambda f: {
                "federation": f.federation.name,
                "raised_by_circle": f.circle.name if f.circle else None,
                "title": f.title,
                "text": f.text,
                "status": f.status,
                "created_at": _when(f.created_at),
            },
        ),
        "circle_positions_recorded": each(
            "circle_positions_recorded",
            lambda c: {
                "circle": c.circle.name,
                "federation_proposal": c.federation_proposal.title,
                "stance": c.stance,
                "reason": c.reason,
                "dissent": c.dissent,
                "created_at": _when(c.created_at),
            },
        ),
        "ethics_circulations": each(
            "ethics_circulations",
            lambda c: {
                "circle": c.circle.name,
                "title": c.title,
                "circulated_at": _when(c.circulated_at),
            },
        ),
        "ethics_comments": each(
            "ethics_comments",
            lambda c: {
                "on": f"{c.circulation.circle.name}: {c.circulation.title}",
                "text": c.text,
                "created_at": _when(c.created_at),
            },
        ),
        "polls": each(
            "polls",
            lambda x: {
                "circle": x.circle.name,
                "question": x.title,
                "details": x.details,
                "kind": x.kind,
                "anonymous": x.anonymous,
                "status": x.status,
                "created_at": _when(x.created_at),
            },
        ),
        "poll_answers": each(
            "poll_answers",
            lambda b: {
                "circle": b.poll.circle.name,
                "poll": b.poll.title,
                "anonymous": b.poll.anonymous,
                "answer": _answer(b, {o.pk: o.text for o in b.poll.options.all()}),
                "created_at": _when(b.created_at),
                "updated_at": _when(b.updated_at),
            },
        ),
        "standing_by_given": each(
            "standing_by_given",
            lambda s: {
                "circle": s.circle.name,
                "colleague": name(s.for_practitioner_id),
                "basis": s.basis,
                "stated_at": _when(s.stated_at),
                "lapses_on": _when(s.lapses_on),
                "withdrawn_at": _when(s.withdrawn_at),
                "withdrawal_reason": s.withdrawal_reason,  # decrypted: your own words
            },
        ),
        # The reasons a colleague gave for withdrawing are theirs; you see that they withdrew.
        "standing_by_received": each(
            "standing_by_received",
            lambda s: {
                "circle": s.circle.name,
                "by": name(s.by_id),
                "basis": s.basis,
                "stated_at": _when(s.stated_at),
                "lapses_on": _when(s.lapses_on),
                "withdrawn_at": _when(s.withdrawn_at),
            },
        ),
        "concerns_raised": each(
            "concerns_raised",
            lambda c: {
                "circle": c.circle.name,
                "reason": c.reason,
                "status": c.status,
                "response": c.response,
                "responded_by": name(c.responded_by_id),
                "created_at": _when(c.created_at),
            },
        ),
        "concerns_responded": each(
            "concerns_responded",
            lambda c: {
                "circle": c.circle.name,
                "response": c.response,
                "status": c.status,
                "responded_at": _when(c.responded_at),
            },
        ),
        "links_requested": each(
            "links_requested",
            lambda k: {
                "asking_circle": k.asking_circle.name,
                "validating_circle": k.validating_circle.name,
                "message": k.message,
                "status": k.status,
                "requested_at": _when(k.requested_at),
            },
        ),
        "links_withdrawn": each(
            "links_withdrawn",
            lambda k: {
                "asking_circle": k.asking_circle.name,
                "validating_circle": k.validating_circle.name,
                "withdrawal_reason": k.withdrawal_reason,
                "ended_at": _when(k.ended_at),
            },
        ),
        "link_meetings_recorded": each(
            "link_meetings_recorded",
            lambda m: {
                "asking_circle": m.link.asking_circle.name,
                "validating_circle": m.link.validating_circle.name,
                "met_on": _when(m.met_on),
                "notes": m.notes,
            },
        ),
        "link_meetings_attended": each(
            "link_meetings_attended",
            lambda m: {
                "asking_circle": m.link.asking_circle.name,
                "validating_circle": m.link.validating_circle.name,
                "met_on": _when(m.met_on),
            },
        ),
        "mandates": each(
            "mandates",
            lambda m: {
                "role": m.role,
                "in": _scope(m),
                "starts_on": _when(m.starts_on),
                "ends_on": _when(m.ends_on),
                "review_on": _when(m.review_on),
                "handover_plan": m.handover_plan,
                "ended_early_at": _when(m.ended_early_at),
                "end_reason": m.end_reason,
                "notices_sent": [
                    {"title": n.title, "text": n.text, "sent_at": _when(n.created_at)}
                    for n in m.notices.all()
                ],
            },
        ),
        **{
            section: each(
                section,
                lambda e: {
                    "role": e.role,
                    "in": _scope(e),
                    "status": e.status,
                    "created_at": _when(e.created_at),
                },
            )
            for section in (
                "elections_opened",
                "elections_facilitated",
                "elections_proposed_as_candidate",
            )
        },
        "nominations_received": each(
            "nominations_received",
            lambda n: {
                **on_election(n.election),
                "nominated_by": name(n.nominated_by_id),
                "reason": n.reason,
                "accepted": n.accepted,
                "current": n.is_current,
                "created_at": _when(n.created_at),
            },
        ),
        "nominations_made": each(
            "nominations_made",
            lambda n: {
                **on_election(n.election),
                "nominee": name(n.nominee_id),
                "reason": n.reason,
                "accepted": n.accepted,
                "current": n.is_current,
                "created_at": _when(n.created_at),
            },
        ),
        "consent_responses": each(
            "consent_responses",
            lambda r: {
                **on_election(r.election),
                "candidate": name(r.candidate_id),
                "stance": r.stance,
                "reason": r.reason,
                "current": r.is_current,
                "created_at": _when(r.created_at),
            },
        ),
        # Only ballots of elections that were not secret name their voter.
        "election_ballots": each(
            "election_ballots",
            lambda b: {
                **on_election(b.election),
                "choices": [name(int(c)) for c in b.choices or []],
            },
        ),
        "votes_cast": each(
            "votes_cast",
            lambda b: {**on_election(b.election), "cast_at": _when(b.cast_at)},
        ),
    }
    return out


def _id(record: Any) -> Any:
    return str(record.pk) if not isinstance(record.pk, int) else record.pk


def sections() -> Iterable[str]:
    """Every section the export has for the references in EXPORTED."""
    return sorted(set(EXPORTED.values()))
