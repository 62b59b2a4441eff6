"""Schemas in and out, for every router: one section per router module, in the order
`router.py` mounts them, after the shared pieces. Field names follow the glossary and the models.

Routers build each response with a typed constructor (`_proposal_out(...) -> ProposalOut`), so
mypy checks every field; the literals mirror the models' choices, and tests keep them in step.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AwareDatetime, Field, StrictInt, field_validator

VisibilityLevel = Literal["private", "circle", "federation", "public"]
CircleVisibility = Literal["circle", "federation", "public"]
# Every other person's name in a response is decided by one rule (core.visibility.can_see_name).
PersonName = Annotated[
    str,
    Field(
        description='The person\'s name as far as they let you see it: "a member" where they keep '
        'it from you, "a former member" where the account is gone.'
    ),
]


class InSchema(Schema):
    """Base for request bodies: text must be storable as it is.

    PostgreSQL refuses NUL characters in text, which would otherwise end in a server error.
    (Pydantic already refuses lone surrogates.) Text in a list (a poll's options) is checked too.
    """

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise ValueError("Text may not contain NUL characters.")
        return value


class ErrorOut(Schema):
    error: str
    fields: dict[str, list[str]] = {}


# --- me ---------------------------------------------------------------------------------------


class MeOut(Schema):
    id: int
    email: str
    display_name: str
    time_zone: str


class ProfileOut(Schema):
    id: int
    display_name: str
    display_name_visibility: VisibilityLevel
    pronouns: str
    pronouns_visibility: VisibilityLevel
    modalities: str
    modalities_visibility: VisibilityLevel
    languages: str
    languages_visibility: VisibilityLevel
    location: str
    location_visibility: VisibilityLevel
    statement: str
    statement_visibility: VisibilityLevel
    time_zone: str


class ProfilePatch(InSchema):
    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    display_name_visibility: VisibilityLevel | None = None
    pronouns: str | None = Field(default=None, max_length=40)
    pronouns_visibility: VisibilityLevel | None = None
    modalities: str | None = Field(default=None, max_length=300)
    modalities_visibility: VisibilityLevel | None = None
    languages: str | None = Field(default=None, max_length=200)
    languages_visibility: VisibilityLevel | None = None
    location: str | None = Field(default=None, max_length=120)
    location_visibility: VisibilityLevel | None = None
    statement: str | None = Field(default=None, max_length=5000)
    statement_visibility: VisibilityLevel | None = None
    time_zone: str | None = Field(default=None, max_length=64)


class PublicProfileOut(Schema):
    id: int
    fields: dict[str, str]


class CredentialOut(Schema):
    id: int
    title: str
    issuer: str
    year: int
    visibility: VisibilityLevel
    has_document: bool


class CredentialIn(InSchema):
    title: str = Field(..., min_length=1, max_length=200)
    issuer: str = Field(..., min_length=1, max_length=200)
    year: int = Field(..., ge=1900, le=2100)
    visibility: VisibilityLevel = "federation"


# --- practitioners, federations and circles ---------------------------------------------------


class FederationRulesOut(Schema):
    """The rules the federation's current covenant sets (circlework.circles.covenant)."""

    min_circle_size: int
    links_required: int = Field(description="Current links a circle needs to be validated.")
    link_lapse_months: int = Field(description="How long a validation link lasts.")
    no_closed_triangles: bool = Field(
        description="A circle and its link circles must not form a closed triangle."
    )
    officer_electorate: Literal["delegates", "members"] = Field(
        description="Who elects the federation's officers: the circles' delegates or every member."
    )
    review_months: int = Field(description="The covenant is reviewed this long after adoption.")
    roles: dict[str, dict[str, Any]] = Field(
        description="Role name → the covenant's settings for it (term, terms in a row, method)."
    )
    forming_circles_may: list[Literal["follow_federation_decisions"]] = Field(
        default_factory=list,
        description="What members of forming (not yet validated) circles may do beyond the "
        "public's view and their link requests; empty: nothing. Only validated circles are the "
        "federation: its audience, its electorate and the circles its decisions ask.",
    )
    recommended_max_circle_size: int = Field(
        description="The size a circle usually stays within: larger circles are shown a note, "
        "never refused."
    )


class FederationOut(Schema):
    slug: str
    name: str
    description: str
    covenant: str = Field(description="The current covenant's text.")
    covenant_version: int | None = Field(description="The current covenant's version number.")
    rules: FederationRulesOut


class CovenantVersionOut(Schema):
    number: int
    text: str
    rules: FederationRulesOut
    adopted_at: datetime
    review_due: date = Field(description="Adoption plus the covenant's review months.")
    federation_proposal_id: int | None = Field(
        description="The federation proposal that adopted it (none for the first version); "
        "shown to members of the federation only."
    )


class CovenantOut(Schema):
    federation: str
    current: int | None = Field(description="The current version's number.")
    versions: list[CovenantVersionOut] = Field(description="Oldest first.")


class CircleOut(Schema):
    slug: str
    name: str
    federation: str
    purpose: str
    locality: str
    meeting_pattern: str
    open_to_new_members: bool
    status: str
    visibility: CircleVisibility
    requires_two_factor: bool
    is_member: bool


class CircleIn(InSchema):
    federation: str = Field(..., min_length=1, max_length=50, description="Federation slug")
    name: str = Field(..., min_length=1, max_length=160)
    purpose: str = Field(..., min_length=1, max_length=3000)
    locality: str = Field("", max_length=160)
    meeting_pattern: str = Field("", max_length=200)
    open_to_new_members: bool = True
    visibility: CircleVisibility = "public"


class CirclePatch(InSchema):
    name: str | None = Field(default=None, min_length=1, max_length=160)
    purpose: str | None = Field(default=None, min_length=1, max_length=3000)
    locality: str | None = Field(default=None, max_length=160)
    meeting_pattern: str | None = Field(default=None, max_length=200)
    open_to_new_members: bool | None = None
    visibility: CircleVisibility | None = None
    requires_two_factor: bool | None = Field(
        None,
        description="Require two-factor authentication of every member (you need it yourself).",
    )


class MembershipOut(Schema):
    practitioner_id: int | None
    name: PersonName
    joined_at: datetime
    left_at: datetime | None


class InvitationOut(Schema):
    id: int
    circle: str
    email: str
    status: str
    expires_at: datetime
    created_at: datetime


class InvitationIn(InSchema):
    email: str = Field(..., min_length=3, max_length=254)
    message: str = Field("", max_length=2000)


class InvitationCreatedOut(InvitationOut):
    link: str


class InvitationSecretIn(InSchema):
    secret: str = Field(..., min_length=10, max_length=100)


class NotificationOut(Schema):
    id: int
    kind: str
    title: str = Field(description="People in it are named as far as they let you see them.")
    body: str = Field(description="People in it are named as far as they let you see them.")
    url: str
    created_at: datetime
    read: bool


# --- decisions --------------------------------------------------------------------------------
# The literal values mirror the model choices (decisions.models, agreements.models); a test in
# tests/api/test_decisions.py keeps them in step.

StanceName = Literal["agree", "concerns", "disagree", "stand_aside", "block"]
ProcessName = Literal["consent", "consensus", "advice", "gradients", "question_round"]
RuleName = Literal["consent", "consensus", "majority_after_rounds"]
SilenceName = Literal["extend_once", "no_objection", "every_voice"]
AgreementKindName = Literal[
    "policy",
    "procedure",
    "decision_rule",
    "competence_criteria",
    "conflict_procedure",
    "ceremony",
    "ethics",
    "covenant",
    "roles",
    "other",
]
CeremonyMomentName = Literal[
    "welcome", "farewell", "mandate_end", "link_made", "opening", "closing", "inquiry_end"
]


class PersonOut(Schema):
    """A person as the circle's member list shows them to you: `practitioner_id` is null and the
    name is "a member" where they keep their name from you, "a former member" for a deleted account."""

    practitioner_id: int | None
    name: PersonName


class RuleParameters(InSchema):
    rule: RuleName = "consent"
    fallback_after_rounds: int = Field(
        3, ge=1, le=10, description="For majority_after_rounds: the round from which it applies."
    )
    silence: SilenceName | None = Field(
        None,
        description="What a missing or unconfirmed voice means at the closing time: extend_once "
        "(move the closing time once and remind, then decide with the voices given), "
        "no_objection (silence counts as no objection) or every_voice (every voice is needed). "
        "Left out: every_voice for consensus, extend_once otherwise.",
    )


class ProvenanceOut(Schema):
    """Where a borrowed text came from. Only `visible` is set when you may not read the source."""

    visible: bool
    circle: str | None = None
    circle_name: str | None = None
    agreement_id: int | None = None
    title: str | None = None
    version: int | None = None


class OutcomeSummaryOut(Schema):
    passed: bool
    reason: str
    decided_at: datetime


class ProposalSummaryOut(Schema):
    id: int
    title: str
    status: Literal["open", "closed", "withdrawn"]
    process: ProcessName
    rule: RuleName
    fallback_after_rounds: int
    silence: SilenceName = Field(
        description="What a missing or unconfirmed voice means at the closing time (the rule's)."
    )
    extended_from: datetime | None = Field(
        description="Set when the closing time was moved once for silent members: the one before."
    )
    version: int
    round: int
    closes_at: datetime
    decision_requested_at: datetime | None = Field(
        description="Advice process: when the proposer was asked to decide."
    )
    created_at: datetime
    author: PersonOut
    agreement_id: int | None
    new_agreement_kind: str
    new_agreement_title: str
    outcome: OutcomeSummaryOut | None


class ProposalVersionOut(Schema):
    number: int
    title: str
    text: str
    agreement_text: str
    created_at: datetime
    amendment_id: int | None


class PositionHistoryOut(Schema):
    stance: StanceName
    reason: str
    version: int
    round: int
    is_current: bool
    created_at: datetime


class MemberPositionOut(Schema):
    practitioner_id: int | None
    name: PersonName
    stance: StanceName | None
    reason: str
    needs_confirming: bool = Field(description="Their position answers an earlier version.")
    history: list[PositionHistoryOut]


class VerdictOut(Schema):
    passes: bool
    reason: str
    counts: dict[str, int]


class AmendmentOut(Schema):
    id: int
    author: PersonOut
    based_on_version: int
    text: str
    agreement_text: str
    reason: str
    status: Literal["open", "accepted", "declined", "withdrawn"]
    response: str
    decided_at: datetime | None
    produced_version: int | None = Field(description="The proposal version it became, if accepted.")
    created_at: datetime


class FinalPositionOut(Schema):
    practitioner_id: int | None
    name: PersonName
    stance: StanceName
    reason: str
    version: int | None = Field(description="The proposal version the position was given on.")
    confirmed: bool = Field(description="Given on (or confirmed on) the version decided.")


class OutcomeOut(OutcomeSummaryOut):
    statement: str = Field(description="The text that was decided.")
    rule: RuleName
    silence: SilenceName
    version: int = Field(description="The proposal version decided.")
    final_positions: list[FinalPositionOut]
    dissent: list[FinalPositionOut]
    missing: list[str] = Field(description="Names of the members who did not speak.")
    unconfirmed: list[str] = Field(
        description="Names of the members whose final position answers an earlier version."
    )
    adopted_agreement_version: int | None


class ProposalOut(ProposalSummaryOut):
    circle: str
    text: str
    agreement_text: str
    agreement_parameters: dict[str, Any]
    borrowed_from: ProvenanceOut | None
    is_proposer: bool
    versions: list[ProposalVersionOut]
    positions: list[MemberPositionOut] = Field(description="Every current member, in join order.")
    silent: list[str] = Field(description="Names of the current members who have not spoken.")
    unconfirmed: list[str] = Field(
        description="Names of the current members whose position answers an earlier version "
        "(not yet confirmed)."
    )
    verdict: VerdictOut | None = Field(
        description="What the decision rule would say if the proposal closed now (open only)."
    )
    amendments: list[AmendmentOut]
    outcome: OutcomeOut | None = Field(description="Once closed: the full record.")


class CeremonyIn(InSchema):
    moment: CeremonyMomentName | None = Field(
        None,
        description="When the circle uses it: welcome (a new member), farewell (a member "
        "leaves), mandate_end, link_made, opening or closing (a meeting), inquiry_end; null "
        "when the circle chooses. The moments suggest the ceremony at the next meeting.",
    )
    roles: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        max_length=20,
        description='The roles people take, one each ("Convener: opens with a round").',
    )

    @field_validator("roles")
    @classmethod
    def _one_line_each(cls, roles: list[str]) -> list[str]:
        if any(len(role.splitlines()) != 1 or not role.strip() for role in roles):
            raise ValueError("Give each role as one line of words.")
        return roles


