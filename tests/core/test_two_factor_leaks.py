"""A circle's two-factor requirement holds on every page that is keyed by the person.

The rule lives in core.visibility.audience_for: a member of a circle that requires two-factor
authentication counts as its member only in a session (or through a token) that used a second
factor. Pages that list "what is mine" (the home page, the notifications inbox, my mandates, the
data export) read by practitioner, not by circle, so they must ask the same audience: here a
password-only session and a token made without a second factor see none of the circle's
records, and a session or token that used the second factor sees them all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from circlework.agreements.models import Agreement
from circlework.circles import services as circle_services
from circlework.core.visibility import forget_audience, mark_second_factor
from circlework.decisions import services as decisions
from circlework.elections import selectors as election_selectors
from circlework.elections import services as elections
from circlework.mandates.models import Mandate
from circlework.notifications.models import Notification
from circlework.polls import services as polls
from tests import factories
from tests.api.helpers import post_json, token_client, url
from tests.conftest import login
from tests.second_factor import login_with_second_factor, token_client_with_second_factor

pytestmark = pytest.mark.django_db

MARK = "Zephyr"  # every text written in the circle that asks for 2FA carries it
HIDDEN_LINE = "asks for two-factor authentication"


def _later(days: int) -> Any:
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def secret(federation: Any) -> dict[str, Any]:
    """Secret requires 2FA and shows its page to its members only; Ruth and Tom are its
    members and both have an authenticator app. Ruth opens a proposal and a poll, Tom holds a
    mandate and is nominated in an election, and an agreement of the circle is due for review:
    each text carries the marker."""
    ruth = factories.make_practitioner("Ruth")
    tom = factories.make_practitioner("Tom")
    for person in (ruth, tom):
        factories.enable_totp(person)
    circle = factories.make_circle(
        founder=ruth, federation=federation, members=[tom], name="Secret"
    )
    circle = circle_services.circle_update(
        actor=ruth, circle=circle, changes={"requires_two_factor": True, "visibility": "circle"}
    )
    factories.validate_circle(circle, ruth, tom)
    for person in (ruth, tom):  # the service calls below act in sessions that used the app
        mark_second_factor(person.user, True)
    adopting = decisions.proposal_open(
        actor=ruth,
        circle=circle,
        title="Adopt a procedure",
        text="Let us adopt it.",
        closes_at=_later(3),
        new_agreement_kind="procedure",
        new_agreement_title=f"{MARK} procedure",
        agreement_text="We meet monthly.",
    )
    for person in (ruth, tom):
        decisions.position_take(actor=person, proposal=adopting, stance="agree")
    decisions.proposal_close(actor=ruth, proposal=adopting, early=True)
    Agreement.objects.filter(circle=circle).update(review_due=timezone.localdate())
    proposal = decisions.proposal_open(
        actor=ruth,
        circle=circle,
        title=f"{MARK} proposal",
        text="Private matters.",
        closes_at=_later(3),
    )
    polls.poll_open(
        actor=ruth,
        circle=circle,
        title=f"{MARK} poll",
        kind="approval",
        closes_at=_later(3),
        options=["Monday", "Tuesday"],
    )
    mandate = factories.grant_mandate("convener", tom, circle=circle, handover_plan=f"{MARK} plan")
    election = elections.election_open(
        actor=ruth,
        role="facilitator",
        circle=circle,
        nominations_close_at=_later(2),
        voting_closes_at=_later(9),
    )
    elections.nomination_add(
        actor=ruth, election=election, nominee=tom, reason=f"{MARK} reasons to stand"
    )
    for person in (ruth, tom):
        mark_second_factor(person.user, False)
        forget_audience(person.user)
    assert Notification.objects.filter(recipient=tom, title__contains=MARK).exists()
    return {"ruth": ruth, "tom": tom, "circle": circle, "proposal": proposal, "mandate": mandate}


def _password_only(world: dict[str, Any]) -> Client:
    return login(Client(), world["tom"])


def _with_second_factor(world: dict[str, Any]) -> Client:
    return login_with_second_factor(Client(), world["tom"])


def test_the_home_page_shows_the_circle_only_with_the_second_factor(
    secret: dict[str, Any],
) -> None:
    page = _password_only(secret).get("/").content.decode()
    assert MARK not in page
    for heading in ("Proposals awaiting your voice", "Polls waiting for your answer"):
        assert heading not in page
    for heading in ("Agreements due for review", "Mandates I hold", "Elections waiting for you"):
        assert heading not in page
    full = _with_second_factor(secret).get("/").content.decode()
    for text in (f"{MARK} proposal", f"{MARK} poll", f"{MARK} procedure"):
        assert text in full
    for heading in ("Mandates I hold", "Elections waiting for you"):
        assert heading in full


def test_what_needs_me_asks_the_audience(secret: dict[str, Any]) -> None:
    """The selectors behind the home page, called for a user without the mark and with it."""
    from circlework.agreements.selectors import reviews_due_for
    from circlework.decisions.selectors import awaiting_voice
    from circlework.mandates.selectors import mandates_held
    from circlework.polls.selectors import awaiting_answer

    tom = secret["tom"]
    calls: dict[str, Callable[[Any], list[Any]]] = {
        "proposals": lambda user: list(awaiting_voice(practitioner=tom, user=user)),
        "polls": lambda user: list(awaiting_answer(practitioner=tom, user=user)),
        "reviews": lambda user: list(reviews_due_for(practitioner=tom, user=user)),
        "mandates": lambda user: mandates_held(practitioner=tom, user=user),
        "elections": lambda user: election_selectors.awaiting_me(practitioner=tom, user=user),
    }
    for name, call in calls.items():
        assert call(tom.user) == [], name
        assert call(None) == [], name  # no user: as e-mail reads it, without a second factor
    mark_second_factor(tom.user, True)
    for name, call in calls.items():
        assert len(call(tom.user)) == 1, name


def test_the_notifications_inbox_withholds_the_circle_s_notices(secret: dict[str, Any]) -> None:
    page = _password_only(secret).get("/me/notifications/").content.decode()
    assert MARK not in page
    assert HIDDEN_LINE in page and "authenticator code" in page
    full = _with_second_factor(secret).get("/me/notifications/").content.decode()
    assert f"{MARK} proposal" in full and f"{MARK} reasons to stand" in full
    assert HIDDEN_LINE not in full


def test_the_api_withholds_the_circle_s_notices_from_a_token_made_without_the_second_factor(
    secret: dict[str, Any],
) -> None:
    response = token_client(secret["tom"]).get(url("/me/notifications"))
    assert response.status_code == 200
    assert MARK not in response.content.decode()
    shown = response.json()
    withheld = [n for n in shown if HIDDEN_LINE in n["title"]]
    assert withheld and all(n["body"] == "" for n in withheld)
    assert all(n["url"] for n in withheld)  # still a way to the circle, through its 2FA check
    full = token_client_with_second_factor(secret["tom"]).get(url("/me/notifications"))
    assert f"{MARK} proposal" in full.content.decode()
    assert HIDDEN_LINE not in full.content.decode()


def test_my_mandates_in_the_api_need_the_second_factor(secret: dict[str, Any]) -> None:
    mandate_url = url(f"/mandates/{secret['mandate'].pk}")
    plain = token_client(secret["tom"])
    for path in ("/me/mandates", "/me/mandates?include_past=true"):
        response = plain.get(url(path))
        assert response.status_code == 200 and response.json() == [], path
    assert plain.get(mandate_url).status_code == 404
    full = token_client_with_second_factor(secret["tom"])
    for path in ("/me/mandates", "/me/mandates?include_past=true"):
        assert f"{MARK} plan" in full.get(url(path)).content.decode(), path
    assert full.get(mandate_url).json()["handover_plan"] == f"{MARK} plan"


def test_the_holder_cannot_act_on_the_mandate_without_the_second_factor(
    secret: dict[str, Any],
) -> None:
    """Even when Tom reaches the federation through another circle, which lets him act on
    mandates he holds in the federation."""
    mandate, tom = secret["mandate"], secret["tom"]
    other = factories.make_circle(federation=secret["circle"].federation, members=[tom])
    factories.validate_circle(other, tom)
    plain = token_client(tom)
    response = post_json(plain, f"/mandates/{mandate.pk}/handover", {"handover_plan": "Changed."})
    assert response.status_code == 404  # not even readable: Secret shows its page to members
    response = post_json(plain, f"/mandates/{mandate.pk}/resign", {"reason": "Too busy."})
    assert response.status_code == 404
    mandate.refresh_from_db()
    assert mandate.handover_plan == f"{MARK} plan" and mandate.ended_early_at is None
    full = token_client_with_second_factor(secret["tom"])
    response = post_json(full, f"/mandates/{mandate.pk}/handover", {"handover_plan": "Changed."})
    assert response.status_code == 200
    assert Mandate.objects.get(pk=mandate.pk).handover_plan == "Changed."


def test_the_data_export_waits_for_the_second_factor(secret: dict[str, Any]) -> None:
    """Everything includes their own records in the circle (mandates, handover plans, what they
    wrote): a password-only session is asked for the code first, as on the circle's pages."""
    response = _password_only(secret).get("/me/data/export.json")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/")
    assert MARK not in response.content.decode()
    full = json.loads(_with_second_factor(secret).get("/me/data/export.json").content)
    assert f"{MARK} proposal" in json.dumps(full["notifications"], ensure_ascii=False)


