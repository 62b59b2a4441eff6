"""Small helpers shared by views: asking the rules, showing service errors on forms, the page
of a form that calls one service (`form_page`), and numbers read from a query string
(`page_number`, `query_number`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from circlework.core.errors import ApplicationError
from circlework.core.permissions import allowed


def me(request: HttpRequest) -> Any:
    """The signed-in practitioner (views that call this are behind login_required). Typed `Any`:
    `accounts.Practitioner` lives on a floor above core (docs/architecture.md)."""
    return request.user.practitioner  # type: ignore[union-attr]


# The largest number read from a query string (a page, a version). Python's ints have no bound
# but the database's have: a bigger one would end in a server error (SQLite: OverflowError;
# PostgreSQL: bigint out of range) once it reaches a query, as an OFFSET or a compared value.
MAX_QUERY_NUMBER = 10**6
# The largest id a record can have (BigAutoField): `query_number(..., limit=MAX_ID)` reads one.
MAX_ID = 2**63 - 1


def _digits(value: str | None) -> str | None:
    """The plain digits of a query-string value, leading zeros dropped; None if it is not one."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()):
        return None
    return value.lstrip("0") or "0"


def query_number(value: str | None, *, limit: int = MAX_QUERY_NUMBER) -> int | None:
    """A whole number from 1 to `limit` written in plain digits, else None (absent, empty, signed,
    not a number, or too large to be one: `?to=99999999999999999999` names no version)."""
    digits = _digits(value)
    if digits is None or len(digits) > len(str(limit)):
        return None
    number = int(digits)
    return number if 1 <= number <= limit else None


def page_number(request: HttpRequest, name: str = "page") -> int:
    """`?page=` as a page number: 1 when absent or not a number, at most MAX_QUERY_NUMBER (a page
    past the last is for the caller to bring back to the last one, as Paginator.get_page does)."""
    digits = _digits(request.GET.get(name))
    if digits is None:
        return 1
    if len(digits) > len(str(MAX_QUERY_NUMBER)):
        return MAX_QUERY_NUMBER
    return max(1, min(int(digits), MAX_QUERY_NUMBER))


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


R = TypeVar("R")


def form_page(
    request: HttpRequest,
    form: forms.BaseForm,
    *,
    action: Callable[[dict[str, Any]], R],
    done: Callable[[R], HttpResponse],
    template: str,
    context: Mapping[str, Any],
) -> HttpResponse:
    """The page of a form that calls one service. On a POST whose form is valid, `action` is
    called with the cleaned data and `done` makes the answer from what it returned (usually
    `saved`: a message and a redirect). A service's error goes onto the form (`form_error`) and
    the page is shown again; it answers 400 whenever the form has errors, 200 otherwise."""
    if request.method == "POST" and form.is_valid():
        try:
            result = action(form.cleaned_data)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            return done(result)
    return render(request, template, context, status=400 if form.errors else 200)


def saved(request: HttpRequest, message: str, to: Any, *args: Any) -> HttpResponse:
    """Say it worked, then go on (`to` and `args` as for `redirect`: a model, a URL name…)."""
    messages.success(request, message)
    return redirect(to, *args)
