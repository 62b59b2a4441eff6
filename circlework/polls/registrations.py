"""What polls registers with the floors below it. `PollsConfig.ready` calls `register`.

- Tabs (circles.tabs): a circle's polls.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from circlework.circles.tabs import Tab, register_circle_tab


def register() -> None:
    register_circle_tab(Tab("polls", 30, _("Polls"), "polls:poll_list"))
