"""The models of the floors above that core's rules read, looked up by label at call time.

Core is the bottom floor (docs/architecture.md): it imports no app above it. Yet the rules it
decides once for every app read two of their models: who counts as a member of which circle
(`circles.Membership`, for the audience and the two-factor rule in core.visibility) and how a
person is named (`accounts.Practitioner`, for the name rule in core.visibility and core.names).
So core asks Django's app registry for them by label when a rule runs, as
`django.contrib.auth.get_user_model` does for the user model, and nowhere else than here.

The models are typed `Any`: their types live in the apps above, which core may not import even
for type checking (the layers contract counts those imports too).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps


def practitioner_model() -> Any:
    """`accounts.Practitioner`: a person, with their name and who may see it."""
    return apps.get_model("accounts", "Practitioner")


def circle_model() -> Any:
    """`circles.Circle`: whether a circle asks for two-factor authentication, its name."""
    return apps.get_model("circles", "Circle")


def membership_model() -> Any:
    """`circles.Membership`: who belongs to which circle now (`objects.current()`)."""
    return apps.get_model("circles", "Membership")
