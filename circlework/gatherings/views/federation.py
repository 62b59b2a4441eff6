"""Federation gatherings' pages: the federation's gatherings, proposing one, the programme
(sessions, circles signing up), and the public's registration.

The programme page holds several small forms, each posting to its own address (offer a
session, decide one, withdraw one, sign a circle up, withdraw it); a refused or invalid one
shows the programme again with the error on its form.
"""

from __future__ import annotations

import csv
import zoneinfo
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from circlework.circles.models import Circle, Federation, Membership
from circlework.core.errors import ApplicationError
from circlework.core.http import form_error, form_page, me, page_number, require_perm, saved
from circlework.core.permissions import allowed
from circlework.core.visibility import FEDERATION_STATUSES, audience_for, names_for
from circlework.gatherings import selectors
from circlework.gatherings.federation_forms import (
    FederationGatheringForm,
    RegistrationForm,
    SessionDecisionForm,
    SessionOfferForm,
    SignupForm,
    wall_clock,
)
from circlework.gatherings.models import (
    CircleSignup,
    Gathering,
    ProgrammeSession,
    PublicRegistration,
    SessionState,
)
from circlework.gatherings.services import federation as services
from circlework.gatherings.services.planning import (
    DEFAULT_LENGTH,
    When,
    gathering_plan,
    planning_zone,
)

# The allauth rate limit (ACCOUNT_RATE_LIMITS, per client address as core/client_ip.py reads it)
# that keeps the public registration form from being used to send e-mail to anyone, at speed.
REGISTER_RATE_LIMIT = "gatherings_public_register"
# The federation's gatherings list: at most this many to come, and the past a page at a time.
COMING_SHOWN = 50
PAST_PER_PAGE = 20


def _federation(slug: str) -> Federation:
    return get_object_or_404(Federation, slug=slug)


def _my_circles(user: Any, federation: Federation) -> list[Circle]:
    """The validated circles of the federation this session counts the user a member of."""
    ids = sorted(audience_for(user).circle_ids)
    return list(
        Circle.objects.filter(federation=federation, pk__in=ids, status__in=FEDERATION_STATUSES)
        .select_related("federation")
        .order_by("name")
    )


def _federation_gathering(pk: int) -> Gathering:
    gathering = selectors.gathering_for_page(pk)
    if gathering is None or not gathering.is_federation_gathering:
        raise Http404
    return gathering


# --- the federation's gatherings -----------------------------------------------------------------


def federation_gathering_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The federation's gatherings, coming and past: public ones for everyone, the others for the
    federation's members."""
    federation = _federation(slug)
    gatherings = selectors.federation_gatherings(user=request.user, federation=federation)
    now = timezone.now()
    past = Paginator(
        gatherings.filter(ends_at__lt=now).order_by("-starts_at", "-pk"), PAST_PER_PAGE
    ).get_page(page_number(request))
    return render(
        request,
        "gatherings/federation_gathering_list.html",
        {
            "federation": federation,
            "section": "gatherings",
            "coming": list(
                gatherings.filter(ends_at__gte=now).order_by("starts_at", "pk")[:COMING_SHOWN]
            ),
            "past": past,
            "may_plan": allowed("gatherings.plan_federation", request.user, federation),
        },
    )


@login_required
def federation_gathering_new(request: HttpRequest, slug: str) -> HttpResponse:
    federation = _federation(slug)
    require_perm(request, "gatherings.plan_federation", federation)
    form = FederationGatheringForm(
        request.POST or None,
        circles=_my_circles(request.user, federation),
        time_zone=planning_zone(me(request)),
    )
    return form_page(
        request,
        form,
        action=lambda d: gathering_plan(
            actor=me(request),
            federation=federation,
            host_circle=d["host_circle"],
            title=d["title"],
            details=d["details"],
            when=When(
                wall_clock(d["starts_at"]),
                wall_clock(d["ends_at"] or d["starts_at"] + DEFAULT_LENGTH),
                d["time_zone"],
            ),
            place=d["place"],
            online_link=d["online_link"],
            is_public=d["is_public"],
        ),
        done=lambda g: saved(
            request,
            _("Proposed. The federation's members have been told."),
            "gatherings:programme",
            g.pk,
        ),
        template="gatherings/federation_gathering_new.html",
        context={"federation": federation, "form": form, "section": "gatherings"},
    )


