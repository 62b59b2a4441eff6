"""Federation gatherings' pages as plain POSTs: the list, proposing one, the programme's forms,
the public's registration and its cancel link, and the arrangers' download."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from circlework.circles.models import Circle
from circlework.core.models import AuditEvent
from circlework.gatherings.models import (
    CircleSignup,
    Gathering,
    ProgrammeSession,
    PublicRegistration,
    SessionState,
)
from circlework.gatherings.services import federation, meeting
from tests.gatherings.test_federation_services import fed, plan

pytestmark = pytest.mark.django_db

__all__ = ["fed"]  # the fixture, shared with the services' tests


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> Any:
    """The public form's rate limit counts in the cache: each test starts with none used."""
    cache.clear()
    yield
    cache.clear()


def client_for(person: Any) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def _wall(moment: Any) -> str:
    """A time as the form's datetime-local field sends it, on the wall in London."""
    return str(moment.astimezone(zoneinfo.ZoneInfo("Europe/London")).strftime("%Y-%m-%dT%H:%M"))


def test_the_list_shows_public_gatherings_to_everyone_and_the_rest_to_members(
    fed: dict[str, Any],
) -> None:
    private, public = plan(fed), plan(fed, public=True)
    private.title, public.title = "Members only", "Open to all"
    Gathering.objects.filter(pk=private.pk).update(title="Members only")
    Gathering.objects.filter(pk=public.pk).update(title="Open to all")
    url = reverse("gatherings:federation_gathering_list", args=[fed["federation"].slug])
    anonymous = Client().get(url).content.decode()
    assert "Open to all" in anonymous and "Members only" not in anonymous
    assert "Propose a gathering" not in anonymous
    member = client_for(fed["cy"]).get(url).content.decode()
    assert "Open to all" in member and "Members only" in member
    assert "Propose a gathering" in member


def test_a_public_gathering_s_place_is_public_and_its_online_link_is_not(
    fed: dict[str, Any],
) -> None:
    public = plan(fed, public=True)
    Gathering.objects.filter(pk=public.pk).update(online_link="https://meet.example/secret-room")
    occurrence = public.occurrences.get()
    pages = {
        "programme": reverse("gatherings:programme", args=[public.pk]),
        "about": reverse("gatherings:gathering_detail", args=[public.pk]),
        "meeting": occurrence.get_absolute_url(),
        "calendar": reverse("gatherings:gathering_ics", args=[public.pk]),
    }
    for who, client in (("olga", client_for(fed["olga"])), ("cy", client_for(fed["cy"]))):
        for name, url in pages.items():
            body = client.get(url).content.decode().replace("\r\n ", "")  # iCalendar folds
            assert "Leeds" in body, (who, name)
            assert ("secret-room" in body) is (who == "cy"), (who, name)
    calendar = Client().get(pages["calendar"]).content.decode()  # anyone, signed in or not
    assert "LOCATION:Leeds" in calendar and "secret-room" not in calendar

    private = plan(fed)
    body = (
        client_for(fed["cy"])
        .get(reverse("gatherings:gathering_detail", args=[private.pk]))
        .content.decode()
    )
    assert "Leeds" in body  # the members of a gathering not open to the public see it
    assert client_for(fed["olga"]).get(
        private.occurrences.get().get_absolute_url()
    ).status_code in (
        403,
        404,
    )


def test_the_host_is_named_only_to_those_who_may_see_its_circle(fed: dict[str, Any]) -> None:
    public = plan(fed, public=True)
    Circle.objects.filter(pk=fed["host"].pk).update(name="Hazel Hosts", visibility="circle")
    url = reverse("gatherings:gathering_detail", args=[public.pk])
    assert "hosted by Hazel Hosts" in client_for(fed["ana"]).get(url).content.decode()
    body = client_for(fed["olga"]).get(url).content.decode()
    assert "Hazel" not in body and "hosted by a circle" in body


def test_a_federation_meeting_names_who_answered_and_counts_the_rest(
    fed: dict[str, Any],
) -> None:
    occurrence = plan(fed).occurrences.get()
    meeting.attendance_answer(actor=fed["cy"], occurrence=occurrence, answer="yes")
    body = client_for(fed["ana"]).get(occurrence.get_absolute_url()).content.decode()
    assert "Cy Guest" in body  # answered: named
    assert "3 not answered yet" in body and "Dee Guest" not in body  # not answered: a count


