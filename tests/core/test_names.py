"""A person's name follows their own name setting everywhere (issue 10, finding 3).

Who may see a practitioner's name is decided in one place (`core.visibility.can_see_name` /
`names_for`); stored texts (audit summaries, notification titles and bodies) carry the person's
id, never their name, and are given names when they are read, for the one reading them.

The last part is the names test over the whole URL conf and OpenAPI document: the matrix's world
is built with two practitioners whose display names are marker strings set to "only me", and every
page and GET operation is requested by every other role; no marker may appear.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from circlework.circles.models import Circle, CircleStatus
from circlework.core import names as stored_names
from circlework.core.models import AuditEvent
from circlework.core.visibility import (
    ANONYMOUS,
    Audience,
    audience_for,
    can_see_name,
    names_for,
)
from circlework.decisions import services as decision_services
from circlework.notifications import services as notification_services
from circlework.notifications.models import Delivery, Notification, NotificationKind
from tests import factories
from tests.world import (
    ROLES,
    api_operations,
    api_request,
    build_world,
    module_world,
    page_kwargs,
    role_client,
    url_patterns,
)

# --- the rule ------------------------------------------------------------------------------------


def _person(visibility: str) -> Any:
    return factories.make_practitioner("Hidden Name", display_name_visibility=visibility)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("visibility", "own", "same_circle", "same_federation", "stranger", "anonymous"),
    [
        ("private", True, False, False, False, False),
        ("circle", True, True, False, False, False),
        ("federation", True, True, True, False, False),
        ("public", True, True, True, True, True),
    ],
)
def test_the_name_rule(
    visibility: str,
    own: bool,
    same_circle: bool,
    same_federation: bool,
    stranger: bool,
    anonymous: bool,
) -> None:
    person = _person(visibility)
    circle = factories.make_circle(founder=person)
    fed = circle.federation_id
    audiences = {
        "own": (Audience(person.pk), own),
        "same_circle": (Audience(999, frozenset({circle.pk}), frozenset({fed})), same_circle),
        "same_federation": (Audience(999, frozenset({12345}), frozenset({fed})), same_federation),
        "stranger": (Audience(999), stranger),
        "anonymous": (ANONYMOUS, anonymous),
    }
    for label, (audience, expected) in audiences.items():
        assert can_see_name(audience, person) is expected, label
        shown = names_for(audience, [person.pk])[person.pk]
        assert (shown == "Hidden Name") is expected, label


@pytest.mark.django_db
def test_a_name_shown_to_the_federation_is_shown_to_a_forming_circle_too() -> None:
    """The levels widen one another: a forming circle is not yet "the federation", but its
    members see the names their colleagues show to the federation."""
    founder = factories.make_practitioner("Forming Founder", display_name_visibility="federation")
    friend = factories.make_practitioner("Forming Friend")
    circle = factories.make_circle(founder=founder, members=[friend])
    circle.refresh_from_db()
    assert circle.status == CircleStatus.FORMING
    assert can_see_name(audience_for(friend.user), founder)
    stranger = factories.make_practitioner("Stranger")
    assert not can_see_name(audience_for(stranger.user), founder)


@pytest.mark.django_db
def test_a_former_member_and_a_reused_id() -> None:
    person = factories.make_practitioner("Gone Soon", display_name_visibility="public")
    text = stored_names.text("%(p)s did something", p=stored_names.person(person))
    written = timezone.now()
    assert stored_names.render(text, ANONYMOUS, written_at=written) == "Gone Soon did something"
    assert stored_names.render(text, ANONYMOUS, written_at=written - timedelta(days=1)) == (
        "A former member did something"
    ), "a practitioner who came after the text was written is not who it names"
    person.user.delete()
    assert stored_names.render(text, ANONYMOUS, written_at=written) == (
        "A former member did something"
    )


plain = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


@given(before=plain, value=plain, after=plain, cut=st.integers(min_value=0, max_value=130))
def test_stored_text_keeps_any_text_as_it_was(
    before: str, value: str, after: str, cut: int
) -> None:
    """Braces, percent signs or a lookalike token in user text never turn into a name; a person
    between any texts reads in place; clipping never leaves half a token."""
    template = before.replace("%", "%%") + "%(v)s%(p)s" + after.replace("%", "%%")
    stored = stored_names.text(template, v=value, p=stored_names.person(None))
    former = "a former member" if before + value else "A former member"
    assert stored_names.render(stored, ANONYMOUS) == before + value + former + after
    assert stored_names.practitioner_ids(stored) == {0}
    clipped = stored_names.render(stored_names.clip(stored, cut), ANONYMOUS)
    assert "{practitioner" not in clipped.replace(value, "").replace(before, "")


# --- pages and notifications ---------------------------------------------------------------------

HIDDEN = "Zebediah Quill-Hidden"


@pytest.fixture
def hidden_world(db: None) -> dict[str, Any]:
    """A validated circle with a member whose name is theirs alone, a colleague, and a member
    of another validated circle of the same federation."""
    federation = factories.make_federation("Names Federation")
    hidden = factories.make_practitioner(HIDDEN, display_name_visibility="private")
    colleague = factories.make_practitioner("Colleague Person", display_name_visibility="public")
    circle = factories.make_circle(founder=colleague, federation=federation, name="Home")
    # The colleague is e-mailed at once about members joining: the e-mail is named when sent.
    notification_services.notification_preferences_set(
        actor=colleague, choices={NotificationKind.MEMBERSHIP: Delivery.IMMEDIATE}
    )
    factories.add_member(circle, hidden)
    elsewhere = factories.make_practitioner("Elsewhere Person")
    other = factories.make_circle(founder=elsewhere, federation=federation, name="Elsewhere")
    Circle.objects.filter(pk__in=[circle.pk, other.pk]).update(status=CircleStatus.MEMBER)
    circle.refresh_from_db()
    return {
        "hidden": hidden,
        "colleague": colleague,
        "circle": circle,
        "elsewhere": elsewhere,
        "federation": federation,
    }


def _client(practitioner: Any) -> Client:
    client = Client()
    client.force_login(practitioner.user)
    return client


def test_circle_history_and_notifications_do_not_name_a_private_member(
    hidden_world: dict[str, Any],
) -> None:
    w = hidden_world
    colleague = w["colleague"]
    page = _client(colleague).get(reverse("circles:circle_history", args=[w["circle"].slug]))
    assert page.status_code == 200
    assert HIDDEN not in page.content.decode()
    assert "a member" in page.content.decode()
    inbox = _client(colleague).get(reverse("notifications:inbox")).content.decode()
    assert Notification.objects.filter(recipient=colleague).exists()
    assert HIDDEN not in inbox
    api = _client(colleague).get("/api/v1/me/notifications").content.decode()
    assert HIDDEN not in api
    home = _client(colleague).get(reverse("home")).content.decode()
    assert HIDDEN not in home
    # The person themselves sees their own name in the same history.
    own = _client(w["hidden"]).get(reverse("circles:circle_history", args=[w["circle"].slug]))
    assert HIDDEN in own.content.decode()


def test_a_circle_only_name_is_shown_to_the_circle_not_beyond(
    hidden_world: dict[str, Any],
) -> None:
    w = hidden_world
    w["hidden"].display_name_visibility = "circle"
    w["hidden"].save()
    history = reverse("circles:circle_history", args=[w["circle"].slug])
    assert HIDDEN in _client(w["colleague"]).get(history).content.decode()
    fp = decision_services.federation_proposal_open(
        actor=w["hidden"],
        circle=w["circle"],
        title="For every circle",
        text="Shall we?",
        closes_at=timezone.now() + timedelta(days=10),
    )
    url = reverse("decisions:federation_proposal_detail", args=[w["federation"].slug, fp.pk])
    seen_elsewhere = _client(w["elsewhere"]).get(url)
    assert seen_elsewhere.status_code == 200
    assert HIDDEN not in seen_elsewhere.content.decode(), "raised by … (name) on a federation page"
    assert HIDDEN in _client(w["colleague"]).get(url).content.decode()
    for n in Notification.objects.filter(recipient=w["elsewhere"]):
        assert HIDDEN not in stored_names.render(n.title, ANONYMOUS)


def test_comment_authors_follow_the_name_setting(hidden_world: dict[str, Any]) -> None:
    w = hidden_world
    proposal = decision_services.proposal_open(
        actor=w["colleague"],
        circle=w["circle"],
        title="A question",
        text="Shall we?",
        closes_at=timezone.now() + timedelta(days=3),
    )
    decision_services.comment_add(actor=w["hidden"], proposal=proposal, text="My view")
    decision_services.amendment_propose(
        actor=w["hidden"], proposal=proposal, text="Shall we, kindly?", reason="Kinder"
    )
    decision_services.position_take(actor=w["hidden"], proposal=proposal, stance="agree")
    client = _client(w["colleague"])
    page = client.get(reverse("decisions:proposal_detail", args=[w["circle"].slug, proposal.pk]))
    assert page.status_code == 200
    assert HIDDEN not in page.content.decode()
    base = f"/api/v1/circles/{w['circle'].slug}/proposals/{proposal.pk}"
    for path in (base, base + "/comments"):
        response = client.get(path)
        assert response.status_code == 200
        assert HIDDEN not in response.content.decode(), path
    assert (
        HIDDEN not in _client(w["colleague"]).get(reverse("notifications:inbox")).content.decode()
    )


def test_no_stored_text_carries_a_name_or_an_email(hidden_world: dict[str, Any]) -> None:
    """What the account erasure relies on: names and e-mails live only on the person's rows."""
    w = hidden_world
    hidden = w["hidden"]
    proposal = decision_services.proposal_open(
        actor=hidden,
        circle=w["circle"],
        title="A question",
        text="Shall we?",
        closes_at=timezone.now() + timedelta(days=3),
    )
    decision_services.comment_add(actor=hidden, proposal=proposal, text="My view")
    secrets = (hidden.display_name, hidden.user.email, "Colleague Person")
    for event in AuditEvent.objects.all():
        for secret in secrets:
            assert secret not in event.summary, (event.verb, event.summary)
    for n in Notification.objects.all():
        for secret in secrets:
            assert secret not in n.title + n.body, (n.kind, n.title)
    to_colleague = [m for m in mail.outbox if w["colleague"].user.email in m.to]
    assert any("A member joined Home" in m.subject for m in to_colleague)
    for message in mail.outbox:
        if hidden.user.email not in message.to:
            assert HIDDEN not in message.subject + str(message.body)


