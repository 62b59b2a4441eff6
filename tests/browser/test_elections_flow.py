"""An election fills a federation mandate that then lapses, in a real browser.

Ana opens an election for the federation's coordinator on the page (ranked ballots, a short
term); she nominates Ben, who accepts on the page; Cy and Dee stand too. When nominations close
the sweep opens voting: Ana ranks her choices on numbered selects, and a second ballot from a
page left open is refused ("You have already voted"); Cy votes in a browser without JavaScript;
the others vote through the services. The sweep counts when voting closes: the result page shows
the round-by-round table and the new mandate. Past the term's end the mandate shows as ended and
its permission (a notice to the federation) is refused.

axe-core runs on every page; screenshots go to test-artifacts/elections-*.png.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from circlework.circles import services as circle_services
from circlework.core.visibility import forget_audience
from circlework.elections import selectors, services, tasks
from circlework.elections.models import Ballot, BallotCast, Election, ElectionStatus
from circlework.mandates import tasks as mandate_tasks
from circlework.mandates.models import Mandate
from circlework.notifications.models import Notification
from tests import factories
from tests.browser.conftest import check_page, signed_in_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONDON = zoneinfo.ZoneInfo("Europe/London")  # the practitioners' time zone (the default)


def _as(new_context: Any, live_server: Any, practitioner: Any, **kw: Any) -> Page:
    return signed_in_context(new_context, live_server, practitioner.user, **kw).new_page()


def _noon(days: int) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return datetime.combine(day, time(12, 0), tzinfo=LONDON)


def test_an_election_fills_a_federation_mandate_that_then_lapses(
    live_server: Any, new_context: Any
) -> None:
    federation = circle_services.federation_create(
        actor=None,
        name="Election Federation",
        covenant="Every member elects our officers.",
        # No validation links asked: a circle of two is validated, so both circles below are
        # "the federation" (a forming circle's members are not).
        covenant_parameters={
            "officer_electorate": "members",
            "links_required": 0,
            "min_circle_size": 2,
        },
    )
    ana, ben, cy, dee, eve = (
        factories.make_practitioner(n, display_name_visibility="federation")
        for n in ("Ana Amari", "Ben Brook", "Cy Cole", "Dee Dunn", "Eve Ellis")
    )
    oak = factories.make_circle(
        founder=ana, federation=federation, members=[ben, cy], name="Oak Circle"
    )
    elm = factories.make_circle(
        founder=dee, federation=federation, members=[eve], name="Elm Circle"
    )
    for circle in (oak, elm):
        circle.refresh_from_db()
        assert circle.status == "member"
    for person in (ana, ben, cy, dee, eve):  # their reach was read while the circles were forming
        forget_audience(person.user)
    base = live_server.url
    nominations_close, voting_close = _noon(2), _noon(4)
    term_start = voting_close.date()
    term_end = term_start + timedelta(days=30)

    # Ana opens the election on the page.
    a = _as(new_context, live_server, ana)
    a.goto(f"{base}/federations/{federation.slug}/elections/")
    expect(a.get_by_text("No open elections.")).to_be_visible()
    check_page(a, "elections-01-list-empty")
    a.get_by_role("link", name="Open an election").click()
    a.get_by_label("Role to fill").select_option("coordinator")
    a.get_by_label("Method").select_option("stv")
    a.get_by_label("Nominations close").fill(nominations_close.strftime("%Y-%m-%dT%H:%M"))
    a.get_by_label("Voting closes").fill(voting_close.strftime("%Y-%m-%dT%H:%M"))
    a.get_by_label("Term starts").fill(term_start.isoformat())
    a.get_by_label("Term ends").fill(term_end.isoformat())
    a.get_by_label("Handover plan").fill("Write down what the role does; share it with a deputy.")
    check_page(a, "elections-02-open-form")
    a.get_by_role("button", name="Open the election").click()
    expect(a.get_by_text("The election is open. The electorate has been told.")).to_be_visible()
    election = Election.objects.get()
    assert (election.method, election.secret, election.seats) == ("stv", True, 1)
    assert (election.term_starts_on, election.term_ends_on) == (term_start, term_end)

    # Nominations: Ana nominates Ben on the page; Cy and Dee stand themselves.
    # Five members: everyone who can stand is listed (a name search appears past twenty).
    expect(a.get_by_label("Find a person by name")).to_have_count(0)
    a.get_by_label("Ben Brook").check()
    a.get_by_label("Your reasons").fill("Ben answers every letter within a week.")
    a.get_by_role("button", name="Nominate").click()
    expect(a.get_by_text("Your nomination is recorded, with your reasons.")).to_be_visible()
    check_page(a, "elections-03-nominated")
    for person in (cy, dee):
        services.nomination_add(
            actor=person, election=election, nominee=person, reason="I have time this year."
        )

    b = _as(new_context, live_server, ben)
    b.goto(base + election.get_absolute_url())
    expect(b.get_by_role("heading", name="You are nominated: will you stand?")).to_be_visible()
    check_page(b, "elections-04-asked-to-stand")
    b.get_by_role("button", name="I accept and stand").click()
    expect(b.get_by_text("You stand for election.")).to_be_visible()

    # Nominations close: the sweep opens voting.
    with time_machine.travel(election.nominations_close_at + timedelta(hours=1), tick=False):
        assert tasks.sweep_elections.call() == 1
        election.refresh_from_db()
        assert election.status == ElectionStatus.VOTING
        a = _as(new_context, live_server, ana)
        a.goto(base + election.get_absolute_url())
        stale = a.context.new_page()
        stale.goto(base + election.get_absolute_url())
        a.get_by_label("1st choice").select_option(label="Ben Brook")
        a.get_by_label("2nd choice").select_option(label="Dee Dunn")
        check_page(a, "elections-05-ballot")
        a.get_by_role("button", name="Cast my ballot").click()
        expect(a.get_by_text("Your ballot is cast.")).to_be_visible()
        expect(
            a.get_by_text("You have voted. A ballot cannot be changed once cast.")
        ).to_be_visible()
        # The page left open tries a second ballot: refused, nothing changed.
        stale.get_by_label("1st choice").select_option(label="Dee Dunn")
        stale.get_by_role("button", name="Cast my ballot").click()
        expect(stale.get_by_role("alert")).to_contain_text("You have already voted")
        check_page(stale, "elections-06-second-ballot-refused")
        assert Ballot.objects.filter(election=election).count() == 1
        # Cy votes with JavaScript off: numbered selects are plain HTML.
        c = _as(new_context, live_server, cy, javascript=False)
        c.goto(base + election.get_absolute_url())
        c.get_by_label("1st choice").select_option(label="Cy Cole")
        c.get_by_label("2nd choice").select_option(label="Ben Brook")
        c.get_by_role("button", name="Cast my ballot").click()
        expect(c.get_by_text("Your ballot is cast.")).to_be_visible()
        for voter, ranking in ((ben, [ben]), (dee, [dee]), (eve, [dee, ben])):
            services.ballot_cast(actor=voter, election=election, choices=[p.pk for p in ranking])
        c.goto(base + election.get_absolute_url())
        expect(c.locator("#who-voted")).to_contain_text("Ana Amari, Ben Brook, Cy Cole")
        check_page(c, "elections-07-who-voted")
    assert BallotCast.objects.filter(election=election).count() == 5

    # Voting closes: the sweep counts. Ben 2, Dee 2, Cy 1; Cy is excluded, Ben wins with 3.
    with time_machine.travel(election.voting_closes_at + timedelta(minutes=5), tick=False):
        assert tasks.sweep_elections.call() == 1
        election.refresh_from_db()
        assert election.status == ElectionStatus.CLOSED
        assert election.result["elected"] == [ben.pk]
        assert selectors.recount_matches(election)
        a = _as(new_context, live_server, ana)
        a.goto(base + election.get_absolute_url())
        expect(a.get_by_role("heading", name="Result")).to_be_visible()
        table = a.get_by_role("table", name="Votes in each round of the instant runoff")
        expect(table).to_be_visible()
        expect(table.get_by_role("columnheader", name="Round 2")).to_be_visible()
        expect(a.locator("#round-notes")).to_contain_text("Cy Cole had the fewest votes")
        expect(a.locator("#round-notes")).to_contain_text("Ben Brook reached the quota of 3")
        check_page(a, "elections-08-result")
        mandate = Mandate.objects.get(election=election)
        assert (mandate.holder, mandate.role) == (ben, "coordinator")
        assert (mandate.starts_on, mandate.ends_on) == (term_start, term_end)
        a.locator("#mandates").get_by_role("link").click()
        expect(a.get_by_text("current", exact=True)).to_be_visible()
        check_page(a, "elections-09-mandate")
        b = _as(new_context, live_server, ben)
        response = b.goto(f"{base}/federations/{federation.slug}/notices/new/")
        assert response is not None and response.status == 200  # Ben may, by mandate

    # Past the term's end the mandate has lapsed by itself; the task only tells people.
    with time_machine.travel(datetime.combine(term_end, time(12, 0), tzinfo=LONDON), tick=False):
        mandate_tasks.notify_mandate_dates.call()
        assert Notification.objects.filter(recipient=ben, kind="mandate", title__contains="ended")
        b = _as(new_context, live_server, ben)
        b.goto(base + mandate.get_absolute_url())
        expect(b.locator("p.meta .status").first).to_have_text("ended")
        check_page(b, "elections-10-mandate-lapsed")
        response = b.goto(f"{base}/federations/{federation.slug}/notices/new/")
        assert response is not None and response.status == 403
        b.goto(f"{base}/federations/{federation.slug}/elections/")
        expect(b.get_by_role("cell", name="Elected: Ben Brook.")).to_be_visible()
        check_page(b, "elections-11-list-past")


def test_a_large_federation_finds_the_nominee_by_name(live_server: Any, new_context: Any) -> None:
    """Past twenty people who could stand, the nomination form offers a name search: typing
    narrows the choices as one types (htmx); without JavaScript the search reloads the page with
    the matches. Either way the nomination is made with the radio button of the person found.
    The electorate is counted, and its names are on pages of their own."""
    from circlework.accounts.models import Practitioner, User
    from circlework.circles.models import Membership

    federation = circle_services.federation_create(
        actor=None,
        name="Large Federation",
        covenant="Every member elects our officers.",
        covenant_parameters={
            "officer_electorate": "members",
            "links_required": 0,
            "min_circle_size": 2,
        },
    )
    ana = factories.make_practitioner("Ana Amari", display_name_visibility="federation")
    ben = factories.make_practitioner("Ben Brook", display_name_visibility="federation")
    oak = factories.make_circle(founder=ana, federation=federation, members=[ben], name="Oak")
    oak.refresh_from_db()
    assert oak.status == "member"
    # Sixty more members in one more circle: rows as the services would leave them.
    elm = factories.make_circle(founder=ben, federation=federation, name="Elm")
    factories.validate_circle(elm, ana, ben)
    users = User.objects.bulk_create(
        [User(email=f"wren{i}@example.org", password="!") for i in range(60)]
    )
    wrens = Practitioner.objects.bulk_create(
        [Practitioner(user=u, display_name=f"Wren {i:02d}") for i, u in enumerate(users)]
    )
    Membership.objects.bulk_create([Membership(circle=elm, practitioner=p) for p in wrens])
    forget_audience(ana.user)
    election = services.election_open(
        actor=ana,
        role="coordinator",
        federation=federation,
        nominations_close_at=_noon(2),
        voting_closes_at=_noon(4),
    )
    base = live_server.url

    a = _as(new_context, live_server, ana)
    a.goto(base + election.get_absolute_url())
    expect(a.locator("#electorate")).to_contain_text("62 people")
    expect(a.get_by_text("Search by name to find the person you want to nominate.")).to_be_visible()
    a.get_by_label("Find a person by name").press_sequentially("wren 1", delay=30)
    expect(a.locator("#nominate-choices")).to_contain_text("Showing the people who match")
    expect(a.locator("#nominate-choices input[type=radio]")).to_have_count(16)  # "1" in 15
    a.get_by_label("Find a person by name").press_sequentially("4", delay=30)
    expect(a.locator("#nominate-choices input[type=radio]")).to_have_count(2)  # Ana, Wren 14
    a.get_by_label("Wren 14").check()
    a.get_by_label("Your reasons").fill("Wren keeps the minutes.")
    check_page(a, "elections-12-nominee-search")
    a.get_by_role("button", name="Nominate").click()
    expect(a.get_by_text("Your nomination is recorded, with your reasons.")).to_be_visible()
    assert election.nominations.get().nominee_id == wrens[14].pk

    # Without JavaScript: the search reloads the page with the matches.
    b = _as(new_context, live_server, ben, javascript=False)
    b.goto(base + election.get_absolute_url())
    b.get_by_label("Find a person by name").fill("WREN 31")
    b.get_by_role("button", name="Search").click()
    expect(b.locator("#nominate-choices input[type=radio]")).to_have_count(2)  # Ben, Wren 31
    b.get_by_label("Wren 31").check()
    b.get_by_label("Your reasons").fill("Wren 31 is calm.")
    b.get_by_role("button", name="Nominate").click()
    expect(b.get_by_text("Your nomination is recorded, with your reasons.")).to_be_visible()

    # The electorate's own pages.
    a.goto(base + election.get_absolute_url())
    a.get_by_role("link", name="see who, page by page").click()
    expect(a.get_by_role("heading", name="The electorate")).to_be_visible()
    expect(a.locator("#people li")).to_have_count(62)
    check_page(a, "elections-13-electorate-pages")
