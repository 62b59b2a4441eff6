"""What the election use cases share: the lock on the election row, telling the people
concerned, the audit record, the texts, and who may facilitate.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.roles import Role
from circlework.core import audit, deadlines, names
from circlework.core.errors import InvalidInput, NotAllowed
from circlework.core.permissions import allowed

# The tasks call the use cases and the use cases queue the tasks: a module import on both sides
# (its names read at call time), so either may be imported first.
from circlework.elections import selectors, tasks
from circlework.elections.models import Election
from circlework.mandates.selectors import lapsed_mandate
from circlework.mandates.services import lapsed_message, role_for
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import notify_many

FACILITATE = "elections.facilitate"


def lock_election(election: Election) -> Election:
    return deadlines.lock(Election, election.pk, "circle", "circle__federation", "federation")


def when_text(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%d %B %Y, %H:%M}"


def day_text(d: date) -> str:
    return f"{d:%d %B %Y}"


def election_role(election: Election) -> Role:
    return role_for(election.role, **selectors.scope_kwargs(election))


def record(
    election: Election,
    *,
    actor: Practitioner | None,
    verb: str,
    summary: str,
    data: dict[str, Any] | None = None,
    target: Any = None,
) -> None:
    audit.record(
        actor=actor,
        verb=verb,
        target=target if target is not None else election,
        circle=election.circle,
        federation=selectors.federation_of(election),
        summary=summary,
        data=data,
    )


def tell(
    election: Election,
    people: Iterable[Practitioner],
    *,
    title: str,
    body: str = "",
    exclude: int | None = None,
) -> None:
    notify_many(
        (person for person in people if person.pk != exclude),
        federation=election.federation,
        circle=election.circle,
        kind=NotificationKind.ELECTION,
        title=title,
        body=body,
        url=election.get_absolute_url(),
    )


def title(election: Election, text: str) -> str:
    return names.text(
        _("%(role)s in %(scope)s: %(text)s"),
        role=selectors.role_name(election),
        scope=selectors.scope_name(election),
        text=text,  # a stored text (names.text) stays one; any other string is escaped
    )


def schedule(election: Election) -> None:
    tasks.schedule_for(election)


def field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, fields={field: [message]})


def require_facilitator(*, actor: Practitioner, election: Election) -> None:
    """Facilitating is asked at each act, not fixed when the election opened: a live mandate
    granting "elections.facilitate" in the election's scope, or, while no one holds one there,
    having opened the election. A facilitator whose mandate has ended (or who resigned) is told
    so, with the date; nothing is changed."""
    if allowed(FACILITATE, actor.user, election):
        return
    if not allowed("elections.view_election", actor.user, election):
        raise NotAllowed()
    lapsed = lapsed_mandate(actor, FACILITATE, **selectors.scope_kwargs(election))
    if lapsed is not None:
        raise NotAllowed(lapsed_message(lapsed))
    raise NotAllowed(
        _(
            "Only the facilitator may do this: whoever holds a mandate to facilitate elections "
            "here, or, while no one does, the member who opened the election."
        )
    )
