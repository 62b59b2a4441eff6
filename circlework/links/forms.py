"""Plain forms for links. Rules and checks live in the services; these only parse."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circlework.circles.models import Circle


class LinkRequestForm(forms.Form):
    validating_circle = forms.ModelChoiceField(
        label=_("Circle to ask"),
        queryset=Circle.objects.none(),
        empty_label=_("Choose a circle"),
        help_text=_(
            "The circle you ask meets you, then decides whether it validates your process."
        ),
    )
    message = forms.CharField(
        label=_("Message to the other circle"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=3000,
        required=False,
        help_text=_(
            "Who you are, how you work, and why you ask them. Only the two circles' members read it."
        ),
    )
    reciprocal = forms.BooleanField(
        label=_("We offer to validate them in return (a reciprocal link)"),
        required=False,
        help_text=_("Each circle then meets the other and decides by its own proposal."),
    )

    def __init__(self, *args: Any, circles: list[Circle], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["validating_circle"]
        field.queryset = Circle.objects.filter(pk__in=[c.pk for c in circles]).order_by("name")  # type: ignore[attr-defined]


class MeetingForm(forms.Form):
    met_on = forms.DateField(
        label=_("Date of the meeting"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    attendees = forms.TypedMultipleChoiceField(
        label=_("Who came"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("At least one member of each circle."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        required=False,
        help_text=_("What you did together. Only the two circles' members read them."),
    )

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("met_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["attendees"].choices = people  # type: ignore[attr-defined]


class DecisionOpenForm(forms.Form):
    closes_at = forms.DateTimeField(
        label=_("The circle decides by"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_(
            "In your time zone. It follows your circle's decision rule, like any proposal."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault(
            "closes_at",
            timezone.localtime(timezone.now() + timedelta(days=7)).replace(second=0, microsecond=0),
        )
        super().__init__(*args, **kwargs)


class StatementForm(forms.Form):
    statement = forms.CharField(
        label=_("Our statement"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        help_text=_("What your circle says about their process. Public, on the link's page."),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("The circle's reasons"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text=_(
            "Only the two circles' members read them. Publicly the link only shows as withdrawn."
        ),
    )
