"""Display names (issue 10, finding 11): the pure rule in circlework.accounts.names, property-
tested; then the same rule through sign-up, the profile form, the service and the API."""

from __future__ import annotations

import string
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circlework.accounts import names, services
from circlework.accounts.models import Practitioner
from circlework.circles import services as circle_services
from circlework.circles.models import Circle
from circlework.core.errors import InvalidInput
from tests import factories
from tests.api.helpers import assert_error, patch_json, token_client

INVISIBLE = [
    " ",
    "\t",
    "\u00a0",  # no-break space
    "\u2003",  # em space
    "\u3000",  # ideographic space
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u2060",  # word joiner
    "\ufeff",  # byte order mark
    "\u00ad",  # soft hyphen
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u061c",  # Arabic letter mark
    "\u034f",  # combining grapheme joiner
    "\ufe0f",  # variation selector
    "\u3164",  # Hangul filler
    "\u2800",  # braille blank
    "\U000e0041",  # tag letter A
]
BIDI = sorted(names.BIDI_CONTROLS)
invisible_text = st.text(st.sampled_from(INVISIBLE + BIDI), min_size=1, max_size=12)
plain_names = st.text(string.ascii_letters + " -'", min_size=1, max_size=30).filter(
    lambda n: any(c.isalpha() for c in n)
)
spaces = st.text(st.sampled_from([" ", "\u00a0", "\t", "\u3000", "\u2003"]), max_size=3)
zero_width = st.text(
    st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]), max_size=2
)


# --- the pure rule ------------------------------------------------------------------------------


@given(invisible_text)
def test_a_name_of_only_invisible_or_reordering_characters_is_refused(name: str) -> None:
    assert names.display_name_problems(name)
    assert names.comparison_key(name) == ""


@given(plain_names, st.sampled_from(BIDI), st.integers(min_value=0, max_value=30))
def test_a_reordering_character_anywhere_is_refused(name: str, bidi: str, at: int) -> None:
    assert names.display_name_problems(name[:at] + bidi + name[at:])


@given(plain_names)
def test_a_plain_name_is_accepted(name: str) -> None:
    assert names.display_name_problems(name) == []


@given(
    st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20
    ).filter(names.has_visible_character)
)
def test_any_name_with_a_visible_character_and_no_reordering_is_accepted(name: str) -> None:
    if not any(c in names.BIDI_CONTROLS for c in name):
        assert names.display_name_problems(name) == []


@given(st.text(max_size=30))
def test_the_comparison_key_is_stable(name: str) -> None:
    key = names.comparison_key(name)
    assert names.comparison_key(key) == key
    assert key == key.strip() and "  " not in key


@st.composite
def disguised(draw: st.DrawFn, name: str) -> str:
    """The same name as someone might retype it to pass for its owner."""
    words = name.split()
    out = draw(spaces)
    for i, word in enumerate(words):
        word = "".join(
            draw(st.sampled_from([c.upper(), c.lower(), chr(ord(c) + 0xFEE0)]))  # full width
            if c in string.ascii_letters
            else c
            for c in word
        )
        at = draw(st.integers(min_value=0, max_value=len(word)))
        word = word[:at] + draw(zero_width) + word[at:]
        out += word + (draw(spaces) or " " if i < len(words) - 1 else "")
    return out + draw(spaces)


@given(st.data(), plain_names)
def test_a_retyped_copy_is_recognised(data: st.DataObject, name: str) -> None:
    copy = data.draw(disguised(name))
    assert names.copies_a_name(copy, ["Someone Else", name])


@given(plain_names, plain_names)
def test_different_names_are_not_copies(a: str, b: str) -> None:
    if " ".join(a.lower().split()) != " ".join(b.lower().split()):
        assert not names.copies_a_name(a, [b])


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Ruth Okafor", "ruth okafor", True),
        ("Ruth Okafor", "  Ruth   Okafor ", True),
        ("Ruth Okafor", "Ｒｕｔｈ Okafor", True),  # full-width letters
        ("Ruth Okafor", "Ru\u200bth Okafor", True),
        ("Ruth Okafor", "Ruth\u00a0Okafor", True),
        ("Ruth Okafor", "RUTH OKAFOR\ufe0f", True),
        ("Grosse", "Große", True),  # case folding
        ("Ruth Okafor", "Ruth O.", False),
        ("René", "Rene", False),  # an accent is a different name
        ("Ruth Okafor", "Ruth Okafor (Leeds)", False),
    ],
)
def test_examples_of_copies(a: str, b: str, same: bool) -> None:
    assert names.copies_a_name(b, [a]) is same


# --- through the services, the forms and the API ---------------------------------------------


@pytest.fixture
def colleague(circle: Circle) -> Practitioner:
    ruth = factories.make_practitioner("Ruth Okafor", display_name_visibility="circle")
    factories.add_member(circle, ruth)
    return ruth


