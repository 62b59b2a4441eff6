"""Key moments suggest their ceremony at the circle's next meeting: a member joined or left, a
mandate ended, a link was made. Once per moment, never for the founders, only when a meeting is
coming, with the circle's own ceremony for that moment when it has one, and no name stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from circlework.accounts import services as account_services
from circlework.accounts.models import Practitioner
from circlework.agreements import ceremonies
from circlework.agreements.models import Agreement, AgreementKind
from circlework.circles import services as circle_services
from circlework.circles.models import Circle, Membership
from circlework.circles.selectors import current_members
from circlework.core import names
from circlework.core.models import AuditEvent
from circlework.core.visibility import ANONYMOUS, audience_for
from circlework.decisions import services as decision_services
from circlework.gatherings.models import AgendaItem, AgendaState, Gathering
from circlework.gatherings.services import meeting, planning
from circlework.gatherings.services.ceremonies import suggest_ceremonies
from circlework.gatherings.tasks import sweep_ceremony_suggestions
from circlework.mandates import services as mandate_services
from tests import factories
from tests.links import helpers as links

pytestmark = pytest.mark.django_db


@dataclass
class Home:
    circle: Circle
    ana: Practitioner  # founded it
    ben: Practitioner  # a founding member


@pytest.fixture
def home() -> Home:
    """A circle founded a month ago (its founders joined then)."""
    federation = factories.make_federation()
    ana, ben = factories.make_practitioner("Ana Founder"), factories.make_practitioner("Ben Early")
    circle = factories.make_circle(founder=ana, federation=federation, members=[ben])
    month_ago = timezone.now() - timedelta(days=30)
    Circle.objects.filter(pk=circle.pk).update(created_at=month_ago)
    Membership.objects.filter(circle=circle).update(joined_at=month_ago)
    circle.refresh_from_db()
    return Home(circle, ana, ben)


def _plan(
    circle: Circle, actor: Practitioner, *, days: int = 7, title: str = "Monthly"
) -> Gathering:
    start = (timezone.now() + timedelta(days=days)).replace(microsecond=0, second=0, minute=0)
    return planning.gathering_plan(
        actor=actor,
        circle=circle,
        title=title,
        when=planning.When(start, start + timedelta(hours=2), "Europe/London"),
    )


def _suggested(circle: Circle) -> list[AgendaItem]:
    return list(
        AgendaItem.objects.filter(occurrence__gathering__circle=circle, kind="ceremony")
        .exclude(suggestion_key="")
        .order_by("pk")
    )


def _adopt_ceremony(circle: Circle, by: Practitioner, *, title: str, moment: str) -> Agreement:
    """A ceremony agreement for this moment, adopted by the circle's decision."""
    proposal = decision_services.agreement_propose(
        actor=by,
        circle=circle,
        visibility="circle",
        title=f"Adopt {title}",
        text="Let us mark it.",
        closes_at=timezone.now() + timedelta(days=3),
        new_agreement_kind=AgreementKind.CEREMONY,
        new_agreement_title=title,
        agreement_text="We sit in a round.",
        agreement_parameters=ceremonies.ceremony_parameters(moment, "Convener: opens the round"),
    )
    for member in current_members(circle=circle):
        decision_services.position_take(actor=member, proposal=proposal, stance="agree")
    decision_services.proposal_close(actor=by, proposal=proposal, early=True)
    return Agreement.objects.get(circle=circle, title=title)


def test_a_new_member_is_welcomed_at_the_next_meeting_and_the_founders_are_not(home: Home) -> None:
    later = _plan(home.circle, home.ana, days=30, title="Later")
    sooner = _plan(home.circle, home.ana, days=7, title="Sooner")
    nia = factories.make_practitioner("Nia Newcomer")
    factories.add_member(home.circle, nia)

    assert suggest_ceremonies() == 1
    [item] = _suggested(home.circle)
    assert item.occurrence.gathering == sooner and later.pk != sooner.pk
    assert item.state == AgendaState.SUGGESTED
    assert item.title == "Welcoming a new member"
    membership = Membership.objects.get(circle=home.circle, practitioner=nia)
    assert item.suggestion_key == f"joined:{membership.pk}"
    assert item.agreement is None
    # The founders, who joined when the circle was founded, are not welcomed.
    founders = Membership.objects.filter(practitioner__in=[home.ana, home.ben])
    assert not AgendaItem.objects.filter(suggestion_key__in=[f"joined:{m.pk}" for m in founders])
    assert AuditEvent.objects.filter(verb="gathering.agenda_suggested").count() == 1


