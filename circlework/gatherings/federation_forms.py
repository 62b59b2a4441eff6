"""Forms of federation gatherings: proposing one, a circle's sign-up, offering and deciding a
session, and the public's registration. The services check everything again; these only parse.

Times are read as the clock on the wall where the gathering is (its chosen time zone), so a
form's datetime is handed on without a zone (`wall_clock`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circlework.accounts.models import DEFAULT_TIME_ZONE
from circlework.accounts.time_zones import time_zone_choices
from circlework.circles.models import Circle

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def wall_clock(value: datetime) -> datetime:
    """The time as typed: Django made it aware in the viewer's zone; the service reads a naive
    time in the gathering's own zone."""
    return timezone.make_naive(value) if timezone.is_aware(value) else value


class FederationGatheringForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    details = forms.CharField(
        label=_("What it is for"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("You can use simple formatting: **bold**, # heading, - list."),
    )
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DATETIME_WIDGET)
    ends_at = forms.DateTimeField(
        label=_("Ends"),
        widget=DATETIME_WIDGET,
        required=False,
        help_text=_("Leave it empty for two hours after the start. At most a week."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"), help_text=_("The times above are the clock on the wall there.")
    )
    place = forms.CharField(label=_("Place"), max_length=300, required=False)
    online_link = forms.URLField(
        label=_("Online link"),
        max_length=500,
        assume_scheme="https",
        required=False,
        help_text=_("Shown to the federation's members only."),
    )
    host_circle = forms.ModelChoiceField(
        label=_("Hosted by"),
        queryset=Circle.objects.none(),
        empty_label=None,
        help_text=_("Which of your circles hosts it. Its members arrange the programme with you."),
    )
    is_public = forms.BooleanField(
        label=_("Open to the public"),
        required=False,
        help_text=_(
            "Anyone can see it and register with their name and e-mail address. The place, "
            "the online link and who is coming stay with the federation."
        ),
    )

    def __init__(
        self, *args: Any, circles: Iterable[Circle], time_zone: str = "", **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("time_zone", time_zone or DEFAULT_TIME_ZONE)
        super().__init__(*args, **kwargs)
        field = self.fields["host_circle"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Circle.objects.filter(pk__in=[c.pk for c in circles]).order_by("name")
        zone = self.fields["time_zone"]
        assert isinstance(zone, forms.ChoiceField)
        zone.choices = time_zone_choices(current=kwargs["initial"]["time_zone"])


class SignupForm(forms.Form):
    """A circle's sign-up: who from it is coming (checkboxes of its current members)."""

    attendees = forms.TypedMultipleChoiceField(
        label=_("Who is coming"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=_("A note for the organisers"),
        max_length=500,
        required=False,
        help_text=_("Optional: needs, arrival times, what the circle brings."),
    )

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["attendees"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = members


class SessionOfferForm(forms.Form):
    title = forms.CharField(label=_("Session title"), max_length=200)
    description = forms.CharField(
        label=_("What it offers"),
        max_length=3000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    minutes = forms.IntegerField(
        label=_("Length in minutes"), min_value=10, max_value=480, initial=60
    )


class SessionDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Take it into the programme")), ("decline", _("Not this time"))],
        widget=forms.RadioSelect,
    )
    starts_at = forms.DateTimeField(
        label=_("Starts"),
        required=False,
        widget=DATETIME_WIDGET,
        help_text=_("In the gathering's time zone."),
    )
    room = forms.CharField(label=_("Room"), max_length=100, required=False)


class RegistrationForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=160, widget=forms.TextInput())
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_(
            "We send you a confirmation with a link to cancel. Only the organisers see your name "
            "and address."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