class ProposalIn(InSchema):
    title: str = Field(..., min_length=1, max_length=200)
    text: str = Field(..., min_length=1, max_length=20_000)
    closes_at: AwareDatetime = Field(
        ..., description="ISO 8601 with a UTC offset; between an hour and 90 days from now."
    )
    process: ProcessName = "consent"
    agreement_id: int | None = Field(
        None, description="One of this circle's agreements, to adopt a new version of it."
    )
    new_agreement_kind: AgreementKindName | None = Field(
        None, description="With new_agreement_title: the proposal adopts a new agreement."
    )
    new_agreement_title: str = Field("", max_length=200)
    agreement_text: str = Field(
        "", max_length=50_000, description="The agreement text it would adopt."
    )
    agreement_parameters: RuleParameters | None = Field(
        None, description="For a decision-rule agreement: the rule it would adopt."
    )
    ceremony: CeremonyIn | None = Field(
        None,
        description="For a ceremony: when the circle uses it and the roles people take in it. "
        "Left out when revising one: its moment and roles stay as they are.",
    )
    new_agreement_visibility: CircleVisibility | None = Field(
        None,
        description=(
            "With a new agreement: who will read it once adopted — the circle's own page's level "
            "or narrower (by default the circle's own level)."
        ),
    )


class PositionIn(InSchema):
    stance: StanceName
    reason: str = Field("", max_length=5000, description="Needed for every stance but agree.")


