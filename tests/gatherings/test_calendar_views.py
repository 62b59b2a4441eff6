"""The calendar pages: one's subscriptions, the feed address calendar apps read, one gathering's
.ics, and the reminder choice on the notification settings page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from circlework.core.models import AuditEvent
from circlework.gatherings.models import CalendarFeed
from circlework.gatherings.services import calendars
from circlework.notifications.models import NotificationKind, ReminderSetting
from tests import factories
from tests.gatherings.calendar_helpers import circle_with_monthly_meeting, master, parse

pytestmark = pytest.mark.django_db

FEEDS = "/calendar/"


def _client(user: object) -> Client:
    client = Client()
    factories.sign_in(client, user)  # type: ignore[arg-type]
    return client


def test_the_urls_are_where_the_plan_says() -> None:
    assert reverse("gatherings:calendar_feeds") == FEEDS
    assert reverse("gatherings:calendar_feed", kwargs={"token": "abc"}) == "/calendar/abc.ics"
    assert reverse("gatherings:gathering_ics", kwargs={"pk": 3}) == "/gatherings/3/calendar.ics"


def test_subscribing_makes_an_address_that_serves_the_calendar() -> None:
    member = factories.make_practitioner("Ben Brook")
    circle, gathering = circle_with_monthly_meeting(members=(member,))
    client = _client(member.user)
    page = client.get(FEEDS)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Google Calendar" in text and "Outlook" in text and "Apple Calendar" in text
    assert circle.name in text
    response = client.post(FEEDS, {"action": "create"})
    assert response.status_code == 302
    (feed,) = CalendarFeed.objects.filter(practitioner=member)
    token = str(feed.token)
    assert f"/calendar/{token}.ics" in client.get(FEEDS).content.decode()
    # The calendar app reads it without a session.
    served = Client().get(f"/calendar/{token}.ics")
    assert served.status_code == 200
    assert served["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in served["Cache-Control"]
    event = master(parse(served.content), gathering)
    assert str(event["LOCATION"]) == "Room 4, Quaker House"
    feed.refresh_from_db()
    assert feed.last_read_at is not None


def test_a_circle_feed_and_stopping_it() -> None:
    member = factories.make_practitioner("Ben Brook")
    circle, _gathering = circle_with_monthly_meeting(members=(member,))
    client = _client(member.user)
    client.post(FEEDS, {"action": "create", "circle": str(circle.pk)})
    (feed,) = CalendarFeed.objects.filter(practitioner=member, circle=circle)
    token = str(feed.token)
    assert Client().get(f"/calendar/{token}.ics").status_code == 200
    client.post(FEEDS, {"action": "revoke", "feed": str(feed.pk)})
    feed.refresh_from_db()
    assert feed.revoked_at is not None
    assert token not in client.get(FEEDS).content.decode()


def test_a_stopped_address_is_not_found_and_changes_nothing() -> None:
    owner = factories.make_practitioner()
    feed, token = calendars.feed_create(actor=owner)
    calendars.feed_revoke(actor=owner, feed=feed)
    feed.refresh_from_db()
    before = (feed.last_read_at, feed.revoked_at, AuditEvent.objects.count())
    assert Client().get(f"/calendar/{token}.ics").status_code == 404
    assert Client().get("/calendar/not-a-token.ics").status_code == 404
    feed.refresh_from_db()
    assert (feed.last_read_at, feed.revoked_at, AuditEvent.objects.count()) == before


def test_nobody_sees_or_stops_another_persons_address() -> None:
    owner, other = factories.make_practitioner(), factories.make_practitioner()
    feed, token = calendars.feed_create(actor=owner)
    client = _client(other.user)
    assert token not in client.get(FEEDS).content.decode()
    response = client.post(FEEDS, {"action": "revoke", "feed": str(feed.pk)})
    assert response.status_code == 404
    assert calendars.feed_by_token(token) == feed


def test_one_gatherings_file_shows_the_place_only_to_those_invited() -> None:
    circle, gathering = circle_with_monthly_meeting()
    url = f"/gatherings/{gathering.pk}/calendar.ics"
    founder = circle.founded_by
    assert founder is not None
    response = _client(founder.user).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert b"Quaker House" in response.content
    outsider = factories.make_practitioner()
    assert _client(outsider.user).get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_the_settings_page_offers_reminders_and_links_the_subscriptions() -> None:
    person = factories.make_practitioner()
    client = _client(person.user)
    page = client.get("/me/notifications/settings/").content.decode()
    assert "When to remind you before a gathering" in page
    assert FEEDS in page
    # The whole form: every kind plus the reminders.
    data = {kind: "off" for kind in NotificationKind.values}
    data["gathering_reminders"] = "both"
    response = client.post("/me/notifications/settings/", data)
    assert response.status_code == 302
    assert ReminderSetting.objects.get(practitioner=person).gatherings == "both"
    # Sent without it (an older form), the choice is kept.
    data.pop("gathering_reminders")
    client.post("/me/notifications/settings/", data)
    assert ReminderSetting.objects.get(practitioner=person).gatherings == "both"
