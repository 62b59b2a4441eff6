"""Agreements' pages at federation scale (issue 13): the same queries at two sizes, and a page
that stays under 60 KB however much the federation holds.

- an agreement with 2 versions or 20 (its history), and an ethical statement circulated once or
  six times with two comments or twenty;
- the public ethics register with 5 published statements or 150: a page at a time, with plain
  links and a search by circle name;
- the lineage of agreements with 2 borrowings or 60;
- the home page's "agreements due for review" with 1 due or 15."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from circlework.agreements import services
from circlework.agreements.models import Agreement, EthicsComment
from circlework.agreements.selectors import BORROWINGS_PER_PAGE, STATEMENTS_PER_PAGE
from circlework.core import page_cache
from circlework.core.contributions import home_sections
from tests import factories
from tests.agreements import grow
from tests.agreements.helpers import validated
from tests.agreements.test_ethics import adopt
from tests.conftest import login

pytestmark = pytest.mark.django_db

MAX_QUERIES = 12
MAX_BYTES = 60_000
LONG = "We hold our clients' welfare first. " * 120  # about 4,300 characters


def queries(client: Client, url: str) -> int:
    assert client.get(url).status_code == 200  # warm any per-process caches first
    page_cache.pages.clear()  # the page as drawn, not as kept (core/page_cache.py)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def size(client: Client, url: str) -> tuple[int, str]:
    response = client.get(url)
    assert response.status_code == 200
    return len(response.content), response.content.decode()


@pytest.fixture
def home(federation: Any) -> dict[str, Any]:
    ana, ben = factories.make_practitioner("Ana"), factories.make_practitioner("Ben")
    circle = factories.make_circle(founder=ana, federation=federation, members=[ben], name="Home")
    validated(circle)
    return {"ana": ana, "ben": ben, "circle": circle, "federation": federation}


def test_agreement_with_2_or_20_versions_costs_the_same(home: dict[str, Any]) -> None:
    agreement = adopt(home["circle"], [home["ana"], home["ben"]], kind="procedure", text="One.")
    grow.versions(agreement, 1)
    client = login(Client(), home["ana"])
    url = agreement.get_absolute_url()
    small = queries(client, url)
    grow.versions(agreement, 18, text=LONG + " Version {n}.")
    assert agreement.versions.count() == 20
    large = queries(client, url)
    assert small == large
    assert large <= MAX_QUERIES + 2  # the circle's tabs read its links (links' own queries)
    n, page = size(client, url)
    assert n <= MAX_BYTES
    # Every version is listed with the decision that adopted it; the last two are compared.
    assert len(re.findall(r"Version \d+, adopted", page)) == 20
    decisions = {v.adopted_by.proposal.get_absolute_url() for v in agreement.versions.all()}
    assert all(url in page for url in decisions)
    assert "Version 20." in page
    # Any two versions compare, by their numbers.
    compared = client.get(url + "?from=2&to=19").content.decode()
    assert 'value="2" selected' in compared and 'value="19" selected' in compared


def test_ethical_statement_with_many_circulations_and_comments_costs_the_same(
    home: dict[str, Any],
) -> None:
    statement = adopt(home["circle"], [home["ana"], home["ben"]])
    other = factories.make_circle(founder=factories.make_practitioner("Cy"), name="Other")
    validated(other)
    commenters = grow.people(20, circle=other, name="Commenter")

    def circulate(comments: int) -> None:
        circulation = services.ethics_circulate(actor=home["ana"], agreement=statement)
        EthicsComment.objects.bulk_create(
            [
                EthicsComment(
                    circulation=circulation,
                    author=commenters[i % len(commenters)],
                    author_circle=other,
                    text=f"Comment {i}.",
                )
                for i in range(comments)
            ]
        )

    grow.versions(statement, 1, text="Our statement, version {n}.")
    circulate(2)
    client = login(Client(), home["ana"])
    url = statement.get_absolute_url()
    small = queries(client, url)
    for _ in range(5):
        grow.versions(statement, 1, text="Our statement, version {n}.")
        circulate(20)
    large = queries(client, url)
    assert small == large
    # 12 of its own, and the circle's tabs read its links' status (links' own queries).
    assert large <= MAX_QUERIES + 4
    n, page = size(client, url)
    assert n <= MAX_BYTES
    assert "Commenter " in page  # names shown to the federation, read at once


def test_ethics_register_with_5_or_150_statements_is_paged_and_small(federation: Any) -> None:
    anonymous = Client()
    url = f"/federations/{federation.slug}/ethics/"
    grow.agreements(grow.circles(federation, 5), kind="ethics", text=LONG)
    small = queries(anonymous, url)
    grow.agreements(grow.circles(federation, 145), kind="ethics", text=LONG)
    large = queries(anonymous, url)
    assert small == large <= MAX_QUERIES
    n, page = size(anonymous, url)
    assert n <= MAX_BYTES
    assert "150 circles have published their statements." in page
    assert page.count('class="card"') == STATEMENTS_PER_PAGE
    # A long statement shows its opening and the way to the whole of it.
    assert "Read the whole of" in page
    # Plain links from page to page, in a stable order (by circle name), no JavaScript.
    names = sorted(a.circle.name for a in Agreement.objects.select_related("circle"))
    assert names[0] in page and names[STATEMENTS_PER_PAGE] not in page
    assert 'href="?page=2"' in page and 'rel="prev"' not in page
    second = size(anonymous, url + "?page=2")[1]
    assert names[STATEMENTS_PER_PAGE] in second and names[0] not in second
    assert 'href="?page=1"' in second
    last = size(anonymous, url + "?page=15")[1]
    assert names[-1] in last and 'rel="next"' not in last
    assert size(anonymous, url + "?page=999")[1].count('class="card"') == STATEMENTS_PER_PAGE
    # A search by the circle's name, kept across pages.
    found = size(anonymous, url + f"?q={names[7][-5:]}")[1]
    assert names[7] in found and found.count('class="card"') == 1
    assert "1 circle's statement matches" in found
    some = size(anonymous, url + "?q=Grown+circle")[1]
    assert 'href="?q=Grown+circle&amp;page=2"' in some


def test_the_register_shows_one_statement_a_circle_and_no_hidden_circle(
    federation: Any,
) -> None:
    shown, members_only = (
        grow.circles(federation, 1),
        grow.circles(federation, 1, visibility="circle"),
    )
    grow.agreements(shown, kind="ethics", text="Ours. MARKERSHOWN")
    grow.agreements(members_only, kind="ethics", text="Theirs. MARKERHIDDEN")
    grow.agreements(shown, kind="ethics", text="Ours, newer. MARKERNEWER")
    page = size(Client(), f"/federations/{federation.slug}/ethics/")[1]
    assert "MARKERNEWER" in page and "MARKERSHOWN" not in page
    assert "MARKERHIDDEN" not in page and members_only[0].name not in page
    assert page.count('class="card"') == 1
    assert "1 circle has published its statement." in page


def test_lineage_with_2_or_60_borrowings_costs_the_same(federation: Any) -> None:
    source = grow.agreements(grow.circles(federation, 1), kind="procedure", text=LONG)[0]
    anonymous = Client()
    url = f"/federations/{federation.slug}/lineage/"
    grow.agreements(
        grow.circles(federation, 2),
        kind="procedure",
        text=LONG + " Changed.",
        borrowed_from=source.current_version,
    )
    small = queries(anonymous, url)
    grow.agreements(
        grow.circles(federation, 58),
        kind="procedure",
        text=LONG + " Changed.",
        borrowed_from=source.current_version,
    )
    large = queries(anonymous, url)
    assert small == large <= MAX_QUERIES
    n, page = size(anonymous, url)
    assert n <= MAX_BYTES
    assert page.count("<tr><td><a href=") == BORROWINGS_PER_PAGE
    assert "60 borrowings" in page and 'href="?page=2"' in page
    last = size(anonymous, url + "?page=3")[1]
    assert 'href="?page=2" rel="prev"' in last and 'rel="next"' not in last
    assert last.count("<tr><td><a href=") == 60 - 2 * BORROWINGS_PER_PAGE


def test_reviews_due_on_the_home_page_cost_the_same_for_1_or_15(home: dict[str, Any]) -> None:
    def due(count: int) -> None:
        made = grow.agreements([home["circle"]] * count, kind="procedure", text="Due.")
        Agreement.objects.filter(pk__in=[a.pk for a in made]).update(
            review_due=timezone.localdate() + timedelta(days=3)
        )

    section = next(s for s in home_sections() if s.key == "agreements.reviews_due")
    user = home["ana"].user

    def draw() -> tuple[int, str]:
        section.context(home["ana"], user)  # warm the viewer's audience
        with CaptureQueriesContext(connection) as ctx:
            context = section.context(home["ana"], user)
            html = render_to_string(section.template, context) if context else ""
        return len(ctx.captured_queries), html

    due(1)
    small, _html = draw()
    due(14)
    large, html = draw()
    assert small == large == 1
    assert html.count("<li>") == 15
    assert "Agreements due for review" in size(login(Client(), home["ana"]), "/")[1]
