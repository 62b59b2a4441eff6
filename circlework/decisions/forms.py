from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circlework.agreements.models import Agreement, AgreementKind
from circlework.circles.covenant import RANGES, FormingCirclesMay, OfficerElectorate
from circlework.circles.models import Circle
from circlework.decisions.models import Process, RuleChoice, StanceChoice


class ProposalForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(
        label=_("The proposal"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20_000,
        help_text=_("What you propose and why. Markdown allowed."),
    )
    process = forms.ChoiceField(
        label=_("Process"),
        choices=Process.choices,
        initial=Process.CONSENT,
        help_text=_(
            "How the conversation goes. The result is decided by your circle's decision rule."
        ),
    )
    closes_at = forms.DateTimeField(
        label=_("Closes at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("In your time zone. Members who have not spoken are reminded a day before."),
    )
    adopts = forms.ChoiceField(
        label=_("Does it adopt or revise an agreement?"),
        choices=[
            ("none", _("No, it is a decision only")),
            ("revise", _("It revises one of our agreements")),
            ("new", _("It adopts a new agreement")),
        ],
        initial="none",
        widget=forms.RadioSelect,
    )
    agreement = forms.ModelChoiceField(
        label=_("Agreement to revise"), queryset=Agreement.objects.none(), required=False
    )
    new_agreement_kind = forms.ChoiceField(
        label=_("Kind of new agreement"),
        choices=[("", "—"), *AgreementKind.choices],
        required=False,
    )
    new_agreement_title = forms.CharField(
        label=_("Title of new agreement"), max_length=200, required=False
    )
    # Who reads the new agreement once adopted: the circle's own page's level or narrower
    # (choices set per circle below, by agreements.rules).
    new_agreement_visibility = forms.ChoiceField(
        label=_("Who can read the new agreement"),
        choices=[],
        required=False,
        widget=forms.RadioSelect,
        help_text=_(
            "Never more widely than your circle's own page. Members can change it later. An "
            "ethical statement reaches the public only when a member publishes it on the register."
        ),
    )
    agreement_text = forms.CharField(
        label=_("Agreement text it would adopt"),
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        max_length=50_000,
        help_text=_("Markdown allowed."),
    )
    rule = forms.ChoiceField(
        label=_("Decision rule (for a decision-rule agreement)"),
        choices=[("", "—"), *RuleChoice.choices],
        required=False,
    )
    fallback_after_rounds = forms.IntegerField(
        label=_("Majority after how many rounds"),
        min_value=1,
        max_value=10,
        initial=3,
        required=False,
    )

    def __init__(self, *args: Any, circle: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault(
            "closes_at",
            timezone.localtime(timezone.now() + timedelta(days=7)).replace(second=0, microsecond=0),
        )
        super().__init__(*args, **kwargs)
        self.fields["agreement"].queryset = Agreement.objects.filter(circle=circle)  # type: ignore[attr-defined]
        from circlework.agreements.models import AGREEMENT_LEVEL_WORDS
        from circlework.agreements.rules import agreement_levels, default_level

        self.fields["new_agreement_visibility"].choices = [  # type: ignore[attr-defined]
            (level, AGREEMENT_LEVEL_WORDS[level]) for level in agreement_levels(circle.visibility)
        ]
        self.fields["new_agreement_visibility"].initial = default_level(circle.visibility)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        adopts = data.get("adopts")
        if adopts == "revise" and not data.get("agreement"):
            self.add_error("agreement", _("Choose the agreement to revise."))
        if adopts == "new":
            if not data.get("new_agreement_kind"):
                self.add_error("new_agreement_kind", _("Choose the kind of agreement."))
            if not data.get("new_agreement_title"):
                self.add_error("new_agreement_title", _("Give the new agreement a title."))
        if adopts in ("revise", "new") and not (data.get("agreement_text") or "").strip():
            self.add_error(
                "agreement_text", _("Give the agreement text this proposal would adopt.")
            )
        return data


class PositionForm(forms.Form):
    prefix = "position"  # several forms share the proposal page: keep their ids apart
    stance = forms.ChoiceField(
        label=_("Your position"), choices=StanceChoice.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Your reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        help_text=_("Needed for every position but agree."),
    )


class AmendmentForm(forms.Form):
    prefix = "amendment"
    text = forms.CharField(
        label=_("The proposal as you would amend it"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20_000,
    )
    agreement_text = forms.CharField(
        label=_("The agreement text as you would amend it"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=50_000,
    )
    reason = forms.CharField(
        label=_("Why this change"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )
    # The proposal version the text was written on: a stale amendment is refused, text kept.
    base_version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class AmendmentDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("decline", _("Decline"))])
    response = forms.CharField(
        label=_("Your response"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CommentForm(forms.Form):
    prefix = "comment"
    text = forms.CharField(
        label=_("Your comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)
    quote = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)
    # When editing: the revision the edit began from (decisions.services.comment_revision).
    base_revision = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class FederationProposalForm(forms.Form):
    circle = forms.ModelChoiceField(
        label=_("Raised by which of your circles?"),
        queryset=Circle.objects.none(),
        empty_label=None,
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(
        label=_("The proposal"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20_000,
        help_text=_("Markdown allowed."),
    )
    closes_at = forms.DateTimeField(
        label=_("Circles give their positions by"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave circles time to meet: three weeks is usual."),
    )
    # Optional: revise the covenant. Prefilled with the current text and rules (see __init__).
    revise_covenant = forms.BooleanField(
        label=_("This proposal revises the covenant"),
        required=False,
        help_text=_("If the circles agree, the text and rules below become the next version."),
    )
    covenant_text = forms.CharField(
        label=_("The covenant as it would read"),
        widget=forms.Textarea(attrs={"rows": 10}),
        max_length=50_000,
        required=False,
        help_text=_("Markdown allowed."),
    )
    min_circle_size = forms.IntegerField(label=_("Minimum circle size"), required=False)
    links_required = forms.IntegerField(
        label=_("Live links a circle needs to be validated"), required=False
    )
    link_lapse_months = forms.IntegerField(
        label=_("Months a validation link lasts"), required=False
    )
    no_closed_triangles = forms.BooleanField(
        label=_("No closed triangles: a circle's link circles must not link each other"),
        required=False,
    )
    officer_electorate = forms.ChoiceField(
        label=_("Federation officers are elected by"),
        choices=OfficerElectorate.CHOICES,
        required=False,
    )
    review_months = forms.IntegerField(
        label=_("Review the covenant after (months)"), required=False
    )
    forming_circles_may = forms.MultipleChoiceField(
        label=_("Members of forming circles (not yet validated) may also"),
        choices=FormingCirclesMay.CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "Whatever is ticked, a forming circle has no say in federation decisions, elections "
            "or the covenant until other circles validate it."
        ),
    )

    COVENANT_FIELDS = (
        "revise_covenant",
        "covenant_text",
        "min_circle_size",
        "links_required",
        "link_lapse_months",
        "no_closed_triangles",
        "officer_electorate",
        "review_months",
        "forming_circles_may",
    )
    RULE_FIELDS = COVENANT_FIELDS[2:]

    def __init__(
        self, *args: Any, circles: Any, covenant: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault(
            "closes_at",
            timezone.localtime(timezone.now() + timedelta(days=21)).replace(
                second=0, microsecond=0
            ),
        )
        for key, value in (covenant or {}).items():
            kwargs["initial"].setdefault(key, value)
        super().__init__(*args, **kwargs)
        self.fields["circle"].queryset = circles  # type: ignore[attr-defined]
        for name in ("min_circle_size", "links_required", "link_lapse_months", "review_months"):
            low, high = RANGES[name]
            self.fields[name].widget.attrs.update({"min": low, "max": high})

    def main_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name not in self.COVENANT_FIELDS]

    def covenant_fields(self) -> list[Any]:
        return [self[name] for name in self.COVENANT_FIELDS]

    def covenant_revision(self) -> tuple[str, dict[str, Any] | None]:
        """(text, rules) for federation_proposal_open, or ("", None) when not revising."""
        data = self.cleaned_data
        if not data.get("revise_covenant"):
            return "", None
        rules = {name: data.get(name) for name in self.RULE_FIELDS}
        return data.get("covenant_text") or "", {
            k: v for k, v in rules.items() if v is not None and v != ""
        }


class CirclePositionForm(forms.Form):
    circle = forms.IntegerField(widget=forms.HiddenInput)
    stance = forms.ChoiceField(
        label=_("The circle's position"), choices=StanceChoice.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("The circle's reasons"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    dissent = forms.CharField(
        label=_("Dissent inside the circle"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        help_text=_(
            "Concerns and disagreement that remain among members — they travel with the circle's position."
        ),
    )
    internal_proposal = forms.IntegerField(required=False, widget=forms.HiddenInput)
