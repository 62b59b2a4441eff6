from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ResignForm(forms.Form):
    reason = forms.CharField(
        label=_("Why you are stepping down"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Everyone the mandate serves is told, with this reason."),
    )


class HandoverForm(forms.Form):
    handover_plan = forms.CharField(
        label=_("Handover plan"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "How this role will be reduced or passed on. You can use simple formatting: **bold**, # heading, - list."
        ),
    )


class NoticeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=160)
    text = forms.CharField(
        label=_("Notice"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Goes to every current member of the federation's circles."),
    )
