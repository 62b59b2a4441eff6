from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circlework.circles.roles import Method, Role
from circlework.elections.models import ConsentStance
from circlework.polls.forms import add_rank_fields, check_ranking, ranking

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


SHORT_METHODS = {
    Method.CONSENT: _("consent election"),
    Method.STV: _("ranked ballots"),
    Method.IRV: _("instant runoff"),
    Method.APPROVAL: _("approval voting"),
}


def _local(days: int) -> Any:
    return timezone.localtime(timezone.now() + timedelta(days=days)).replace(
        second=0, microsecond=0
    )


class ElectionOpenForm(forms.Form):
    role = forms.ChoiceField(label=_("Role to fill"))
    method = forms.ChoiceField(
        label=_("Method"),
        required=False,
        help_text=_("Leave as agreed unless the circle or federation has decided otherwise."),
    )
    seats = forms.IntegerField(label=_("Seats"), min_value=1, max_value=12, initial=1)
    secret = forms.BooleanField(
        label=_("Secret ballot"),
        required=False,
        initial=True,
        help_text=_(
            "Everyone sees who has voted, nobody sees what anyone chose. Consent elections are "
            "always open: every nomination and consent is on the record."
        ),
    )
    nominations_close_at = forms.DateTimeField(
        label=_("Nominations close"),
        widget=DATETIME_WIDGET,
        help_text=_("In your time zone."),
    )
    voting_closes_at = forms.DateTimeField(
        label=_("Voting closes"),
        widget=DATETIME_WIDGET,
        help_text=_("In a consent election, the time by which the circle means to have finished."),
    )
    term_starts_on = forms.DateField(label=_("Term starts"), widget=DATE_WIDGET, required=False)
    term_ends_on = forms.DateField(
        label=_("Term ends"),
        widget=DATE_WIDGET,
        required=False,
        help_text=_("Leave empty for the longest term the agreement allows."),
    )
    handover_plan = forms.CharField(
        label=_("Handover plan"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
        help_text=_("How this role will be reduced or passed on. The mandate carries it."),
    )
    description = forms.CharField(
        label=_("About this election"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
        help_text=_("You can use simple formatting: **bold**, # heading, - list."),
    )

    def __init__(self, *args: Any, roles: list[Role], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("nominations_close_at", _local(7))
        kwargs["initial"].setdefault("voting_closes_at", _local(14))
        super().__init__(*args, **kwargs)
        self.roles = {r.slug: r for r in roles}
        self.fields["role"].choices = [  # type: ignore[attr-defined]
            (
                r.slug,
                _("%(name)s (terms up to %(n)s months; %(m)s)")
                % {"name": r.name, "n": r.term_months, "m": SHORT_METHODS[r.method]},
            )
            for r in roles
        ]
        self.fields["method"].choices = [  # type: ignore[attr-defined]
            ("", _("As agreed for the role")),
            *Method.CHOICES,
        ]


class NominationForm(forms.Form):
    """The nominee is one of the people the page offers (found by a name search where there are
    many): a radio button each. Bound to a POST, `choices` is the posted person when eligible."""

    nominee = forms.TypedChoiceField(
        label=_("Nominee"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the person you nominate."),
            "invalid_choice": _("Choose someone who can stand in this election."),
        },
    )
    reason = forms.CharField(
        label=_("Your reasons"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=3000,
        help_text=_("Everyone in the election reads them."),
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["nominee"].choices = choices  # type: ignore[attr-defined]

    def posted_nominee(self) -> int | None:
        """The person the POST names, before validation (to ask whether they are eligible)."""
        try:
            return int(self.data.get(self.add_prefix("nominee"), ""))
        except (TypeError, ValueError):
            return None


class ProposeForm(forms.Form):
    candidate = forms.TypedChoiceField(label=_("Candidate to propose"), coerce=int)

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["candidate"].choices = [("", "—"), *choices]  # type: ignore[attr-defined]


class ConsentForm(forms.Form):
    stance = forms.ChoiceField(
        label=_("Your answer"), choices=ConsentStance.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reasons"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=3000,
        required=False,
        help_text=_("Needed for an objection, so that it can be talked through."),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why cancel"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )


class BallotForm(forms.Form):
    """Ranked: numbered choices (selects, no JavaScript needed). Approval: a box per candidate."""

    def __init__(
        self, *args: Any, method: str, candidates: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.method = method
        self.candidates = candidates
        choices = [(str(pk), name) for pk, name in candidates]
        if method == Method.APPROVAL:
            self.fields["approved"] = forms.TypedMultipleChoiceField(
                label=_("The candidates you approve of"),
                choices=choices,
                coerce=int,
                widget=forms.CheckboxSelectMultiple,
                error_messages={
                    "required": _("Approve at least one candidate."),
                    "invalid_choice": _("Choose only among this election's candidates."),
                },
            )
            return
        add_rank_fields(
            self,
            choices,
            required=_("Choose at least your first choice."),
            invalid_choice=_("Choose only among this election's candidates."),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.method != Method.APPROVAL:
            names = dict(self.candidates)
            check_ranking(
                self,
                data,
                places=len(self.candidates),
                repeated=lambda value: (
                    _("You have already ranked %(c)s higher; choose each candidate once.")
                    % {"c": names.get(value, value)}
                ),
            )
        return data

    def choices(self) -> list[int]:
        data = self.cleaned_data
        if self.method == Method.APPROVAL:
            return list(data["approved"])
        return ranking(data, places=len(self.candidates))
