"""Writes for agreements. A version becomes current only through an outcome (version_adopt).

The proposals that adopt, review or borrow an agreement are opened by decisions, the app above
(decisions/services/agreement_proposals.py); it calls down here for what belongs to the agreement.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.agreements.models import (
    AGREEMENT_LEVEL_WORDS,
    Agreement,
    AgreementKind,
    AgreementVersion,
    EthicsCirculation,
    EthicsComment,
    ProposedVisibility,
)
from circlework.agreements.proposals import AgreementProposal
from circlework.agreements.rules import (
    adopted_level,
    agreement_levels,
    default_level,
    may_change_to,
)
from circlework.circles.covenant import federation_memberships
from circlework.circles.models import Circle, Membership
from circlework.circles.selectors import current_members
from circlework.core import audit, names
from circlework.core.dates import add_months
from circlework.core.errors import Conflict, InvalidInput
from circlework.core.permissions import require
from circlework.core.services import validate
from circlework.core.visibility import Visibility
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import Notice, notify_each, notify_many


def version_adopt(*, outcome: Any) -> AgreementVersion:
    """Called inside proposal_close when a proposal that adopts an agreement passes.

    `outcome` is a decisions.Outcome (the app above, which calls this as the "agreement"
    subject of its outcomes, decisions/services/agreement_proposals.py): its proposal names the
    agreement, or the new one to create, and the text and parameters it adopts."""
    proposal = outcome.proposal
    if not outcome.passed:
        raise Conflict(_("Only an agreed proposal can adopt an agreement."))
    agreement = proposal.agreement
    if agreement is None:
        circle = proposal.circle
        chosen = ProposedVisibility.objects.filter(proposal=proposal).first()
        agreement = Agreement.objects.create(
            circle=circle,
            kind=proposal.new_agreement_kind,
            title=proposal.new_agreement_title,
            borrowed_from=proposal.borrowed_from,
            # As the circle chose with the proposal, or its own page's level; and if the circle
            # has closed its page since, no wider than it is now.
            visibility=adopted_level(
                proposal.new_agreement_kind,
                chosen.visibility if chosen is not None else default_level(circle.visibility),
                circle.visibility,
            ),
        )
        proposal.agreement = agreement
        proposal.save(update_fields=["agreement", "updated_at"])
    agreement = Agreement.objects.select_for_update(of=("self",), no_key=True).get(pk=agreement.pk)
    last = agreement.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = AgreementVersion.objects.create(
        agreement=agreement,
        number=last + 1,
        text=proposal.agreement_text,
        parameters=proposal.agreement_parameters,
        adopted_by=outcome,
        adopted_at=outcome.decided_at,
    )
    agreement.current_version = version
    agreement.review_due = add_months(timezone.localdate(), agreement.review_interval_months)
    agreement.review_notified_on = None
    agreement.save(
        update_fields=["current_version", "review_due", "review_notified_on", "updated_at"]
    )
    audit.record(
        actor=None,
        verb="agreement.version_adopted",
        target=version,
        circle=agreement.circle,
        summary=_("“%(t)s” version %(v)s adopted by decision")
        % {"t": agreement.title, "v": version.number},
    )
    return version


def level_check(circle: Circle, visibility: str, field: str) -> None:
    """An agreement is never read more widely than its circle's page."""
    if visibility not in agreement_levels(circle.visibility):
        raise InvalidInput(
            _("An agreement cannot be read more widely than its circle's page."),
            fields={
                field: [
                    _("Choose who reads it from: %(l)s.")
                    % {
                        "l": ", ".join(
                            str(AGREEMENT_LEVEL_WORDS[level]).lower()
                            for level in agreement_levels(circle.visibility)
                        )
                    }
                ]
            },
        )


def visibility_propose(*, proposal: AgreementProposal, visibility: str) -> ProposedVisibility:
    """Keep who will read the new agreement a proposal adopts, as the circle chose when
    proposing it (decisions' agreement_propose); applied by version_adopt."""
    return ProposedVisibility.objects.create(proposal_id=proposal.pk, visibility=visibility)


