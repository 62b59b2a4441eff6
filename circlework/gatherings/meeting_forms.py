"""Forms of the meeting's page: answer, agenda items, minutes and their confirmation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from circlework.gatherings.models import Answer


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(label=_("Are you coming?"), choices=Answer.choices)


class AgendaItemForm(forms.Form):
    title = forms.CharField(label=_("Item"), max_length=200)
    details = forms.CharField(
        label=_("Details"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    minutes = forms.IntegerField(
        label=_("Time for it (minutes)"), min_value=1, max_value=480, required=False
    )
    about = forms.ChoiceField(label=_("About"), required=False)

    def __init__(self, *args: Any, about: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["about"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Nothing in particular")), *(about or [])]
        if not about:
            del self.fields["about"]


class AgendaChangeForm(forms.Form):
    title = forms.CharField(label=_("Item"), max_length=200)
    details = forms.CharField(
        label=_("Details"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    minutes = forms.IntegerField(
        label=_("Time for it (minutes)"), min_value=1, max_value=480, required=False
    )


class MinutesForm(forms.Form):
    text = forms.CharField(
        label=_("Minutes"),
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("You can use simple formatting: **bold**, # heading, - list."),
    )
    present = forms.TypedMultipleChoiceField(
        label=_("Who came"), coerce=int, widget=forms.CheckboxSelectMultiple, required=False
    )
    change_note = forms.CharField(label=_("What changed"), max_length=500, required=False)

    def __init__(
        self, *args: Any, people: list[tuple[int, str]] | None = None, first: bool = True, **kw: Any
    ):
        super().__init__(*args, **kw)
        field = self.fields["present"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = list(people or [])
        if first:
            del self.fields["change_note"]


class CorrectionForm(forms.Form):
    correction = forms.CharField(
        label=_("What should change"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
