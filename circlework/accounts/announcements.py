"""What accounts announces to the apps above it: an account is being deleted, and something its
holder must be told about how they sign in. Apps above register a reaction in their
`AppConfig.ready` (their `registrations.py`); accounts calls `announce_*` inside the service's
transaction, so a reaction that fails rolls the whole change back.

Explicit calls, not Django signals fired from `save()`: every caller is a service function in
accounts/services.py that names the announcement, and every listener is listed by `listeners()`
(docs/architecture.md). Reactions run in the order they were registered, which is the order of
the apps in INSTALLED_APPS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from circlework.accounts.models import Practitioner


@dataclass(frozen=True)
class AccountDeleted:
    """`practitioner` is deleting their account; their user and profile are deleted right after
    the reactions ran. Each app erases or lets go of what is theirs: memberships end, the
    addresses they used (`emails`, `email` the one they sign in with now) are emptied from the
    records that quoted them."""

    practitioner: Practitioner
    email: str
    emails: frozenset[str]


@dataclass(frozen=True)
class AccountNotice:
    """Something the account's holder must hear about how they sign in (the password changed,
    two-factor turned off). The texts are final; `url` is the page to act on it."""

    practitioner: Practitioner
    title: str
    body: str
    url: str


AccountDeletedListener = Callable[[AccountDeleted], None]
AccountNoticeListener = Callable[[AccountNotice], None]

_account_deleted: list[tuple[str, AccountDeletedListener]] = []
_account_notice: list[tuple[str, AccountNoticeListener]] = []


def on_account_deleted(name: str, listener: AccountDeletedListener) -> None:
    """Register `listener` under `name` (the app's label); registering a name twice replaces."""
    _replace(_account_deleted, name, listener)


def on_account_notice(name: str, listener: AccountNoticeListener) -> None:
    _replace(_account_notice, name, listener)


def announce_account_deleted(event: AccountDeleted) -> None:
    for _name, listener in _account_deleted:
        listener(event)


def announce_account_notice(event: AccountNotice) -> None:
    for _name, listener in _account_notice:
        listener(event)


def listeners() -> dict[str, list[str]]:
    """Who listens to what, by app label: for the architecture test and docs."""
    return {
        "account_deleted": [name for name, _ in _account_deleted],
        "account_notice": [name for name, _ in _account_notice],
    }


T = TypeVar("T")


def _replace(registry: list[tuple[str, T]], name: str, listener: T) -> None:
    registry[:] = [(n, f) for n, f in registry if n != name]
    registry.append((name, listener))
