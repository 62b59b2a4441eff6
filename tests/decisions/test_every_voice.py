"""Decisions hear every voice on the text actually decided (issue 11).

A position counts for the version it was given on; members who have not confirmed theirs are
reminded and named "not yet confirmed"; what silence means at the closing time is the circle's
own choice, in its decision-rule agreement, shown on every proposal.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from circlework.core.errors import InvalidInput
from circlework.core.models import AuditEvent
from circlework.decisions import selectors, services, tasks
from circlework.decisions.models import Outcome, Proposal, ProposalStatus
from circlework.notifications.models import Notification
from tests import factories
from tests.api.helpers import session_client, url

pytestmark = pytest.mark.django_db


_circles = iter(range(1, 1000))


def _circle(n: int, federation: Any, **dee: Any) -> tuple[Any, list[Any]]:
    names = ["Ana", "Ben", "Cy", "Dee"] + [f"Member {i}" for i in range(5, n + 1)]
    people = [
        factories.make_practitioner(name, **(dee if name == "Dee" else {})) for name in names[:n]
    ]
    circle = factories.make_circle(
        founder=people[0],
        federation=federation,
        members=people[1:],
        name=f"Circle {next(_circles)} of {n}",
    )
    return circle, people


def _choose_silence(circle: Any, people: list[Any], silence: str) -> None:
    """The circle adopts its decision rule, with its choice of what silence means."""
    rule = services.proposal_open(
        actor=people[0],
        circle=circle,
        title="How we decide",
        text="Consent.",
        closes_at=timezone.now() + timedelta(days=3),
        new_agreement_kind="decision_rule",
        new_agreement_title="How we decide",
        agreement_text="We decide by consent.",
        agreement_parameters={"rule": "consent", "silence": silence},
    )
    for p in people:
        services.position_take(actor=p, proposal=rule, stance="agree")
    assert services.proposal_close(actor=people[0], proposal=rule, early=True) is not None
    assert services.circle_rule(circle).silence == silence


def _open(circle: Any, people: list[Any], days: int = 7) -> Proposal:
    return services.proposal_open(
        actor=people[0],
        circle=circle,
        title="Meet monthly",
        text="We meet on the first Monday.",
        closes_at=timezone.now() + timedelta(days=days),
    )


def _amend(proposal: Proposal, people: list[Any]) -> None:
    amendment = services.amendment_propose(
        actor=people[1],
        proposal=proposal,
        text="We meet on the first Monday at seven.",
        reason="Time",
    )
    services.amendment_accept(actor=people[0], amendment=amendment)
    proposal.refresh_from_db()
    assert proposal.version == 2


def _sweep_at(when: Any) -> None:
    with time_machine.travel(when, tick=False):
        tasks.sweep_deadlines.call()


def _page(client: Client, proposal: Proposal) -> str:
    response = client.get(proposal.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def _section(html: str, element_id: str) -> str:
    """The heading with this id and the list after it."""
    match = re.search(rf'id="{element_id}".*?</ul>', html, re.S)
    assert match is not None, element_id
    return match.group(0)


def test_twelve_agreements_on_v1_and_eight_on_v2_do_not_pass_silently(federation: Any) -> None:
    circle, people = _circle(12, federation)
    proposal = _open(circle, people)
    for p in people:
        services.position_take(actor=p, proposal=proposal, stance="agree")
    _amend(proposal, people)
    for p in people[:8]:
        services.position_take(actor=p, proposal=proposal, stance="agree")
    waiting = {p.pk for p in people[8:]}

    verdict = selectors.verdict_for(proposal)
    assert not verdict.passes and verdict.unconfirmed == waiting and not verdict.missing
    assert verdict.counts["agree"] == 8
    # "If it closed now" says who has not confirmed, by name.
    client = Client()
    client.force_login(people[1].user)
    html = _page(client, proposal)
    unconfirmed = re.search(r'id="verdict-unconfirmed">(.*?)</p>', html, re.S)
    assert unconfirmed is not None
    assert all(p.display_name in unconfirmed.group(1) for p in people[8:])
    assert "not yet confirmed (given on version 1)" in html

    # At the closing time (extend once, the usual way): not decided, moved once, reminded.
    closes = proposal.closes_at
    _sweep_at(closes + timedelta(minutes=1))
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.OPEN and not Outcome.objects.exists()
    assert proposal.extended_from == closes and proposal.closes_at > closes
    for p in people[8:]:
        assert Notification.objects.filter(
            recipient=p, kind="proposal_reminder", title__startswith="Please confirm"
        ).exists()

    # At the new closing time it is decided with the voices given, naming the unconfirmed.
    _sweep_at(proposal.closes_at + timedelta(minutes=1))
    outcome = Outcome.objects.get(proposal=proposal)
    assert outcome.passed and outcome.version == 2 and outcome.silence == "extend_once"
    assert set(outcome.unconfirmed) == waiting and outcome.missing == []
    assert "4 members gave no position on this version" in outcome.reason
    versions = {row["practitioner_id"]: row["version"] for row in outcome.final_positions}
    assert {pid for pid, v in versions.items() if v == 1} == waiting

    html = _page(client, proposal)
    listed = _section(html, "outcome-unconfirmed")
    assert all(p.display_name in listed for p in people[8:])
    assert all(p.display_name not in listed for p in people[:8])
    assert "(given on version 1, not confirmed on version 2)" in html


@pytest.mark.parametrize(
    ("silence", "closes_at_once", "passes", "words"),
    [
        ("no_objection", True, True, "silence counts as no objection"),
        ("every_voice", True, False, "Every voice is needed"),
        ("extend_once", False, True, "it was decided with the voices given"),
    ],
)
def test_each_choice_of_silence_behaves_as_named_at_the_closing_time(
    federation: Any, silence: str, closes_at_once: bool, passes: bool, words: str
) -> None:
    circle, people = _circle(4, federation)
    _choose_silence(circle, people, silence)
    proposal = _open(circle, people)
    assert proposal.silence == silence
    for p in people[:3]:  # Dee is silent
        services.position_take(actor=p, proposal=proposal, stance="agree")
    dee = people[3]
    # Shown on the proposal, in the words the circle chose.
    client = Client()
    client.force_login(people[1].user)
    shown = re.search(r'id="decision-rule">(.*?)</p>', _page(client, proposal), re.S)
    assert shown is not None and proposal.get_silence_display() in shown.group(1)

    closes = proposal.closes_at
    reminders = Notification.objects.filter(recipient=dee, kind="proposal_reminder")
    before = reminders.count()
    _sweep_at(closes + timedelta(minutes=1))
    proposal.refresh_from_db()
    if closes_at_once:
        assert proposal.status == ProposalStatus.CLOSED and proposal.extended_from is None
    else:
        # Extended once: the closing time moved by the set time, Dee was reminded.
        assert proposal.status == ProposalStatus.OPEN
        assert proposal.extended_from == closes
        assert proposal.closes_at == closes + timedelta(minutes=1) + services.EXTENSION
        assert reminders.count() == before + 1
        assert AuditEvent.objects.filter(verb="proposal.extended").count() == 1
        assert "moved once" in _page(client, proposal)
        new_close = proposal.closes_at
        _sweep_at(new_close - timedelta(hours=1))  # not before its time
        proposal.refresh_from_db()
        assert proposal.status == ProposalStatus.OPEN
        _sweep_at(new_close + timedelta(minutes=1))
        proposal.refresh_from_db()
        assert proposal.status == ProposalStatus.CLOSED
        assert proposal.extended_from == closes  # once only
        assert AuditEvent.objects.filter(verb="proposal.extended").count() == 1
    outcome = Outcome.objects.get(proposal=proposal)
    assert outcome.passed is passes and words in outcome.reason
    assert outcome.missing == [dee.pk] and outcome.silence == silence


def test_a_block_is_not_waited_on_and_consensus_keeps_needing_everyone(federation: Any) -> None:
    """Extend once waits only where the silent could change the result; a circle deciding by
    consensus that has not chosen still needs every voice."""
    circle, people = _circle(4, federation)
    proposal = _open(circle, people)
    services.position_take(actor=people[1], proposal=proposal, stance="block", reason="No")
    _sweep_at(proposal.closes_at + timedelta(minutes=1))
    outcome = Outcome.objects.get(proposal=proposal)
    assert not outcome.passed and outcome.reason == "A block stands."

    other, members = _circle(4, federation)
    rule = services.proposal_open(
        actor=members[0],
        circle=other,
        title="Consensus",
        text="Consensus.",
        closes_at=timezone.now() + timedelta(days=3),
        new_agreement_kind="decision_rule",
        new_agreement_title="How we decide",
        agreement_text="By consensus.",
        agreement_parameters={"rule": "consensus"},
    )
    for p in members:
        services.position_take(actor=p, proposal=rule, stance="agree")
    services.proposal_close(actor=members[0], proposal=rule, early=True)
    assert _open(other, members).silence == "every_voice"


def test_the_day_before_reminder_asks_the_unconfirmed_to_confirm(federation: Any) -> None:
    circle, people = _circle(4, federation)
    ana, ben, cy, dee = people
    proposal = _open(circle, people, days=5)
    for p in (ana, ben, cy):
        services.position_take(actor=p, proposal=proposal, stance="agree")
    _amend(proposal, people)
    services.position_take(actor=ben, proposal=proposal, stance="agree")  # confirms on v2
    Notification.objects.filter(kind="proposal_reminder").delete()
    _sweep_at(proposal.closes_at - timedelta(hours=12))
    reminded = Notification.objects.filter(kind="proposal_reminder")
    assert set(reminded.values_list("recipient_id", flat=True)) == {ana.pk, cy.pk, dee.pk}
    confirm = reminded.get(recipient=cy)
    assert confirm.title.startswith("Please confirm") and "version 1" in confirm.body
    assert reminded.get(recipient=dee).title.startswith("Your voice is missing")
    proposal.refresh_from_db()
    assert proposal.reminder_sent_at is not None


def _closed_with_a_private_unconfirmed_member(federation: Any) -> tuple[Proposal, list[Any]]:
    """Ana and Ben confirm on version 2; Dee (name kept private) agreed on version 1 only;
    Cy never spoke. Decided at the closing time under "silence counts as no objection"."""
    circle, people = _circle(4, federation, display_name_visibility="private")
    ana, ben, cy, dee = people
    _choose_silence(circle, people, "no_objection")
    proposal = _open(circle, people)
    for p in (ana, ben, dee):
        services.position_take(actor=p, proposal=proposal, stance="agree")
    _amend(proposal, people)
    for p in (ana, ben):
        services.position_take(actor=p, proposal=proposal, stance="agree")
    _sweep_at(proposal.closes_at + timedelta(minutes=1))
    outcome = Outcome.objects.get(proposal=proposal)
    assert outcome.unconfirmed == [dee.pk] and outcome.missing == [cy.pk]
    return proposal, people


def test_the_outcome_names_missing_and_unconfirmed_members_as_far_as_each_may_be_seen(
    federation: Any,
) -> None:
    proposal, (_ana, ben, _cy, dee) = _closed_with_a_private_unconfirmed_member(federation)
    as_ben, as_dee = Client(), Client()
    as_ben.force_login(ben.user)
    as_dee.force_login(dee.user)

    seen_by_ben = _page(as_ben, proposal)
    assert "Cy" in _section(seen_by_ben, "outcome-missing")
    unconfirmed = _section(seen_by_ben, "outcome-unconfirmed")
    assert "a member" in unconfirmed and "Dee" not in unconfirmed
    assert "Dee" not in seen_by_ben  # nowhere on the page
    # Dee sees her own name; the record is the same.
    assert "Dee" in _section(_page(as_dee, proposal), "outcome-unconfirmed")

    # The API reports the same, by the same name rule, and marks each position's version.
    path = url(f"/circles/{proposal.circle.slug}/proposals/{proposal.pk}")
    for client, dee_is in ((session_client(ben), "a member"), (session_client(dee), "Dee")):
        outcome = client.get(path).json()["outcome"]
        assert outcome["missing"] == ["Cy"] and outcome["unconfirmed"] == [dee_is]
        assert outcome["silence"] == "no_objection" and outcome["version"] == 2
        rows = {r["name"]: (r["version"], r["confirmed"]) for r in outcome["final_positions"]}
        assert rows == {"Ana": (2, True), "Ben": (2, True), dee_is: (1, False)}


def test_the_open_proposal_in_the_api_names_the_unconfirmed_and_the_rule(federation: Any) -> None:
    circle, people = _circle(4, federation)
    proposal = _open(circle, people)
    services.position_take(actor=people[2], proposal=proposal, stance="agree")
    _amend(proposal, people)
    body = (
        session_client(people[1]).get(url(f"/circles/{circle.slug}/proposals/{proposal.pk}")).json()
    )
    assert body["unconfirmed"] == ["Cy"] and sorted(body["silent"]) == ["Ana", "Ben", "Dee"]
    assert body["silence"] == "extend_once" and body["extended_from"] is None
    assert body["verdict"]["passes"] is False


def test_the_outcome_page_reads_in_the_same_number_of_queries_for_any_circle(
    federation: Any,
) -> None:
    def queries(n: int) -> int:
        circle, people = _circle(n, federation)
        proposal = _open(circle, people)
        for p in people[: n // 2]:
            services.position_take(actor=p, proposal=proposal, stance="agree")
        _amend(proposal, people)
        services.position_take(actor=people[0], proposal=proposal, stance="agree")
        _sweep_at(proposal.closes_at + timedelta(minutes=1))
        proposal.refresh_from_db()
        _sweep_at(proposal.closes_at + timedelta(minutes=1))
        assert Outcome.objects.filter(proposal=proposal).exists()
        client = Client()
        client.force_login(people[1].user)
        _page(client, proposal)  # warm caches (sessions, content types)
        with CaptureQueriesContext(connection) as ctx:
            _page(client, proposal)
        return len(ctx.captured_queries)

    assert queries(4) == queries(9)


def test_the_circle_chooses_what_silence_means_on_its_decision_rule_form(federation: Any) -> None:
    circle, people = _circle(4, federation)
    client = Client()
    client.force_login(people[0].user)
    new = reverse("decisions:proposal_new", args=[circle.slug])
    form = client.get(new + "?kind=new&agreement_kind=decision_rule").content.decode()
    assert 'name="silence"' in form and "Every voice is needed" in form
    response = client.post(
        new,
        {
            "adopts": "new",
            "title": "How we decide",
            "text": "Every voice, always.",
            "process": "consent",
            "closes_at": (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "new_agreement_kind": "decision_rule",
            "new_agreement_title": "How we decide",
            "new_agreement_visibility": "circle",
            "agreement_text": "We decide by consent; every voice is needed.",
            "rule": "consent",
            "fallback_after_rounds": "3",
            "silence": "every_voice",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    proposal = Proposal.objects.get(title="How we decide")
    assert proposal.agreement_parameters["silence"] == "every_voice"
    for p in people:
        services.position_take(actor=p, proposal=proposal, stance="agree")
    services.proposal_close(actor=people[0], proposal=proposal, early=True)
    assert _open(circle, people).silence == "every_voice"
    # Anything else is refused, by the form and by the service.
    with pytest.raises(InvalidInput):
        services.proposal_open(
            actor=people[0],
            circle=circle,
            title="Odd",
            text="x",
            closes_at=timezone.now() + timedelta(days=3),
            new_agreement_kind="decision_rule",
            new_agreement_title="Odd",
            agreement_text="x",
            agreement_parameters={"rule": "consent", "silence": "whatever"},
        )


def test_an_amendment_accepted_just_before_the_close_leaves_time_to_confirm(
    federation: Any,
) -> None:
    circle, people = _circle(4, federation)
    _choose_silence(circle, people, "no_objection")
    proposal = _open(circle, people, days=3)
    for p in people:
        services.position_take(actor=p, proposal=proposal, stance="agree")
    first_close = proposal.closes_at
    with time_machine.travel(first_close - timedelta(minutes=1), tick=False):
        _amend(proposal, people)
        proposal.refresh_from_db()
        assert proposal.closes_at >= timezone.now() + services.CONFIRM_TIME
        told = Notification.objects.filter(recipient=people[2], title__contains="changed").last()
        assert told is not None and "Confirm or change your position by" in told.body
    # At the first closing time nothing is decided in the members' silence on the new text.
    _sweep_at(first_close + timedelta(minutes=1))
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.OPEN
    # An amendment accepted with days to spare leaves the closing time as it was.
    later = _open(circle, people, days=7)
    closes = later.closes_at
    _amend(later, people)
    later.refresh_from_db()
    assert later.closes_at == closes


def test_the_proposer_closing_after_the_deadline_moves_it_once_as_the_worker_would(
    federation: Any,
) -> None:
    circle, people = _circle(4, federation)
    _choose_silence(circle, people, "extend_once")
    proposal = _open(circle, people, days=3)
    for p in people[:2]:
        services.position_take(actor=p, proposal=proposal, stance="agree")
    deadline = proposal.closes_at
    client = Client()
    client.force_login(people[0].user)
    with time_machine.travel(deadline + timedelta(minutes=1), tick=False):
        response = client.post(f"{proposal.get_absolute_url()}close/", follow=True)
        body = response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.OPEN and proposal.extended_from == deadline
    assert proposal.closes_at == deadline + timedelta(minutes=1) + services.EXTENSION
    assert "the closing time moved once" in body
    assert not Outcome.objects.filter(proposal=proposal).exists()
