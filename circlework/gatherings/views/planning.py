"""Planning pages: a circle's gatherings, planning one, its page, changing it, moving or
cancelling one meeting, cancelling them all, and a find-a-time poll made a gathering in one
click. Thin: parse, ask the rules, call one service or read, render. Plain forms, no JavaScript.

A gathering's page lives at `/gatherings/<pk>/` (a link meeting belongs to two circles, a
federation gathering to none): a gathering that does not exist is not found (404); one the
viewer may not see is refused (403), and a visitor is asked to sign in first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Min, OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from circlework.circles.models import Circle
from circlework.core.errors import ApplicationError, InvalidInput
from circlework.core.http import flash_error, form_page, me, page_number, require_perm, saved
from circlework.core.permissions import allowed
from circlework.gatherings import recurrence, selectors
from circlework.gatherings.forms import CancelForm, MoveForm, PlanForm, on_form, recurrence_zone
from circlework.gatherings.models import Gathering, Occurrence
from circlework.gatherings.services import planning
from circlework.polls.models import Poll

# How many meetings each list shows.
COMING_SHOWN = 10
NEXT_SHOWN = 6
PAST_PER_PAGE = 20

R = TypeVar("R")


def _circle(slug: str) -> Circle:
    return get_object_or_404(Circle.objects.select_related("federation"), slug=slug)


def _gathering(pk: int) -> Gathering:
    gathering = selectors.gathering_for_page(pk)
    if gathering is None:
        raise Http404
    return gathering


def _occurrence(gathering: Gathering, pk: int) -> Occurrence:
    occurrence = get_object_or_404(Occurrence, pk=pk, gathering_id=gathering.pk)
    occurrence.gathering = gathering  # the one already read, with what its rules read
    return occurrence


def _url(name: str, **kwargs: Any) -> str | None:
    """The address of a page another part of gatherings draws, if that part is there yet."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def _on_form(call: Callable[[], R]) -> R:
    """Call a service; its refusal names the form's fields, not the service's."""
    try:
        return call()
    except InvalidInput as exc:
        raise on_form(exc) from exc


def pattern_words(gathering: Gathering) -> str:
    """How the gathering repeats, in words ("Every month on the second Wednesday")."""
    first = gathering.starts_at.astimezone(recurrence_zone(gathering.time_zone))
    return recurrence.describe(gathering.recurrence, first)


# --- a circle's gatherings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Repeating:
    gathering: Gathering
    words: str
    next_start: datetime | None


def _repeating(circle: Circle, now: datetime) -> list[Repeating]:
    """The circle's repeating gatherings still going, with their next meeting: one query."""
    next_start = (
        Occurrence.objects.filter(
            gathering=OuterRef("pk"), ends_at__gte=now, cancelled_at__isnull=True
        )
        .values("gathering")
        .annotate(first=Min("starts_at"))
        .values("first")
    )
    rows = (
        selectors.circle_gatherings(circle=circle)
        .filter(cancelled_at__isnull=True)
        .exclude(recurrence="")
        .annotate(next_start=Subquery(next_start))
        .order_by("title", "pk")
    )
    return [Repeating(g, pattern_words(g), g.next_start) for g in rows]


def _past(circle: Circle, now: datetime, number: int) -> Page[Occurrence]:
    """The circle's meetings that have happened, latest first, a page at a time."""
    meetings = (
        Occurrence.objects.filter(
            gathering__circle=circle, ends_at__lt=now, cancelled_at__isnull=True
        )
        .select_related("gathering")
        .order_by("-starts_at", "-pk")
    )
    return Paginator(meetings, PAST_PER_PAGE).get_page(number)


@dataclass(frozen=True)
class Meeting:
    """One meeting in a list: the row and the address of its page (None until that part is
    there)."""

    occurrence: Occurrence
    url: str | None


def meetings(occurrences: list[Occurrence]) -> list[Meeting]:
    return [
        Meeting(o, _url("gatherings:occurrence_detail", pk=o.gathering_id, occurrence=o.pk))
        for o in occurrences
    ]


