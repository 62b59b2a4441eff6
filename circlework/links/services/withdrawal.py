"""Either circle ends a live link, with reasons for the two circles only."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.core.errors import Conflict, InvalidInput, NotAllowed
from circlework.core.permissions import require
from circlework.core.services import validate
from circlework.links.models import CircleLink, LinkStatus
from circlework.links.rules import is_asking_member, is_validating_member
from circlework.links.services.common import both_circles, lock_link, record, tell
from circlework.links.services.status import circle_status_refresh


@transaction.atomic
def link_withdraw(*, actor: Practitioner, link: CircleLink, reason: str) -> CircleLink:
    """Either circle ends a live link, with reasons for the two circles only: the validating
    circle withdraws its validation, or the asking circle ends the link it asked for. A member
    of both circles ends it for the validating circle."""
    require("links.withdraw", actor, link)
    reason = (reason or "").strip()
    if not reason:
        msg = _("Give the circle's reasons: the members of both circles read them.")
        raise InvalidInput(msg, fields={"reason": [msg]})
    locked = lock_link(link)
    if locked.status != LinkStatus.VALIDATED:
        raise Conflict(
            _("Only a validated link can be ended; this one is %(s)s.")
            % {"s": LinkStatus(locked.shown_status()).label.lower()}
        )
    asking, validating = both_circles(locked)
    # For whom the member acts is the rules' answer (the session's audience: a two-factor
    # circle only after the second factor), not the membership rows alone.
    by_validating = is_validating_member(actor.user, locked)
    if not by_validating and not is_asking_member(actor.user, locked):
        raise NotAllowed(_("Only a current member of one of the two circles can end the link."))
    by = validating if by_validating else asking
    locked.status = LinkStatus.WITHDRAWN
    locked.ended_at = timezone.now()
    locked.withdrawn_by = actor
    locked.withdrawn_by_circle = by
    locked.withdrawal_reason = reason
    validate(locked, exclude=["counterpart", "decision"])
    locked.save(
        update_fields=[
            "status",
            "ended_at",
            "withdrawn_by",
            "withdrawn_by_circle",
            "withdrawal_reason",
            "updated_at",
        ]
    )
    words = {"v": validating.name, "a": asking.name}
    summary = (
        _("%(v)s withdrew its validation of %(a)s") % words
        if by_validating
        else _("%(a)s ended its link with %(v)s: %(v)s no longer validates it") % words
    )
    record(
        actor=actor,
        verb="link.withdrawn",
        link=locked,
        summary=summary,
        circles=both_circles(locked),
        data={"by_circle": by.pk, "by": "validating" if by_validating else "asking"},
    )
    tell(
        both_circles(locked),
        title=summary,
        body=_("The reasons are on the link’s page, for the members of both circles."),
        url=locked.get_absolute_url(),
        exclude=[actor.pk],
    )
    circle_status_refresh(
        circle=asking,
        actor=actor,
        cause=_("a link was withdrawn") if by_validating else _("it ended a link"),
    )
    link.refresh_from_db()
    return locked
