"""The vocabulary of a ceremony: its moment and roles are written checked and read tolerantly."""

from __future__ import annotations

from typing import Any

import pytest

from circlework.agreements import ceremonies
from circlework.agreements.models import Agreement, AgreementKind, AgreementVersion
from circlework.core.errors import InvalidInput


def test_the_moments_have_plain_labels() -> None:
    keys = [key for key, _label in ceremonies.MOMENTS]
    assert keys == [
        "welcome",
        "farewell",
        "mandate_end",
        "link_made",
        "opening",
        "closing",
        "inquiry_end",
    ]
    assert ceremonies.moment_label("welcome") == "Welcoming a new member"
    assert ceremonies.moment_label("") == ceremonies.moment_label("nonsense")
    assert "when the circle chooses" in ceremonies.moment_label("")


def test_parameters_are_the_moment_and_one_role_a_line() -> None:
    params = ceremonies.ceremony_parameters(
        "welcome", "Convener: opens with a round\n\n   Newcomer: says why they came  \r\n"
    )
    assert params == {
        "moment": "welcome",
        "roles": ["Convener: opens with a round", "Newcomer: says why they came"],
    }
    assert ceremonies.ceremony_parameters("", "") == {"moment": "", "roles": []}
    # What is written reads back the same.
    read = ceremonies.read(params)
    assert read.moment == "welcome" and read.roles == params["roles"]
    assert read.roles_text == "Convener: opens with a round\nNewcomer: says why they came"


def test_an_unknown_moment_is_refused_in_plain_words() -> None:
    with pytest.raises(InvalidInput) as caught:
        ceremonies.ceremony_parameters("coronation", "Convener: opens")
    assert caught.value.fields == {
        "ceremony_moment": ["Choose when the ceremony is used from the list."]
    }


def test_too_many_or_too_long_roles_are_refused() -> None:
    many = "\n".join(f"Role {i}: speaks" for i in range(ceremonies.MAX_ROLES + 1))
    with pytest.raises(InvalidInput) as caught:
        ceremonies.ceremony_parameters("closing", many)
    assert "at most 20 roles" in caught.value.fields["ceremony_roles"][0]
    with pytest.raises(InvalidInput) as caught:
        ceremonies.ceremony_parameters("closing", "x" * (ceremonies.MAX_ROLE_LENGTH + 1))
    assert "one short line" in caught.value.fields["ceremony_roles"][0]
    exactly = "\n".join(f"Role {i}" for i in range(ceremonies.MAX_ROLES))
    assert len(ceremonies.ceremony_parameters("closing", exactly)["roles"]) == ceremonies.MAX_ROLES


@pytest.mark.parametrize(
    "junk",
    [None, "welcome", 42, [], ["welcome"], {}, {"moment": None}, {"moment": 3, "roles": 7}],
)
def test_junk_reads_as_no_moment_and_no_roles(junk: Any) -> None:
    read = ceremonies.read(junk)
    assert read.moment == "" and read.roles == []
    assert read.moment_label == ceremonies.moment_label("")


def test_the_reader_keeps_what_it_can_use() -> None:
    read = ceremonies.read(
        {"moment": "farewell", "roles": ["  Elder: speaks last ", "", 3, None, "x" * 500], "z": 1}
    )
    assert read.moment == "farewell"
    assert read.roles == ["Elder: speaks last", "x" * ceremonies.MAX_ROLE_LENGTH]
    # Roles written by hand as one text, and more than a circle would name.
    assert ceremonies.read({"roles": "Host\nGuest"}).roles == ["Host", "Guest"]
    many = ceremonies.read({"moment": "opening", "roles": [f"R{i}" for i in range(50)]})
    assert len(many.roles) == ceremonies.MAX_ROLES
    assert ceremonies.read({"moment": "Welcome"}).moment == ""  # exact keys only


def _ceremony(title: str, parameters: Any, kind: str = AgreementKind.CEREMONY) -> Agreement:
    agreement = Agreement(kind=kind, title=title)
    agreement.current_version = AgreementVersion(number=1, text="…", parameters=parameters)
    return agreement


def test_the_ceremony_for_a_moment_is_the_first_adopted_for_it() -> None:
    newest_welcome = _ceremony("Newest welcome", {"moment": "welcome"})
    older_welcome = _ceremony("Older welcome", {"moment": "welcome"})
    goodbye = _ceremony("Goodbye", {"moment": "farewell"})
    procedure = _ceremony("Not a ceremony", {"moment": "welcome"}, kind=AgreementKind.PROCEDURE)
    unadopted = Agreement(kind=AgreementKind.CEREMONY, title="Draft")
    found = [procedure, unadopted, goodbye, newest_welcome, older_welcome]
    assert ceremonies.for_moment(found, "welcome") is newest_welcome
    assert ceremonies.for_moment(found, "farewell") is goodbye
    assert ceremonies.for_moment(found, "link_made") is None
    assert ceremonies.for_moment([_ceremony("Broken", "junk")], "welcome") is None


@pytest.mark.parametrize(
    "roles", [["Convener\rNewcomer"], ["Convener\u2028Newcomer"], ["  "], [""], [3]]
)
def test_a_list_of_roles_is_one_line_of_words_each(roles: list[Any]) -> None:
    with pytest.raises(InvalidInput) as caught:
        ceremonies.checked_parameters({"moment": "welcome", "roles": roles})
    assert "ceremony_roles" in caught.value.fields


def test_a_stored_version_is_carried_on_as_read() -> None:
    """A review or a borrowed agreement carries on what an older version stored: a ceremony's
    as the reader reads it (so it passes the checks), any other kind's untouched."""
    stored = {"moment": "coronation", "roles": "A\r" + "\n".join(f"R{i}" for i in range(30))}
    carried = ceremonies.carried_on(AgreementKind.CEREMONY, stored)
    assert carried == {"moment": "", "roles": ["A", *[f"R{i}" for i in range(19)]]}
    assert ceremonies.checked_parameters(carried) == carried
    rule = {"rule": "consent", "roles": {"coordinator": 2}}
    assert ceremonies.carried_on(AgreementKind.ROLES, rule) == rule