def test_the_data_export_withholds_the_notices_of_a_circle_left(secret: dict[str, Any]) -> None:
    """After leaving, the export opens without the code; the circle's notices stay withheld."""
    tom = secret["tom"]
    mark_second_factor(tom.user, True)
    circle_services.membership_leave(actor=tom, circle=secret["circle"])
    data = json.loads(_password_only(secret).get("/me/data/export.json").content)
    notices = json.dumps(data["notifications"], ensure_ascii=False)
    assert MARK not in notices and HIDDEN_LINE in notices


def test_a_circle_that_does_not_ask_for_2fa_is_read_as_before(federation: Any) -> None:
    """Only the circles that ask for a second factor are withheld: a password-only session
    reads the notices of an ordinary circle, and of a circle it has left."""
    ruth, tom = factories.make_practitioner("Ruth"), factories.make_practitioner("Tom")
    circle = factories.make_circle(founder=ruth, federation=federation, members=[tom])
    decisions.proposal_open(
        actor=ruth, circle=circle, title=f"{MARK} open", text="Open.", closes_at=_later(3)
    )
    circle_services.membership_leave(actor=tom, circle=circle)
    page = _password_only({"tom": tom}).get("/me/notifications/").content.decode()
    assert f"{MARK} open" in page and HIDDEN_LINE not in page


