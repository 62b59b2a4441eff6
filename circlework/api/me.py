"""The signed-in practitioner: profile, credentials, invitations and notifications."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from circlework.accounts import services as account_services
from circlework.accounts.models import Credential, Practitioner
from circlework.api import schemas as s
from circlework.api.base import ERRORS, _invitation_out, _me
from circlework.api.paging import PageIn, page_queryset
from circlework.circles import selectors as circle_selectors
from circlework.core.errors import NotFound
from circlework.core.visibility import audience_for
from circlework.notifications import selectors as notification_selectors
from circlework.notifications.models import Notification

router = Router()


def _profile_out(p: Practitioner) -> s.ProfileOut:
    return s.ProfileOut(
        id=p.pk,
        display_name=p.display_name,
        display_name_visibility=_level(p.display_name_visibility),
        pronouns=p.pronouns,
        pronouns_visibility=_level(p.pronouns_visibility),
        modalities=p.modalities,
        modalities_visibility=_level(p.modalities_visibility),
        languages=p.languages,
        languages_visibility=_level(p.languages_visibility),
        location=p.location,
        location_visibility=_level(p.location_visibility),
        statement=p.statement,
        statement_visibility=_level(p.statement_visibility),
        time_zone=p.time_zone,
    )


def _level(value: str) -> s.VisibilityLevel:
    # The model's choices are exactly these four levels (accounts.models.Visibility).
    return cast(s.VisibilityLevel, value)


def _credential_out(c: Credential) -> s.CredentialOut:
    return s.CredentialOut(
        id=c.pk,
        title=c.title,
        issuer=c.issuer,
        year=c.year,
        visibility=_level(c.visibility),
        has_document=bool(c.document),
    )


# --- me -------------------------------------------------------------------------------------


@router.get("/me", response={200: s.MeOut, **ERRORS}, tags=["me"])
def me(request: HttpRequest) -> s.MeOut:
    p = _me(request)
    return s.MeOut(id=p.pk, email=p.user.email, display_name=p.display_name, time_zone=p.time_zone)


@router.get("/me/profile", response={200: s.ProfileOut, **ERRORS}, tags=["me"])
def profile_get(request: HttpRequest) -> s.ProfileOut:
    return _profile_out(_me(request))


@router.patch("/me/profile", response={200: s.ProfileOut, **ERRORS}, tags=["me"])
def profile_patch(request: HttpRequest, payload: s.ProfilePatch) -> s.ProfileOut:
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    p = account_services.practitioner_update(
        actor=_me(request), practitioner=_me(request), changes=changes
    )
    return _profile_out(p)


@router.get("/me/credentials", response={200: list[s.CredentialOut], **ERRORS}, tags=["me"])
def credentials_list(
    request: HttpRequest, response: HttpResponse, paging: Query[PageIn]
) -> list[s.CredentialOut]:
    """Your credentials, latest year first, then by title; a page at a time (`limit`,
    `cursor`: see the Link header)."""
    rows = page_queryset(
        request, response, paging, _me(request).credentials.all(), order=("-year", "title", "pk")
    )
    return [_credential_out(c) for c in rows]


@router.post("/me/credentials", response={201: s.CredentialOut, **ERRORS}, tags=["me"])
def credentials_add(request: HttpRequest, payload: s.CredentialIn) -> Status[s.CredentialOut]:
    c = account_services.credential_add(actor=_me(request), **payload.model_dump())
    return Status(201, _credential_out(c))


@router.delete("/me/credentials/{credential_id}", response={204: None, **ERRORS}, tags=["me"])
def credentials_remove(request: HttpRequest, credential_id: int) -> Status[None]:
    credential = Credential.objects.filter(pk=credential_id, practitioner=_me(request)).first()
    if credential is None:
        raise NotFound()
    account_services.credential_remove(actor=_me(request), credential=credential)
    return Status(204, None)


@router.get(
    "/me/invitations", response={200: list[s.InvitationOut], **ERRORS}, tags=["invitations"]
)
def my_invitations(
    request: HttpRequest, response: HttpResponse, paging: Query[PageIn]
) -> list[s.InvitationOut]:
    """Invitations awaiting your answer, newest first; a page at a time (`limit`, `cursor`)."""
    rows = page_queryset(
        request,
        response,
        paging,
        circle_selectors.pending_invitations_for(practitioner=_me(request)),
        order=("-created_at", "-pk"),
    )
    return [_invitation_out(i) for i in rows]


@router.get("/me/notifications", response={200: list[s.NotificationOut], **ERRORS}, tags=["me"])
def my_notifications(
    request: HttpRequest, response: HttpResponse, paging: Query[PageIn]
) -> list[s.NotificationOut]:
    """Your notifications, newest first; a page at a time (`limit`, `cursor`: see the Link
    header): one query a page however many you have."""
    rows = page_queryset(
        request,
        response,
        paging,
        Notification.objects.filter(recipient=_me(request)),
        order=("-created_at", "-pk"),
    )
    return [
        s.NotificationOut(
            id=n.pk,
            kind=n.kind,
            # Given names as far as the recipient may see them (stored texts hold only ids).
            title=n.shown_title,
            body=n.shown_body,
            url=n.url,
            created_at=n.created_at,
            read=n.read_at is not None,
        )
        for n in notification_selectors.readable(rows, audience_for(request.user))
    ]