@transaction.atomic
def agreement_visibility_set(
    *, actor: Practitioner, agreement: Agreement, visibility: str
) -> Agreement:
    """A member changes who reads the circle's agreement, within its circle's own level.

    No decision is needed (as for publishing an ethical statement): any member may open or close
    it, and the change is kept in the circle's history for every member to see.
    """
    require("agreements.change_visibility", actor, agreement)
    agreement = (
        Agreement.objects.select_for_update(of=("self",), no_key=True)
        .select_related("circle")
        .get(pk=agreement.pk)
    )
    level_check(agreement.circle, visibility, "visibility")
    if not may_change_to(agreement.kind, agreement.visibility, visibility):
        # One way onto the public register, which tells the circle: publishing.
        raise InvalidInput(
            _("Publish the ethical statement on the public register instead."),
            fields={"visibility": [_("An ethical statement reaches the public by publishing.")]},
        )
    before = agreement.visibility
    if before == visibility:
        return agreement
    agreement.visibility = visibility
    agreement.save(update_fields=["visibility", "updated_at"])
    audit.record(
        actor=actor,
        verb="agreement.visibility_changed",
        target=agreement,
        circle=agreement.circle,
        summary=_("Changed who can read “%(t)s”: from %(a)s to %(b)s")
        % {
            "t": agreement.title,
            "a": str(AGREEMENT_LEVEL_WORDS.get(before, before)).lower(),
            "b": str(AGREEMENT_LEVEL_WORDS[visibility]).lower(),
        },
    )
    return agreement


# --- ethical statements: circulated to the federation, published on the public register -------


def _federation_members(circle: Circle) -> Any:
    """Who reads a circulation: the federation (its validated circles' members, as
    circles.covenant counts it) and the circle's own members."""
    return Practitioner.objects.filter(
        Q(pk__in=federation_memberships(circle.federation_id).values("practitioner_id"))
        | Q(pk__in=current_members(circle=circle).values("pk"))
    )


def _is_ethics_draft(proposal: AgreementProposal) -> bool:
    if proposal.agreement_id is not None:
        return proposal.agreement is not None and proposal.agreement.kind == AgreementKind.ETHICS
    return proposal.new_agreement_kind == AgreementKind.ETHICS


@transaction.atomic
def ethics_circulate(
    *,
    actor: Practitioner,
    agreement: Agreement | None = None,
    proposal: AgreementProposal | None = None,
) -> EthicsCirculation:
    """A member sends the circle's ethical statement round the federation: its adopted version
    (`agreement`), or a draft still being decided (`proposal`, an open proposal adopting or
    revising an ethical statement). Members of every circle are told and may comment."""
    if (agreement is None) == (proposal is None):
        raise InvalidInput(_("Circulate either an ethical statement or a draft of one."))
    circle = agreement.circle if agreement is not None else proposal.circle  # type: ignore[union-attr]
    require("agreements.circulate_ethics", actor, circle)
    version: AgreementVersion | None = None
    if agreement is not None:
        if agreement.kind != AgreementKind.ETHICS:
            raise InvalidInput(
                _("Only an ethical statement is circulated to the federation."),
                fields={"agreement": [_("This agreement is not an ethical statement.")]},
            )
        agreement = Agreement.objects.select_for_update(of=("self",), no_key=True).get(
            pk=agreement.pk
        )
        version = agreement.current_version
        if version is None:
            raise Conflict(
                _("It has no adopted version yet: circulate the draft being decided instead.")
            )
        title, text = agreement.title, version.text
        previous = EthicsCirculation.objects.filter(version=version)
    else:
        assert proposal is not None
        if not _is_ethics_draft(proposal):
            raise InvalidInput(
                _("Only a draft ethical statement is circulated to the federation."),
                fields={"proposal": [_("This proposal does not adopt an ethical statement.")]},
            )
        if not proposal.is_open:
            raise Conflict(_("The proposal is closed: circulate the adopted statement instead."))
        title = proposal.agreement.title if proposal.agreement else proposal.new_agreement_title
        text = proposal.agreement_text
        previous = EthicsCirculation.objects.filter(proposal_id=proposal.pk)
        agreement = proposal.agreement
    last = previous.order_by("-circulated_at", "-id").first()
    if last is not None and last.text == text:
        raise Conflict(
            _("This text was already circulated on %(d)s; circulate it again once it changes.")
            % {"d": f"{timezone.localtime(last.circulated_at):%d %B %Y}"}
        )
    circulation = EthicsCirculation(
        circle=circle,
        agreement=agreement,
        version=version,
        proposal_id=proposal.pk if proposal is not None else None,
        title=title,
        text=text,
        circulated_by=actor,
    )
    validate(circulation)
    circulation.save()
    if (
        agreement is not None
        and agreement.visibility == Visibility.CIRCLE
        and Visibility.FEDERATION in agreement_levels(circle.visibility)
    ):
        # Circulated means members of other circles may read it — but never more widely than
        # the circle's own page: a members-only circle's statement is read as circulated only.
        Agreement.objects.filter(pk=agreement.pk).update(visibility=Visibility.FEDERATION)
    what = _("draft ethical statement") if version is None else _("ethical statement")
    audit.record(
        actor=actor,
        verb="ethics.circulated",
        target=circulation,
        circle=circle,
        summary=_("Circulated the circle's %(w)s “%(t)s” to the federation")
        % {"w": what, "t": title},
    )
    own = set(
        Membership.objects.current()
        .filter(circle_id=circle.pk)
        .values_list("practitioner_id", flat=True)
    )
    body = _("Read it and, if you wish, comment: “%(t)s”.") % {"t": title}
    notices = []
    for member in _federation_members(circle).exclude(pk=actor.pk):
        # A circle whose page is for its members only is not named to the other circles.
        named = circle.visibility != Visibility.CIRCLE or member.pk in own
        said = _("%(c)s circulates its %(w)s") % {
            "c": circle.name if named else _("A circle"),
            "w": what,
        }
        notices.append(Notice(member, said, body))
    notify_each(
        notices,
        federation=circle.federation,
        kind=NotificationKind.ETHICS,
        url=circulation.get_absolute_url(),
    )
    return circulation