def test_the_reason_names_people_as_each_reader_may_see_them_and_stores_no_name(
    home: Home,
) -> None:
    _plan(home.circle, home.ana)
    nia = factories.make_practitioner("Nia Newcomer")
    factories.add_member(home.circle, nia)
    suggest_ceremonies()
    [item] = _suggested(home.circle)

    assert "Nia" not in item.reason and "Newcomer" not in item.reason
    assert names.practitioner_ids(item.reason) == {nia.pk}
    assert (
        names.render(item.reason, audience_for(home.ben.user)) == "Nia Newcomer joined the circle."
    )
    # Her name is hers to show to the federation only: the public reads "a member".
    assert "Nia" not in names.render(item.reason, ANONYMOUS)


def test_running_twice_suggests_once_even_after_it_is_set_aside(home: Home) -> None:
    _plan(home.circle, home.ana)
    factories.add_member(home.circle, factories.make_practitioner("Nia Newcomer"))
    assert suggest_ceremonies() == 1
    assert suggest_ceremonies() == 0
    [item] = _suggested(home.circle)
    AgendaItem.objects.filter(pk=item.pk).update(state=AgendaState.DISMISSED)
    # A meeting planned sooner does not bring the moment back: it was suggested in this circle.
    _plan(home.circle, home.ana, days=2, title="Sooner")
    assert sweep_ceremony_suggestions.call() == 0
    assert len(_suggested(home.circle)) == 1


def test_nothing_is_suggested_without_a_coming_meeting_and_a_later_sweep_catches_it(
    home: Home,
) -> None:
    factories.add_member(home.circle, factories.make_practitioner("Nia Newcomer"))
    assert suggest_ceremonies() == 0  # no gathering at all
    cancelled = _plan(home.circle, home.ana)
    planning.gathering_cancel(actor=home.ana, gathering=cancelled, reason="Not this time")
    assert suggest_ceremonies() == 0  # only a cancelled one
    assert not AgendaItem.objects.filter(occurrence__gathering__circle=home.circle).exists()

    _plan(home.circle, home.ana, days=10)
    assert suggest_ceremonies() == 1


def test_a_moment_older_than_the_window_is_not_suggested(home: Home) -> None:
    factories.add_member(home.circle, factories.make_practitioner("Nia Newcomer"))
    _plan(home.circle, home.ana, days=90)
    assert suggest_ceremonies(now=timezone.now() + timedelta(days=61)) == 0
    assert suggest_ceremonies(now=timezone.now() + timedelta(days=59)) == 1


def test_a_member_who_left_is_said_goodbye_to(home: Home) -> None:
    _plan(home.circle, home.ana)
    circle_services.membership_leave(actor=home.ben, circle=home.circle)
    assert suggest_ceremonies() == 1
    [item] = _suggested(home.circle)
    membership = Membership.objects.get(circle=home.circle, practitioner=home.ben)
    assert item.suggestion_key == f"left:{membership.pk}"
    assert item.title == "Saying goodbye"
    # Names follow the name rule at reading time: Ben shares no circle with Ana any more, so she
    # reads his name only once he shows it to everyone.
    assert names.render(item.reason, audience_for(home.ana.user)) == "A member left the circle."
    account_services.practitioner_update(
        actor=home.ben, practitioner=home.ben, changes={"display_name_visibility": "public"}
    )
    assert names.render(item.reason, ANONYMOUS) == "Ben Early left the circle."


def test_a_mandate_ended_early_is_marked(home: Home) -> None:
    _plan(home.circle, home.ana)
    factories.validate_circle(home.circle, home.ana, home.ben)  # its holders may step down
    mandate = factories.grant_mandate("convener", home.ben, circle=home.circle)
    assert suggest_ceremonies() == 0  # live: nothing to mark yet
    mandate_services.mandate_resign(actor=home.ben, mandate=mandate, reason="Moving away")
    assert suggest_ceremonies() == 1
    [item] = _suggested(home.circle)
    assert item.suggestion_key == f"mandate_end:{mandate.pk}"
    assert item.title == "Marking the end of a mandate"
    reason = names.render(item.reason, audience_for(home.ana.user))
    assert "Ben Early" in reason and "Convener" in reason.title()
    assert "Ben" not in item.reason


def test_a_mandate_that_reached_its_end_is_marked_at_the_meeting_after(home: Home) -> None:
    today = timezone.localdate()
    mandate = factories.grant_mandate(
        "convener",
        home.ben,
        circle=home.circle,
        starts_on=today,
        ends_on=today + timedelta(days=10),
    )
    _plan(home.circle, home.ana, days=20)
    assert suggest_ceremonies() == 0
    assert suggest_ceremonies(now=timezone.now() + timedelta(days=11)) == 1
    [item] = _suggested(home.circle)
    assert item.suggestion_key == f"mandate_end:{mandate.pk}"


