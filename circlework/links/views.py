"""Link pages. Thin: parse, ask the rules, call one service or selector, render. Plain forms.

A circle's links page and a link's page show their public parts to anyone who can see the
circles; the request message, meetings' notes, who came and withdrawal reasons only to the two
circles' members. The federation map is as public as the federation page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle, Federation
from circlework.circles.selectors import circle_members
from circlework.core.errors import ApplicationError
from circlework.core.http import form_error, me, require_perm
from circlework.core.permissions import allowed
from circlework.decisions.models import Proposal
from circlework.links import selectors, services
from circlework.links.forms import (
    DecisionOpenForm,
    LinkRequestForm,
    MeetingForm,
    StatementForm,
    WithdrawForm,
)
from circlework.links.map_svg import render as render_map
from circlework.links.models import CircleLink, LinkCount, LinkStatus
from circlework.links.rules import RECORD_MEETING


def _circle(slug: str) -> Circle:
    return get_object_or_404(Circle.objects.select_related("federation"), slug=slug)


def _link(pk: int) -> CircleLink:
    link = selectors.link_for(pk=pk)
    if link is None:
        from django.http import Http404

        raise Http404
    return link


# --- a circle's links ---------------------------------------------------------------------------


def _render_circle_links(
    request: HttpRequest, circle: Circle, form: LinkRequestForm | None = None, status: int = 200
) -> HttpResponse:
    page = selectors.circle_links(user=request.user, circle=circle)
    may_request = allowed("links.request", request.user, circle)
    if may_request and form is None:
        form = LinkRequestForm(circles=selectors.request_choices(user=request.user, circle=circle))
    return render(
        request,
        "links/circle_links.html",
        {
            "circle": circle,
            "page": page,
            "tally": page.standing,
            "form": form,
            "may_request": may_request,
            "tab": "links",
            "is_member": allowed("circles.change_circle", request.user, circle),
        },
        status=status,
    )


def circle_links(request: HttpRequest, slug: str) -> HttpResponse:
    """The circle's status and links both ways; a POST here asks another circle for a link."""
    circle = _circle(slug)
    require_perm(request, "links.view_circle_links", circle)
    if request.method != "POST":
        return _render_circle_links(request, circle)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    require_perm(request, "links.request", circle)
    choices = selectors.request_choices(user=request.user, circle=circle)
    form = LinkRequestForm(request.POST, circles=choices)
    if not form.is_valid():
        return _render_circle_links(request, circle, form=form, status=400)
    try:
        link = services.link_request(
            actor=me(request),
            asking_circle=circle,
            validating_circle=form.cleaned_data["validating_circle"],
            message=form.cleaned_data["message"],
            reciprocal=form.cleaned_data["reciprocal"],
        )
    except ApplicationError as exc:
        form_error(form, exc)
        return _render_circle_links(request, circle, form=form, status=exc.status_code)
    messages.success(
        request,
        _("You asked %(v)s for a link. Its members are told, and will arrange to meet you.")
        % {"v": link.validating_circle.name},
    )
    return redirect(link)


# --- one link -----------------------------------------------------------------------------------


def _attendee_choices(request: HttpRequest, link: CircleLink) -> list[Any]:
    """Both circles' current members, grouped by circle, named as the viewer may see them."""
    groups: list[Any] = []
    seen: set[int] = set()
    for circle in (link.validating_circle, link.asking_circle):
        options = []
        for n, row in enumerate(circle_members(user=request.user, circle=circle), start=1):
            pk = row.membership.practitioner_id
            if pk is None or pk in seen:
                continue
            seen.add(pk)
            label = (
                row.name
                if row.name_visible
                else _("a member of %(c)s (%(n)s)")
                % {
                    "c": circle.name,
                    "n": n,
                }
            )
            options.append((pk, label))
        groups.append((circle.name, options))
    return groups