def _commenter_circle(actor: Practitioner, circulation: EthicsCirculation) -> Circle | None:
    mine = Circle.objects.filter(
        federation_id=circulation.circle.federation_id,
        memberships__practitioner=actor,
        memberships__left_at__isnull=True,
    )
    return mine.filter(pk=circulation.circle_id).first() or mine.order_by("name").first()


@transaction.atomic
def ethics_comment_add(
    *, actor: Practitioner, circulation: EthicsCirculation, text: str
) -> EthicsComment:
    """A member of any circle in the federation comments; the circle's members are told."""
    require("agreements.comment_ethics", actor, circulation)
    text = text.strip()
    if not text:
        raise InvalidInput(
            _("Write your comment."), fields={"text": [_("This field is required.")]}
        )
    author_circle = _commenter_circle(actor, circulation)
    comment = EthicsComment(
        circulation=circulation, author=actor, author_circle=author_circle, text=text
    )
    validate(comment)
    comment.save()
    circle = circulation.circle
    audit.record(
        actor=actor,
        verb="ethics.commented",
        target=comment,
        circle=circle,
        summary=_("Commented on the circulated ethical statement “%(t)s”")
        % {"t": circulation.title},
    )
    notify_many(
        current_members(circle=circle, exclude=[actor.pk]),
        circle=circle,
        kind=NotificationKind.ETHICS,
        # Named when read, as far as each member may see the commenter's name.
        title=names.text(
            _("%(p)s commented on %(c)s's ethical statement"),
            p=names.person(actor),
            c=circle.name,
        ),
        body=text[:300],
        url=circulation.get_absolute_url(),
    )
    return comment


@transaction.atomic
def ethics_publish(*, actor: Practitioner, agreement: Agreement) -> Agreement:
    """A member publishes the circle's adopted ethical statement on the public register.

    There is no central code of ethics: each circle publishes its own, as adopted by its own
    decision. Only an adopted statement (one with a current version) can be published.
    """
    require("agreements.publish_ethics", actor, agreement)
    agreement = (
        Agreement.objects.select_for_update(of=("self",), no_key=True)
        .select_related("circle", "current_version")
        .get(pk=agreement.pk)
    )
    if agreement.kind != AgreementKind.ETHICS:
        raise InvalidInput(
            _("Only an ethical statement is published on the register."),
            fields={"agreement": [_("This agreement is not an ethical statement.")]},
        )
    if agreement.current_version is None:
        raise Conflict(
            _("Only an adopted ethical statement can be published: adopt it by decision first.")
        )
    if agreement.visibility == Visibility.PUBLIC:
        raise Conflict(_("It is already on the public register."))
    if agreement.circle.visibility != Visibility.PUBLIC:
        raise Conflict(
            _("The public register names the circle: make the circle's page public first.")
        )
    agreement.visibility = Visibility.PUBLIC
    agreement.save(update_fields=["visibility", "updated_at"])
    audit.record(
        actor=actor,
        verb="ethics.published",
        target=agreement,
        circle=agreement.circle,
        summary=_("Published the ethical statement “%(t)s” (version %(v)s) on the public register")
        % {"t": agreement.title, "v": agreement.current_version.number},
    )
    notify_many(
        current_members(circle=agreement.circle, exclude=[actor.pk]),
        circle=agreement.circle,
        kind=NotificationKind.ETHICS,
        title=_("%(c)s's ethical statement is on the public register")
        % {"c": agreement.circle.name},
        body=names.text(_("Published by %(p)s."), p=names.person(actor)),
        url=agreement.get_absolute_url(),
    )
    return agreement
