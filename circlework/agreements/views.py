"""A circle's agreements (its living forms), their versions and diffs, reviews and borrowing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, F, TextField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from circlework.agreements import ceremonies, discussion, proposals, selectors, services
from circlework.agreements.lineage_svg import Edge
from circlework.agreements.lineage_svg import render as render_svg
from circlework.agreements.models import (
    AGREEMENT_LEVEL_WORDS,
    Agreement,
    AgreementKind,
    EthicsCirculation,
)
from circlework.agreements.paging import pager_urls
from circlework.agreements.rules import borrow_targets, visibility_choices
from circlework.circles.covenant import review_due, rules_from, rules_in_words
from circlework.circles.models import Circle, Federation
from circlework.circles.names import a_circle
from circlework.circles.selectors import circles_of, circles_visible_to
from circlework.core.diff import diff
from circlework.core.errors import ApplicationError
from circlework.core.http import (
    flash_error,
    form_error,
    me,
    page_number,
    query_number,
    require_perm,
)
from circlework.core.permissions import allowed
from circlework.core.visibility import Visibility

REVIEW_OPEN_DAYS = 14


class BorrowForm(forms.Form):
    circle = forms.ModelChoiceField(
        label=gettext_lazy("Into which of your circles?"),
        queryset=Circle.objects.none(),
        empty_label=None,
    )


class VisibilityForm(forms.Form):
    visibility = forms.ChoiceField(
        label=gettext_lazy("Who can read it"),
        choices=[],
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Never more widely than your circle's own page. The change is kept in the circle's "
            "history."
        ),
    )

    def __init__(self, *args: Any, agreement: Agreement, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"visibility": agreement.visibility})
        super().__init__(*args, **kwargs)
        levels = visibility_choices(
            agreement.kind, agreement.visibility, agreement.circle.visibility
        )
        self.fields["visibility"].choices = [  # type: ignore[attr-defined]
            (level, AGREEMENT_LEVEL_WORDS[level]) for level in levels
        ]


class EthicsCommentForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Your comment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text=gettext_lazy(
            "Read by members of the federation's circles only, never by the public."
        ),
    )


@login_required
def agreement_list(request: HttpRequest, slug: str) -> HttpResponse:
    circle = get_object_or_404(Circle.objects.select_related("federation"), slug=slug)
    require_perm(request, "agreements.view_agreements", circle)
    today = timezone.localdate()
    return render(
        request,
        "agreements/agreement_list.html",
        {
            "circle": circle,
            "agreements": selectors.circle_agreements(circle=circle),
            "due": selectors.reviews_due(circles=[circle]),
            "today": today,
            "borrowable": selectors.borrowable(user=request.user, exclude_circle=circle)[:50],
            "ethics_drafts": proposals.provider().ethics_drafts(circle),
            "tab": "agreements",
            "is_member": True,
        },
    )


def review_form_url(agreement: Agreement) -> str:
    """The new-proposal form, pre-filled as a review of the agreement."""
    query = urlencode({"kind": "revise", "agreement": agreement.pk, "review": 1})
    return f"{reverse('decisions:proposal_new', args=[agreement.circle.slug])}?{query}"


@dataclass(frozen=True)
class VersionRow:
    number: int
    adopted_at: datetime
    decision_url: str  # the proposal whose outcome adopted it


def _wanted(request: HttpRequest) -> tuple[int | None, int | None]:
    """The two versions asked for (`?from=&to=`), if both are given as numbers a version could
    have (core.http.query_number); otherwise neither, and the page compares its default two."""
    a, b = (query_number(request.GET.get(name)) for name in ("from", "to"))
    if ("from" in request.GET and a is None) or ("to" in request.GET and b is None):
        return None, None
    return a, b


def _versions(
    request: HttpRequest, agreement: Agreement
) -> tuple[list[VersionRow], int | None, int | None, Any]:
    """The agreement's versions, oldest first, with the decision that adopted each, and the two
    compared (by default the last two) with their diff. One query for any number of versions:
    only the two compared bring their texts."""
    asked_a, asked_b = _wanted(request)
    current = agreement.current_version.number if agreement.current_version else 0
    # By default the last two (versions are numbered one after another).
    a = asked_a if asked_a is not None else current - 1
    b = asked_b if asked_b is not None else current
    chosen = {a, b}
    rows = list(
        agreement.versions.order_by("number")
        .annotate(
            compared_text=Case(
                When(number__in=chosen, then=F("text")), default=Value(""), output_field=TextField()
            )
        )
        .values_list(
            "number",
            "adopted_at",
            "adopted_by__proposal_id",
            "adopted_by__proposal__circle__slug",
            "compared_text",
        )
    )
    versions = [
        VersionRow(
            number,
            adopted_at,
            reverse("decisions:proposal_detail", kwargs={"slug": slug, "pk": proposal_id}),
        )
        for number, adopted_at, proposal_id, slug, _text in rows
    ]
    if len(versions) < 2:
        return versions, None, None, None
    texts = {number: text for number, _at, _p, _s, text in rows}
    if a not in texts or b not in texts:
        a, b = versions[-2].number, versions[-1].number
        if not {a, b} <= chosen:  # versions not numbered one after another: read the two
            chosen = {a, b}
            texts = dict(agreement.versions.filter(number__in=chosen).values_list("number", "text"))
    return versions, a, b, diff(texts[a], texts[b])


def agreement_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    agreement = get_object_or_404(
        Agreement.objects.select_related(
            "circle__federation", "current_version", "borrowed_from__agreement__circle"
        ),
        pk=pk,
        circle__slug=slug,
    )
    require_perm(request, "agreements.view_agreement", agreement)
    versions, a, b, text_diff = _versions(request, agreement)
    is_member = allowed("agreements.review_agreement", request.user, agreement)
    # Only the circles it may go to: every member of each must be able to read it (the rule
    # "agreements.borrow_agreement" is that there is at least one).
    targets = borrow_targets(request.user, agreement) if request.user.is_authenticated else []
    return render(
        request,
        "agreements/agreement_detail.html",
        {
            "circle": agreement.circle,
            "agreement": agreement,
            "versions": versions,
            "a": a,
            "b": b,
            "text_diff": text_diff,
            "today": timezone.localdate(),
            "review_is_due": selectors.is_review_due(agreement),
            "review_url": review_form_url(agreement),
            "open_proposal": proposals.provider().open_about(agreement),
            "borrow_targets": targets,
            "borrowings": selectors.borrowings_of(user=request.user, agreement=agreement),
            "visibility_form": VisibilityForm(agreement=agreement)
            if allowed("agreements.change_visibility", request.user, agreement)
            else None,
            "tab": "agreements",
            "is_member": is_member,
            # A ceremony's moment and the roles people take in it, beside its text.
            "ceremony": ceremonies.read(agreement.current_version.parameters)
            if agreement.kind == AgreementKind.CEREMONY and agreement.current_version
            else None,
            **_ethics_context(request, agreement, is_member),
        },
    )


def _ethics_context(request: HttpRequest, agreement: Agreement, is_member: bool) -> dict[str, Any]:
    """For an ethical statement: circulate/publish for its circle; for the federation, its
    circulations and the comments on them, each a page at a time from the latest
    (`?circulations=`, `?comments=`)."""
    if agreement.kind != AgreementKind.ETHICS:
        return {"is_ethics": False}
    # Every circulation of the statement is its circle's: read by the federation's members.
    if not allowed("agreements.view_circle_circulations", request.user, agreement.circle):
        circulations = comments = None
    else:
        circulations = discussion.statement_circulations(
            user=request.user, agreement=agreement, page=page_number(request, "circulations")
        )
        comments = discussion.statement_comments(
            user=request.user, agreement=agreement, page=page_number(request, "comments")
        )
    circulated_at = circulations.current_circulated_at if circulations else None
    return {
        "is_ethics": True,
        "circulations": circulations,
        "ethics_comments": comments,
        "ethics_pager": pager_urls(
            agreement.get_absolute_url(), request.GET, "circulations", "comments"
        ),
        "comment_form": EthicsCommentForm() if circulations and circulations.latest_id else None,
        "latest_circulation_id": circulations.latest_id if circulations else None,
        "circulated_at": circulated_at,
        "can_circulate": is_member and agreement.current_version is not None and not circulated_at,
        "can_publish": is_member
        and agreement.current_version is not None
        and agreement.visibility != Visibility.PUBLIC,
    }


@login_required
def agreement_review(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The review form, pre-filled with the current text: nothing is opened or announced until
    a member sends it (decisions.views.proposal_new)."""
    agreement = get_object_or_404(
        Agreement.objects.select_related("circle"), pk=pk, circle__slug=slug
    )
    require_perm(request, "agreements.review_agreement", agreement)
    return redirect(review_form_url(agreement))


