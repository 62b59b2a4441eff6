"""Election pages. Thin: parse, ask the rules, call one service, render. Plain forms, no JavaScript.

Each action posts to its own URL; on success it redirects to the election's page, on a refusal
it renders the page again with the form, its errors and the status code of the refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle, Federation
from circlework.circles.roles import Method
from circlework.core.errors import ApplicationError
from circlework.core.http import form_error, form_page, me, page_number, require_perm, saved
from circlework.elections import selectors, services
from circlework.elections.forms import (
    BallotForm,
    CancelForm,
    ConsentForm,
    ElectionOpenForm,
    NominationForm,
    ProposeForm,
)
from circlework.elections.models import Election, Nomination
from circlework.mandates.services import roles_for


def _circle(slug: str) -> Circle:
    return get_object_or_404(Circle.objects.select_related("federation"), slug=slug)


def _federation(slug: str) -> Federation:
    return get_object_or_404(Federation, slug=slug)


def _election(pk: int, *, to_act: bool = True) -> Election:
    """The election with its circle and federation; to act on it (`to_act`), with the people
    the services read of it too (its facilitator, the candidate proposed). Its page shows them
    by name from their ids (selectors.election_page), so reads it without them: two joins less."""
    related: tuple[str, ...] = ("circle", "circle__federation", "federation")
    if to_act:
        related += ("facilitator", "proposed")
    return get_object_or_404(Election.objects.select_related(*related), pk=pk)


def _scope_context(election: Election | None = None, **scope: Any) -> dict[str, Any]:
    circle = scope.get("circle") or (election.circle if election is not None else None)
    if circle is not None:
        return {"circle": circle, "tab": "elections", "is_member": True}
    federation = scope.get("federation") or (
        selectors.federation_of(election) if election else None
    )
    return {"federation": federation, "section": "elections"}


# --- lists and opening --------------------------------------------------------------------------


def _page_number(request: HttpRequest) -> int:
    """`?page=`: 1 if absent or not a number, at most core.http.MAX_QUERY_NUMBER (a page past
    the last is empty; a number past the database's integers would be a server error)."""
    return page_number(request)


def _list(request: HttpRequest, **scope: Any) -> HttpResponse:
    page = _page_number(request)
    open_, past, more = selectors.election_lists(page=page, **scope)
    # One look-up of names for every past election (the elected and those tied).
    names = selectors.names_for(
        request.user,
        {
            int(pk)
            for e in past
            for key in ("elected", "tied")
            for pk in (e.result or {}).get(key, [])
        },
    )
    summaries = {e.pk: selectors.result_summary(e, names) for e in past}
    return render(
        request,
        "elections/election_list.html",
        {
            **_scope_context(**scope),
            "open": [(e, selectors.role_name(e)) for e in open_],
            "past": [(e, selectors.role_name(e), summaries[e.pk]) for e in past],
            "older_page": page + 1 if more else None,
            "newer_page": page - 1 if page > 1 else None,
        },
    )


@login_required
def election_list_circle(request: HttpRequest, slug: str) -> HttpResponse:
    circle = _circle(slug)
    require_perm(request, "elections.view_circle_elections", circle)
    return _list(request, circle=circle)


@login_required
def election_list_federation(request: HttpRequest, slug: str) -> HttpResponse:
    federation = _federation(slug)
    require_perm(request, "elections.view_federation_elections", federation)
    return _list(request, federation=federation)


def _open(request: HttpRequest, **scope: Any) -> HttpResponse:
    form = ElectionOpenForm(request.POST or None, roles=roles_for(**scope))
    return form_page(
        request,
        form,
        action=lambda d: services.election_open(
            actor=me(request),
            role=d["role"],
            seats=d["seats"],
            method=d["method"] or None,
            secret=d["secret"],
            nominations_close_at=d["nominations_close_at"],
            voting_closes_at=d["voting_closes_at"],
            term_starts_on=d["term_starts_on"],
            term_ends_on=d["term_ends_on"],
            handover_plan=d["handover_plan"],
            description=d["description"],
            **scope,
        ),
        done=lambda election: saved(
            request, _("The election is open. The electorate has been told."), election
        ),
        template="elections/election_open.html",
        context={**_scope_context(**scope), "form": form},
    )


@login_required
def election_open_circle(request: HttpRequest, slug: str) -> HttpResponse:
    circle = _circle(slug)
    require_perm(request, "elections.open_circle_election", circle)
    return _open(request, circle=circle)


@login_required
def election_open_federation(request: HttpRequest, slug: str) -> HttpResponse:
    federation = _federation(slug)
    require_perm(request, "elections.open_federation_election", federation)
    return _open(request, federation=federation)


# --- the election's page ------------------------------------------------------------------------


def _picked(form: forms.Form | None, choices: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The page's choices, and the person a refused form had picked (kept checked)."""
    if form is None:
        return choices
    kept = list(form.fields["nominee"].choices)  # type: ignore[attr-defined]
    offered = {pk for pk, _name in choices}
    return choices + [(pk, name) for pk, name in kept if pk not in offered]


def _query(request: HttpRequest) -> str:
    return request.GET.get("q", "")[:200]


def _detail(
    request: HttpRequest,
    election: Election,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = me(request)
    page = selectors.election_page(
        user=request.user,
        election=election,
        practitioner=actor,
        q=_query(request),
        record_page=_page_number(request),
    )
    bound = bound or {}
    candidates = page.candidates
    offered = page.nominees.choices if page.nominees is not None else []
    nominate_form = bound.get("nominate") or NominationForm(choices=offered, prefix="nominate")
    change_form = bound.get("change") or NominationForm(choices=offered, prefix="change")
    for form in (nominate_form, change_form):
        if form.is_bound:
            form.fields["nominee"].choices = _picked(form, offered)  # type: ignore[attr-defined]
    context = {
        **_scope_context(election),
        "election": election,
        "page": page,
        "nominate_form": nominate_form,
        "change_form": change_form,
        "propose_form": bound.get("propose")
        or ProposeForm(choices=candidates, initial={"candidate": election.proposed_id}),
        "consent_form": bound.get("consent") or ConsentForm(prefix="consent"),
        "ballot_form": bound.get("ballot")
        or BallotForm(method=election.method, candidates=candidates),
        "cancel_form": bound.get("cancel") or CancelForm(prefix="cancel"),
        "error_form": next(iter(bound.values()), None),
        "is_consent": election.method == Method.CONSENT,
    }
    return render(request, "elections/election_detail.html", context, status=status)


@login_required
def election_detail(request: HttpRequest, pk: int) -> HttpResponse:
    election = _election(pk, to_act=False)
    require_perm(request, "elections.view_election", election)
    return _detail(request, election)


@login_required
def nominee_search(request: HttpRequest, pk: int) -> HttpResponse:
    """The people matching a name search, as the radio buttons of the nomination form: what the
    election's page shows for `?q=`, for htmx to put in place as the viewer types."""
    election = _election(pk)
    require_perm(request, "elections.view_election", election)
    prefix = request.GET.get("for", "nominate")
    if prefix not in ("nominate", "change"):
        raise Http404
    picker = selectors.nominee_picker(
        user=request.user, election=election, practitioner=me(request), q=_query(request)
    )
    if picker is None:
        raise Http404
    form = NominationForm(choices=picker.choices, prefix=prefix)
    return render(
        request,
        "elections/_nominee_choices.html",
        {"election": election, "picker": picker, "field": form["nominee"], "prefix": prefix},
    )


@login_required
def election_people(request: HttpRequest, pk: int, which: str) -> HttpResponse:
    """One of the election's lists of people, a page at a time (`?page=`)."""
    election = _election(pk)
    require_perm(request, "elections.view_election", election)
    number = _page_number(request)
    names: list[str] = []
    ballots: list[selectors.OpenBallot] = []
    if which == "ballots":
        found = selectors.ballots_page(user=request.user, election=election, page=number)
        if found is None:
            raise Http404
        ballots, count, pages = found
    else:
        listed = selectors.people_page(user=request.user, election=election, key=which, page=number)
        if listed is None:
            raise Http404
        names, count, pages = listed
    number = min(max(number, 1), pages)
    return render(
        request,
        "elections/election_people.html",
        {
            **_scope_context(election),
            "election": election,
            "role_name": selectors.role_name(election),
            "which": which,
            "names": names,
            "ballots": ballots,
            "count": count,
            "page_number": number,
            "pages": pages,
            "previous": number - 1 if number > 1 else None,
            "next": number + 1 if number < pages else None,
        },
    )


def _not_facilitator(request: HttpRequest, election: Election) -> HttpResponse | None:
    """Facilitating is asked now, not fixed at opening; a refusal says why (a mandate that has
    ended, with its date) on the election's page, with the refusal's status."""
    require_perm(request, "elections.view_election", election)
    try:
        services.require_facilitator(actor=me(request), election=election)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _detail(request, election, status=exc.status_code)
    return None


# Stands in for a rule's name: the action is the facilitator's, asked by _not_facilitator.
_FACILITATOR = "facilitator"

_FormT = TypeVar("_FormT", bound=forms.Form)


def _act(
    request: HttpRequest,
    pk: int,
    *,
    perm: str,
    name: str,
    bind: Callable[[Election], _FormT],
    call: Callable[[Election, _FormT], object],
    done: str,
) -> HttpResponse:
    """Check `perm` (or _FACILITATOR), bind the form and call the service; redirect with `done`,
    or show the refusal on the election's page with the form as `name`."""
    election = _election(pk)
    if perm == _FACILITATOR:
        if (refused := _not_facilitator(request, election)) is not None:
            return refused
    else:
        require_perm(request, perm, election)
    form = bind(election)
    if not form.is_valid():
        return _detail(request, election, bound={name: form}, status=400)
    try:
        call(election, form)
    except ApplicationError as exc:
        form_error(form, exc)
        election.refresh_from_db()
        return _detail(request, election, bound={name: form}, status=exc.status_code)
    messages.success(request, done)
    return redirect(election)


def _nominee(pk: int) -> Practitioner:
    return get_object_or_404(Practitioner, pk=pk)


def _nomination_form(request: HttpRequest, election: Election, prefix: str) -> NominationForm:
    """Bound to the POST; the choice it may take is the posted person, if eligible (one query,
    not the whole electorate)."""
    form = NominationForm(request.POST, choices=[], prefix=prefix)
    posted = form.posted_nominee()
    if posted is not None:
        form.fields["nominee"].choices = selectors.nominee_choices(  # type: ignore[attr-defined]
            election, only=[posted]
        )
    return form


class _NominationService(Protocol):
    def __call__(
        self, *, actor: Practitioner, election: Election, nominee: Practitioner, reason: str
    ) -> Nomination: ...


def _nominate(
    request: HttpRequest, pk: int, *, perm: str, prefix: str, service: _NominationService, done: str
) -> HttpResponse:
    """A first nomination and one in the change round take the same form and the same words."""
    return _act(
        request,
        pk,
        perm=perm,
        name=prefix,
        bind=lambda election: _nomination_form(request, election, prefix),
        call=lambda election, form: service(
            actor=me(request),
            election=election,
            nominee=_nominee(form.cleaned_data["nominee"]),
            reason=form.cleaned_data["reason"],
        ),
        done=done,
    )


def _act_without_form(
    request: HttpRequest, election: Election, call: Callable[[], object], done: str
) -> HttpResponse:
    """A button with nothing to fill in: a refusal is shown above the election's page."""
    try:
        call()
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _detail(request, election, status=exc.status_code)
    messages.success(request, done)
    return redirect(election)


@login_required
@require_POST
def nomination_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _nominate(
        request,
        pk,
        perm="elections.nominate",
        prefix="nominate",
        service=services.nomination_add,
        done=_("Your nomination is recorded, with your reasons."),
    )


@login_required
@require_POST
def nomination_answer(request: HttpRequest, pk: int, nomination_pk: int) -> HttpResponse:
    election = _election(pk)
    nomination = get_object_or_404(
        Nomination.objects.select_related("election"), pk=nomination_pk, election=election
    )
    require_perm(request, "elections.answer_nomination", nomination)
    accept = request.POST.get("accept") == "yes"
    return _act_without_form(
        request,
        election,
        lambda: services.nomination_answer(actor=me(request), nomination=nomination, accept=accept),
        _("You stand for election.") if accept else _("You have declined the nomination."),
    )


@login_required
@require_POST
def nomination_change(request: HttpRequest, pk: int) -> HttpResponse:
    return _nominate(
        request,
        pk,
        perm="elections.vote",
        prefix="change",
        service=services.nomination_change,
        done=_("Your nomination is changed; the earlier one stays on the record."),
    )


@login_required
@require_POST
def election_change_round(request: HttpRequest, pk: int) -> HttpResponse:
    election = _election(pk)
    refused = _not_facilitator(request, election)
    if refused is not None:
        return refused
    return _act_without_form(
        request,
        election,
        lambda: services.election_change_round(actor=me(request), election=election),
        _("The change round is open. Electors have been told."),
    )


@login_required
@require_POST
def election_propose(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        perm=_FACILITATOR,
        name="propose",
        bind=lambda election: ProposeForm(
            request.POST, choices=selectors.election_page_candidates(election, request.user)
        ),
        call=lambda election, form: services.election_propose(
            actor=me(request), election=election, candidate=_nominee(form.cleaned_data["candidate"])
        ),
        done=_("The candidate is proposed. Electors are asked to consent or object."),
    )


@login_required
@require_POST
def consent_respond(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        perm="elections.vote",
        name="consent",
        bind=lambda election: ConsentForm(request.POST, prefix="consent"),
        call=lambda election, form: services.consent_respond(
            actor=me(request),
            election=election,
            stance=form.cleaned_data["stance"],
            reason=form.cleaned_data["reason"],
        ),
        done=_("Your answer is recorded."),
    )


@login_required
@require_POST
def ballot_cast(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        perm="elections.view_election",
        name="ballot",
        bind=lambda election: BallotForm(
            request.POST,
            method=election.method,
            candidates=selectors.election_page_candidates(election, request.user),
        ),
        call=lambda election, form: services.ballot_cast(
            actor=me(request), election=election, choices=form.choices()
        ),
        done=_("Your ballot is cast."),
    )


@login_required
@require_POST
def election_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        perm=_FACILITATOR,
        name="cancel",
        bind=lambda election: CancelForm(request.POST, prefix="cancel"),
        call=lambda election, form: services.election_cancel(
            actor=me(request), election=election, reason=form.cleaned_data["reason"]
        ),
        done=_("The election is cancelled. The electorate has been told."),
    )
