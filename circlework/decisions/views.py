"""Proposal pages. Thin: parse, ask the rules, call one service, render (htmx gets partials)."""

from __future__ import annotations

from functools import partial
from typing import Any, TypeVar

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from circlework.agreements.paging import pager_urls
from circlework.circles.covenant import federation_rules, in_federation_q, parameters_of
from circlework.circles.models import Circle, Federation
from circlework.circles.selectors import circle_members, circles_of
from circlework.core.diff import diff
from circlework.core.errors import ApplicationError, StaleEdit
from circlework.core.http import (
    MAX_ID,
    flash_error,
    form_error,
    form_page,
    me,
    page_number,
    query_number,
    require_perm,
    saved,
)
from circlework.core.permissions import allowed
from circlework.core.visibility import A_FORMER_MEMBER, audience_for, names_for
from circlework.decisions import selectors, services
from circlework.decisions.amendments import amendment_changes, amendment_url
from circlework.decisions.federation_result import result_for
from circlework.decisions.forms import (
    AmendmentDecisionForm,
    AmendmentForm,
    CirclePositionForm,
    CommentForm,
    FederationProposalForm,
    PositionForm,
    ProposalForm,
    proposal_page,
    proposal_start,
)
from circlework.decisions.models import (
    Amendment,
    Comment,
    FederationProposal,
    Proposal,
    ProposalStatus,
)
from circlework.decisions.templates_text import TEMPLATES
from circlework.mandates.selectors import circle_live_mandates, lapsed_mandate
from circlework.mandates.services import lapsed_message


def _circle(slug: str) -> Circle:
    return get_object_or_404(Circle.objects.select_related("federation"), slug=slug)


def _proposal(slug: str, pk: int) -> Proposal:
    return get_object_or_404(
        Proposal.objects.select_related(
            "circle", "circle__federation", "author", "agreement__current_version", "outcome"
        ),
        pk=pk,
        circle__slug=slug,
    )


@login_required
def proposal_list(request: HttpRequest, slug: str) -> HttpResponse:
    circle = _circle(slug)
    require_perm(request, "decisions.view_decisions", circle)
    open_, closed = selectors.circle_proposals(circle=circle)
    opened = list(open_)
    # The proposers' names in one read, each as far as its owner lets this viewer see it.
    names = names_for(audience_for(request.user), [p.author for p in opened])
    for p in opened:
        p.author_name = names[p.author_id] if p.author_id in names else str(A_FORMER_MEMBER)  # type: ignore[attr-defined]
    return render(
        request,
        "decisions/proposal_list.html",
        {
            "circle": circle,
            "open": opened,
            "closed": closed,
            "rule": services.circle_rule(circle),
            "tab": "decisions",
            "is_member": True,
        },
    )


