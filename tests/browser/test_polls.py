"""Polls in a real browser without JavaScript: ask, answer, see the charts; axe on every page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from circlework.polls import services
from circlework.polls.models import Poll
from tests import factories
from tests.browser.conftest import check_page, signed_in_context

pytestmark = [pytest.mark.browser]


@pytest.fixture
def circle_of_three(transactional_db: None) -> dict[str, Any]:
    federation = factories.make_federation("Poll Federation")
    ana, ben, cy = (factories.make_practitioner(n) for n in ("Ana Ruiz", "Ben Ode", "Cy Lam"))
    circle = factories.make_circle(
        founder=ana, federation=federation, members=[ben, cy], name="Leeds Circle"
    )
    return {"circle": circle, "ana": ana, "ben": ben, "cy": cy}


def test_ask_and_answer_every_kind(
    new_context: Any, live_server: Any, circle_of_three: dict[str, Any]
) -> None:
    ana, ben, cy = (circle_of_three[k] for k in ("ana", "ben", "cy"))
    circle = circle_of_three["circle"]
    page = signed_in_context(new_context, live_server, ana.user, javascript=False).new_page()
    page.goto(f"{live_server.url}/circles/{circle.slug}/polls/")
    check_page(page, "polls-01-list-empty")
    page.get_by_role("link", name="Ask a question").click()
    check_page(page, "polls-02-new")
    page.get_by_label("Question").fill("Where shall we meet?")
    page.get_by_label("Ranked choice").check()
    page.get_by_label("Options, one per line").fill("Leeds\nYork\nHull")
    page.get_by_role("button", name="Open the poll").click()
    expect(page.get_by_role("heading", name="Where shall we meet?")).to_be_visible()
    page.get_by_label("1st choice").select_option(label="York")
    page.get_by_label("2nd choice").select_option(label="Leeds")
    page.get_by_role("button", name="Record my answer").click()
    expect(page.get_by_role("img", name="York wins in round 1")).to_be_visible()
    check_page(page, "polls-03-ranked-answered")

    soon = timezone.now() + timedelta(days=5)
    later = timezone.now() + timedelta(days=7)
    polls = {
        "approval": services.poll_open(
            actor=ana,
            circle=circle,
            title="Which themes for the spring audit?",
            kind="approval",
            options=["Boundaries", "Endings", "Supervision of supervision", "Working online"],
            closes_at=later,
        ),
        "score": services.poll_open(
            actor=ana,
            circle=circle,
            title="How useful were these sessions?",
            kind="score",
            options=["Case review", "Role play", "Silent reflection"],
            closes_at=later,
            anonymous=True,
        ),
        "time": services.poll_open(
            actor=ana,
            circle=circle,
            title="Our next meeting",
            kind="time",
            times=[soon, soon + timedelta(days=1), soon + timedelta(days=2, hours=3)],
            closes_at=later,
        ),
    }
    ids = {k: [o.pk for o in p.options.order_by("position")] for k, p in polls.items()}
    for person, n in ((ben, 1), (cy, 2)):
        services.ballot_cast(actor=person, poll=polls["approval"], approved=ids["approval"][:n])
        services.ballot_cast(
            actor=person,
            poll=polls["score"],
            scores={o: (i + n) % 6 for i, o in enumerate(ids["score"])},
        )
        services.ballot_cast(
            actor=person,
            poll=polls["time"],
            availability=dict(
                zip(ids["time"], ["yes", "maybe", "no"][n - 1 :] + ["yes"] * n, strict=False)
            ),
        )
    page.goto(live_server.url + polls["approval"].get_absolute_url())
    page.get_by_label("Boundaries").check()
    page.get_by_label("Working online").check()
    page.get_by_role("button", name="Record my answer").click()
    expect(page.get_by_role("img", name="Most approved: Boundaries")).to_be_visible()
    check_page(page, "polls-04-approval")

    page.goto(live_server.url + polls["score"].get_absolute_url())
    check_page(page, "polls-05-score-before-answering")
    for label in ("Case review", "Role play", "Silent reflection"):
        page.get_by_role("group", name=label).get_by_label("4").check()
    page.get_by_role("button", name="Record my answer").click()
    # Anonymous: no results until it closes, not even for those who answered.
    expect(page.get_by_text("appear here when it closes")).to_be_visible()
    expect(page.get_by_role("img", name="Highest total score")).to_have_count(0)
    check_page(page, "polls-06-score-anonymous")

    page.goto(live_server.url + polls["time"].get_absolute_url())
    for group in page.get_by_role("group").all()[:3]:
        group.get_by_label("If need be").check()
    page.get_by_role("button", name="Record my answer").click()
    expect(page.get_by_role("img", name="Best time")).to_be_visible()
    check_page(page, "polls-07-find-a-time")
    page.get_by_role("button", name="Close the poll now").click()
    expect(page.get_by_text("The poll is closed")).to_be_visible()
    check_page(page, "polls-08-closed")
    page.goto(f"{live_server.url}/circles/{circle.slug}/polls/")
    check_page(page, "polls-09-list")
    assert Poll.objects.filter(status="closed").count() == 1
