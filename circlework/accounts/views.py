"""My practice: profile, credentials, API tokens and account deletion; profile pages. (The
export, "Download everything", gathers every app: circlework.site.views.data_export.)"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from circlework.accounts import selectors, services
from circlework.accounts.forms import (
    AccountDeleteForm,
    ApiTokenForm,
    CredentialEditForm,
    CredentialForm,
    ProfileForm,
)
from circlework.accounts.models import ApiToken, Credential, Practitioner
from circlework.accounts.profile_parts import parts_context
from circlework.core.errors import ApplicationError
from circlework.core.http import form_error, form_page, me, require_perm, saved
from circlework.core.permissions import allowed
from circlework.core.visibility import second_factor_used


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    practitioner = me(request)
    form = ProfileForm(request.POST or None, instance=Practitioner.objects.get(pk=practitioner.pk))
    return form_page(
        request,
        form,
        action=lambda d: services.practitioner_update(
            actor=practitioner,
            practitioner=practitioner,
            changes={k: d[k] for k in ProfileForm.Meta.fields},
        ),
        done=lambda _r: saved(request, _("Your profile is saved."), "accounts:profile_edit"),
        template="accounts/profile_edit.html",
        context={"form": form, "section": "profile"},
    )


def _visible_or_404(request: HttpRequest, perm: str, obj: object | None) -> None:
    """Hidden answers exactly as missing (same status, same page): a 403 would tell a stranger
    that the profile or document exists."""
    if obj is None or not allowed(perm, request.user, obj):
        raise Http404


def practitioner_detail(request: HttpRequest, pk: int) -> HttpResponse:
    practitioner = Practitioner.objects.filter(pk=pk).first()
    _visible_or_404(request, "accounts.view_practitioner", practitioner)
    assert practitioner is not None
    return render(
        request,
        "accounts/practitioner_detail.html",
        {
            **_profile_as_seen_by(request.user, practitioner),
            "is_self": request.user.is_authenticated and practitioner.user_id == request.user.pk,
        },
    )


def _profile_as_seen_by(viewer: Any, practitioner: Practitioner) -> dict[str, Any]:
    """What the profile page shows `viewer`: every part by the rules, as for anyone. The
    circles and standing by come from those apps (accounts.profile_parts)."""
    return {
        "practitioner": practitioner,
        "fields": selectors.visible_profile_fields(user=viewer, practitioner=practitioner),
        "credentials": selectors.visible_credentials(user=viewer, practitioner=practitioner),
        **parts_context(viewer, practitioner),
    }


@login_required
def profile_preview(request: HttpRequest) -> HttpResponse:
    """One's own profile page as the public, the federation or a circle's members are shown
    it: drawn for a stand-in viewer (accounts.profile_parts.StandInViewer) by the same rules."""
    practitioner = me(request)
    previews = selectors.profile_previews(practitioner=practitioner, user=request.user)
    chosen = next((p for p in previews if p.key == request.GET.get("as")), previews[0])
    shown = allowed("accounts.view_practitioner", chosen.viewer, practitioner)
    return render(
        request,
        "accounts/practitioner_detail.html",
        {
            **(
                _profile_as_seen_by(chosen.viewer, practitioner)
                if shown
                else {"practitioner": practitioner, "fields": {}}
            ),
            "preview": chosen,
            "previews": previews,
            "preview_hidden": not shown,
        },
    )


@login_required
def credential_list(request: HttpRequest) -> HttpResponse:
    practitioner = me(request)
    form = CredentialForm(request.POST or None, request.FILES or None)
    return form_page(
        request,
        form,
        action=lambda d: services.credential_add(
            actor=practitioner,
            title=d["title"],
            issuer=d["issuer"],
            year=d["year"],
            visibility=d["visibility"],
            document=d.get("document"),
        ),
        done=lambda _r: saved(request, _("Credential added."), "accounts:credential_list"),
        template="accounts/credential_list.html",
        context={
            "form": form,
            "credentials": practitioner.credentials.all(),
            "section": "credentials",
        },
    )


@login_required
def credential_edit(request: HttpRequest, pk: int) -> HttpResponse:
    # Only its owner edits a credential; for anyone else it answers as one that does not exist,
    # so the answer never tells a hidden credential from a missing one.
    credential = get_object_or_404(Credential, pk=pk, practitioner__user_id=request.user.pk)
    require_perm(request, "accounts.change_credential", credential)
    form = CredentialEditForm(request.POST or None, instance=Credential.objects.get(pk=pk))
    if request.method == "POST" and request.POST.get("action") == "delete":
        services.credential_remove(actor=me(request), credential=credential)
        messages.success(request, _("Credential removed."))
        return redirect("accounts:credential_list")
    return form_page(
        request,
        form,
        action=lambda d: services.credential_update(
            actor=me(request),
            credential=credential,
            changes={k: d[k] for k in CredentialEditForm.Meta.fields},
        ),
        done=lambda _r: saved(request, _("Credential saved."), "accounts:credential_list"),
        template="accounts/credential_edit.html",
        context={"form": form, "credential": credential, "section": "credentials"},
    )


def credential_document(request: HttpRequest, pk: int) -> FileResponse:
    """Documents are never served from a public path: the credential's visibility applies."""
    credential = Credential.objects.select_related("practitioner").filter(pk=pk).first()
    _visible_or_404(request, "accounts.view_credential", credential)
    assert credential is not None
    if not credential.document:
        raise Http404
    response = FileResponse(
        credential.document.open("rb"),
        content_type=credential.document_content_type or "application/octet-stream",
        as_attachment=credential.document_content_type == "application/pdf",
        filename=f"credential-{credential.pk}.{(credential.document.name or '').rsplit('.', 1)[-1]}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    practitioner = me(request)
    form = ApiTokenForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_secret = services.api_token_create(
                actor=practitioner, name=form.cleaned_data["name"]
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            form = ApiTokenForm()
    return render(
        request,
        "accounts/token_list.html",
        {
            "form": form,
            "tokens": practitioner.api_tokens.all(),
            "new_secret": new_secret,
            "section": "tokens",
            # New tokens keep this session's standing for circles that require 2FA.
            "session_used_second_factor": second_factor_used(request.user),
            "has_authenticator": selectors.has_two_factor(request.user),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk)
    require_perm(request, "accounts.change_apitoken", token)
    services.api_token_revoke(actor=me(request), token=token)
    messages.success(request, _("Token “%(n)s” revoked.") % {"n": token.name})
    return redirect("accounts:token_list")


@login_required
def data_page(request: HttpRequest) -> HttpResponse:
    return render(
        request, "accounts/data.html", {"section": "data", "delete_form": AccountDeleteForm()}
    )


@login_required
@require_POST
def account_delete(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST)
    if form.is_valid():
        try:
            services.account_delete(
                actor=me(request), confirm_email=form.cleaned_data["confirm_email"]
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            logout(request)
            messages.success(request, _("Your account and your private records are deleted."))
            return redirect("home")
    return render(
        request, "accounts/data.html", {"section": "data", "delete_form": form}, status=400
    )
