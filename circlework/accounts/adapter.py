"""allauth's adapter for Circlework accounts, and the security events from allauth.

The invitation a browser came with (a circles matter) is added on top by
`circlework.circles.signup`, the adapter settings name (ACCOUNT_ADAPTER).
"""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest

from circlework.accounts import services
from circlework.accounts.services import practitioner_register
from circlework.core.client_ip import client_ip


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """Every new account gets its practitioner profile in the same step."""

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            display_name = (
                form.cleaned_data.get("display_name", "") if hasattr(form, "cleaned_data") else ""
            )
            practitioner_register(user=user, display_name=display_name)
        return user

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address allauth's rate limits (the log-in lock-out) count per: the client's own
        behind a trusted proxy, never one a client wrote itself (core/client_ip.py)."""
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine the client's address.")
        return ip


# --- Security events from allauth: sessions, tokens and notices (accounts.services) ---------------
# Connected when this module is imported, which AccountsConfig.ready() does at start-up.


@receiver(account_signals.password_changed, dispatch_uid="circlework_password_changed")
def on_password_changed(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    services.after_password_change(user=user, request=request)


@receiver(account_signals.password_reset, dispatch_uid="circlework_password_reset")
def on_password_reset(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    services.after_password_reset(user=user, request=request)


@receiver(account_signals.email_changed, dispatch_uid="circlework_email_changed")
def on_email_changed(
    sender: Any,
    request: HttpRequest,
    user: Any,
    to_email_address: Any,
    from_email_address: Any = None,
    **kwargs: Any,
) -> None:
    # allauth also sends this when a new account's first address is verified (from nothing):
    # that is a sign-up, not a change, and must neither sign anyone out nor say so.
    if not services.is_email_change(
        from_email=getattr(from_email_address, "email", ""), to_email=to_email_address.email
    ):
        return
    services.after_email_change(user=user, request=request, to_email=to_email_address.email)


@receiver(mfa_signals.authenticator_removed, dispatch_uid="circlework_authenticator_removed")
def on_authenticator_removed(
    sender: Any, request: HttpRequest, user: Any, authenticator: Any, **kwargs: Any
) -> None:
    # Deactivating TOTP also removes the recovery codes (a second signal): act once, on the app.
    if authenticator.type != Authenticator.Type.RECOVERY_CODES:
        services.after_two_factor_removed(user=user, request=request)