@pytest.mark.django_db
@pytest.mark.parametrize(
    "copy", ["ruth okafor", " RUTH  OKAFOR ", "Ｒｕｔｈ Ｏｋａｆｏｒ", "Ru\u200bth Okafor"]
)
def test_a_member_cannot_take_a_colleagues_name(
    practitioner: Practitioner, colleague: Practitioner, copy: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        services.practitioner_update(
            actor=practitioner, practitioner=practitioner, changes={"display_name": copy}
        )
    assert "display_name" in caught.value.fields
    practitioner.refresh_from_db()
    assert practitioner.display_name == "Alex Author"


@pytest.mark.django_db
def test_a_name_used_outside_ones_circles_is_allowed(
    practitioner: Practitioner, circle: Circle
) -> None:
    factories.make_practitioner("Sam Same")  # in no circle with the practitioner
    p = services.practitioner_update(
        actor=practitioner, practitioner=practitioner, changes={"display_name": "Sam Same"}
    )
    assert p.display_name == "Sam Same"


@pytest.mark.django_db
def test_keeping_ones_own_name_with_other_spacing_is_allowed(
    practitioner: Practitioner, colleague: Practitioner
) -> None:
    p = services.practitioner_update(
        actor=practitioner, practitioner=practitioner, changes={"display_name": "alex  author"}
    )
    assert p.display_name == "alex  author"


@pytest.mark.django_db
def test_a_former_member_s_name_is_free(practitioner: Practitioner, circle: Circle) -> None:
    from circlework.circles import services as circle_services

    gone = factories.make_practitioner("Gone Before")
    factories.add_member(circle, gone)
    circle_services.membership_leave(actor=gone, circle=circle)
    p = services.practitioner_update(
        actor=practitioner, practitioner=practitioner, changes={"display_name": "Gone Before"}
    )
    assert p.display_name == "Gone Before"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["\u200b\u200b", "\u202e", "\u3164", "Alex\u202eroht"])
def test_the_service_refuses_invisible_and_reordering_names(
    practitioner: Practitioner, name: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        services.practitioner_update(
            actor=practitioner, practitioner=practitioner, changes={"display_name": name}
        )
    assert "display_name" in caught.value.fields


@pytest.mark.django_db
def test_registering_with_an_invisible_name_is_refused() -> None:
    from circlework.accounts.models import User

    user = User.objects.create_user("blank@example.org", factories.PASSWORD)
    with pytest.raises(InvalidInput):
        services.practitioner_register(user=user, display_name="\u200b\u2060")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["\u200b\u200b\u200b", "\u202e\u202d", "Nadia\u202eQ"])
def test_signup_refuses_invisible_and_reordering_names(client: Client, name: str) -> None:
    response = client.post(
        "/accounts/signup/",
        {
            "display_name": name,
            "email": "nadia@example.org",
            "password1": "a-good-long-passphrase",
            "password2": "a-good-long-passphrase",
        },
    )
    assert response.status_code == 200
    assert "visible character" in response.content.decode() or "order" in response.content.decode()
    assert not Practitioner.objects.filter(user__email="nadia@example.org").exists()


@pytest.mark.django_db
def test_the_profile_form_says_why_a_copy_is_refused(
    client: Client, practitioner: Practitioner, colleague: Practitioner
) -> None:
    client.force_login(practitioner.user)
    page = client.get("/me/profile/")
    data: dict[str, Any] = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data["display_name"] = "RUTH okafor"
    response = client.post("/me/profile/", data)
    assert response.status_code == 400
    assert "already uses this name" in response.content.decode()
    practitioner.refresh_from_db()
    assert practitioner.display_name == "Alex Author"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["ruth OKAFOR", "\u200b", "\u202eAlex"])
def test_the_api_refuses_copies_and_invisible_names(
    practitioner: Practitioner, colleague: Practitioner, name: str
) -> None:
    response = patch_json(token_client(practitioner), "/me/profile", {"display_name": name})
    assert_error(response, (400, 422), "display_name")
    practitioner.refresh_from_db()
    assert practitioner.display_name == "Alex Author"


FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.django_db
@FUZZ
@given(data=st.data())
def test_no_retyped_copy_of_a_colleagues_name_gets_through_the_api(
    practitioner: Practitioner, colleague: Practitioner, data: st.DataObject
) -> None:
    copy = data.draw(disguised("Ruth Okafor"))
    response = patch_json(token_client(practitioner), "/me/profile", {"display_name": copy})
    assert_error(response, (400, 422), "display_name")


@pytest.mark.django_db
def test_joining_a_circle_with_a_members_name_is_refused_until_it_is_told_apart() -> None:
    circle = factories.make_circle(members=[factories.make_practitioner("Ann Lee")])
    newcomer = factories.make_practitioner("ANN  LEE", email="ann2@example.org")
    _invitation, secret = factories.make_invitation(circle, "ann2@example.org")
    with pytest.raises(InvalidInput) as refused:
        circle_services.invitation_accept(actor=newcomer, secret=secret)
    assert "display_name" in refused.value.fields
    assert not circle.memberships.filter(practitioner=newcomer).exists()
    newcomer = services.practitioner_update(
        actor=newcomer, practitioner=newcomer, changes={"display_name": "Ann Lee (York)"}
    )
    circle_services.invitation_accept(actor=newcomer, secret=secret)
    assert circle.memberships.filter(practitioner=newcomer, left_at__isnull=True).exists()


@pytest.mark.django_db
def test_a_hidden_name_cannot_be_guessed_by_copying_it() -> None:
    """Refusing a copy of a name the member cannot see would confirm a guess at it."""
    hidden = factories.make_practitioner("Secret Sam", display_name_visibility="private")
    guesser = factories.make_practitioner("Guesser")
    factories.make_circle(founder=guesser, members=[hidden])
    renamed = services.practitioner_update(
        actor=guesser, practitioner=guesser, changes={"display_name": "Secret Sam"}
    )
    assert renamed.display_name == "Secret Sam"
