from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

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

TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")


class PollForm(forms.Form):
    title = forms.CharField(label=_("Question"), max_length=200)
    details = forms.CharField(
        label=_("Details"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=20_000,
        help_text=_("Anything members should know before answering. Markdown allowed."),
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


class BallotForm(forms.Form):
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
            for i in range(1, len(options) + 1):
                self.fields[f"rank_{i}"] = forms.TypedChoiceField(
                    label=_("%(nth)s choice") % {"nth": ordinal(i)},
                    choices=[("", "—"), *choices],
                    coerce=int,
                    empty_value=None,
                    required=i == 1,
                    error_messages={
                        "required": _("Choose your first choice."),
                        "invalid_choice": _("Choose among this poll's options."),
                    },
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
        """The form's initial values from a stored ballot's choices."""
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
            seen: set[int] = set()
            for i in range(1, len(self.options) + 1):
                value = data.get(f"rank_{i}")
                if value is None:
                    continue
                if value in seen:
                    self.add_error(
                        f"rank_{i}",
                        _("You have already ranked “%(o)s” higher; choose each option once.")
                        % {"o": labels.get(value, value)},
                    )
                seen.add(value)
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
            ranked = [data.get(f"rank_{i}") for i in range(1, len(self.options) + 1)]
            return {"ranking": [o for o in ranked if o is not None]}
        return {"availability": {o.pk: data[f"time_{o.pk}"] for o in self.options}}
