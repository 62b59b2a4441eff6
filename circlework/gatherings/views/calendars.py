"""Calendar pages: one's subscriptions (feed addresses), the feeds themselves (read by calendar
apps, with no session: the token in the address is the key) and one gathering's .ics file."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from circlework.circles.models import Circle
from circlework.core.errors import ApplicationError, NotFound
from circlework.core.http import flash_error, me, query_number
from circlework.core.permissions import allowed
from circlework.core.visibility import own_memberships
from circlework.gatherings import ics, selectors
from circlework.gatherings.models import CalendarFeed
from circlework.gatherings.services import calendars

CALENDAR = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class FeedRow:
    """One line of the subscriptions page: a circle (None: personal) and its live feed."""

    circle_id: int | None
    name: str
    feed: CalendarFeed | None
    address: str = ""
    offered: bool = True  # False: the circle asks for two-factor sign-in


def _address(request: HttpRequest, feed: CalendarFeed) -> str:
    return ics.site_url(reverse("gatherings:calendar_feed", kwargs={"token": str(feed.token)}))


@login_required
@require_http_methods(["GET", "POST"])
def calendar_feeds(request: HttpRequest) -> HttpResponse:
    """My calendar subscriptions: make, copy, renew or stop my personal feed and one per circle.
    Only my own feeds are read, so nobody else's address is ever shown."""
    practitioner = me(request)
    if request.method == "POST":
        return _act(request)
    feeds = calendars.live_feeds(practitioner=practitioner)
    personal = next((f for f in feeds if f.circle_id is None), None)
    by_circle = {f.circle_id: f for f in feeds if f.circle_id is not None}
    rows = [
        FeedRow(
            None,
            _("All the gatherings you are invited to"),
            personal,
            _address(request, personal) if personal else "",
        )
    ]
    asks_second_factor = False
    for circle_id, _fed, _status, requires_2fa, _slug, name, _fname, _pattern in sorted(
        own_memberships(request.user), key=lambda row: row[5].lower()
    ):
        feed = by_circle.get(circle_id)
        asks_second_factor = asks_second_factor or requires_2fa
        rows.append(
            FeedRow(
                circle_id,
                name,
                feed if not requires_2fa else None,
                _address(request, feed) if feed and not requires_2fa else "",
                offered=not requires_2fa,
            )
        )
    return render(
        request,
        "gatherings/calendar_feeds.html",
        {"rows": rows, "asks_second_factor": asks_second_factor, "section": "calendar"},
    )


def _act(request: HttpRequest) -> HttpResponse:
    practitioner = me(request)
    action = request.POST.get("action", "")
    try:
        if action == "create":
            circle = None
            if request.POST.get("circle"):
                circle_id = query_number(request.POST.get("circle"), limit=2**63 - 1)
                circle = Circle.objects.filter(pk=circle_id).first() if circle_id else None
                if circle is None:
                    raise Http404
            calendars.feed_create(actor=practitioner, circle=circle)
            messages.success(
                request,
                _("Your calendar address is ready. Copy it into your calendar app."),
            )
        elif action == "revoke":
            feed_id = query_number(request.POST.get("feed"), limit=2**63 - 1)
            feed = (
                CalendarFeed.objects.filter(pk=feed_id, practitioner=practitioner).first()
                if feed_id
                else None
            )
            if feed is None:
                raise Http404
            calendars.feed_revoke(actor=practitioner, feed=feed)
            messages.success(request, _("That calendar address no longer works."))
        else:
            messages.error(request, _("Choose what to do with the calendar address."))
    except ApplicationError as exc:
        flash_error(request, exc)
    return redirect("gatherings:calendar_feeds")


def _calendar(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=CALENDAR)
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A feed, for calendar apps: the token is the key, no session is read. Unknown or revoked
    → 404, and nothing is written."""
    feed = calendars.feed_by_token(token)
    if feed is None:
        raise Http404
    try:
        body = calendars.calendar_for_feed(feed)
    except NotFound as exc:
        raise Http404 from exc
    calendars.feed_note_read(feed)
    return _calendar(body, "circlework.ics")


@require_GET
def gathering_ics(request: HttpRequest, pk: int) -> HttpResponse:
    """One gathering as a file to add to a calendar (the link only for those invited; the place
    for those invited, and for anyone when the gathering is open to the public)."""
    gathering = selectors.gathering_for_page(pk)
    if gathering is None:
        raise Http404
    if not allowed("gatherings.view", request.user, gathering):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404
    body = calendars.calendar_for_gathering(gathering, user=request.user)
    return _calendar(body, f"gathering-{gathering.pk}.ics")
