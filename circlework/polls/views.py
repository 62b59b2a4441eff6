"""Poll pages. Thin: parse, ask the rules, call one service, render. Plain forms, no JavaScript."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from circlework.circles.models import Circle
from circlework.core.errors import ApplicationError
from circlework.core.http import flash_error, form_error, form_page, me, require_perm, saved
from circlework.core.permissions import allowed
from circlework.polls import selectors, services
from circlework.polls.forms import AnswerForm, PollForm
from circlework.polls.models import Poll


def _circle(slug: str) -> Circle:
    return get_object_or_404(Circle.objects.select_related("federation"), slug=slug)


def _poll(slug: str, pk: int) -> Poll:
    return get_object_or_404(
        Poll.objects.select_related("circle", "circle__federation", "author"),
        pk=pk,
        circle__slug=slug,
    )


@login_required
def poll_list(request: HttpRequest, slug: str) -> HttpResponse:
    circle = _circle(slug)
    require_perm(request, "polls.view_polls", circle)
    open_, closed = selectors.circle_polls(circle=circle, practitioner=me(request))
    return render(
        request,
        "polls/poll_list.html",
        {"circle": circle, "open": open_, "closed": closed, "tab": "polls", "is_member": True},
    )


@login_required
def poll_new(request: HttpRequest, slug: str) -> HttpResponse:
    circle = _circle(slug)
    require_perm(request, "polls.open_poll", circle)
    form = PollForm(request.POST or None)
    return form_page(
        request,
        form,
        action=lambda d: services.poll_open(
            actor=me(request),
            circle=circle,
            title=d["title"],
            details=d["details"],
            kind=d["kind"],
            options=d["labels"],
            times=d["times"],
            closes_at=d["closes_at"],
            anonymous=d["anonymous"],
        ),
        done=lambda poll: saved(request, _("Your poll is open. Members have been told."), poll),
        template="polls/poll_new.html",
        context={"circle": circle, "form": form, "tab": "polls", "is_member": True},
    )


def _detail(
    request: HttpRequest, poll: Poll, form: AnswerForm | None = None, status: int = 200
) -> HttpResponse:
    page = selectors.poll_page(user=request.user, poll=poll, practitioner=me(request))
    if form is None:
        form = AnswerForm(
            poll=poll,
            options=page.options,
            initial=AnswerForm.initial_from(
                poll, page.my_answer.choices if page.my_answer else None
            ),
        )
    return render(
        request,
        "polls/poll_detail.html",
        {
            "circle": poll.circle,
            "poll": poll,
            "page": page,
            "results": page.results,
            "form": form,
            "is_author": allowed("polls.close_poll", request.user, poll),
            "tab": "polls",
            "is_member": True,
        },
        status=status,
    )


@login_required
def poll_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The poll: its answer form (a POST here answers or changes the answer) and its results."""
    poll = _poll(slug, pk)
    if request.method != "POST":
        require_perm(request, "polls.view_poll", poll)
        return _detail(request, poll)
    require_perm(request, "polls.answer", poll)
    form = AnswerForm(request.POST, poll=poll, options=list(poll.options.order_by("position")))
    if not form.is_valid():
        return _detail(request, poll, form, status=400)
    try:
        services.ballot_cast(actor=me(request), poll=poll, **form.service_kwargs())
    except ApplicationError as exc:
        form_error(form, exc)
        poll.refresh_from_db()
        return _detail(request, poll, form, status=exc.status_code)
    messages.success(
        request, _("Your answer is recorded. You can change it until the poll closes.")
    )
    return redirect(f"{poll.get_absolute_url()}#results")


@login_required
@require_POST
def poll_close(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The author closes the poll early. Other members are told why not, on the poll's page."""
    poll = _poll(slug, pk)
    require_perm(request, "polls.view_poll", poll)
    try:
        services.poll_close(actor=me(request), poll=poll)
    except ApplicationError as exc:
        if exc.status_code == 403:
            messages.error(request, _("Only the member who opened this poll can close it early."))
        else:
            flash_error(request, exc)
    else:
        messages.success(request, _("The poll is closed and everyone has been told the results."))
    return redirect(poll)
