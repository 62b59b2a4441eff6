"""The federation's covenant: a versioned agreement whose rules are checked in one place and
changed only by a federation proposal the circles agree."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from circlework.circles import services as circle_services
from circlework.circles.covenant import (
    RANGES,
    FederationRules,
    covenant_parameters_check,
    federation_rules,
    parameters_of,
    review_due,
    rules_from,
    rules_in_words,
)
from circlework.circles.models import CovenantVersion, Federation
from circlework.core.errors import Conflict, InvalidInput
from circlework.decisions import services
from circlework.decisions.models import FederationProposal
from circlework.notifications.models import Notification, NotificationKind
from tests import factories
from tests.agreements.helpers import validated
from tests.conftest import login

# --- the check: any JSON is read safely, and exactly the valid ranges are accepted -------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
rule_keys = st.sampled_from(
    [*RANGES, "no_closed_triangles", "officer_electorate", "roles", "unknown", ""]
)
parameter_objects = st.dictionaries(rule_keys, json_values, max_size=8)


@given(st.one_of(json_values, parameter_objects))
@settings(max_examples=300, deadline=None)
def test_any_json_never_crashes_the_reading_or_the_check(params: Any) -> None:
    rules = rules_from(params)
    assert isinstance(rules, FederationRules)
    for key, (low, high) in RANGES.items():
        assert low <= getattr(rules, key) <= high
    try:
        clean = covenant_parameters_check(params)
    except InvalidInput as exc:
        assert exc.fields and all(exc.fields.values())
    else:
        assert rules_from(clean) == rules_from(json.loads(json.dumps(clean)))
        assert parameters_of(rules_from(clean)) == {k: v for k, v in clean.items() if k != "roles"}


@given(
    key=st.sampled_from(sorted(RANGES)),
    value=st.integers(min_value=-5, max_value=200),
)
@settings(deadline=None)
def test_the_check_accepts_exactly_the_ranges(key: str, value: int) -> None:
    low, high = RANGES[key]
    if low <= value <= high:
        clean = covenant_parameters_check({key: value})
        assert clean[key] == value
        assert getattr(rules_from(clean), key) == value
    else:
        with pytest.raises(InvalidInput) as exc:
            covenant_parameters_check({key: value})
        assert set(exc.value.fields) == {key}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_circle_size": True}, "min_circle_size"),
        ({"min_circle_size": "4"}, "min_circle_size"),
        ({"links_required": 2.0}, "links_required"),
        ({"no_closed_triangles": "yes"}, "no_closed_triangles"),
        ({"officer_electorate": "officers"}, "officer_electorate"),
        ({"roles": ["coordinator"]}, "roles"),
        ({"central_committee": True}, "central_committee"),
        ([1, 2], "covenant_parameters"),
    ],
)
def test_the_check_names_what_is_wrong(params: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        covenant_parameters_check(params)
    assert field in exc.value.fields


def test_the_check_fills_defaults_and_keeps_roles() -> None:
    clean = covenant_parameters_check(
        {"no_closed_triangles": True, "roles": {"coordinator": {"term_months": 12}}}
    )
    assert clean == {
        "min_circle_size": 4,
        "links_required": 2,
        "link_lapse_months": 24,
        "no_closed_triangles": True,
        "officer_electorate": "delegates",
        "review_months": 24,
        "roles": {"coordinator": {"term_months": 12}},
    }


@pytest.mark.parametrize(
    ("roles", "fields"),
    [
        ({"emperor": {"term_months": 12}}, {"roles.emperor"}),
        ({"delegate": {}}, {"roles.delegate"}),  # a circle's role: its own agreement sets it
        ({"coordinator": 12}, {"roles.coordinator"}),
        ({"coordinator": ["stv"]}, {"roles.coordinator"}),
        ({"coordinator": {"term_months": 0}}, {"roles.coordinator.term_months"}),
        ({"coordinator": {"term_months": 121}}, {"roles.coordinator.term_months"}),
        ({"coordinator": {"term_months": "12"}}, {"roles.coordinator.term_months"}),
        ({"coordinator": {"term_months": 12.0}}, {"roles.coordinator.term_months"}),
        ({"coordinator": {"review_months": 0}}, {"roles.coordinator.review_months"}),
        ({"coordinator": {"review_months": 13}}, {"roles.coordinator.review_months"}),
        (
            {"coordinator": {"term_months": 6, "review_months": 7}},
            {"roles.coordinator.review_months"},
        ),
        (
            {"coordinator": {"max_consecutive_terms": 0}},
            {"roles.coordinator.max_consecutive_terms"},
        ),
        (
            {"coordinator": {"max_consecutive_terms": 21}},
            {"roles.coordinator.max_consecutive_terms"},
        ),
        (
            {"coordinator": {"max_consecutive_terms": True}},
            {"roles.coordinator.max_consecutive_terms"},
        ),
        ({"registrar": {"seats": 0}}, {"roles.registrar.seats"}),
        ({"registrar": {"seats": 13}}, {"roles.registrar.seats"}),
        ({"registrar": {"method": "lottery"}}, {"roles.registrar.method"}),
        ({"registrar": {"method": ["stv"]}}, {"roles.registrar.method"}),
        ({"registrar": {"term": 12}}, {"roles.registrar.term"}),
        (
            {"treasurer": {"seats": 0, "method": "x"}, "king": {}},
            {"roles.treasurer.seats", "roles.treasurer.method", "roles.king"},
        ),
    ],
)
def test_the_check_refuses_bad_role_settings(roles: Any, fields: set[str]) -> None:
    """Regression: the covenant's "roles" were adopted unchecked."""
    with pytest.raises(InvalidInput) as exc:
        covenant_parameters_check({"roles": roles})
    assert set(exc.value.fields) == fields
    assert all(exc.value.fields.values())