def test_the_past_gatherings_come_a_page_at_a_time(fed: dict[str, Any]) -> None:
    ago = timezone.now() - timedelta(days=400)
    for i in range(23):
        g = plan(fed, public=True)
        start = ago + timedelta(days=i)
        Gathering.objects.filter(pk=g.pk).update(
            title=f"Old gathering {i:02}", starts_at=start, ends_at=start + timedelta(hours=2)
        )
    plan(fed, public=True)  # to come
    url = reverse("gatherings:federation_gathering_list", args=[fed["federation"].slug])
    first = Client().get(url).content.decode()
    assert first.count("Old gathering") == 20 and "Old gathering 22" in first
    assert "Spring gathering" in first and "Page 1 of 2" in first
    second = Client().get(url + "?page=2").content.decode()
    assert second.count("Old gathering") == 3 and "Old gathering 00" in second
    assert "Old gathering 22" not in second


def test_a_member_proposes_a_gathering_hosted_by_their_circle(fed: dict[str, Any]) -> None:
    url = reverse("gatherings:federation_gathering_new", args=[fed["federation"].slug])
    client = client_for(fed["cy"])
    assert client.get(url).status_code == 200
    starts = timezone.now() + timedelta(days=30)
    response = client.post(
        url,
        {
            "title": "Autumn exchange",
            "details": "Come and share.",
            "starts_at": starts.strftime("%Y-%m-%dT10:00"),
            "ends_at": (starts + timedelta(days=1)).strftime("%Y-%m-%dT16:00"),
            "time_zone": "Europe/London",
            "place": "York",
            "host_circle": str(fed["guest"].pk),
            "is_public": "on",
        },
    )
    gathering = Gathering.objects.get(title="Autumn exchange")
    assert response.status_code == 302
    assert response["Location"] == reverse("gatherings:programme", args=[gathering.pk])
    assert gathering.is_federation_gathering and gathering.is_public
    assert gathering.host_circle == fed["guest"] and gathering.planned_by == fed["cy"]


def test_a_circle_not_yours_cannot_host_and_an_outsider_cannot_propose(
    fed: dict[str, Any],
) -> None:
    url = reverse("gatherings:federation_gathering_new", args=[fed["federation"].slug])
    data = {
        "title": "Not mine",
        "starts_at": (timezone.now() + timedelta(days=30)).strftime("%Y-%m-%dT10:00"),
        "time_zone": "Europe/London",
        "host_circle": str(fed["host"].pk),
    }
    assert client_for(fed["cy"]).post(url, data).status_code == 400
    assert client_for(fed["olga"]).post(url, data).status_code == 403
    assert not Gathering.objects.filter(title="Not mine").exists()


def test_the_programme_page_offers_a_session_and_the_host_accepts_it(
    fed: dict[str, Any],
) -> None:
    gathering = plan(fed)
    page = reverse("gatherings:programme", args=[gathering.pk])
    cy = client_for(fed["cy"])
    body = cy.get(page).content.decode()
    assert (
        "Offer a session" in body and "Guest is coming" in body and "Sessions to decide" not in body
    )
    response = cy.post(
        reverse("gatherings:session_offer", args=[gathering.pk]),
        {"title": "Listening circles", "description": "In pairs.", "minutes": "90"},
    )
    assert response.status_code == 302
    session = ProgrammeSession.objects.get()
    ben = client_for(fed["ben"])
    assert "Sessions to decide" in ben.get(page).content.decode()
    decide = reverse("gatherings:session_decide", args=[gathering.pk, session.pk])
    too_late = gathering.ends_at + timedelta(hours=1)
    refused = ben.post(decide, {"decision": "accept", "starts_at": _wall(too_late), "room": "A"})
    assert refused.status_code == 400
    assert "while the gathering is on" in refused.content.decode()
    session.refresh_from_db()
    assert session.state == SessionState.OFFERED
    assert cy.post(decide, {"decision": "decline"}).status_code == 403
    start = gathering.starts_at + timedelta(hours=3)
    accepted = ben.post(decide, {"decision": "accept", "starts_at": _wall(start), "room": "Hall"})
    assert accepted.status_code == 302
    session.refresh_from_db()
    assert session.state == SessionState.ACCEPTED and session.room == "Hall"
    assert session.starts_at == start.replace(second=0, microsecond=0)
    public_view = client_for(fed["dee"]).get(page).content.decode()
    assert "Listening circles" in public_view


