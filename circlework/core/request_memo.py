"""Answers remembered for the rest of one read-only request, and only there.

A page asks the same question several times while it is drawn (whose name may this viewer see,
which covenant is in force): each app's part asks on its own. `RequestMemoMiddleware` opens a
memo for a GET or HEAD request and drops it when the answer is sent; outside a request (tasks,
services, tests calling selectors) there is none and every question goes to the database.

Exact by construction: a request that writes anything (every write records an audit event,
`core.audit.record`, which calls `forget_all`) reads afresh after it, and no memo outlives its
request or is seen by another one (a context variable, per thread and per task).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

_memo: ContextVar[dict[Any, Any] | None] = ContextVar("circlework_request_memo", default=None)

_READ_ONLY = frozenset({"GET", "HEAD"})


def current() -> dict[Any, Any] | None:
    """The open memo of this request, or None (not a read-only request, or not in one)."""
    return _memo.get()


def forget_all() -> None:
    """Something was written: what was remembered may be out of date."""
    memo = _memo.get()
    if memo is not None:
        memo.clear()


class RequestMemoMiddleware:
    """Open a memo for a read-only request (GET, HEAD), close it when the response is made."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in _READ_ONLY:
            return self.get_response(request)
        token = _memo.set({})
        try:
            return self.get_response(request)
        finally:
            _memo.reset(token)