# --- the names test over every page and API operation --------------------------------------------

MARK_NAME_MEMBER = "MARKERNAMEOFMEMBER"
MARK_NAME_OTHER = "MARKERNAMEOFOTHER"
# Whose name each marker is: that role alone may see it.
OWNER = {MARK_NAME_MEMBER: "member", MARK_NAME_OTHER: "other_member"}
RENAMED = {"Member Person": MARK_NAME_MEMBER, "Other Member": MARK_NAME_OTHER}


def _build_named_world() -> dict[str, Any]:
    """The matrix's world, with the member and the other member named by markers, private."""
    make = factories.make_practitioner

    def make_named(name: str | None = None, email: str | None = None, **profile: Any) -> Any:
        if name in RENAMED:
            name = RENAMED[name]
            profile["display_name_visibility"] = "private"
        return make(name, email, **profile)

    with mock.patch.object(factories, "make_practitioner", make_named):
        return build_world("Names")


named_world = module_world(_build_named_world)


@pytest.fixture
def nworld(named_world: dict[str, Any], db: None) -> dict[str, Any]:
    return named_world


def _leaks(role: str, body: str) -> list[str]:
    return [m for m, owner in OWNER.items() if owner != role and m in body]


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return str(response.content.decode(errors="replace"))


def our_pages() -> list[str]:
    """Every page of ours (allauth's own pages show no other person's name)."""
    return sorted(
        name
        for name, pattern in url_patterns()
        if not pattern.callback.__module__.startswith("allauth.") and not name.startswith("api:")
    )


