"""A circle's name as a viewer may see it.

Whether a viewer may see a circle is decided by `circles.rules.can_view_circle` (its page's
visibility, through core.visibility); the listing of circles a viewer may see named is
`circles.selectors.circles_visible_to`. Where a record the viewer may read belongs to, or mentions,
a circle they may not see — a federation proposal raised by a members-only circle, a borrowing,
a circulated ethical statement — the circle is "a circle", in plain words, never its name.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from circlework.circles.rules import can_view_circle


def a_circle() -> str:
    return _("a circle")


def may_name_circle(user: Any, circle: Any) -> bool:
    return circle is not None and bool(can_view_circle(user, circle))


def circle_name_for(user: Any, circle: Any) -> str:
    """The circle's name if this viewer may see the circle, otherwise "a circle"."""
    return str(circle.name) if may_name_circle(user, circle) else a_circle()