class PositionOut(Schema):
    id: int
    stance: StanceName
    reason: str
    version: int
    round: int
    is_current: bool
    created_at: datetime


class AmendmentIn(InSchema):
    text: str = Field(..., min_length=1, max_length=20_000)
    agreement_text: str = Field("", max_length=50_000)
    reason: str = Field(..., max_length=5000)
    base_version: int | None = Field(
        None,
        ge=1,
        le=2_147_483_647,
        description="The proposal version the text was written on. When given and another "
        "version is current, the amendment is refused with 409 and nothing is saved.",
    )


class AmendmentDecisionIn(InSchema):
    response: str = Field("", max_length=5000, description="Needed when declining.")


class CloseIn(InSchema):
    """Only for the advice process, where the proposer decides having heard everyone."""

    decision: bool | None = Field(
        None, description="Advice process: true to adopt the proposal, false to let it go."
    )
    statement: str = Field(
        "", max_length=2000, description="Advice process: what you decided and why."
    )


class RemindOut(Schema):
    reminded: int


class CommentOut(Schema):
    id: int
    author: PersonOut
    parent_id: int | None
    quote: str
    text: str
    created_at: datetime
    edited_at: datetime | None


class CommentIn(InSchema):
    text: str = Field(..., min_length=1, max_length=10_000)
    parent_id: int | None = None
    quote: str = Field("", max_length=2000)


# --- agreements -------------------------------------------------------------------------------


class AgreementSummaryOut(Schema):
    id: int
    circle: str
    kind: AgreementKindName
    title: str
    visibility: CircleVisibility
    current_version: int | None
    adopted_at: datetime | None
    review_interval_months: int
    review_due: date | None
    borrowed_from: ProvenanceOut | None


class AgreementVersionOut(Schema):
    number: int
    text: str
    parameters: dict[str, Any]
    adopted_at: datetime
    outcome_id: int
    proposal_id: int


class AgreementOut(AgreementSummaryOut):
    text: str = Field(description="The current version's text.")
    parameters: dict[str, Any]
    versions: list[AgreementVersionOut]
    is_member: bool
    open_proposal_id: int | None = Field(
        description="An open proposal about this agreement (shown to members only)."
    )


class ReviewIn(InSchema):
    closes_at: AwareDatetime | None = Field(default=None, description="Default: 14 days from now.")


class BorrowIn(InSchema):
    circle: str = Field(..., min_length=1, max_length=200, description="Slug of your circle.")
    closes_at: AwareDatetime | None = Field(default=None, description="Default: 14 days from now.")


class VisibilityIn(InSchema):
    visibility: Literal["circle", "federation", "public"] = Field(
        ...,
        description="Who reads it: the circle, the federation's validated circles, or everyone. "
        "Never wider than the circle's own page (400 otherwise).",
    )


class EthicsCommentOut(Schema):
    id: int
    name: str = Field(description="The commenter, as far as their name is theirs to show you.")
    text: str
    created_at: datetime


class CirculationOut(Schema):
    id: int
    circle: str
    circle_name: str
    title: str
    text: str = Field(description="The statement as circulated.")
    draft: bool = Field(description="A draft the circle is still deciding.")
    agreement_id: int | None
    version: int | None
    proposal_id: int | None = Field(description="The draft's proposal (its circle's members).")
    circulated_by: str
    circulated_at: datetime
    comments: list[EthicsCommentOut]


class EthicsCommentIn(InSchema):
    text: str = Field(..., min_length=1, max_length=5000)


class PublishedStatementOut(Schema):
    circle: str
    circle_name: str
    circle_status: str
    agreement_id: int
    title: str
    version: int
    adopted_at: datetime
    text: str
    borrowed_from: ProvenanceOut | None


# --- polls ------------------------------------------------------------------------------------
# The literal values mirror polls.models (PollKind, PollStatus, Availability); a test in
# tests/api/test_polls.py keeps them in step.

PollKindName = Literal["approval", "score", "ranked", "time"]
PollStatusName = Literal["open", "closed"]
AvailabilityName = Literal["yes", "maybe", "no"]


class PollSummaryOut(Schema):
    id: int
    title: str
    kind: PollKindName
    status: PollStatusName
    anonymous: bool = Field(description="Everyone sees who answered, nobody what anyone chose.")
    closes_at: datetime
    closed_at: datetime | None
    created_at: datetime
    author: PersonOut
    answers: int = Field(description="How many members have answered.")
    answered_by_me: bool


class PollOptionOut(Schema):
    id: int
    position: int = Field(description="0-based, in the order the author gave.")
    label: str = Field(description="Empty for a find-a-time option.")
    starts_at: datetime | None = Field(description="Find a time: the time offered.")


class BallotChoicesOut(Schema):
    """An answer in the shape it is given: only the field for the poll's kind is set."""

    approved: list[int] | None = None
    scores: dict[int, int] | None = None
    ranking: list[int] | None = None
    availability: dict[int, AvailabilityName] | None = None


class MyBallotOut(BallotChoicesOut):
    created_at: datetime
    updated_at: datetime


class MemberBallotOut(BallotChoicesOut):
    practitioner_id: int | None
    name: PersonName


