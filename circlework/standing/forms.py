from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class StandByForm(forms.Form):
    colleague = forms.TypedChoiceField(label=_("Colleague"), coerce=int)
    basis = forms.CharField(
        label=_("Basis"),
        max_length=300,
        help_text=_(
            "How you know their practice, e.g. “we have met for two years in peer supervision”."
        ),
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["colleague"].choices = choices  # type: ignore[attr-defined]


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Your reasons"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text=_(
            "Only the circle's members read them. Publicly your colleague's profile shows only how many stand by them — never your reasons."
        ),
    )


class ConcernResponseForm(forms.Form):
    response = forms.CharField(
        label=_("The circle's response"), widget=forms.Textarea(attrs={"rows": 5}), max_length=5000
    )
    resolve = forms.BooleanField(label=_("This resolves the concern"), required=False)
