"""Small helpers shared by views: asking the rules, and showing service errors on forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from circlework.core.errors import ApplicationError
from circlework.core.permissions import allowed


def me(request: HttpRequest) -> Any:
    """The signed-in practitioner (views that call this are behind login_required). Typed `Any`:
    `accounts.Practitioner` lives on a floor above core (docs/architecture.md)."""
    return request.user.practitioner  # type: ignore[union-attr]


def require_perm(request: HttpRequest, perm: str, obj: Any = None) -> None:
    if not allowed(perm, request.user, obj):
        raise PermissionDenied


def form_error(form: forms.BaseForm, exc: ApplicationError) -> None:
    """Put a service's error on the form: field messages on their fields, the summary on top."""
    field_messages = set()
    for field, msgs in exc.fields.items():
        for msg in msgs:
            target = field if field in form.fields else None
            form.add_error(target, msg)
            field_messages.add(msg)
    if exc.message not in field_messages:
        form.add_error(None, exc.message)


def flash_error(request: HttpRequest, exc: ApplicationError) -> None:
    messages.error(request, exc.message)
