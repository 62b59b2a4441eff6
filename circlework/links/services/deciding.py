"""The validating circle decides by its own proposal whether it validates the asking circle's
process, and what the outcome does to the link (the pure rule: validation_rule.link_decision;
links.registrations hands it the outcome, through decisions.subjects).
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.covenant import federation_rules
from circlework.circles.models import Federation, Membership
from circlework.core.dates import add_months
from circlework.core.errors import Conflict, InvalidInput
from circlework.core.permissions import require
from circlework.decisions.models import Outcome, Proposal, ProposalStatus
from circlework.decisions.services import proposal_open

# The tasks call the use cases and the use cases queue the tasks: a module import on both sides
# (its names read at call time), so either may be imported first.
from circlework.links import tasks
from circlework.links.models import CircleLink, LinkCount, LinkStatus
from circlework.links.selectors import link_would_count
from circlework.links.services.common import (
    both_circles,
    cannot_validate_message,
    day_text,
    expired_conflict,
    federation_edges,
    lock_link,
    not_counting_text,
    possessive,
    readers_of,
    record,
    tell,
    triangle_message,
)
from circlework.links.services.lapsing import LAPSE_WARNING, lapse_moment
from circlework.links.services.status import circle_status_refresh
from circlework.links.validation_rule import DECIDABLE, Decided, link_decision, triangle_violations


def renewable(link: CircleLink, today: date | None = None) -> bool:
    """A live link may be renewed by a new decision from a month before it lapses."""
    today = today or timezone.localdate()
    return (
        link.status == LinkStatus.VALIDATED
        and link.lapses_on is not None
        and link.lapses_on - LAPSE_WARNING <= today < link.lapses_on
    )


def decision_title(link: CircleLink) -> str:
    name = possessive(link.asking_circle.name)
    if link.status == LinkStatus.VALIDATED:
        return _("Do we renew our validation of %(a)s process?") % {"a": name}
    return _("Do we validate %(a)s process?") % {"a": name}


def _decision_text(link: CircleLink) -> str:
    """The proposal's text: the request, and each meeting quoted, for the circle to decide on."""
    asking, validating = both_circles(link)
    rules = federation_rules(link.federation)
    lines = [
        _("%(a)s asked %(v)s for a validation link on %(d)s.")
        % {
            "a": asking.name,
            "v": validating.name,
            "d": day_text(timezone.localdate(link.requested_at)),
        }
    ]
    if link.message:
        lines += ["", _("Their message:"), ""]
        lines += ["> " + line for line in link.message.splitlines()]
    meetings = list(link.meetings.prefetch_related("attendees").order_by("met_on", "pk"))
    if meetings:
        lines += ["", _("We met them:"), ""]
    for meeting in meetings:
        members = {
            m.practitioner_id: m.circle_id
            for m in Membership.objects.filter(
                circle__in=[asking, validating], practitioner__in=meeting.attendees.all()
            )
        }
        # The proposal's text is stored once and kept: it counts who came, and the link's page
        # names them when read (the one name rule), so no name outlives its owner's choice.
        ours = sum(1 for p in meeting.attendees.all() if members.get(p.pk) == validating.pk)
        theirs = len(meeting.attendees.all()) - ours
        came = _("%(n)s of %(v)s and %(m)s of %(a)s (named on the link’s page)") % {
            "n": ours,
            "v": validating.name,
            "m": theirs,
            "a": asking.name,
        }
        lines.append(f"- **{day_text(meeting.met_on)}** — " + _("who came: %(w)s") % {"w": came})
        if meeting.notes:
            lines.append("")
            lines += ["  > " + line for line in meeting.notes.splitlines()]
            lines.append("")
    lines += [
        "",
        _(
            "If we agree, %(v)s validates %(a)s’s process for %(n)s months, and we write a "
            "public statement about it on [the link’s page](%(u)s)."
        )
        % {
            "v": validating.name,
            "a": asking.name,
            "n": rules.link_lapse_months,
            "u": link.get_absolute_url(),
        },
    ]
    return "\n".join(lines)


