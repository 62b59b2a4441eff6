"""What notifications does when accounts announces something (circlework.accounts.announcements).
`NotificationsConfig.ready` calls `register`.

- An account's holder is told about a change to how they sign in: an immediate notice of the
  "Your account and security" kind, which links to the page where they act on it.
- An account is deleted: other people's notifications that quote its address (written before
  notifications named people by id) say "a former member" instead. Their own notifications go
  with the account (the database cascades them).
"""

from __future__ import annotations

import re

from django.db.models import Q

from circlework.accounts.announcements import (
    AccountDeleted,
    AccountNotice,
    on_account_deleted,
    on_account_notice,
)
from circlework.core.visibility import A_FORMER_MEMBER
from circlework.notifications.models import Notification, NotificationKind
from circlework.notifications.services import notify


def tell_the_account_holder(event: AccountNotice) -> None:
    notify(
        recipient=event.practitioner,
        kind=NotificationKind.ACCOUNT,
        title=event.title,
        body=event.body,
        url=event.url,
    )


def erase_the_address(event: AccountDeleted) -> None:
    email = event.email
    pattern = re.compile(re.escape(email), re.IGNORECASE)
    for notification in (
        Notification.objects.select_for_update(of=("self",), no_key=True)
        .filter(Q(title__icontains=email) | Q(body__icontains=email))
        .exclude(recipient=event.practitioner)
    ):
        notification.title = pattern.sub(str(A_FORMER_MEMBER), notification.title)[:200]
        notification.body = pattern.sub(str(A_FORMER_MEMBER), notification.body)
        notification.save(update_fields=["title", "body"])


def register() -> None:
    on_account_notice("notifications", tell_the_account_holder)
    on_account_deleted("notifications", erase_the_address)