def test_a_circle_signs_up_on_the_programme_page_and_withdraws(fed: dict[str, Any]) -> None:
    gathering = plan(fed)
    cy = client_for(fed["cy"])
    url = reverse("gatherings:circle_signup", args=[gathering.pk, fed["guest"].slug])
    # Someone not in the circle is not among the choices.
    assert cy.post(url, {"attendees": [str(fed["ana"].pk)]}).status_code == 400
    assert not CircleSignup.objects.exists()
    response = cy.post(url, {"attendees": [str(fed["cy"].pk), str(fed["dee"].pk)], "note": "Hi"})
    assert response.status_code == 302
    signup = CircleSignup.objects.get()
    assert signup.attendees.count() == 2
    body = client_for(fed["ana"]).get(reverse("gatherings:programme", args=[gathering.pk]))
    text = body.content.decode()
    assert "Circles coming" in text and "Cy Guest" in text and "2 people" in text
    # Another circle's member cannot sign Guest up.
    assert client_for(fed["ana"]).post(url, {"attendees": [str(fed["ana"].pk)]}).status_code == 403
    withdraw = reverse("gatherings:circle_signup_withdraw", args=[gathering.pk, fed["guest"].slug])
    assert cy.post(withdraw).status_code == 302
    assert not CircleSignup.objects.exists()


def test_the_public_registers_and_cancels_by_the_link(fed: dict[str, Any]) -> None:
    gathering = plan(fed, public=True)
    url = reverse("gatherings:public_register", args=[gathering.pk])
    visitor = Client(enforce_csrf_checks=True)
    form = visitor.get(url)
    assert form.status_code == 200 and b"csrfmiddlewaretoken" in form.content
    token = form.cookies["csrftoken"].value
    mail.outbox.clear()
    response = visitor.post(
        url, {"name": "Pat Public", "email": "pat@example.org", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("gatherings:public_register_thanks", args=[gathering.pk])
    assert PublicRegistration.objects.filter(cancelled_at__isnull=True).count() == 1
    [sent] = mail.outbox
    link = next(line for line in sent.body.splitlines() if "/register/cancel/" in line)
    again = visitor.post(
        url, {"name": "Pat", "email": "PAT@example.org", "csrfmiddlewaretoken": token}
    )
    assert again.status_code == 400
    assert "already registered" in again.content.decode()
    path = link[link.index("/gatherings/") :]
    confirm = Client().get(path)
    assert confirm.status_code == 200 and b"Cancel my registration" in confirm.content
    assert Client().post(path).status_code == 200
    assert not PublicRegistration.objects.filter(cancelled_at__isnull=True).exists()
    assert b"already cancelled" in Client().get(path).content


def test_a_gathering_not_open_to_the_public_has_no_registration(fed: dict[str, Any]) -> None:
    gathering = plan(fed)
    url = reverse("gatherings:public_register", args=[gathering.pk])
    assert Client().get(url).status_code == 404
    assert Client().post(url, {"name": "Pat", "email": "pat@example.org"}).status_code == 404
    assert not PublicRegistration.objects.exists()


def test_the_public_form_is_rate_limited_per_address(fed: dict[str, Any], settings: Any) -> None:
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "gatherings_public_register": "2/h/ip",
    }
    gathering = plan(fed, public=True)
    url = reverse("gatherings:public_register", args=[gathering.pk])
    for n in range(2):
        Client().post(url, {"name": "Pat", "email": f"pat{n}@example.org"})
    third = Client().post(url, {"name": "Pat", "email": "pat2@example.org"})
    assert third.status_code == 429
    assert PublicRegistration.objects.count() == 2


def test_the_arrangers_download_the_registrations(fed: dict[str, Any]) -> None:
    gathering = plan(fed, public=True)
    federation.public_register(gathering=gathering, name="=Pat", email="pat@example.org")
    url = reverse("gatherings:registrations_csv", args=[gathering.pk])
    assert client_for(fed["cy"]).get(url).status_code == 403
    page = client_for(fed["ben"]).get(reverse("gatherings:programme", args=[gathering.pk]))
    assert "1 person from the public has registered" in page.content.decode()
    response = client_for(fed["ben"]).get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[1] == "'=Pat,pat@example.org"  # a formula is written as text
    assert AuditEvent.objects.filter(verb="gathering.registrations_downloaded").count() == 1


def test_the_federation_overview_shows_its_next_gatherings_to_those_who_may_see_them(
    fed: dict[str, Any],
) -> None:
    private, public = plan(fed, days=10), plan(fed, public=True, days=20)
    Gathering.objects.filter(pk=private.pk).update(title="Members only")
    Gathering.objects.filter(pk=public.pk).update(title="Open to all")
    url = reverse("circles:federation_detail", args=[fed["federation"].slug])
    anonymous = Client().get(url).content.decode()
    assert "Open to all" in anonymous and "Members only" not in anonymous
    member = client_for(fed["cy"]).get(url).content.decode()
    assert member.index("Members only") < member.index("Open to all")  # soonest first
    elsewhere = client_for(fed["olga"]).get(url).content.decode()
    assert "Members only" not in elsewhere and "Open to all" in elsewhere
    assert reverse("gatherings:federation_gathering_list", args=[fed["federation"].slug]) in member