@pytest.mark.parametrize("role", ROLES)
def test_no_page_names_a_private_practitioner(nworld: dict[str, Any], role: str) -> None:
    client = role_client(nworld, role)
    found, answered, own = [], 0, set()
    for name in our_pages():
        response = client.get(reverse(name, kwargs=page_kwargs(name, nworld)))
        body = _body(response)
        found += [f"{name}: {m}" for m in _leaks(role, body)]
        answered += response.status_code == 200
        own |= {m for m, owner in OWNER.items() if owner == role and m in body}
    assert not found, f"{role} sees private names: {found}"
    # The crawl really read pages, and would have seen a name: each owner sees their own.
    if role not in ("anonymous", "token_2fa_holder"):  # a token opens no page: anonymous there
        assert answered >= 10, f"{role}: only {answered} pages answered"
    assert own == {m for m, owner in OWNER.items() if owner == role}, (role, own)


@pytest.mark.parametrize("role", ROLES)
def test_no_api_operation_names_a_private_practitioner(nworld: dict[str, Any], role: str) -> None:
    client = role_client(nworld, role)
    found = []
    for operation, (_path, method) in sorted(api_operations().items()):
        if method != "get":
            continue
        response = api_request(nworld, operation, client)
        found += [f"{operation}: {m}" for m in _leaks(role, _body(response))]
    assert not found, f"{role} sees private names: {found}"


def test_the_names_world_stores_no_name(nworld: dict[str, Any]) -> None:
    for event in AuditEvent.objects.all():
        assert not _leaks("anonymous", event.summary), event.verb
    for n in Notification.objects.all():
        assert not _leaks("anonymous", n.title + n.body), n.kind
