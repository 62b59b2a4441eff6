"""The key pages and API endpoints the benchmark measures (bench/run.py) and the performance
tests guard (tests/perf/test_key_pages.py): who asks for each, and how its URL is found in the
database, so the same list works on the demo and on the demo plus `seed_scale`.

Importing this module needs Django set up (it imports models). Add a capability's busiest page
here and both the benchmark and the tests pick it up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connection
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bench.run import TARGETS
from circlework.accounts.models import Practitioner
from circlework.accounts.services import api_token_create
from circlework.agreements.models import Agreement, AgreementKind
from circlework.circles.models import Federation
from circlework.core import page_cache
from circlework.decisions.models import Proposal, ProposalStatus
from circlework.elections.models import Election
from circlework.gatherings.models import Gathering, Occurrence

ANONYMOUS = "anonymous"
RUTH = "ruth@demo.circlework.org"
CIRCLE = "leeds-wednesday-circle"
FEDERATION = "northern-practitioners-network"

MAX_QUERIES = int(TARGETS["max_queries"])  # tests/perf asserts these two
MAX_BYTES = int(TARGETS["max_bytes"])


@dataclass(frozen=True)
class KeyPage:
    name: str
    who: str  # ANONYMOUS or the e-mail address of the practitioner who asks
    how: str  # how the URL is found, in words (the report prints it)
    find: Callable[[], str]  # the URL, looked up in the database
    auth: Literal["none", "session", "token"] = "session"
    api: bool = False  # JSON from /api/v1/, not an HTML page

    @property
    def anonymous(self) -> bool:
        return self.who == ANONYMOUS


def _landing() -> str:
    return reverse("home")


def _circle() -> str:
    return reverse("circles:circle_detail", args=[CIRCLE])


def _proposal() -> str:
    proposal = (
        Proposal.objects.filter(circle__slug=CIRCLE, status=ProposalStatus.OPEN)
        .annotate(voices=Count("positions"))
        .order_by("-voices", "pk")
        .first()
    )
    if proposal is None:
        raise LookupError(f"no open proposal in {CIRCLE}")
    return reverse("decisions:proposal_detail", args=[CIRCLE, proposal.pk])


def _decisions() -> str:
    return reverse("decisions:proposal_list", args=[CIRCLE])


def _agreement() -> str:
    agreement = (
        # An ethical statement's page adds its circulations and comments: a page of its own kind,
        # so the same kind is measured at both sizes.
        Agreement.objects.filter(circle__slug=CIRCLE)
        .exclude(kind=AgreementKind.ETHICS)
        .annotate(n=Count("versions"))
        .order_by("-n", "pk")
        .first()
    )
    if agreement is None:
        raise LookupError(f"no agreement in {CIRCLE}")
    return reverse("agreements:agreement_detail", args=[CIRCLE, agreement.pk])


def _statement() -> str:
    """The circle's ethical statement with the most comments from the federation (then the most
    circulations, then the first made): the demo's has none yet, seed_scale's some."""
    statement = (
        Agreement.objects.filter(circle__slug=CIRCLE, kind=AgreementKind.ETHICS)
        .annotate(
            comments=Count("circulations__comments", distinct=True),
            circulated=Count("circulations", distinct=True),
        )
        .order_by("-comments", "-circulated", "pk")
        .first()
    )
    if statement is None:
        raise LookupError(f"no ethical statement in {CIRCLE}")
    return reverse("agreements:agreement_detail", args=[CIRCLE, statement.pk])


def _federation() -> str:
    return reverse("circles:federation_detail", args=[FEDERATION])


def _map() -> str:
    return reverse("links:federation_map", args=[FEDERATION])


def _election() -> str:
    federation = Federation.objects.get(slug=FEDERATION)
    election = Election.objects.filter(federation=federation).order_by("pk").first()
    if election is None:
        raise LookupError(f"no election in {FEDERATION}")
    return reverse("elections:election_detail", args=[election.pk])


def _inbox() -> str:
    return reverse("notifications:inbox")


def _ethics() -> str:
    return reverse("agreements:ethics_register", args=[FEDERATION])


def _profile() -> str:
    ruth = Practitioner.objects.get(user__email=RUTH)
    return reverse("accounts:practitioner_detail", args=[ruth.pk])


def _covenant() -> str:
    return reverse("agreements:covenant", args=[FEDERATION])


def _gatherings() -> str:
    return reverse("gatherings:gathering_list", args=[CIRCLE])


def _monthly() -> Gathering:
    """The circle's first repeating meeting still on (the demo's monthly meeting)."""
    gathering = (
        Gathering.objects.filter(circle__slug=CIRCLE, cancelled_at__isnull=True)
        .exclude(recurrence="")
        .order_by("pk")
        .first()
    )
    if gathering is None:
        raise LookupError(f"no repeating gathering in {CIRCLE}")
    return gathering


def _gathering() -> str:
    return reverse("gatherings:gathering_detail", args=[_monthly().pk])


def _meeting() -> str:
    gathering = _monthly()
    occurrence = (
        Occurrence.objects.filter(
            gathering=gathering, cancelled_at__isnull=True, starts_at__gte=timezone.now()
        )
        .filter(agenda__isnull=False)
        .order_by("starts_at", "pk")
        .first()
    )
    if occurrence is None:
        raise LookupError(f"no coming meeting with an agenda of {gathering.title}")
    return reverse(
        "gatherings:occurrence_detail", kwargs={"pk": gathering.pk, "occurrence": occurrence.pk}
    )


def _federation_gatherings() -> str:
    return reverse("gatherings:federation_gathering_list", args=[FEDERATION])


def _programme() -> str:
    gathering = (
        Gathering.objects.filter(
            federation__slug=FEDERATION,
            circle__isnull=True,
            link__isnull=True,
            is_public=True,
            cancelled_at__isnull=True,
            starts_at__gte=timezone.now(),
        )
        .order_by("starts_at", "pk")
        .first()
    )
    if gathering is None:
        raise LookupError(f"no coming public gathering of {FEDERATION}")
    return reverse("gatherings:programme", args=[gathering.pk])


def _api_circles() -> str:
    return "/api/v1/circles"


def _api_notifications() -> str:
    return "/api/v1/me/notifications"


def _api_proposals() -> str:
    return f"/api/v1/circles/{CIRCLE}/proposals"


PAGES: list[KeyPage] = [
    KeyPage("landing (anonymous)", ANONYMOUS, "/ signed out", _landing, "none"),
    KeyPage("member home", RUTH, "/ signed in", _landing),
    KeyPage("circle overview", RUTH, f"the circle {CIRCLE}", _circle),
    KeyPage(
        "proposal with voices",
        RUTH,
        f"the open proposal in {CIRCLE} with the most positions",
        _proposal,
    ),
    KeyPage("decisions list", RUTH, f"the decisions of {CIRCLE}", _decisions),
    KeyPage(
        "agreement with history",
        RUTH,
        f"the agreement (not an ethical statement) in {CIRCLE} with the most versions",
        _agreement,
    ),
    KeyPage(
        "ethical statement with comments",
        RUTH,
        f"the ethical statement of {CIRCLE} with the most comments from the federation",
        _statement,
    ),
    KeyPage("federation page", RUTH, f"the federation {FEDERATION}", _federation),
    KeyPage("federation map", RUTH, f"the map of {FEDERATION}", _map),
    KeyPage("election", RUTH, f"the first election of {FEDERATION}", _election),
    KeyPage("inbox", RUTH, "/me/notifications/", _inbox),
    KeyPage(
        "ethics register (public)",
        ANONYMOUS,
        f"the public ethics register of {FEDERATION}",
        _ethics,
        "none",
    ),
    KeyPage("practitioner profile (public)", ANONYMOUS, "Ruth's public profile", _profile, "none"),
    KeyPage("covenant", RUTH, f"the covenant of {FEDERATION}", _covenant),
    KeyPage("circle gatherings", RUTH, f"the gatherings of {CIRCLE}", _gatherings),
    KeyPage(
        "gathering page",
        RUTH,
        f"the first repeating gathering of {CIRCLE} (its monthly meeting)",
        _gathering,
    ),
    KeyPage(
        "gathering meeting with agenda",
        RUTH,
        f"the next meeting of {CIRCLE}'s monthly meeting that has an agenda",
        _meeting,
    ),
    KeyPage(
        "federation gatherings (public)",
        ANONYMOUS,
        f"the gatherings of {FEDERATION}, signed out",
        _federation_gatherings,
        "none",
    ),
    KeyPage(
        "gathering programme (public)",
        ANONYMOUS,
        f"the programme of the next public gathering of {FEDERATION}, signed out",
        _programme,
        "none",
    ),
    KeyPage("API circles list", ANONYMOUS, "GET /api/v1/circles", _api_circles, "none", api=True),
    KeyPage(
        "API notifications list",
        RUTH,
        "GET /api/v1/me/notifications with Ruth's token",
        _api_notifications,
        "token",
        api=True,
    ),
    KeyPage(
        "API proposals list",
        RUTH,
        f"GET /api/v1/circles/{CIRCLE}/proposals with Ruth's token",
        _api_proposals,
        "token",
        api=True,
    ),
]


def by_name(name: str) -> KeyPage:
    return next(p for p in PAGES if p.name == name)


# --- asking for a page in-process ------------------------------------------------------------


class Visitors:
    """A test client per asker: anonymous, signed in with a session, or with an API token.

    `secure` asks as if through the HTTPS proxy (production settings redirect plain HTTP)."""

    def __init__(self, *, secure: bool = False, host: str | None = None) -> None:
        self.secure = secure
        self.host = host
        self._clients: dict[tuple[str, str], Client] = {}
        self._tokens: dict[str, str] = {}

    def _new_client(self) -> Client:
        extra: dict[str, Any] = {}
        if self.host:
            extra["HTTP_HOST"] = self.host
        return Client(**extra)

    def token(self, email: str) -> str:
        if email not in self._tokens:
            practitioner = Practitioner.objects.get(user__email=email)
            _, self._tokens[email] = api_token_create(actor=practitioner, name="benchmark")
        return self._tokens[email]

    def client(self, page: KeyPage) -> Client:
        key = (page.who, page.auth)
        if key not in self._clients:
            client = self._new_client()
            if page.auth == "session":
                client.force_login(Practitioner.objects.get(user__email=page.who).user)
            self._clients[key] = client
        return self._clients[key]

    def headers(self, page: KeyPage) -> dict[str, str]:
        """The HTTP headers a page's request carries (also what wrk sends to the server)."""
        headers = {"Accept": "application/json" if page.api else "text/html"}
        if page.auth == "token":
            headers["Authorization"] = f"Bearer {self.token(page.who)}"
        return headers

    def session_cookie(self, page: KeyPage) -> str | None:
        from django.conf import settings

        if page.auth != "session":
            return None
        morsel = self.client(page).cookies.get(settings.SESSION_COOKIE_NAME)
        return None if morsel is None else f"{settings.SESSION_COOKIE_NAME}={morsel.value}"

    def get(self, page: KeyPage, url: str, **extra: str) -> Any:
        headers = {**self.headers(page), **extra}
        return self.client(page).get(url, headers=headers, secure=self.secure)


_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@contextmanager
def counting() -> Iterator[list[str]]:
    """The SQL statements run inside the block, on the default connection (across the request
    closing it). Savepoints are left out: they appear only when a test wraps the request in an
    outer transaction, never on the server."""
    executed: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if not sql.lstrip().upper().startswith(_TRANSACTION_CONTROL):
            executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield executed


@dataclass(frozen=True)
class Measure:
    url: str
    status: int
    queries: int
    bytes: int
    statements: list[str]


def measure(visitors: Visitors, page: KeyPage, url: str | None = None) -> Measure:
    """Queries and bytes of one request for the page, after a warm-up request (which fills
    whatever per-process caches the page uses)."""
    url = url or page.find()
    visitors.get(page, url)
    # Drawn, not handed out again (core/page_cache.py): the cost of the page is what is measured.
    page_cache.pages.clear()
    with counting() as executed:
        response = visitors.get(page, url)
    return Measure(url, response.status_code, len(executed), len(response.content), executed)
