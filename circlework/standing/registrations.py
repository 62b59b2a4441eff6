"""What standing registers with the floors below it. `StandingConfig.ready` calls `register`.

- A profile (accounts.profile_parts): in each circle its viewer may see, how many colleagues
  stand by the practitioner (`standing`: counts only, never reasons).
- A circle's overview (circles.page_parts): whether every member is stood by (`circle_full`).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from circlework.accounts.models import Practitioner
from circlework.accounts.profile_parts import ProfilePart
from circlework.accounts.profile_parts import register_part as register_profile_part
from circlework.circles.models import Circle
from circlework.circles.page_parts import CirclePagePart
from circlework.circles.page_parts import register_part as register_circle_page_part
from circlework.circles.tabs import Tab, register_circle_tab
from circlework.standing.selectors import circle_is_full, profile_standing


def standing_on_profile(viewer: Any, practitioner: Practitioner) -> dict[str, Any]:
    return {"standing": profile_standing(user=viewer, practitioner=practitioner)}


def fullness_on_circle_page(viewer: Any, circle: Circle) -> dict[str, Any]:
    return {"circle_full": circle_is_full(circle)}


def register() -> None:
    register_circle_tab(Tab("standing", 40, _("Standing by"), "standing:standing_page"))
    register_profile_part(ProfilePart(key="standing", context=standing_on_profile))
    register_circle_page_part(CirclePagePart(key="standing", context=fullness_on_circle_page))
