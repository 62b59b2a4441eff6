"""Planning gatherings in a real browser without JavaScript: a find-a-time poll becomes a
gathering in one click, is changed to repeat monthly, and shows on the circle's overview and its
gatherings page. axe-core runs on every page; screenshots go to
test-artifacts/gatherings-planning-*.png."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from circlework.gatherings.models import Gathering
from circlework.polls import services as poll_services
from tests import factories
from tests.browser.conftest import check_page, signed_in_context

pytestmark = [pytest.mark.browser]


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def test_a_find_a_time_poll_becomes_a_monthly_gathering(
    new_context: Any, live_server: Any, transactional_db: None
) -> None:
    federation = factories.make_federation("Gathering Federation")
    ana, ben, cy = (factories.make_practitioner(n) for n in ("Ana Ruiz", "Ben Ode", "Cy Lam"))
    circle = factories.make_circle(
        founder=ana, federation=federation, members=[ben, cy], name="Leeds Circle"
    )
    soon = (timezone.now() + timedelta(days=9)).replace(hour=18, minute=0, second=0, microsecond=0)
    poll = poll_services.poll_open(
        actor=ana,
        circle=circle,
        title="Our next meeting",
        kind="time",
        times=[soon, soon + timedelta(days=1), soon + timedelta(days=2)],
        closes_at=timezone.now() + timedelta(days=5),
    )
    one, two, three = poll.options.order_by("position")
    for person, first in ((ana, "yes"), (ben, "no"), (cy, "maybe")):
        poll_services.ballot_cast(
            actor=person,
            poll=poll,
            availability={one.pk: first, two.pk: "yes", three.pk: "no"},
        )

    context = signed_in_context(new_context, live_server, ana.user, javascript=False)
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}{poll.get_absolute_url()}")
    check_page(page, "gatherings-planning-01-poll")
    page.get_by_role("button", name="Plan a gathering at this time").click()
    expect(page.get_by_text("Planned at the poll's best time")).to_be_visible()
    check_page(page, "gatherings-planning-02-edit")
    _no_sideways_scroll(page)

    page.get_by_label("Place").fill("Quaker Meeting House, Leeds")
    repeat = page.get_by_label("Repeats")
    monthly = next(
        o for o in repeat.locator("option").all_inner_texts() if o.startswith("Every month on the")
    )
    repeat.select_option(label=monthly)
    page.get_by_label("After a number of meetings").check()
    page.get_by_label("How many meetings").fill("6")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.get_by_text("The gathering is changed")).to_be_visible()
    expect(page.get_by_role("heading", name="Our next meeting", level=2)).to_be_visible()
    expect(page.get_by_text(f"{monthly}, 6 times")).to_be_visible()
    expect(page.get_by_text("Quaker Meeting House, Leeds")).to_be_visible()
    check_page(page, "gatherings-planning-03-gathering")
    _no_sideways_scroll(page)

    gathering = Gathering.objects.get()
    assert gathering.starts_at == soon + timedelta(days=1)
    assert gathering.occurrences.count() == 6

    page.goto(f"{live_server.url}{circle.get_absolute_url()}")
    coming = page.locator("section", has=page.get_by_role("heading", name="Purpose"))
    expect(coming.get_by_role("link", name="Our next meeting")).to_have_count(3)
    check_page(page, "gatherings-planning-04-circle")

    page.get_by_role("link", name="All the circle's gatherings").click()
    expect(page.get_by_role("heading", name="Repeating gatherings")).to_be_visible()
    expect(page.get_by_text(monthly + ", 6 times")).to_be_visible()
    check_page(page, "gatherings-planning-05-list")
    _no_sideways_scroll(page)

    page.get_by_role("link", name="Plan a gathering").first.click()
    check_page(page, "gatherings-planning-06-new")
    _no_sideways_scroll(page)