def test_a_link_made_is_celebrated_in_both_circles_once_for_a_reciprocal_pair() -> None:
    net = links.make_net(["A", "B"])
    link = links.validate(net, "A", "B", reciprocal=True)
    for name in ("A", "B"):
        _plan(net.circles[name], net.first(name))

    assert suggest_ceremonies() == 2  # one in each circle; nobody welcomed (all founders)
    for name in ("A", "B"):
        [item] = _suggested(net.circles[name])
        assert item.title == "Celebrating a new link"
        assert item.link is not None and item.link.pk in {link.pk, link.counterpart_id}
        assert item.suggestion_key == f"link:{min(link.pk, link.counterpart_id or link.pk)}"
        # No circle's name is stored: the page names the other circle when it is read.
        assert names.render(item.reason, ANONYMOUS) == "A link with another circle was made."


def test_the_link_item_names_the_other_circle_only_as_the_reader_may_see_it() -> None:
    net = links.make_net(["A", "B"])
    links.validate(net, "A", "B")
    Circle.objects.filter(pk=net.circles["B"].pk).update(name="Birchwood Hidden")
    _plan(net.circles["A"], net.first("A"))
    assert suggest_ceremonies() >= 1
    [item] = _suggested(net.circles["A"])
    assert "Birchwood" not in item.reason

    client = Client()
    client.force_login(net.first("A").user)
    url = item.occurrence.get_absolute_url()
    page = client.get(url).content.decode()
    assert "The link with Birchwood Hidden" in page  # the federation may see B
    Circle.objects.filter(pk=net.circles["B"].pk).update(visibility="circle")
    page = client.get(url).content.decode()
    assert "Birchwood" not in page and "The link with a circle" in page


def test_the_circle_s_own_ceremony_for_the_moment_is_offered(home: Home) -> None:
    farewell = _adopt_ceremony(
        home.circle, home.ana, title="Our goodbye round", moment=ceremonies.FAREWELL
    )
    welcome = _adopt_ceremony(
        home.circle, home.ana, title="Our welcome circle", moment=ceremonies.WELCOME
    )
    _plan(home.circle, home.ana)
    factories.add_member(home.circle, factories.make_practitioner("Nia Newcomer"))

    assert suggest_ceremonies() == 1
    [item] = _suggested(home.circle)
    assert item.agreement == welcome and item.agreement != farewell
    assert item.title == "Our welcome circle"


def test_a_ceremony_for_another_moment_is_not_offered(home: Home) -> None:
    _adopt_ceremony(home.circle, home.ana, title="Our opening round", moment=ceremonies.OPENING)
    _plan(home.circle, home.ana)
    circle_services.membership_leave(actor=home.ben, circle=home.circle)
    suggest_ceremonies()
    [item] = _suggested(home.circle)
    assert item.agreement is None and item.title == "Saying goodbye"


def test_the_sweep_reads_in_bounded_queries(home: Home, django_assert_max_num_queries: Any) -> None:
    """Nothing new to suggest: the moments of every circle are read a kind at a time."""
    _plan(home.circle, home.ana)
    for i in range(3):
        factories.add_member(home.circle, factories.make_practitioner(f"New {i}"))
    assert suggest_ceremonies() == 3
    with django_assert_max_num_queries(6):
        assert suggest_ceremonies() == 0


def test_the_meeting_page_shows_the_suggestion_and_the_circle_takes_it(home: Home) -> None:
    _plan(home.circle, home.ana)
    nia = factories.make_practitioner("Nia Newcomer")
    factories.add_member(home.circle, nia)
    suggest_ceremonies()
    [item] = _suggested(home.circle)

    client = Client()
    client.force_login(home.ben.user)
    page = client.get(item.occurrence.get_absolute_url()).content.decode()
    assert "Suggested for the agenda" in page
    assert "Welcoming a new member" in page and "Nia Newcomer joined the circle." in page

    taken = meeting.agenda_suggestion_accept(actor=home.ana, item=item)
    assert taken.state == AgendaState.ON
    assert suggest_ceremonies() == 0  # taken: not suggested again


def test_a_suggestion_taken_off_the_agenda_is_not_suggested_again(home: Home) -> None:
    _plan(home.circle, home.ana)
    factories.add_member(home.circle, factories.make_practitioner("Nia Newcomer"))
    assert suggest_ceremonies() == 1
    [item] = _suggested(home.circle)
    meeting.agenda_suggestion_accept(actor=home.ana, item=item)

    meeting.agenda_item_remove(actor=home.ana, item=item)
    item.refresh_from_db()
    assert item.state == AgendaState.DISMISSED  # kept, set aside
    assert suggest_ceremonies() == 0
    client = Client()
    client.force_login(home.ben.user)
    page = client.get(item.occurrence.get_absolute_url()).content.decode()
    assert "Welcoming a new member" not in page
