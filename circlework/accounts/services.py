"""Writes for practitioners, credentials and API tokens. Every function is atomic and audited."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from circlework.accounts import names as display_names
from circlework.accounts.announcements import (
    AccountDeleted,
    AccountNotice,
    announce_account_deleted,
    announce_account_notice,
)
from circlework.accounts.models import ApiToken, Credential, Practitioner, User
from circlework.accounts.profile_parts import colleague_ids
from circlework.core import audit
from circlework.core.errors import InvalidInput
from circlework.core.permissions import require
from circlework.core.services import validate
from circlework.core.tasks import forget_task_rows
from circlework.core.visibility import audience_for, names_for, second_factor_used

EDITABLE_PROFILE_FIELDS = frozenset(
    [
        *Practitioner.PROFILE_FIELDS,
        *(f"{f}_visibility" for f in Practitioner.PROFILE_FIELDS),
        "time_zone",
    ]
)

# Magic numbers for the document types we accept; the declared type is not trusted.
DOCUMENT_SIGNATURES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "application/pdf": (b"%PDF-", ("pdf",)),
    "image/png": (b"\x89PNG\r\n\x1a\n", ("png",)),
    "image/jpeg": (b"\xff\xd8\xff", ("jpg", "jpeg")),
}


def _check_display_name(name: str, *, others: Iterable[str]) -> None:
    """The display-name rule (accounts/names.py) as the service's error."""
    problems = display_names.display_name_problems(name)
    if not problems and display_names.copies_a_name(name, others):
        problems = [display_names.copy_message()]
    if problems:
        raise InvalidInput(problems[0], fields={"display_name": problems})


def _names_in_circles_of(practitioner: Practitioner, viewer: Any) -> list[str]:
    """The names everyone else now in a circle with this practitioner shows them (who is in a
    circle with them is circles' to say: accounts.profile_parts.colleague_ids).

    A name its owner keeps from them is left out: nobody is misled by a copy of a name they
    cannot see, and comparing with it would let a member test guesses at a hidden name.
    """
    others = colleague_ids(practitioner) - {practitioner.pk}
    shown = names_for(audience_for(viewer), sorted(others), hidden="")
    return [name for name in shown.values() if name]


@transaction.atomic
def practitioner_register(*, user: User, display_name: str = "") -> Practitioner:
    """Create the profile for a new account (called by the allauth adapter at sign-up)."""
    name = display_name.strip() or user.email.split("@", 1)[0]
    practitioner = Practitioner(user=user, display_name=name[:120])
    validate(practitioner, exclude=["user"])
    # A new account is in no circle yet, so there is nobody's name to copy (names.py).
    _check_display_name(practitioner.display_name, others=())
    practitioner.save()
    audit.record(
        actor=practitioner,
        verb="practitioner.registered",
        target=practitioner,
        summary=_("Joined Circlework"),
    )
    return practitioner


@transaction.atomic
def practitioner_update(
    *, actor: Practitioner, practitioner: Practitioner, changes: Mapping[str, Any]
) -> Practitioner:
    require("accounts.change_practitioner", actor, practitioner)
    unknown = set(changes) - EDITABLE_PROFILE_FIELDS
    if unknown:
        raise InvalidInput(
            _("These fields cannot be changed here."),
            fields={k: [_("Unknown field.")] for k in sorted(unknown)},
        )
    practitioner = Practitioner.objects.select_for_update(of=("self",), no_key=True).get(
        pk=practitioner.pk
    )
    previous_name = practitioner.display_name
    for key, value in changes.items():
        setattr(practitioner, key, value.strip() if isinstance(value, str) else value)
    validate(practitioner, exclude=["user"])
    if "display_name" in changes and practitioner.display_name != previous_name:
        _check_display_name(
            practitioner.display_name, others=_names_in_circles_of(practitioner, actor.user)
        )
    practitioner.save(update_fields=[*changes.keys(), "updated_at"])
    audit.record(
        actor=actor,
        verb="practitioner.updated",
        target=practitioner,
        summary=_("Updated their profile"),
        data={"fields": sorted(changes)},
    )
    return practitioner


