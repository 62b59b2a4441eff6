"""Gatherings' deadlines without cron. Each part keeps its own block below."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from circlework.core import deadlines
from circlework.core.scheduling import recurring

# The use cases are read at call time (a module import), as polls/tasks.py does.
from circlework.gatherings.models import Occurrence
from circlework.gatherings.services import calendars, ceremonies, federation, meeting, planning

# --- at the meeting: minutes confirmed by silence ---


def _settle(pk: int) -> bool:
    occurrence = Occurrence.objects.filter(pk=pk).first()
    return occurrence is not None and meeting.minutes_settle(occurrence=occurrence)


@recurring(every=timedelta(hours=1))
@task()
def sweep_minutes_to_settle() -> int:
    """Minutes past their time to answer, with no correction asked, are confirmed by silence."""
    return deadlines.sweep(meeting.minutes_due().values_list("pk", flat=True), _settle)


# --- end at the meeting ---


# --- ceremony: key moments suggest their ceremony ---


@recurring(every=timedelta(minutes=15))
@task()
def sweep_ceremony_suggestions() -> int:
    """Suggest a ceremony at each circle's next meeting for its recent key moments (a member
    joined or left, a mandate ended, a link was made). Idempotent: each moment once."""
    return ceremonies.suggest_ceremonies()


# --- end ceremony ---


# --- calendars: reminders before each meeting ---


def _remind(pk: int) -> bool:
    return calendars.occurrence_remind(pk) > 0


@recurring(every=timedelta(minutes=5))
@task()
def sweep_gathering_reminders() -> int:
    """Remind those invited a day and an hour before each meeting, as each chose. Idempotent:
    the occurrence row notes each reminder sent, under a lock."""
    return deadlines.sweep(calendars.reminders_due(), _remind)


# --- end calendars ---


# --- federation: the public's registrations are not kept for ever ---


@recurring(every=timedelta(days=1))
@task()
def forget_public_registrations() -> int:
    """A month after a public gathering, its registrations no longer name anyone."""
    return federation.registrations_forget()


# --- end federation ---


# --- planning: repeating gatherings keep their coming meetings made ahead ---


@recurring(every=timedelta(hours=6))
@task()
def keep_occurrences_ahead() -> int:
    """Each repeating gathering still going has its next meetings as rows (answers, agenda,
    reminders and calendars hang on them): made as the months go by."""
    return planning.occurrences_keep_ahead()


# --- end planning ---
