""" "Download everything" is everything: generated from the data model, so nothing is forgotten.

Every model field that refers to a practitioner (or their log-in) is either carried by a section
of the export (site.export.EXPORTED, from each app's ExportPart.exported) or listed with the
reason it is left out (NOT_EXPORTED). A new model that refers to a practitioner fails the first test until it is
placed. Then, in the seeded world, every record that refers to a practitioner is found, by id,
in that practitioner's export.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from circlework.accounts.models import Practitioner, User
from circlework.core.visibility import mark_second_factor
from circlework.decisions import services as decisions
from circlework.notifications.services import notification_preferences_set
from circlework.polls import services as polls
from circlework.site.export import EXPORTED, NOT_EXPORTED, practitioner_export
from circlework.standing import services as standing
from tests import factories
from tests.world import build_world

pytestmark = pytest.mark.django_db


def _references() -> dict[str, Any]:
    """ "app_label.Model.field" -> the field, for every reference to a practitioner or user."""
    refs = {}
    for model in apps.get_models(include_auto_created=True):
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model in (Practitioner, User):
                refs[f"{model._meta.app_label}.{model._meta.object_name}.{f.name}"] = f
    return refs


def test_every_reference_to_a_practitioner_is_exported_or_left_out_with_a_reason() -> None:
    refs = set(_references())
    placed = set(EXPORTED) | set(NOT_EXPORTED)
    assert not refs - placed, (
        "These refer to a practitioner but are not in the export: add them to "
        f"the app's contributions.py (ExportPart.exported, or not_exported with a reason): "
        f"{refs - placed}"
    )
    assert not placed - refs, f"No such references (renamed or removed?): {placed - refs}"
    assert not set(EXPORTED) & set(NOT_EXPORTED)
    assert all(len(reason) > 20 for reason in NOT_EXPORTED.values())


def _ids_in(export: dict[str, Any], section: str) -> set[Any]:
    return {str(item["id"]) for item in export[section]}


def _expected(label: str, field: Any, practitioner: Practitioner) -> set[str]:
    """The ids the practitioner's export must show for this reference."""
    target = practitioner.user if field.related_model is User else practitioner
    rows = field.model._default_manager.filter(**{field.name: target})
    if field.model._meta.auto_created:  # a many-to-many table: the record is the other end
        other = next(
            f for f in field.model._meta.concrete_fields if f.is_relation and f is not field
        )
        return {str(v) for v in rows.values_list(other.attname, flat=True)}
    return {str(v) for v in rows.values_list("pk", flat=True)}


def test_every_record_about_each_practitioner_is_in_their_export() -> None:
    world = build_world("Export")
    # Fresh from the database, in a session that used the second factor (the world's circle
    # asks for it).
    author, member = (
        Practitioner.objects.select_related("user").get(pk=world["roles"][r].pk)
        for r in ("author", "member")
    )
    for person in (author, member):
        mark_second_factor(person.user, True)
    # A few records the world does not seed: a decided amendment, a response to a concern,
    # notification settings.
    decisions.amendment_decline(actor=author, amendment=world["amendment"], response="Not now")
    standing.standing_concern_respond(
        actor=member, concern=world["concern"], response="We talked", resolve=False
    )
    notification_preferences_set(actor=member, choices={"poll": "daily"})
    covered: set[str] = set()
    refs = _references()
    for practitioner in world["roles"].values():
        practitioner.refresh_from_db()
        export = practitioner_export(practitioner=practitioner)
        json.dumps(export)  # plain JSON, as downloaded
        assert set(EXPORTED.values()) <= set(export)  # every section, even when empty
        for label, section in EXPORTED.items():
            expected = _expected(label, refs[label], practitioner)
            if not expected:
                continue
            covered.add(label)
            if section == "profile":
                assert export["profile"]["display_name"] == practitioner.display_name
                continue
            if section == "notification_preferences":
                assert export[section], label
                continue
            missing = expected - _ids_in(export, section)
            assert not missing, f"{practitioner}: {label} rows {missing} are not in “{section}”"
    # The world seeds most kinds of record: the check above is not vacuous.
    assert len(covered) >= 30, sorted(set(EXPORTED) - covered)


@pytest.fixture
def pair(federation: Any) -> dict[str, Any]:
    ana = factories.make_practitioner("Ana Exporter")
    hidden = factories.make_practitioner("Zorro Privatename", display_name_visibility="private")
    circle = factories.make_circle(
        founder=ana, federation=federation, members=[hidden], name="Export Circle"
    )
    return {"ana": ana, "hidden": hidden, "circle": circle}


def _more_records(pair: dict[str, Any], n: int) -> None:
    ana, circle = pair["ana"], pair["circle"]
    from datetime import timedelta

    from django.utils import timezone

    for i in range(n):
        proposal = decisions.proposal_open(
            actor=ana,
            circle=circle,
            title=f"Question {i}",
            text="Shall we?",
            closes_at=timezone.now() + timedelta(days=3),
        )
        decisions.position_take(actor=ana, proposal=proposal, stance="concerns", reason="Hm")
        comment = decisions.comment_add(actor=ana, proposal=proposal, text=f"Comment {i}")
        decisions.comment_edit(actor=ana, comment=comment, text=f"Comment {i}, edited")
        poll = polls.poll_open(
            actor=ana,
            circle=circle,
            title=f"Poll {i}",
            kind="approval",
            options=["Tea", "Coffee"],
            closes_at=timezone.now() + timedelta(days=3),
            anonymous=True,
        )
        option = poll.options.order_by("position").values_list("pk", flat=True)[0]
        polls.ballot_cast(actor=ana, poll=poll, approved=[option])


def _queries(practitioner: Practitioner) -> int:
    with CaptureQueriesContext(connection) as ctx:
        practitioner_export(practitioner=practitioner)
    return len(ctx.captured_queries)


def test_the_export_costs_the_same_queries_however_much_there_is(
    pair: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    _more_records(pair, 1)
    ana = Practitioner.objects.get(pk=pair["ana"].pk)
    few = _queries(ana)
    _more_records(pair, 4)
    ana = Practitioner.objects.get(pk=pair["ana"].pk)
    assert _queries(ana) == few
    with django_assert_max_num_queries(60):
        export = practitioner_export(practitioner=ana)
    assert len(export["comments"]) == 5 and len(export["poll_answers"]) == 5
    assert export["comments"][0]["earlier_texts"] == ["Comment 0"]
    assert export["poll_answers"][0]["answer"] == ["Tea"]  # your own answer, even if anonymous


def test_own_sensitive_words_come_decrypted_and_hidden_names_stay_hidden(
    pair: dict[str, Any], client: Client
) -> None:
    ana, hidden, circle = pair["ana"], pair["hidden"], pair["circle"]
    statement = standing.standing_by_state(
        actor=ana, circle=circle, colleague=hidden, basis="We supervise together"
    )
    standing.standing_by_withdraw(actor=ana, statement=statement, reason="MARKERMYREASONS")
    standing.standing_by_state(actor=hidden, circle=circle, colleague=ana, basis="Peer review")
    client.force_login(ana.user)
    response = client.get("/me/data/export.json")
    assert response.status_code == 200
    body = response.content.decode()
    export = json.loads(body)
    assert "MARKERMYREASONS" in body  # decrypted: her own words
    assert export["concerns_raised"][0]["reason"] == "MARKERMYREASONS"
    assert export["standing_by_received"][0]["by"] == "a member"
    assert export["standing_by_given"][0]["colleague"] == "a member"
    assert "Privatename" not in body  # a name kept private is not in anyone else's export