@login_required
def gathering_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The circle's coming meetings, its repeating gatherings and the meetings held."""
    circle = _circle(slug)
    require_perm(request, "gatherings.view_circle_gatherings", circle)
    now = timezone.now()
    coming = selectors.coming_occurrences(
        user=request.user, circle=circle, after=now, limit=COMING_SHOWN
    )
    past = _past(circle, now, page_number(request))
    return render(
        request,
        "gatherings/gathering_list.html",
        {
            "circle": circle,
            "coming": meetings(coming),
            "repeating": _repeating(circle, now),
            "past": past,
            "past_meetings": meetings(list(past.object_list)),
            "may_plan": allowed("gatherings.plan", request.user, circle),
            "tab": "gatherings",
            "is_member": True,
        },
    )


@login_required
def gathering_new(request: HttpRequest, slug: str) -> HttpResponse:
    circle = _circle(slug)
    require_perm(request, "gatherings.plan", circle)
    form = PlanForm(request.POST or None, time_zone=planning.planning_zone(me(request)))
    return form_page(
        request,
        form,
        action=lambda d: _on_form(
            lambda: planning.gathering_plan(
                actor=me(request),
                circle=circle,
                title=d["title"],
                details=d["details"],
                when=d["when"],
                place=d["place"],
                online_link=d["online_link"],
            )
        ),
        done=lambda g: saved(
            request, _("The gathering is planned. The circle's members have been told."), g
        ),
        template="gatherings/gathering_new.html",
        context={"circle": circle, "form": form, "tab": "gatherings", "is_member": True},
    )


# --- one gathering ------------------------------------------------------------------------------


def _heading(gathering: Gathering) -> dict[str, Any]:
    """What the gathering's pages say it is, and the circle whose tabs they show (a circle's own
    meeting only)."""
    if gathering.circle_id is not None:
        return {"kind": "circle", "circle": gathering.circle, "tab": "gatherings"}
    if gathering.link_id is not None:
        link = gathering.link
        assert link is not None
        return {"kind": "link", "circles": [link.asking_circle, link.validating_circle]}
    return {"kind": "federation", "host": gathering.host_circle}


