"""At the meeting, in a real browser: answer whether you are coming, put a proposal on the
agenda, take a suggested welcome ceremony onto it, write the minutes, another member asks for a correction, the corrected minutes are
confirmed. axe-core on every page; screenshots go to test-artifacts/gatherings-meeting-*.png."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from circlework.core import names
from circlework.decisions import services as decision_services
from circlework.gatherings.services import meeting, planning
from tests import factories
from tests.browser.conftest import check_page, signed_in_context

pytestmark = [pytest.mark.browser]


def _plan(actor: Any, circle: Any, title: str, days: float) -> Any:
    start = (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)
    gathering = planning.gathering_plan(
        actor=actor,
        circle=circle,
        title=title,
        place="The library",
        when=planning.When(start, start + timedelta(hours=2), "Europe/London"),
    )
    return gathering.occurrences.get()


@pytest.fixture
def circle_of_three(transactional_db: None) -> dict[str, Any]:
    federation = factories.make_federation("Meeting Federation")
    ana, ben, cy = (factories.make_practitioner(n) for n in ("Ana Ruiz", "Ben Ode", "Cy Lam"))
    circle = factories.make_circle(
        founder=ana, federation=federation, members=[ben, cy], name="Leeds Circle"
    )
    return {"circle": circle, "ana": ana, "ben": ben, "cy": cy}


def test_a_meeting_from_answers_to_confirmed_minutes(
    new_context: Any, live_server: Any, circle_of_three: dict[str, Any]
) -> None:
    ana, ben, cy = (circle_of_three[k] for k in ("ana", "ben", "cy"))
    circle = circle_of_three["circle"]
    decision_services.proposal_open(
        actor=ana,
        circle=circle,
        title="Meet every fortnight",
        text="Shall we meet every fortnight?",
        closes_at=timezone.now() + timedelta(days=10),
    )
    coming = _plan(ana, circle, "Spring meeting", 7)
    past = _plan(ana, circle, "Winter meeting", -1)

    page = signed_in_context(new_context, live_server, ben.user, javascript=False).new_page()
    page.goto(f"{live_server.url}{coming.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Spring meeting")).to_be_visible()
    check_page(page, "gatherings-meeting-01-page")
    page.get_by_role("button", name="Coming", exact=True).click()
    expect(page.get_by_text("1 coming: Ben Ode")).to_be_visible()
    page.get_by_label("Item:", exact=True).fill("Fortnightly meetings")
    page.get_by_label("Time for it (minutes)").fill("20")
    page.get_by_label("About").select_option(label="Proposal: Meet every fortnight")
    page.get_by_role("button", name="Add to the agenda").click()
    expect(page.get_by_role("link", name="Proposal: Meet every fortnight")).to_be_visible()
    check_page(page, "gatherings-meeting-02-agenda")

    # A key moment suggests a ceremony (services/ceremonies.py does this after a member
    # joins); whoever arranges the meeting takes it onto the agenda.
    meeting.agenda_suggest(
        occurrence=coming,
        title="Welcoming a new member",
        kind="ceremony",
        reason=names.text("%(p)s joined the circle", p=names.person(cy)),
        suggestion_key=f"joined:{cy.pk}",
    )
    writer = signed_in_context(new_context, live_server, ana.user, javascript=False).new_page()
    writer.goto(f"{live_server.url}{coming.get_absolute_url()}")
    expect(writer.get_by_text("Cy Lam joined the circle")).to_be_visible()
    writer.get_by_role("button", name=re.compile(r"^Accept\W+Welcoming a new member")).click()
    agenda = writer.locator("section", has=writer.get_by_role("heading", name="Agenda"))
    expect(agenda.get_by_text("Welcoming a new member", exact=True)).to_be_visible()
    expect(writer.get_by_role("heading", name="Suggested for the agenda")).to_have_count(0)
    check_page(writer, "gatherings-meeting-02b-ceremony")

    writer.goto(f"{live_server.url}{past.get_absolute_url()}")
    form = writer.locator("form", has=writer.get_by_role("button", name="Save the minutes"))
    form.get_by_label("Minutes:", exact=True).fill("We talked about **meeting more often**.")
    for name in ("Ana Ruiz", "Ben Ode", "Cy Lam"):
        form.get_by_label(name).check()
    check_page(writer, "gatherings-meeting-03-write")
    writer.get_by_role("button", name="Save the minutes").click()
    expect(writer.get_by_text("Version 1, written by Ana Ruiz")).to_be_visible()

    page.goto(f"{live_server.url}{past.get_absolute_url()}")
    page.get_by_label("What should change").fill("We decided to try fortnightly.")
    page.get_by_role("button", name="Ask for a correction").click()
    expect(page.get_by_text("asked for a correction")).to_be_visible()
    check_page(page, "gatherings-meeting-04-correction")

    writer.goto(f"{live_server.url}{past.get_absolute_url()}")
    writer.locator("summary", has_text="Write a corrected version").click()
    writer.get_by_label("Minutes:", exact=True).fill(
        "We talked about **meeting more often** and decided to try fortnightly."
    )
    writer.get_by_label("What changed").fill("The decision added")
    writer.get_by_role("button", name="Save the corrected version").click()
    expect(writer.get_by_text("Version 2, written by Ana Ruiz")).to_be_visible()

    for who in (ben, cy):
        other = signed_in_context(new_context, live_server, who.user, javascript=False).new_page()
        other.goto(f"{live_server.url}{past.get_absolute_url()}")
        other.get_by_role("button", name="Confirm the minutes").click()
    expect(other.get_by_text("Everyone who was there confirmed them.")).to_be_visible()
    check_page(other, "gatherings-meeting-05-confirmed")
    other.get_by_role("link", name="Earlier versions and what changed").click()
    expect(other.get_by_role("heading", name="Version 1")).to_be_visible()
    check_page(other, "gatherings-meeting-06-history")