def _check_document(document: UploadedFile[Any]) -> str:
    limit = settings.CREDENTIAL_DOCUMENT_MAX_BYTES
    if document.size is None or document.size > limit:
        raise InvalidInput(
            _("The document is too large."),
            fields={
                "document": [
                    _("Documents may be at most %(mb)s MB.") % {"mb": limit // (1024 * 1024)}
                ]
            },
        )
    if document.size == 0:
        raise InvalidInput(
            _("The document is empty."), fields={"document": [_("The file is empty.")]}
        )
    head = document.read(16)
    document.seek(0)
    extension = (document.name or "").rsplit(".", 1)[-1].lower()
    for content_type, (magic, extensions) in DOCUMENT_SIGNATURES.items():
        if head.startswith(magic) and extension in extensions:
            return content_type
    raise InvalidInput(
        _("That kind of file is not accepted."),
        fields={"document": [_("Upload a PDF, PNG or JPEG file.")]},
    )


@transaction.atomic
def credential_add(
    *,
    actor: Practitioner,
    title: str,
    issuer: str,
    year: int,
    visibility: str,
    document: UploadedFile[Any] | None = None,
) -> Credential:
    credential = Credential(
        practitioner=actor,
        title=title.strip(),
        issuer=issuer.strip(),
        year=year,
        visibility=visibility,
    )
    if document is not None:
        credential.document_content_type = _check_document(document)
    validate(credential, exclude=["document"])
    if document is not None:
        credential.document.save(document.name or "document", document, save=False)
    credential.save()
    audit.record(
        actor=actor,
        verb="credential.added",
        target=credential,
        summary=_("Added a credential: %(t)s") % {"t": credential.title},
    )
    return credential


@transaction.atomic
def credential_update(
    *, actor: Practitioner, credential: Credential, changes: Mapping[str, Any]
) -> Credential:
    require("accounts.change_credential", actor, credential)
    allowed = {"title", "issuer", "year", "visibility"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(
            _("These fields cannot be changed here."),
            fields={k: [_("Unknown field.")] for k in sorted(unknown)},
        )
    for key, value in changes.items():
        setattr(credential, key, value.strip() if isinstance(value, str) else value)
    validate(credential, exclude=["document"])
    credential.save(update_fields=[*changes.keys(), "updated_at"])
    audit.record(
        actor=actor,
        verb="credential.updated",
        target=credential,
        summary=_("Updated a credential: %(t)s") % {"t": credential.title},
    )
    return credential


@transaction.atomic
def credential_remove(*, actor: Practitioner, credential: Credential) -> None:
    require("accounts.change_credential", actor, credential)
    title = credential.title
    document_name = credential.document.name if credential.document else ""
    storage = credential.document.storage if credential.document else None
    audit.record(
        actor=actor,
        verb="credential.removed",
        target=credential,
        summary=_("Removed a credential: %(t)s") % {"t": title},
    )
    credential.delete()
    if storage is not None and document_name:
        transaction.on_commit(lambda: storage.delete(document_name))


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor: Practitioner, name: str) -> tuple[ApiToken, str]:
    """Returns the token and its secret; the secret is never stored or shown again.

    The token keeps the standing of the session (or token) that creates it: it reaches circles
    that require two-factor authentication only if that session used a second factor.
    """
    secret = "cw_" + secrets.token_urlsafe(32)
    token = ApiToken(
        practitioner=actor,
        name=name.strip(),
        prefix=secret[:10],
        token_hash=hash_token(secret),
        created_with_second_factor=second_factor_used(actor.user),
    )
    validate(token)
    token.save()
    audit.record(
        actor=actor,
        verb="api_token.created",
        target=token,
        summary=_("Created an API token: %(n)s") % {"n": token.name},
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: Practitioner, token: ApiToken) -> ApiToken:
    require("accounts.change_apitoken", actor, token)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor,
            verb="api_token.revoked",
            target=token,
            summary=_("Revoked an API token: %(n)s") % {"n": token.name},
        )
    return token


