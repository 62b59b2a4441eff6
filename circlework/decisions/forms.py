from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circlework.agreements import ceremonies
from circlework.agreements.models import AGREEMENT_LEVEL_WORDS, Agreement, AgreementKind
from circlework.agreements.rules import agreement_levels, default_level
from circlework.agreements.selectors import review_draft
from circlework.circles.covenant import (
    RANGES,
    RECOMMENDED_MAX_RANGE,
    FormingCirclesMay,
    OfficerElectorate,
)
from circlework.circles.models import Circle
from circlework.core.errors import InvalidInput
from circlework.decisions.models import Process, RuleChoice, SilenceChoice, StanceChoice
from circlework.decisions.selectors import revisable

KINDS = ("none", "revise", "new")


class ProposalForm(forms.Form):
    """A proposal of one kind: a decision only, the revision of an agreement, or a new one.

    The kind (`adopts`) is chosen first (proposal_new's `?kind=`, kept in a hidden field) and the
    form has only the fields that kind needs: anything else posted is not read. Revising a
    decision rule, or adopting a new one, adds the rule's own fields."""

    BASE_FIELDS = ("adopts", "title", "text", "process", "closes_at")
    # The decision rule's parameters, for a decision-rule agreement.
    RULE_FIELDS = ("rule", "fallback_after_rounds", "silence")
    # A ceremony's moment and roles (agreements.ceremonies), for a ceremony agreement.
    CEREMONY_FIELDS = ("ceremony_moment", "ceremony_roles")
    # The fields a kind keeps are all needed.
    REQUIRED_MESSAGES = {
        "agreement": _("Choose the agreement to revise."),
        "new_agreement_kind": _("Choose the kind of agreement."),
        "new_agreement_title": _("Give the new agreement a title."),
        "agreement_text": _("Give the agreement text this proposal would adopt."),
    }
    KIND_FIELDS = {
        "none": (),
        "revise": ("agreement", "agreement_text"),
        "new": (
            "new_agreement_kind",
            "new_agreement_title",
            "new_agreement_visibility",
            "agreement_text",
        ),
    }

    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(
        label=_("The proposal"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20_000,
        help_text=_(
            "What you propose and why. You can use simple formatting: **bold**, # heading, - list."
        ),
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
        widget=forms.HiddenInput,
    )
    agreement = forms.ModelChoiceField(
        label=_("Agreement to revise"),
        queryset=Agreement.objects.none(),
        required=False,
        widget=forms.HiddenInput,
    )
    new_agreement_kind = forms.ChoiceField(
        label=_("Kind of new agreement"),
        choices=[("", "—"), *AgreementKind.choices],
        required=False,
        widget=forms.HiddenInput,
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
        help_text=_("You can use simple formatting: **bold**, # heading, - list."),
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
    silence = forms.ChoiceField(
        label=_("If voices are missing or not yet confirmed at the closing time"),
        choices=[("", _("The rule's usual way")), *SilenceChoice.choices],
        required=False,
        help_text=_(
            "The usual way: extend once and remind for consent and majority; every voice is "
            "needed for consensus."
        ),
    )
    ceremony_moment = forms.ChoiceField(
        label=_("When it is used"),
        choices=[("", ceremonies.NO_MOMENT_LABEL), *ceremonies.MOMENTS],
        required=False,
        help_text=_(
            "When a moment like this comes, the ceremony is suggested for the circle's next "
            "meeting."
        ),
    )
    ceremony_roles = forms.CharField(
        label=_("The roles people take"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=5000,
        help_text=_(
            "One role a line, with what the person does. For example: Convener: opens with a round"
        ),
    )

    def __init__(self, *args: Any, circle: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault(
            "closes_at",
            timezone.localtime(timezone.now() + timedelta(days=7)).replace(second=0, microsecond=0),
        )
        super().__init__(*args, **kwargs)
        self.circle = circle
        self.fields["agreement"].queryset = Agreement.objects.filter(circle=circle)  # type: ignore[attr-defined]
        self.kind = self._chosen("adopts") if self._chosen("adopts") in KINDS else "none"
        self.revised = self._revised_agreement() if self.kind == "revise" else None
        self.new_kind = self._chosen("new_agreement_kind") if self.kind == "new" else ""
        agreement_kind = self.revised.kind if self.revised is not None else self.new_kind
        keep = set(self.BASE_FIELDS) | set(self.KIND_FIELDS[self.kind])
        if agreement_kind == AgreementKind.DECISION_RULE:
            keep |= set(self.RULE_FIELDS)
        if self.kind != "none" and agreement_kind == AgreementKind.CEREMONY:
            keep |= set(self.CEREMONY_FIELDS)
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        for name, message in self.REQUIRED_MESSAGES.items():
            if name in self.fields:
                self.fields[name].required = True
                self.fields[name].error_messages["required"] = message
        if "new_agreement_visibility" not in self.fields:
            return
        self.fields["new_agreement_visibility"].choices = [  # type: ignore[attr-defined]
            (level, AGREEMENT_LEVEL_WORDS[level]) for level in agreement_levels(circle.visibility)
        ]
        self.fields["new_agreement_visibility"].initial = default_level(circle.visibility)

    def _chosen(self, name: str) -> Any:
        """A choice that shapes the form: as posted, or as the page was opened with."""
        if self.is_bound:
            return self.data.get(name) or ""
        value = self.initial.get(name, self.fields[name].initial)
        return getattr(value, "pk", value) or ""

    def _revised_agreement(self) -> Agreement | None:
        pk = self._chosen("agreement")
        if not str(pk).isdigit():
            return None
        return Agreement.objects.filter(circle=self.circle, pk=int(pk)).first()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Only what this kind of proposal needs is read.
        data["adopts"] = self.kind
        for name in ("agreement", "new_agreement_kind", "new_agreement_title", "agreement_text"):
            data.setdefault(name, None if name == "agreement" else "")
        if "ceremony_moment" in self.fields:
            # The ceremony's settings, checked by the one vocabulary (agreements.ceremonies).
            try:
                data["ceremony_parameters"] = ceremonies.ceremony_parameters(
                    data.get("ceremony_moment") or "", data.get("ceremony_roles") or ""
                )
            except InvalidInput as exc:
                for name, messages in exc.fields.items():
                    self.add_error(name, messages)
        return data


REVIEW_OPEN_DAYS = 14


def proposal_start(circle: Circle, query: Mapping[str, str]) -> dict[str, Any]:
    """The new-proposal page's starting point from its address: `?kind=` (none, revise, new),
    `&agreement=` (the one to revise: its text and rule filled in), `&agreement_kind=` (of a new
    one) and `&review=1` (a review of that agreement, worded for whether it is due). Nothing is
    opened or announced until the member sends the form."""
    kind = query.get("kind", "none")
    start: dict[str, Any] = {"adopts": kind if kind in KINDS else "none"}
    if start["adopts"] == "new" and query.get("agreement_kind") in AgreementKind.values:
        start["new_agreement_kind"] = query["agreement_kind"]
    pk = query.get("agreement", "")
    if start["adopts"] != "revise" or not pk.isdigit():
        return start
    agreement = (
        Agreement.objects.filter(circle=circle, pk=int(pk), current_version__isnull=False)
        .select_related("current_version")
        .first()
    )
    if agreement is None:
        return start
    draft = review_draft(agreement)
    start.update(agreement=agreement.pk, agreement_text=draft.agreement_text)
    start.update({k: v for k, v in draft.parameters.items() if k in ProposalForm.RULE_FIELDS})
    if agreement.kind == AgreementKind.CEREMONY:
        # A revision starts from the ceremony's moment and roles as they are.
        ceremony = ceremonies.read(draft.parameters)
        start.update(ceremony_moment=ceremony.moment, ceremony_roles=ceremony.roles_text)
    if query.get("review"):
        start.update(
            title=draft.title,
            text=draft.text,
            closes_at=timezone.localtime(timezone.now() + timedelta(days=REVIEW_OPEN_DAYS)).replace(
                second=0, microsecond=0
            ),
        )
    return start


def proposal_page(form: ProposalForm) -> dict[str, Any]:
    """What the new-proposal page shows around the form: the kinds to choose from, and whether a
    choice (which agreement, what kind of new one) is still to be made before the form."""
    circle = form.circle
    revising = revisable(circle=circle) if form.kind == "revise" else []
    open_about = next(
        (p for a, p in revising if form.revised is not None and a.pk == form.revised.pk), None
    )
    return {
        "kind": form.kind,
        "revisable": revising,
        "revised": form.revised,
        "open_about": open_about,
        "agreement_kinds": AgreementKind.choices,
        "new_kind_label": dict(AgreementKind.choices).get(form.new_kind, ""),
        "choose_first": not form.is_bound
        and (
            (form.kind == "revise" and form.revised is None)
            or (form.kind == "new" and not form.new_kind)
        ),
    }


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
        help_text=_("You can use simple formatting: **bold**, # heading, - list."),
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
        help_text=_("You can use simple formatting: **bold**, # heading, - list."),
    )
    min_circle_size = forms.IntegerField(label=_("Minimum circle size"), required=False)
    links_required = forms.IntegerField(
        label=_("Links a circle needs to be validated"), required=False
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

    recommended_max_circle_size = forms.IntegerField(
        label=_("Usual largest size of a circle"),
        required=False,
        help_text=_(
            "A circle larger than this is shown a gentle note; nobody is stopped from joining."
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
        "recommended_max_circle_size",
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
        low, high = RECOMMENDED_MAX_RANGE
        self.fields["recommended_max_circle_size"].widget.attrs.update({"min": low, "max": high})

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