def test_the_check_keeps_good_role_settings() -> None:
    roles = {
        "coordinator": {
            "term_months": 24,
            "review_months": 12,
            "max_consecutive_terms": None,
            "seats": 2,
            "method": "approval",
        },
        "registrar": {"max_consecutive_terms": 20, "seats": 12, "method": "consent"},
        "treasurer": {},
    }
    clean = covenant_parameters_check({"roles": roles})
    assert clean["roles"] == roles


role_setting_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=200),
    st.sampled_from(["stv", "consent", "approval", "lottery", "12"]),
    st.floats(allow_nan=False, max_value=50, min_value=-5),
)
role_settings = st.dictionaries(
    st.sampled_from(["term_months", "review_months", "max_consecutive_terms", "seats", "method"]),
    role_setting_values,
    max_size=5,
)


@given(slug=st.sampled_from(["coordinator", "registrar", "treasurer"]), settings_=role_settings)
@settings(max_examples=300, deadline=None)
def test_accepted_role_settings_are_read_exactly_and_refused_ones_fall_back(
    slug: str, settings_: dict[str, Any]
) -> None:
    from circlework.circles.roles import ROLES, SETTING_RANGES, role_with_overrides

    base = ROLES[slug]
    read = role_with_overrides(base, rules_from({"roles": {slug: settings_}}).roles.get(slug))
    for key, (low, high) in SETTING_RANGES.items():
        value = getattr(read, key)
        assert value is None or low <= value <= high
    if (
        base.max_consecutive_terms is not None
        and settings_.get("max_consecutive_terms", 0) is not None
    ):
        # Only an explicit null lifts the cap; nothing malformed does.
        assert read.max_consecutive_terms is not None
    try:
        clean = covenant_parameters_check({"roles": {slug: settings_}})
    except InvalidInput as exc:
        assert exc.fields and all(k.startswith(f"roles.{slug}") for k in exc.fields)
        return
    for key, value in clean["roles"][slug].items():
        assert getattr(read, key) == value


