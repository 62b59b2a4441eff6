"""Standing-by pages. Thin: parse, ask the rules, call one service, render. Plain forms."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle
from circlework.circles.selectors import circle_members
from circlework.core.errors import ApplicationError
from circlework.core.http import form_error, me, require_perm
from circlework.core.permissions import allowed
from circlework.standing import selectors, services
from circlework.standing.forms import ConcernResponseForm, StandByForm, WithdrawForm
from circlework.standing.models import StandingBy, StandingConcern


def _circle(slug: str) -> Circle:
    return get_object_or_404(Circle.objects.select_related("federation"), slug=slug)


def _render_page(
    request: HttpRequest,
    circle: Circle,
    form: StandByForm | None = None,
    withdraw_form: WithdrawForm | None = None,
    withdraw_pk: int | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = me(request)
    page = selectors.standing_page(user=request.user, circle=circle, practitioner=actor)
    choices = [(r.practitioner_id, r.name) for r in page.rows if r.practitioner_id != actor.pk]
    if form is None:
        form = StandByForm(choices=choices)
    return render(
        request,
        "standing/standing_page.html",
        {
            "circle": circle,
            "page": page,
            "form": form,
            "withdraw_form": withdraw_form or WithdrawForm(),
            "withdraw_pk": withdraw_pk,
            "me": actor,
            "review_months": services.review_months(circle),
            "tab": "standing",
            "is_member": True,
        },
        status=status,
    )


@login_required
def standing_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Who stands by whom. A POST here states (or renews) standing by a colleague."""
    circle = _circle(slug)
    require_perm(request, "standing.view_standing", circle)
    if request.method != "POST":
        return _render_page(request, circle)
    require_perm(request, "standing.stand_by", circle)
    actor = me(request)
    # Named by the one name rule (a hidden name reads "a member"), never display_name directly.
    choices = [
        (r.membership.practitioner_id, r.name)
        for r in circle_members(user=request.user, circle=circle)
        if r.membership.practitioner_id is not None
    ]
    form = StandByForm(request.POST, choices=choices)
    if not form.is_valid():
        return _render_page(request, circle, form=form, status=400)
    colleague = Practitioner.objects.get(pk=form.cleaned_data["colleague"])
    try:
        services.standing_by_state(
            actor=actor, circle=circle, colleague=colleague, basis=form.cleaned_data["basis"]
        )
    except ApplicationError as exc:
        form_error(form, exc)
        return _render_page(request, circle, form=form, status=exc.status_code)
    messages.success(request, _("Recorded: you stand by this colleague's practice."))
    return redirect("standing:standing_page", slug=circle.slug)


@login_required
def standing_withdraw(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Withdraw your statement, with reasons; the circle is asked to respond."""
    statement = get_object_or_404(
        StandingBy.objects.select_related("circle", "circle__federation"),
        pk=pk,
        circle__slug=slug,
    )
    require_perm(request, "standing.withdraw", statement)
    if request.method != "POST":
        return redirect("standing:standing_page", slug=slug)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            concern = services.standing_by_withdraw(
                actor=me(request), statement=statement, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            form_error(form, exc)
            return _render_page(
                request,
                statement.circle,
                withdraw_form=form,
                withdraw_pk=pk,
                status=exc.status_code,
            )
        messages.success(
            request, _("Withdrawn. Your reasons went to the circle, which is asked to respond.")
        )
        return redirect(concern)
    return _render_page(request, statement.circle, withdraw_form=form, withdraw_pk=pk, status=400)


@login_required
def concern_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A concern raised by a withdrawal, and the circle's response (a POST here responds)."""
    concern = get_object_or_404(
        StandingConcern.objects.select_related(
            "circle", "circle__federation", "statement", "raised_by", "responded_by"
        ),
        pk=pk,
        circle__slug=slug,
    )
    require_perm(request, "standing.view_concern", concern)
    may_respond = allowed("standing.respond_concern", request.user, concern)
    form = ConcernResponseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        require_perm(request, "standing.respond_concern", concern)
        if form.is_valid():
            try:
                services.standing_concern_respond(
                    actor=me(request),
                    concern=concern,
                    response=form.cleaned_data["response"],
                    resolve=form.cleaned_data["resolve"],
                )
            except ApplicationError as exc:
                form_error(form, exc)
                status = exc.status_code
            else:
                messages.success(request, _("The circle's response is recorded."))
                return redirect(concern)
        else:
            status = 400
    names = {
        r.membership.practitioner_id: r.name
        for r in circle_members(user=request.user, circle=concern.circle)
    }
    return render(
        request,
        "standing/concern_detail.html",
        {
            "circle": concern.circle,
            "concern": concern,
            "raised_by_name": names.get(concern.raised_by_id, _("a former member")),
            "for_name": names.get(concern.statement.for_practitioner_id, _("a former member")),
            "responded_by_name": names.get(concern.responded_by_id, _("a former member")),
            "form": form,
            "may_respond": may_respond,
            "tab": "standing",
            "is_member": True,
        },
        status=status,
    )
