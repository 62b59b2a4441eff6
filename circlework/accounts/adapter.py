from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.dispatch import receiver
from django.http import HttpRequest

from circlework.accounts import services
from circlework.accounts.services import practitioner_register


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
    sender: Any, request: HttpRequest, user: Any, to_email_address: Any, **kwargs: Any
) -> None:
    services.after_email_change(user=user, request=request, to_email=to_email_address.email)


@receiver(mfa_signals.authenticator_removed, dispatch_uid="circlework_authenticator_removed")
def on_authenticator_removed(
    sender: Any, request: HttpRequest, user: Any, authenticator: Any, **kwargs: Any
) -> None:
    # Deactivating TOTP also removes the recovery codes (a second signal): act once, on the app.
    if authenticator.type != Authenticator.Type.RECOVERY_CODES:
        services.after_two_factor_removed(user=user, request=request)
