from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from circlework.circles.models import Circle, Federation
from circlework.core.visibility import Visibility

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
        fields = [
            "name",
            "purpose",
            "locality",
            "meeting_pattern",
            "open_to_new_members",
            "visibility",
        ]
        widgets = {"purpose": forms.Textarea(attrs={"rows": 5})}


class CircleFoundForm(CircleForm):
    federation = forms.ModelChoiceField(
        label=_("Federation"), queryset=Federation.objects.all(), empty_label=None
    )

    class Meta(CircleForm.Meta):
        fields = ["federation", *CircleForm.Meta.fields]


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address of the person you invite"))
    message = forms.CharField(
        label=_("A personal message (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
