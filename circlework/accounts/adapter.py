from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

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
