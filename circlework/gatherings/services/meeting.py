"""At the meeting: who is coming and who came, the agenda, and the minutes those present
confirm. Atomic, checked, audited; those concerned are told.

- Attendance: each invitee answers coming / maybe / not coming until the meeting ends; after it
  has started, whoever may take the minutes records who came (with the minutes, or on its own).
- Agenda: those invited add items until the circle's cut-off (`agenda_cutoff_hours` of its
  procedure, 24 hours before the start by default); those who arrange the meeting may add after
  it, order the items, and take or set aside what the platform suggests (`agenda_suggest`).
- Minutes: written once the meeting has started; a correction is a new version with a note of
  what changed. Those present confirm the current version or ask for a correction; when all have
  confirmed, or when `minutes_confirm_days` (14 by default) have passed with no correction asked
  of the current version, the minutes are confirmed (`minutes_rule`, `minutes_settle`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.agreements.models import Agreement, AgreementKind
from circlework.agreements.parameters import current_parameters
from circlework.circles.selectors import current_members
from circlework.core import audit, deadlines, names
from circlework.core.errors import Conflict, InvalidInput, NotAllowed, StaleEdit
from circlework.core.http import MAX_ID
from circlework.core.permissions import allowed, require
from circlework.core.services import validate
from circlework.decisions.models import Proposal
from circlework.elections.models import Election
from circlework.gatherings import minutes_rule
from circlework.gatherings.models import (
    AgendaItem,
    AgendaKind,
    AgendaState,
    Answer,
    Attendance,
    ConfirmationAnswer,
    Gathering,
    MinutesConfirmation,
    MinutesState,
    MinutesVersion,
    Occurrence,
)
from circlework.gatherings.rules import circle_ids_of
from circlework.gatherings.selectors import invitees
from circlework.links.models import CircleLink
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import notify_many

DEFAULT_AGENDA_CUTOFF_HOURS = 24
DEFAULT_MINUTES_CONFIRM_DAYS = 14


# --- shared ---


def _field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, fields={field: [message]})


def _owner(gathering: Gathering) -> dict[str, Any]:
    """The audit event's circle, or the federation for link and federation gatherings."""
    if gathering.circle_id is not None:
        return {"circle": gathering.circle}
    return {"federation": gathering.federation}


def _notice_owner(gathering: Gathering) -> dict[str, Any]:
    if gathering.circle_id is not None:
        return {"circle": gathering.circle}
    return {"federation": gathering.federation}


def _lock(occurrence: Occurrence) -> Occurrence:
    """The occurrence read again under a lock, with what the rules and audit read."""
    return deadlines.lock(
        Occurrence,
        occurrence.pk,
        "gathering",
        "gathering__circle",
        "gathering__circle__federation",
        "gathering__link",
        "gathering__federation",
        "gathering__host_circle",
    )


def procedure(gathering: Gathering) -> dict[str, Any]:
    """The procedure parameters of the circle whose meeting it is (the host circle of a
    federation gathering); empty for a link meeting or a circle with no procedure."""
    circle = gathering.circle or gathering.host_circle
    if circle is None:
        return {}
    return current_parameters(circle, AgreementKind.PROCEDURE) or {}


