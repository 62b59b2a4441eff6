"""Standing by: state, renew, withdraw with reasons, respond; bad input refused, nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from circlework.agreements.models import Agreement, AgreementVersion
from circlework.core.dates import add_months
from circlework.core.errors import Conflict, InvalidInput, NotAllowed
from circlework.core.models import AuditEvent
from circlework.decisions.models import Outcome
from circlework.notifications.models import Notification
from circlework.standing import services
from circlework.standing.models import ConcernStatus, StandingBy, StandingConcern
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(federation: Any) -> dict[str, Any]:
    ana, ben, cy = (factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy"))
    circle = factories.make_circle(
        founder=ana, federation=federation, members=[ben, cy], name="Standing Circle"
    )
    return {"circle": circle, "ana": ana, "ben": ben, "cy": cy}


def _state(people: dict[str, Any], by: str = "ana", for_: str = "ben") -> StandingBy:
    return services.standing_by_state(
        actor=people[by],
        circle=people["circle"],
        colleague=people[for_],
        basis="We have met for two years in peer supervision.",
    )


def _snapshot() -> tuple[int, int, int, int]:
    return (
        StandingBy.objects.count(),
        StandingConcern.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )


def test_state_records_lapse_date_audits_and_notifies(people: dict[str, Any]) -> None:
    s = _state(people)
    assert s.lapses_on == add_months(timezone.localdate(), 12)
    assert AuditEvent.objects.filter(verb="standing_by.state", object_id=str(s.pk)).exists()
    assert Notification.objects.filter(recipient=people["ben"], kind="standing_by").exists()


def test_second_statement_is_a_renewal_keeping_history(people: dict[str, Any]) -> None:
    first = _state(people)
    second = _state(people)
    first.refresh_from_db()
    assert first.superseded_at is not None and second.renewed_from_id == first.pk
    assert StandingBy.objects.current().filter(by=people["ana"]).count() == 1
    assert StandingBy.objects.filter(by=people["ana"]).count() == 2


def test_review_period_from_the_circles_agreement(people: dict[str, Any]) -> None:
    circle, ana = people["circle"], people["ana"]
    from circlework.decisions.models import Proposal

    proposal = Proposal.objects.create(
        circle=circle, author=ana, title="Policy", text="x", closes_at=timezone.now()
    )
    outcome = Outcome.objects.create(
        proposal=proposal,
        passed=True,
        statement="Adopted",
        reason="consent",
        rule="consent",
        decided_at=timezone.now(),
    )
    agreement = Agreement.objects.create(circle=circle, kind="policy", title="Standing policy")
    version = AgreementVersion.objects.create(
        agreement=agreement,
        number=1,
        text="We review yearly",
        parameters={"standing_by_review_months": 6, "standing_by_required": 1},
        adopted_by=outcome,
        adopted_at=timezone.now(),
    )
    agreement.current_version = version
    agreement.save()
    assert services.review_months(circle) == 6
    assert _state(people).lapses_on == add_months(timezone.localdate(), 6)


@pytest.mark.parametrize(
    "case",
    ["yourself", "non_member_colleague", "outsider_actor", "blank_basis"],
)
def test_bad_statements_are_refused_with_nothing_changed(people: dict[str, Any], case: str) -> None:
    outsider = factories.make_practitioner("Out")
    before = _snapshot()
    kwargs: dict[str, Any] = {
        "actor": people["ana"],
        "circle": people["circle"],
        "colleague": people["ben"],
        "basis": "We know each other's work.",
    }
    if case == "yourself":
        kwargs["colleague"] = people["ana"]
        expected: type[Exception] = InvalidInput
    elif case == "non_member_colleague":
        kwargs["colleague"] = outsider
        expected = InvalidInput
    elif case == "outsider_actor":
        kwargs["actor"] = outsider
        expected = NotAllowed
    else:
        kwargs["basis"] = "   "
        expected = InvalidInput
    with pytest.raises(expected) as info:
        services.standing_by_state(**kwargs)
    if case == "yourself":
        assert "yourself" in str(info.value)
    assert _snapshot() == before


def test_renewal_refused_leaves_the_old_statement_current(people: dict[str, Any]) -> None:
    first = _state(people)
    with pytest.raises(InvalidInput):
        services.standing_by_state(
            actor=people["ana"], circle=people["circle"], colleague=people["ben"], basis=""
        )
    first.refresh_from_db()
    assert first.superseded_at is None


def test_withdraw_raises_a_concern_for_the_circle(people: dict[str, Any]) -> None:
    s = _state(people)
    concern = services.standing_by_withdraw(
        actor=people["ana"], statement=s, reason="I have seen practice I cannot stand by."
    )
    s.refresh_from_db()
    assert s.withdrawn_at is not None and s.withdrawal_reason.startswith("I have seen")
    assert concern.status == ConcernStatus.OPEN and concern.raised_by == people["ana"]
    told = set(
        Notification.objects.filter(kind="standing_concern").values_list("recipient", flat=True)
    )
    assert told == {people["ben"].pk, people["cy"].pk}
    # Reasons go neither into the audit summary nor the notification.
    assert not AuditEvent.objects.filter(summary__contains="cannot stand by").exists()
    assert not Notification.objects.filter(title__contains="cannot stand by").exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_withdraw_without_reason_refused(people: dict[str, Any], reason: str) -> None:
    s = _state(people)
    before = _snapshot()
    with pytest.raises(InvalidInput):
        services.standing_by_withdraw(actor=people["ana"], statement=s, reason=reason)
    assert _snapshot() == before
    s.refresh_from_db()
    assert s.withdrawn_at is None


def test_only_the_author_withdraws_and_only_once(people: dict[str, Any]) -> None:
    s = _state(people)
    with pytest.raises(NotAllowed):
        services.standing_by_withdraw(actor=people["cy"], statement=s, reason="Not mine")
    services.standing_by_withdraw(actor=people["ana"], statement=s, reason="Reasons")
    before = _snapshot()
    with pytest.raises(Conflict):
        services.standing_by_withdraw(actor=people["ana"], statement=s, reason="Again")
    assert _snapshot() == before


def test_circle_responds_but_not_the_raiser(people: dict[str, Any]) -> None:
    s = _state(people)
    concern = services.standing_by_withdraw(actor=people["ana"], statement=s, reason="Reasons")
    before = _snapshot()
    with pytest.raises(NotAllowed):
        services.standing_concern_respond(
            actor=people["ana"], concern=concern, response="I answer myself", resolve=True
        )
    with pytest.raises(InvalidInput):
        services.standing_concern_respond(
            actor=people["cy"], concern=concern, response="  ", resolve=False
        )
    assert _snapshot() == before
    concern.refresh_from_db()
    assert concern.status == ConcernStatus.OPEN and concern.response == ""
    services.standing_concern_respond(
        actor=people["cy"], concern=concern, response="We met and talked.", resolve=False
    )
    concern.refresh_from_db()
    assert concern.status == ConcernStatus.RESPONDED and concern.responded_by == people["cy"]
    services.standing_concern_respond(
        actor=people["ben"], concern=concern, response="Resolved together.", resolve=True
    )
    concern.refresh_from_db()
    assert concern.status == ConcernStatus.RESOLVED
    with pytest.raises(Conflict):
        services.standing_concern_respond(
            actor=people["cy"], concern=concern, response="More", resolve=True
        )


def test_stood_by_count_ignores_former_members(people: dict[str, Any]) -> None:
    from circlework.circles.services import membership_leave
    from circlework.standing.selectors import circle_is_full, profile_standing

    for by in ("ana", "ben", "cy"):
        for for_ in ("ana", "ben", "cy"):
            if by != for_:
                _state(people, by, for_)
    assert circle_is_full(people["circle"])
    membership_leave(actor=people["cy"], circle=people["circle"])
    assert circle_is_full(people["circle"])  # the two who remain stand by each other
    lines = profile_standing(user=people["ana"].user, practitioner=people["ben"])
    assert [(line.count, line.no_longer) for line in lines] == [(1, False)]


def test_profile_line_shows_no_longer_stood_by(people: dict[str, Any]) -> None:
    from circlework.standing.selectors import profile_standing

    s = _state(people)
    services.standing_by_withdraw(actor=people["ana"], statement=s, reason="Private reason")
    lines = profile_standing(user=people["cy"].user, practitioner=people["ben"])
    assert [(line.count, line.no_longer) for line in lines] == [(0, True)]


def test_statement_lapsing_state(people: dict[str, Any]) -> None:
    s = _state(people)
    today = timezone.localdate()
    assert s.state(today) == "live"
    assert s.state(s.lapses_on - timedelta(days=3)) == "lapsing"
    assert s.state(s.lapses_on) == "lapsed"