class PollResultRowOut(Schema):
    """One option's count. Only the numbers for the poll's kind are set."""

    option_id: int
    lead: bool = Field(description="Leads (or, ranked: wins; find a time: a best time).")
    approvals: int | None = Field(default=None, description="Approval: how many approve it.")
    share: int | None = Field(default=None, description="Approval: per cent of those who answered.")
    total_score: int | None = Field(default=None, description="Score: the sum of its scores.")
    average_score: float | None = Field(default=None, description="Score: the mean, if it has any.")
    yes: int | None = Field(default=None, description="Find a time.")
    maybe: int | None = Field(default=None, description="Find a time: if need be.")
    no: int | None = Field(default=None, description="Find a time.")
    first_preferences: int | None = Field(default=None, description="Ranked.")
    final_round_votes: int | None = Field(
        default=None, description="Ranked: votes in the last round."
    )


class RunoffRoundOut(Schema):
    number: int
    votes: dict[int, int] = Field(description="Each continuing option's votes, by option id.")
    continuing_ballots: int
    exhausted: int = Field(description="Ballots with no continuing option left.")
    eliminated: int | None
    tie_broken_by: Literal["", "first_preferences", "option_order"]
    winner: int | None


class RunoffTableRowOut(Schema):
    option_id: int
    first_preferences: int
    votes: list[int | None] = Field(description="Per round; null once eliminated.")
    eliminated_in: int | None
    winner: bool


class RunoffOut(Schema):
    winner: int | None
    rounds: list[RunoffRoundOut]
    table: list[RunoffTableRowOut] = Field(description="Round by round, one row per option.")
    notes: list[str] = Field(description="What happened in each round, in words.")


class PollResultsOut(Schema):
    voters: int
    outcome: str = Field(
        description="One sentence. Times in it are in your time zone for a browser session, "
        "in UTC for a token."
    )
    leaders: list[int] = Field(description="Option ids.")
    rows: list[PollResultRowOut]
    runoff: RunoffOut | None = Field(description="Ranked choice: the instant runoff.")
    ballots: list[MemberBallotOut] = Field(
        description="Each member's answer; always empty for an anonymous poll."
    )


class PollOut(PollSummaryOut):
    circle: str
    details: str
    is_author: bool
    accepts_ballots: bool
    options: list[PollOptionOut]
    answered: list[str] = Field(
        description="Names of those who have answered, by name (never in the order they did)."
    )
    not_answered: list[str] = Field(description="Names of the current members who have not.")
    my_ballot: MyBallotOut | None
    results: PollResultsOut | None = Field(
        description="Once you have answered or the poll has closed, so that nobody is swayed "
        "before giving their own view. For an anonymous poll only once it has closed, for "
        "everyone: a count read before and after someone answers would tell what they chose."
    )


class PollIn(InSchema):
    title: str = Field(..., min_length=1, max_length=200, description="The question.")
    kind: PollKindName
    closes_at: AwareDatetime = Field(
        ..., description="ISO 8601 with a UTC offset; between 15 minutes and 90 days from now."
    )
    options: list[str] = Field(
        [], description="The options' labels (2 to 30); not for a find-a-time poll."
    )
    times: list[AwareDatetime] = Field(
        [], description="Find a time: the times offered (2 to 30), ISO 8601 with a UTC offset."
    )
    details: str = Field(
        "", max_length=20_000, description="Markdown (CommonMark; raw HTML is not rendered)."
    )
    anonymous: bool = False


class BallotIn(InSchema):
    """Give the one field the poll's kind needs; option ids are the poll's own."""

    approved: list[StrictInt] | None = Field(
        None, description="Approval: the option ids you approve (at least one)."
    )
    scores: dict[int, StrictInt] | None = Field(
        None, description="Score: every option id → 0 to 5."
    )
    ranking: list[StrictInt] | None = Field(
        None, description="Ranked: option ids best first, each at most once; partial is fine."
    )
    availability: dict[int, AvailabilityName] | None = Field(
        None, description='Find a time: every option id → "yes", "maybe" (if need be) or "no".'
    )


# --- standing by ------------------------------------------------------------------------------
# The literal values mirror standing.models (StandingState, ConcernStatus); a test in
# tests/api/test_standing.py keeps them in step. A current statement is live, lapsing or lapsed.

StandingStateName = Literal["live", "lapsing", "lapsed"]
ConcernStatusName = Literal["open", "responded", "resolved"]


class StandingStatementOut(Schema):
    id: int
    by: PersonOut
    basis: str = Field(description="How they know the colleague's practice.")
    stated_at: datetime
    lapses_on: date = Field(description="Unless renewed before then.")
    state: StandingStateName = Field(description="Lapsing: within 14 days of lapsing.")


class StandingMemberOut(Schema):
    practitioner_id: int | None
    name: PersonName
    need: int = Field(description="How many other members must stand by them.")
    live: int = Field(description="How many stand by them now; lapsed statements do not count.")
    enough: bool
    stood_by: list[StandingStatementOut] = Field(
        description="The current statement of each member who stands by them, lapsed included."
    )
    my_statement_id: int | None = Field(description="Your current statement for them, if any.")


class StandingTableOut(Schema):
    circle: str
    full: bool = Field(description="Every member is stood by by at least `need` others.")
    need: int
    review_months: int = Field(description="How long a statement holds unless renewed.")
    members: list[StandingMemberOut]
    missing: list[PersonOut] = Field(description="Members not yet stood by by enough others.")
    can_stand_by: list[PersonOut] = Field(description="Members you do not yet stand by.")


class StandingByOut(StandingStatementOut):
    circle: str
    colleague: PersonOut
    renewed_from_id: int | None = Field(description="The statement this one renews, if any.")


class StandByIn(InSchema):
    colleague_id: int = Field(description="A current member of the circle other than you.")
    basis: str = Field(
        ...,
        max_length=300,
        description="How you know their practice, e.g. “we have met for two years in peer "
        "supervision”.",
    )


class WithdrawIn(InSchema):
    reason: str = Field(
        "",
        max_length=5000,
        description="Required. Only the circle's members read it; publicly only a count shows.",
    )


class ConcernOut(Schema):
    id: int
    circle: str
    statement_id: int
    raised_by: PersonOut
    colleague: PersonOut = Field(description="The member no longer stood by.")
    reason: str
    status: ConcernStatusName
    response: str
    responded_by: PersonOut | None
    responded_at: datetime | None
    created_at: datetime
    may_respond: bool = Field(description="Any member but the one who raised it, until resolved.")


