from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from circlework.notifications.models import Delivery, NotificationKind, ReminderLead
from circlework.notifications.services import REMINDERS_FIELD


class PreferencesForm(forms.Form):
    def __init__(
        self,
        *args: Any,
        initial_choices: dict[str, str],
        initial_reminders: str = ReminderLead.DAY,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for kind, label in NotificationKind.choices:
            self.fields[kind] = forms.ChoiceField(
                label=label,
                choices=Delivery.choices,
                initial=initial_choices.get(kind),
                widget=forms.RadioSelect,
            )
            if kind == NotificationKind.GATHERING_REMINDER:
                # Beside how reminders arrive: when they come. Not required, so a form sent
                # without it (an older page) keeps the choice already made.
                self.fields[REMINDERS_FIELD] = forms.ChoiceField(
                    label=_("When to remind you before a gathering you are invited to"),
                    choices=ReminderLead.choices,
                    initial=initial_reminders,
                    required=False,
                    widget=forms.RadioSelect,
                )

    def split(self) -> tuple[dict[str, str], str | None]:
        """The cleaned choices: deliveries by kind, and when to be reminded (None: unchanged)."""
        data = dict(self.cleaned_data)
        reminders = data.pop(REMINDERS_FIELD, None) or None
        return data, reminders
