from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.humanize.templatetags.humanize import ordinal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circlework.polls.models import (
    KIND_DESCRIPTIONS,
    SCORE_MAX,
    SCORE_MIN,
    Availability,
    PollKind,
    PollOption,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # a dev dependency: for the type checker only

TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")


class PollForm(forms.Form):
    title = forms.CharField(label=_("Question"), max_length=200)
    details = forms.CharField(
        label=_("Details"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=20_000,
        help_text=_(
            "Anything members should know before answering. You can use simple formatting: **bold**, # heading, - list."
        ),
    )
    kind = forms.ChoiceField(
        label=_("Kind of poll"),
        choices=KIND_DESCRIPTIONS,
        initial=PollKind.APPROVAL,
        widget=forms.RadioSelect,
    )
    options = forms.CharField(
        label=_("Options, one per line"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=10_000,
    )
    closes_at = forms.DateTimeField(
        label=_("Closes at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("In your time zone. It closes by itself then; you can also close it early."),
    )
    anonymous = forms.BooleanField(
        label=_("Anonymous: everyone sees who has answered, but not what anyone chose"),
        help_text=_(
            "The results then appear only when the poll closes, and you can close it early only "
            "once everyone has answered."
        ),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault(
            "closes_at",
            timezone.localtime(timezone.now() + timedelta(days=7)).replace(second=0, microsecond=0),
        )
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        self.fields["options"].help_text = _(
            "At least two. For “find a time”, one date and time per line in your time zone "
            "(%(zone)s), written YYYY-MM-DD HH:MM, for example 2030-05-06 18:30."
        ) % {"zone": zone}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lines = [line.strip() for line in (data.get("options") or "").splitlines()]
        lines = [line for line in lines if line]
        data["labels"], data["times"] = [], []
        if "options" not in data:
            return data
        if data.get("kind") == PollKind.TIME:
            zone = timezone.get_current_timezone()
            times, bad = [], []
            for number, line in enumerate(lines, start=1):
                parsed = _parse_time(line)
                if parsed is None:
                    bad.append(f"{number} (“{line}”)")
                else:
                    times.append(timezone.make_aware(parsed, zone))
            if bad:
                self.add_error(
                    "options",
                    _(
                        "Line %(lines)s is not a date and time. Write each as YYYY-MM-DD HH:MM, "
                        "for example 2030-05-06 18:30."
                    )
                    % {"lines": ", ".join(bad)},
                )
            data["times"] = times
        else:
            data["labels"] = lines
        if len(lines) < 2:
            self.add_error("options", _("Give at least two options, one per line."))
        return data


def _parse_time(line: str) -> datetime | None:
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(line, fmt)  # noqa: DTZ007 — made aware in the viewer's zone
        except ValueError:
            continue
    return None


SCORE_CHOICES = [(str(i), str(i)) for i in range(SCORE_MIN, SCORE_MAX + 1)]


# Ranked ballots, shared with elections: one numbered select per place ("1st choice", ...), so
# ranking needs no JavaScript. Only the first place is required, so a ranking may stop early.


def add_rank_fields(
    form: forms.Form,
    choices: list[tuple[str, str]],
    *,
    required: StrOrPromise,
    invalid_choice: StrOrPromise,
) -> None:
    """Add the fields rank_1 .. rank_n, one a choice, each offering every choice."""
    for i in range(1, len(choices) + 1):
        form.fields[f"rank_{i}"] = forms.TypedChoiceField(
            label=_("%(nth)s choice") % {"nth": ordinal(i)},
            choices=[("", "—"), *choices],
            coerce=int,
            empty_value=None,
            required=i == 1,
            error_messages={"required": required, "invalid_choice": invalid_choice},
        )


def check_ranking(
    form: forms.Form, data: dict[str, Any], *, places: int, repeated: Callable[[int], str]
) -> None:
    """Refuse a choice ranked twice, on the lower place, with what `repeated` says of it."""
    seen: set[int] = set()
    for i in range(1, places + 1):
        value = data.get(f"rank_{i}")
        if value is None:
            continue
        if value in seen:
            form.add_error(f"rank_{i}", repeated(value))
        seen.add(value)


def ranking(data: dict[str, Any], *, places: int) -> list[int]:
    """The ranked choices, best first, without the places left empty."""
    ranked = [data.get(f"rank_{i}") for i in range(1, places + 1)]
    return [c for c in ranked if c is not None]


class AnswerForm(forms.Form):
    """The answer form for one poll; its fields depend on the poll's kind and options."""

    def __init__(self, *args: Any, poll: Any, options: list[PollOption], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.poll = poll
        self.options = options
        kind = poll.kind
        choices = [(str(o.pk), o.text) for o in options]
        if kind == PollKind.APPROVAL:
            self.fields["approved"] = forms.TypedMultipleChoiceField(
                label=_("The options you approve of"),
                choices=choices,
                coerce=int,
                widget=forms.CheckboxSelectMultiple,
                error_messages={
                    "required": _("Approve at least one option."),
                    "invalid_choice": _("Choose among this poll's options."),
                },
            )
        elif kind == PollKind.SCORE:
            for o in options:
                self.fields[f"score_{o.pk}"] = forms.TypedChoiceField(
                    label=o.text,
                    choices=SCORE_CHOICES,
                    coerce=int,
                    widget=forms.RadioSelect,
                    error_messages={
                        "required": _("Give a score from 0 to 5."),
                        "invalid_choice": _("Give a score from 0 to 5."),
                    },
                )
        elif kind == PollKind.RANKED:
            add_rank_fields(
                self,
                choices,
                required=_("Choose your first choice."),
                invalid_choice=_("Choose among this poll's options."),
            )
        else:
            for o in options:
                self.fields[f"time_{o.pk}"] = forms.ChoiceField(
                    label=o.text,
                    choices=Availability.choices,
                    widget=forms.RadioSelect,
                    error_messages={
                        "required": _("Answer yes, if need be or no."),
                        "invalid_choice": _("Answer yes, if need be or no."),
                    },
                )

    @classmethod
    def initial_from(cls, poll: Any, choices: Any) -> dict[str, Any]:
        """The form's initial values from a stored answer's choices."""
        if choices is None:
            return {}
        if poll.kind == PollKind.APPROVAL:
            return {"approved": [str(o) for o in choices]}
        if poll.kind == PollKind.RANKED:
            return {f"rank_{i}": str(o) for i, o in enumerate(choices, start=1)}
        prefix = "score" if poll.kind == PollKind.SCORE else "time"
        return {f"{prefix}_{o}": str(v) for o, v in choices.items()}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.poll.kind == PollKind.RANKED:
            labels = {o.pk: o.text for o in self.options}
            check_ranking(
                self,
                data,
                places=len(self.options),
                repeated=lambda value: (
                    _("You have already ranked “%(o)s” higher; choose each option once.")
                    % {"o": labels.get(value, value)}
                ),
            )
        return data

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned answer as ballot_cast's keyword argument for this kind."""
        data = self.cleaned_data
        kind = self.poll.kind
        if kind == PollKind.APPROVAL:
            return {"approved": list(data["approved"])}
        if kind == PollKind.SCORE:
            return {"scores": {o.pk: data[f"score_{o.pk}"] for o in self.options}}
        if kind == PollKind.RANKED:
            return {"ranking": ranking(data, places=len(self.options))}
        return {"availability": {o.pk: data[f"time_{o.pk}"] for o in self.options}}
