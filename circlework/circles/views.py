"""Thin views: parse, ask the rules, call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from circlework.accounts.selectors import has_two_factor
from circlework.circles import invitation_session, page_parts, selectors, services, two_factor
from circlework.circles.forms import CircleForm, CircleFoundForm, InvitationForm
from circlework.circles.models import Circle, Federation, Invitation
from circlework.core.errors import ApplicationError
from circlework.core.http import flash_error, form_error, form_page, me, require_perm, saved
from circlework.core.permissions import allowed
from circlework.core.visibility import forget_audience


def federation_list(request: HttpRequest) -> HttpResponse:
    return render(request, "circles/federation_list.html", {"federations": selectors.federations()})


def federation_detail(request: HttpRequest, slug: str) -> HttpResponse:
    federation = get_object_or_404(Federation, slug=slug)
    require_perm(request, "circles.view_federation", federation)
    page = selectors.federation_circles_page(
        user=request.user, federation=federation, page=request.GET.get("page")
    )
    return render(
        request,
        "circles/federation_detail.html",
        {
            "federation": federation,
            "circles": page.object_list,
            "page": page,
            **page_parts.federation_parts_context(request.user, federation),
        },
    )


@login_required
def circle_list(request: HttpRequest) -> HttpResponse:
    practitioner = me(request)
    return render(
        request,
        "circles/circle_list.html",
        {
            "my_circles": selectors.circles_of(practitioner=practitioner),
            "other_circles": selectors.circles_visible_to(user=request.user).exclude(
                memberships__practitioner=practitioner, memberships__left_at__isnull=True
            ),
        },
    )


@login_required
def circle_found(request: HttpRequest) -> HttpResponse:
    require_perm(request, "circles.add_circle")
    form = CircleFoundForm(
        request.POST or None, initial={"federation": selectors.federations().first()}
    )

    def founded(circle: Circle) -> HttpResponse:
        forget_audience(request.user)
        return saved(
            request,
            _("You founded %(c)s. Invite your colleagues next.") % {"c": circle.name},
            circle,
        )

    return form_page(
        request,
        form,
        action=lambda d: services.circle_found(
            actor=me(request),
            federation=d["federation"],
            name=d["name"],
            purpose=d["purpose"],
            locality=d["locality"],
            meeting_pattern=d["meeting_pattern"],
            open_to_new_members=d["open_to_new_members"],
            visibility=d["visibility"],
        ),
        done=founded,
        template="circles/circle_found.html",
        context={"form": form},
    )


def circle_detail(request: HttpRequest, slug: str) -> HttpResponse:
    circle = get_object_or_404(Circle.objects.select_related("federation", "founded_by"), slug=slug)
    require_perm(request, "circles.view_circle", circle)
    is_member = allowed("circles.change_circle", request.user, circle)
    return render(
        request,
        "circles/circle_detail.html",
        {
            "circle": circle,
            "members": selectors.circle_members(user=request.user, circle=circle),
            "is_member": is_member,
            "tab": "overview",
            **page_parts.parts_context(request.user, circle),
        },
    )


@login_required
def circle_edit(request: HttpRequest, slug: str) -> HttpResponse:
    circle = get_object_or_404(Circle, slug=slug)
    require_perm(request, "circles.change_circle", circle)
    form = CircleForm(
        request.POST or None,
        instance=circle,
        without_two_factor=two_factor.members_without_two_factor(circle),
    )
    if request.method == "POST" and form.is_valid():
        try:
            circle = services.circle_update(
                actor=me(request),
                circle=Circle.objects.get(pk=circle.pk),
                changes={k: form.cleaned_data[k] for k in CircleForm.Meta.fields},
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("The circle's details are saved."))
            return redirect(circle)
    circle.refresh_from_db()
    return render(
        request,
        "circles/circle_edit.html",
        {
            "circle": circle,
            "form": form,
            "tab": "overview",
            "is_member": True,
            "i_use_two_factor": has_two_factor(request.user),
        },
        status=400 if form.errors else 200,
    )


@login_required
def circle_invitations(request: HttpRequest, slug: str) -> HttpResponse:
    circle = get_object_or_404(Circle.objects.select_related("federation"), slug=slug)
    require_perm(request, "circles.view_invitations", circle)
    form = InvitationForm(request.POST or None)
    if request.method == "POST":
        require_perm(request, "circles.invite", circle)
        if form.is_valid():
            try:
                invitation, _secret = services.invitation_create(
                    actor=me(request),
                    circle=circle,
                    email=form.cleaned_data["email"],
                    message=form.cleaned_data["message"],
                    base_url=request.build_absolute_uri("/").rstrip("/"),
                )
            except ApplicationError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("Invitation sent to %(e)s.") % {"e": invitation.email})
                return redirect("circles:circle_invitations", slug=circle.slug)
    return render(
        request,
        "circles/circle_invitations.html",
        {
            "circle": circle,
            "form": form,
            "invitations": selectors.circle_invitations(circle=circle),
            "tab": "invitations",
            "is_member": True,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    invitation = get_object_or_404(
        Invitation.objects.select_related("circle"), pk=pk, circle__slug=slug
    )
    require_perm(request, "circles.revoke_invitation", invitation)
    try:
        services.invitation_revoke(actor=me(request), invitation=invitation)
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(
            request, _("The invitation to %(e)s is revoked.") % {"e": invitation.email}
        )
    if request.htmx:  # type: ignore[attr-defined]
        invitation.refresh_from_db()
        return render(
            request,
            "circles/circle_invitations.html#invitation-row",
            {"invitation": invitation, "circle": invitation.circle},
        )
    return redirect("circles:circle_invitations", slug=slug)


def invitation_respond(request: HttpRequest, secret: str) -> HttpResponse:
    """The e-mailed link. Anyone holding it may see the invitation; only the invitee answers."""
    try:
        invitation = services.invitation_for_secret(secret)
    except ApplicationError as exc:
        return render(
            request, "circles/invitation_respond.html", {"error": exc.message}, status=404
        )
    if invitation.is_open:
        # Kept through sign-up and verification (circles.invitation_session).
        invitation_session.remember(request, invitation)
    return _invitation_answer(request, invitation)


def invitation_continue(request: HttpRequest) -> HttpResponse:
    """The invitation this browser came with, found by its session (no secret in the address):
    where a newcomer lands after signing up and verifying, or after signing in."""
    invitation = invitation_session.remembered(request)
    if invitation is None:
        return render(
            request,
            "circles/invitation_respond.html",
            {"error": _("No invitation is waiting in this browser. Open the link in the e-mail.")},
            status=404,
        )
    return _invitation_answer(request, invitation)


def _invitation_answer(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    may_answer = allowed("circles.answer_invitation", request.user, invitation)
    context = {
        "invitation": invitation,
        "may_answer": may_answer,
        "i_use_two_factor": invitation.circle.requires_two_factor and has_two_factor(request.user),
    }
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("accept", "decline") and not request.user.is_authenticated:
            # Only the invitee answers: sign in (or up) first, and come back here.
            return redirect(
                reverse("account_login")
                + "?"
                + urlencode({"next": reverse("circles:invitation_continue")})
            )
        try:
            if action == "accept":
                services.invitation_accept(actor=me(request), invitation=invitation)
                invitation_session.forget(request)
                forget_audience(request.user)
                messages.success(request, _("Welcome to %(c)s.") % {"c": invitation.circle.name})
                return redirect(invitation.circle)
            if action == "decline":
                services.invitation_decline(actor=me(request), invitation=invitation)
                invitation_session.forget(request)
                messages.info(
                    request,
                    _("You declined the invitation to %(c)s.") % {"c": invitation.circle.name},
                )
                return redirect("home")
        except ApplicationError as exc:
            invitation.refresh_from_db()
            context["may_answer"] = allowed("circles.answer_invitation", request.user, invitation)
            return render(
                request,
                "circles/invitation_respond.html",
                {**context, "error": exc.message},
                status=exc.status_code,
            )
        return render(
            request,
            "circles/invitation_respond.html",
            {**context, "error": _("Choose accept or decline.")},
            status=400,
        )
    error = None
    if not invitation.is_open:
        error = _("This invitation can no longer be used (%(s)s).") % {
            "s": _("expired")
            if invitation.status == "pending"
            else invitation.get_status_display().lower()
        }
    return render(
        request,
        "circles/invitation_respond.html",
        {**context, "error": error},
        status=410 if error else 200,
    )


@login_required
def circle_leave(request: HttpRequest, slug: str) -> HttpResponse:
    circle = get_object_or_404(Circle.objects.select_related("federation"), slug=slug)
    require_perm(request, "circles.leave", circle)
    if request.method == "POST":
        try:
            services.membership_leave(actor=me(request), circle=circle)
        except ApplicationError as exc:
            flash_error(request, exc)
            return redirect(circle)
        forget_audience(request.user)
        messages.success(request, _("You have left %(c)s.") % {"c": circle.name})
        return redirect("home")
    return render(
        request,
        "circles/circle_leave.html",
        {"circle": circle, "tab": "overview", "is_member": True},
    )


@login_required
def circle_history(request: HttpRequest, slug: str) -> HttpResponse:
    circle = get_object_or_404(Circle.objects.select_related("federation"), slug=slug)
    require_perm(request, "circles.view_history", circle)
    return render(
        request,
        "circles/circle_history.html",
        {
            "circle": circle,
            "events": selectors.circle_history(user=request.user, circle=circle),
            "former": [
                m
                for m in selectors.circle_members(
                    user=request.user, circle=circle, include_former=True
                )
                if m.membership.left_at
            ],
            "tab": "history",
            "is_member": True,
        },
    )