class ConcernResponseIn(InSchema):
    response: str = Field("", max_length=5000, description="Required: the circle's response.")
    resolve: bool = Field(False, description="True if this response resolves the concern.")


# --- mandates ---------------------------------------------------------------------------------


class PermissionOut(Schema):
    code: str = Field(description="e.g. decisions.record_circle_position")
    description: str


class MandateOut(Schema):
    id: int
    role: str
    role_name: str
    circle: str | None = Field(description="The circle's slug, for a circle's mandate.")
    federation: str = Field(description="The federation's slug (a circle mandate's too).")
    holder: PersonOut
    scope: list[PermissionOut] = Field(description="What it lets the holder do, while current.")
    starts_on: date
    ends_on: date = Field(
        description="The mandate ends at the start of this day (the server's local date): the day before is the last day in the role."
    )
    review_on: date
    handover_plan: str = Field(description="How this role will be reduced or passed on.")
    election_id: int | None
    consecutive_term: int
    live: bool
    ended_early_on: date | None
    end_reason: str
    review_due: bool = Field(description="Current, and the review falls today or within a month.")
    review_overdue: bool = Field(description="Current, and the review date has passed.")
    ending_soon: bool = Field(description="Current and ending within six weeks.")


class RoleOut(Schema):
    slug: str
    name: str
    description: str
    scope: list[PermissionOut]
    term_months: int
    review_months: int
    max_consecutive_terms: int | None
    seats: int = Field(description="How many people may hold the role here at the same time.")
    method: str = Field(description="consent, stv or approval")


class MandatesOut(Schema):
    live: list[MandateOut]
    upcoming: list[MandateOut]
    past: list[MandateOut] = Field(description="Ended or ended early, latest first, up to 50.")
    roles: list[RoleOut] = Field(description="The roles this circle or federation fills.")


class ResignIn(InSchema):
    reason: str = Field(max_length=500)


class HandoverIn(InSchema):
    handover_plan: str = Field(max_length=5000)


class NoticeIn(InSchema):
    title: str = Field(max_length=160)
    text: str = Field(max_length=5000)


class NoticeOut(Schema):
    federation: str
    recipients: int = Field(description="How many members were told.")


# --- links ------------------------------------------------------------------------------------
# The literal values mirror links.models (LinkStatus) and circles.models (CircleStatus); a test
# in tests/api/test_links.py keeps them in step.

LinkStatusName = Literal[
    "requested", "met", "validated", "declined", "withdrawn", "lapsed", "cancelled", "expired"
]
CircleStatusName = Literal["forming", "member"]


class CircleRefOut(Schema):
    slug: str
    name: str


class LinkMeetingOut(Schema):
    id: int
    met_on: date
    attendees: list[PersonOut] | None = Field(
        description="Who came: for the two circles' members only (null for anyone else)."
    )
    notes: str | None = Field(description="For the two circles' members only.")


class LinkMayOut(Schema):
    cancel: bool
    record_meeting: bool
    open_decision: bool
    set_statement: bool
    withdraw: bool


class LinkOut(Schema):
    id: int
    federation: str
    asking_circle: CircleRefOut = Field(description="The circle whose process is validated.")
    validating_circle: CircleRefOut = Field(description="The circle that validates it.")
    status: LinkStatusName
    live: bool = Field(description="Validated and not yet lapsed.")
    counts: bool = Field(
        description="Current, and it counts toward the asking circle's validation: the validating "
        "circle was validated when it decided, or the federation was being founded."
    )
    counterpart_id: int | None = Field(description="The link the other way, if reciprocal.")
    requested_at: datetime
    validated_on: date | None
    lapses_on: date | None
    ended_at: datetime | None = Field(description="When it was withdrawn, lapsed or cancelled.")
    statement: str = Field(description="The validating circle's public statement.")
    decision_id: int | None = Field(description="The validating circle's proposal, if opened.")
    meetings: list[LinkMeetingOut]
    message: str | None = Field(description="The request's message: the two circles only.")
    withdrawal_reason: str | None = Field(description="The two circles' members only.")
    may: LinkMayOut = Field(description="What you may do with it now.")


class LinkStandingOut(Schema):
    status: CircleStatusName
    validated: bool = Field(description="What the status should be by the covenant's rules now.")
    live_links: int
    links_required: int
    members: int
    min_circle_size: int


class CircleLinksOut(Schema):
    circle: str
    standing: LinkStandingOut
    received: list[LinkOut] = Field(description="Links asked by this circle: others validate it.")
    given: list[LinkOut] = Field(description="Links this circle validates (or is asked for).")


class MapNodeOut(Schema):
    id: int
    slug: str
    name: str
    status: CircleStatusName
    live_links: int
    links_required: int


class MapEdgeOut(Schema):
    link_id: int
    source: str = Field(description="The validating circle (the arrow's tail).")
    target: str = Field(description="The asking circle it validates (the arrow's head).")
    status: Literal["validated", "requested", "met"]
    reciprocal: bool = Field(description="The two circles validate each other, both live.")


MapFocusName = Literal["around", "mine", "first"]


class MapIn(Schema):
    around: str = Field(
        "",
        max_length=80,
        description="A circle's slug: centre on it and the circles linked to it.",
    )
    q: str = Field(
        "",
        max_length=80,
        description="Only circles whose name contains this (for the first circles by name).",
    )


class FederationMapOut(Schema):
    federation: str
    links_required: int
    min_circle_size: int
    no_closed_triangles: bool
    nodes: list[MapNodeOut] = Field(
        description="At most 10 circles: the neighbourhood `focus` names (see the map)."
    )
    edges: list[MapEdgeOut] = Field(
        description="Current and requested links between those circles."
    )
    focus: MapFocusName = Field(
        description="What the circles centre on: `around` (the circle asked for and its "
        "links), `mine` (your circles and theirs) or `first` (the first circles by name, "
        "matching `q`; a federation of 10 circles or fewer is included whole)."
    )
    around: str | None = Field(description="The circle centred on, when `focus` is `around`.")
    circles_visible: int = Field(description="How many circles of the federation you can see.")
    circles_matching: int = Field(description="How many of them match `q` (all without `q`).")
    not_included: int = Field(
        description="How many circles you can see are not in `nodes`: every circle is in "
        "GET /circles, a page at a time."
    )


