"""At the meeting: the meeting's own page (who is coming, the agenda, the minutes) and the forms
on it. Thin: parse, ask the rules, call one service, render. Every form is a plain POST; the
answer buttons also swap their part of the page in place with htmx."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import CharField, DateTimeField, F, Value
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from circlework.agreements.models import Agreement
from circlework.circles.names import circle_name_for
from circlework.core import names
from circlework.core.diff import render_diff
from circlework.core.errors import ApplicationError, StaleEdit
from circlework.core.http import flash_error, form_error, me, require_perm
from circlework.core.permissions import allowed
from circlework.core.visibility import audience_for, names_for
from circlework.decisions.models import Proposal, ProposalStatus
from circlework.elections.models import Election, ElectionStatus
from circlework.gatherings import minutes_rule
from circlework.gatherings.meeting_forms import (
    AgendaChangeForm,
    AgendaItemForm,
    AnswerForm,
    CorrectionForm,
    MinutesForm,
)
from circlework.gatherings.models import (
    AgendaItem,
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
from circlework.gatherings.services import meeting as services
from circlework.mandates.selectors import role_label

# Agreements whose review falls due within this many days are offered for the agenda.
REVIEW_SOON = timedelta(days=45)


def _occurrence(pk: int, occurrence: int) -> Occurrence:
    return get_object_or_404(
        Occurrence.objects.select_related(
            "gathering",
            "gathering__circle",
            "gathering__circle__federation",
            "gathering__link",
            "gathering__federation",
            "gathering__host_circle",
        ),
        pk=occurrence,
        gathering_id=pk,
    )


def _item(occurrence: Occurrence, item: int) -> AgendaItem:
    found = get_object_or_404(AgendaItem, pk=item, occurrence=occurrence)
    found.occurrence = occurrence
    return found


def _at(moment: datetime, zone: Any) -> str:
    return dateformat.format(moment.astimezone(zone), "l j F Y, H:i")


def when_text(occurrence: Occurrence, gathering: Gathering) -> tuple[str, str]:
    """The meeting's time where it is held and, when the viewer's zone differs, theirs."""
    try:
        there = zoneinfo.ZoneInfo(gathering.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        there = zoneinfo.ZoneInfo("UTC")
    here = timezone.get_current_timezone()
    place = _("%(start)s to %(end)s (%(zone)s time)") % {
        "start": _at(occurrence.starts_at, there),
        "end": dateformat.format(occurrence.ends_at.astimezone(there), "H:i"),
        "zone": gathering.time_zone,
    }
    same = occurrence.starts_at.astimezone(there).utcoffset() == (
        occurrence.starts_at.astimezone(here).utcoffset()
    )
    yours = "" if same else _("%(start)s your time") % {"start": _at(occurrence.starts_at, here)}
    return place, yours


@dataclass
class ItemRow:
    item: AgendaItem
    added_by: str
    reason: str
    first: bool = False
    last: bool = False
    may_change: bool = False
    linked_circle: str = ""  # a link item: the other circle, as this viewer may see it named


@dataclass
class MinutesView:
    version: MinutesVersion
    written_by: str
    count: int
    status: minutes_rule.MinutesStatus
    confirmed: list[str]
    corrections: list[tuple[str, str]]
    to_answer: list[str]
    i_was_there: bool
    my_answer: str


@dataclass
class Page:
    occurrence: Occurrence
    gathering: Gathering
    when: str
    when_yours: str
    started: bool
    ended: bool
    cancelled: bool
    invited: bool
    show_place: bool = False
    can_answer: bool = False
    can_add: bool = False
    can_arrange: bool = False
    can_take_minutes: bool = False
    my_answer: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    answered: dict[str, list[str]] = field(default_factory=dict)
    not_answered: list[str] = field(default_factory=list)
    not_answered_count: int = 0
    people: list[tuple[int, str]] = field(default_factory=list)
    present: set[int] = field(default_factory=set)
    came: list[str] = field(default_factory=list)
    items: list[ItemRow] = field(default_factory=list)
    suggested: list[ItemRow] = field(default_factory=list)
    total_minutes: int = 0
    cutoff: str = ""
    cutoff_passed: bool = False
    about: list[tuple[str, str]] = field(default_factory=list)
    minutes: MinutesView | None = None


def _about_choices(gathering: Gathering) -> list[tuple[str, str]]:
    """The circle's open proposals, agreements due for review soon and elections under way (a
    nomination round, a vote): one query."""
    circles = list(circle_ids_of(gathering))
    if not circles:
        return []
    soon = timezone.localdate() + REVIEW_SOON
    # One query (a UNION) for both, each in its model's order: proposals newest first, then
    # agreements by kind and title.
    proposals = (
        Proposal.objects.filter(circle_id__in=circles, status=ProposalStatus.OPEN)
        .annotate(
            what=Value("proposal", output_field=CharField()),
            at=F("created_at"),
            sort=Value("", output_field=CharField()),
        )
        .order_by()
        .values_list("what", "pk", "title", "at", "sort")
    )
    agreements = (
        Agreement.objects.filter(circle_id__in=circles, review_due__lte=soon)
        .annotate(
            what=Value("agreement", output_field=CharField()),
            at=Value(None, output_field=DateTimeField()),
            sort=F("kind"),
        )
        .order_by()
        .values_list("what", "pk", "title", "at", "sort")
    )
    elections = (
        Election.objects.filter(circle_id__in=circles)
        .exclude(status__in=(ElectionStatus.CLOSED, ElectionStatus.CANCELLED))
        .annotate(
            what=Value("election", output_field=CharField()),
            title=F("role"),
            at=F("created_at"),
            sort=Value("", output_field=CharField()),
        )
        .order_by()
        .values_list("what", "pk", "title", "at", "sort")
    )
    found = proposals.union(agreements, elections, all=True).order_by(
        "-what", "-at", "sort", "title"
    )
    return [(f"{what}:{pk}", _about_label(what, title)) for what, pk, title, _when, _kind in found]


def _about_label(what: str, title: str) -> str:
    if what == "proposal":
        return _("Proposal: %(t)s") % {"t": title}
    if what == "agreement":
        return _("Agreement due for review: %(t)s") % {"t": title}
    return _("Election of the circle's %(r)s") % {"r": role_label(title).lower()}


def _other_circle(item: AgendaItem, gathering: Gathering, user: Any) -> str:
    """The circle a link item is with, named by the circle-name rule (the stored reason names
    no circle)."""
    link = item.link
    if link is None:
        return ""
    ours = circle_ids_of(gathering)
    other = link.validating_circle if link.asking_circle_id in ours else link.asking_circle
    return circle_name_for(user, other)


def build_page(request: HttpRequest, occurrence: Occurrence) -> Page:
    """Everything the meeting's page shows, in a fixed number of queries."""
    gathering = occurrence.gathering
    user = request.user
    now = timezone.now()
    place, yours = when_text(occurrence, gathering)
    page = Page(
        occurrence=occurrence,
        gathering=gathering,
        when=place,
        when_yours=yours,
        started=occurrence.starts_at <= now,
        ended=occurrence.ends_at <= now,
        cancelled=occurrence.cancelled_at is not None or gathering.cancelled_at is not None,
        invited=allowed("gatherings.view_invited", user, gathering),
        show_place=allowed("gatherings.view_place", user, gathering),
    )
    if not page.invited:
        return page
    page.can_answer = allowed("gatherings.answer", user, gathering)
    page.can_add = allowed("gatherings.add_agenda_item", user, gathering)
    page.can_arrange = allowed("gatherings.arrange", user, gathering)
    page.can_take_minutes = allowed("gatherings.take_minutes", user, gathering)
    practitioner = me(request)
    audience = audience_for(user)

    # A federation gathering invites every member of the federation's circles: its page names
    # only those who answered or came and counts the rest, so it stays the same size however
    # large the federation grows.
    federation = gathering.is_federation_gathering
    invited = [] if federation else list(invitees(gathering))
    rows = list(Attendance.objects.filter(occurrence=occurrence).order_by("pk"))
    items = list(
        AgendaItem.objects.filter(occurrence=occurrence)
        .exclude(state=AgendaState.DISMISSED)
        .select_related(
            "proposal",
            "proposal__circle",
            "agreement",
            "agreement__circle",
            "election",
            "link__asking_circle",
            "link__validating_circle",
        )
        .order_by("position", "pk")
    )
    # Minutes are only written with the state set (services.minutes_write): none to read before.
    versions = (
        list(
            MinutesVersion.objects.filter(occurrence=occurrence)
            .order_by("-number")
            .only(
                "pk", "number", "text", "written_by_id", "written_at", "change_note", "occurrence"
            )[:1]
        )
        if occurrence.minutes_state != MinutesState.NONE
        else []
    )
    count = versions[0].number if versions else 0
    answers = (
        list(MinutesConfirmation.objects.filter(occurrence=occurrence, version=count))
        if versions
        else []
    )
    wanted: list[Any] = [*invited]
    wanted += [r.practitioner_id for r in rows]
    wanted += [i.added_by_id for i in items]
    wanted += [v.written_by_id for v in versions] + [a.practitioner_id for a in answers]
    shown = names_for(audience, wanted)

    # Who is coming.
    answer_of = {r.practitioner_id: r.answer for r in rows if r.answer}
    page.my_answer = answer_of.get(practitioner.pk, "")
    page.counts = {a: 0 for a in Answer.values}
    page.answered = {a: [] for a in Answer.values}
    for pk, answer in answer_of.items():
        page.counts[answer] += 1
        page.answered[answer].append(shown.get(pk, ""))
    for names_list in page.answered.values():
        names_list.sort(key=str.casefold)
    page.not_answered = sorted(
        (shown.get(p.pk, "") for p in invited if p.pk not in answer_of), key=str.casefold
    )
    if federation and not page.ended:
        page.not_answered_count = (
            invitees(gathering)
            .exclude(
                pk__in=Attendance.objects.filter(occurrence=occurrence)
                .exclude(answer="")
                .values("practitioner_id")
            )
            .count()
        )
    page.present = {r.practitioner_id for r in rows if r.attended}
    page.came = sorted((shown.get(pk, "") for pk in page.present), key=str.casefold)
    in_list = {p.pk for p in invited}
    page.people = [(p.pk, shown.get(p.pk, "")) for p in invited] + [
        (r.practitioner_id, shown.get(r.practitioner_id, ""))
        for r in rows
        if r.practitioner_id not in in_list and (r.attended or (federation and r.answer))
    ]

    # The agenda.
    reasons = names.render_all([(i.reason, i.created_at) for i in items], audience)
    on = [i for i in items if i.state == AgendaState.ON]
    for item, reason in zip(items, reasons, strict=True):
        row = ItemRow(
            item=item,
            added_by=shown.get(item.added_by_id, "") if item.added_by_id else "",
            reason=reason,
            may_change=not page.ended and (page.can_arrange or item.added_by_id == practitioner.pk),
            linked_circle=_other_circle(item, gathering, user),
        )
        (page.items if item.state == AgendaState.ON else page.suggested).append(row)
    if page.items:
        page.items[0].first = True
        page.items[-1].last = True
    page.total_minutes = sum(i.minutes or 0 for i in on)
    cutoff = services.agenda_cutoff(occurrence)
    page.cutoff = _at(cutoff, timezone.get_current_timezone())
    page.cutoff_passed = cutoff <= now
    if page.can_add and not page.ended:
        page.about = _about_choices(gathering)

    # The minutes.
    if versions:
        version = versions[0]
        status = services.status_of(occurrence, version, page.present, answers, now)
        mine = next((a for a in answers if a.practitioner_id == practitioner.pk), None)
        page.minutes = MinutesView(
            version=version,
            written_by=shown.get(version.written_by_id, "") if version.written_by_id else "",
            count=count,
            status=status,
            confirmed=sorted((shown.get(pk, "") for pk in status.confirmed), key=str.casefold),
            corrections=[
                (shown.get(a.practitioner_id, ""), a.correction)
                for a in answers
                if a.practitioner_id in status.corrections
            ],
            to_answer=sorted((shown.get(pk, "") for pk in status.to_answer), key=str.casefold),
            i_was_there=practitioner.pk in page.present,
            my_answer=mine.answer if mine else "",
        )
    return page