@transaction.atomic
def link_decision_open(
    *,
    actor: Practitioner,
    link: CircleLink,
    closes_at: datetime,
    process: str = "consent",
) -> Proposal:
    """A member of the validating circle opens the circle's proposal “Do we validate …?”.

    It follows the circle's own decision rule like any other proposal; when it closes,
    `link_decided` records the result on the link. Also renews a live link within a month of
    its lapsing.
    """
    require("links.open_decision", actor, link)
    locked = lock_link(link)
    if locked.is_stale():
        raise expired_conflict(locked)
    today = timezone.localdate()
    if locked.status == LinkStatus.REQUESTED:
        raise Conflict(
            _("Record your meeting with %(a)s first: the circle decides after meeting them.")
            % {"a": locked.asking_circle.name}
        )
    if locked.status == LinkStatus.VALIDATED and not renewable(locked, today):
        raise Conflict(
            _("This link is current until %(d)s; it can be renewed from a month before then.")
            % {"d": day_text(locked.lapses_on) if locked.lapses_on else "—"}
        )
    if locked.status not in (LinkStatus.MET, LinkStatus.VALIDATED):
        raise Conflict(
            _("This link is %(s)s: there is nothing to decide.")
            % {"s": locked.get_status_display().lower()}
        )
    if locked.decision is not None and locked.decision.status == ProposalStatus.OPEN:
        raise Conflict(_("The circle is already deciding on this link: see its proposal."))
    if (
        link_would_count(
            validating_circle=locked.validating_circle, asking_circle=locked.asking_circle
        )
        == LinkCount.NO
    ):
        raise Conflict(cannot_validate_message(locked.validating_circle))
    if (
        locked.status == LinkStatus.VALIDATED
        and locked.lapses_on is not None
        and closes_at >= lapse_moment(locked.lapses_on)
    ):
        msg = _(
            "A renewal is decided before the link lapses: choose a closing time before %(d)s."
        ) % {"d": day_text(locked.lapses_on)}
        raise InvalidInput(msg, fields={"closes_at": [msg]})
    proposal = proposal_open(
        actor=actor,
        circle=locked.validating_circle,
        title=decision_title(locked),
        text=_decision_text(locked),
        closes_at=closes_at,
        process=process,
    )
    locked.decision = proposal
    locked.save(update_fields=["decision", "updated_at"])
    asking, validating = both_circles(locked)
    summary = _("%(v)s is deciding whether it validates %(a)s") % {
        "v": validating.name,
        "a": asking.name,
    }
    record(
        actor=actor,
        verb="link.decision_opened",
        link=locked,
        summary=summary,
        circles=(validating,),
        data={"proposal": proposal.pk},
    )
    tell(
        [asking],
        title=summary,
        body=_("By its own proposal, closing by %(d)s.")
        % {"d": date_format(timezone.localtime(closes_at), "j F Y H:i")},
        url=locked.get_absolute_url(),
        exclude=[actor.pk],
    )
    link.refresh_from_db()
    return proposal


