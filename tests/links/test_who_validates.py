"""Who can validate a circle: only circles the federation has validated — except while it is
being founded (issue 10, finding 1, the links holes).

The attack: four accounts found circles A, B and C with the same four members; A asks B and C;
B and C meet and decide yes; A becomes a member circle and its members read every
federation-level record. A link now counts only if, when it was decided, the validating circle
was validated (`links.validation_rule.link_counts`) — or the federation was still being
founded, so its first circles can validate one another. Whether a link counted is recorded on it.

Also here: the triangle rule's message names only circles its readers may see (M3), and the
members of a forming circle can list and ask the federation's validated circles for a link even
where those circles' pages are for the federation only (M4).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from circlework.circles import services as circle_services
from circlework.circles.models import Circle, CircleStatus, CovenantVersion
from circlework.core.errors import Conflict, InvalidInput
from circlework.core.permissions import allowed
from circlework.core.visibility import audience_for, forget_audience
from circlework.decisions import services as decision_services
from circlework.links import services
from circlework.links.models import CircleLink, LinkCount, LinkStatus
from circlework.links.selectors import link_tally, request_choices
from circlework.notifications.models import Notification
from tests import factories
from tests.links.helpers import Net, ask, decide, make_net, meet, validate

pytestmark = pytest.mark.django_db

ONLY_VALIDATED = "Only a circle the federation has validated can validate another circle."
SECRET = "MARK-FEDERATION-ONLY-STATEMENT"


def _status(circle: Circle) -> str:
    return Circle.objects.get(pk=circle.pk).status


def _founded(**rules: Any) -> Net:
    """A federation asking two links, founded the honest way: A, B, C and D validate one another
    until A and B are validated (then a newcomer can be validated by validated circles)."""
    net = make_net(["A", "B", "C", "D"], no_closed_triangles=False, **rules)
    validate(net, "A", "B")
    validate(net, "A", "C")
    validate(net, "B", "C")
    validate(net, "B", "D")
    assert [_status(net.circles[n]) for n in "ABCD"] == ["member", "member", "forming", "forming"]
    return net


def _sybils(net: Net) -> list[Circle]:
    """Four accounts found three circles, the same four members in each."""
    people = [factories.make_practitioner(f"Sybil {i}") for i in range(1, 5)]
    circles = [
        factories.make_circle(
            founder=people[0], federation=net.federation, members=people[1:], name=f"S{n}"
        )
        for n in (1, 2, 3)
    ]
    net.people["S"] = people
    for circle in circles:
        net.circles[circle.name] = circle
        net.people[circle.name] = people
    return circles


# --- the attack, in a federation that has its validated circles --------------------------------


def test_sybil_circles_cannot_validate_each_other_once_the_federation_is_founded() -> None:
    net = _founded()
    ruth = factories.make_practitioner("Ruth", statement=SECRET, statement_visibility="federation")
    factories.add_member(net.circles["A"], ruth, inviter=net.first("A"))
    s1, s2, s3 = _sybils(net)
    mallory = net.people["S"][0]

    # Asking a forming circle is refused, in plain words.
    for validating in (s2, s3):
        with pytest.raises(InvalidInput, match=ONLY_VALIDATED):
            services.link_request(
                actor=mallory,
                asking_circle=s1,
                validating_circle=validating,
                message="Validate us.",
                reciprocal=False,
            )
    # Requests made some other way (say, before the federation was founded) cannot be decided.
    for validating in (s2, s3):
        link = CircleLink.objects.create(
            federation=net.federation,
            asking_circle=s1,
            validating_circle=validating,
            requested_by=mallory,
        )
        meet(net, link)
        with pytest.raises(Conflict, match=ONLY_VALIDATED):
            services.link_decision_open(
                actor=mallory, link=link, closes_at=timezone.now() + timedelta(days=3)
            )
        assert link.decision is None
    assert _status(s1) == CircleStatus.FORMING
    assert link_tally(s1).live_links == 0
    # And so no reach: Mallory is not "the federation".
    forget_audience(mallory.user)
    assert audience_for(mallory.user).federation_ids == frozenset()
    client = Client()
    client.force_login(mallory.user)
    assert SECRET not in client.get(f"/practitioners/{ruth.pk}/").content.decode()


def test_a_decision_opened_while_founding_but_closed_after_does_not_count() -> None:
    """Counted or not is decided when the circle decides, and recorded on the link."""
    net = make_net(["A", "B", "C", "D", "E", "F"], no_closed_triangles=False)
    pending = ask(net, "E", "F")  # while nobody is validated: founding
    meet(net, pending)
    proposal = services.link_decision_open(
        actor=net.first("F"), link=pending, closes_at=timezone.now() + timedelta(days=3)
    )
    for asking, validating in (("A", "B"), ("A", "C"), ("B", "C"), ("B", "D")):
        validate(net, asking, validating)  # meanwhile A and B are validated: founded
    for member in net.people["F"]:
        decision_services.position_take(actor=member, proposal=proposal, stance="agree")
    decision_services.proposal_close(actor=net.first("F"), proposal=proposal, early=True)

    pending.refresh_from_db()
    assert pending.status == LinkStatus.VALIDATED  # F did validate E's process …
    assert pending.counts == LinkCount.NO  # … but it does not count
    assert link_tally(net.circles["E"]).live_links == 0
    assert _status(net.circles["E"]) == CircleStatus.FORMING
    told = Notification.objects.filter(recipient=net.first("E"), url=pending.get_absolute_url())
    assert any(ONLY_VALIDATED in n.body for n in told)
    client = Client()
    client.force_login(net.first("E").user)
    page = client.get(pending.get_absolute_url()).content.decode()
    assert 'id="link-counts"' in page and ONLY_VALIDATED in page


def test_the_link_page_says_why_a_forming_circle_cannot_decide() -> None:
    net = _founded()
    link = CircleLink.objects.create(
        federation=net.federation,
        asking_circle=net.circles["C"],
        validating_circle=net.circles["D"],
        requested_by=net.first("C"),
    )
    meet(net, link)
    client = Client()
    client.force_login(net.first("D").user)
    page = client.get(link.get_absolute_url()).content.decode()
    assert ONLY_VALIDATED in page and 'id="cannot-validate"' in page
    assert "Open the circle&#x27;s decision" not in page
    response = client.post(
        f"/links/{link.pk}/decide/",
        {"closes_at": (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code in (403, 404, 409), response.status_code
    link.refresh_from_db()
    assert link.decision is None


def test_counted_links_stay_counted_when_the_validating_circle_changes() -> None:
    """No cascade: B no longer validated does not undo what it decided while it was."""
    net = _founded(min_circle_size=3)
    given = validate(net, "D", "B")  # B validated: counts
    assert given.counts == LinkCount.BY_VALIDATED_CIRCLE
    circle_services.membership_leave(actor=net.people["B"][2], circle=net.circles["B"])
    assert _status(net.circles["B"]) == CircleStatus.FORMING  # too few members now
    given.refresh_from_db()
    assert given.counts == LinkCount.BY_VALIDATED_CIRCLE
    assert link_tally(net.circles["D"]).live_links == 1
    # A was validated by B (and C) while founding: A stays validated.
    assert services.circle_status_refresh(circle=net.circles["A"]) is False
    assert _status(net.circles["A"]) == CircleStatus.MEMBER


# --- a brand-new federation: its founding circles validate one another -------------------------


def test_founding_circles_validate_one_another_until_enough_are_validated() -> None:
    net = make_net(["A", "B", "C", "D"], no_closed_triangles=False)
    first = [validate(net, "A", "B"), validate(net, "A", "C")]
    assert [x.counts for x in first] == [LinkCount.FOUNDING] * 2
    assert _status(net.circles["A"]) == CircleStatus.MEMBER
    # One circle is validated: B could still not be validated by validated circles alone.
    second = [validate(net, "B", "A"), validate(net, "B", "D")]
    assert [x.counts for x in second] == [LinkCount.BY_VALIDATED_CIRCLE, LinkCount.FOUNDING]
    assert _status(net.circles["B"]) == CircleStatus.MEMBER
    # Two are: the founding is over for C. D, still forming, cannot validate it any more …
    with pytest.raises(InvalidInput, match=ONLY_VALIDATED):
        ask(net, "C", "D")
    assert net.circles["D"] not in request_choices(
        user=net.first("C").user, circle=net.circles["C"]
    )
    # … the validated circles can.
    validate(net, "C", "A")
    validate(net, "C", "B")
    assert _status(net.circles["C"]) == CircleStatus.MEMBER


def test_a_covenant_asking_no_links_has_no_founding() -> None:
    net = make_net(["A", "B"], links_required=0, min_circle_size=4)  # three members: forming
    assert _status(net.circles["A"]) == CircleStatus.FORMING
    with pytest.raises(InvalidInput, match=ONLY_VALIDATED):
        ask(net, "A", "B")


# --- M3: the triangle rule names only circles its readers may see ------------------------------


def test_the_triangle_message_does_not_name_a_circle_the_asker_cannot_see() -> None:
    net = make_net(["A", "B"], links_required=1)
    hidden = factories.make_circle(
        founder=factories.make_practitioner("Quiet One"),
        federation=net.federation,
        name="Quiet Hidden Circle",
        visibility="circle",
    )
    for other in ("A", "B"):
        services.link_request(
            actor=hidden.founded_by,  # type: ignore[arg-type]
            asking_circle=hidden,
            validating_circle=net.circles[other],
            message="",
            reciprocal=False,
        )
    with pytest.raises(InvalidInput) as refused:
        ask(net, "A", "B")
    assert "Quiet Hidden Circle" not in str(refused.value.message)
    assert "a circle" in str(refused.value.message)


def test_the_triangle_refusal_at_decision_names_no_hidden_circle() -> None:
    net = make_net(["A", "B"], links_required=1, no_closed_triangles=False)
    quiet = factories.make_practitioner("Quiet One")
    hidden = factories.make_circle(
        founder=quiet,
        federation=net.federation,
        name="Quiet Hidden Circle",
        members=[factories.make_practitioner("Quiet Two"), factories.make_practitioner("Q3")],
    )
    net.circles[hidden.name], net.people[hidden.name] = hidden, [quiet]
    pending = ask(net, "A", "B")
    meet(net, pending)
    validate(net, hidden.name, "A")  # the quiet circle is validated: the federation is founded
    validate(net, "B", hidden.name)  # asked while its page was open to all
    # Then it keeps its page to its members (a stranger could no longer ask it).
    Circle.objects.filter(pk=hidden.pk).update(visibility="circle")
    hidden.refresh_from_db()
    latest = CovenantVersion.objects.filter(federation=net.federation).order_by("-number").first()
    assert latest is not None
    CovenantVersion.objects.create(
        federation=net.federation,
        number=latest.number + 1,
        text="No closed triangles now.",
        parameters={**latest.parameters, "no_closed_triangles": True},
    )
    decide(net, pending)
    assert pending.status == LinkStatus.DECLINED
    told = Notification.objects.filter(url=pending.get_absolute_url(), body__contains="linked")
    assert told.exists()
    assert not told.filter(body__contains="Quiet Hidden Circle").exists()


# --- M4: forming circles ask the federation's validated circles --------------------------------


def _federation_only(net: Net, *names: str) -> None:
    Circle.objects.filter(pk__in=[net.circles[n].pk for n in names]).update(visibility="federation")
    for n in names:
        net.circles[n].refresh_from_db()


def test_a_forming_circle_lists_and_asks_validated_circles_it_cannot_see() -> None:
    net = _founded()
    _federation_only(net, "A", "B", "C")
    newcomer = factories.make_practitioner("Newcomer")
    forming = factories.make_circle(founder=newcomer, federation=net.federation, name="New")
    user = newcomer.user
    forget_audience(user)
    assert not allowed("circles.view_circle", user, net.circles["A"])
    assert allowed("links.ask_for_link", user, net.circles["A"])
    assert not allowed("links.ask_for_link", user, net.circles["C"])  # forming
    choices = request_choices(user=user, circle=forming)
    assert [c.name for c in choices] == ["A", "B"]
    client = Client()
    client.force_login(user)
    page = client.get(f"/circles/{forming.slug}/links/").content.decode()
    assert f'value="{net.circles["A"].pk}"' in page and ">A</option>" in page
    assert f'value="{net.circles["C"].pk}"' not in page
    # Asking by the page …
    response = client.post(
        f"/circles/{forming.slug}/links/",
        {"validating_circle": net.circles["A"].pk, "message": "Please meet us."},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # … and by the API.
    api = client.post(
        f"/api/v1/circles/{forming.slug}/links",
        {"validating_circle": net.circles["B"].slug, "message": "Please meet us too."},
        content_type="application/json",
    )
    assert api.status_code == 201, api.content[:500]
    asked = set(
        CircleLink.objects.filter(asking_circle=forming).values_list(
            "validating_circle__name", flat=True
        )
    )
    assert asked == {"A", "B"}
    # Knowing their names opens nothing else of those circles' pages.
    for path in (f"/circles/{net.circles['A'].slug}/", f"/api/v1/circles/{net.circles['A'].slug}"):
        assert client.get(path).status_code in (403, 404), path


def test_an_outsider_cannot_ask_for_a_link_or_see_validated_circles() -> None:
    net = _founded()
    _federation_only(net, "A")
    stranger = factories.make_practitioner("Stranger")
    elsewhere = factories.make_circle(
        founder=stranger, federation=factories.make_federation("Elsewhere"), name="Elsewhere"
    )
    assert elsewhere.federation_id != net.federation.pk
    assert not allowed("links.ask_for_link", stranger.user, net.circles["A"])
    assert not allowed("links.ask_for_link", None, net.circles["A"])


def test_a_members_only_circle_is_neither_named_nor_asked_by_strangers(
    django_assert_max_num_queries: Any,
) -> None:
    """Its page is for its members: a newcomer's forming circle is not offered it by name and
    cannot ask it, by page or API; the other validated circles are offered in a bounded number
    of queries."""
    net = _founded()
    _federation_only(net, "A", "B", "C")
    Circle.objects.filter(pk=net.circles["A"].pk).update(visibility="circle")
    net.circles["A"].refresh_from_db()
    newcomer = factories.make_practitioner("Newcomer")
    forming = factories.make_circle(founder=newcomer, federation=net.federation, name="New")
    user = newcomer.user
    forget_audience(user)
    assert not allowed("links.ask_for_link", user, net.circles["A"])
    with django_assert_max_num_queries(8):
        choices = request_choices(user=user, circle=forming)
    assert [c.name for c in choices] == ["B"]
    client = Client()
    client.force_login(user)
    page = client.get(f"/circles/{forming.slug}/links/").content.decode()
    assert f'value="{net.circles["A"].pk}"' not in page
    api = client.post(
        f"/api/v1/circles/{forming.slug}/links",
        {"validating_circle": net.circles["A"].slug, "message": "Please meet us."},
        content_type="application/json",
    )
    assert api.status_code in (400, 403, 404), api.content[:300]
    assert not CircleLink.objects.filter(asking_circle=forming).exists()