@pytest.mark.django_db
def test_old_bad_role_settings_fall_back_to_the_defaults() -> None:
    """A covenant adopted before the check keeps working; a bad cap keeps the default cap."""
    from circlework.mandates.services import role_for

    federation = factories.make_federation()
    CovenantVersion.objects.filter(federation=federation).update(
        parameters={
            "roles": {
                "coordinator": {"term_months": "forever", "max_consecutive_terms": "none"},
                "registrar": "everyone",
                "emperor": {"seats": 3},
            }
        }
    )
    coordinator = role_for("coordinator", federation=federation)
    assert (coordinator.term_months, coordinator.max_consecutive_terms) == (12, 2)
    assert role_for("registrar", federation=federation).seats == 1


def test_rules_in_plain_words() -> None:
    rules = rules_from(
        {
            "min_circle_size": 4,
            "links_required": 2,
            "link_lapse_months": 24,
            "no_closed_triangles": True,
            "officer_electorate": "delegates",
        }
    )
    # (What forming circles may do follows: tests/decisions own those words.)
    assert rules_in_words(rules).startswith(
        "Circles need at least 4 members; a circle is validated with 2 current links, which last "
        "24 months; no closed triangles; officers are elected by the circles' delegates"
    )
    assert "every member of the federation" in rules_in_words(
        rules_from({"officer_electorate": "members", "links_required": 0})
    )


# --- the first version comes with the federation ----------------------------------------------


@pytest.mark.django_db
def test_a_federation_starts_with_covenant_version_one() -> None:
    federation = circle_services.federation_create(
        actor=None,
        name="Fresh",
        covenant="We stand by each other.",
        covenant_parameters={"links_required": 3, "no_closed_triangles": True},
    )
    version = CovenantVersion.objects.get(federation=federation)
    assert version.number == 1 and version.text == "We stand by each other."
    rules = federation_rules(federation)
    assert (rules.min_circle_size, rules.links_required, rules.no_closed_triangles) == (4, 3, True)
    shorthand = circle_services.federation_create(
        actor=None, name="Small", covenant="Small circles.", min_circle_size=3
    )
    assert federation_rules(shorthand).min_circle_size == 3


@pytest.mark.django_db
def test_bad_rules_create_nothing() -> None:
    with pytest.raises(InvalidInput) as exc:
        circle_services.federation_create(
            actor=None,
            name="Broken",
            covenant="Text",
            covenant_parameters={"min_circle_size": 1},
        )
    assert "min_circle_size" in exc.value.fields
    assert not Federation.objects.filter(name="Broken").exists()
    assert not CovenantVersion.objects.exists()


@pytest.mark.django_db
def test_create_federation_command_sets_the_rules(tmp_path: Path) -> None:
    covenant_file = tmp_path / "covenant.md"
    covenant_file.write_text("We are a loose federation.", encoding="utf-8")
    out = StringIO()
    call_command(
        "create_federation",
        "Command Federation",
        covenant_file=covenant_file,
        min_circle_size=5,
        links_required=3,
        link_lapse_months=36,
        no_closed_triangles=True,
        officer_electorate="members",
        stdout=out,
    )
    federation = Federation.objects.get(name="Command Federation")
    assert federation_rules(federation) == FederationRules(
        min_circle_size=5,
        links_required=3,
        link_lapse_months=36,
        no_closed_triangles=True,
        officer_electorate="members",
    )
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="links_required"):
        call_command(
            "create_federation",
            "Another",
            covenant_file=covenant_file,
            links_required=99,
            stdout=out,
        )


# --- revising it: a federation decision -------------------------------------------------------


@pytest.fixture
def fed(federation: Any) -> dict[str, Any]:
    a1, a2, b1, b2 = (factories.make_practitioner(n) for n in ("A1", "A2", "B1", "B2"))
    ca = factories.make_circle(founder=a1, federation=federation, members=[a2], name="Alpha")
    cb = factories.make_circle(founder=b1, federation=federation, members=[b2], name="Beta")
    validated(ca, cb)  # the federation's decisions are its validated circles'
    factories.grant_mandate("delegate", a1, circle=ca)
    factories.grant_mandate("delegate", b2, circle=cb)
    return {"federation": federation, "ca": ca, "cb": cb, "a1": a1, "a2": a2, "b1": b1, "b2": b2}


