"""What a query string may ask of the agreements' pages, and what their order may tell.

- `?from=&to=` on an agreement's page, and `?page=` on the lineage and the ethics register: a
  number no version or page could have (too large for the database, signed, not digits) is
  taken as not given, never a server error (a public agreement is read anonymously).
- The lineage's order: a borrowing circle shown as "a circle" does not sit where its real name
  would sort.
- The diff cache's key changes with the language and with every renderer's version, so an
  upgrade never serves HTML an older renderer made."""

from __future__ import annotations

from typing import Any
from unittest import mock

import django
import markdown_it
import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.test import Client
from django.utils import translation

from circlework.agreements import selectors
from circlework.agreements.models import Agreement
from circlework.agreements.templatetags import diffs
from circlework.circles.models import Circle
from circlework.core import markdown as core_markdown
from tests import factories
from tests.agreements import grow
from tests.agreements.helpers import validated
from tests.agreements.test_ethics import adopt

pytestmark = pytest.mark.django_db

TOO_LARGE = "99999999999999999999"  # past SQLite's INTEGER and PostgreSQL's bigint
NOT_A_VERSION = [TOO_LARGE, "0", "-1", "1_0", "+2", "²", "1e3", "10000000", " "]


@pytest.fixture
def procedure(federation: Any) -> Agreement:
    """A public agreement with four versions, read anonymously."""
    ana, ben = factories.make_practitioner("Ana"), factories.make_practitioner("Ben")
    circle = factories.make_circle(founder=ana, federation=federation, members=[ben], name="Home")
    validated(circle)
    agreement: Agreement = adopt(circle, [ana, ben], kind="procedure", text="One.")
    grow.versions(agreement, 3)
    Agreement.objects.filter(pk=agreement.pk).update(visibility="public")
    agreement.refresh_from_db()
    return agreement


@pytest.mark.parametrize("name", ["from", "to"])
@pytest.mark.parametrize("value", NOT_A_VERSION)
def test_a_number_no_version_has_compares_the_last_two(
    procedure: Agreement, name: str, value: str
) -> None:
    url = procedure.get_absolute_url()
    response = Client().get(url, {name: value})
    assert response.status_code == 200
    assert (response.context["a"], response.context["b"]) == (3, 4)
    both = Client().get(url, {"from": value, "to": value})
    assert both.status_code == 200 and (both.context["a"], both.context["b"]) == (3, 4)


def test_versions_asked_for_are_compared(procedure: Agreement) -> None:
    response = Client().get(procedure.get_absolute_url(), {"from": "1", "to": "004"})
    assert (response.context["a"], response.context["b"]) == (1, 4)
    absent = Client().get(procedure.get_absolute_url(), {"from": "2", "to": "999999"})
    assert absent.status_code == 200  # no such version: the last two
    assert (absent.context["a"], absent.context["b"]) == (3, 4)


@pytest.mark.parametrize("page", [TOO_LARGE, "1000001", "-3", "x", "0"])
def test_federation_lists_take_any_page_number(federation: Any, page: str) -> None:
    source = grow.agreements(grow.circles(federation, 1), kind="procedure", text="Ours.")[0]
    grow.agreements(
        grow.circles(federation, 2),
        kind="procedure",
        text="Ours, changed.",
        borrowed_from=source.current_version,
    )
    grow.agreements(grow.circles(federation, 2), kind="ethics", text="We care.")
    for path in ("lineage", "ethics"):
        response = Client().get(f"/federations/{federation.slug}/{path}/", {"page": page})
        assert response.status_code == 200, path


def test_a_circle_shown_unnamed_does_not_sit_at_its_names_place(federation: Any) -> None:
    """Today a borrowing is read only by whom may see its circle (visible_agreements_q asks the
    circle's page's rule too), so the lineage never shows "a circle" for the borrower. Should a
    rule ever let a borrowing be read without its circle's name, its place must not tell the
    name: here every borrowing is readable, and Maple's page is for its members only. Were the
    rows in the order of the real names, "a circle" would sit between Alder and Zelkova."""
    source = grow.agreements(grow.circles(federation, 1), kind="procedure", text="Ours.")[0]
    alder, maple, zelkova = grow.circles(federation, 3)
    for circle, name in ((alder, "Alder"), (maple, "Maple"), (zelkova, "Zelkova")):
        Circle.objects.filter(pk=circle.pk).update(name=name)
    Circle.objects.filter(pk=maple.pk).update(visibility="circle")
    grow.agreements(
        [zelkova, maple, alder],
        kind="procedure",
        text="Ours, changed.",
        borrowed_from=source.current_version,
    )
    anonymous = AnonymousUser()

    def shown() -> list[str]:
        page = selectors.lineage_page(user=anonymous, federation_id=federation.pk)
        return [b.circle_name for b in page.borrowings]

    assert shown() == ["Alder", "Zelkova"]  # Maple's borrowing is not read at all
    with mock.patch.object(selectors, "visible_agreements_q", lambda audience: Q()):
        assert shown() == ["Alder", "Zelkova", "a circle"]
        assert [
            b.circle_name for b in selectors.lineage(user=anonymous, federation_id=federation.pk)
        ] == [
            "Alder",
            "Zelkova",
            "a circle",
        ]


def test_the_diff_cache_key_changes_with_language_and_renderers() -> None:
    def key() -> str:
        return diffs.cache_key("Old.", "New.", markdown=True, under=3)

    with translation.override("en"):
        base = key()
        assert key() == base  # the same inputs, the same key
        assert diffs.cache_key("Old.", "New!", markdown=True, under=3) != base
        for target, attribute in (
            (diffs, "RENDERER_VERSION"),
            (diffs, "_NH3_VERSION"),
            (django, "__version__"),
            (markdown_it, "__version__"),
        ):
            with mock.patch.object(target, attribute, "0.0.0-next"):
                assert key() != base, attribute
        with mock.patch.object(core_markdown, "RENDERER_VERSION", b"next"):
            assert key() != base
    with translation.override("de"):
        assert key() != base