@transaction.atomic
def account_delete(*, actor: Practitioner, confirm_email: str) -> None:
    """Erase the account. What they gave to their circles stays, as "a former member"'s.

    Stays, unattributed (the reference to them is emptied by the database, SET_NULL): their
    proposals, positions, comments, amendments, poll answers, nominations, ballots, mandates
    held, link requests and meetings, ended memberships (the dates stay in the circle's
    history) and audit events (the actor stays only as the keyed digest that keeps the chain
    verifiable, `core.audit.actor_digest`).
    Goes: the account, the profile, credentials and their documents, API tokens, their own
    notifications and settings, allauth's e-mail addresses and authenticators, standing-by
    statements given or received (the database cascades them), pending invitations they sent
    (revoked), and everywhere their e-mail address was written: invitations sent to it keep
    the circle's record without the address, notifications that quote it read "a former
    member" instead, and background task rows mentioning it (or their name) are deleted.
    What other apps hold (memberships, invitations, notifications) they let go of themselves,
    told by `accounts.announcements.AccountDeleted` inside this transaction.
    Stored texts that name people carry ids rendered when read (core.names), so they name a
    former member once the account is gone.

    On SQLite, `PRAGMA secure_delete` (config/settings/base.py) zeroes what the deletion frees,
    and the write-ahead log is checkpointed and truncated after the commit so that no old page
    image keeps the rows. tests/core/test_erasure.py searches every table and the raw file.
    """
    user = actor.user
    if confirm_email.strip().lower() != user.email.lower():
        raise InvalidInput(
            _("Type your e-mail address exactly to confirm."),
            fields={"confirm_email": [_("This does not match your e-mail address.")]},
        )
    email, name = user.email, actor.display_name
    # Every address they have used here (a changed address leaves its old invitations behind).
    emails = {email, *EmailAddress.objects.filter(user=user).values_list("email", flat=True)}
    announce_account_deleted(
        AccountDeleted(practitioner=actor, email=email, emails=frozenset(emails))
    )
    documents = [
        (c.document.storage, c.document.name) for c in actor.credentials.all() if c.document
    ]
    audit.record(
        actor=actor, verb="account.deleted", target=actor, summary=_("Deleted their account")
    )
    _forget_admin_log(user=user, practitioner=actor)
    user.delete()
    # After the deletion, so that no row of theirs (a notification's e-mail task) is left out.
    forget_task_rows(
        mentioning=sorted(emails), waiting_too=True
    )  # a mail to them has no one to reach
    forget_task_rows(mentioning=[name])  # only finished rows: a name may be a common word
    for storage, doc in documents:
        transaction.on_commit(lambda s=storage, n=doc: s.delete(n))  # type: ignore[misc]
    transaction.on_commit(_sqlite_forget_old_pages, robust=True)


def _forget_admin_log(*, user: User, practitioner: Practitioner) -> None:
    """The operators' admin (off unless ADMIN_ENABLED) logs each change with the record's name:
    the entries about this account and profile go (entries *by* them go with their user)."""
    if not apps.is_installed("django.contrib.admin"):
        return
    # Imported here: these models exist only when the admin is installed.
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    for obj in (user, practitioner):
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        ).delete()