NEW_TEXT = "We stand by each other's work.\n\nCircles link with three others."


def _revision(fed: dict[str, Any], **overrides: Any) -> FederationProposal:
    kwargs: dict[str, Any] = {
        "actor": fed["a1"],
        "circle": fed["ca"],
        "title": "Three links",
        "text": "Validation should reach further.",
        "closes_at": timezone.now() + timedelta(days=21),
        "covenant_text": NEW_TEXT,
        "covenant_parameters": {"links_required": 3},
    }
    kwargs.update(overrides)
    return services.federation_proposal_open(**kwargs)


def _decide(fed: dict[str, Any], fp: FederationProposal, stance_b: str) -> FederationProposal:
    services.circle_position_record(
        actor=fed["a1"], federation_proposal=fp, circle=fed["ca"], stance="agree", reason="Ours"
    )
    services.circle_position_record(
        actor=fed["b2"], federation_proposal=fp, circle=fed["cb"], stance=stance_b, reason="Said"
    )
    if stance_b == "block":
        from circlework.decisions.models import ProposalStatus

        FederationProposal.objects.filter(pk=fp.pk).update(
            closes_at=timezone.now() - timedelta(minutes=1)
        )
        fp.refresh_from_db()
        closed = services.federation_proposal_close(actor=None, federation_proposal=fp)
        assert closed is not None and closed.status == ProposalStatus.CLOSED
        return closed
    closed = services.federation_proposal_close(actor=fed["a1"], federation_proposal=fp)
    assert closed is not None
    return closed


@pytest.mark.django_db
def test_an_agreed_revision_becomes_the_next_version(fed: dict[str, Any]) -> None:
    fp = _revision(fed)
    assert fp.revises_covenant
    assert fp.covenant_parameters["links_required"] == 3
    assert fp.covenant_parameters["min_circle_size"] == 4  # the rest as they are now
    assert federation_rules(fed["federation"]).links_required == 2  # nothing yet
    Notification.objects.all().delete()
    closed = _decide(fed, fp, "agree")
    assert closed.passed
    versions = list(CovenantVersion.objects.filter(federation=fed["federation"]))
    assert [v.number for v in versions] == [1, 2]
    assert versions[1].adopted_by_id == fp.pk and versions[1].text == NEW_TEXT
    fed["federation"].refresh_from_db()
    assert fed["federation"].covenant == NEW_TEXT
    assert federation_rules(fed["federation"]).links_required == 3
    told = Notification.objects.filter(kind=NotificationKind.COVENANT)
    assert {n.recipient_id for n in told} == {fed[k].pk for k in ("a1", "a2", "b1", "b2")}
    from circlework.core.models import AuditEvent

    assert AuditEvent.objects.filter(verb="covenant.adopted").count() == 1
    # Adopting again changes nothing.
    assert circle_services.covenant_adopt(federation_proposal=closed) == versions[1]
    assert CovenantVersion.objects.count() == 2


@pytest.mark.django_db
def test_a_blocked_revision_changes_nothing(fed: dict[str, Any]) -> None:
    fp = _revision(fed)
    closed = _decide(fed, fp, "block")
    assert closed.passed is False
    assert CovenantVersion.objects.filter(federation=fed["federation"]).count() == 1
    fed["federation"].refresh_from_db()
    assert fed["federation"].covenant == "We stand by each other's work."
    assert federation_rules(fed["federation"]).links_required == 2
    assert not Notification.objects.filter(kind=NotificationKind.COVENANT).exists()
    with pytest.raises(Conflict):
        circle_services.covenant_adopt(federation_proposal=closed)


