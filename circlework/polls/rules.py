"""Who may do what with polls: members of the poll's circle answer; its author closes early."""

from __future__ import annotations

from typing import Any

import rules

from circlework.circles.rules import is_circle_member


@rules.predicate
def is_member_of_poll_circle(user: Any, poll: Any) -> bool:
    return poll is not None and bool(is_circle_member(user, poll.circle))


@rules.predicate
def is_poll_author(user: Any, poll: Any) -> bool:
    return bool(
        user.is_authenticated
        and poll is not None
        and poll.author_id is not None
        and poll.author_id == getattr(getattr(user, "practitioner", None), "pk", None)
    )


rules.add_perm("polls.view_polls", is_circle_member)
rules.add_perm("polls.open_poll", is_circle_member)
rules.add_perm("polls.view_poll", is_member_of_poll_circle)
rules.add_perm("polls.answer", is_member_of_poll_circle)
rules.add_perm("polls.close_poll", is_poll_author & is_member_of_poll_circle)
