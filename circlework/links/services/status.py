"""A circle's status in its federation (member or forming), kept in step with its live links and
members after every link change and every membership change (links.registrations).
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle
from circlework.core import audit
from circlework.links.selectors import LinkTally, link_tally
from circlework.links.services.common import tell
from circlework.notifications.models import NotificationKind


def _status_change_text(circle: Circle, tally: LinkTally, cause: str) -> tuple[str, str]:
    names = {"c": circle.name, "f": circle.federation.name}
    if tally.validated:
        title = _("%(c)s is now a member circle of %(f)s") % names
        body = _(
            "Validated by %(n)s current links (the covenant asks %(r)s), with %(m)s members."
        ) % {
            "n": tally.live_links,
            "r": tally.links_required,
            "m": tally.members,
        }
        return title, body
    shortfalls = []
    if tally.links_missing:
        shortfalls.append(
            _("it has %(h)s of the %(n)s links the covenant asks")
            % {"h": tally.live_links, "n": tally.links_required}
        )
    if tally.members_missing:
        shortfalls.append(
            _("it has %(h)s of the %(n)s members the covenant asks")
            % {"h": tally.members, "n": tally.min_circle_size}
        )
    reasons = _(" and ").join(shortfalls)
    if cause:
        title = _("%(c)s is forming again: %(why)s and %(r)s") % {
            **names,
            "why": cause,
            "r": reasons,
        }
    else:
        title = _("%(c)s is forming again: %(r)s") % {**names, "r": reasons}
    body = _(
        "The public register shows it as forming until it is validated again. Ask another "
        "circle for a link on the circle’s links page."
    )
    return title, body


@transaction.atomic
def circle_status_refresh(
    *, circle: Circle, actor: Practitioner | None = None, cause: str = ""
) -> bool:
    """Set the circle's status from its live links and members; True if it changed.

    A circle is a *member* (validated) with at least the covenant's number of live links where
    it is the asking circle and at least the covenant's minimum of current members; otherwise it
    is *forming*. On a change every member is told, and the change is in the circle's history.
    """
    locked = (
        Circle.objects.select_for_update(of=("self",), no_key=True)
        .select_related("federation")
        .get(pk=circle.pk)
    )
    tally = link_tally(locked)
    status = tally.status  # the one rule, also read by every page that shows the status
    if locked.status == status:
        return False
    before = locked.status
    locked.status = status
    locked.status_changed_at = timezone.now()
    locked.save(update_fields=["status", "status_changed_at", "updated_at"])
    circle.status, circle.status_changed_at = locked.status, locked.status_changed_at
    title, body = _status_change_text(locked, tally, cause)
    audit.record(
        actor=actor,
        verb="circle.status_changed",
        target=locked,
        circle=locked,
        summary=title,
        data={
            "from": before,
            "to": status,
            "live_links": tally.live_links,
            "links_required": tally.links_required,
            "members": tally.members,
            "min_circle_size": tally.min_circle_size,
        },
    )
    tell(
        [locked],
        title=title,
        body=body,
        url=reverse("links:circle_links", kwargs={"slug": locked.slug}),
        kind=NotificationKind.CIRCLE_STATUS,
    )
    return True