class LinkRequestIn(InSchema):
    validating_circle: str = Field(description="The slug of the circle you ask.")
    message: str = Field("", max_length=3000, description="For the two circles' members only.")
    reciprocal: bool = Field(False, description="Also offer to validate them: a link each way.")


class LinkMeetingIn(InSchema):
    met_on: date = Field(description="Not in the future.")
    attendee_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(
        description="Practitioner ids of who came: current members, at least one of each circle."
    )
    notes: str = Field("", max_length=5000, description="For the two circles' members only.")


class LinkDecisionIn(InSchema):
    closes_at: AwareDatetime = Field(description="When the circle's proposal closes.")


class LinkStatementIn(InSchema):
    statement: str = Field(..., max_length=5000, description="Public.")


class LinkWithdrawIn(InSchema):
    reason: str = Field(
        "", max_length=5000, description="Required. Only the two circles' members read it."
    )


class DecisionOut(Schema):
    link: LinkOut
    proposal_id: int
    proposal_title: str
    circle: str = Field(description="The validating circle, whose proposal it is.")


# --- elections --------------------------------------------------------------------------------

ElectionMethodName = Literal["consent", "stv", "irv", "approval"]
ElectionStatusName = Literal["nominating", "change", "consent", "voting", "closed", "cancelled"]


class ElectionSummaryOut(Schema):
    id: int
    role: str
    role_name: str
    circle: str | None = Field(description="The circle's slug, for a circle's election.")
    federation: str = Field(description="The federation's slug (a circle election's too).")
    method: ElectionMethodName = Field(
        description="stv: instant runoff when there is one seat; irv: instant runoff by its "
        "own name (one seat, counted as stv)."
    )
    status: ElectionStatusName
    seats: int
    secret: bool
    electorate: Literal["circle", "delegates", "federation"]
    nominations_close_at: datetime
    voting_closes_at: datetime
    term_starts_on: date
    term_ends_on: date
    closed_at: datetime | None


class NominationOut(Schema):
    id: int
    nominee: PersonOut
    nominated_by: PersonOut
    reason: str
    accepted: bool | None = Field(description="The nominee's answer; null until they answer.")
    is_current: bool = Field(description="False once changed in the change round (kept).")
    in_change_round: bool
    created_at: datetime


class ConsentOut(Schema):
    id: int
    voter: PersonOut
    candidate: PersonOut
    stance: Literal["consent", "object"]
    reason: str
    is_current: bool
    created_at: datetime


class RoundOut(Schema):
    number: int
    votes: dict[str, str] = Field(
        description="Candidate id → votes at this round (decimal text: transfers are fractional)."
    )
    action: Literal["elected", "excluded", "tie"]
    selected: list[int]
    reason: str = Field(
        description="quota, last_standing, fewest, fewest_tiebreak, most_approvals or tie."
    )
    explanation: str
    exhausted: str


class ResultOut(Schema):
    method: str = Field(description="irv, stv, approval or consent.")
    seats: int
    candidates: list[PersonOut]
    elected: list[PersonOut]
    complete: bool
    ballots: int
    quota: str | None
    tied: list[PersonOut]
    note: str
    rounds: list[RoundOut]
    approvals: dict[str, int] = Field(description="Approval: candidate id → approvals.")
    recount_matches: bool = Field(description="A recount from the stored ballots agrees.")
    mandate_ids: list[int]


class ElectionOut(ElectionSummaryOut):
    description: str
    handover_plan: str
    facilitator: PersonOut | None
    proposed: PersonOut | None = Field(description="Consent election: the proposed candidate.")
    nominations: list[NominationOut] = Field(
        description="Current and changed, oldest first: the first 40. All of them, a page at a "
        "time: GET /elections/{id}/nominations."
    )
    nominations_count: int = Field(description="How many nominations there are in all.")
    candidates: list[PersonOut] = Field(description="Nominees who accepted to stand.")
    electorate_size: int = Field(
        description="Who may vote now: GET /elections/{id}/people/electorate lists them."
    )
    i_am_elector: bool
    i_have_voted: bool
    voted: list[PersonOut] = Field(
        description="Who has voted (never what they chose), by name: the first 40. All of "
        "them, a page at a time: GET /elections/{id}/people/voted."
    )
    voted_count: int = Field(description="How many have voted.")
    consents: list[ConsentOut] = Field(
        description="Consent election: every answer, kept, oldest first: the first 40. All of "
        "them, a page at a time: GET /elections/{id}/consents."
    )
    consents_count: int = Field(description="How many answers there are in all.")
    result: ResultOut | None


ElectionPeopleName = Literal["electorate", "voted", "not-voted", "not-consented"]


class ElectionOpenIn(InSchema):
    role: str = Field(..., max_length=40, description="e.g. facilitator, coordinator.")
    seats: StrictInt = 1
    method: str | None = Field(
        None,
        max_length=40,
        description="consent, stv, irv (also “instant runoff”) or approval. Default: as agreed "
        "for the role.",
    )
    secret: bool | None = Field(default=None, description="Default: secret for ballot methods.")
    nominations_close_at: AwareDatetime
    voting_closes_at: AwareDatetime
    term_starts_on: date | None = Field(default=None, description="Default: the day voting closes.")
    term_ends_on: date | None = Field(
        default=None, description="Default: the longest term allowed."
    )
    handover_plan: str = Field("", max_length=5000)
    description: str = Field(
        "", max_length=5000, description="Markdown (CommonMark; raw HTML is not rendered)."
    )


class NominationIn(InSchema):
    nominee_id: StrictInt
    reason: str = Field(..., max_length=3000)


class AnswerIn(InSchema):
    accept: bool


class ProposeIn(InSchema):
    candidate_id: StrictInt


class ConsentIn(InSchema):
    stance: Literal["consent", "object"]
    reason: str = Field("", max_length=3000, description="Required for an objection.")


class ElectionBallotIn(InSchema):
    choices: list[StrictInt] = Field(
        ...,
        description="Ranked: candidate ids, first choice first, no repeats. Approval: the ids "
        "you approve.",
    )


class BallotCastOut(Schema):
    election_id: int
    voted: bool
    cast_at: datetime
    secret: bool


class CancelIn(InSchema):
    reason: str = Field(..., max_length=1000)


# --- gatherings ---
# Times go out as ISO 8601 in the gathering's own time zone (its offset shows), with
# `time_zone` beside them; a time sent without an offset is read in the gathering's time zone.

