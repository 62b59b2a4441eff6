"""The demo's gatherings (../shared/DEMO.md), built through the real services.

- Leeds meets monthly, on the second Wednesday at 7 pm (a repeating gathering). Last month's
  minutes were written by Tom, corrected after Amira asked, and wait for Ruth's confirmation;
  the next meeting's agenda holds the open proposal on competence criteria and an agreement due
  for review.
- York, Sheffield and Manchester each have their next meeting with an agenda. Manchester's
  newest member, Fatima, is welcomed with the circle's welcome ceremony at its next meeting.
- Leeds and Sheffield meet about renewing their link.
- The federation's spring gathering, hosted by Leeds and open to the public, has a programme:
  sessions offered and accepted, York and Sheffield signed up, and one registration from the
  public.
- Ruth follows her gatherings from her own calendar app (a calendar address) and is reminded a
  day and an hour before each meeting.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.agreements.ceremonies import ceremony_parameters
from circlework.agreements.models import Agreement, AgreementKind
from circlework.circles.models import Circle
from circlework.circles.selectors import current_members
from circlework.core import names
from circlework.decisions.models import Proposal, ProposalStatus
from circlework.demo.decisions import adopt
from circlework.gatherings import recurrence
from circlework.gatherings.models import Occurrence
from circlework.gatherings.services import calendars, federation, meeting, planning
from circlework.links.models import CircleLink
from circlework.notifications.models import ReminderLead
from circlework.notifications.services import notification_preferences_set

LEEDS, YORK = "Leeds Wednesday Circle", "York Riverside Group"
SHEFFIELD, MANCHESTER = "Sheffield Peer Circle", "Manchester Forming Circle"
LONDON = "Europe/London"

LEEDS_MINUTES = """**Present:** everyone but Helen, who sent her apologies.

1. **Check-in.** A round on how our practices are.
2. **Peer review audit.** We are half-way through the year: each of us will bring one piece of
   evidence against our competence criteria to the spring audit day.
3. **Competence criteria.** Dev will open a proposal to revise them, so we can decide by
   consent before the audit day.
4. **Closing round.**
"""
LEEDS_CORRECTION = "Helen sent her apologies, but so did Dev: he joined for the second half only."
LEEDS_MINUTES_V2 = LEEDS_MINUTES.replace(
    "**Present:** everyone but Helen, who sent her apologies.",
    "**Present:** everyone but Helen, who sent her apologies; Dev joined for the second half.",
)

WELCOME_TEXT = """We open with a round in which each of us says what the circle has meant to
them. The newcomer says what brought them and what they hope for. The convener reads our
covenant aloud, and we close with a round of welcome."""
WELCOME_ROLES = "Convener: opens the round and reads the covenant\nNewcomer: says what brought them"


def _local(days: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in London, `days` from today (naive: the services place it)."""
    day = timezone.localdate() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute)  # noqa: DTZ001 - local wall clock


def _next_weekday(weekday: int, *, after_days: int = 3) -> int:
    """Days from today to the next `weekday` (Monday 0) at least `after_days` away."""
    today = timezone.localdate()
    days = after_days
    while (today + timedelta(days=days)).weekday() != weekday:
        days += 1
    return days


def _plan_once(
    actor: Practitioner,
    circle: Circle,
    title: str,
    start: datetime,
    hours: float,
    *,
    place: str = "",
    details: str = "",
    online_link: str = "",
) -> Occurrence:
    gathering = planning.gathering_plan(
        actor=actor,
        circle=circle,
        title=title,
        details=details,
        place=place,
        online_link=online_link,
        when=planning.When(start, start + timedelta(hours=hours), LONDON),
    )
    return gathering.occurrences.get()


