"""The validating circle's public statement about the asking circle's process."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.core.errors import Conflict, InvalidInput
from circlework.core.permissions import require
from circlework.core.services import validate
from circlework.links.models import CircleLink, LinkStatus
from circlework.links.services.common import both_circles, lock_link, record, tell


@transaction.atomic
def link_statement_set(*, actor: Practitioner, link: CircleLink, statement: str) -> CircleLink:
    """The validating circle's public statement about the asking circle's process."""
    require("links.set_statement", actor, link)
    locked = lock_link(link)
    if locked.status != LinkStatus.VALIDATED:
        raise Conflict(_("The statement is written once the circle has validated the link."))
    statement = (statement or "").strip()
    if not statement:
        msg = _("Write the statement: what your circle says, publicly, about their process.")
        raise InvalidInput(msg, fields={"statement": [msg]})
    if statement == locked.statement:
        return locked
    first = not locked.statement
    locked.statement = statement
    validate(locked, exclude=["counterpart", "decision"])
    locked.save(update_fields=["statement", "updated_at"])
    asking, validating = both_circles(locked)
    summary = (
        _("%(v)s wrote its statement about %(a)s")
        if first
        else _("%(v)s revised its statement about %(a)s")
    ) % {"v": validating.name, "a": asking.name}
    record(
        actor=actor, verb="link.statement_set", link=locked, summary=summary, circles=(validating,)
    )
    tell([asking], title=summary, url=locked.get_absolute_url())
    link.refresh_from_db()
    return locked