@login_required
def proposal_new(request: HttpRequest, slug: str) -> HttpResponse:
    circle = _circle(slug)
    require_perm(request, "decisions.open_proposal", circle)
    template = TEMPLATES.get(request.GET.get("process", ""))
    initial: dict[str, Any] = {}
    if template is not None:
        initial = {
            "process": template.key,
            "text": template.skeleton,
            "closes_at": timezone.localtime(timezone.now() + template.duration).replace(
                second=0, microsecond=0
            ),
        }
    # Its kind, and the agreement it revises or the kind of new one, are chosen first (GET).
    initial.update(proposal_start(circle, request.GET))
    form = ProposalForm(request.POST or None, circle=circle, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        adopts = d["adopts"]
        params: dict[str, Any] = {}
        if d.get("rule"):
            params = {
                "rule": d["rule"],
                "fallback_after_rounds": d.get("fallback_after_rounds") or 3,
            }
            if d.get("silence"):
                params["silence"] = d["silence"]
        # A ceremony's moment and roles, as the form read them (agreements.ceremonies).
        params.update(d.get("ceremony_parameters") or {})
        # A new agreement is opened with who will read it once adopted (agreement_propose).
        opener = services.proposal_open
        if adopts == "new" and d.get("new_agreement_visibility"):
            opener = partial(services.agreement_propose, visibility=d["new_agreement_visibility"])
        try:
            proposal = opener(
                actor=me(request),
                circle=circle,
                title=d["title"],
                text=d["text"],
                closes_at=d["closes_at"],
                process=d["process"],
                agreement=d["agreement"] if adopts == "revise" else None,
                new_agreement_kind=d["new_agreement_kind"] if adopts == "new" else "",
                new_agreement_title=d["new_agreement_title"] if adopts == "new" else "",
                agreement_text=d["agreement_text"] if adopts != "none" else "",
                agreement_parameters=params if adopts != "none" else None,
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Your proposal is open. Members have been told."))
            return redirect(proposal)
    return render(
        request,
        "decisions/proposal_new.html",
        {
            "circle": circle,
            "form": form,
            "templates": TEMPLATES.values(),
            "chosen": template,
            **proposal_page(form),
            "tab": "decisions",
            "is_member": True,
        },
        status=400 if form.errors else 200,
    )


def _detail_context(request: HttpRequest, proposal: Proposal, **forms: Any) -> dict[str, Any]:
    outcome = getattr(proposal, "outcome", None)
    # The circle's members once, with former ones where an outcome names them too.
    members = circle_members(
        user=request.user, circle=proposal.circle, include_former=bool(outcome)
    )
    page = selectors.proposal_page(
        user=request.user, proposal=proposal, members=members, full=False
    )
    practitioner = me(request)
    mine = next((m for m in page.members if m.practitioner_id == practitioner.pk), None)
    # The latest comments and amendments, a page at a time (`?comments=`, `?amendments=`), or
    # the page holding one comment (`?comment=`, with its earlier texts if it was edited).
    asked = query_number(request.GET.get("comment"), limit=MAX_ID)
    comments_page = selectors.comments_page(
        proposal=proposal, page=page_number(request, "comments"), holding=asked
    )
    amendments_page = selectors.amendments_page(
        proposal=proposal, page=page_number(request, "amendments")
    )
    comments, amendments = comments_page.rows, amendments_page.rows
    for n, amendment in enumerate(amendments, start=amendments_page.first_ordinal):
        amendment.ordinal = n  # type: ignore[attr-defined]
    history_of = next((c for c in comments if c.pk == asked and c.edited_at is not None), None)
    history, more_history = (
        selectors.comment_history(comment=history_of) if history_of else ([], False)
    )
    # Every other name on the page in one read, each as far as its owner lets this viewer see.
    names = names_for(
        audience_for(request.user),
        [proposal.author, *(a.author for a in amendments), *(c.author for c in comments)],
    )

    def name(practitioner: Any) -> str:
        return names[practitioner.pk] if practitioner is not None else str(A_FORMER_MEMBER)

    for amendment in amendments:
        amendment.author_name = name(amendment.author)  # type: ignore[attr-defined]
    for comment in comments:
        comment.author_name = name(comment.author)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "circle": proposal.circle,
        "proposal": proposal,
        "author_name": name(proposal.author),
        "page": page,
        "mine": mine,
        "is_author": allowed("decisions.close_proposal", request.user, proposal),
        "position_form": forms.get("position_form")
        or PositionForm(
            initial={
                "stance": mine.stance if mine and mine.stance else None,
                "reason": mine.reason if mine else "",
            }
        ),
        "amendment_form": forms.get("amendment_form")
        or AmendmentForm(
            initial={
                "text": proposal.text,
                "agreement_text": proposal.agreement_text,
                "base_version": proposal.version,
            }
        ),
        "amendment_stale_from": forms.get("amendment_stale_from"),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "amendments": amendments,
        "amendments_page": amendments_page,
        "comments": comments,
        "comments_page": comments_page,
        "shown_comment_ids": {c.pk for c in comments},
        "history_of": history_of.pk if history_of else None,
        "history": history,
        "more_history": more_history,
        "pager": pager_urls(
            proposal.get_absolute_url(), request.GET, "comments", "amendments", drop=["comment"]
        ),
        "urls": _proposal_urls(proposal),
        "my_id": practitioner.pk,
        "tab": "decisions",
        "is_member": True,
    }
    if outcome is not None:
        context["outcome"] = outcome
        record = selectors.outcome_record(user=request.user, outcome=outcome, members=members)
        context["outcome_rows"] = record.rows
        context["outcome_record"] = record
    return context


def _proposal_urls(proposal: Proposal) -> dict[str, str]:
    """The proposal's own addresses, reversed once for the page (not once per row)."""
    args = [proposal.circle.slug, proposal.pk]
    return {
        "position": reverse("decisions:position_take", args=args),
        # An amendment's page is this and its id; a comment's edit page this, its id and "edit/".
        "amendments": reverse("decisions:amendment_propose", args=args),
        "comments": reverse("decisions:comment_add", args=args),
        "versions": reverse("decisions:version_diff", args=args),
        "remind": reverse("decisions:proposal_action", args=[*args, "remind"]),
        "close": reverse("decisions:proposal_action", args=[*args, "close"]),
        "withdraw": reverse("decisions:proposal_action", args=[*args, "withdraw"]),
    }


@login_required
def proposal_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    proposal = _proposal(slug, pk)
    require_perm(request, "decisions.view_proposal", proposal)
    return render(request, "decisions/proposal_detail.html", _detail_context(request, proposal))


def _rerender(request: HttpRequest, proposal: Proposal, status: int, **forms: Any) -> HttpResponse:
    proposal.refresh_from_db()
    return render(
        request,
        "decisions/proposal_detail.html",
        _detail_context(request, proposal, **forms),
        status=status,
    )


@login_required
@require_POST
def position_take(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    proposal = _proposal(slug, pk)
    require_perm(request, "decisions.take_position", proposal)
    form = PositionForm(request.POST)
    if form.is_valid():
        try:
            services.position_take(
                actor=me(request),
                proposal=proposal,
                stance=form.cleaned_data["stance"],
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            form_error(form, exc)
            return _rerender(request, proposal, exc.status_code, position_form=form)
        messages.success(
            request, _("Your position is recorded. You can change it until the proposal closes.")
        )
        if request.htmx:  # type: ignore[attr-defined]
            return render(
                request,
                "decisions/proposal_detail.html#positions",
                _detail_context(request, proposal),
            )
        return redirect(f"{proposal.get_absolute_url()}#positions")
    return _rerender(request, proposal, 400, position_form=form)


FormT = TypeVar("FormT", bound=django_forms.Form)


def _kept(form: FormT, request: HttpRequest, field: str, exc: StaleEdit) -> FormT:
    """After a stale edit: the user's text kept, the form moved on to the current version (so
    sending it again is a choice made having seen the change), the refusal on top."""
    data = request.POST.copy()
    data[form.add_prefix(field)] = str(exc.current)
    kept = type(form)(data)
    kept.is_valid()
    kept.add_error(None, exc.message)
    return kept


@login_required
@require_POST
def amendment_propose(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    proposal = _proposal(slug, pk)
    require_perm(request, "decisions.propose_amendment", proposal)
    form = AmendmentForm(request.POST)
    if form.is_valid():
        try:
            services.amendment_propose(
                actor=me(request),
                proposal=proposal,
                text=form.cleaned_data["text"],
                agreement_text=form.cleaned_data["agreement_text"],
                reason=form.cleaned_data["reason"],
                base_version=form.cleaned_data["base_version"],
            )
        except StaleEdit as exc:
            return _rerender(
                request,
                proposal,
                exc.status_code,
                amendment_form=_kept(form, request, "base_version", exc),
                amendment_stale_from=form.cleaned_data["base_version"],
            )
        except ApplicationError as exc:
            form_error(form, exc)
            return _rerender(request, proposal, exc.status_code, amendment_form=form)
        messages.success(
            request, _("Your amendment is proposed. The proposer will accept or decline it.")
        )
        return redirect(f"{proposal.get_absolute_url()}#amendments")
    return _rerender(request, proposal, 400, amendment_form=form)


@login_required
def amendment_decide(request: HttpRequest, slug: str, pk: int, amendment_pk: int) -> HttpResponse:
    """The amendment, its text and what it changes (rendered diff); the proposer accepts or
    declines it here, having seen it."""
    proposal = _proposal(slug, pk)
    amendment = get_object_or_404(
        Amendment.objects.select_related("proposal__circle", "author"),
        pk=amendment_pk,
        proposal=proposal,
    )
    if request.method != "POST":
        require_perm(request, "decisions.view_proposal", proposal)
        return render(
            request,
            "decisions/amendment_detail.html",
            {
                "circle": proposal.circle,
                "proposal": proposal,
                "amendment": amendment,
                "changes": amendment_changes(amendment),
                "may_decide": allowed("decisions.decide_amendment", request.user, amendment),
                "decision_form": AmendmentDecisionForm(),
                "tab": "decisions",
                "is_member": True,
            },
        )
    require_perm(request, "decisions.decide_amendment", amendment)
    form = AmendmentDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to accept or decline."))
        return redirect(amendment_url(amendment))
    try:
        if form.cleaned_data["decision"] == "accept":
            services.amendment_accept(
                actor=me(request), amendment=amendment, response=form.cleaned_data["response"]
            )
            messages.success(
                request,
                _(
                    "Amendment accepted: a new version is up and members are asked to confirm their positions."
                ),
            )
        else:
            services.amendment_decline(
                actor=me(request), amendment=amendment, response=form.cleaned_data["response"]
            )
            messages.success(request, _("Amendment declined."))
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect(amendment_url(amendment))
    return redirect(f"{proposal.get_absolute_url()}#amendments")


@login_required
@require_POST
def comment_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    proposal = _proposal(slug, pk)
    require_perm(request, "decisions.comment", proposal)
    form = CommentForm(request.POST)
    if form.is_valid():
        parent = None
        if form.cleaned_data.get("parent"):
            parent = Comment.objects.filter(
                pk=form.cleaned_data["parent"], proposal=proposal
            ).first()
        try:
            comment = services.comment_add(
                actor=me(request),
                proposal=proposal,
                text=form.cleaned_data["text"],
                parent=parent,
                quote=form.cleaned_data.get("quote") or "",
            )
        except ApplicationError as exc:
            form_error(form, exc)
            return _rerender(request, proposal, exc.status_code, comment_form=form)
        return redirect(comment.get_absolute_url())
    return _rerender(request, proposal, 400, comment_form=form)


@login_required
def comment_edit(request: HttpRequest, slug: str, pk: int, comment_pk: int) -> HttpResponse:
    proposal = _proposal(slug, pk)
    comment = get_object_or_404(
        Comment.objects.select_related("proposal__circle"), pk=comment_pk, proposal=proposal
    )
    require_perm(request, "decisions.edit_comment", comment)
    form = CommentForm(
        request.POST or None,
        initial={"text": comment.text, "base_revision": services.comment_revision(comment)},
    )
    stale: StaleEdit | None = None
    if request.method == "POST" and form.is_valid():
        try:
            services.comment_edit(
                actor=me(request),
                comment=comment,
                text=form.cleaned_data["text"],
                base_revision=form.cleaned_data["base_revision"],
            )
        except StaleEdit as exc:
            form, stale = _kept(form, request, "base_revision", exc), exc
            comment.refresh_from_db()  # shown above the kept text
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            return redirect(comment.get_absolute_url())
    return render(
        request,
        "decisions/comment_edit.html",
        {
            "circle": proposal.circle,
            "proposal": proposal,
            "comment": comment,
            "form": form,
            "stale": stale is not None,
            "tab": "decisions",
            "is_member": True,
        },
        status=stale.status_code if stale else 400 if form.errors else 200,
    )


@login_required
@require_POST
def proposal_action(request: HttpRequest, slug: str, pk: int, action: str) -> HttpResponse:
    """Remind the silent, close early, or withdraw — each a plain POST button."""
    proposal = _proposal(slug, pk)
    require_perm(request, "decisions.view_proposal", proposal)
    try:
        if action == "remind":
            n = services.members_remind(actor=me(request), proposal=proposal)
            messages.success(
                request,
                ngettext("%(n)s member reminded.", "%(n)s members reminded.", n) % {"n": n},
            )
        elif action == "close":
            decision = request.POST.get("decision")
            outcome = services.proposal_close(
                actor=me(request),
                proposal=proposal,
                early=True,
                advice_decision={"adopt": True, "reject": False}.get(decision or ""),
                statement=request.POST.get("statement", ""),
            )
            proposal.refresh_from_db()
            if outcome is None and proposal.status == ProposalStatus.OPEN:
                messages.info(
                    request,
                    _(
                        "Some members gave no position on this version: as the circle's rule "
                        "says, the closing time moved once, to %(d)s, and they were reminded."
                    )
                    % {"d": f"{timezone.localtime(proposal.closes_at):%d %B %Y %H:%M}"},
                )
            elif outcome is not None:
                messages.success(request, _("The proposal is closed and the outcome recorded."))
            else:
                messages.info(request, _("This proposal was already closed."))
        elif action == "withdraw":
            services.proposal_withdraw(actor=me(request), proposal=proposal)
            messages.success(request, _("The proposal is withdrawn."))
        else:
            messages.error(request, _("Unknown action."))
    except ApplicationError as exc:
        if exc.status_code == 403:
            require_perm(request, "decisions.close_proposal", proposal)
        flash_error(request, exc)
    return redirect(proposal)


@login_required
def version_diff(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    proposal = _proposal(slug, pk)
    require_perm(request, "decisions.view_proposal", proposal)
    versions = {v.number: v for v in proposal.versions.all()}
    try:
        a = versions[int(request.GET.get("from", 1))]
        b = versions[int(request.GET.get("to", proposal.version))]
    except (KeyError, ValueError):
        a, b = versions[1], versions[proposal.version]
    return render(
        request,
        "decisions/version_diff.html",
        {
            "circle": proposal.circle,
            "proposal": proposal,
            "a": a,
            "b": b,
            "versions": list(versions.values()),
            "text_diff": diff(a.text, b.text),
            "agreement_diff": diff(a.agreement_text, b.agreement_text),
            "tab": "decisions",
            "is_member": True,
        },
    )


# --- Federation decisions ---------------------------------------------------------------------


def _federation(slug: str) -> Any:
    return get_object_or_404(Federation, slug=slug)


def _acting_for(request: HttpRequest, circles: Any) -> Any:
    """Those of my circles this session acts for, as the rules count membership: a circle that
    requires a second factor counts only in a session (or through a token) that used one, so a
    password-only session is shown nothing of it here (its own proposal, its delegates)."""
    counted = [c.pk for c in circles if allowed("decisions.open_proposal", request.user, c)]
    return circles.filter(pk__in=counted)


def _my_circles_in(request: HttpRequest, federation: Any) -> Any:
    """My circles that are part of the federation (validated): they raise, deliberate and
    give positions. My forming circles are `_my_forming_circles_in`."""
    return _acting_for(
        request,
        circles_of(practitioner=me(request)).filter(in_federation_q(), federation=federation),
    )


def _my_forming_circles_in(request: HttpRequest, federation: Any) -> Any:
    return _acting_for(
        request,
        circles_of(practitioner=me(request))
        .filter(federation=federation)
        .exclude(in_federation_q()),
    )


FEDERATION_PROPOSALS_PER_PAGE = 25


@login_required
def federation_proposal_list(request: HttpRequest, slug: str) -> HttpResponse:
    federation = _federation(slug)
    require_perm(request, "decisions.view_federation_decisions", federation)
    proposals = (
        FederationProposal.objects.filter(federation=federation)
        .select_related("circle")
        .only(
            "pk",
            "title",
            "status",
            "passed",
            "closes_at",
            "created_at",
            "circle",
            "federation_id",
        )
        .order_by("-created_at", "-pk")
    )
    # A page at a time, newest first (plain links).
    page = Paginator(proposals, FEDERATION_PROPOSALS_PER_PAGE).get_page(request.GET.get("page", 1))
    prefix = reverse("decisions:federation_proposal_list", args=[federation.slug])
    return render(
        request,
        "decisions/federation_proposal_list.html",
        {
            "federation": federation,
            "proposals": page.object_list,
            "page": page,
            "prefix": prefix,
            "may_raise": allowed("decisions.raise_federation_proposals", request.user, federation),
            "section": "decisions",
        },
    )


def _current_covenant_initial(federation: Any) -> dict[str, Any]:
    """The covenant's current text and rules, to prefill "Revise the covenant"."""
    rules = federation_rules(federation)
    return {
        "covenant_text": federation.covenant,
        **parameters_of(rules),
        # Shown even when it is the default, so a reviser sees the number they would change.
        "recommended_max_circle_size": rules.recommended_max_circle_size,
    }


@login_required
def federation_proposal_new(request: HttpRequest, slug: str) -> HttpResponse:
    federation = _federation(slug)
    require_perm(request, "decisions.raise_federation_proposals", federation)
    form = FederationProposalForm(
        request.POST or None,
        circles=_my_circles_in(request, federation),
        covenant=_current_covenant_initial(federation),
    )

    def open_it(d: dict[str, Any]) -> FederationProposal:
        covenant_text, covenant_rules = form.covenant_revision()
        return services.federation_proposal_open(
            actor=me(request),
            circle=d["circle"],
            title=d["title"],
            text=d["text"],
            closes_at=d["closes_at"],
            covenant_text=covenant_text,
            covenant_parameters=covenant_rules,
        )

    return form_page(
        request,
        form,
        action=open_it,
        done=lambda fp: saved(
            request,
            _("Every validated circle in the federation has been asked for its position."),
            fp,
        ),
        template="decisions/federation_proposal_new.html",
        context={"federation": federation, "form": form, "section": "decisions"},
    )


def _fp(slug: str, pk: int) -> FederationProposal:
    return get_object_or_404(
        FederationProposal.objects.select_related("federation", "circle", "author"),
        pk=pk,
        federation__slug=slug,
    )


def _delegate_names(request: HttpRequest, circle: Circle) -> list[str]:
    """Who holds the circle's live delegate mandate, names as the holders show them."""
    return [
        row.holder_name
        for row in circle_live_mandates(user=request.user, circle=circle)
        if "decisions.record_circle_position" in (row.mandate.permissions or [])
    ]


CIRCLES_PER_PAGE = 50


def _fp_context(request: HttpRequest, fp: FederationProposal, form: Any = None) -> dict[str, Any]:
    positions = services.circle_positions(fp)
    my_circles = list(_my_circles_in(request, fp.federation))
    my_circle_ids = {c.pk for c in my_circles}
    asked = services.federation_circles(fp.federation_id)
    # Every circle's position, a page at a time (plain links), by circle name.
    paginator = Paginator(asked, CIRCLES_PER_PAGE, allow_empty_first_page=True)
    shown = paginator.get_page(request.GET.get("page", 1))
    circles = list(shown.object_list)
    is_open = fp.status == ProposalStatus.OPEN
    with_delegate = services.delegated([*(c.pk for c in circles), *my_circle_ids])
    recorders = names_for(
        audience_for(request.user),
        [positions[c.pk].recorded_by for c in circles if c.pk in positions],
    )
    rows = []
    for circle in circles:
        position = positions.get(circle.pk)
        rows.append(
            {
                "circle": circle,
                "position": position,
                "recorded_by": (
                    recorders[position.recorded_by_id]
                    if position.recorded_by_id in recorders
                    else str(A_FORMER_MEMBER)
                )
                if position is not None
                else "",
                # A circle without a live delegate cannot speak: the page says so plainly, with
                # the way to an election for the circle's own members.
                "no_delegate": services.no_delegate_message(circle)
                if is_open and circle.pk not in with_delegate
                else "",
                "is_mine": circle.pk in my_circle_ids,
            }
        )
    internal_of: dict[int, Proposal] = {}
    for proposal in (
        fp.internal_proposals.filter(circle_id__in=my_circle_ids)
        .select_related("circle")
        .order_by("-created_at")
    ):
        internal_of.setdefault(proposal.circle_id, proposal)  # the newest of each circle
    mine = []
    for circle in my_circles:
        internal = internal_of.get(circle.pk)
        mine.append(
            {
                "circle": circle,
                "internal": internal,
                "is_delegate": allowed("decisions.record_circle_position", request.user, circle),
                "delegates": _delegate_names(request, circle),
                "no_delegate": ""
                if circle.pk in with_delegate
                else services.no_delegate_message(circle),
                "form": form
                if form is not None and str(form.data.get("circle")) == str(circle.pk)
                else CirclePositionForm(
                    initial={
                        "circle": circle.pk,
                        "internal_proposal": internal.pk if internal else None,
                    }
                ),
            }
        )
    return {
        "federation": fp.federation,
        "fp": fp,
        "rows": rows,
        "mine": mine,
        # A member of a forming circle following as the covenant allows: told why they have no say.
        "forming": [
            services.not_in_federation_message(c)
            for c in _my_forming_circles_in(request, fp.federation)
        ],
        "verdict": services.federation_verdict(fp, circles_asked=asked, current=positions),
        "circles_page": shown,
        "circles_count": paginator.count,
        # The circles the result is about, named as far as this reader may see them.
        "result": result_for(request.user, fp.result, fp.result_circles),
        "may_close": allowed("decisions.close_federation_proposal", request.user, fp),
        "section": "decisions",
    }


@login_required
def federation_proposal_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    fp = _fp(slug, pk)
    require_perm(request, "decisions.view_federation_decisions", fp.federation)
    return render(request, "decisions/federation_proposal_detail.html", _fp_context(request, fp))


@login_required
@require_POST
def circle_position_record(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    fp = _fp(slug, pk)
    require_perm(request, "decisions.view_federation_decisions", fp.federation)
    form = CirclePositionForm(request.POST)
    circle = Circle.objects.filter(
        pk=request.POST.get("circle") or 0, federation=fp.federation
    ).first()
    if circle is None:
        messages.error(request, _("Choose one of your circles."))
        return redirect(fp)
    if not allowed("decisions.deliberate_federation_proposal", request.user, circle):
        raise PermissionDenied
    if not allowed("decisions.record_circle_position", request.user, circle):
        lapsed = lapsed_mandate(me(request), "decisions.record_circle_position", circle=circle)
        if lapsed is None and services.has_delegate(circle):
            raise PermissionDenied
        # A delegate whose mandate has ended is told when it ended; a circle without a delegate
        # is told it has none. Nothing is recorded.
        messages.error(
            request,
            lapsed_message(lapsed) if lapsed is not None else services.no_delegate_message(circle),
        )
        return render(
            request,
            "decisions/federation_proposal_detail.html",
            _fp_context(request, fp),
            status=403,
        )
    if form.is_valid():
        internal = Proposal.objects.filter(
            pk=form.cleaned_data.get("internal_proposal") or 0
        ).first()
        try:
            services.circle_position_record(
                actor=me(request),
                federation_proposal=fp,
                circle=circle,
                stance=form.cleaned_data["stance"],
                reason=form.cleaned_data["reason"],
                dissent=form.cleaned_data["dissent"],
                internal_proposal=internal,
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("%(c)s's position is recorded.") % {"c": circle.name})
            return redirect(fp)
    return render(
        request,
        "decisions/federation_proposal_detail.html",
        _fp_context(request, fp, form),
        status=400,
    )


@login_required
@require_POST
def federation_proposal_deliberate(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Open the circle's own proposal on the federation question (closes a day before it)."""
    from datetime import timedelta

    from django.utils import timezone

    fp = _fp(slug, pk)
    require_perm(request, "decisions.view_federation_decisions", fp.federation)
    circle = Circle.objects.filter(
        pk=request.POST.get("circle") or 0, federation=fp.federation
    ).first()
    if circle is None:
        messages.error(request, _("Choose one of your circles."))
        return redirect(fp)
    require_perm(request, "decisions.deliberate_federation_proposal", circle)
    try:
        proposal = services.proposal_open(
            actor=me(request),
            circle=circle,
            title=_("Our position on: %(t)s") % {"t": fp.title},
            text=fp.text
            + "\n\n"
            + _(
                "(A federation proposal: agree here what our delegate will carry, with any dissent.)"
            ),
            closes_at=max(fp.closes_at - timedelta(days=1), timezone.now() + timedelta(hours=2)),
            federation_proposal=fp,
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect(fp)
    return redirect(proposal)


@login_required
@require_POST
def federation_proposal_close(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    fp = _fp(slug, pk)
    require_perm(request, "decisions.view_federation_decisions", fp.federation)
    try:
        services.federation_proposal_close(actor=me(request), federation_proposal=fp)
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Closed: every circle's position is in the record."))
    return redirect(fp)
