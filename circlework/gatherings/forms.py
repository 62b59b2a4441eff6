"""Forms of gatherings' pages.

Planning (views/planning.py): `PlanForm` (plan a gathering, change it), `MoveForm` (move one
meeting), `CancelForm` (cancel one meeting, or them all). Times are typed as the clock on the
wall where the gathering is (its time zone); the services read them there and refuse a time the
clocks skip. The form builds the repeat rule from plain choices (`recurrence.rule_for`), so nobody
ever types one.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from circlework.accounts.models import DEFAULT_TIME_ZONE
from circlework.accounts.time_zones import time_zone_choices
from circlework.core.errors import InvalidInput
from circlework.gatherings import recurrence
from circlework.gatherings.models import Gathering
from circlework.gatherings.services.planning import When, local

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")

# The choice that keeps a pattern the form cannot say (one set through the API).
KEEP = "keep"
# The repeat choices before a date is known, in words that explain each one.
REPEAT_WORDS: dict[str, Any] = {
    "none": _("Does not repeat"),
    "weekly": _("Every week, on the same weekday"),
    "fortnightly": _("Every two weeks, on the same weekday"),
    "monthly_weekday": _("Every month on the same weekday (e.g. the second Wednesday)"),
    "monthly_date": _("Every month on the same date (e.g. the 14th)"),
}
ENDS_CHOICES = [
    ("never", _("It goes on until we change it")),
    ("count", _("After a number of meetings")),
    ("until", _("On a date")),
]
# Where a service's refusal belongs on the planning form.
SERVICE_FIELDS = {
    "starts_at": "start",
    "ends_at": "end",
    "recurrence": "repeat",
    "time_zone": "time_zone",
    "title": "title",
    "details": "details",
    "place": "place",
    "online_link": "online_link",
}


def on_form(exc: InvalidInput, names: dict[str, str] = SERVICE_FIELDS) -> InvalidInput:
    """The same refusal with its fields named as the form names them (core.http.form_error puts
    each message under its field)."""
    fields = {names.get(key, key): list(messages) for key, messages in exc.fields.items()}
    return InvalidInput(exc.message, fields=fields)


def _wall(day: date | None, at: time | None) -> datetime | None:
    return datetime.combine(day, at) if day is not None and at is not None else None


class _WhenFields(forms.Form):
    """Date, start, end and the day it ends, read as wall-clock times where the gathering is."""

    date = forms.DateField(label=_("Date"), widget=DATE_WIDGET)
    start = forms.TimeField(label=_("Starts at"), widget=TIME_WIDGET)
    end = forms.TimeField(label=_("Ends at"), widget=TIME_WIDGET)
    end_date = forms.DateField(
        label=_("Ends on another day"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("Only for a gathering over several days: the day it ends."),
    )

    def wall_times(self, data: dict[str, Any]) -> tuple[datetime, datetime] | None:
        """(start, end) as naive wall-clock times, or None with the form's errors added."""
        starts = _wall(data.get("date"), data.get("start"))
        ends = _wall(data.get("end_date") or data.get("date"), data.get("end"))
        if starts is None or ends is None:
            return None
        if ends <= starts:
            field = "end_date" if data.get("end_date") else "end"
            self.add_error(field, gettext("The gathering must end after it starts."))
            return None
        return starts, ends


