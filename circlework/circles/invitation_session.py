"""The invitation a browser came with, kept in its session through sign-up and verification.

Opening the e-mailed link proves the browser held the secret; from then on the session keeps a
reference to the invitation (its id, never the secret), so that the sign-up form can fill in
the address, and the newcomer lands on the page to accept once verified and signed in, without
the secret being copied into any other address (addresses end up in logs). Signing in keeps the
session's data; signing out forgets it.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from circlework.circles.models import Invitation
from circlework.core.permissions import allowed

SESSION_KEY = "circlework_invitation"


def remember(request: HttpRequest, invitation: Invitation) -> None:
    if request.session.get(SESSION_KEY) != invitation.pk:
        request.session[SESSION_KEY] = invitation.pk


def forget(request: HttpRequest) -> None:
    if SESSION_KEY in request.session:
        del request.session[SESSION_KEY]


def remembered(request: HttpRequest | None) -> Invitation | None:
    """The invitation this session came with, whatever became of it since (None if none)."""
    session = getattr(request, "session", None)
    pk = session.get(SESSION_KEY) if session is not None else None
    if not isinstance(pk, int):
        return None
    return (
        Invitation.objects.select_related("circle", "circle__federation", "invited_by")
        .filter(pk=pk)
        .first()
    )


def waiting_address(request: HttpRequest | None) -> str:
    """The address an open invitation of this session was sent to ('' if none): the sign-up
    form fills it in."""
    invitation = remembered(request)
    return invitation.email if invitation is not None and invitation.is_open else ""


def waiting_page(request: HttpRequest) -> str | None:
    """Where to go after signing up or in: the page to answer the session's open invitation,
    if the one signed in may answer it (circles.answer_invitation), else None."""
    invitation = remembered(request)
    if invitation is None or not invitation.is_open:
        return None
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    if signed_in and not allowed("circles.answer_invitation", user, invitation):
        return None
    return reverse("circles:invitation_continue")