def _leeds(people: dict[str, Practitioner], leeds: Circle) -> None:
    # First met on the second Wednesday five months ago; the rule finds the days since.
    first_day = timezone.localdate() - timedelta(days=150)
    first = datetime(first_day.year, first_day.month, 1, 19)  # noqa: DTZ001 - local wall clock
    start = _second_wednesday(first)
    rule = recurrence.rule_for(
        recurrence.Repeat("monthly_weekday"), start.replace(tzinfo=zoneinfo.ZoneInfo(LONDON))
    )
    gathering = planning.gathering_plan(
        actor=people["ruth"],
        circle=leeds,
        title="Monthly circle meeting",
        details="Check-in, the work we bring for peer supervision, the circle's business, and "
        "a closing round.",
        place="Quaker Meeting House, Carlton Hill, Leeds (the small room)",
        online_link="https://meet.example.org/leeds-wednesday",
        when=planning.When(start, start + timedelta(hours=2, minutes=30), LONDON, rule),
    )
    now = timezone.now()
    last = gathering.occurrences.filter(starts_at__lt=now).order_by("-starts_at").first()
    if last is None:  # planned after the fact: the row for last month's meeting
        planning.sync_occurrences(gathering, now=now - timedelta(days=40))
        last = gathering.occurrences.filter(starts_at__lt=now).order_by("-starts_at").first()
    assert last is not None
    present = [people[k] for k in ("ruth", "tom", "amira", "dev")]
    meeting.minutes_write(
        actor=people["tom"],
        occurrence=last,
        text=LEEDS_MINUTES,
        present_ids=[p.pk for p in present],
    )
    meeting.minutes_ask_correction(
        actor=people["amira"], occurrence=last, version=1, correction=LEEDS_CORRECTION
    )
    meeting.minutes_write(
        actor=people["tom"],
        occurrence=last,
        text=LEEDS_MINUTES_V2,
        present_ids=[p.pk for p in present],
        change_note="Dev joined for the second half (Amira's correction).",
    )
    for key in ("amira", "dev"):
        meeting.minutes_confirm(actor=people[key], occurrence=last, version=2)
    # Ruth's confirmation is what the demo leaves waiting.

    coming = gathering.occurrences.filter(starts_at__gte=now).order_by("starts_at").first()
    assert coming is not None
    for key, answer in (("ruth", "yes"), ("tom", "yes"), ("amira", "maybe"), ("helen", "no")):
        meeting.attendance_answer(actor=people[key], occurrence=coming, answer=answer)
    meeting.agenda_item_add(
        actor=people["ruth"], occurrence=coming, title="Check-in round", minutes=20
    )
    criteria = Proposal.objects.filter(circle=leeds, status=ProposalStatus.OPEN).first()
    if criteria is not None:
        meeting.agenda_item_add(
            actor=people["dev"],
            occurrence=coming,
            title="Revising our competence criteria",
            details="One voice is still missing; let us hear it before the closing time.",
            minutes=40,
            kind="proposal",
            proposal=criteria,
        )
    due = (
        Agreement.objects.filter(circle=leeds, current_version__isnull=False)
        .exclude(kind=AgreementKind.ETHICS)
        .order_by("review_due")
        .first()
    )
    if due is not None:
        meeting.agenda_item_add(
            actor=people["amira"],
            occurrence=coming,
            title=f"Review: {due.title}",
            minutes=20,
            kind="agreement",
            agreement=due,
        )
    meeting.agenda_item_add(
        actor=people["tom"],
        occurrence=coming,
        title="Preparing the spring audit day",
        minutes=30,
    )


def _second_wednesday(month_start: datetime) -> datetime:
    day = month_start.replace(day=1)
    while day.weekday() != 2:
        day += timedelta(days=1)
    return day + timedelta(days=7)


def _others(people: dict[str, Practitioner], circles: dict[str, Circle]) -> Occurrence:
    york = _plan_once(
        people["sam"],
        circles[YORK],
        "Inquiry reflection session",
        _local(_next_weekday(0), 14),
        3,
        place="St Olave's church hall, York",
        details="The third cycle of our inquiry: what did we notice about shame in first "
        "sessions since we last met?",
    )
    for key, title, minutes in (
        ("sam", "Opening round", 15),
        ("maria", "Reflections on the third cycle", 90),
        ("ben", "The devil's advocate's challenge", 30),
        ("lucy", "Planning the next cycle", 30),
    ):
        meeting.agenda_item_add(actor=people[key], occurrence=york, title=title, minutes=minutes)
    sheffield = _plan_once(
        people["kwame"],
        circles[SHEFFIELD],
        "Saturday peer circle",
        _local(_next_weekday(5), 10),
        2.5,
        place="Kwame's consulting room, Sharrow Vale Road",
    )
    for key, title, minutes in (
        ("kwame", "Check-in", 15),
        ("niamh", "Peer supervision: two pieces of work", 75),
        ("paul", "Our conflict procedure: a year on", 30),
    ):
        meeting.agenda_item_add(
            actor=people[key], occurrence=sheffield, title=title, minutes=minutes
        )
    manchester = _plan_once(
        people["olu"],
        circles[MANCHESTER],
        "Fortnightly meeting",
        _local(_next_weekday(3), 19),
        2,
        online_link="https://meet.example.org/manchester-forming",
    )
    meeting.agenda_item_add(
        actor=people["grace"],
        occurrence=manchester,
        title="Our ethical statement: the last comments",
        minutes=40,
    )
    return manchester


