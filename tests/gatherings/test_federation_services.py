"""Federation gatherings through the services: circles signing up, sessions offered and decided,
the public registering and cancelling. Each use case, each refusal (nothing changed), the audit
event, who was told."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from circlework.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from circlework.core.models import AuditEvent
from circlework.core.visibility import forget_audience
from circlework.gatherings.models import (
    CircleSignup,
    Gathering,
    ProgrammeSession,
    PublicRegistration,
    SessionState,
)
from circlework.gatherings.services import federation, planning
from circlework.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def fed() -> dict[str, Any]:
    """Two validated circles of one federation (Host: Ana, Ben; Guest: Cy, Dee) and Olga, in a
    circle of another federation."""
    federation_ = factories.make_federation_validating_by_size("Gathering Federation")
    ana, ben, cy, dee, olga = (
        factories.make_practitioner(n)
        for n in ("Ana Host", "Ben Host", "Cy Guest", "Dee Guest", "Olga")
    )
    host = factories.make_circle(founder=ana, federation=federation_, members=[ben], name="Host")
    guest = factories.make_circle(founder=cy, federation=federation_, members=[dee], name="Guest")
    elsewhere = factories.make_federation_validating_by_size("Elsewhere Federation")
    factories.make_circle(
        founder=olga,
        federation=elsewhere,
        members=[factories.make_practitioner("Olga's friend")],
        name="Elsewhere",
    )
    for circle in (host, guest):
        circle.refresh_from_db()  # its second member's joining validated it
    for person in (ana, ben, cy, dee, olga):
        forget_audience(person.user)
    return {
        "federation": federation_,
        "host": host,
        "guest": guest,
        "ana": ana,
        "ben": ben,
        "cy": cy,
        "dee": dee,
        "olga": olga,
    }


def plan(fed: dict[str, Any], *, public: bool = False, days: int = 14) -> Gathering:
    start = (timezone.now() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return planning.gathering_plan(
        actor=fed["ana"],
        federation=fed["federation"],
        host_circle=fed["host"],
        title="Spring gathering",
        details="Two days of exchange.",
        place="Leeds",
        when=planning.When(start, start + timedelta(days=1), "Europe/London"),
        is_public=public,
    )


@pytest.fixture
def gathering(fed: dict[str, Any]) -> Gathering:
    return plan(fed)


def _verbs() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("verb", flat=True))


# --- circles signing up ---


def test_a_member_signs_their_circle_up_and_the_organisers_are_told(
    fed: dict[str, Any], gathering: Gathering
) -> None:
    signup = federation.circle_signup(
        actor=fed["cy"],
        gathering=gathering,
        circle=fed["guest"],
        attendee_ids=[fed["cy"].pk, fed["dee"].pk],
        note="We arrive on Friday.",
    )
    assert set(signup.attendees.values_list("pk", flat=True)) == {fed["cy"].pk, fed["dee"].pk}
    assert signup.signed_up_by == fed["cy"] and signup.note == "We arrive on Friday."
    assert _verbs()[-1] == "gathering.circle_signed_up"
    event = AuditEvent.objects.order_by("pk").last()
    assert event is not None and event.federation_id == fed["federation"].pk
    assert Notification.objects.filter(
        recipient=fed["ana"], title__contains="is coming to"
    ).exists()
    assert Notification.objects.filter(recipient=fed["dee"], title__contains="with you").exists()


def test_signing_up_again_replaces_who_is_coming(fed: dict[str, Any], gathering: Gathering) -> None:
    args = {"actor": fed["cy"], "gathering": gathering, "circle": fed["guest"]}
    federation.circle_signup(**args, attendee_ids=[fed["cy"].pk, fed["dee"].pk])
    federation.circle_signup(**args, attendee_ids=[fed["dee"].pk])
    signup = CircleSignup.objects.get()
    assert list(signup.attendees.values_list("pk", flat=True)) == [fed["dee"].pk]


@pytest.mark.parametrize("beyond", [0, 2**63])
def test_an_id_outside_the_database_range_is_refused_on_its_field(
    fed: dict[str, Any], gathering: Gathering, beyond: int
) -> None:
    with pytest.raises(InvalidInput) as refused:
        federation.circle_signup(
            actor=fed["cy"],
            gathering=gathering,
            circle=fed["guest"],
            attendee_ids=[fed["cy"].pk, beyond],
        )
    assert "attendee_ids" in refused.value.fields
    assert not CircleSignup.objects.exists()


def test_an_outsider_cannot_sign_a_circle_up(fed: dict[str, Any], gathering: Gathering) -> None:
    with pytest.raises(NotAllowed):
        federation.circle_signup(
            actor=fed["olga"], gathering=gathering, circle=fed["guest"], attendee_ids=[fed["cy"].pk]
        )
    assert not CircleSignup.objects.exists()


def test_only_the_circles_own_members_sign_it_up(fed: dict[str, Any], gathering: Gathering) -> None:
    with pytest.raises(NotAllowed):
        federation.circle_signup(
            actor=fed["cy"], gathering=gathering, circle=fed["host"], attendee_ids=[fed["ana"].pk]
        )
    assert not CircleSignup.objects.exists()


def test_an_attendee_who_is_not_a_member_of_the_circle_is_refused(
    fed: dict[str, Any], gathering: Gathering
) -> None:
    before = _verbs()
    with pytest.raises(InvalidInput) as caught:
        federation.circle_signup(
            actor=fed["cy"],
            gathering=gathering,
            circle=fed["guest"],
            attendee_ids=[fed["cy"].pk, fed["ana"].pk],
        )
    assert "attendee_ids" in caught.value.fields
    assert not CircleSignup.objects.exists() and _verbs() == before


def test_a_cancelled_gathering_takes_no_signups(fed: dict[str, Any], gathering: Gathering) -> None:
    planning.gathering_cancel(actor=fed["ana"], gathering=gathering)
    gathering.refresh_from_db()
    with pytest.raises(Conflict):
        federation.circle_signup(
            actor=fed["cy"], gathering=gathering, circle=fed["guest"], attendee_ids=[fed["cy"].pk]
        )
    assert not CircleSignup.objects.exists()


def test_a_circle_withdraws_its_signup(fed: dict[str, Any], gathering: Gathering) -> None:
    signup = federation.circle_signup(
        actor=fed["cy"], gathering=gathering, circle=fed["guest"], attendee_ids=[fed["cy"].pk]
    )
    with pytest.raises(NotAllowed):
        federation.circle_signup_withdraw(actor=fed["ana"], signup=signup)
    assert CircleSignup.objects.exists()
    federation.circle_signup_withdraw(actor=fed["dee"], signup=signup)
    assert not CircleSignup.objects.exists()
    assert _verbs()[-1] == "gathering.circle_signup_withdrawn"


# --- the programme ---


def test_a_session_offered_is_accepted_into_the_programme(
    fed: dict[str, Any], gathering: Gathering
) -> None:
    session = federation.session_offer(
        actor=fed["cy"], gathering=gathering, title="Listening circles", minutes=90
    )
    assert session.state == SessionState.OFFERED and session.offered_by == fed["cy"]
    assert Notification.objects.filter(recipient=fed["ben"], title__contains="offered").exists()
    start = gathering.starts_at + timedelta(hours=2)
    decided = federation.session_decide(
        actor=fed["ben"], session=session, accept=True, starts_at=start, room="Hall"
    )
    assert decided.state == SessionState.ACCEPTED
    assert decided.starts_at == start and decided.room == "Hall"
    assert _verbs()[-1] == "gathering.session_accepted"
    assert Notification.objects.filter(recipient=fed["cy"], title__contains="is in the").exists()


def test_a_naive_time_is_the_clock_where_the_gathering_is(
    fed: dict[str, Any], gathering: Gathering
) -> None:
    session = federation.session_offer(actor=fed["cy"], gathering=gathering, title="Walk")
    local = planning.local(gathering.starts_at, "Europe/London").replace(tzinfo=None)
    decided = federation.session_decide(
        actor=fed["ana"], session=session, accept=True, starts_at=local + timedelta(hours=1)
    )
    assert decided.starts_at == gathering.starts_at + timedelta(hours=1)


@pytest.mark.parametrize("offset", [timedelta(hours=-1), timedelta(hours=23, minutes=30)])
def test_a_session_outside_the_gatherings_times_is_refused(
    fed: dict[str, Any], gathering: Gathering, offset: timedelta
) -> None:
    session = federation.session_offer(actor=fed["cy"], gathering=gathering, title="Late")
    with pytest.raises(InvalidInput) as caught:
        federation.session_decide(
            actor=fed["ana"], session=session, accept=True, starts_at=gathering.starts_at + offset
        )
    assert "starts_at" in caught.value.fields
    session.refresh_from_db()
    assert session.state == SessionState.OFFERED and session.starts_at is None


def test_only_those_who_arrange_decide_and_only_members_offer(
    fed: dict[str, Any], gathering: Gathering
) -> None:
    with pytest.raises(NotAllowed):
        federation.session_offer(actor=fed["olga"], gathering=gathering, title="Mine")
    session = federation.session_offer(actor=fed["cy"], gathering=gathering, title="Ours")
    with pytest.raises(NotAllowed):
        federation.session_decide(actor=fed["dee"], session=session, accept=False)
    session.refresh_from_db()
    assert session.state == SessionState.OFFERED
    federation.session_decide(actor=fed["ana"], session=session, accept=False)
    session.refresh_from_db()
    assert session.state == SessionState.DECLINED
    assert ProgrammeSession.objects.count() == 1


def test_a_session_length_out_of_range_is_refused(
    fed: dict[str, Any], gathering: Gathering
) -> None:
    with pytest.raises(InvalidInput):
        federation.session_offer(actor=fed["cy"], gathering=gathering, title="Long", minutes=600)
    assert not ProgrammeSession.objects.exists()


def test_only_whoever_offered_withdraws_a_session(
    fed: dict[str, Any], gathering: Gathering
) -> None:
    session = federation.session_offer(actor=fed["cy"], gathering=gathering, title="Mine")
    with pytest.raises(NotAllowed):
        federation.session_withdraw(actor=fed["ana"], session=session)
    assert ProgrammeSession.objects.exists()
    federation.session_withdraw(actor=fed["cy"], session=session)
    assert not ProgrammeSession.objects.exists()


# --- public registration ---


def test_someone_from_the_public_registers_and_gets_a_cancel_link(fed: dict[str, Any]) -> None:
    public = plan(fed, public=True)
    mail.outbox.clear()
    registration, token = federation.public_register(
        gathering=public, name="Pat Public", email="Pat@Example.org"
    )
    registration.refresh_from_db()
    assert registration.name == "Pat Public" and registration.email == "pat@example.org"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, email FROM gatherings_publicregistration WHERE id = %s",
            [registration.pk],
        )
        stored = " ".join(cursor.fetchone())
    assert "Pat" not in stored and "example.org" not in stored  # encrypted at rest
    [sent] = mail.outbox
    assert sent.to == ["pat@example.org"] and federation.cancel_link(token) in sent.body
    event = AuditEvent.objects.order_by("pk").last()
    assert event is not None and event.verb == "gathering.public_registered"
    assert event.actor_id is None
    stored = f"{event.summary} {event.data}"
    assert "Pat" not in stored and "example.org" not in stored


def test_one_live_registration_per_address(fed: dict[str, Any]) -> None:
    public = plan(fed, public=True)
    federation.public_register(gathering=public, name="Pat", email="pat@example.org")
    with pytest.raises(Conflict) as caught:
        federation.public_register(gathering=public, name="Pat again", email=" PAT@example.org ")
    assert "email" in caught.value.fields
    assert PublicRegistration.objects.count() == 1


def test_registration_on_a_gathering_not_open_to_the_public_is_refused(
    fed: dict[str, Any], gathering: Gathering
) -> None:
    before = _verbs()
    mail.outbox.clear()
    with pytest.raises(NotFound):
        federation.public_register(gathering=gathering, name="Pat", email="pat@example.org")
    assert not PublicRegistration.objects.exists() and _verbs() == before and not mail.outbox


def test_registration_on_a_cancelled_gathering_is_refused(fed: dict[str, Any]) -> None:
    public = plan(fed, public=True)
    planning.gathering_cancel(actor=fed["ana"], gathering=public)
    public.refresh_from_db()
    with pytest.raises(Conflict):
        federation.public_register(gathering=public, name="Pat", email="pat@example.org")
    assert not PublicRegistration.objects.exists()


def test_cancelling_by_the_link_forgets_the_name_and_address(fed: dict[str, Any]) -> None:
    public = plan(fed, public=True)
    _registration, token = federation.public_register(
        gathering=public, name="Pat", email="pat@example.org"
    )
    cancelled = federation.public_registration_cancel(token=token)
    cancelled.refresh_from_db()
    assert cancelled.cancelled_at is not None and cancelled.name == "" and cancelled.email == ""
    with pytest.raises(Conflict):
        federation.public_registration_cancel(token=token)
    with pytest.raises(NotFound):
        federation.public_registration_cancel(token="not-a-token")
    # The address may register again once its registration is cancelled.
    federation.public_register(gathering=public, name="Pat", email="pat@example.org")
    assert PublicRegistration.objects.filter(cancelled_at__isnull=True).count() == 1


def test_only_those_who_arrange_download_the_registrations(fed: dict[str, Any]) -> None:
    public = plan(fed, public=True)
    federation.public_register(gathering=public, name="Pat", email="pat@example.org")
    with pytest.raises(NotAllowed):
        federation.registrations_downloaded(actor=fed["cy"], gathering=public)
    rows = federation.registrations_downloaded(actor=fed["ben"], gathering=public)
    assert rows == [("Pat", "pat@example.org")]
    assert _verbs()[-1] == "gathering.registrations_downloaded"


def test_a_month_after_the_gathering_the_publics_names_are_forgotten(fed: dict[str, Any]) -> None:
    public = plan(fed, public=True)
    registration, _token = federation.public_register(
        gathering=public, name="Pat Doe", email="pat@example.org"
    )
    just_after = public.ends_at + timedelta(days=29)
    assert federation.registrations_forget(now=just_after) == 0
    registration.refresh_from_db()
    assert registration.name == "Pat Doe"
    later = public.ends_at + timedelta(days=31)
    assert federation.registrations_forget(now=later) == 1
    registration.refresh_from_db()
    assert (registration.name, registration.email) == ("", "")
    assert registration.email_digest == f"forgotten-{registration.pk}"
    assert "gathering.public_registrations_forgotten" in _verbs()
    # Idempotent: nothing more to forget, and the count of registrations is kept.
    assert federation.registrations_forget(now=later) == 0
    assert PublicRegistration.objects.filter(gathering=public).count() == 1
