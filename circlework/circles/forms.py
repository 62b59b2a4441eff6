from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from circlework.circles.models import Circle, Federation
from circlework.core.visibility import Visibility

CIRCLE_FIELDS = [
    "name",
    "purpose",
    "locality",
    "meeting_pattern",
    "open_to_new_members",
    "visibility",
]
CIRCLE_VISIBILITY_CHOICES = [c for c in Visibility.choices if c[0] != Visibility.PRIVATE]


class CircleForm(forms.ModelForm):  # type: ignore[type-arg]
    visibility = forms.ChoiceField(
        label=_("Who can see this circle's page"),
        choices=CIRCLE_VISIBILITY_CHOICES,
        initial=Visibility.PUBLIC,
        help_text=_(
            "Members' names follow each member's own choice; history and invitations are for members only."
        ),
    )

    class Meta:
        model = Circle
        fields = [*CIRCLE_FIELDS, "requires_two_factor"]
        widgets = {"purpose": forms.Textarea(attrs={"rows": 5})}

    def __init__(
        self, *args: Any, without_two_factor: tuple[int, int] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if without_two_factor is not None and "requires_two_factor" in self.fields:
            lacking, total = without_two_factor
            field = self.fields["requires_two_factor"]
            field.help_text = f"{field.help_text} " + (
                ngettext(
                    "%(n)s of the %(t)s members has not set it up yet.",
                    "%(n)s of the %(t)s members have not set it up yet.",
                    lacking,
                )
                % {"n": lacking, "t": total}
                if lacking
                else _("Every member has set it up.")
            )


class CircleFoundForm(CircleForm):
    """Founding: the founder turns on 2FA for the circle later, from its edit page."""

    federation = forms.ModelChoiceField(
        label=_("Federation"), queryset=Federation.objects.all(), empty_label=None
    )

    class Meta(CircleForm.Meta):
        fields = ["federation", *CIRCLE_FIELDS]


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address of the person you invite"))
    message = forms.CharField(
        label=_("A personal message (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
