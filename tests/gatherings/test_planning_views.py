"""Planning pages as members use them: plain form posts, errors on the form with a 400, who sees
what (the place and link only for those invited), the circle's overview and the home page."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from circlework.circles import two_factor
from circlework.gatherings import registrations
from circlework.gatherings.models import Gathering
from circlework.gatherings.services import planning
from circlework.gatherings.services.planning import When
from circlework.polls import services as poll_services
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def people(federation: Any) -> dict[str, Any]:
    ana, ben, olga = (factories.make_practitioner(n) for n in ("Ana", "Ben", "Olga"))
    circle = factories.make_circle(
        founder=ana, federation=federation, members=[ben], name="Leeds Circle"
    )
    factories.make_circle(founder=olga, federation=federation, name="Elsewhere")
    return {"circle": circle, "ana": ana, "ben": ben, "olga": olga}


def _day(days: int = 14) -> date:
    return timezone.localdate() + timedelta(days=days)


def _form(**changes: str) -> dict[str, str]:
    data = {
        "title": "Peer review",
        "details": "Bring **one** case.",
        "date": _day().isoformat(),
        "start": "19:00",
        "end": "21:00",
        "time_zone": "Europe/London",
        "place": "Quaker Meeting House",
        "online_link": "https://meet.example.org/leeds",
        "repeat": "none",
        "ends": "never",
    }
    data.update(changes)
    return data


def _plan(people: dict[str, Any], rule: str = "FREQ=MONTHLY;BYDAY=+2WE", **kw: Any) -> Gathering:
    day = _day()
    start = datetime(day.year, day.month, day.day, 19, 0)  # noqa: DTZ001 - wall-clock time
    return planning.gathering_plan(
        actor=people["ana"],
        circle=people["circle"],
        title=kw.pop("title", "Monthly meeting"),
        when=When(start, start + timedelta(hours=2), "Europe/London", rule),
        place=kw.pop("place", "Room 4"),
        **kw,
    )


def test_a_member_plans_a_monthly_gathering(client: Client, people: dict[str, Any]) -> None:
    login(client, people["ana"])
    url = reverse("gatherings:gathering_new", kwargs={"slug": people["circle"].slug})
    page = client.get(url)
    assert page.status_code == 200
    assert b"Every month on the same weekday" in page.content
    response = client.post(url, _form(repeat="monthly_weekday", ends="count", count="5"))
    gathering = Gathering.objects.get()
    assert response.status_code == 302 and response["Location"] == gathering.get_absolute_url()
    assert gathering.occurrences.count() == 5
    assert gathering.recurrence.startswith("FREQ=MONTHLY;BYDAY=")
    first = gathering.starts_at.astimezone(LONDON)
    assert (first.date(), first.hour) == (_day(), 19)
    detail = client.get(response["Location"]).content.decode()
    assert "The gathering is planned" in detail
    assert "Every month on the" in detail and "5 times" in detail
    assert "Quaker Meeting House" in detail and "<strong>one</strong>" in detail


def test_the_planning_form_defaults_to_the_planners_time_zone(
    client: Client, people: dict[str, Any]
) -> None:
    people["ana"].time_zone = "America/New_York"
    people["ana"].save(update_fields=["time_zone"])
    login(client, people["ana"])
    page = client.get(reverse("gatherings:gathering_new", kwargs={"slug": people["circle"].slug}))
    assert b'<option value="America/New_York" selected>' in page.content


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"end": "18:00"}, "end", "must end after it starts"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Select a valid choice"),
        ({"repeat": "weekly", "ends": "count"}, "count", "how many times"),
        ({"repeat": "weekly", "ends": "until", "until": "2001-01-01"}, "until", "before the first"),
        ({"date": "2001-01-01"}, "start", "within the last year"),
        ({"online_link": "not a link"}, "online_link", "valid URL"),
    ],
)
def test_a_refused_plan_comes_back_with_the_reason_on_its_field(
    client: Client, people: dict[str, Any], changes: dict[str, str], field: str, words: str
) -> None:
    login(client, people["ana"])
    url = reverse("gatherings:gathering_new", kwargs={"slug": people["circle"].slug})
    response = client.post(url, _form(**changes))
    assert response.status_code == 400
    assert words in str(response.context["form"].errors[field])
    assert words in response.content.decode()
    assert not Gathering.objects.exists()


def test_a_time_the_clocks_skip_is_refused_on_the_form(
    client: Client, people: dict[str, Any]
) -> None:
    year = timezone.localdate().year + 1
    last = date(year, 3, 31)
    spring = last - timedelta(days=(last.weekday() - 6) % 7)
    login(client, people["ana"])
    url = reverse("gatherings:gathering_new", kwargs={"slug": people["circle"].slug})
    response = client.post(url, _form(date=spring.isoformat(), start="01:30", end="03:00"))
    assert response.status_code == 400
    assert "clocks go forward" in str(response.context["form"].errors["start"])


def test_the_gatherings_page_lists_coming_repeating_and_past(
    client: Client, people: dict[str, Any]
) -> None:
    monthly = _plan(people)
    start = timezone.now() - timedelta(days=3)
    planning.gathering_plan(
        actor=people["ben"],
        circle=people["circle"],
        title="Last week's review",
        when=When(start, start + timedelta(hours=2), "Europe/London"),
    )
    first = monthly.occurrences.order_by("starts_at")[0]
    planning.occurrence_cancel(actor=people["ana"], occurrence=first, reason="Snow")
    login(client, people["ben"])
    page = client.get(reverse("gatherings:gathering_list", kwargs={"slug": people["circle"].slug}))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Coming meetings" in body and "Cancelled" in body and "(Snow)" in body
    assert "Every month on the second" in body or "Every month on the" in body
    assert "Last week&#x27;s review" in body and "No minutes yet" in body
    assert "Plan a gathering" in body


def test_only_members_see_the_circles_gatherings(client: Client, people: dict[str, Any]) -> None:
    gathering = _plan(people, details="Secret agenda")
    slug = people["circle"].slug
    login(client, people["olga"])
    for url in (
        reverse("gatherings:gathering_list", kwargs={"slug": slug}),
        reverse("gatherings:gathering_new", kwargs={"slug": slug}),
        gathering.get_absolute_url(),
        reverse("gatherings:gathering_edit", kwargs={"pk": gathering.pk}),
    ):
        assert client.get(url).status_code == 403, url
    assert client.get("/circles/no-such-circle/gatherings/").status_code == 404
    assert client.get("/gatherings/999999/").status_code == 404
    anonymous = Client().get(gathering.get_absolute_url())
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_the_gathering_page_shows_the_time_there_and_the_viewers_own(
    client: Client, people: dict[str, Any]
) -> None:
    gathering = _plan(people, rule="")
    people["ben"].time_zone = "America/New_York"
    people["ben"].save(update_fields=["time_zone"])
    login(client, people["ben"])
    body = client.get(gathering.get_absolute_url()).content.decode()
    assert "19:00</time>–<time" in body and "London time" in body
    assert "14:00</time>–<time" in body and "your time" in body
    assert "Room 4" in body
    login(client, people["ana"])  # London: the same time, said once
    assert "your time" not in client.get(gathering.get_absolute_url()).content.decode()


def test_arrangers_change_a_gathering_and_a_pattern_set_through_the_api_is_kept(
    client: Client, people: dict[str, Any]
) -> None:
    gathering = _plan(people, rule="FREQ=MONTHLY;INTERVAL=3;BYDAY=+2WE")
    login(client, people["ben"])
    url = reverse("gatherings:gathering_edit", kwargs={"pk": gathering.pk})
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"]["repeat"].value() == "keep"
    assert "Keep as it is: Every 3 months on the second" in page.content.decode()
    data = _form(title="Quarterly review", repeat="keep", place="Room 9")
    data["date"] = gathering.starts_at.astimezone(LONDON).date().isoformat()
    response = client.post(url, data)
    assert response.status_code == 302
    gathering.refresh_from_db()
    assert gathering.title == "Quarterly review" and gathering.place == "Room 9"
    assert gathering.recurrence == "FREQ=MONTHLY;INTERVAL=3;BYDAY=+2WE"
    assert gathering.sequence == 1
    response = client.post(url, {**data, "repeat": "weekly"})
    gathering.refresh_from_db()
    assert gathering.recurrence.startswith("FREQ=WEEKLY")


def test_the_edit_form_is_prefilled_with_the_pattern(
    client: Client, people: dict[str, Any]
) -> None:
    gathering = _plan(people, rule="FREQ=WEEKLY;COUNT=4")
    login(client, people["ana"])
    form = client.get(reverse("gatherings:gathering_edit", kwargs={"pk": gathering.pk})).context[
        "form"
    ]
    assert form["repeat"].value() == "weekly"
    assert form["ends"].value() == "count" and form["count"].value() == 4
    assert form["start"].value().strftime("%H:%M") == "19:00"


def test_moving_and_cancelling_one_meeting(client: Client, people: dict[str, Any]) -> None:
    gathering = _plan(people, rule="FREQ=WEEKLY;COUNT=3")
    first, second, _third = gathering.occurrences.order_by("starts_at")
    login(client, people["ben"])
    kwargs = {"pk": gathering.pk, "occurrence": first.pk}
    move = reverse("gatherings:occurrence_move", kwargs=kwargs)
    page = client.get(move)
    assert page.status_code == 200 and page.context["form"]["start"].value().hour == 19
    bad = client.post(move, {"date": _day(15).isoformat(), "start": "20:00", "end": "19:00"})
    assert bad.status_code == 400
    response = client.post(
        move, {"date": _day(15).isoformat(), "start": "18:00", "end": "20:00", "reason": "Room"}
    )
    assert response.status_code == 302 and response["Location"] == gathering.get_absolute_url()
    first.refresh_from_db()
    assert first.moved_at is not None and first.starts_at.astimezone(LONDON).hour == 18
    onto = second.starts_at.astimezone(LONDON)
    clash = client.post(move, {"date": onto.date().isoformat(), "start": "19:00", "end": "21:00"})
    assert clash.status_code == 400
    assert "Another meeting" in str(clash.context["form"].errors["start"])
    cancel = reverse(
        "gatherings:occurrence_cancel", kwargs={"pk": gathering.pk, "occurrence": second.pk}
    )
    assert client.get(cancel).status_code == 200
    assert client.post(cancel, {"reason": "Half term"}).status_code == 302
    second.refresh_from_db()
    assert second.cancel_reason == "Half term"
    again = client.post(cancel, {"reason": "Again"})
    assert again.status_code == 400 and "already cancelled" in again.content.decode()


def test_cancelling_the_whole_gathering(client: Client, people: dict[str, Any]) -> None:
    gathering = _plan(people)
    login(client, people["ana"])
    url = reverse("gatherings:gathering_cancel", kwargs={"pk": gathering.pk})
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "We pause"})
    assert response.status_code == 302
    gathering.refresh_from_db()
    assert gathering.cancelled_at is not None
    body = client.get(gathering.get_absolute_url()).content.decode()
    assert "This gathering was cancelled" in body and "Change the gathering" not in body


def _time_poll(people: dict[str, Any]) -> Any:
    soon = (timezone.now() + timedelta(days=9)).replace(minute=0, second=0, microsecond=0)
    poll = poll_services.poll_open(
        actor=people["ana"],
        circle=people["circle"],
        title="When shall we meet?",
        kind="time",
        times=[soon, soon + timedelta(days=1)],
        closes_at=timezone.now() + timedelta(days=3),
    )
    return poll, soon


def test_a_find_a_time_poll_becomes_a_gathering_in_one_click(
    client: Client, people: dict[str, Any]
) -> None:
    poll, soon = _time_poll(people)
    one, two = poll.options.order_by("position")
    login(client, people["ben"])
    poll_url = reverse("polls:poll_detail", kwargs={"slug": people["circle"].slug, "pk": poll.pk})
    assert b"Plan a gathering at this time" not in client.get(poll_url).content  # no answers
    url = reverse(
        "gatherings:gathering_from_poll", kwargs={"slug": people["circle"].slug, "poll": poll.pk}
    )
    refused = client.post(url)
    assert refused.status_code == 302 and refused["Location"] == poll_url
    assert client.get(url).status_code == 405
    poll_services.ballot_cast(
        actor=people["ben"], poll=poll, availability={one.pk: "no", two.pk: "yes"}
    )
    assert b"Plan a gathering at this time" in client.get(poll_url).content
    response = client.post(url)
    gathering = Gathering.objects.get()
    assert response["Location"] == reverse("gatherings:gathering_edit", kwargs={"pk": gathering.pk})
    assert gathering.starts_at == soon + timedelta(days=1)
    assert "Planned at the poll" in client.get(response["Location"]).content.decode()
    login(client, people["olga"])
    assert client.post(url).status_code == 403
    assert Gathering.objects.count() == 1


def test_the_circle_overview_shows_what_is_coming_up_to_members_only(
    client: Client, people: dict[str, Any]
) -> None:
    circle = people["circle"]
    login(client, people["ben"])
    body = client.get(circle.get_absolute_url()).content.decode()
    assert "Nothing is scheduled yet." in body
    _plan(people, title="Monthly meeting")
    body = client.get(circle.get_absolute_url()).content.decode()
    assert "Monthly meeting" in body and "Nothing is scheduled yet." not in body
    assert "All the circle's gatherings" in body


def test_the_home_page_lists_the_next_gatherings(client: Client, people: dict[str, Any]) -> None:
    login(client, people["ben"])
    assert "Your next gatherings" not in client.get("/").content.decode()
    _plan(people, title="Monthly meeting")
    body = client.get("/").content.decode()
    assert "Your next gatherings" in body and "Monthly meeting" in body
    assert "Leeds Circle" in body
    login(client, people["olga"])
    assert "Monthly meeting" not in client.get("/").content.decode()


def test_a_gatherings_pages_belong_to_its_circle_for_the_two_factor_hint(
    people: dict[str, Any],
) -> None:
    gathering = _plan(people)
    assert "gatherings" in two_factor.record_kinds()
    assert registrations.gathering_circles(gathering.pk) == {people["circle"].pk}
    assert registrations.gathering_circles(999_999) == set()
