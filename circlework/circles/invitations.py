"""What an invitation tells its invitee: where its link goes, and what a circle that asks for
two-factor authentication asks of them first. Shared by the services (which refuse an accept
without it) and the e-mail task (which says it), so neither has to import the other."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _lazy

TWO_FACTOR_INVITATION_NOTE = _lazy(
    "This circle requires two-factor authentication of its members: before you accept, set up "
    "an authenticator app for your Circlework account (Account → Two-factor authentication)."
)


def invitation_link(secret: str) -> str:
    return reverse("circles:invitation_respond", kwargs={"secret": secret})
