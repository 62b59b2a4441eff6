"""The demo's mandates (../shared/DEMO.md), granted through the real service.

Founding mandates: no election made them, so they are granted directly, as the circles and the
federation recorded them when mandates began. Later terms come from elections.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle
from circlework.core.dates import add_months
from circlework.mandates.models import Mandate
from circlework.mandates.services import federation_notice_send, mandate_grant

LEEDS, YORK, SHEFFIELD = "Leeds Wednesday Circle", "York Riverside Group", "Sheffield Peer Circle"

COORDINATOR_HANDOVER = """I am not standing again. Before my term ends:

1. The federation's calendar, contacts and open questions move from my notes into Circlework,
   where any member can read them.
2. I meet the next coordinator twice: once to walk through the open federation proposals, once
   after their first month.
3. Sending notices goes to the registrar as well as the coordinator, so the role needs less of
   one person. At the next review we ask whether the federation still needs a coordinator at all."""

REGISTRAR_HANDOVER = """The register is kept from the circles' own pages, so most of this role is
answering the public's questions. Answers to common questions go into the help pages, so the
next registrar inherits a shorter list."""

DELEGATE_HANDOVER = (
    "The circle forms its positions in its own proposals; the delegate only carries them. "
    "Whoever holds this next reads the circle's proposals on federation questions first."
)


NOTICES = (
    (
        "esther",
        "The public register is up to date",
        "Every circle's page now shows its members' credentials and its latest audit cycle. "
        "If something about your own entry is wrong, change it on your profile: the register "
        "reads it from there.",
    ),
    (
        "dev",
        "Spring gathering in York",
        "The federation meets in **York** on the first Saturday of April, 10:00 to 16:00.\n\n"
        "- Each circle brings its delegate and anyone else who wants to come.\n"
        "- We will hear the coordinator's handover plan and elect the next coordinator.\n\n"
        "Tell me by the end of February if your circle needs help with travel.",
    ),
)


def seed_delegates(people: dict[str, Practitioner], circles: dict[str, Circle]) -> None:
    """Each validated circle's delegate to the federation, four months into a one-year term."""
    start = timezone.localdate() - timedelta(days=120)
    for circle_name, key in ((LEEDS, "ruth"), (YORK, "sam"), (SHEFFIELD, "kwame")):
        mandate_grant(
            role="delegate",
            holder=people[key],
            circle=circles[circle_name],
            starts_on=start,
            ends_on=add_months(start, 12),
            handover_plan=DELEGATE_HANDOVER,
        )


def seed(people: dict[str, Practitioner], circles: dict[str, Circle]) -> None:
    """Federation officers: a coordinator whose term ends in five weeks (handover plan written),
    the coordinator before them, and a registrar."""
    federation = circles[LEEDS].federation
    today = timezone.localdate()
    ends = today + timedelta(weeks=5)
    starts = add_months(ends, -12)
    before = add_months(starts, -12)
    past = mandate_grant(
        role="coordinator",
        holder=people["niamh"],
        federation=federation,
        starts_on=before,
        ends_on=starts,
        handover_plan="Hand the federation's notes to the next coordinator; stand down after one term.",
    )
    # The past term's notices went out at the time.
    Mandate.objects.filter(pk=past.pk).update(
        review_notified_on=past.review_on, end_warned_on=past.ends_on, end_notified_on=past.ends_on
    )
    coordinator = mandate_grant(
        role="coordinator",
        holder=people["dev"],
        federation=federation,
        starts_on=starts,
        ends_on=ends,
        handover_plan=COORDINATOR_HANDOVER,
    )
    Mandate.objects.filter(pk=coordinator.pk).update(review_notified_on=coordinator.review_on)
    registrar_start = today - timedelta(days=60)
    mandate_grant(
        role="registrar",
        holder=people["esther"],
        federation=federation,
        starts_on=registrar_start,
        ends_on=add_months(registrar_start, 12),
        handover_plan=REGISTRAR_HANDOVER,
    )
    # Notices the officers sent to every member (the federation's notices page lists them).
    for who, title, text in NOTICES:
        federation_notice_send(actor=people[who], federation=federation, title=title, text=text)