AnswerName = Literal["yes", "maybe", "no"]
MinutesStateName = Literal["none", "awaiting", "confirmed"]
AgendaKindName = Literal["topic", "proposal", "agreement", "link", "election", "ceremony"]
AgendaStateName = Literal["on", "suggested", "dismissed"]
ConfirmationName = Literal["confirmed", "correction"]

_WALL_TIME = (
    "ISO 8601. With an offset it is that instant; without one it is the time on the wall in "
    "the gathering's time zone (a time the clocks skip there is refused)."
)
_RRULE = (
    "How it repeats: an RFC 5545 RRULE body such as `FREQ=MONTHLY;BYDAY=+2WE` (DAILY, WEEKLY, "
    "MONTHLY or YEARLY; no time of day: that comes from `starts_at`; COUNT or UNTIL optional, "
    'a rule that never ends is allowed). "" for a gathering that happens once.'
)


class GatheringIn(InSchema):
    title: str = Field(..., min_length=1, max_length=200)
    details: str = Field("", max_length=5000, description="What it is for (simple formatting).")
    starts_at: datetime = Field(..., description="The first time it starts. " + _WALL_TIME)
    ends_at: datetime = Field(..., description="The first time it ends. " + _WALL_TIME)
    time_zone: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="Where the clock is: an IANA time zone such as Europe/London. "
        "Default: your own time zone.",
    )
    place: str = Field("", max_length=300, description="Shown only to those invited.")
    online_link: str = Field("", max_length=500, description="Shown only to those invited.")
    recurrence: str = Field("", max_length=300, description=_RRULE)


class GatheringPatch(InSchema):
    """What to change; what is left out stays as it is."""

    title: str | None = Field(None, min_length=1, max_length=200)
    details: str | None = Field(None, max_length=5000)
    starts_at: datetime | None = Field(None, description=_WALL_TIME)
    ends_at: datetime | None = Field(None, description=_WALL_TIME)
    time_zone: str | None = Field(None, min_length=1, max_length=64)
    place: str | None = Field(None, max_length=300)
    online_link: str | None = Field(None, max_length=500)
    recurrence: str | None = Field(None, max_length=300, description=_RRULE)


class GatheringCancelIn(InSchema):
    reason: str = Field("", max_length=300, description="Told to those invited.")


class OccurrenceMoveIn(InSchema):
    starts_at: datetime = Field(..., description=_WALL_TIME)
    ends_at: datetime = Field(..., description=_WALL_TIME)
    reason: str = Field("", max_length=300)


class GatheringMayOut(Schema):
    """What you may do with it (the rules, asked for you)."""

    arrange: bool = Field(description="Change it, move or cancel a meeting, order the agenda.")
    answer: bool
    add_agenda_item: bool
    take_minutes: bool


class GatheringSummaryOut(Schema):
    id: int
    title: str
    circle: str | None = Field(description="The circle's slug; null for a link or federation one.")
    link_id: int | None
    federation: str
    starts_at: datetime = Field(description="The first meeting's start, in `time_zone`.")
    ends_at: datetime
    time_zone: str
    recurrence: str = Field(description='The RRULE body, "" if it happens once.')
    repeats_text: str = Field(description='The pattern in words: "Every month on the 14th".')
    cancelled_at: datetime | None


class GatheringOut(GatheringSummaryOut):
    details: str
    place: str | None = Field(
        description="Null unless you are invited (or the gathering is open to the public)."
    )
    online_link: str | None = Field(description="Null unless you are invited.")
    is_public: bool
    planned_by: PersonOut
    sequence: int = Field(description="Its revision, as calendars see it.")
    invited: bool
    next_occurrence_id: int | None = Field(description="The next meeting not yet over.")
    may: GatheringMayOut


class OccurrenceSummaryOut(Schema):
    id: int
    gathering_id: int
    title: str
    circle: str | None
    starts_at: datetime = Field(description="In `time_zone`.")
    ends_at: datetime
    time_zone: str
    original_start: datetime = Field(description="When the pattern put it (before any move).")
    moved_at: datetime | None
    cancelled_at: datetime | None
    minutes_state: MinutesStateName | None = Field(description="Null unless you are invited.")


class AnswerCountsOut(Schema):
    yes: int
    maybe: int
    no: int
    not_answered: int = Field(description="Those invited now who have not answered.")
    attended: int = Field(description="Recorded as present.")


class AttendanceOut(Schema):
    person: PersonOut
    answer: Literal["yes", "maybe", "no", ""]
    attended: bool | None


class AgendaItemOut(Schema):
    id: int
    position: int
    title: str
    details: str
    minutes: int | None = Field(description="Its time box, in minutes.")
    kind: AgendaKindName
    state: AgendaStateName = Field(
        description="on: on the agenda; suggested: the platform suggests it (accept or dismiss); "
        "dismissed: set aside."
    )
    added_by: PersonOut | None = Field(description="Null when the platform suggested it.")
    reason: str = Field(description="Why the platform suggested it.")
    proposal_id: int | None
    agreement_id: int | None
    election_id: int | None
    link_id: int | None


class MinutesSummaryOut(Schema):
    state: MinutesStateName
    current_version: int | None
    confirm_by: datetime | None = Field(description="Silence counts as confirming after this.")
    confirmed_at: datetime | None


class OccurrenceMayOut(Schema):
    answer: bool
    add_agenda_item: bool
    arrange: bool
    take_minutes: bool
    confirm_minutes: bool = Field(
        description="You are invited; the confirmation also needs you "
        "to have been recorded as present."
    )


class OccurrenceOut(OccurrenceSummaryOut):
    """One meeting. Its place, link, answers, agenda and minutes only for those invited."""

    invited: bool
    cancel_reason: str | None
    place: str | None
    online_link: str | None
    my_answer: AnswerName | None
    i_attended: bool | None
    counts: AnswerCountsOut | None
    attendance: list[AttendanceOut] | None = Field(description="Who answered, by name.")
    agenda: list[AgendaItemOut] | None = Field(description="Items on it or suggested for it.")
    minutes: MinutesSummaryOut | None
    may: OccurrenceMayOut


class OccurrenceListIn(Schema):
    when: Literal["coming", "past"] = Field(
        "coming",
        description="coming: not yet over, soonest first; past: over, latest first. Only the "
        "next months of a repeating gathering exist as meetings.",
    )


class AttendanceIn(InSchema):
    answer: AnswerName = Field(description="Coming, maybe, or not coming.")


# A record's id as gatherings' inputs take it: past the database's range it is refused here (422),
# never sent to a query.
RecordId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]


