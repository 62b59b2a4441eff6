"""Who may do what with standing-by statements and concerns: members of the circle only."""

from __future__ import annotations

from typing import Any

import rules

from circlework.circles.rules import is_circle_member


def _practitioner_id(user: Any) -> int | None:
    return getattr(getattr(user, "practitioner", None), "pk", None)


@rules.predicate
def is_member_of_statement_circle(user: Any, statement: Any) -> bool:
    return statement is not None and bool(is_circle_member(user, statement.circle))


@rules.predicate
def is_statement_author(user: Any, statement: Any) -> bool:
    return bool(
        user.is_authenticated
        and statement is not None
        and statement.by_id == _practitioner_id(user)
    )


@rules.predicate
def is_member_of_concern_circle(user: Any, concern: Any) -> bool:
    return concern is not None and bool(is_circle_member(user, concern.circle))


@rules.predicate
def raised_the_concern(user: Any, concern: Any) -> bool:
    return bool(
        user.is_authenticated
        and concern is not None
        and concern.raised_by_id is not None
        and concern.raised_by_id == _practitioner_id(user)
    )


rules.add_perm("standing.view_standing", is_circle_member)
rules.add_perm("standing.stand_by", is_circle_member)
rules.add_perm("standing.withdraw", is_statement_author & is_member_of_statement_circle)
rules.add_perm("standing.view_concern", is_member_of_concern_circle)
rules.add_perm("standing.respond_concern", is_member_of_concern_circle & ~raised_the_concern)
