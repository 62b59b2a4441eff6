from __future__ import annotations

from typing import Any

from django import forms

from circlework.notifications.models import Delivery, NotificationKind


class PreferencesForm(forms.Form):
    def __init__(self, *args: Any, initial_choices: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind, label in NotificationKind.choices:
            self.fields[kind] = forms.ChoiceField(
                label=label,
                choices=Delivery.choices,
                initial=initial_choices.get(kind),
                widget=forms.RadioSelect,
            )
