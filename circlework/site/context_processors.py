from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from circlework.notifications.selectors import unread_count


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Unread count for the header; one cheap query for signed-in users only."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(user, "practitioner"):
        return {"unread_notifications": 0}
    return {"unread_notifications": unread_count(practitioner=user.practitioner)}