def test_the_holder_of_a_public_circle_s_mandate_reads_it_but_cannot_act_without_2fa(
    secret: dict[str, Any],
) -> None:
    """A public circle's mandates are on its public page, so Tom reads his like anyone does;
    acting by it still needs the second factor the circle asks for."""
    from circlework.circles.models import Circle

    Circle.objects.filter(pk=secret["circle"].pk).update(visibility="public")
    mandate = secret["mandate"]
    plain = token_client(secret["tom"])
    assert plain.get(url(f"/mandates/{mandate.pk}")).status_code == 200
    response = post_json(plain, f"/mandates/{mandate.pk}/handover", {"handover_plan": "Changed."})
    assert response.status_code == 403
    assert Mandate.objects.get(pk=mandate.pk).handover_plan == f"{MARK} plan"


def test_e_mail_is_out_of_band_and_carries_the_text(secret: dict[str, Any]) -> None:
    """docs/threat-model.md: an e-mailed notice from the circle carries its text, as before."""
    from django.core import mail

    from circlework.notifications import tasks

    notice = Notification.objects.filter(recipient=secret["tom"], title__contains=MARK).first()
    assert notice is not None
    Notification.objects.filter(pk=notice.pk).update(email_state="pending_now")
    mail.outbox.clear()
    assert tasks.send_notification_email.call(notice.pk)
    assert MARK in f"{mail.outbox[0].subject} {mail.outbox[0].body}"


def test_the_inbox_takes_the_same_queries_for_few_or_many_withheld_notices(
    secret: dict[str, Any],
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from circlework.notifications.services import notify

    other = factories.make_circle(federation=secret["circle"].federation, name="Other 2FA")
    other.requires_two_factor = True
    other.save(update_fields=["requires_two_factor"])

    def more(n: int) -> None:
        for i in range(n):
            for circle in (secret["circle"], other):
                notify(recipient=secret["tom"], kind="circle", title=f"{MARK} {i}", circle=circle)
            notify(
                recipient=secret["tom"],
                kind="federation_notice",
                title=f"{MARK} to the federation {i}",
                federation=other.federation,
            )

    client = _password_only(secret)
    more(1)
    client.get("/me/notifications/")
    with CaptureQueriesContext(connection) as few:
        client.get("/me/notifications/")
    more(6)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/me/notifications/").content.decode()
    assert MARK not in page
    # Not more (the inbox shows a page at a time: with many withheld notices the first page holds
    # only those, and no names are left to look up, so it may take fewer).
    assert len(many) <= len(few)


def test_the_profile_preview_offers_the_circle_only_with_the_second_factor(
    secret: dict[str, Any],
) -> None:
    circle = secret["circle"]
    key = f"circle-{circle.pk}"
    password_only = _password_only(secret)
    page = password_only.get("/me/profile/preview/").content.decode()
    assert key not in page and "members of Secret" not in page
    # Asking for it by its key shows the public's view instead.
    chosen = password_only.get(f"/me/profile/preview/?as={key}").content.decode()
    assert "members of Secret" not in chosen and "Secret" not in chosen
    full = _with_second_factor(secret).get("/me/profile/preview/").content.decode()
    assert key in full and "members of Secret" in full