@login_required
@require_POST
def agreement_visibility(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    agreement = get_object_or_404(
        Agreement.objects.select_related("circle"), pk=pk, circle__slug=slug
    )
    require_perm(request, "agreements.change_visibility", agreement)
    form = VisibilityForm(request.POST, agreement=agreement)
    if not form.is_valid():
        messages.error(request, _("Choose who can read it, no more widely than the circle's page."))
        return redirect(agreement)
    try:
        services.agreement_visibility_set(
            actor=me(request), agreement=agreement, visibility=form.cleaned_data["visibility"]
        )
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Saved: who can read it is changed, and kept in the history."))
    return redirect(agreement)


@login_required
@require_POST
def agreement_borrow(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    agreement = get_object_or_404(
        Agreement.objects.select_related("circle", "current_version"), pk=pk, circle__slug=slug
    )
    require_perm(request, "agreements.borrow_agreement", agreement)
    form = BorrowForm(request.POST)
    form.fields["circle"].queryset = circles_of(practitioner=me(request))  # type: ignore[attr-defined]
    if not form.is_valid():
        messages.error(request, _("Choose one of your circles."))
        return redirect(agreement)
    try:
        # Borrowing opens a proposal in the chosen circle: decisions does it (agreements.proposals).
        proposal = proposals.provider().borrow(
            me(request),
            agreement,
            form.cleaned_data["circle"],
            timezone.now() + timedelta(days=REVIEW_OPEN_DAYS),
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect(agreement)
    messages.success(
        request,
        _("Borrowed as a draft proposal in %(c)s: your circle adopts it by its own decision.")
        % {"c": proposal.circle.name},
    )
    return redirect(proposal.get_absolute_url())


def lineage(request: HttpRequest, slug: str) -> HttpResponse:
    """Federation page: who borrowed what from whom, and how far each has diverged; a page of
    borrowings at a time (plain links), the picture drawing the circles of that page."""
    federation = get_object_or_404(Federation, slug=slug)
    page = selectors.lineage_page(
        user=request.user, federation_id=federation.pk, page=page_number(request)
    )
    borrowings = page.borrowings
    involved = {b.agreement.circle_id for b in borrowings} | {
        b.source.agreement.circle_id for b in borrowings
    }
    circles = [
        (c.pk, c.name)
        for c in circles_visible_to(user=request.user, federation=federation).filter(
            pk__in=involved
        )
    ]
    edges = [
        Edge(
            b.source.agreement.circle_id,
            b.agreement.circle_id,
            _("%(t)s · %(p)s%% changed") % {"t": b.agreement.title, "p": round(b.divergence * 100)},
        )
        for b in borrowings
    ]
    return render(
        request,
        "agreements/lineage.html",
        {
            "federation": federation,
            "borrowings": borrowings,
            "page": page,
            "svg": render_svg(
                circles,
                edges,
                title=_("Lineage of agreements in %(f)s") % {"f": federation.name},
                unnamed=a_circle(),
            ),
            "section": "lineage",
        },
    )


# --- ethical statements: circulated to the federation, published on the public register -------


def _ethics_agreement(slug: str, pk: int) -> Agreement:
    return get_object_or_404(
        Agreement.objects.select_related("circle__federation", "current_version"),
        pk=pk,
        circle__slug=slug,
    )


@login_required
@require_POST
def ethics_circulate(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    agreement = _ethics_agreement(slug, pk)
    require_perm(request, "agreements.circulate_ethics", agreement.circle)
    try:
        services.ethics_circulate(actor=me(request), agreement=agreement)
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(
            request,
            _("Circulated: members of every circle in the federation can read it and comment."),
        )
    return redirect(agreement)


@login_required
@require_POST
def ethics_circulate_draft(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    proposal = proposals.provider().proposal_in(slug, pk)
    require_perm(request, "agreements.circulate_ethics", proposal.circle)
    try:
        circulation = services.ethics_circulate(actor=me(request), proposal=proposal)
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("agreements:agreement_list", slug=slug)
    messages.success(
        request,
        _("The draft is circulated: members of every circle can read it and comment."),
    )
    return redirect(circulation)


@login_required
@require_POST
def ethics_publish(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    agreement = _ethics_agreement(slug, pk)
    require_perm(request, "agreements.publish_ethics", agreement)
    try:
        services.ethics_publish(actor=me(request), agreement=agreement)
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Published: anyone can read it on the public register."))
    return redirect(agreement)


def _circulation(request: HttpRequest, slug: str, pk: int) -> EthicsCirculation:
    circulation = get_object_or_404(
        EthicsCirculation.objects.select_related(
            "circle__federation", "version", "proposal", "agreement", "circulated_by"
        ),
        pk=pk,
        circle__slug=slug,
    )
    require_perm(request, "agreements.view_circulation", circulation)
    return circulation


def _circulation_page(
    request: HttpRequest, circulation: EthicsCirculation, form: EthicsCommentForm
) -> HttpResponse:
    agreement = circulation.agreement or (
        circulation.proposal.agreement if circulation.proposal else None
    )
    return render(
        request,
        "agreements/ethics_circulation.html",
        {
            "federation": circulation.circle.federation,
            "circulation": circulation,
            "by": selectors.circulated_by_name(user=request.user, circulation=circulation),
            "ethics_comments": discussion.circulation_comments(
                user=request.user, circulation=circulation, page=page_number(request, "comments")
            ),
            "ethics_pager": pager_urls(circulation.get_absolute_url(), request.GET, "comments"),
            "form": form,
            "agreement": agreement
            if agreement and allowed("agreements.view_agreement", request.user, agreement)
            else None,
            "is_member": allowed("agreements.circulate_ethics", request.user, circulation.circle),
            "section": "ethics",
        },
        status=400 if form.errors else 200,
    )


@login_required
def ethics_circulation(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A circulated ethical statement (or draft) and the federation's comments on it."""
    return _circulation_page(request, _circulation(request, slug, pk), EthicsCommentForm())


@login_required
@require_POST
def ethics_comment_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    circulation = _circulation(request, slug, pk)
    require_perm(request, "agreements.comment_ethics", circulation)
    form = EthicsCommentForm(request.POST)
    if form.is_valid():
        try:
            services.ethics_comment_add(
                actor=me(request), circulation=circulation, text=form.cleaned_data["text"]
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Your comment is added; the circle's members are told."))
            back = request.POST.get("back")
            agreement = circulation.agreement
            if back == "agreement" and agreement is not None:
                return redirect(agreement.get_absolute_url() + "#ethics-comments")
            return redirect(circulation)
    return _circulation_page(request, circulation, form)


@login_required
def ethics_circulations(request: HttpRequest, slug: str) -> HttpResponse:
    """Ethical statements the federation's circles have circulated, newest first."""
    federation = get_object_or_404(Federation, slug=slug)
    require_perm(request, "agreements.view_ethics_circulations", federation)
    return render(
        request,
        "agreements/ethics_circulations.html",
        {
            "federation": federation,
            "circulations": selectors.federation_circulations(federation_id=federation.pk),
            "section": "ethics",
        },
    )


def ethics_register(request: HttpRequest, slug: str) -> HttpResponse:
    """Public: every circle's own published ethical statement, side by side, a page at a time
    (plain links), with a search by circle name."""
    federation = get_object_or_404(Federation, slug=slug)
    page = selectors.published_statements_page(
        user=request.user,
        federation_id=federation.pk,
        page=page_number(request),
        query=request.GET.get("q", ""),
    )
    keep = {"q": page.query} if page.query else {}
    return render(
        request,
        "agreements/ethics_register.html",
        {
            "federation": federation,
            "page": page,
            "statements": page.statements,
            "previous_url": f"?{urlencode({**keep, 'page': page.number - 1})}"
            if page.number > 1
            else "",
            "next_url": f"?{urlencode({**keep, 'page': page.number + 1})}"
            if page.number < page.pages
            else "",
            "lineage_url": reverse("agreements:lineage", args=[federation.slug]),
            "is_federation_member": allowed(
                "agreements.view_ethics_circulations", request.user, federation
            ),
            "section": "ethics",
        },
    )


def covenant(request: HttpRequest, slug: str) -> HttpResponse:
    """Public: the federation's covenant, every version with its rules, and what changed."""
    federation = get_object_or_404(Federation, slug=slug)
    require_perm(request, "circles.view_federation", federation)
    versions = list(
        federation.covenant_versions.select_related("adopted_by")
        # The deciding proposal is linked, not shown: not its texts.
        .defer("adopted_by__text", "adopted_by__covenant_text", "adopted_by__covenant_parameters")
        .order_by("number")
    )
    for v in versions:
        # The deciding proposal's link names its federation: this one, already read.
        if v.adopted_by is not None and v.adopted_by.federation_id == federation.pk:
            v.adopted_by.federation = federation
    by_number = {v.number: v for v in versions}
    a = b = None
    text_diff = None
    if len(versions) > 1:
        try:
            a = by_number[int(request.GET.get("from", versions[-2].number))]
            b = by_number[int(request.GET.get("to", versions[-1].number))]
        except (KeyError, ValueError):
            a, b = versions[-2], versions[-1]
        text_diff = diff(a.text, b.text)
    show_decisions = allowed("decisions.view_federation_decisions", request.user, federation)
    may_propose = allowed("decisions.raise_federation_proposals", request.user, federation)
    rows = [
        {
            "version": v,
            "rules": rules_in_words(rules_from(v.parameters)),
            "review_due": review_due(v),
            "decision": v.adopted_by if show_decisions else None,
        }
        for v in reversed(versions)
    ]
    current = rows[0] if rows else None
    rules_diff = (
        diff(
            rules_in_words(rules_from(a.parameters)).replace("; ", "\n"),
            rules_in_words(rules_from(b.parameters)).replace("; ", "\n"),
            markdown=False,
        )
        if a is not None and b is not None
        else None
    )
    return render(
        request,
        "agreements/covenant.html",
        {
            "federation": federation,
            "current": current,
            "rows": rows,
            "versions": versions,
            "a": a,
            "b": b,
            "text_diff": text_diff,
            "rules_diff": rules_diff,
            "today": timezone.localdate(),
            "show_decisions": show_decisions,
            "may_propose": may_propose,
            "section": "covenant",
        },
    )