def _sqlite_forget_old_pages() -> None:
    """SQLite in WAL mode keeps earlier images of changed pages in the log file until a
    checkpoint copies the log into the database and the log is truncated. Best effort: with
    readers active the checkpoint may stop short, and later writes overwrite the log."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- After a change to how the account signs in ---------------------------------------------------
# Called by the allauth signal receivers in accounts/adapter.py. Sessions: a new password ends
# every other session by itself (Django keeps a hash of the password in each session, and allauth
# gives the current session the new hash); an e-mail change or 2FA turned off ends them through
# User.session_generation. Personal API tokens are keys the practitioner made on purpose, with
# their own list and revoke button: a password *change* (by someone who knew the password) keeps
# them and says how many still work; a password *reset* (the way back in after losing the
# password, perhaps to someone else) revokes them all.


def _is_request_of(request: HttpRequest | None, user: User) -> bool:
    who = getattr(request, "user", None)
    return bool(who is not None and who.is_authenticated and who.pk == user.pk)


@transaction.atomic
def sessions_end_others(*, user: User, request: HttpRequest | None, reason: str) -> None:
    """Sign out every session of `user` except the request's own (when it is theirs)."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    if request is not None and _is_request_of(request, user):
        update_session_auth_hash(request, user)
    practitioner = Practitioner.objects.filter(user=user).first()
    if practitioner is not None:
        audit.record(
            actor=practitioner,
            verb="account.sessions_ended",
            target=practitioner,
            summary=_("Signed out of every other session: %(r)s") % {"r": reason},
        )


def _tell(user: User, title: str, body: str) -> None:
    """Tell the account's holder: the notifications app delivers it (accounts.announcements)."""
    practitioner = Practitioner.objects.filter(user=user).first()
    if practitioner is not None:
        announce_account_notice(
            AccountNotice(
                practitioner=practitioner,
                title=title,
                body=body,
                url=reverse("accounts:token_list"),
            )
        )


def _live_tokens(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(practitioner__user=user, revoked_at__isnull=True)


@transaction.atomic
def after_password_change(*, user: User, request: HttpRequest | None) -> None:
    practitioner = Practitioner.objects.filter(user=user).first()
    if practitioner is not None:
        audit.record(
            actor=practitioner,
            verb="account.password_changed",
            target=practitioner,
            summary=_("Changed their password; every other session was signed out"),
        )
    tokens = _live_tokens(user).count()
    body = _("Every other session was signed out.")
    if tokens:
        body += " " + ngettext(
            "Your %(n)s personal API token still works: revoke it if you do not recognise it.",
            "Your %(n)s personal API tokens still work: revoke any you do not recognise.",
            tokens,
        ) % {"n": tokens}
    _tell(user, _("Your password was changed"), body)


@transaction.atomic
def after_password_reset(*, user: User, request: HttpRequest | None) -> None:
    practitioner = Practitioner.objects.filter(user=user).first()
    revoked = 0
    for token in _live_tokens(user).select_for_update(no_key=True):
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        revoked += 1
    if practitioner is not None:
        audit.record(
            actor=practitioner,
            verb="account.password_reset",
            target=practitioner,
            summary=_("Reset their password; every session was signed out"),
            data={"api_tokens_revoked": revoked},
        )
    body = _("Every session was signed out.")
    if revoked:
        body += " " + ngettext(
            "Your personal API token was revoked: make a new one if you need it.",
            "Your %(n)s personal API tokens were revoked: make new ones if you need them.",
            revoked,
        ) % {"n": revoked}
    _tell(user, _("Your password was reset"), body)


def is_email_change(*, from_email: str, to_email: str) -> bool:
    """Whether moving from one sign-in address to another is a change worth telling: not the
    first address of a new account (from none), nor the same address again."""
    return bool(from_email) and from_email.strip().lower() != to_email.strip().lower()


def after_email_change(*, user: User, request: HttpRequest | None, to_email: str) -> None:
    sessions_end_others(user=user, request=request, reason=_("e-mail address changed"))
    _tell(
        user,
        _("Your e-mail address was changed"),
        _("You now sign in with %(e)s. Every other session was signed out.") % {"e": to_email},
    )


def after_two_factor_removed(*, user: User, request: HttpRequest | None) -> None:
    sessions_end_others(
        user=user, request=request, reason=_("two-factor authentication turned off")
    )
    _tell(
        user,
        _("Two-factor authentication was turned off"),
        _(
            "Your account no longer asks for an authenticator code. Every other session was "
            "signed out. Circles that require two-factor authentication will ask you to set it "
            "up again."
        ),
    )