# --- the programme -------------------------------------------------------------------------------


@dataclass
class SignupBox:
    """One of my circles on the programme page: its sign-up form and whether it is signed up."""

    circle: Circle
    form: SignupForm
    signup: CircleSignup | None


@dataclass
class Forms:
    offer: SessionOfferForm | None = None
    decisions: dict[int, SessionDecisionForm] = field(default_factory=dict)
    signups: dict[int, SignupForm] = field(default_factory=dict)


def _signups(gathering: Gathering) -> list[CircleSignup]:
    return list(
        CircleSignup.objects.filter(gathering=gathering)
        .select_related("circle", "circle__federation")
        .prefetch_related("attendees")
        .order_by("circle__name", "pk")
    )


def _programme_context(request: HttpRequest, gathering: Gathering, forms: Forms) -> dict[str, Any]:
    user = request.user
    audience = audience_for(user)
    invited = allowed("gatherings.view_invited", user, gathering)
    arranger = allowed("gatherings.arrange", user, gathering)
    is_open = gathering.cancelled_at is None and gathering.ends_at > timezone.now()
    sessions = list(
        ProgrammeSession.objects.filter(gathering=gathering).order_by(
            "starts_at", "room", "created_at", "pk"
        )
    )
    for s in sessions:
        if s.starts_at is not None:
            setattr(s, "ends_at", s.starts_at + timedelta(minutes=s.minutes))  # noqa: B010
    me_id = audience.practitioner_id
    context: dict[str, Any] = {
        "gathering": gathering,
        "federation": gathering.federation,
        "section": "gatherings",
        "invited": invited,
        "show_place": allowed("gatherings.view_place", user, gathering),
        "arranger": arranger,
        "is_open": is_open,
        "programme": [s for s in sessions if s.state == SessionState.ACCEPTED],
        "offered": [],
        "mine": [],
        "signups": [],
        "boxes": [],
        "registrations": None,
    }
    if not invited:
        return context
    signups = _signups(gathering)
    coming = {x.pk: list(x.attendees.all()) for x in signups}
    my_circles = _my_circles(user, gathering.federation)
    mine_ids = {c.pk for c in my_circles}
    member_rows = list(
        Membership.objects.current()
        .filter(circle_id__in=sorted(mine_ids))
        .values_list("circle_id", "practitioner_id")
    )
    people = {p.pk for c in coming.values() for p in c} | {pid for _c, pid in member_rows}
    shown = names_for(audience, sorted(people))
    context["signups"] = [
        {
            "signup": x,
            "names": sorted(shown[p.pk] for p in coming[x.pk]),
            "count": len(coming[x.pk]),
        }
        for x in signups
    ]
    context["people_coming"] = sum(len(c) for c in coming.values())
    if arranger:
        context["offered"] = [s for s in sessions if s.state != SessionState.ACCEPTED]
        zone = zoneinfo.ZoneInfo(gathering.time_zone)
        for s in context["offered"] + context["programme"]:
            # The form shows the time as the clock where the gathering is (wall_clock, below).
            start = (s.starts_at or gathering.starts_at).astimezone(zone).replace(tzinfo=None)
            decide = forms.decisions.get(s.pk) or SessionDecisionForm(
                auto_id=f"s{s.pk}-%s",
                initial={"decision": "accept", "starts_at": start, "room": s.room},
            )
            setattr(s, "decide_form", decide)  # noqa: B010 (read by programme_decide.html)
        if gathering.is_public:
            context["registrations"] = PublicRegistration.objects.filter(
                gathering=gathering, cancelled_at__isnull=True
            ).count()
    context["mine"] = [s for s in sessions if s.offered_by_id == me_id]
    context["offer_form"] = forms.offer or SessionOfferForm()
    by_circle = {s.circle_id: s for s in signups}
    members: dict[int, list[tuple[int, str]]] = {}
    for circle_id, pid in member_rows:
        members.setdefault(circle_id, []).append((pid, shown[pid]))
    boxes = []
    for circle in my_circles:
        signup = by_circle.get(circle.pk)
        choices = sorted(members.get(circle.pk, []), key=lambda row: row[1])
        form = forms.signups.get(circle.pk) or SignupForm(
            auto_id=f"c{circle.pk}-%s",
            members=choices,
            initial={
                "attendees": [p.pk for p in coming[signup.pk]] if signup else [],
                "note": signup.note if signup else "",
            },
        )
        boxes.append(SignupBox(circle=circle, form=form, signup=signup))
    context["boxes"] = boxes
    return context


