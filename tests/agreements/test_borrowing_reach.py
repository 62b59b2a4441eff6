"""Issue 10, finding 6 (borrowing): an agreement is borrowed only into a circle whose every member
may read it, and the draft names no circle in its stored text.

Borrowing copies the agreement's text into a proposal that every member of the receiving circle
reads. So the receiving circle, as a whole (core.visibility.circle_audience), must be able to
read the agreement at its level and see its circle; a members-only agreement is not borrowed at
all, and a federation-only one stays in its federation. Where it came from is shown when read,
through the circle-name rule: a circle that has since closed its page is "a circle".
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from circlework.agreements import rules
from circlework.agreements.models import Agreement
from circlework.circles.models import Circle
from circlework.core.errors import NotAllowed
from circlework.core.permissions import allowed
from circlework.decisions.models import Proposal
from circlework.decisions.services import agreement_proposals
from tests import factories
from tests.agreements.helpers import validated
from tests.agreements.test_visibility import adopt
from tests.conftest import login

pytestmark = pytest.mark.django_db

QUIET = "Quietmarker Circle"  # members only
OPEN = "Openmarker Circle"  # its page seen by the federation


def _in(days: float) -> Any:
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def reach(federation: Any) -> dict[str, Any]:
    """Cara belongs to Quiet (members only), Open (federation-wide page), a forming circle of the
    same federation, and Far in another federation. Dan is in Quiet only; Pia in Open only."""
    cara, dan, pia, fay, sol = (
        factories.make_practitioner(n) for n in ("Cara", "Dan", "Pia", "Fay", "Sol")
    )
    quiet = factories.make_circle(
        founder=cara, federation=federation, members=[dan], name=QUIET, visibility="circle"
    )
    open_ = factories.make_circle(
        founder=pia, federation=federation, members=[cara], name=OPEN, visibility="federation"
    )
    forming = factories.make_circle(founder=fay, federation=federation, members=[cara])
    far = factories.make_circle(
        founder=sol, federation=factories.make_federation("South"), members=[cara], name="Far"
    )
    validated(quiet, open_, far)
    for person in (cara, dan, pia, fay, sol):
        person.user.refresh_from_db()  # a fresh audience for each
    return {
        "quiet": quiet,
        "open": open_,
        "forming": forming,
        "far": far,
        "cara": cara,
        "dan": dan,
        "pia": pia,
    }


def _borrow(actor: Any, agreement: Agreement, circle: Circle) -> Proposal:
    return agreement_proposals.agreement_borrow(
        actor=actor, agreement=agreement, circle=circle, closes_at=_in(5)
    )


def test_a_members_only_agreement_is_not_borrowed_anywhere(reach: dict[str, Any]) -> None:
    """Cara reads Quiet's agreement as its member, but no other circle of hers may."""
    agreement = adopt(reach["quiet"], [reach["cara"], reach["dan"]])
    assert agreement.visibility == "circle"
    cara = reach["cara"]
    for target in ("open", "forming", "far"):
        with pytest.raises(NotAllowed):
            _borrow(cara, agreement, reach[target])
    assert not Proposal.objects.filter(borrowed_from__isnull=False).exists()
    assert not allowed("agreements.borrow_agreement", cara.user, agreement)
    page = login(Client(), cara).get(agreement.get_absolute_url()).content.decode()
    assert "Borrow this agreement" not in page


def test_a_federation_only_agreement_stays_in_its_federation(reach: dict[str, Any]) -> None:
    agreement = adopt(reach["open"], [reach["pia"], reach["cara"]], visibility="federation")
    assert agreement.visibility == "federation"
    cara = reach["cara"]
    # Far is in another federation; the forming circle is not yet "the federation".
    for target in ("far", "forming"):
        assert not rules.may_borrow_into(cara.user, agreement, reach[target])
        with pytest.raises(NotAllowed):
            _borrow(cara, agreement, reach[target])
    assert not Proposal.objects.filter(borrowed_from__isnull=False).exists()
    # Quiet is a validated circle of the same federation: all its members read it.
    assert rules.may_borrow_into(cara.user, agreement, reach["quiet"])
    assert [c.pk for c in rules.borrow_targets(cara.user, agreement)] == [reach["quiet"].pk]
    draft = _borrow(cara, agreement, reach["quiet"])
    assert draft.circle == reach["quiet"]
    # The page offers only the circles it may go to.
    page = login(Client(), cara).get(agreement.get_absolute_url()).content.decode()
    form = page.split('id="borrow-heading"', 1)[1].split("</form>", 1)[0]
    assert f'<option value="{reach["quiet"].pk}"' in form
    for target in ("far", "forming"):
        assert f'<option value="{reach[target].pk}"' not in form


def test_a_public_agreement_is_borrowed_across_federations(reach: dict[str, Any]) -> None:
    Circle.objects.filter(pk=reach["open"].pk).update(visibility="public")
    reach["open"].refresh_from_db()
    agreement = adopt(reach["open"], [reach["pia"], reach["cara"]], visibility="public")
    assert _borrow(reach["cara"], agreement, reach["far"]).circle == reach["far"]


def test_the_draft_names_its_source_only_when_read(reach: dict[str, Any]) -> None:
    """Nothing about the source circle is written into the draft: where it came from is shown
    to each reader as far as they may see that circle, now."""
    agreement = adopt(reach["open"], [reach["pia"], reach["cara"]], visibility="federation")
    draft = _borrow(reach["cara"], agreement, reach["quiet"])
    assert OPEN not in draft.title and OPEN not in draft.text
    url = draft.get_absolute_url()
    assert OPEN in login(Client(), reach["dan"]).get(url).content.decode()
    # Open closes its page to its own members: Dan, in Quiet only, no longer learns its name.
    Circle.objects.filter(pk=reach["open"].pk).update(visibility="circle")
    page = login(Client(), reach["dan"]).get(url).content.decode()
    assert OPEN not in page
    assert "Borrowed from a circle" in page


# --- the rule itself ----------------------------------------------------------------------------

LEVELS = ("circle", "federation", "public")


@given(
    agreement_level=st.sampled_from(LEVELS),
    source_page=st.sampled_from(LEVELS),
    same_federation=st.booleans(),
    target_validated=st.booleans(),
)
def test_a_circle_reads_what_it_borrows(
    agreement_level: str, source_page: str, same_federation: bool, target_validated: bool
) -> None:
    """Borrowable into a circle exactly when every member of it may read the agreement: public
    anywhere; federation-wide only in a validated circle of the same federation; never a
    members-only one (nor one whose circle has since closed its page)."""
    source = SimpleNamespace(pk=1, federation_id=10, visibility=source_page, status="member")
    agreement = SimpleNamespace(circle=source, circle_id=1, visibility=agreement_level)
    target = SimpleNamespace(
        pk=2,
        federation_id=10 if same_federation else 20,
        status="member" if target_validated else "forming",
        visibility="circle",
    )
    level = rules.effective_level(agreement_level, source_page)
    expected = level == "public" or (level == "federation" and same_federation and target_validated)
    assert rules.readable_by_circle(agreement, target) is expected
