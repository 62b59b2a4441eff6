"""Signing up or in with an invitation: the invitation a browser came with
(circles.invitation_session) comes first.

accounts' adapter and sign-up form know nothing of circles (accounts sits below circles); these
subclasses add the invitation, and the settings name them (ACCOUNT_ADAPTER, ACCOUNT_FORMS).
"""

from __future__ import annotations

from typing import Any

from allauth.core import context as allauth_context
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from circlework.accounts.adapter import AccountAdapter
from circlework.accounts.forms import SignupForm
from circlework.circles import invitation_session


class InvitationAccountAdapter(AccountAdapter):
    """After signing up or in, the page to answer the session's open invitation, if any."""

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return invitation_session.waiting_page(request) or super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        return invitation_session.waiting_page(request) or super().get_signup_redirect_url(request)


class InvitationSignupForm(SignupForm):
    """The sign-up form, with the address an open invitation of this session was sent to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # allauth keeps the request of the moment for forms, which are not given it.
        if not self.is_bound and not self.initial.get("email"):
            address = invitation_session.waiting_address(allauth_context.request)
            if address:
                self.initial["email"] = address
                self.fields["email"].help_text = _(
                    "The address your invitation was sent to: use it to accept the invitation."
                )