def _programme_page(
    request: HttpRequest, gathering: Gathering, forms: Forms | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "gatherings/programme.html",
        _programme_context(request, gathering, forms or Forms()),
        status=status,
    )


@require_GET
def programme(request: HttpRequest, pk: int) -> HttpResponse:
    gathering = _federation_gathering(pk)
    require_perm(request, "gatherings.view", gathering)
    return _programme_page(request, gathering)


def _back(request: HttpRequest, gathering: Gathering, message: str) -> HttpResponse:
    return saved(request, message, "gatherings:programme", gathering.pk)


@login_required
@require_POST
def session_offer(request: HttpRequest, pk: int) -> HttpResponse:
    gathering = _federation_gathering(pk)
    require_perm(request, "gatherings.answer", gathering)
    form = SessionOfferForm(request.POST)
    if form.is_valid():
        try:
            services.session_offer(
                actor=me(request),
                gathering=gathering,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                minutes=form.cleaned_data["minutes"],
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            return _back(request, gathering, _("Offered. Those who arrange it have been told."))
    return _programme_page(request, gathering, Forms(offer=form), status=400)


def _session(gathering: Gathering, session: int) -> ProgrammeSession:
    found = (
        ProgrammeSession.objects.filter(pk=session, gathering=gathering)
        .select_related("gathering", "gathering__federation")
        .first()
    )
    if found is None:
        raise Http404
    return found


@login_required
@require_POST
def session_decide(request: HttpRequest, pk: int, session: int) -> HttpResponse:
    gathering = _federation_gathering(pk)
    require_perm(request, "gatherings.arrange", gathering)
    found = _session(gathering, session)
    form = SessionDecisionForm(request.POST, auto_id=f"s{found.pk}-%s")
    if form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"
        starts = form.cleaned_data["starts_at"]
        try:
            services.session_decide(
                actor=me(request),
                session=found,
                accept=accept,
                starts_at=wall_clock(starts) if starts else None,
                room=form.cleaned_data["room"],
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            message = _("In the programme.") if accept else _("Declined. They have been told.")
            return _back(request, gathering, message)
    return _programme_page(request, gathering, Forms(decisions={found.pk: form}), status=400)


@login_required
@require_POST
def session_withdraw(request: HttpRequest, pk: int, session: int) -> HttpResponse:
    gathering = _federation_gathering(pk)
    require_perm(request, "gatherings.answer", gathering)
    found = _session(gathering, session)
    if found.offered_by_id != me(request).pk:
        raise PermissionDenied
    try:
        services.session_withdraw(actor=me(request), session=found)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("gatherings:programme", gathering.pk)
    return _back(request, gathering, _("Your session is withdrawn."))


def _my_circle(request: HttpRequest, gathering: Gathering, slug: str) -> Circle:
    circle = get_object_or_404(Circle.objects.select_related("federation"), slug=slug)
    if circle.pk not in {c.pk for c in _my_circles(request.user, gathering.federation)}:
        raise PermissionDenied
    return circle


@login_required
@require_POST
def circle_signup(request: HttpRequest, pk: int, circle: str) -> HttpResponse:
    gathering = _federation_gathering(pk)
    require_perm(request, "gatherings.answer", gathering)
    found = _my_circle(request, gathering, circle)
    choices = list(
        Membership.objects.current().filter(circle=found).values_list("practitioner_id", flat=True)
    )
    shown = names_for(audience_for(request.user), choices)
    form = SignupForm(
        request.POST, auto_id=f"c{found.pk}-%s", members=[(p, shown[p]) for p in choices]
    )
    if form.is_valid():
        try:
            services.circle_signup(
                actor=me(request),
                gathering=gathering,
                circle=found,
                attendee_ids=form.cleaned_data["attendees"],
                note=form.cleaned_data["note"],
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            return _back(request, gathering, _("%(c)s is coming.") % {"c": found.name})
    return _programme_page(request, gathering, Forms(signups={found.pk: form}), status=400)


@login_required
@require_POST
def circle_signup_withdraw(request: HttpRequest, pk: int, circle: str) -> HttpResponse:
    gathering = _federation_gathering(pk)
    require_perm(request, "gatherings.answer", gathering)
    found = _my_circle(request, gathering, circle)
    signup = CircleSignup.objects.filter(gathering=gathering, circle=found).first()
    if signup is None:
        raise Http404
    try:
        services.circle_signup_withdraw(actor=me(request), signup=signup)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("gatherings:programme", gathering.pk)
    return _back(request, gathering, _("%(c)s is no longer coming.") % {"c": found.name})


# --- the public's registration -------------------------------------------------------------------


def _public_gathering(pk: int) -> Gathering:
    gathering = _federation_gathering(pk)
    if not gathering.is_public:
        raise Http404
    return gathering


def public_register(request: HttpRequest, pk: int) -> HttpResponse:
    """Anyone registers for a gathering open to the public, with a name and an address."""
    gathering = _public_gathering(pk)
    form = RegistrationForm(request.POST or None)
    context = {"gathering": gathering, "federation": gathering.federation, "form": form}
    if request.method == "POST" and not ratelimit.consume(request, action=REGISTER_RATE_LIMIT):
        form.is_valid()
        form.add_error(None, _("Too many registrations from here just now. Try again later."))
        return render(request, "gatherings/registration_form.html", context, status=429)
    base_url = f"{request.scheme}://{request.get_host()}"
    return form_page(
        request,
        form,
        action=lambda d: services.public_register(
            gathering=gathering, name=d["name"], email=d["email"], base_url=base_url
        ),
        done=lambda _result: redirect("gatherings:public_register_thanks", gathering.pk),
        template="gatherings/registration_form.html",
        context=context,
    )


@require_GET
def public_register_thanks(request: HttpRequest, pk: int) -> HttpResponse:
    gathering = _public_gathering(pk)
    return render(
        request,
        "gatherings/registration_thanks.html",
        {"gathering": gathering, "federation": gathering.federation},
    )


def registration_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation e-mail: GET asks, POST cancels."""
    try:
        registration = services.registration_for_token(token)
    except ApplicationError as exc:
        raise Http404 from exc
    context: dict[str, Any] = {
        "registration": registration,
        "gathering": registration.gathering,
        "cancelled": registration.cancelled_at is not None,
        "error": "",
    }
    if request.method == "POST":
        try:
            services.public_registration_cancel(token=token)
        except ApplicationError as exc:
            context["error"] = exc.message
            return render(request, "gatherings/registration_cancel.html", context, status=409)
        context["cancelled"] = True
        context["just_cancelled"] = True
    return render(request, "gatherings/registration_cancel.html", context)


@login_required
@require_GET
def registrations_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The names and addresses of those registered, for those who arrange the gathering."""
    gathering = _public_gathering(pk)
    require_perm(request, "gatherings.arrange", gathering)
    rows = services.registrations_downloaded(actor=me(request), gathering=gathering)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="registrations-{gathering.pk}.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow([_("Name"), _("E-mail address")])
    for name, email in rows:
        # A cell a spreadsheet would run as a formula is written as text.
        writer.writerow([_as_text(name), _as_text(email)])
    return response


def _as_text(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