class PresentIn(InSchema):
    present_ids: list[RecordId] = Field(
        ..., max_length=500, description="The practitioners who came (those invited)."
    )


class AgendaItemIn(InSchema):
    title: str = Field(..., min_length=1, max_length=200)
    details: str = Field("", max_length=2000)
    minutes: int | None = Field(None, ge=1, le=480, description="A time box, in minutes.")
    kind: Literal["topic", "proposal", "agreement", "link", "election"] = "topic"
    proposal_id: RecordId | None = Field(None, description="For kind proposal.")
    agreement_id: RecordId | None = Field(None, description="For kind agreement.")
    election_id: RecordId | None = Field(None, description="For kind election.")
    link_id: RecordId | None = Field(None, description="For kind link.")


class AgendaItemPatch(InSchema):
    """What to change; what is left out stays. `minutes`: null clears the time box."""

    title: str | None = Field(None, min_length=1, max_length=200)
    details: str | None = Field(None, max_length=2000)
    minutes: int | None = Field(None, ge=1, le=480)


class AgendaOrderIn(InSchema):
    item_ids: list[RecordId] = Field(
        ..., max_length=200, description="Every item on the agenda, in the new order."
    )


class MinutesIn(InSchema):
    text: str = Field(..., min_length=1, max_length=50_000)
    present_ids: list[RecordId] = Field(..., max_length=500, description="Who was there.")
    change_note: str = Field("", max_length=500, description="For a new version: what changed.")


class MinutesConfirmIn(InSchema):
    version: StrictInt = Field(..., ge=1, le=100_000, description="The version you read.")


class MinutesCorrectionIn(InSchema):
    version: StrictInt = Field(..., ge=1, le=100_000)
    correction: str = Field(..., min_length=1, max_length=5000, description="What should change.")


class MinutesVersionOut(Schema):
    number: int
    written_by: PersonOut
    written_at: datetime
    change_note: str


class MinutesConfirmationOut(Schema):
    person: PersonOut
    version: int
    answer: ConfirmationName
    correction: str
    answered_at: datetime


class MinutesOut(Schema):
    occurrence_id: int
    state: MinutesStateName
    confirm_by: datetime | None
    confirmed_at: datetime | None
    text: str | None = Field(description="The current version's text; null before any.")
    current_version: int | None
    versions: list[MinutesVersionOut] = Field(description="Every version, the first first.")
    present: list[PersonOut] = Field(description="Recorded as present: those who confirm.")
    confirmations: list[MinutesConfirmationOut]
    may_write: bool
    may_confirm: bool


class CalendarFeedIn(InSchema):
    circle: str | None = Field(
        None, max_length=100, description="A circle's slug for its feed; leave out for yours."
    )


class CalendarFeedOut(Schema):
    id: int
    circle: str | None = Field(description="Null for your personal feed.")
    address: str = Field(description="The secret address to subscribe to: keep it to yourself.")
    created_at: datetime
    last_read_at: datetime | None
    revoked_at: datetime | None


# --- end gatherings ---

# --- federation gatherings ---
# Times as in the gatherings section above: out in the gathering's own time zone (its offset
# shows); a time sent without an offset is read in the gathering's time zone.

SessionStateName = Literal["offered", "accepted", "declined"]


class FederationGatheringOut(Schema):
    id: int
    title: str
    federation: str
    host_circle: str | None = Field(
        description="The hosting circle's slug; null where you may not see that circle."
    )
    details: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    is_public: bool = Field(description="Anyone may see it and register (on its pages).")
    cancelled: bool
    place: str | None = Field(
        description="For the federation's members, and anyone if it is open to the public."
    )
    online_link: str | None = Field(description="For the federation's members only (else null).")


class FederationGatheringIn(InSchema):
    title: str = Field(..., min_length=1, max_length=200)
    details: str = Field("", max_length=5000, description="What it is for (simple formatting).")
    starts_at: datetime = Field(..., description="When it starts. " + _WALL_TIME)
    ends_at: datetime = Field(..., description="When it ends (at most a week on). " + _WALL_TIME)
    time_zone: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="An IANA time zone such as Europe/London. Default: your own time zone.",
    )
    place: str = Field("", max_length=300, description="Shown to the federation's members only.")
    online_link: str = Field(
        "", max_length=500, description="Shown to the federation's members only."
    )
    host_circle: str = Field(
        ..., min_length=1, max_length=200, description="The slug of your circle that hosts it."
    )
    is_public: bool = False


class ProgrammeSessionOut(Schema):
    id: int
    title: str
    description: str
    minutes: int
    state: SessionStateName
    starts_at: datetime | None = Field(description="Set once it is in the programme.")
    room: str
    offered_by_me: bool


class CircleSignupOut(Schema):
    circle: str | None = Field(description="The circle's slug; null where you may not see it.")
    circle_name: str
    attendees: list[PersonOut]
    note: str | None = Field(description="For those who arrange it and the circle's members.")


class ProgrammeMayOut(Schema):
    offer: bool = Field(description="Offer a session.")
    arrange: bool = Field(description="Decide on offered sessions; see who registered.")
    sign_up: list[str] = Field(
        description="The slugs of your circles that may say they are coming."
    )


class ProgrammeOut(Schema):
    gathering: FederationGatheringOut
    programme: list[ProgrammeSessionOut] = Field(description="Accepted sessions, by time.")
    offered: list[ProgrammeSessionOut] | None = Field(
        description="Sessions offered or declined: for those who arrange it (else null)."
    )
    mine: list[ProgrammeSessionOut] | None = Field(
        description="Sessions you offered (null for the public)."
    )
    signups: list[CircleSignupOut] | None = Field(
        description="The circles coming and who: for the federation's members (else null)."
    )
    registrations: int | None = Field(
        description="How many of the public registered: for those who arrange a public one."
    )
    may: ProgrammeMayOut


class CircleSignupIn(InSchema):
    attendee_ids: list[RecordId] = Field(
        ..., description="Who from the circle is coming: its current members' ids."
    )
    note: str = Field("", max_length=500, description="A note for the organisers.")


class SessionOfferIn(InSchema):
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=3000)
    minutes: StrictInt = Field(60, ge=10, le=480, description="How long, 10 to 480 minutes.")


class SessionDecisionIn(InSchema):
    accept: bool
    starts_at: datetime | None = Field(
        None,
        description="Required to accept: it must start and end while the gathering is on. "
        + _WALL_TIME,
    )
    room: str = Field("", max_length=100)


# --- end federation gatherings ---
