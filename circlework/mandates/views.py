"""Mandate pages. Thin: parse, ask the rules, call one service, render. Plain forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from circlework.circles.models import Circle, Federation
from circlework.circles.roles import PERMISSIONS
from circlework.core.errors import ApplicationError
from circlework.core.http import form_error, me, require_perm
from circlework.core.permissions import allowed
from circlework.mandates import selectors, services
from circlework.mandates.forms import HandoverForm, NoticeForm, ResignForm
from circlework.mandates.models import Mandate


def _roles_context(roles: list[Any]) -> list[dict[str, Any]]:
    return [{"role": r, "scope": selectors.scope_words(r.permissions)} for r in roles]


def circle_mandates(request: HttpRequest, slug: str) -> HttpResponse:
    """The circle's live and past mandates, and the roles its agreement defines. Open to whoever
    may see the circle's page (a public circle's to anyone, as its page is)."""
    circle = get_object_or_404(Circle.objects.select_related("federation"), slug=slug)
    require_perm(request, "mandates.view_circle_mandates", circle)
    page = selectors.circle_mandates_page(user=request.user, circle=circle)
    return render(
        request,
        "mandates/circle_mandates.html",
        {
            "circle": circle,
            "page": page,
            "roles": _roles_context(page.roles),
            "tab": "mandates",
            "is_member": allowed("circles.change_circle", request.user, circle),
            "may_see_elections": allowed("elections.view_circle_elections", request.user, circle),
        },
    )


@login_required
def federation_mandates(request: HttpRequest, slug: str) -> HttpResponse:
    """The federation's officers: live and past mandates, and the roles its covenant defines."""
    federation = get_object_or_404(Federation, slug=slug)
    require_perm(request, "mandates.view_federation_mandates", federation)
    page = selectors.federation_mandates_page(user=request.user, federation=federation)
    return render(
        request,
        "mandates/federation_mandates.html",
        {
            "federation": federation,
            "page": page,
            "roles": _roles_context(page.roles),
            "may_send_notice": allowed("mandates.send_federation_notice", request.user, federation),
            "section": "mandates",
        },
    )


def _mandate(pk: int) -> Mandate:
    return get_object_or_404(
        Mandate.objects.select_related(
            "holder", "circle", "circle__federation", "federation", "election"
        ),
        pk=pk,
    )


def _render_detail(
    request: HttpRequest,
    mandate: Mandate,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The mandate's page; `bound` holds a posted form, by its context name, to show its errors."""
    bound = bound or {}
    row = selectors.mandate_row(user=request.user, mandate=mandate)
    is_holder = allowed("mandates.resign", request.user, mandate)
    federation = mandate.federation if mandate.federation_id else mandate.circle.federation  # type: ignore[union-attr]
    return render(
        request,
        "mandates/mandate_detail.html",
        {
            "mandate": mandate,
            "row": row,
            "federation": federation,
            "circle": mandate.circle,
            "is_holder": is_holder and row.is_live,
            "resign_form": bound.get("resign_form") or ResignForm(),
            "handover_form": bound.get("handover_form")
            or HandoverForm(initial={"handover_plan": mandate.handover_plan}),
            "all_permissions": PERMISSIONS,
            "section": "mandates",
        },
        status=status,
    )


def mandate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One mandate: a circle's to whoever may see the circle, a federation's to its members."""
    mandate = _mandate(pk)
    require_perm(request, "mandates.view_mandate", mandate)
    return _render_detail(request, mandate)


_FormT = TypeVar("_FormT", bound=forms.Form)


def _holder_form_action(
    request: HttpRequest,
    pk: int,
    *,
    perm: str,
    slot: str,
    bind: Callable[[], _FormT],
    call: Callable[[Mandate, _FormT], object],
    done: str,
) -> HttpResponse:
    """A form the holder posts from the mandate's page: call the service and redirect to the
    mandate with `done`, or show the page again with the form in `slot` and its errors."""
    mandate = _mandate(pk)
    require_perm(request, perm, mandate)
    form = bind()
    if not form.is_valid():
        return _render_detail(request, mandate, bound={slot: form}, status=400)
    try:
        call(mandate, form)
    except ApplicationError as exc:
        form_error(form, exc)
        return _render_detail(request, mandate, bound={slot: form}, status=exc.status_code)
    messages.success(request, done)
    return redirect(mandate)


@login_required
@require_POST
def mandate_resign(request: HttpRequest, pk: int) -> HttpResponse:
    """The holder steps down early; its permissions lapse at once."""
    return _holder_form_action(
        request,
        pk,
        perm="mandates.resign",
        slot="resign_form",
        bind=lambda: ResignForm(request.POST),
        call=lambda mandate, form: services.mandate_resign(
            actor=me(request), mandate=mandate, reason=form.cleaned_data["reason"]
        ),
        done=_("You stepped down; everyone the mandate serves was told."),
    )


@login_required
@require_POST
def mandate_handover(request: HttpRequest, pk: int) -> HttpResponse:
    """The holder updates how the role will be reduced or passed on."""
    return _holder_form_action(
        request,
        pk,
        perm="mandates.change_handover",
        slot="handover_form",
        bind=lambda: HandoverForm(request.POST),
        call=lambda mandate, form: services.mandate_handover_update(
            actor=me(request), mandate=mandate, handover_plan=form.cleaned_data["handover_plan"]
        ),
        done=_("The handover plan is updated."),
    )


@login_required
def federation_notice(request: HttpRequest, slug: str) -> HttpResponse:
    """A live holder of a mandate granting "federation.notice" writes to every member."""
    federation = get_object_or_404(Federation, slug=slug)
    if not allowed("mandates.send_federation_notice", request.user, federation):
        lapsed = selectors.lapsed_mandate(
            getattr(request.user, "practitioner", None), "federation.notice", federation=federation
        )
        if lapsed is not None:  # an officer whose mandate has ended is told when it ended
            messages.error(request, services.lapsed_message(lapsed))
        raise PermissionDenied
    form = NoticeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                told = services.federation_notice_send(
                    actor=me(request),
                    federation=federation,
                    title=form.cleaned_data["title"],
                    text=form.cleaned_data["text"],
                )
            except ApplicationError as exc:
                form_error(form, exc)
                status = exc.status_code
            else:
                messages.success(
                    request,
                    _("The notice went to %(n)s members of the federation.") % {"n": told},
                )
                return redirect("mandates:federation_notices", slug=federation.slug)
        else:
            status = 400
    return render(
        request,
        "mandates/federation_notice.html",
        {"federation": federation, "form": form, "section": "notices"},
        status=status,
    )


@login_required
def federation_notices(request: HttpRequest, slug: str) -> HttpResponse:
    """Every notice the federation's officers sent, newest first, a page at a time: for the
    members of the federation, to whom the notices went (mandates.view_federation_notices)."""
    federation = get_object_or_404(Federation, slug=slug)
    require_perm(request, "mandates.view_federation_notices", federation)
    notices = selectors.federation_notices_page(
        user=request.user,
        federation=federation,
        page=request.GET.get("page"),
        notice=request.GET.get("notice"),
    )
    return render(
        request,
        "mandates/federation_notices.html",
        {
            "federation": federation,
            "notices": notices,
            "may_send_notice": allowed("mandates.send_federation_notice", request.user, federation),
            "section": "notices",
        },
    )
