"""What a circle's decision does to its link (`validation_rule.link_decision`), property-tested:
only a decision that passed, and that the federation's rules do not refuse, validates; whether
the link counts is recorded exactly as it validates; a link not awaiting a decision is left alone;
a renewal never ends a link; a first decision that does not validate declines it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from circlework.links.models import LinkCount, LinkStatus
from circlework.links.validation_rule import DECIDABLE, Decided, LinkDecision, link_decision

statuses = st.sampled_from(list(LinkStatus))
countings = st.sampled_from(list(LinkCount))


def _decide(
    status: LinkStatus, passed: bool, refused: bool, counting: LinkCount, newer: bool
) -> LinkDecision | None:
    return link_decision(
        status=status,
        passed=passed,
        refused_by_rule=refused,
        counting=counting,
        newer_link_validates=newer,
    )


@given(statuses, st.booleans(), st.booleans(), countings, st.booleans())
def test_only_a_link_awaiting_its_decision_is_changed(
    status: LinkStatus, passed: bool, refused: bool, counting: LinkCount, newer: bool
) -> None:
    decided = _decide(status, passed, refused, counting, newer)
    assert (decided is None) == (status not in DECIDABLE)
    if status in (LinkStatus.CANCELLED, LinkStatus.WITHDRAWN, LinkStatus.DECLINED):
        assert decided is None


@given(st.sampled_from(DECIDABLE), st.booleans(), st.booleans(), countings, st.booleans())
def test_it_validates_exactly_when_passed_not_refused_and_no_newer_link_took_its_place(
    status: LinkStatus, passed: bool, refused: bool, counting: LinkCount, newer: bool
) -> None:
    decided = _decide(status, passed, refused, counting, newer)
    assert decided is not None
    gave_way = status == LinkStatus.LAPSED and newer
    assert decided.validates == (passed and not refused and not gave_way)
    if decided.validates:
        assert decided.status == LinkStatus.VALIDATED
        assert decided.counts == counting  # recorded as decided now, even "does not count"
    else:
        assert decided.counts is None  # what it counted before is kept


@given(st.sampled_from(DECIDABLE), st.booleans(), countings, st.booleans())
def test_a_link_the_rules_refuse_is_never_validated_by_this_decision(
    status: LinkStatus, passed: bool, counting: LinkCount, newer: bool
) -> None:
    decided = _decide(status, passed, True, counting, newer)
    assert decided is not None and not decided.validates
    # Refused is the same as not passed: the rules outweigh the circle's decision.
    assert decided == _decide(status, False, False, counting, newer)


@given(st.sampled_from(DECIDABLE), st.booleans(), st.booleans(), countings, st.booleans())
def test_what_does_not_validate_keeps_a_renewal_as_it_was_and_declines_a_first_decision(
    status: LinkStatus, passed: bool, refused: bool, counting: LinkCount, newer: bool
) -> None:
    decided = _decide(status, passed, refused, counting, newer)
    assert decided is not None
    if decided.validates:
        return
    if status == LinkStatus.MET:
        assert decided.way is Decided.DECLINED and decided.ends
        assert decided.status == LinkStatus.DECLINED
    else:  # a renewal: current until it lapses, or lapsed already, never ended by the decision
        assert not decided.ends and decided.status == status
        assert decided.way.verb == "link.not_renewed"


@given(st.sampled_from(DECIDABLE), st.booleans(), st.booleans(), countings, st.booleans())
def test_the_verb_says_what_happened(
    status: LinkStatus, passed: bool, refused: bool, counting: LinkCount, newer: bool
) -> None:
    decided = _decide(status, passed, refused, counting, newer)
    assert decided is not None
    verb = decided.way.verb
    assert (verb == "link.validated") == (decided.validates and status == LinkStatus.MET)
    assert (verb == "link.renewed") == (decided.validates and status != LinkStatus.MET)
    assert (verb == "link.declined") == decided.ends
    assert decided.ends == (decided.status == LinkStatus.DECLINED)


@given(st.sampled_from([LinkStatus.MET, LinkStatus.VALIDATED]), st.booleans(), st.booleans())
def test_a_newer_link_matters_only_for_a_link_that_lapsed(
    status: LinkStatus, passed: bool, refused: bool
) -> None:
    counting = LinkCount.FOUNDING
    assert _decide(status, passed, refused, counting, True) == _decide(
        status, passed, refused, counting, False
    )


def test_a_lapsed_link_whose_renewal_passed_gives_way_to_a_newer_validated_link() -> None:
    decided = _decide(LinkStatus.LAPSED, True, False, LinkCount.BY_VALIDATED_CIRCLE, True)
    assert decided == LinkDecision(Decided.NEWER_LINK, LinkStatus.LAPSED, None)
    assert not decided.validates and not decided.ends