def _context(
    request: HttpRequest,
    page: Page,
    *,
    agenda_form: AgendaItemForm | None = None,
    minutes_form: MinutesForm | None = None,
    correction_form: CorrectionForm | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {"page": page, "gathering": page.gathering, "occ": page.occurrence}
    if not page.invited:
        return context
    context["agenda_form"] = agenda_form or AgendaItemForm(about=page.about)
    if page.can_take_minutes and page.started and not page.cancelled:
        current = page.minutes
        context["minutes_form"] = minutes_form or MinutesForm(
            people=page.people,
            first=current is None,
            initial={
                "text": current.version.text if current else "",
                "present": sorted(page.present),
            },
        )
    context["correction_form"] = correction_form or CorrectionForm()
    return context


def _detail(
    request: HttpRequest, occurrence: Occurrence, status: int = 200, **forms_: Any
) -> HttpResponse:
    page = build_page(request, occurrence)
    return render(
        request,
        "gatherings/occurrence_detail.html",
        _context(request, page, **forms_),
        status=status,
    )


@login_required
def occurrence_detail(request: HttpRequest, pk: int, occurrence: int) -> HttpResponse:
    """The meeting's own page (a POST here changes nothing: each form posts to its own URL)."""
    occ = _occurrence(pk, occurrence)
    require_perm(request, "gatherings.view", occ.gathering)
    return _detail(request, occ)


def _back(occ: Occurrence, anchor: str) -> HttpResponse:
    return redirect(f"{occ.get_absolute_url()}#{anchor}")


@login_required
@require_POST
def attendance_answer(request: HttpRequest, pk: int, occurrence: int) -> HttpResponse:
    occ = _occurrence(pk, occurrence)
    require_perm(request, "gatherings.answer", occ.gathering)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say whether you are coming, maybe or not coming."))
        return _back(occ, "attendance")
    try:
        services.attendance_answer(
            actor=me(request), occurrence=occ, answer=form.cleaned_data["answer"]
        )
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Your answer is recorded. You can change it until then."))
    if request.htmx:  # type: ignore[attr-defined]
        page = build_page(request, occ)
        return render(
            request, "gatherings/occurrence_detail.html#attendance", _context(request, page)
        )
    return _back(occ, "attendance")


@login_required
@require_POST
def attendance_record(request: HttpRequest, pk: int, occurrence: int) -> HttpResponse:
    occ = _occurrence(pk, occurrence)
    require_perm(request, "gatherings.take_minutes", occ.gathering)
    try:
        ids = [int(v) for v in request.POST.getlist("present")]
        services.attendance_record(actor=me(request), occurrence=occ, present_ids=ids)
    except ValueError:
        messages.error(request, _("Choose who came from the list."))
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Who came is recorded."))
    return _back(occ, "attendance")


def _about(value: str) -> dict[str, Any]:
    """The record an item is about, from the form's "proposal:12" (the service checks it)."""
    kind, _sep, raw = value.partition(":")
    if not raw.isdigit():
        return {}
    if kind == "proposal":
        return {"proposal": Proposal.objects.filter(pk=int(raw)).first()}
    if kind == "agreement":
        return {"agreement": Agreement.objects.filter(pk=int(raw)).first()}
    if kind == "election":
        return {"election": Election.objects.filter(pk=int(raw)).first()}
    return {}


@login_required
@require_POST
def agenda_add(request: HttpRequest, pk: int, occurrence: int) -> HttpResponse:
    occ = _occurrence(pk, occurrence)
    require_perm(request, "gatherings.add_agenda_item", occ.gathering)
    page = build_page(request, occ)
    form = AgendaItemForm(request.POST, about=page.about)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.agenda_item_add(
                actor=me(request),
                occurrence=occ,
                title=data["title"],
                details=data["details"],
                minutes=data["minutes"],
                **_about(data.get("about") or ""),
            )
        except ApplicationError as exc:
            form_error(form, exc)
            return render(
                request,
                "gatherings/occurrence_detail.html",
                _context(request, page, agenda_form=form),
                status=exc.status_code,
            )
        messages.success(request, _("The item is on the agenda."))
        return _back(occ, "agenda")
    return render(
        request,
        "gatherings/occurrence_detail.html",
        _context(request, page, agenda_form=form),
        status=400,
    )


@login_required
def agenda_item_edit(request: HttpRequest, pk: int, occurrence: int, item: int) -> HttpResponse:
    """Change an item's words or time box (who added it, or those arranging the meeting)."""
    occ = _occurrence(pk, occurrence)
    require_perm(request, "gatherings.view_invited", occ.gathering)
    found = _item(occ, item)
    form = AgendaChangeForm(
        request.POST or None,
        initial={"title": found.title, "details": found.details, "minutes": found.minutes},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.agenda_item_change(
                actor=me(request),
                item=found,
                title=data["title"],
                details=data["details"],
                minutes=data["minutes"],
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("The item is changed."))
            return _back(occ, "agenda")
    return render(
        request,
        "gatherings/agenda_item_edit.html",
        {"occ": occ, "gathering": occ.gathering, "item": found, "form": form},
        status=400 if form.errors else 200,
    )


def _item_action(
    request: HttpRequest, pk: int, occurrence: int, item: int, action: str
) -> HttpResponse:
    occ = _occurrence(pk, occurrence)
    require_perm(request, "gatherings.view_invited", occ.gathering)
    found = _item(occ, item)
    actor = me(request)
    try:
        if action == "remove":
            services.agenda_item_remove(actor=actor, item=found)
            done = _("The item is off the agenda.")
        elif action == "accept":
            services.agenda_suggestion_accept(actor=actor, item=found)
            done = _("The suggested item is on the agenda.")
        elif action == "dismiss":
            services.agenda_suggestion_dismiss(actor=actor, item=found)
            done = _("The suggested item is set aside.")
        else:
            order = list(
                AgendaItem.objects.filter(occurrence=occ, state=AgendaState.ON)
                .order_by("position", "pk")
                .values_list("pk", flat=True)
            )
            if found.pk in order:
                at = order.index(found.pk)
                to = at - 1 if request.POST.get("direction") == "up" else at + 1
                if 0 <= to < len(order):
                    order[at], order[to] = order[to], order[at]
            services.agenda_reorder(actor=actor, occurrence=occ, item_ids=order)
            done = _("The agenda is in its new order.")
    except ApplicationError as exc:
        if exc.status_code == 403:
            messages.error(
                request, _("Only who added the item, or those arranging the meeting, may.")
            )
        else:
            flash_error(request, exc)
    else:
        messages.success(request, done)
    return _back(occ, "agenda")


@login_required
@require_POST
def agenda_item_remove(request: HttpRequest, pk: int, occurrence: int, item: int) -> HttpResponse:
    return _item_action(request, pk, occurrence, item, "remove")


@login_required
@require_POST
def agenda_item_move(request: HttpRequest, pk: int, occurrence: int, item: int) -> HttpResponse:
    return _item_action(request, pk, occurrence, item, "move")


@login_required
@require_POST
def agenda_suggestion_accept(
    request: HttpRequest, pk: int, occurrence: int, item: int
) -> HttpResponse:
    return _item_action(request, pk, occurrence, item, "accept")


@login_required
@require_POST
def agenda_suggestion_dismiss(
    request: HttpRequest, pk: int, occurrence: int, item: int
) -> HttpResponse:
    return _item_action(request, pk, occurrence, item, "dismiss")


@login_required
@require_POST
def minutes_write(request: HttpRequest, pk: int, occurrence: int) -> HttpResponse:
    occ = _occurrence(pk, occurrence)
    require_perm(request, "gatherings.take_minutes", occ.gathering)
    page = build_page(request, occ)
    form = MinutesForm(request.POST, people=page.people, first=page.minutes is None)
    if form.is_valid():
        data = form.cleaned_data
        try:
            version = services.minutes_write(
                actor=me(request),
                occurrence=occ,
                text=data["text"],
                present_ids=data["present"],
                change_note=data.get("change_note") or "",
            )
        except ApplicationError as exc:
            form_error(form, exc)
            return render(
                request,
                "gatherings/occurrence_detail.html",
                _context(request, page, minutes_form=form),
                status=exc.status_code,
            )
        messages.success(
            request,
            _("The minutes are saved (version %(n)s). Those who came are asked to confirm them.")
            % {"n": version.number},
        )
        return _back(occ, "minutes")
    return render(
        request,
        "gatherings/occurrence_detail.html",
        _context(request, page, minutes_form=form),
        status=400,
    )


def _version(request: HttpRequest) -> int:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 9 else 0


@login_required
@require_POST
def minutes_confirm(request: HttpRequest, pk: int, occurrence: int) -> HttpResponse:
    occ = _occurrence(pk, occurrence)
    require_perm(request, "gatherings.confirm_minutes", occ.gathering)
    try:
        services.minutes_confirm(actor=me(request), occurrence=occ, version=_version(request))
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        occ.refresh_from_db(fields=["minutes_state"])
        if occ.minutes_state == MinutesState.CONFIRMED:
            messages.success(request, _("Thank you. Everyone who was there has confirmed."))
        else:
            messages.success(request, _("Thank you: your confirmation is recorded."))
    return _back(occ, "minutes")


@login_required
@require_POST
def minutes_correction(request: HttpRequest, pk: int, occurrence: int) -> HttpResponse:
    occ = _occurrence(pk, occurrence)
    require_perm(request, "gatherings.confirm_minutes", occ.gathering)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        return _detail(request, occ, status=400, correction_form=form)
    try:
        services.minutes_ask_correction(
            actor=me(request),
            occurrence=occ,
            version=_version(request),
            correction=form.cleaned_data["correction"],
        )
    except StaleEdit as exc:
        flash_error(request, exc)
    except ApplicationError as exc:
        if exc.fields:
            form_error(form, exc)
            return _detail(request, occ, status=exc.status_code, correction_form=form)
        flash_error(request, exc)
    else:
        messages.success(request, _("Your correction is sent to whoever wrote the minutes."))
    return _back(occ, "minutes")


@login_required
def minutes_history(request: HttpRequest, pk: int, occurrence: int) -> HttpResponse:
    """Every version of the minutes, newest first, with what changed."""
    occ = _occurrence(pk, occurrence)
    require_perm(request, "gatherings.view_invited", occ.gathering)
    versions = list(MinutesVersion.objects.filter(occurrence=occ).order_by("number"))
    answers = list(MinutesConfirmation.objects.filter(occurrence=occ))
    shown = names_for(
        audience_for(request.user),
        [v.written_by_id for v in versions] + [a.practitioner_id for a in answers],
    )
    rows = []
    previous = ""
    for version in versions:
        on_it = [a for a in answers if a.version == version.number]
        rows.append(
            {
                "version": version,
                "written_by": shown.get(version.written_by_id, "") if version.written_by_id else "",
                "diff": render_diff(previous, version.text) if previous else None,
                "confirmed": sorted(
                    shown.get(a.practitioner_id, "")
                    for a in on_it
                    if a.answer == ConfirmationAnswer.CONFIRMED
                ),
                "corrections": [
                    (shown.get(a.practitioner_id, ""), a.correction)
                    for a in on_it
                    if a.answer == ConfirmationAnswer.CORRECTION
                ],
            }
        )
        previous = version.text
    rows.reverse()
    place, yours = when_text(occ, occ.gathering)
    return render(
        request,
        "gatherings/minutes_history.html",
        {"occ": occ, "gathering": occ.gathering, "rows": rows, "when": place, "when_yours": yours},
    )