def _number(params: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return max(low, min(int(value), high))


def agenda_cutoff(occurrence: Occurrence) -> datetime:
    """Until when those invited add items (arrangers may add after)."""
    hours = _number(
        procedure(occurrence.gathering),
        "agenda_cutoff_hours",
        DEFAULT_AGENDA_CUTOFF_HOURS,
        0,
        24 * 30,
    )
    return occurrence.starts_at - timedelta(hours=hours)


def confirm_days(gathering: Gathering) -> int:
    return _number(
        procedure(gathering), "minutes_confirm_days", DEFAULT_MINUTES_CONFIRM_DAYS, 1, 90
    )


def _not_cancelled(occurrence: Occurrence) -> None:
    if occurrence.cancelled_at is not None or occurrence.gathering.cancelled_at is not None:
        raise Conflict(_("This meeting was cancelled."))


def _started(occurrence: Occurrence, now: datetime) -> None:
    if occurrence.starts_at > now:
        raise Conflict(_("The meeting has not started yet: minutes and who came come after."))


def _arrangers(gathering: Gathering) -> QuerySet[Practitioner]:
    """Those who arrange a gathering (rules.may_arrange): everyone invited to a circle's or a
    link's meeting; a federation gathering's planner and the members of its host circle."""
    if not gathering.is_federation_gathering:
        return invitees(gathering)
    ids: set[int] = set()
    if gathering.host_circle_id is not None:
        assert gathering.host_circle is not None
        ids |= set(current_members(circle=gathering.host_circle).values_list("pk", flat=True))
    if gathering.planned_by_id is not None:
        ids.add(gathering.planned_by_id)
    return Practitioner.objects.filter(pk__in=ids).order_by("display_name", "pk")


# --- attendance ---


@transaction.atomic
def attendance_answer(*, actor: Practitioner, occurrence: Occurrence, answer: str) -> Attendance:
    """An invitee says whether they are coming (again, as often as they like, until the end)."""
    require("gatherings.answer", actor, occurrence.gathering)
    locked = _lock(occurrence)
    gathering = locked.gathering
    _not_cancelled(locked)
    if deadlines.is_past(locked.ends_at):
        raise Conflict(_("This meeting has ended: answers are closed."))
    if answer not in Answer.values:
        raise _field_error("answer", _("Say whether you are coming, maybe or not coming."))
    row, _made = Attendance.objects.get_or_create(occurrence=locked, practitioner=actor)
    if row.answer != answer:
        row.answer = answer
        row.save(update_fields=["answer", "updated_at"])
    audit.record(
        actor=actor,
        verb="gathering.answered",
        target=gathering,
        summary=names.text(_("%(a)s answered whether they are coming"), a=names.person(actor)),
        data={"occurrence": locked.pk, "answer": answer},
        **_owner(gathering),
    )
    return row


def _present_checked(occurrence: Occurrence, present_ids: Collection[int]) -> set[int]:
    """The ids, checked: each must be invited (or already have an answer recorded)."""
    try:
        ids = {int(pk) for pk in present_ids}
    except (TypeError, ValueError) as exc:
        raise _field_error("present", _("Choose who came from the list.")) from exc
    # An id no record can have (past the database's range) is refused before any query.
    if any(not 1 <= pk <= MAX_ID for pk in ids):
        raise _field_error("present", _("Choose who came from the list."))
    known = set(invitees(occurrence.gathering).filter(pk__in=ids).values_list("pk", flat=True))
    known |= set(
        Attendance.objects.filter(occurrence=occurrence, practitioner_id__in=ids).values_list(
            "practitioner_id", flat=True
        )
    )
    if ids - known:
        raise _field_error("present", _("Only those invited to the meeting can be recorded."))
    return ids


def _record_present(occurrence: Occurrence, ids: set[int]) -> list[Attendance]:
    rows = list(Attendance.objects.select_for_update(no_key=True).filter(occurrence=occurrence))
    have = {row.practitioner_id for row in rows}
    changed = []
    for row in rows:
        came = row.practitioner_id in ids
        if row.attended is not came:
            row.attended = came
            changed.append(row)
    Attendance.objects.bulk_update(changed, ["attended"])
    Attendance.objects.bulk_create(
        [
            Attendance(occurrence=occurrence, practitioner_id=pk, attended=True)
            for pk in sorted(ids - have)
        ]
    )
    return list(Attendance.objects.filter(occurrence=occurrence, attended=True).order_by("pk"))


@transaction.atomic
def attendance_record(
    *, actor: Practitioner, occurrence: Occurrence, present_ids: Collection[int]
) -> list[Attendance]:
    """Record who came (whoever may take the minutes, once the meeting has started)."""
    require("gatherings.take_minutes", actor, occurrence.gathering)
    locked = _lock(occurrence)
    gathering = locked.gathering
    _not_cancelled(locked)
    _started(locked, timezone.now())
    if MinutesVersion.objects.filter(occurrence=locked).exists():
        # The minutes say who came and those present confirm them: changing it on its own
        # would change what they confirmed without a new version for them to see.
        raise Conflict(_("Who came is set with the minutes: write a corrected version."))
    ids = _present_checked(locked, present_ids)
    present = _record_present(locked, ids)
    audit.record(
        actor=actor,
        verb="gathering.attendance_recorded",
        target=gathering,
        summary=names.text(_("%(a)s recorded who came"), a=names.person(actor)),
        data={"occurrence": locked.pk, "present": len(present)},
        **_owner(gathering),
    )
    return present


# --- agenda ---


def _linked(
    actor: Practitioner,
    gathering: Gathering,
    *,
    proposal: Proposal | None,
    agreement: Agreement | None,
    election: Election | None,
    link: CircleLink | None,
) -> None:
    """A linked record must be of the gathering's own circle(s) and visible to the actor."""
    circles = set(circle_ids_of(gathering))
    if gathering.is_federation_gathering and gathering.host_circle_id is not None:
        circles.add(gathering.host_circle_id)
    user = actor.user
    if proposal is not None and not (
        proposal.circle_id in circles and allowed("decisions.view_proposal", user, proposal)
    ):
        raise _field_error("proposal", _("Choose one of this circle's proposals."))
    if agreement is not None and not (
        agreement.circle_id in circles and allowed("agreements.view_agreement", user, agreement)
    ):
        raise _field_error("agreement", _("Choose one of this circle's agreements."))
    if election is not None:
        ours = election.circle_id in circles or (
            election.circle_id is None
            and gathering.is_federation_gathering
            and election.federation_id == gathering.federation_id
        )
        if not (ours and allowed("elections.view_election", user, election)):
            raise _field_error("election", _("Choose one of this circle's nomination rounds."))
    if link is not None:
        ours = link.pk == gathering.link_id or bool(
            {link.asking_circle_id, link.validating_circle_id} & set(circle_ids_of(gathering))
        )
        if not (ours and allowed("links.view_link", user, link)):
            raise _field_error("link", _("Choose one of this circle's links."))


def _kind_for(
    kind: str,
    *,
    proposal: Any,
    agreement: Any,
    election: Any,
    link: Any,
) -> str:
    if kind not in AgendaKind.values:
        raise _field_error("kind", _("Choose what kind of item it is."))
    if kind != AgendaKind.TOPIC:
        return kind
    for record, linked_kind in (
        (proposal, AgendaKind.PROPOSAL),
        (agreement, AgendaKind.AGREEMENT),
        (election, AgendaKind.ELECTION),
        (link, AgendaKind.LINK),
    ):
        if record is not None:
            return str(linked_kind)
    return kind


def _next_position(occurrence: Occurrence) -> int:
    top = AgendaItem.objects.filter(occurrence=occurrence).aggregate(m=Max("position"))["m"]
    return 0 if top is None else top + 1


@transaction.atomic
def agenda_item_add(
    *,
    actor: Practitioner,
    occurrence: Occurrence,
    title: str,
    details: str = "",
    minutes: int | None = None,
    kind: str = "topic",
    proposal: Proposal | None = None,
    agreement: Agreement | None = None,
    election: Election | None = None,
    link: CircleLink | None = None,
) -> AgendaItem:
    """Put an item on the meeting's agenda (until the cut-off; arrangers until the end)."""
    require("gatherings.add_agenda_item", actor, occurrence.gathering)
    locked = _lock(occurrence)
    gathering = locked.gathering
    _not_cancelled(locked)
    if deadlines.is_past(locked.ends_at):
        raise Conflict(_("This meeting has ended: its agenda is closed."))
    if deadlines.is_past(agenda_cutoff(locked)) and not allowed(
        "gatherings.arrange", actor.user, gathering
    ):
        raise Conflict(
            _("Items could be added until the cut-off; ask those arranging the meeting.")
        )
    _linked(actor, gathering, proposal=proposal, agreement=agreement, election=election, link=link)
    item = AgendaItem(
        occurrence=locked,
        position=_next_position(locked),
        title=title.strip(),
        details=details.strip(),
        minutes=minutes,
        kind=_kind_for(kind, proposal=proposal, agreement=agreement, election=election, link=link),
        state=AgendaState.ON,
        added_by=actor,
        proposal=proposal,
        agreement=agreement,
        election=election,
        link=link,
    )
    validate(item)
    item.save()
    audit.record(
        actor=actor,
        verb="gathering.agenda_item_added",
        target=gathering,
        summary=names.text(_("%(a)s added an item to a meeting's agenda"), a=names.person(actor)),
        data={"occurrence": locked.pk, "item": item.pk, "kind": item.kind},
        **_owner(gathering),
    )
    return item


def _lock_item(item: AgendaItem) -> AgendaItem:
    return deadlines.lock(
        AgendaItem,
        item.pk,
        "occurrence",
        "occurrence__gathering",
        "occurrence__gathering__circle",
        "occurrence__gathering__circle__federation",
        "occurrence__gathering__link",
        "occurrence__gathering__federation",
    )


def _may_change(actor: Practitioner, item: AgendaItem) -> None:
    gathering = item.occurrence.gathering
    require("gatherings.add_agenda_item", actor, gathering)
    if item.added_by_id != actor.pk and not allowed("gatherings.arrange", actor.user, gathering):
        raise NotAllowed(_("Only who added the item, or those arranging the meeting, change it."))


@transaction.atomic
def agenda_item_change(
    *, actor: Practitioner, item: AgendaItem, title: str, details: str, minutes: int | None
) -> AgendaItem:
    """Change an item's words or time box (who added it, or an arranger)."""
    locked = _lock_item(item)
    _may_change(actor, locked)
    gathering = locked.occurrence.gathering
    if deadlines.is_past(locked.occurrence.ends_at):
        raise Conflict(_("This meeting has ended: its agenda is closed."))
    locked.title, locked.details, locked.minutes = title.strip(), details.strip(), minutes
    validate(locked)
    locked.save(update_fields=["title", "details", "minutes", "updated_at"])
    audit.record(
        actor=actor,
        verb="gathering.agenda_item_changed",
        target=gathering,
        summary=names.text(_("%(a)s changed an item of a meeting's agenda"), a=names.person(actor)),
        data={"occurrence": locked.occurrence_id, "item": locked.pk},
        **_owner(gathering),
    )
    return locked


@transaction.atomic
def agenda_item_remove(*, actor: Practitioner, item: AgendaItem) -> None:
    """Take an item off the agenda (who added it, or an arranger)."""
    locked = _lock_item(item)
    _may_change(actor, locked)
    gathering = locked.occurrence.gathering
    if deadlines.is_past(locked.occurrence.ends_at):
        raise Conflict(_("This meeting has ended: its agenda is closed."))
    occurrence_id, pk = locked.occurrence_id, locked.pk
    if locked.suggestion_key:
        # A suggested item is kept, set aside: the sweep suggests each moment once, and an
        # item deleted would be suggested again at the next sweep.
        locked.state = AgendaState.DISMISSED
        locked.save(update_fields=["state", "updated_at"])
    else:
        locked.delete()
    audit.record(
        actor=actor,
        verb="gathering.agenda_item_removed",
        target=gathering,
        summary=names.text(_("%(a)s took an item off a meeting's agenda"), a=names.person(actor)),
        data={"occurrence": occurrence_id, "item": pk},
        **_owner(gathering),
    )


@transaction.atomic
def agenda_reorder(
    *, actor: Practitioner, occurrence: Occurrence, item_ids: Sequence[int]
) -> list[AgendaItem]:
    """Put the items on the agenda in this order (all of them, each once)."""
    require("gatherings.arrange", actor, occurrence.gathering)
    locked = _lock(occurrence)
    gathering = locked.gathering
    items = list(
        AgendaItem.objects.select_for_update(no_key=True)
        .filter(occurrence=locked, state=AgendaState.ON)
        .order_by("position", "pk")
    )
    wanted = [int(pk) for pk in item_ids]
    if len(wanted) != len(set(wanted)) or set(wanted) != {i.pk for i in items}:
        raise _field_error("items", _("The agenda has changed meanwhile: look again."))
    by_pk = {i.pk: i for i in items}
    ordered = [by_pk[pk] for pk in wanted]
    for position, item in enumerate(ordered):
        item.position = position
    AgendaItem.objects.bulk_update(ordered, ["position"])
    audit.record(
        actor=actor,
        verb="gathering.agenda_reordered",
        target=gathering,
        summary=names.text(_("%(a)s ordered a meeting's agenda"), a=names.person(actor)),
        data={"occurrence": locked.pk, "items": wanted},
        **_owner(gathering),
    )
    return ordered


def _suggestion_decide(actor: Practitioner, item: AgendaItem, *, accept: bool) -> AgendaItem:
    locked = _lock_item(item)
    gathering = locked.occurrence.gathering
    require("gatherings.arrange", actor, gathering)
    if locked.state != AgendaState.SUGGESTED:
        raise Conflict(_("This suggestion has been answered already."))
    if accept:
        locked.state = AgendaState.ON
        locked.position = _next_position(locked.occurrence)
    else:
        locked.state = AgendaState.DISMISSED
    locked.save(update_fields=["state", "position", "updated_at"])
    audit.record(
        actor=actor,
        verb="gathering.suggestion_accepted" if accept else "gathering.suggestion_dismissed",
        target=gathering,
        summary=names.text(
            _("%(a)s put a suggested item on the agenda")
            if accept
            else _("%(a)s set a suggested item aside"),
            a=names.person(actor),
        ),
        data={"occurrence": locked.occurrence_id, "item": locked.pk},
        **_owner(gathering),
    )
    return locked


@transaction.atomic
def agenda_suggestion_accept(*, actor: Practitioner, item: AgendaItem) -> AgendaItem:
    return _suggestion_decide(actor, item, accept=True)


@transaction.atomic
def agenda_suggestion_dismiss(*, actor: Practitioner, item: AgendaItem) -> AgendaItem:
    return _suggestion_decide(actor, item, accept=False)


@transaction.atomic
def agenda_suggest(
    *,
    occurrence: Occurrence,
    title: str,
    kind: str,
    reason: str,
    suggestion_key: str,
    agreement: Agreement | None = None,
    link: CircleLink | None = None,
    proposal: Proposal | None = None,
    election: Election | None = None,
) -> AgendaItem | None:
    """The platform suggests an item (a ceremony after a key moment). Once per moment: None if
    `suggestion_key` was suggested on this meeting already. `reason` is a names.text."""
    locked = _lock(occurrence)
    gathering = locked.gathering
    if AgendaItem.objects.filter(occurrence=locked, suggestion_key=suggestion_key).exists():
        return None
    item = AgendaItem(
        occurrence=locked,
        position=_next_position(locked),
        title=title.strip()[:200],
        kind=_kind_for(kind, proposal=proposal, agreement=agreement, election=election, link=link),
        state=AgendaState.SUGGESTED,
        proposal=proposal,
        agreement=agreement,
        election=election,
        link=link,
        reason=names.clip(names.stored(reason), 500),
        suggestion_key=suggestion_key[:80],
    )
    validate(item)
    item.save()
    audit.record(
        actor=None,
        verb="gathering.agenda_suggested",
        target=gathering,
        summary=_("An item was suggested for a meeting's agenda"),
        data={"occurrence": locked.pk, "item": item.pk, "key": item.suggestion_key},
        **_owner(gathering),
    )
    notify_many(
        _arrangers(gathering),
        kind=NotificationKind.GATHERING,
        title=_("Suggested for the agenda of %(t)s: %(i)s") % {"t": gathering.title, "i": title},
        url=locked.get_absolute_url(),
        **_notice_owner(gathering),
    )
    return item


# --- minutes ---


def current_version(occurrence: Occurrence) -> MinutesVersion | None:
    return MinutesVersion.objects.filter(occurrence=occurrence).order_by("-number").first()


def present_ids(occurrence: Occurrence) -> set[int]:
    return set(
        Attendance.objects.filter(occurrence=occurrence, attended=True).values_list(
            "practitioner_id", flat=True
        )
    )


def status_of(
    occurrence: Occurrence,
    version: MinutesVersion,
    present: set[int],
    answers: Sequence[MinutesConfirmation],
    now: datetime,
) -> minutes_rule.MinutesStatus:
    """The rule asked about one version, with the answers given on it."""
    on_it = [a for a in answers if a.version == version.number]
    return minutes_rule.minutes_status(
        present=present,
        confirmed=[a.practitioner_id for a in on_it if a.answer == ConfirmationAnswer.CONFIRMED],
        corrections=[a.practitioner_id for a in on_it if a.answer == ConfirmationAnswer.CORRECTION],
        writer=version.written_by_id,
        now=now,
        confirm_by=occurrence.minutes_confirm_by,
    )


def _status(
    occurrence: Occurrence, version: MinutesVersion, now: datetime
) -> minutes_rule.MinutesStatus:
    answers = list(
        MinutesConfirmation.objects.filter(occurrence=occurrence, version=version.number)
    )
    return status_of(occurrence, version, present_ids(occurrence), answers, now)


def _confirm(
    occurrence: Occurrence, status: minutes_rule.MinutesStatus, actor: Practitioner | None
) -> None:
    """Set the minutes confirmed and record it (the counts, never the names)."""
    now = timezone.now()
    occurrence.minutes_state = MinutesState.CONFIRMED
    occurrence.minutes_confirmed_at = now
    occurrence.save(update_fields=["minutes_state", "minutes_confirmed_at"])
    gathering = occurrence.gathering
    if status.by_silence:
        summary = _("Minutes confirmed: %(c)s confirmed, %(s)s did not answer in time") % {
            "c": len(status.confirmed),
            "s": len(status.to_answer),
        }
    else:
        summary = _("Minutes confirmed by everyone who was there (%(c)s)") % {
            "c": len(status.confirmed)
        }
    audit.record(
        actor=actor,
        verb="gathering.minutes_confirmed",
        target=gathering,
        summary=summary,
        data={
            "occurrence": occurrence.pk,
            "confirmed": len(status.confirmed),
            "silent": len(status.to_answer),
            "by_silence": status.by_silence,
        },
        **_owner(gathering),
    )


@transaction.atomic
def minutes_write(
    *,
    actor: Practitioner,
    occurrence: Occurrence,
    text: str,
    present_ids: Collection[int],
    change_note: str = "",
) -> MinutesVersion:
    """Write the minutes (or a corrected version) and who came, in one step."""
    require("gatherings.take_minutes", actor, occurrence.gathering)
    locked = _lock(occurrence)
    gathering = locked.gathering
    now = timezone.now()
    _not_cancelled(locked)
    _started(locked, now)
    text = text.strip()
    if not text:
        raise _field_error("text", _("Write the minutes."))
    ids = _present_checked(locked, present_ids)
    if not ids:
        raise _field_error("present", _("Tick who came."))
    previous = current_version(locked)
    number = 1 if previous is None else previous.number + 1
    change_note = change_note.strip()
    if number > 1 and not change_note:
        raise _field_error("change_note", _("Say what changed from the last version."))
    _record_present(locked, ids)
    version = MinutesVersion(
        occurrence=locked,
        number=number,
        text=text,
        written_by=actor,
        written_at=now,
        change_note=change_note,
    )
    validate(version)
    version.save()
    locked.minutes_state = MinutesState.AWAITING
    locked.minutes_version = number
    locked.minutes_confirm_by = now + timedelta(days=confirm_days(gathering))
    locked.minutes_confirmed_at = None
    locked.save(
        update_fields=[
            "minutes_state",
            "minutes_version",
            "minutes_confirm_by",
            "minutes_confirmed_at",
        ]
    )
    audit.record(
        actor=actor,
        verb="gathering.minutes_written" if number == 1 else "gathering.minutes_corrected",
        target=gathering,
        summary=names.text(
            _("%(a)s wrote the minutes of a meeting")
            if number == 1
            else _("%(a)s corrected the minutes of a meeting"),
            a=names.person(actor),
        ),
        data={"occurrence": locked.pk, "version": number, "present": len(ids)},
        **_owner(gathering),
    )
    status = _status(locked, version, now)
    if status.state == minutes_rule.CONFIRMED:
        _confirm(locked, status, actor)  # only the writer was there
    notify_many(
        Practitioner.objects.filter(pk__in=ids - {actor.pk}).order_by("pk"),
        kind=NotificationKind.MINUTES,
        title=(
            _("Minutes to confirm: %(t)s")
            if number == 1
            else _("Corrected minutes to confirm: %(t)s")
        )
        % {"t": gathering.title},
        url=locked.get_absolute_url() + "#minutes",
        **_notice_owner(gathering),
    )
    return version


def _answer_checks(
    actor: Practitioner, occurrence: Occurrence, version: int
) -> tuple[Occurrence, MinutesVersion]:
    require("gatherings.confirm_minutes", actor, occurrence.gathering)
    locked = _lock(occurrence)
    current = current_version(locked)
    if current is None or locked.minutes_state == MinutesState.NONE:
        raise Conflict(_("There are no minutes to confirm yet."))
    if actor.pk not in present_ids(locked):
        raise NotAllowed(_("Only those who were there confirm the minutes."))
    if version != current.number:
        raise StaleEdit(
            _("The minutes have been corrected meanwhile: read version %(n)s.")
            % {"n": current.number},
            current=current.number,
        )
    if locked.minutes_state == MinutesState.CONFIRMED:
        raise Conflict(_("These minutes are confirmed already."))
    return locked, current


def _answer(
    occurrence: Occurrence, actor: Practitioner, version: int, answer: str, correction: str
) -> MinutesConfirmation:
    row, _made = MinutesConfirmation.objects.update_or_create(
        occurrence=occurrence,
        practitioner=actor,
        version=version,
        defaults={"answer": answer, "correction": correction, "answered_at": timezone.now()},
    )
    return row


@transaction.atomic
def minutes_confirm(
    *, actor: Practitioner, occurrence: Occurrence, version: int
) -> MinutesConfirmation:
    """Someone who was there confirms the current version of the minutes."""
    locked, current = _answer_checks(actor, occurrence, version)
    gathering = locked.gathering
    row = _answer(locked, actor, current.number, ConfirmationAnswer.CONFIRMED, "")
    audit.record(
        actor=actor,
        verb="gathering.minutes_confirmation",
        target=gathering,
        summary=names.text(_("%(a)s confirmed the minutes of a meeting"), a=names.person(actor)),
        data={"occurrence": locked.pk, "version": current.number},
        **_owner(gathering),
    )
    status = _status(locked, current, timezone.now())
    if status.state == minutes_rule.CONFIRMED:
        _confirm(locked, status, actor)
    return row


@transaction.atomic
def minutes_ask_correction(
    *, actor: Practitioner, occurrence: Occurrence, version: int, correction: str
) -> MinutesConfirmation:
    """Someone who was there asks for a correction of the current version."""
    correction = correction.strip()
    if not correction:
        raise _field_error("correction", _("Say what should change."))
    locked, current = _answer_checks(actor, occurrence, version)
    gathering = locked.gathering
    row = _answer(locked, actor, current.number, ConfirmationAnswer.CORRECTION, correction)
    audit.record(
        actor=actor,
        verb="gathering.minutes_correction_asked",
        target=gathering,
        summary=names.text(
            _("%(a)s asked for a correction of the minutes of a meeting"), a=names.person(actor)
        ),
        data={"occurrence": locked.pk, "version": current.number},
        **_owner(gathering),
    )
    writers = set(
        MinutesVersion.objects.filter(occurrence=locked, written_by__isnull=False).values_list(
            "written_by_id", flat=True
        )
    )
    notify_many(
        Practitioner.objects.filter(pk__in=writers - {actor.pk}).order_by("pk"),
        kind=NotificationKind.MINUTES,
        title=_("A correction of the minutes is asked for: %(t)s") % {"t": gathering.title},
        url=locked.get_absolute_url() + "#minutes",
        **_notice_owner(gathering),
    )
    return row


def minutes_settle(*, occurrence: Occurrence, now: datetime | None = None) -> bool:
    """The sweep: minutes past their time to answer, with no correction asked of the current
    version, are confirmed by silence. Idempotent: True only when this call confirmed them."""
    with transaction.atomic():
        locked = _lock(occurrence)
        if locked.minutes_state != MinutesState.AWAITING:
            return False
        current = current_version(locked)
        if current is None:
            return False
        status = _status(locked, current, now or timezone.now())
        if status.state != minutes_rule.CONFIRMED:
            return False
        _confirm(locked, status, None)
        return True


def minutes_due(*, now: datetime | None = None) -> QuerySet[Occurrence]:
    """Occurrences whose minutes await confirmation past their time to answer."""
    return Occurrence.objects.filter(
        minutes_state=MinutesState.AWAITING, minutes_confirm_by__lte=now or timezone.now()
    )
