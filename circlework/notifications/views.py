from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from circlework.core.http import form_page, me, saved
from circlework.core.visibility import audience_for
from circlework.notifications import selectors, services
from circlework.notifications.forms import PreferencesForm
from circlework.notifications.models import Notification


def _cursor(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The inbox, a page at a time, newest first (`?before=<id>` for older, `?after=<id>` for
    newer)."""
    page = selectors.inbox_page(
        practitioner=me(request),
        before=_cursor(request.GET.get("before")),
        after=_cursor(request.GET.get("after")),
        user=request.user,
    )
    return render(
        request,
        "notifications/inbox.html",
        {"notifications": page.notifications, "page": page},
    )


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    # Looked up within the viewer's own inbox: another person's notification is simply not found.
    notification = get_object_or_404(Notification, pk=pk, recipient=me(request))
    services.notification_mark_read(actor=me(request), notification=notification)
    if request.htmx:  # type: ignore[attr-defined]
        (shown,) = selectors.readable([notification], audience_for(request.user))
        return render(request, "notifications/inbox.html#notification", {"n": shown})
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.notification_mark_all_read(actor=me(request))
    messages.success(request, _("%(n)s notifications marked as read.") % {"n": count})
    return redirect("notifications:inbox")


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    practitioner = me(request)
    form = PreferencesForm(
        request.POST or None,
        initial_choices=selectors.preferences(practitioner=practitioner),
        initial_reminders=selectors.reminder_lead(practitioner=practitioner),
    )

    def save(_data: dict[str, str]) -> None:
        choices, reminders = form.split()
        services.notification_preferences_set(
            actor=practitioner, choices=choices, reminders=reminders
        )

    return form_page(
        request,
        form,
        action=save,
        done=lambda _r: saved(
            request, _("Your notification settings are saved."), "notifications:preferences"
        ),
        template="notifications/preferences.html",
        context={"form": form, "section": "notifications"},
    )