@pytest.mark.django_db
def test_a_silent_circle_keeps_the_covenant_as_it_is(fed: dict[str, Any]) -> None:
    """One circle agreeing is not enough: the covenant changes only when every circle has spoken."""
    import time_machine

    from circlework.decisions import tasks

    fp = _revision(fed)
    services.circle_position_record(
        actor=fed["a1"], federation_proposal=fp, circle=fed["ca"], stance="agree", reason="Ours"
    )
    with time_machine.travel(fp.closes_at + timedelta(minutes=1)):
        tasks.sweep_deadlines.call()
    fp.refresh_from_db()
    assert fp.status == "closed" and fp.passed is False
    assert "every circle has spoken" in fp.result and "Beta" not in fp.result
    assert fp.result_circles == {"missing": [fed["cb"].pk]}  # named when read
    assert CovenantVersion.objects.filter(federation=fed["federation"]).count() == 1
    assert federation_rules(fed["federation"]).links_required == 2
    assert not Notification.objects.filter(kind=NotificationKind.COVENANT).exists()


@pytest.mark.django_db
def test_a_revision_cannot_close_within_fourteen_days(fed: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as exc:
        _revision(fed, closes_at=timezone.now() + timedelta(hours=1, minutes=1))
    assert set(exc.value.fields) == {"closes_at"}
    assert not FederationProposal.objects.exists()
    # An ordinary federation question may still close sooner.
    assert not _revision(
        fed,
        covenant_text="",
        covenant_parameters=None,
        closes_at=timezone.now() + timedelta(days=2),
    ).revises_covenant


@pytest.mark.django_db
def test_an_ordinary_federation_proposal_leaves_the_covenant(fed: dict[str, Any]) -> None:
    fp = _revision(fed, covenant_text="", covenant_parameters=None)
    assert not fp.revises_covenant and fp.covenant_parameters == {}
    _decide(fed, fp, "agree")
    assert CovenantVersion.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "params", "field"),
    [
        ("", {"links_required": 3}, "covenant_text"),  # rules change: the text must say so
        ("We stand by each other's work.", {}, "covenant_text"),  # nothing would change
        (NEW_TEXT, {"links_required": 11}, "links_required"),
        (NEW_TEXT, {"officer_electorate": "officers"}, "officer_electorate"),
        (NEW_TEXT, {"roles": {"coordinator": {"seats": 40}}}, "roles.coordinator.seats"),
        (NEW_TEXT, {"roles": {"chair": {}}}, "roles.chair"),
    ],
)
def test_a_revision_must_be_valid(
    fed: dict[str, Any], text: str, params: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as exc:
        _revision(fed, covenant_text=text, covenant_parameters=params)
    assert field in exc.value.fields
    assert not FederationProposal.objects.exists()


# --- pages and the API ------------------------------------------------------------------------


@pytest.mark.django_db
def test_federation_page_says_the_rules_in_words() -> None:
    federation = circle_services.federation_create(
        actor=None,
        name="Worded",
        covenant="Our covenant.",
        covenant_parameters={"no_closed_triangles": True},
    )
    body = Client().get(federation.get_absolute_url()).content.decode()
    assert "Circles need at least 4 members; a circle is validated with 2 current links" in body
    assert "no closed triangles" in body
    assert "Version 1, adopted" in body
    assert f"/federations/{federation.slug}/covenant/" in body


@pytest.mark.django_db
def test_covenant_page_is_public_with_versions_and_diff(fed: dict[str, Any]) -> None:
    fp = _revision(fed)
    _decide(fed, fp, "agree")
    url = f"/federations/{fed['federation'].slug}/covenant/"
    anonymous = Client().get(url)
    assert anonymous.status_code == 200
    body = anonymous.content.decode()
    assert "The covenant, version 2" in body
    assert "Circles link with three others." in body
    assert "<ins>" in body  # the diff between versions
    assert "3 current links" in body and "2 current links" in body
    assert fp.get_absolute_url() not in body  # federation decisions are for members only
    validated(fed["ca"], fed["cb"])  # three links now: say their links were found
    member = login(Client(), fed["b1"]).get(url).content.decode()
    assert fp.get_absolute_url() in member
    versions = Client().get(url + "?from=2&to=1")
    assert versions.status_code == 200
    assert Client().get(url + "?from=x").status_code == 200


@pytest.mark.django_db
def test_the_proposal_form_revises_the_covenant(fed: dict[str, Any]) -> None:
    client = login(Client(), fed["a1"])
    url = f"/federations/{fed['federation'].slug}/decisions/new/"
    page = client.get(url).content.decode()
    assert "Revise the covenant" in page and "We stand by each other&#x27;s work." in page
    closes = timezone.localtime(timezone.now() + timedelta(days=21)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "circle": fed["ca"].pk,
        "title": "Bigger circles",
        "text": "Five is better.",
        "closes_at": closes,
        "revise_covenant": "on",
        "covenant_text": "Circles of five at least.",
        "min_circle_size": "5",
        "links_required": "2",
        "link_lapse_months": "24",
        "officer_electorate": "members",
        "review_months": "12",
    }
    bad = client.post(url, {**data, "min_circle_size": "1"})
    assert bad.status_code == 400 and not FederationProposal.objects.exists()
    response = client.post(url, data)
    assert response.status_code == 302
    fp = FederationProposal.objects.get()
    assert fp.covenant_text == "Circles of five at least."
    assert fp.covenant_parameters["min_circle_size"] == 5
    assert fp.covenant_parameters["officer_electorate"] == "members"
    assert fp.covenant_parameters["no_closed_triangles"] is False
    detail = client.get(fp.get_absolute_url()).content.decode()
    assert "It revises the covenant" in detail and "at least 5 members" in detail
    plain = client.post(url, {**data, "revise_covenant": "", "title": "Just a question"})
    assert plain.status_code == 302
    assert not FederationProposal.objects.get(title="Just a question").revises_covenant


@pytest.mark.django_db
def test_api_covenant_versions(fed: dict[str, Any]) -> None:
    fp = _revision(fed)
    _decide(fed, fp, "agree")
    slug = fed["federation"].slug
    body = Client().get(f"/api/v1/federations/{slug}/covenant").json()
    assert body["current"] == 2
    assert [v["number"] for v in body["versions"]] == [1, 2]
    assert body["versions"][1]["rules"]["links_required"] == 3
    assert body["versions"][1]["federation_proposal_id"] is None  # public: no decision ids
    validated(fed["ca"], fed["cb"])  # three links now: say their links were found
    member = login(Client(), fed["a2"]).get(f"/api/v1/federations/{slug}/covenant").json()
    assert member["versions"][1]["federation_proposal_id"] == fp.pk
    federations = Client().get("/api/v1/federations").json()
    assert federations[0]["covenant_version"] == 2
    assert federations[0]["rules"]["links_required"] == 3
    missing = Client().get("/api/v1/federations/nowhere/covenant")
    assert missing.status_code == 404 and set(missing.json()) == {"error", "fields"}


@pytest.mark.django_db
def test_review_date_follows_the_review_months() -> None:
    federation = circle_services.federation_create(
        actor=None, name="Reviewed", covenant="Text", covenant_parameters={"review_months": 25}
    )
    version = CovenantVersion.objects.get(federation=federation)
    from circlework.core.dates import add_months

    assert review_due(version) == add_months(timezone.localdate(version.adopted_at), 25)


@pytest.mark.django_db
def test_new_rules_take_effect_at_once(fed: dict[str, Any]) -> None:
    """Circles of two with no links become validated when the covenant asks no more."""
    g1, g2 = factories.make_practitioner("G1"), factories.make_practitioner("G2")
    gamma = factories.make_circle(founder=g1, federation=fed["federation"], members=[g2])
    assert gamma.status == "forming"
    fp = _revision(
        fed,
        covenant_text="Small circles, no links needed.",
        covenant_parameters={"min_circle_size": 2, "links_required": 0},
    )
    _decide(fed, fp, "agree")
    fed["ca"].refresh_from_db()
    fed["cb"].refresh_from_db()
    gamma.refresh_from_db()
    assert (fed["ca"].status, fed["cb"].status, gamma.status) == ("member", "member", "member")
    register = Client().get(fed["federation"].get_absolute_url()).content.decode()
    assert "a circle needs no links to be validated" in register