def _welcome(people: dict[str, Practitioner], manchester: Circle, coming: Occurrence) -> None:
    """Manchester's welcome ceremony, adopted by the circle, suggested for its newest member at
    the next meeting and taken onto the agenda."""
    members = list(current_members(circle=manchester))
    ceremony = adopt(
        people["olu"],
        manchester,
        members,
        title="Welcoming a new member",
        kind=AgreementKind.CEREMONY,
        text=WELCOME_TEXT,
        days_ago=100,
        parameters=ceremony_parameters("welcome", WELCOME_ROLES),
    )
    item = meeting.agenda_suggest(
        occurrence=coming,
        title=ceremony.title,
        kind="ceremony",
        reason=_welcome_reason(people["fatima"]),
        suggestion_key=f"demo-welcome:{people['fatima'].pk}",
        agreement=ceremony,
    )
    if item is not None:
        meeting.agenda_suggestion_accept(actor=people["olu"], item=item)


def _welcome_reason(newcomer: Practitioner) -> str:
    return names.text("%(p)s joined the circle", p=names.person(newcomer))


def _link_meeting(people: dict[str, Practitioner], circles: dict[str, Circle]) -> None:
    link = (
        CircleLink.objects.filter(
            asking_circle=circles[LEEDS], validating_circle=circles[SHEFFIELD]
        )
        .order_by("-pk")
        .first()
    )
    if link is None:
        return
    start = _local(_next_weekday(1, after_days=9), 18, 30)
    planning.gathering_plan(
        actor=people["ruth"],
        link=link,
        title="Renewing our link: Leeds and Sheffield",
        details="Sheffield's validation of Leeds comes up for renewal: we meet to talk it "
        "through before Sheffield decides.",
        online_link="https://meet.example.org/leeds-sheffield",
        when=planning.When(start, start + timedelta(hours=1, minutes=30), LONDON),
    )


def _spring_gathering(people: dict[str, Practitioner], circles: dict[str, Circle]) -> None:
    leeds = circles[LEEDS]
    day = timezone.localdate() + timedelta(days=110)
    start = datetime(day.year, day.month, day.day, 10)  # noqa: DTZ001 - local wall clock
    gathering = planning.gathering_plan(
        actor=people["ruth"],
        federation=leeds.federation,
        host_circle=leeds,
        title="Spring gathering of the Northern Practitioners Network",
        details="A day of dialogue, exchange and conference among our circles, and anyone "
        "interested in peer review and self-generating practitioner communities.",
        place="Friends Meeting House, Mount Street, Manchester",
        is_public=True,
        when=planning.When(start, start + timedelta(hours=7), LONDON),
    )
    for circle_name, key, attendees in (
        (YORK, "sam", ("sam", "maria", "lucy")),
        (SHEFFIELD, "kwame", ("kwame", "esther")),
        (LEEDS, "ruth", ("ruth", "tom", "amira")),
    ):
        federation.circle_signup(
            actor=people[key],
            gathering=gathering,
            circle=circles[circle_name],
            attendee_ids=[people[k].pk for k in attendees],
        )
    offered = [
        ("maria", "Shame in first sessions: what our inquiry found", 60, True),
        ("kwame", "A conflict procedure that gets used", 45, True),
        ("amira", "Peer review audit without a committee", 60, True),
        ("jo", "Ending well: closing rounds and farewells", 45, False),
    ]
    hour = 11
    for key, title, minutes, accept in offered:
        session = federation.session_offer(
            actor=people[key], gathering=gathering, title=title, minutes=minutes
        )
        if accept:
            federation.session_decide(
                actor=people["ruth"],
                session=session,
                accept=True,
                starts_at=gathering.starts_at + timedelta(hours=hour - 10),
                room="The large meeting room",
            )
            hour += 1 if minutes <= 60 else 2
    federation.public_register(
        gathering=gathering, name="Alex Morgan", email="alex.morgan@example.org"
    )


def _calendars(people: dict[str, Practitioner]) -> None:
    """Ruth follows her gatherings in her own calendar and wants both reminders; Tom wants an
    hour's notice only."""
    calendars.feed_create(actor=people["ruth"])
    notification_preferences_set(actor=people["ruth"], choices={}, reminders=ReminderLead.BOTH)
    notification_preferences_set(actor=people["tom"], choices={}, reminders=ReminderLead.HOUR)


def seed(people: dict[str, Practitioner], circles: dict[str, Circle]) -> None:
    _calendars(people)
    _leeds(people, circles[LEEDS])
    manchester_next = _others(people, circles)
    _welcome(people, circles[MANCHESTER], manchester_next)
    _link_meeting(people, circles)
    _spring_gathering(people, circles)