def _refuse(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    raise PermissionDenied


def gathering_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """What the gathering is, when (in its zone and the viewer's), how it repeats, where (for
    those invited), and its next meetings; arrangers change, move and cancel from here."""
    gathering = _gathering(pk)
    if not allowed("gatherings.view", request.user, gathering):
        return _refuse(request)
    invited = allowed("gatherings.view_invited", request.user, gathering)
    may_arrange = gathering.cancelled_at is None and allowed(
        "gatherings.arrange", request.user, gathering
    )
    upcoming = list(
        gathering.occurrences.filter(ends_at__gte=timezone.now()).order_by("starts_at", "pk")[
            :NEXT_SHOWN
        ]
    )
    for occurrence in upcoming:
        occurrence.gathering = gathering
    return render(
        request,
        "gatherings/gathering_detail.html",
        {
            "gathering": gathering,
            **_heading(gathering),
            "is_member": invited,
            "pattern": pattern_words(gathering) if gathering.recurrence else "",
            "next_meeting": next((o for o in upcoming if not o.is_cancelled), None),
            "upcoming": meetings(upcoming) if invited else [],
            "invited": invited,
            "show_place": allowed("gatherings.view_place", request.user, gathering),
            "may_arrange": may_arrange,
            "ics_url": _url("gatherings:gathering_ics", pk=gathering.pk),
        },
    )


def _arranging(request: HttpRequest, pk: int) -> Gathering:
    gathering = _gathering(pk)
    require_perm(request, "gatherings.arrange", gathering)
    return gathering


def _page_context(gathering: Gathering, **more: Any) -> dict[str, Any]:
    return {"gathering": gathering, **_heading(gathering), "is_member": True, **more}


@login_required
def gathering_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the gathering with the planning form, prefilled; a pattern set through the API is
    shown in words and kept unless another is chosen."""
    gathering = _arranging(request, pk)
    form = PlanForm(request.POST or None, gathering=gathering)
    sequence = gathering.sequence

    def done(changed: Gathering) -> HttpResponse:
        if changed.sequence == sequence:
            return saved(request, _("Nothing was changed."), changed)
        return saved(request, _("The gathering is changed. Those invited have been told."), changed)

    return form_page(
        request,
        form,
        action=lambda d: _on_form(
            lambda: planning.gathering_change(
                actor=me(request),
                gathering=gathering,
                title=d["title"],
                details=d["details"],
                when=d["when"],
                place=d["place"],
                online_link=d["online_link"],
            )
        ),
        done=done,
        template="gatherings/gathering_edit.html",
        context=_page_context(gathering, form=form),
    )


@login_required
def gathering_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel the gathering and every meeting still to come."""
    gathering = _arranging(request, pk)
    form = CancelForm(request.POST or None)
    return form_page(
        request,
        form,
        action=lambda d: planning.gathering_cancel(
            actor=me(request), gathering=gathering, reason=d["reason"]
        ),
        done=lambda g: saved(
            request, _("The gathering is cancelled. Those invited have been told."), g
        ),
        template="gatherings/gathering_cancel.html",
        context=_page_context(gathering, form=form),
    )


@login_required
def occurrence_move(request: HttpRequest, pk: int, occurrence: int) -> HttpResponse:
    """Move one meeting (this month's a week later); the pattern stays."""
    gathering = _arranging(request, pk)
    meeting = _occurrence(gathering, occurrence)
    zone = recurrence_zone(gathering.time_zone)
    starts, ends = meeting.starts_at.astimezone(zone), meeting.ends_at.astimezone(zone)
    initial = {
        "date": starts.date(),
        "start": starts.time().replace(second=0, microsecond=0),
        "end": ends.time().replace(second=0, microsecond=0),
        "end_date": ends.date() if ends.date() != starts.date() else None,
    }
    form = MoveForm(request.POST or None, initial=initial)
    return form_page(
        request,
        form,
        action=lambda d: _on_form(
            lambda: planning.occurrence_move(
                actor=me(request),
                occurrence=meeting,
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
                reason=d["reason"],
            )
        ),
        done=lambda o: saved(
            request, _("The meeting is moved. Those invited have been told."), gathering
        ),
        template="gatherings/occurrence_move.html",
        context=_page_context(gathering, form=form, occurrence=meeting),
    )


@login_required
def occurrence_cancel(request: HttpRequest, pk: int, occurrence: int) -> HttpResponse:
    """Cancel one meeting; the others go on."""
    gathering = _arranging(request, pk)
    meeting = _occurrence(gathering, occurrence)
    form = CancelForm(request.POST or None)
    return form_page(
        request,
        form,
        action=lambda d: planning.occurrence_cancel(
            actor=me(request), occurrence=meeting, reason=d["reason"]
        ),
        done=lambda o: saved(
            request, _("The meeting is cancelled. Those invited have been told."), gathering
        ),
        template="gatherings/occurrence_cancel.html",
        context=_page_context(gathering, form=form, occurrence=meeting),
    )


# --- from a find-a-time poll --------------------------------------------------------------------


@login_required
@require_POST
def gathering_from_poll(request: HttpRequest, slug: str, poll: int) -> HttpResponse:
    """A find-a-time poll becomes a gathering at its best time, in one click; the planner then
    checks the details and the pattern on the gathering's edit page."""
    found = get_object_or_404(Poll.objects.select_related("circle"), pk=poll, circle__slug=slug)
    require_perm(request, "polls.view_poll", found)
    require_perm(request, "gatherings.plan", found.circle)
    try:
        gathering = planning.gathering_from_poll(actor=me(request), poll=found)
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect(found)
    messages.success(
        request, _("Planned at the poll's best time: check the details and the pattern.")
    )
    return redirect("gatherings:gathering_edit", pk=gathering.pk)
