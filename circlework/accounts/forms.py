from __future__ import annotations

from functools import lru_cache
from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from circlework.accounts import names as display_names
from circlework.accounts.models import Credential, Practitioner
from circlework.accounts.time_zones import time_zone_choices
from circlework.core.visibility import Visibility


class SignupForm(AllauthSignupForm):  # type: ignore[misc]
    """Sign-up with the name colleagues will see. (An invitation's address is filled in by
    `circlework.circles.signup.InvitationSignupForm`, the form settings name.)"""

    display_name = forms.CharField(
        label=_("Your name as colleagues will see it"),
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    field_order = ["display_name", "email", "password1", "password2"]

    def clean_display_name(self) -> str:
        return _clean_display_name(self.cleaned_data["display_name"])


def _clean_display_name(name: str) -> str:
    """The display-name rule (accounts/names.py) before anything is saved. Whether the name
    copies a colleague's is for the service, which knows the circles."""
    problems = display_names.display_name_problems(name)
    if problems:
        raise forms.ValidationError(problems)
    return name


class CompactSelect(forms.Select):
    """A select written without the blank lines between options and without the end tags HTML
    lets one leave out: the time-zone list has some 440 options.

    Its options are written once per process (`_options_html`) and only the chosen one is
    marked on each page: Django's own way builds a dictionary and renders a template for each
    of the 440 options on every request (most of the profile page's 45 ms)."""

    template_name = "accounts/widgets/compact_select.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        # Not super().get_context: that builds the per-option dictionaries this widget avoids.
        context = forms.Widget.get_context(self, name, value, attrs)
        chosen = self.format_value(value)
        context["widget"]["options_html"] = _marked(
            _options_html(_frozen(self.choices)), chosen[0] if chosen else ""
        )
        return context


Frozen = tuple[tuple[str, tuple[tuple[str, str], ...] | str], ...]


def _frozen(choices: Any) -> Frozen:
    """Choices (grouped or not) as a key: every label as the text it reads now."""
    frozen: list[tuple[str, Any]] = []
    for value, label in choices:
        if isinstance(label, list | tuple):
            frozen.append((str(value), tuple((str(v), str(lb)) for v, lb in label)))
        else:
            frozen.append((str(value), str(label)))
    return tuple(frozen)


@lru_cache(maxsize=32)
def _options_html(choices: Frozen) -> tuple[str, dict[str, int]]:
    """The options as HTML (groups as <optgroup>, end tags left out), and where to mark each
    value as chosen: the place just after its first option's value."""
    parts: list[str] = []
    marks: dict[str, int] = {}
    length = 0

    def option(value: str, label: str) -> None:
        nonlocal length
        head = f'<option value="{escape(value)}"'
        if value not in marks:
            marks[value] = length + len(head)
        piece = f"{head}>{escape(label)}"
        parts.append(piece)
        length += len(piece)

    for value, label in choices:
        if isinstance(label, tuple):
            group = f'<optgroup label="{escape(value)}">'
            parts.append(group)
            length += len(group)
            for v, lb in label:
                option(v, lb)
        else:
            option(value, label)
    return "".join(parts), marks


def _marked(options: tuple[str, dict[str, int]], chosen: str) -> str:
    html, marks = options
    at = marks.get(chosen)
    if at is not None:
        html = html[:at] + " selected" + html[at:]
    return mark_safe(html)  # noqa: S308 - every value and label escaped above


class ProfileForm(forms.ModelForm):  # type: ignore[type-arg]
    time_zone = forms.ChoiceField(
        label=_("Your time zone"),
        help_text=_("Dates and times are shown to you in this zone."),
        widget=CompactSelect,
    )

    class Meta:
        model = Practitioner
        fields = [
            "display_name", "display_name_visibility",
            "pronouns", "pronouns_visibility",
            "modalities", "modalities_visibility",
            "languages", "languages_visibility",
            "location", "location_visibility",
            "statement", "statement_visibility",
            "time_zone",
        ]  # fmt: skip
        widgets = {
            "statement": forms.Textarea(attrs={"rows": 6}),
            **{f"{name}_visibility": CompactSelect for name in Practitioner.PROFILE_FIELDS},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in Practitioner.PROFILE_FIELDS:
            self.fields[f"{name}_visibility"].label = _("Who can see this")
        # Common zones first, then by region; the zone already chosen is always offered.
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = time_zone_choices(current=self.instance.time_zone)

    def clean_display_name(self) -> str:
        return _clean_display_name(self.cleaned_data["display_name"])


class CredentialForm(forms.Form):
    title = forms.CharField(
        label=_("Title"), max_length=200, help_text=_("e.g. Diploma in Humanistic Counselling")
    )
    issuer = forms.CharField(label=_("Issued by"), max_length=200)
    year = forms.IntegerField(label=_("Year"), min_value=1900, max_value=2100)
    visibility = forms.ChoiceField(
        label=_("Who can see this"), choices=Visibility.choices, initial=Visibility.FEDERATION
    )
    document = forms.FileField(
        label=_("Document (optional)"),
        required=False,
        help_text=_(
            "PDF, PNG or JPEG, at most 5 MB. Only people who can see the credential can open it."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )


class CredentialEditForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Credential
        fields = ["title", "issuer", "year", "visibility"]


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("What is this token for?"), max_length=80)


class AccountDeleteForm(forms.Form):
    confirm_email = forms.CharField(
        label=_("Type your e-mail address to confirm"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