def link_decided(*, outcome: Outcome) -> CircleLink | None:
    """What an outcome does to the link it decided (links.registrations registers this with
    decisions.subjects; proposal closing calls it inside its transaction, for every outcome).

    If the proposal was a link's decision: passed → validated (or renewed) from today for the
    covenant's period, unless the federation's rules now forbid it (a closed triangle); not
    passed → declined. A renewal that passes after the link lapsed meanwhile validates it again.
    Which of these it is, is the pure rule `validation_rule.link_decision`; here the facts are
    gathered, the result written, both circles told and the asking circle's status refreshed.
    """
    proposal_id = outcome.proposal_id
    pk = CircleLink.objects.filter(decision_id=proposal_id).values_list("pk", flat=True).first()
    if pk is None:
        return None
    link = lock_link(CircleLink(pk=pk))
    if link.status not in DECIDABLE:
        return None  # cancelled or withdrawn meanwhile: nothing to record
    after_lapse = link.status == LinkStatus.LAPSED  # it lapsed while its renewal was decided
    passed = bool(outcome.passed)
    asking, validating = both_circles(link)
    federation = Federation.objects.select_for_update(no_key=True).get(pk=link.federation_id)
    rules = federation_rules(federation)
    now = timezone.now()
    today = timezone.localdate(now)
    names = {"v": validating.name, "a": asking.name}
    refused_by_rule = ""
    if passed and rules.no_closed_triangles:
        closers = triangle_violations(
            federation_edges(federation.pk, today=today, live_only=True, exclude=[link.pk]),
            (asking.pk, validating.pk),
        )
        if closers:
            refused_by_rule = triangle_message(
                asking, validating, closers, readers=readers_of(asking, validating)
            )
    # Whether this validation counts, decided now and kept (validation_rule.link_counts).
    counting = link_would_count(validating_circle=validating, asking_circle=asking, rules=rules)
    superseded: list[CircleLink] = []  # new requests the same way, made after the lapse
    validated_anew: CircleLink | None = None  # or a new link, already validated meanwhile
    if passed and not refused_by_rule and after_lapse:
        superseded = list(
            CircleLink.objects.open()
            .select_for_update(of=("self",), no_key=True)
            .filter(asking_circle=asking, validating_circle=validating)
            .exclude(pk=link.pk)
        )
        validated_anew = next((o for o in superseded if o.status == LinkStatus.VALIDATED), None)
        if validated_anew is not None:
            superseded = []
    decision = link_decision(
        status=link.status,
        passed=passed,
        refused_by_rule=bool(refused_by_rule),
        counting=counting,
        newer_link_validates=validated_anew is not None,
    )
    assert decision is not None  # the link's status is one a decision is awaited in (above)
    link.decided_at = now
    fields = ["decided_at", "updated_at"]
    lapsed_on = link.lapses_on
    way = decision.way
    if decision.validates:
        if after_lapse:
            # A new request the same way, made after the lapse, gives way to the renewal.
            for other in superseded:
                other.status = LinkStatus.CANCELLED
                other.ended_at = now
                other.save(update_fields=["status", "ended_at", "updated_at"])
            link.ended_at = None
            fields.append("ended_at")
        link.status = decision.status
        link.validated_on = today
        link.lapses_on = add_months(today, rules.link_lapse_months)
        link.lapse_warned_on = None
        fields += ["status", "validated_on", "lapses_on", "lapse_warned_on"]
    elif decision.ends:
        link.status = decision.status
        link.ended_at = now
        fields += ["status", "ended_at"]
    if decision.counts is not None:  # whether it counts, recorded as it validates
        link.counts = decision.counts
        fields.append("counts")
    if way is Decided.NEWER_LINK:
        assert validated_anew is not None
        summary = _("%(v)s did not renew its validation of %(a)s") % names
        body = _("%(v)s already validates %(a)s by a newer link, until %(d)s.") % {
            **names,
            "d": day_text(validated_anew.lapses_on) if validated_anew.lapses_on else "—",
        }
    elif decision.validates:
        summary = (
            _("%(v)s renewed its validation of %(a)s")
            if way is Decided.RENEWED
            else _("%(v)s validates %(a)s’s process")
        ) % names
        body = _("Until %(d)s. %(v)s writes a public statement about it on the link’s page.") % {
            "d": day_text(link.lapses_on) if link.lapses_on else "—",
            "v": validating.name,
        }
        if after_lapse:
            body = (
                _("The link had lapsed on %(d)s while %(v)s decided; it is current again.")
                % {"d": day_text(lapsed_on) if lapsed_on else "—", "v": validating.name}
                + " "
                + body
            )
        if link.counts == LinkCount.NO:
            body += " " + not_counting_text(link)
    elif way is Decided.STAYS_LAPSED:
        summary = _("%(v)s did not renew its validation of %(a)s") % names
        body = refused_by_rule or _(
            "The link lapsed on %(d)s and stays lapsed. %(a)s can ask for a new link."
        ) % {"d": day_text(lapsed_on) if lapsed_on else "—", "a": asking.name}
    elif way is Decided.STAYS_CURRENT:
        summary = _("%(v)s did not renew its validation of %(a)s") % names
        body = refused_by_rule or _("The link stays current until %(d)s, then lapses.") % {
            "d": day_text(link.lapses_on) if link.lapses_on else "—"
        }
    else:
        summary = _("%(v)s did not validate %(a)s’s process") % names
        body = refused_by_rule or _("%(a)s may ask again later, or ask another circle.") % names
    link.save(update_fields=fields)
    for other in superseded:
        record(
            actor=None,
            verb="link.cancelled",
            link=other,
            summary=_("%(a)s’s new request to %(v)s gave way to the renewed link") % names,
            circles=(asking, validating),
            data={"renewed": link.pk},
        )
    record(
        actor=None,
        verb=way.verb,
        link=link,
        summary=summary,
        circles=(validating, asking),
        data={
            "proposal": proposal_id,
            "passed": passed,
            "refused_by_rule": bool(refused_by_rule),
            "after_lapse": after_lapse,
            "counts": link.counts,
        },
    )
    tell(both_circles(link), title=summary, body=body, url=link.get_absolute_url())
    if link.status == LinkStatus.VALIDATED:
        tasks.schedule_lapse(link)
    circle_status_refresh(
        circle=asking,
        cause=_("%(v)s did not validate it") % names if link.status == LinkStatus.DECLINED else "",
    )
    return link
