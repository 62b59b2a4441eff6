"""Pages drawn once and handed out again, until anything is written.

A key page costs ~20 ms to draw (about ten queries, then the templates), and most requests ask
for a page nobody has changed since the same person last saw it: a member going back to the
circle page, the home page after reading a proposal, htmx asking again. This keeps the pages
marked `cacheable` in each worker's memory and answers an identical request from there.

Exact by construction, for what the database holds:

- One number, the *generation*, shared by every process through the cache (Redis), goes up
  after every statement that writes to the database, and again when the transaction that wrote
  commits (`written`: an execute wrapper on every connection, so ORM writes, bulk writes and
  raw SQL all count; sessions, which are part of the key instead, do not). A kept page is filed
  under the generation read *before* it was drawn, so any write that could have changed it —
  committed before, during or after the drawing — moves the generation on and the kept copy is
  never found again.
- The key also holds everything else a page depends on: the path and the query as the view
  reads them, the host and scheme, the language, the htmx headers, the session (its key and a digest of all it
  holds: who is signed in, whether with a second factor) and the CSRF cookie (the page's forms
  carry a token made from it).
- A response is kept only when it is a complete 200 HTML page that set no cookie, changed no
  session, carried no one-off message and was not marked `no-store`; a request that brings a
  message cookie is never answered from memory.
- What changes with the clock alone ("closes in 3 hours") is at most `PAGE_CACHE_SECONDS`
  behind: the minute is part of the key. Deadlines themselves are kept by services and tasks,
  which write, so a proposal that closes is seen closed at once.

Kept pages never leave the worker's memory (they may hold decrypted sensitive text, which is
never written to Redis or disk: docs/threat-model.md); only the generation lives in the shared
cache, and every process whose cache is shared watches its writes, whether it keeps pages or
not (the task runner, management commands). If a write cannot move the generation (Redis away),
the writing process keeps no pages for PAGE_CACHE_SECONDS and the others may lag that long.
Without a shared cache (no REDIS_URL) a write in one process could not reach the others,
so settings turn the page cache off there (base.py: PAGE_CACHE), except in the test suite, which
runs every page through it in one process so any stale page fails a test.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import Resolver404, resolve
from django.utils import timezone

logger = logging.getLogger(__name__)

GENERATION_KEY = "page-cache:generation"
# A statement writes when it starts with one of these (after any leading space). Django sends
# no data-changing WITH; "ROLLBACK TO SAVEPOINT" undoes writes, so it counts as well.
_WRITES: tuple[str, ...] = ("INSERT", "UPDATE", "DELETE", "REPLACE", "TRUNCATE", "MERGE")
_WRITES += ("ROLLBACK", "COPY", "ALTER", "DROP", "CREATE")
# Sessions are part of the key (their key and a digest of what they hold), so writing one moves
# no generation: otherwise every sign-in would drop every kept page of every worker.
_NOT_PAGE_STATE = ('"django_session"', "django_session ")
# Response headers a kept page may vary on: all of them are in the key.
_VARY_KNOWN = frozenset({"cookie", "accept-encoding", "accept-language"})
_HTMX_HEADERS = (
    "HTTP_HX_REQUEST",
    "HTTP_HX_BOOSTED",
    "HTTP_HX_TARGET",
    "HTTP_HX_TRIGGER",
    "HTTP_HX_TRIGGER_NAME",
    "HTTP_HX_CURRENT_URL",
    "HTTP_HX_HISTORY_RESTORE_REQUEST",
    "HTTP_HX_PROMPT",
)

V = TypeVar("V", bound=Callable[..., Any])


def cacheable(view: V) -> V:
    """Mark a read-only page whose answer depends only on what the key holds (module doc)."""
    view.page_cacheable = True  # type: ignore[attr-defined]
    return view


def enabled() -> bool:
    return bool(getattr(settings, "PAGE_CACHE", False)) and time.monotonic() >= _bypass_until


def _watching() -> bool:
    """Whether this process's writes move the generation: whenever the page cache is on here,
    and whenever the cache is shared, so a process that keeps no pages itself (the task runner,
    a management command, a worker with CIRCLEWORK_PAGE_CACHE=0) still tells those that do."""
    if getattr(settings, "PAGE_CACHE", False):
        return True
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", ""))
    return not backend.endswith(("LocMemCache", "DummyCache"))


# Set when a write could not move the generation: this process draws every page for a while,
# so at least the writer sees what it wrote (other processes may lag by PAGE_CACHE_SECONDS).
_bypass_until = 0.0


# --- The generation --------------------------------------------------------------------------


def generation() -> int:
    """The current generation; started from the clock (nanoseconds) when the cache has none, so
    a generation lost with the cache (a Redis restart) never comes back to an old value."""
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
        value = cache.get(GENERATION_KEY)
    return int(value)


def bump() -> None:
    """Something was written: every page kept so far is out of date."""
    try:
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:  # no generation yet: the next one starts above any earlier
            cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
            cache.incr(GENERATION_KEY)
    except Exception:
        # Pages kept before the write may be handed out by other processes for up to
        # PAGE_CACHE_SECONDS (the clock is part of the key): said loudly, never a failed write.
        # This process forgets its pages and keeps none for that long.
        global _bypass_until
        _bypass_until = time.monotonic() + settings.PAGE_CACHE_SECONDS
        pages.clear()
        logger.exception("page cache: the generation could not be moved on after a write")


def _is_write(sql: object) -> bool:
    if not isinstance(sql, str):
        return True  # composed SQL (psycopg.sql): count it rather than guess
    head = sql.lstrip()[:8].upper()
    if not head.startswith(_WRITES):
        return False
    return not any(marker in sql for marker in _NOT_PAGE_STATE)


def written(conn: BaseDatabaseWrapper) -> None:
    """`conn` wrote (or is writing) in its transaction: bump now and on commit. Called for every
    statement through Django's cursor; a write outside it (psycopg's COPY) calls it itself."""
    bump()
    if conn.in_atomic_block and not any(entry[1] is bump for entry in conn.run_on_commit):
        transaction.on_commit(bump, using=conn.alias, robust=True)


def _watch_writes(
    execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    try:
        return execute(sql, params, many, context)
    finally:
        # Even when it failed: an executemany may have written some rows before it did.
        if _is_write(sql):
            written(context["connection"])


def _install(connection: BaseDatabaseWrapper, **_: Any) -> None:
    if _watching() and _watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch_writes)


def watch_connections() -> None:
    """Called once at start-up (CoreConfig.ready): every connection opened from then on bumps
    the generation when it writes."""
    connection_created.connect(_install, dispatch_uid="circlework.page_cache")


# --- What a page depends on ------------------------------------------------------------------


def _code_version() -> str:
    """Changes when the code or templates change (a deploy): pages drawn by the old code are
    not handed out by the new."""
    global _CODE_VERSION
    if _CODE_VERSION is None:
        root = Path(__file__).resolve().parent.parent
        digest = hashlib.sha256()
        for dirpath, _, files in sorted(os.walk(root)):
            for name in sorted(files):
                if name.endswith((".py", ".html", ".mo", ".txt")):
                    stat = os.stat(os.path.join(dirpath, name))
                    digest.update(f"{dirpath}/{name}:{stat.st_mtime_ns}:{stat.st_size}".encode())
        _CODE_VERSION = digest.hexdigest()[:16]
    return _CODE_VERSION


_CODE_VERSION: str | None = None


def _session_part(request: HttpRequest) -> str:
    session = getattr(request, "session", None)
    if session is None:
        return ""
    items = sorted((str(k), repr(v)) for k, v in session.items())  # loads it
    if not items:
        return ""
    return f"{session.session_key}:{items!r}"


Stamp = tuple[int, int]  # the generation, and the clock's step (PAGE_CACHE_SECONDS)


def stamp_now() -> Stamp:
    return (generation(), int(timezone.now().timestamp() // max(1, settings.PAGE_CACHE_SECONDS)))


def page_key(request: HttpRequest, stamp: Stamp) -> str:
    parts: Iterable[object] = (
        _code_version(),
        stamp,
        request.scheme,
        request.get_host(),
        request.path,
        tuple(request.GET.lists()),  # as the view reads it (two spellings of one text agree)
        getattr(request, "LANGUAGE_CODE", ""),
        tuple(request.META.get(name, "") for name in _HTMX_HEADERS),
        request.COOKIES.get(settings.CSRF_COOKIE_NAME, ""),
        _session_part(request),
    )
    return hashlib.sha256(repr(tuple(parts)).encode()).hexdigest()


def _brings_message(request: HttpRequest) -> bool:
    return "messages" in request.COOKIES


def _storable(request: HttpRequest, response: HttpResponseBase) -> bool:
    match = request.resolver_match
    if match is None or not getattr(match.func, "page_cacheable", False):
        return False
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if not str(response.get("Content-Type", "")).startswith("text/html"):
        return False
    if "no-store" in str(response.get("Cache-Control", "")):
        return False
    vary = {v.strip().lower() for v in str(response.get("Vary", "")).split(",") if v.strip()}
    if any(v not in _VARY_KNOWN and not v.startswith("hx-") for v in vary):
        return False
    secret = request.META.get("CSRF_COOKIE")
    if secret is not None and secret != request.COOKIES.get(settings.CSRF_COOKIE_NAME):
        return False  # the page holds a token for a CSRF cookie the browser does not have yet
    session = getattr(request, "session", None)
    if session is not None and session.modified:
        return False
    assert isinstance(response, HttpResponse)
    return len(response.content) <= settings.PAGE_CACHE_MAX_PAGE_BYTES


# --- The worker's memory ---------------------------------------------------------------------


@dataclass(frozen=True)
class Kept:
    stamp: Stamp
    content: bytes
    headers: tuple[tuple[str, str], ...]

    def response(self) -> HttpResponse:
        response = HttpResponse(self.content)
        for name, value in self.headers:
            response.headers[name] = value
        return response


class Pages:
    """The kept pages of one process, least recently used dropped first, within a byte budget.
    Every page of an older stamp (an earlier generation, or an earlier step of the clock) is
    dropped as soon as a newer stamp is seen: none of them can be found again."""

    def __init__(self) -> None:
        self._pages: OrderedDict[str, Kept] = OrderedDict()
        self._bytes = 0
        self._stamp: Stamp = (0, 0)
        self._lock = threading.Lock()

    def _see(self, stamp: Stamp) -> bool:
        """Move on to `stamp` if it is newer; False if it is older than what is kept."""
        if stamp == self._stamp:
            return True
        if stamp < self._stamp:
            return False
        self._pages.clear()
        self._bytes = 0
        self._stamp = stamp
        return True

    def get(self, key: str, stamp: Stamp) -> Kept | None:
        with self._lock:
            if not self._see(stamp):
                return None
            kept = self._pages.get(key)
            if kept is not None:
                self._pages.move_to_end(key)
            return kept

    def put(self, key: str, kept: Kept) -> None:
        budget = settings.PAGE_CACHE_MAX_BYTES
        with self._lock:
            if not self._see(kept.stamp):
                return  # drawn before a write another request has already seen
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old.content)
            self._pages[key] = kept
            self._bytes += len(kept.content)
            while self._bytes > budget and self._pages:
                _, dropped = self._pages.popitem(last=False)
                self._bytes -= len(dropped.content)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._pages)


pages = Pages()


def forget() -> None:
    """Drop every kept page of this process and draw again from now (tests start with this)."""
    global _bypass_until
    _bypass_until = 0.0
    pages.clear()


class PageCacheMiddleware:
    """Answer a GET for a kept page from memory; keep a cacheable page once drawn.

    Sits after the session, locale and CSRF middleware (the key needs them) and before the user
    is loaded, so a kept page costs no query at all."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if (
            request.method != "GET"
            or not enabled()
            or _brings_message(request)
            or not _marked(request.path_info)
        ):
            return self.get_response(request)
        try:
            stamp = stamp_now()
            key = page_key(request, stamp)
        except DisallowedHost:
            return self.get_response(request)  # refused there, as without the page cache
        except Exception as exc:
            # Not a traceback per request while Redis is away: one line each.
            logger.warning("page cache: no key for this request (%s); drawing the page", exc)
            return self.get_response(request)
        kept = pages.get(key, stamp)
        if kept is not None:
            return kept.response()
        response = self.get_response(request)
        if _storable(request, response):
            assert isinstance(response, HttpResponse)
            headers = tuple(
                (name, value)
                for name, value in response.items()
                if name.lower() not in ("content-length", "set-cookie")
            )
            pages.put(key, Kept(stamp, response.content, headers))
        return response


def _marked(path: str) -> bool:
    """Whether the page at `path` is marked `cacheable`: nothing else (the API, forms, files)
    pays for the page cache, not even a read of the session. Remembered per address, so a
    request is not resolved twice (here, then by the handler) every time."""
    return _marked_in(settings.ROOT_URLCONF, path)


@lru_cache(maxsize=4096)
def _marked_in(urlconf: str, path: str) -> bool:
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return False
    return bool(getattr(match.func, "page_cacheable", False))