def _render_link(
    request: HttpRequest,
    link: CircleLink,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The link's page; `bound` holds a posted form, by its context name, to show its errors."""
    user = request.user
    bound = bound or {}
    view = selectors.link_view(user=user, link=link)
    is_validating = allowed("links.open_decision", user, link)
    # A request past its expiry reads as expired before the worker marks it: nothing more to do.
    stale = link.is_stale()
    may_record = (
        not stale
        and allowed(RECORD_MEETING, user, link)
        and link.status in (LinkStatus.REQUESTED, LinkStatus.MET, LinkStatus.VALIDATED)
    )
    deciding = link.decision is not None and link.decision.is_open
    decidable = (link.status == LinkStatus.MET and not stale) or services.renewable(
        link, view.today
    )
    # A circle the federation has not validated cannot validate (outside its founding): its
    # members are told why instead of offered the decision.
    cannot_validate = ""
    if decidable and not deciding and view.would_count == LinkCount.NO:
        cannot_validate = services.only_validated_circles_validate()
    may_decide = is_validating and not deciding and decidable and not cannot_validate
    context: dict[str, Any] = {
        "link": link,
        "view": view,
        "federation": link.federation,
        "asking": link.asking_circle,
        "validating": link.validating_circle,
        "is_live": link.is_live(view.today),
        "renewable": services.renewable(link, view.today),
        "deciding": deciding,
        "may_view_decision": link.decision is not None
        and allowed("decisions.view_proposal", user, link.decision),
        "is_validating": is_validating,
        "may_cancel": allowed("links.cancel", user, link)
        and link.status in (LinkStatus.REQUESTED, LinkStatus.MET),
        "may_record": may_record,
        "record_mandated": is_validating and not allowed(RECORD_MEETING, user, link),
        "may_decide": may_decide,
        "cannot_validate": cannot_validate,
        "not_counting": services.not_counting_text(link)
        if link.status == LinkStatus.VALIDATED and link.counts == LinkCount.NO
        else "",
        "may_statement": allowed("links.set_statement", user, link)
        and link.status == LinkStatus.VALIDATED,
        "may_withdraw": allowed("links.withdraw", user, link)
        and link.status == LinkStatus.VALIDATED,
        "decision_title": services.decision_title(link),
    }
    if may_record:
        context["meeting_form"] = bound.get("meeting_form") or MeetingForm(
            people=_attendee_choices(request, link)
        )
    if may_decide:
        context["decision_form"] = bound.get("decision_form") or DecisionOpenForm()
    if context["may_statement"]:
        context["statement_form"] = bound.get("statement_form") or StatementForm(
            initial={"statement": link.statement}
        )
    if context["may_withdraw"]:
        context["withdraw_form"] = bound.get("withdraw_form") or WithdrawForm()
    return render(request, "links/link_detail.html", context, status=status)


def link_detail(request: HttpRequest, pk: int) -> HttpResponse:
    link = _link(pk)
    require_perm(request, "links.view_link", link)
    return _render_link(request, link)


def _post_only(request: HttpRequest, link: CircleLink) -> HttpResponse | None:
    if request.method != "POST":
        return redirect(link)
    return None


@login_required
def link_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    link = _link(pk)
    require_perm(request, "links.view_link", link)
    require_perm(request, "links.cancel", link)
    if (response := _post_only(request, link)) is not None:
        return response
    try:
        services.link_cancel(actor=me(request), link=link)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(link)
    messages.success(request, _("Your circle's request is cancelled."))
    return redirect(link)


_FormT = TypeVar("_FormT", bound=forms.Form)


def _link_form_action(
    request: HttpRequest,
    pk: int,
    *,
    perm: str,
    slot: str,
    bind: Callable[[CircleLink], _FormT],
    act: Callable[[CircleLink, _FormT], CircleLink | Proposal],
    done: str,
) -> HttpResponse:
    """A form posted from the link's page: bind it, call the service through `act` and redirect
    to what it returns (the link, or what it opened), with `done`; on a refusal show the link's
    page again with the form in `slot`, at the refusal's status."""
    link = _link(pk)
    require_perm(request, "links.view_link", link)
    require_perm(request, perm, link)
    if (response := _post_only(request, link)) is not None:
        return response
    form = bind(link)
    if not form.is_valid():
        return _render_link(request, link, bound={slot: form}, status=400)
    try:
        target = act(link, form)
    except ApplicationError as exc:
        form_error(form, exc)
        return _render_link(request, link, bound={slot: form}, status=exc.status_code)
    messages.success(request, done)
    return redirect(target)


@login_required
def meeting_record(request: HttpRequest, pk: int) -> HttpResponse:
    def record(link: CircleLink, form: MeetingForm) -> CircleLink:
        attendees = list(Practitioner.objects.filter(pk__in=form.cleaned_data["attendees"]))
        services.link_meeting_record(
            actor=me(request),
            link=link,
            met_on=form.cleaned_data["met_on"],
            attendees=attendees,
            notes=form.cleaned_data["notes"],
        )
        return link  # back to the link's page, not to the meeting

    return _link_form_action(
        request,
        pk,
        perm=RECORD_MEETING,
        slot="meeting_form",
        bind=lambda link: MeetingForm(request.POST, people=_attendee_choices(request, link)),
        act=record,
        done=_("The meeting is recorded. Both circles are told."),
    )


@login_required
def decision_open(request: HttpRequest, pk: int) -> HttpResponse:
    return _link_form_action(
        request,
        pk,
        perm="links.open_decision",
        slot="decision_form",
        bind=lambda link: DecisionOpenForm(request.POST),
        # On to the new proposal, where the members give their positions.
        act=lambda link, form: services.link_decision_open(
            actor=me(request), link=link, closes_at=form.cleaned_data["closes_at"]
        ),
        done=_("The circle's proposal is open: each member gives their position on it."),
    )


@login_required
def statement_set(request: HttpRequest, pk: int) -> HttpResponse:
    return _link_form_action(
        request,
        pk,
        perm="links.set_statement",
        slot="statement_form",
        bind=lambda link: StatementForm(request.POST),
        act=lambda link, form: services.link_statement_set(
            actor=me(request), link=link, statement=form.cleaned_data["statement"]
        ),
        done=_("The statement is saved. It is public on this page."),
    )


@login_required
def link_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _link_form_action(
        request,
        pk,
        perm="links.withdraw",
        slot="withdraw_form",
        bind=lambda link: WithdrawForm(request.POST),
        act=lambda link, form: services.link_withdraw(
            actor=me(request), link=link, reason=form.cleaned_data["reason"]
        ),
        done=_("The link is ended. The members of both circles are told, and read why."),
    )


# --- the federation map -------------------------------------------------------------------------


def _int(value: str | None, default: int = 1) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


def federation_map(request: HttpRequest, slug: str) -> HttpResponse:
    """Circles and their links, as a picture and as tables, bounded however large the federation:
    the picture draws a neighbourhood (selectors.map_page), the circles table goes by pages."""
    federation = get_object_or_404(Federation, slug=slug)
    require_perm(request, "links.view_map", federation)
    data = selectors.map_page(
        user=request.user,
        federation=federation,
        q=request.GET.get("q", ""),
        page=min(_int(request.GET.get("page")), 10**6),
        around=request.GET.get("around", "")[:80],
        # Reversed once, not once per circle or link.
        circle_url=reverse("circles:circle_detail", kwargs={"slug": "slug"}).replace(
            "/slug/", "/{}/"
        ),
    )
    return render(
        request,
        "links/federation_map.html",
        {
            "federation": federation,
            "map": data,
            "link_prefix": reverse("links:link_detail", kwargs={"pk": 0})[: -len("0/")],
            "svg": render_map(
                data.nodes,
                data.edges,
                title=_("Map of %(f)s: circles and their validation links")
                % {"f": federation.name},
            ),
            "section": "map",
        },
    )