class PlanForm(_WhenFields):
    """Plan a gathering, or change one (`gathering=`: prefilled, and a pattern the form cannot
    say is offered as "keep it")."""

    title = forms.CharField(label=_("Title"), max_length=200)
    details = forms.CharField(
        label=_("What it is for"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("You can use simple formatting: **bold**, # heading, - list."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("The times above are the clock on the wall there."),
    )
    place = forms.CharField(
        label=_("Place"),
        required=False,
        max_length=300,
        help_text=_("Only those invited see it."),
    )
    online_link = forms.URLField(
        label=_("Online link"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("For meeting online. Only those invited see it."),
    )
    repeat = forms.ChoiceField(label=_("Repeats"))
    ends = forms.ChoiceField(
        label=_("The repeat ends"),
        choices=ENDS_CHOICES,
        initial="never",
        widget=forms.RadioSelect,
    )
    count = forms.IntegerField(
        label=_("How many meetings"),
        required=False,
        min_value=1,
        max_value=recurrence.MAX_COUNT,
        help_text=_("Counting the first one."),
    )
    until = forms.DateField(
        label=_("Last day"), required=False, widget=DATE_WIDGET, help_text=_("Inclusive.")
    )

    field_order = [
        "title",
        "details",
        "date",
        "start",
        "end",
        "end_date",
        "time_zone",
        "place",
        "online_link",
        "repeat",
        "ends",
        "count",
        "until",
    ]

    def __init__(
        self,
        *args: Any,
        time_zone: str = DEFAULT_TIME_ZONE,
        gathering: Gathering | None = None,
        **kwargs: Any,
    ) -> None:
        self.gathering = gathering
        self.kept_rule = ""
        initial = kwargs.setdefault("initial", {})
        if gathering is not None:
            initial.update(self._initial_from(gathering))
        initial.setdefault("time_zone", time_zone)
        initial.setdefault("repeat", "none")
        super().__init__(*args, **kwargs)
        zone_field = self.fields["time_zone"]
        assert isinstance(zone_field, forms.ChoiceField)
        zone_field.choices = time_zone_choices(current=str(initial["time_zone"]))
        repeat_field = self.fields["repeat"]
        assert isinstance(repeat_field, forms.ChoiceField)
        repeat_field.choices = self._repeat_choices()

    def _initial_from(self, gathering: Gathering) -> dict[str, Any]:
        zone = recurrence_zone(gathering.time_zone)
        starts = gathering.starts_at.astimezone(zone)
        ends = gathering.ends_at.astimezone(zone)
        values: dict[str, Any] = {
            "title": gathering.title,
            "details": gathering.details,
            "date": starts.date(),
            "start": starts.time().replace(second=0, microsecond=0),
            "end": ends.time().replace(second=0, microsecond=0),
            "end_date": ends.date() if ends.date() != starts.date() else None,
            "time_zone": gathering.time_zone,
            "place": gathering.place,
            "online_link": gathering.online_link,
        }
        repeat = recurrence.repeat_of(gathering.recurrence, starts)
        if repeat is None:
            # A pattern set through the API: shown in words and kept unless changed.
            self.kept_rule = gathering.recurrence
            values.update(repeat=KEEP, ends="never")
        else:
            values.update(
                repeat=repeat.pattern, ends=repeat.ends, count=repeat.count, until=repeat.until
            )
        return values

    def _chosen_start(self) -> datetime | None:
        """The first start the repeat's words can be worked out from: the date and time typed
        (when the form comes back with errors) or the gathering's own; None before either."""
        day, at, zone = (self._value(n) for n in ("date", "start", "time_zone"))
        try:
            day = day if isinstance(day, date) else date.fromisoformat(str(day))
            at = at if isinstance(at, time) else time.fromisoformat(str(at))
        except ValueError:
            return None
        if not recurrence.valid_time_zone(str(zone)):
            return None
        try:
            return local(datetime.combine(day, at), str(zone))
        except InvalidInput:
            return None

    def _value(self, name: str) -> Any:
        if self.is_bound:
            return self.data.get(self.add_prefix(name))
        return self.initial.get(name)

    def _repeat_choices(self) -> list[tuple[str, str]]:
        start = self._chosen_start()
        choices: list[tuple[str, str]] = []
        if self.kept_rule:
            assert self.gathering is not None
            first = self.gathering.starts_at.astimezone(recurrence_zone(self.gathering.time_zone))
            words = recurrence.describe(self.kept_rule, first)
            choices.append((KEEP, gettext("Keep as it is: %(words)s") % {"words": words}))
        for pattern, words in REPEAT_WORDS.items():
            label = str(words)
            if start is not None and pattern != "none":
                try:
                    rule = recurrence.rule_for(recurrence.Repeat(pattern), start)
                    label = recurrence.describe(rule, start)
                except recurrence.RecurrenceError:
                    pass
            choices.append((pattern, label))
        return choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        times = self.wall_times(data)
        zone = data.get("time_zone")
        if times is None or not zone:
            return data
        starts, ends = times
        try:
            start_local = local(starts, zone)
        except InvalidInput as exc:
            self.add_error("start", exc.message)
            return data
        rule = self._rule(data, start_local)
        if rule is not None:
            data["when"] = When(starts, ends, zone, rule)
        return data

    def _rule(self, data: dict[str, Any], start_local: datetime) -> str | None:
        pattern = data.get("repeat") or "none"
        if pattern == KEEP:
            return self.kept_rule
        ends = data.get("ends") or "never"
        if pattern != "none" and ends == "count" and data.get("count") is None:
            self.add_error("count", gettext("Say how many times the gathering happens."))
            return None
        if pattern != "none" and ends == "until" and data.get("until") is None:
            self.add_error("until", gettext("Choose the last day the gathering may happen."))
            return None
        repeat = recurrence.Repeat(
            pattern,
            ends,
            count=data.get("count") if ends == "count" else None,
            until=data.get("until") if ends == "until" else None,
        )
        try:
            return recurrence.rule_for(repeat, start_local)
        except recurrence.RecurrenceError as exc:
            field = {"count": "count", "until": "until"}.get(ends, "repeat")
            self.add_error(field if pattern != "none" else "repeat", exc.message)
            return None


def recurrence_zone(name: str) -> ZoneInfo:
    """The gathering's zone (a stored name is always valid; UTC if it ever is not)."""
    return ZoneInfo(name if recurrence.valid_time_zone(name) else "UTC")


class MoveForm(_WhenFields):
    """Move one meeting: its new day and times, where the gathering is, and why."""

    reason = forms.CharField(
        label=_("Why (optional)"),
        required=False,
        max_length=300,
        help_text=_("Those invited are told that it moved; this is kept in the circle's history."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        times = self.wall_times(data)
        if times is not None:
            data["starts_at"], data["ends_at"] = times
        return data


class CancelForm(forms.Form):
    """Cancel one meeting, or a whole gathering."""

    reason = forms.CharField(
        label=_("Why (optional)"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Those invited see it with the cancellation."),
    )
