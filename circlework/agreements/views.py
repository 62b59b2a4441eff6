"""A circle's agreements (its living forms), their versions and diffs, reviews and borrowing."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from circlework.agreements import selectors, services
from circlework.agreements.models import Agreement
from circlework.circles.models import Circle
from circlework.circles.selectors import circles_of
from circlework.core.errors import ApplicationError
from circlework.core.http import flash_error, me, require_perm
from circlework.core.permissions import allowed

REVIEW_OPEN_DAYS = 14


class BorrowForm(forms.Form):
    circle = forms.ModelChoiceField(
        label=gettext_lazy("Into which of your circles?"),
        queryset=Circle.objects.none(),
        empty_label=None,
    )


@login_required
def agreement_list(request: HttpRequest, slug: str) -> HttpResponse:
    circle = get_object_or_404(Circle.objects.select_related("federation"), slug=slug)
    require_perm(request, "agreements.view_agreements", circle)
    today = timezone.localdate()
    return render(
        request,
        "agreements/agreement_list.html",
        {
            "circle": circle,
            "agreements": selectors.circle_agreements(circle=circle),
            "due": selectors.reviews_due(circles=[circle]),
            "today": today,
            "borrowable": selectors.borrowable(user=request.user, exclude_circle=circle)[:50],
            "tab": "agreements",
            "is_member": True,
        },
    )


def agreement_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    agreement = get_object_or_404(
        Agreement.objects.select_related(
            "circle__federation", "current_version", "borrowed_from__agreement__circle"
        ),
        pk=pk,
        circle__slug=slug,
    )
    require_perm(request, "agreements.view_agreement", agreement)
    versions = list(agreement.versions.select_related("adopted_by__proposal"))
    by_number = {v.number: v for v in versions}
    text_diff = None
    a = b = None
    if len(versions) > 1:
        try:
            a = by_number[int(request.GET.get("from", versions[-2].number))]
            b = by_number[int(request.GET.get("to", versions[-1].number))]
        except (KeyError, ValueError):
            a, b = versions[-2], versions[-1]
        text_diff = selectors.diff(a.text, b.text)
    is_member = allowed("agreements.review_agreement", request.user, agreement)
    borrow_form = None
    if request.user.is_authenticated and allowed(
        "agreements.borrow_agreement", request.user, agreement
    ):
        borrow_form = BorrowForm()
        mine = circles_of(practitioner=me(request)).exclude(pk=agreement.circle_id)
        borrow_form.fields["circle"].queryset = mine  # type: ignore[attr-defined]
    return render(
        request,
        "agreements/agreement_detail.html",
        {
            "circle": agreement.circle,
            "agreement": agreement,
            "versions": versions,
            "a": a,
            "b": b,
            "text_diff": text_diff,
            "today": timezone.localdate(),
            "open_proposal": agreement.proposals.filter(status="open").first(),
            "borrow_form": borrow_form,
            "borrowings": agreement.current_version.borrowings.select_related("circle")
            if agreement.current_version
            else [],
            "tab": "agreements",
            "is_member": is_member,
        },
    )


@login_required
@require_POST
def agreement_review(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    agreement = get_object_or_404(
        Agreement.objects.select_related("circle", "current_version"), pk=pk, circle__slug=slug
    )
    require_perm(request, "agreements.review_agreement", agreement)
    try:
        proposal = services.agreement_review_open(
            actor=me(request),
            agreement=agreement,
            closes_at=timezone.now() + timedelta(days=REVIEW_OPEN_DAYS),
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect(agreement)
    messages.success(
        request,
        _("A review proposal is open with the current text. Amend it, or agree to keep it."),
    )
    return redirect(proposal)


@login_required
@require_POST
def agreement_borrow(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    agreement = get_object_or_404(
        Agreement.objects.select_related("circle", "current_version"), pk=pk, circle__slug=slug
    )
    require_perm(request, "agreements.borrow_agreement", agreement)
    form = BorrowForm(request.POST)
    form.fields["circle"].queryset = circles_of(practitioner=me(request))  # type: ignore[attr-defined]
    if not form.is_valid():
        messages.error(request, _("Choose one of your circles."))
        return redirect(agreement)
    try:
        proposal = services.agreement_borrow(
            actor=me(request),
            agreement=agreement,
            circle=form.cleaned_data["circle"],
            closes_at=timezone.now() + timedelta(days=REVIEW_OPEN_DAYS),
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect(agreement)
    messages.success(
        request,
        _("Borrowed as a draft proposal in %(c)s: your circle adopts it by its own decision.")
        % {"c": proposal.circle.name},
    )
    return redirect(proposal)


def lineage(request: HttpRequest, slug: str) -> HttpResponse:
    """Federation page: who borrowed what from whom, and how far each has diverged."""
    from circlework.agreements.lineage_svg import Edge
    from circlework.agreements.lineage_svg import render as render_svg
    from circlework.circles.models import Federation
    from circlework.circles.selectors import circles_visible_to

    federation = get_object_or_404(Federation, slug=slug)
    borrowings = selectors.lineage(user=request.user, federation_id=federation.pk)
    circles = [(c.pk, c.name) for c in circles_visible_to(user=request.user, federation=federation)]
    edges = [
        Edge(
            b.source.agreement.circle_id,
            b.agreement.circle_id,
            _("%(t)s · %(p)s%% changed") % {"t": b.agreement.title, "p": round(b.divergence * 100)},
        )
        for b in borrowings
    ]
    return render(
        request,
        "agreements/lineage.html",
        {
            "federation": federation,
            "borrowings": borrowings,
            "svg": render_svg(
                circles, edges, title=_("Lineage of agreements in %(f)s") % {"f": federation.name}
            ),
            "section": "lineage",
        },
    )
