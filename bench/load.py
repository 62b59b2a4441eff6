"""Load test on loopback: a real server (gunicorn, several workers, PostgreSQL) at a steady rate,
with a database restart and a killed worker mid-run. Writes bench/reports/load.md and load.json.

Run with `make load` (options: `make load LOAD_ARGS="--rate 40 --duration 60"`). Not part of
`make test` or CI: it restarts the local PostgreSQL server, which other databases share.
`make load LOAD_ARGS="--large"` runs it on the demo plus `seed_scale` at make bench's large size
(3000 practitioners, 400 circles, 300,000 records; `--scale P,C,R` for other numbers).
`--setup-only` builds all that, starts the server and the task worker, warms them up and stops:
no load, no faults, PostgreSQL not restarted (with `--db-name`, beside other users' databases).

What it does, in order:
1. Creates a fresh PostgreSQL database (circlework_load, or --db-name), migrates it, loads the
   demo federation (and with --large or --scale, seed_scale's on top, then ANALYZE), makes sure
   every circle has an open proposal and an open poll, and creates an API token and a signed-in
   session for every practitioner in a circle.
2. Starts gunicorn (production settings, N sync workers on 127.0.0.1:<free port>) and the task
   worker (`manage.py run_worker`).
3. Sends an open-loop stream of requests: each one at its scheduled time whatever the others are
   doing, from a thread pool; latency counts from the scheduled time, so a slow server cannot
   hide its slowness by delaying the requests that would have measured it. The mix: reads (pages
   and API GETs), writes through the API (positions, comments, poll ballots, standing-by
   statements), each carrying a unique marker, and bad inputs that must be refused with a 4xx.
4. Mid-run: restarts PostgreSQL, later kills one gunicorn worker with SIGKILL.
5. Checks the database: every write the client saw acknowledged (2xx) is there; counts
   duplicates that retries made, and any trace a refused bad input left.

Definitions used by the report (and tested in tests/bench/test_load_driver.py):
- Fault window: from the moment a fault starts until its recovery is observed (PostgreSQL
  accepts connections again; gunicorn has started a replacement worker) plus GRACE seconds. A
  request attempt belongs to the window if its [sent, done] interval overlaps it.
- Error: an attempt that got no response, a 5xx, or a status other than the one expected (200 for
  reads, 2xx for writes, 4xx for bad inputs). Errors outside every fault window are steady-state
  errors, and there must be none.
- A write that gets no response or a 5xx is retried with the same payload and marker (backing
  off, for up to RETRY_FOR seconds). A write is *lost* if the client got a 2xx for it and its
  record is not in the database at the end. A marker found more than once is a duplicate: after an
  error it is a retry duplicate (the first attempt was committed but its answer never arrived),
  reported separately; without an error before it, it is a defect.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.server import HOST, Gunicorn, stop_process  # noqa: E402

REPORTS = ROOT / "bench" / "reports"
DB_NAME = "circlework_load"
# The large size, as `make bench` measures it: `seed_scale` on top of the demo (--large).
LARGE = {"practitioners": 3000, "circles": 400, "records": 300_000}
PG_HOST = HOST  # loopback: the server, the database and the load generator share the machine
PG_PORT = 5432
GRACE = 1.0  # seconds after a fault's observed recovery that still count as its window
RETRY_FOR = 60.0  # how long a failed write keeps being retried, from its scheduled time
REQUEST_TIMEOUT = 30.0
RATE = 20.0  # requests/s by default: below this 2-CPU machine's capacity (see the report)

# Share of the plan by category, and of each category by kind.
MIX = {"read": 0.60, "write": 0.25, "bad": 0.15}
READ_KINDS = {
    "read:home-anonymous": 1,
    "read:public-pages": 2,
    "read:home-member": 2,
    "read:circle-page": 2,
    "read:decision-pages": 3,
    "read:poll-standing-pages": 2,
    "read:api": 4,
}
WRITE_KINDS = {"write:position": 35, "write:comment": 30, "write:ballot": 15, "write:standing": 20}
BAD_KINDS = {
    "bad:malformed-json": 2,
    "bad:missing-field": 2,
    "bad:wrong-type": 2,
    "bad:invalid-choice": 1,
    "bad:other-circle": 3,
    "bad:oversize-text": 2,
    "bad:oversize-body": 1,
    "bad:no-or-wrong-token": 1,
    "bad:unknown-id": 1,
}
STANCES = ["agree", "concerns", "disagree", "stand_aside", "block"]


# --- pure parts: scheduling, percentiles, fault windows, write accounting ---------------------


def schedule(rate: float, duration: float) -> list[float]:
    """Send times (seconds from the start) for a steady open-loop rate: evenly spaced."""
    if rate <= 0 or duration <= 0:
        return []
    count = round(rate * duration)
    return [i / rate for i in range(count)]


def allocate(total: int, shares: Mapping[str, float]) -> dict[str, int]:
    """Split `total` by `shares` exactly (largest remainder), so the plan has the mix it says."""
    weight = sum(shares.values())
    exact = {k: total * v / weight for k, v in shares.items()}
    counts = {k: math.floor(x) for k, x in exact.items()}
    left = total - sum(counts.values())
    for k in sorted(exact, key=lambda k: (counts[k] - exact[k], k))[:left]:
        counts[k] += 1
    return counts


def plan(
    rate: float, duration: float, shares: Mapping[str, float], seed: int
) -> list[tuple[float, str]]:
    """The whole run: (send time, category) in time order, categories shuffled reproducibly."""
    times = schedule(rate, duration)
    categories = [k for k, n in allocate(len(times), shares).items() for _ in range(n)]
    random.Random(seed).shuffle(categories)
    return list(zip(times, categories, strict=True))


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in (0, 100]): the smallest value with p% of values ≤ it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def latency_summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """Count and p50/p95/p99/max, in milliseconds, of latencies given in seconds."""

    def ms(v: float | None) -> float | None:
        return None if v is None else round(v * 1000, 1)

    return {
        "count": len(values),
        "p50_ms": ms(percentile(values, 50)),
        "p95_ms": ms(percentile(values, 95)),
        "p99_ms": ms(percentile(values, 99)),
        "max_ms": ms(max(values) if values else None),
    }


@dataclass(frozen=True)
class Window:
    """A fault's window: [start, end] in seconds from the run's start."""

    name: str
    start: float
    end: float


def window_of(sent: float, done: float, windows: Iterable[Window]) -> str | None:
    """The first fault window that the interval [sent, done] overlaps, if any."""
    for w in windows:
        if sent <= w.end and done >= w.start:
            return w.name
    return None


@dataclass
class Attempt:
    sent: float
    done: float
    status: int | None  # None: no HTTP response (refused, reset, timed out)
    error: str = ""  # the exception, or the start of an unexpected response's body


@dataclass
class WriteRecord:
    """What the client knows about one write: its marker and every attempt's outcome."""

    marker: str
    kind: str
    attempts: list[Attempt]

    @property
    def acknowledged(self) -> bool:
        return any(a.status is not None and 200 <= a.status < 300 for a in self.attempts)

    @property
    def failed_before_ack(self) -> bool:
        """An attempt failed (no response or 5xx) before the one that was acknowledged."""
        for a in self.attempts:
            if a.status is not None and 200 <= a.status < 300:
                return False
            if a.status is None or a.status >= 500:
                return True
        return False


@dataclass
class WriteAccount:
    tried: int = 0
    acknowledged: int = 0
    present: int = 0
    lost: list[str] = field(default_factory=list)
    retry_duplicates: int = 0  # extra rows made by retrying after an error
    unexplained_duplicates: list[str] = field(default_factory=list)
    recorded_without_ack: int = 0  # never acknowledged (gave up) but in the database
    given_up_absent: int = 0  # never acknowledged and not in the database: the client knows
    unknown_markers: list[str] = field(default_factory=list)  # in the database, never sent


def account_writes(writes: Sequence[WriteRecord], found: Mapping[str, int]) -> WriteAccount:
    """Compare what the client was told with what the database holds (marker → rows found)."""
    account = WriteAccount(tried=len(writes))
    sent = set()
    for w in writes:
        sent.add(w.marker)
        rows = found.get(w.marker, 0)
        if rows:
            account.present += 1
        if w.acknowledged:
            account.acknowledged += 1
            if rows == 0:
                account.lost.append(w.marker)
        elif rows:
            account.recorded_without_ack += 1
        else:
            account.given_up_absent += 1
        if rows > 1:
            if w.failed_before_ack or not w.acknowledged:
                account.retry_duplicates += rows - 1
            else:
                account.unexplained_duplicates.append(w.marker)
    account.unknown_markers = sorted(m for m, n in found.items() if n and m not in sent)
    return account


@dataclass
class BallotWrite:
    """One ballot sent: whose, on which poll, in what order, and the stored shape it should have.

    Ballots replace each other in place, so they carry no marker; a voter's ballots are sent one
    at a time (the driver never has two writes of one practitioner in flight)."""

    voter: int
    poll: int
    seq: int
    expected: str  # canonical JSON of the stored choices
    attempts: list[Attempt]

    @property
    def acknowledged(self) -> bool:
        return any(a.status is not None and 200 <= a.status < 300 for a in self.attempts)


@dataclass
class BallotAccount:
    tried: int = 0
    acknowledged: int = 0
    voter_polls: int = 0
    final_matches: int = 0
    lost: list[str] = field(default_factory=list)
    audit_events: int = 0
    extra_audit_events: int = 0  # committed attempts whose answer never arrived


def account_ballots(
    writes: Sequence[BallotWrite],
    final: Mapping[tuple[int, int], str],
    audit_events: Mapping[tuple[int, int], int],
) -> BallotAccount:
    """Each voter's stored ballot must be their last acknowledged one (or a later one whose answer
    was lost), and there must be at least one audit event per acknowledged ballot."""
    account = BallotAccount(tried=len(writes))
    groups: dict[tuple[int, int], list[BallotWrite]] = defaultdict(list)
    for w in writes:
        groups[(w.voter, w.poll)].append(w)
    for key, group in sorted(groups.items()):
        group.sort(key=lambda w: w.seq)
        acked = [i for i, w in enumerate(group) if w.acknowledged]
        account.acknowledged += len(acked)
        events = audit_events.get(key, 0)
        account.audit_events += events
        if not acked:
            continue
        account.voter_polls += 1
        allowed = {group[acked[-1]].expected} | {w.expected for w in group[acked[-1] + 1 :]}
        label = f"voter {key[0]} on poll {key[1]}"
        if final.get(key) in allowed:
            account.final_matches += 1
        else:
            account.lost.append(f"{label}: stored {final.get(key)}, expected one of {allowed}")
        if events < len(acked):
            account.lost.append(f"{label}: {len(acked)} acknowledged, {events} audit events")
        account.extra_audit_events += max(0, events - len(acked))
    return account


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# --- the world the load runs in -------------------------------------------------------------


@dataclass
class Poll:
    id: int
    kind: str
    options: list[int]


@dataclass
class CircleInfo:
    slug: str
    federation: str
    members: list[int]
    proposals: list[int]  # open
    polls: list[Poll]  # open
    comment_ids: list[int]  # comments on this circle's proposals (for "other proposal" parents)
    public: bool = True  # its page open to visitors (seed_scale makes some for the federation only)


@dataclass
class Actor:
    id: int
    email: str
    token: str
    session: str
    circles: list[str]


@dataclass
class World:
    actors: list[Actor]
    circles: dict[str, CircleInfo]
    outsider_token: str  # a practitioner in no circle: for "other circle" requests


@dataclass
class Request:
    seq: int
    kind: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    expect: str  # "200", "2xx" or "4xx"
    actor: int | None = None  # a write's practitioner, released when it is done
    marker: str = ""
    ballot: tuple[int, int, str] | None = None  # (voter, poll, expected stored shape)


def expected(kind: str, status: int | None) -> bool:
    if status is None:
        return False
    if kind == "200":
        return status == 200
    if kind == "2xx":
        return 200 <= status < 300
    return 400 <= status < 500


class Builder:
    """Turns a planned category into a concrete request, at the moment it is sent."""

    def __init__(self, world: World, run: str, seed: int) -> None:
        self.world = world
        self.run = run
        self.rng = random.Random(seed + 1)
        self.lock = threading.Lock()
        self.busy: set[int] = set()
        self.last_ballot: dict[tuple[int, int], str] = {}
        self.writes_deferred = 0

    def release(self, actor: int | None) -> None:
        if actor is not None:
            with self.lock:
                self.busy.discard(actor)

    def pick(self, weights: Mapping[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def build(self, seq: int, category: str) -> Request:
        with self.lock:
            if category == "write":
                req = self._write(seq, self.pick(WRITE_KINDS))
                if req is not None:
                    return req
                self.writes_deferred += 1  # every practitioner who could write is mid-write
                category = "read"
            if category == "bad":
                return self._bad(seq, self.pick(BAD_KINDS))
            return self._read(seq, self.pick(READ_KINDS))

    # -- helpers
    def _token(self, actor: Actor) -> dict[str, str]:
        return {"Authorization": f"Bearer {actor.token}", "Accept": "application/json"}

    def _json(self, actor: Actor) -> dict[str, str]:
        return {**self._token(actor), "Content-Type": "application/json"}

    def _session(self, actor: Actor) -> dict[str, str]:
        return {"Cookie": f"sessionid={actor.session}", "Accept": "text/html"}

    def _circle(self, actor: Actor) -> CircleInfo:
        return self.world.circles[self.rng.choice(actor.circles)]

    def _other_circle(self, actor: Actor) -> CircleInfo:
        others = [c for s, c in self.world.circles.items() if s not in actor.circles]
        return self.rng.choice(others)

    # -- reads
    def _read(self, seq: int, kind: str) -> Request:
        actor = self.rng.choice(self.world.actors)
        circle = self._circle(actor)
        headers: dict[str, str] = self._session(actor)
        if kind == "read:home-anonymous":
            path, headers = "/", {"Accept": "text/html"}
        elif kind == "read:public-pages":
            # A visitor reads a circle's page only where the circle shows it to everyone.
            shown = [f"/circles/{circle.slug}/"] if circle.public else []
            path = self.rng.choice(
                [
                    *shown,
                    f"/federations/{circle.federation}/",
                    f"/federations/{circle.federation}/map/",
                    f"/federations/{circle.federation}/ethics/",
                    "/api/v1/circles",
                ]
            )
            headers = {"Accept": "text/html"}
        elif kind == "read:home-member":
            path = "/"
        elif kind == "read:circle-page":
            path = self.rng.choice([f"/circles/{circle.slug}/", "/circles/"])
        elif kind == "read:decision-pages":
            pages = [f"/circles/{circle.slug}/decisions/"]
            pages += [f"/circles/{circle.slug}/decisions/{p}/" for p in circle.proposals]
            path = self.rng.choice(pages)
        elif kind == "read:poll-standing-pages":
            pages = [f"/circles/{circle.slug}/standing-by/", f"/circles/{circle.slug}/polls/"]
            pages += [f"/circles/{circle.slug}/polls/{p.id}/" for p in circle.polls]
            path = self.rng.choice(pages)
        else:
            base = f"/api/v1/circles/{circle.slug}"
            p = self.rng.choice(circle.proposals)
            path = self.rng.choice(
                [
                    "/api/v1/me",
                    f"{base}/proposals",
                    f"{base}/proposals/{p}",
                    f"{base}/proposals/{p}/comments",
                    f"{base}/standing-by",
                    f"{base}/polls/{self.rng.choice(circle.polls).id}",
                ]
            )
            headers = self._token(actor)
        return Request(seq, kind, "GET", path, headers, None, "200")

    # -- writes
    def _write(self, seq: int, kind: str) -> Request | None:
        free = [a for a in self.world.actors if a.id not in self.busy]
        self.rng.shuffle(free)
        for actor in free:
            circle = self._circle(actor)
            marker = f"load-{self.run}-w{seq:06d}"
            base = f"/api/v1/circles/{circle.slug}"
            body: dict[str, Any]
            ballot = None
            if kind == "write:position":
                stance = self.rng.choice(STANCES)
                path = f"{base}/proposals/{self.rng.choice(circle.proposals)}/position"
                body = {"stance": stance, "reason": f"Load test {marker}: {stance}."}
            elif kind == "write:comment":
                path = f"{base}/proposals/{self.rng.choice(circle.proposals)}/comments"
                body = {"text": f"Load test comment {marker}."}
            elif kind == "write:standing":
                colleagues = [m for m in circle.members if m != actor.id]
                if not colleagues:
                    continue
                path = f"{base}/standing-by"
                body = {"colleague_id": self.rng.choice(colleagues), "basis": f"Load {marker}"}
            else:
                poll = self.rng.choice(circle.polls)
                body, stored = self._ballot(poll, (actor.id, poll.id))
                path = f"{base}/polls/{poll.id}/ballot"
                marker = ""
                ballot = (actor.id, poll.id, stored)
            self.busy.add(actor.id)
            data = json.dumps(body).encode()
            return Request(
                seq, kind, "POST", path, self._json(actor), data, "2xx", actor.id, marker, ballot
            )
        return None

    def _ballot(self, poll: Poll, key: tuple[int, int]) -> tuple[dict[str, Any], str]:
        """A ballot different from this voter's previous one, and its stored shape."""
        while True:
            opts = poll.options
            if poll.kind == "approval":
                chosen = [o for o in opts if self.rng.random() < 0.5] or [opts[0]]
                body: dict[str, Any] = {"approved": chosen}
                stored: Any = chosen
            elif poll.kind == "ranked":
                ranking = self.rng.sample(opts, self.rng.randint(1, len(opts)))
                body, stored = {"ranking": ranking}, ranking
            elif poll.kind == "score":
                scores = {o: self.rng.randint(0, 5) for o in opts}
                body, stored = {"scores": scores}, {str(o): v for o, v in scores.items()}
            else:
                answers = {o: self.rng.choice(["yes", "maybe", "no"]) for o in opts}
                body, stored = {"availability": answers}, {str(o): v for o, v in answers.items()}
            shape = canonical(stored)
            if self.last_ballot.get(key) != shape:
                self.last_ballot[key] = shape
                return body, shape

    # -- bad inputs: each must be refused with a 4xx and leave no trace
    def _bad(self, seq: int, kind: str) -> Request:
        actor = self.rng.choice(self.world.actors)
        circle = self._circle(actor)
        marker = f"load-{self.run}-x{seq:06d}"
        base = f"/api/v1/circles/{circle.slug}"
        proposal = self.rng.choice(circle.proposals)
        poll = self.rng.choice(circle.polls)
        headers = self._json(actor)
        path = f"{base}/proposals/{proposal}/position"
        raw: bytes | None = None
        body: Any = None
        if kind == "bad:malformed-json":
            raw = self.rng.choice(
                [
                    b'{"stance": "agree", "reason": ',
                    b"{'stance': 'agree'}",
                    b"\xff\xfe not even text",
                    b"[1, 2",
                ]
            )
            path = self.rng.choice([path, f"{base}/proposals/{proposal}/comments"])
        elif kind == "bad:missing-field":
            path, body = self.rng.choice(
                [
                    (path, {"reason": f"No stance {marker}"}),
                    (f"{base}/proposals/{proposal}/comments", {"quote": marker}),
                    (f"{base}/standing-by", {"basis": f"No colleague {marker}"}),
                    (f"{base}/polls/{poll.id}/ballot", {}),
                ]
            )
        elif kind == "bad:wrong-type":
            path, body = self.rng.choice(
                [
                    (path, {"stance": 42, "reason": [marker]}),
                    (f"{base}/proposals/{proposal}/comments", {"text": {"t": marker}}),
                    (f"{base}/standing-by", {"colleague_id": "someone", "basis": marker}),
                    (f"{base}/polls/{poll.id}/ballot", {"ranking": ["first"], "approved": "all"}),
                    (path, [marker]),
                ]
            )
        elif kind == "bad:invalid-choice":
            path, body = self.rng.choice(
                [
                    (path, {"stance": "maybe", "reason": marker}),
                    (path, {"stance": "block", "reason": "   "}),
                    (f"{base}/standing-by", {"colleague_id": actor.id, "basis": marker}),
                ]
            )
        elif kind == "bad:other-circle":
            other = self._other_circle(actor)
            obase = f"/api/v1/circles/{other.slug}"
            op = self.rng.choice(other.proposals)
            nonmember = next((m for m in other.members if m not in circle.members), 0)
            parent = self.rng.choice(other.comment_ids or [0])
            options: list[tuple[str, Any]] = [
                # another circle's proposal, under its own circle's URL and under mine
                (f"{obase}/proposals/{op}/position", {"stance": "agree", "reason": marker}),
                (f"{base}/proposals/{op}/position", {"stance": "agree", "reason": marker}),
                (f"{obase}/proposals/{op}/comments", {"text": marker}),
                (f"{obase}/polls/{self.rng.choice(other.polls).id}/ballot", {"ranking": []}),
                (f"{base}/polls/{self.rng.choice(other.polls).id}/ballot", {"approved": [1]}),
                (f"{base}/standing-by", {"colleague_id": nonmember, "basis": marker}),
                (f"{base}/proposals/{proposal}/comments", {"text": marker, "parent_id": parent}),
            ]
            if self.world.outsider_token:  # a practitioner in no circle, writing to mine
                options.append(("outsider", {"stance": "agree", "reason": marker}))
            path, body = self.rng.choice(options)
            if path == "outsider":
                path = f"{base}/proposals/{proposal}/position"
                headers = {
                    "Authorization": f"Bearer {self.world.outsider_token}",
                    "Content-Type": "application/json",
                }
        elif kind == "bad:oversize-text":
            path, body = self.rng.choice(
                [
                    (f"{base}/proposals/{proposal}/comments", {"text": marker + "x" * 10_001}),
                    (path, {"stance": "concerns", "reason": marker + "y" * 5_001}),
                    (
                        f"{base}/standing-by",
                        {"colleague_id": circle.members[0], "basis": marker + "z" * 300},
                    ),
                ]
            )
        elif kind == "bad:oversize-body":
            # Over DATA_UPLOAD_MAX_MEMORY_SIZE (10 MB): declared by Content-Length, as a client
            # would before sending it; the server must refuse it from the header.
            path = f"{base}/proposals/{proposal}/comments"
            raw = json.dumps({"text": marker + "q" * 1000}).encode()
            headers = {**headers, "Content-Length": str(11 * 1024 * 1024)}
        elif kind == "bad:no-or-wrong-token":
            headers = self.rng.choice(
                [
                    {"Content-Type": "application/json"},
                    {**headers, "Authorization": "Bearer cw_not-a-real-token"},
                    {**headers, "Authorization": f"Token {actor.token}"},
                ]
            )
            body = {"stance": "agree", "reason": marker}
        else:  # unknown or absurd ids
            path, body = self.rng.choice(
                [
                    (f"{base}/proposals/99999999/position", {"stance": "agree", "reason": marker}),
                    (f"{base}/proposals/{2**63}/comments", {"text": marker}),
                    (f"{base}/proposals/-1/comments", {"text": marker}),
                    (
                        f"/api/v1/circles/no-such-circle/proposals/{proposal}/comments",
                        {"text": "x"},
                    ),
                    (f"{base}/polls/{poll.id}/ballot", {"approved": [999_999], "ranking": [0]}),
                ]
            )
        if raw is None:
            raw = json.dumps(body).encode()
        return Request(seq, kind, "POST", path, headers, raw, "4xx", marker=marker)


# --- sending ---------------------------------------------------------------------------------


def send(port: int, req: Request) -> tuple[int | None, bytes, str]:
    """One HTTP exchange on a new connection (gunicorn's sync workers close after each answer)."""
    conn = http.client.HTTPConnection(PG_HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.putrequest(req.method, req.path)
        headers = dict(req.headers)
        if req.body is not None and "Content-Length" not in headers:
            headers["Content-Length"] = str(len(req.body))
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders(req.body)
        response = conn.getresponse()
        return response.status, response.read(), ""
    except (OSError, http.client.HTTPException) as exc:
        return None, b"", f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()


@dataclass
class Outcome:
    seq: int
    kind: str
    expect: str
    scheduled: float
    attempts: list[Attempt]
    marker: str = ""
    ballot: tuple[int, int, str] | None = None

    @property
    def ok(self) -> bool:
        return expected(self.expect, self.attempts[-1].status)

    @property
    def latency(self) -> float:
        return self.attempts[-1].done - self.scheduled


def perform(port: int, req: Request, scheduled: float, clock: Callable[[], float]) -> Outcome:
    attempts: list[Attempt] = []
    backoff = 0.2
    while True:
        sent = clock()
        status, body, error = send(port, req)
        done = clock()
        if not error and not expected(req.expect, status):
            error = body[:300].decode("utf-8", "replace")
        attempts.append(Attempt(round(sent, 4), round(done, 4), status, error))
        retryable = status is None or status >= 500
        if req.expect != "2xx" or not retryable or done - scheduled > RETRY_FOR:
            break
        time.sleep(backoff)
        backoff = min(backoff * 2, 2.0)
    return Outcome(req.seq, req.kind, req.expect, scheduled, attempts, req.marker, req.ballot)


# --- the environment: database, server, worker, faults --------------------------------------


def pg_version() -> str:
    return sorted(os.listdir("/etc/postgresql"))[-1]


def pg_connect(dbname: str = "postgres") -> Any:
    import psycopg

    return psycopg.connect(
        host=PG_HOST,
        port=PG_PORT,
        user="postgres",
        dbname=dbname,
        autocommit=True,
        connect_timeout=3,
    )


def pg_ready() -> bool:
    try:
        with pg_connect() as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:
        return False


def pg_ctl(action: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", action],
        check=True,
        capture_output=True,
    )


def other_sessions(database: str = DB_NAME) -> list[str]:
    """Other clients of the PostgreSQL server (a restart interrupts them)."""
    with pg_connect() as conn:
        rows = conn.execute(
            "SELECT datname, state, count(*) FROM pg_stat_activity "
            "WHERE datname IS NOT NULL AND pid <> pg_backend_pid() AND datname <> %s "
            "GROUP BY datname, state ORDER BY datname",
            [database],
        ).fetchall()
    return [f"{d} ({s}: {n})" for d, s, n in rows]


def recreate_database(database: str = DB_NAME) -> None:
    with pg_connect() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database}")


def drop_database(database: str = DB_NAME) -> None:
    with pg_connect() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def environment(scratch: Path, database: str = DB_NAME) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DATABASE_URL": f"postgres://postgres@{PG_HOST}:{PG_PORT}/{database}",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": PG_HOST,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "AUDIT_DIGEST_KEY": secrets.token_urlsafe(50),
        # Loopback has no TLS proxy in front: prod's own switch for the HTTPS redirect.
        "SECURE_SSL_REDIRECT": "false",
        "SITE_URL": f"http://{PG_HOST}",
        # The worker sends notification e-mail; nothing listens for SMTP here.
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "STATIC_ROOT": str(scratch / "static"),
        "MEDIA_ROOT": str(scratch / "media"),
    }


def row_counts() -> dict[str, int]:
    """Rows of the key tables, and of every table together (Django set up)."""
    from django.apps import apps

    tables = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        tables[model._meta.label] = model._base_manager.count()
    key = {
        "practitioners": "accounts.Practitioner",
        "circles": "circles.Circle",
        "memberships": "circles.Membership",
        "proposals": "decisions.Proposal",
        "positions": "decisions.Position",
        "agreement_versions": "agreements.AgreementVersion",
        "elections": "elections.Election",
        "notifications": "notifications.Notification",
        "audit_events": "core.AuditEvent",
    }
    counts = {k: tables.get(label, 0) for k, label in key.items()}
    counts["rows"] = sum(tables.values())
    return counts


def build_world(run: str) -> World:
    """Tokens, sessions and the open proposals and polls the load writes to (Django set up)."""

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from circlework.accounts.models import Practitioner
    from circlework.accounts.services import api_token_create
    from circlework.circles.models import Circle
    from circlework.circles.selectors import current_members
    from circlework.decisions.models import Comment, Proposal, ProposalStatus
    from circlework.decisions.services import comment_add, proposal_open
    from circlework.polls.models import Poll as PollModel
    from circlework.polls.models import PollStatus
    from circlework.polls.services import poll_open

    circles: dict[str, CircleInfo] = {}
    member_of: dict[int, list[str]] = defaultdict(list)
    week = timezone.now() + timedelta(days=7)
    for circle in Circle.objects.select_related("federation").order_by("slug"):
        members = list(current_members(circle=circle))
        if len(members) < 2:
            continue
        first = members[0]
        if not Proposal.objects.filter(circle=circle, status=ProposalStatus.OPEN).exists():
            proposal_open(
                actor=first,
                circle=circle,
                title="Load test: shall we meet fortnightly?",
                text="A proposal opened for the load test.",
                closes_at=week,
            )
        if not PollModel.objects.filter(circle=circle, status=PollStatus.OPEN).exists():
            poll_open(
                actor=first,
                circle=circle,
                title="Load test: which evening suits?",
                kind="approval",
                closes_at=week,
                options=["Monday", "Wednesday", "Thursday"],
            )
        proposals = list(
            Proposal.objects.filter(circle=circle, status=ProposalStatus.OPEN).values_list(
                "pk", flat=True
            )
        )
        if not Comment.objects.filter(proposal__circle=circle).exists():
            comment_add(actor=first, proposal=Proposal.objects.get(pk=proposals[0]), text="Hello.")
        polls = [
            Poll(p.pk, p.kind, list(p.options.order_by("position").values_list("pk", flat=True)))
            for p in PollModel.objects.filter(circle=circle, status=PollStatus.OPEN)
        ]
        circles[circle.slug] = CircleInfo(
            slug=circle.slug,
            federation=circle.federation.slug,
            members=[m.pk for m in members],
            proposals=proposals,
            polls=polls,
            comment_ids=list(
                Comment.objects.filter(proposal__circle=circle).values_list("pk", flat=True)[:20]
            ),
            public=circle.visibility == "public",
        )
        for m in members:
            member_of[m.pk].append(circle.slug)

    def credentials(p: Practitioner) -> tuple[str, str]:
        _, token = api_token_create(actor=p, name=f"load test {run}")
        session = SessionStore()
        session[SESSION_KEY] = str(p.user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = p.user.get_session_auth_hash()
        session.create()
        assert session.session_key is not None
        return token, session.session_key

    actors = []
    for p in Practitioner.objects.filter(pk__in=member_of).select_related("user").order_by("pk"):
        token, session = credentials(p)
        actors.append(Actor(p.pk, p.user.email, token, session, sorted(member_of[p.pk])))
    # Someone in no circle at all, for requests about circles they cannot see.
    outsider = Practitioner.objects.exclude(pk__in=member_of).select_related("user").first()
    outsider_token = credentials(outsider)[0] if outsider is not None else ""
    return World(actors=actors, circles=circles, outsider_token=outsider_token)


class Server:
    """gunicorn and the task worker, started with the production settings."""

    def __init__(self, env: dict[str, str], scratch: Path, workers: int) -> None:
        self.env = {**os.environ, **env}
        self.workers = workers
        self.gunicorn_log = scratch / "gunicorn.log"
        self.worker_log = scratch / "run_worker.log"
        probe = Request(0, "probe", "GET", "/", {}, None, "200")
        self.web = Gunicorn(
            "config.wsgi",
            env,
            workers,
            self.gunicorn_log,
            probe=lambda port: send(port, probe)[0] == 200,
            poll_every=0.5,
        )
        self.port = self.web.port
        self.worker: subprocess.Popen[bytes] | None = None
        self.worker_exits: list[dict[str, Any]] = []

    def start(self) -> None:
        self.web.spawn()
        self.start_worker()
        self.web.wait_ready()

    def warm_up(self, requests: Sequence[Request]) -> None:
        """Each worker loads the URL conf, templates and so on at its first requests: do that
        before the measured run, several requests at a time so that every worker gets some."""
        with ThreadPoolExecutor(max_workers=self.workers * 2) as pool:
            statuses = list(pool.map(lambda r: send(self.port, r)[0], requests))
        bad = [(r.path, s) for r, s in zip(requests, statuses, strict=True) if s != 200]
        if bad:
            raise RuntimeError(f"warm-up requests failed: {bad[:5]}; see {self.gunicorn_log}")

    def start_worker(self) -> None:
        with self.worker_log.open("ab") as log:
            self.worker = subprocess.Popen(
                [sys.executable, "manage.py", "run_worker"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def supervise_worker(self, clock: Callable[[], float]) -> None:
        """Restart the task worker if it exits, as a process supervisor would; note each exit."""
        if self.worker is not None and self.worker.poll() is not None:
            self.worker_exits.append({"at_s": round(clock(), 2), "code": self.worker.returncode})
            self.start_worker()

    def web_workers(self) -> set[int]:
        return self.web.worker_pids()

    def stop(self) -> None:
        self.web.stop()
        stop_process(self.worker)


@dataclass
class Fault:
    name: str
    started_s: float
    recovered_s: float
    detail: str

    def window(self) -> Window:
        return Window(self.name, self.started_s, self.recovered_s + GRACE)


def restart_database(clock: Callable[[], float]) -> Fault:
    sessions = other_sessions()
    start = clock()
    pg_ctl("restart")
    while not pg_ready():
        time.sleep(0.05)
    note = "other sessions on the server at the time: " + (", ".join(sessions) or "none")
    return Fault("PostgreSQL restart", round(start, 3), round(clock(), 3), note)


def kill_web_worker(server: Server, clock: Callable[[], float], rng: random.Random) -> Fault:
    before = server.web_workers()
    victim = rng.choice(sorted(before))
    start = clock()
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = server.web_workers()
        if victim not in now and len(now) == server.workers:
            break
        time.sleep(0.02)
    replaced = sorted(server.web_workers() - before)
    return Fault(
        "gunicorn worker killed (SIGKILL)",
        round(start, 3),
        round(clock(), 3),
        f"killed pid {victim}; replacement pid {replaced}",
    )


# --- checking the database afterwards ---------------------------------------------------------


def markers_found(run: str) -> tuple[dict[str, int], dict[str, int]]:
    """Rows carrying each write marker, and rows carrying any bad input's marker, by kind."""
    from circlework.decisions.models import Comment, Position
    from circlework.standing.models import StandingBy

    pattern = re.compile(rf"load-{run}-[wx]\d{{6}}")
    found: Counter[str] = Counter()
    traces: Counter[str] = Counter()
    needle = f"load-{run}-"
    sources = [
        ("position", Position.objects.filter(reason__contains=needle).values_list("reason")),
        ("comment", Comment.objects.filter(text__contains=needle).values_list("text")),
        ("comment quote", Comment.objects.filter(quote__contains=needle).values_list("quote")),
        ("standing", StandingBy.objects.filter(basis__contains=needle).values_list("basis")),
    ]
    for label, rows in sources:
        for (text,) in rows:
            for marker in pattern.findall(text):
                if marker[len(needle)] == "x":
                    traces[label] += 1
                else:
                    found[marker] += 1
    return dict(found), dict(traces)


def ballots_found(
    writes: Sequence[BallotWrite], since: datetime
) -> tuple[dict[tuple[int, int], str], dict[tuple[int, int], int]]:
    from django.db.models import Q

    from circlework.core.models import AuditEvent
    from circlework.polls.models import PollAnswer

    final: dict[tuple[int, int], str] = {}
    events: dict[tuple[int, int], int] = {}
    for voter, poll in {(w.voter, w.poll) for w in writes}:
        ballot = PollAnswer.objects.filter(poll_id=poll, practitioner_id=voter).first()
        if ballot is None:
            continue
        final[(voter, poll)] = canonical(ballot.choices)
        # An anonymous poll's events name the poll, not the answer (polls.services.ballot_cast).
        events[(voter, poll)] = (
            AuditEvent.objects.filter(
                verb__in=["ballot.cast", "ballot.changed"],
                actor_id=voter,
                created_at__gte=since,
            )
            .filter(
                Q(object_type="polls.pollanswer", object_id=str(ballot.pk))
                | Q(object_type="polls.poll", object_id=str(poll))
            )
            .count()
        )
    return final, events


def tasks_after(since: datetime, wait: float) -> dict[str, Any]:
    """Wait for the task queue to drain, then count the tasks enqueued during the run."""
    from django.db.models import Count
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        ready = DBTaskResult.objects.ready().filter(run_after__lte=timezone.now()).count()
        running = DBTaskResult.objects.filter(status="RUNNING").count()
        if ready == 0 and running == 0:
            break
        time.sleep(1)
    rows = DBTaskResult.objects.filter(enqueued_at__gte=since)
    by_status = dict(rows.values_list("status").annotate(n=Count("id")).order_by("status"))
    failed = Counter(
        rows.filter(status="FAILED").values_list("exception_class_path", flat=True)
    ).most_common()
    due_left = rows.filter(status="READY", run_after__lte=timezone.now()).count()
    return {
        "by_status": by_status,
        "failed_exceptions": failed,
        "due_but_not_run": due_left,
        "stuck_running": rows.filter(status="RUNNING").count(),
    }


def verify_audit(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "manage.py", "verify_audit"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    return {"exit_code": done.returncode, "output": lines[-3:]}


def server_errors(log: Path) -> list[tuple[str, int]]:
    """The exceptions a log holds (the last line of each traceback, not of its causes), counted."""
    if not log.exists():
        return []
    found: Counter[str] = Counter()
    lines = log.read_text(errors="replace").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            j = i + 1
            while j < len(lines) and (lines[j].startswith(" ") or not lines[j].strip()):
                j += 1
            # a cause is followed, before the next traceback, by "The above exception…"
            chained = False
            for k in range(j + 1, min(j + 20, len(lines))):
                if lines[k].startswith("Traceback"):
                    break
                if lines[k].startswith(("The above exception", "During handling")):
                    chained = True
                    break
            if j < len(lines) and not chained:  # count what the request ended with, not causes
                found[lines[j][:140]] += 1
    return found.most_common(10)


# --- the run ----------------------------------------------------------------------------------


def summarise(
    outcomes: Sequence[Outcome], windows: Sequence[Window], elapsed: float
) -> dict[str, Any]:
    steady_errors: list[dict[str, Any]] = []
    fault_errors: dict[str, Counter[str]] = defaultdict(Counter)
    fault_span: dict[str, tuple[float, float]] = {}  # first error sent, last error answered
    steady_latency: list[float] = []
    by_kind: dict[str, list[float]] = defaultdict(list)
    bad_statuses: dict[str, Counter[str]] = defaultdict(Counter)
    bad_statuses_in_faults: dict[str, Counter[str]] = defaultdict(Counter)
    attempts = 0
    for o in outcomes:
        attempts += len(o.attempts)
        by_kind[o.kind].append(o.latency)
        in_fault = False
        for a in o.attempts:
            w = window_of(a.sent, a.done, windows)
            in_fault = in_fault or w is not None
            ok = expected(o.expect, a.status)
            if ok:
                continue
            label = f"{o.kind} → {a.status or 'no response'}"
            if w is not None:
                fault_errors[w][label] += 1
                first, last = fault_span.get(w, (a.sent, a.done))
                fault_span[w] = (min(first, a.sent), max(last, a.done))
            else:
                steady_errors.append(
                    {
                        "seq": o.seq,
                        "kind": o.kind,
                        "at_s": a.sent,
                        "status": a.status,
                        "error": a.error[:300],
                    }
                )
        if not in_fault:
            steady_latency.append(o.latency)
        if o.kind.startswith("bad:"):
            status = str(o.attempts[-1].status or "no response")
            (bad_statuses_in_faults if in_fault else bad_statuses)[o.kind][status] += 1
    all_latency = [o.latency for o in outcomes]
    return {
        "requests_tried": len(outcomes),
        "attempts_including_retries": attempts,
        "elapsed_s": round(elapsed, 2),
        "throughput_rps": round(len(outcomes) / elapsed, 2) if elapsed else None,
        "completed_as_expected": sum(o.ok for o in outcomes),
        "latency_all": latency_summary(all_latency),
        "latency_steady_state": latency_summary(steady_latency),
        "latency_by_kind": {k: latency_summary(v) for k, v in sorted(by_kind.items())},
        "steady_state_error_count": len(steady_errors),
        "steady_state_errors": steady_errors[:100],
        "fault_window_errors": {k: dict(v) for k, v in fault_errors.items()},
        "fault_window_error_span_s": {
            k: [round(a, 2), round(b, 2)] for k, (a, b) in fault_span.items()
        },
        "bad_inputs_tried": sum(1 for o in outcomes if o.kind.startswith("bad:")),
        "bad_input_statuses": {k: dict(sorted(v.items())) for k, v in sorted(bad_statuses.items())},
        "bad_input_statuses_in_fault_windows": {
            k: dict(sorted(v.items())) for k, v in sorted(bad_statuses_in_faults.items())
        },
    }


def run(args: argparse.Namespace) -> int:
    run_id = secrets.token_hex(3)
    scratch = Path(tempfile.mkdtemp(prefix="circlework-load-"))
    env = environment(scratch, args.db_name)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    log = print

    if not pg_ready():
        log("starting PostgreSQL")
        pg_ctl("start")
    waited = 0.0
    # Only a run that restarts PostgreSQL needs it to itself (--setup-only restarts nothing).
    while args.faults and not args.setup_only and (busy := other_sessions(args.db_name)):
        if waited >= args.wait_quiet:
            if not args.disturb_others:
                log(
                    f"PostgreSQL has other clients ({', '.join(busy)}): restarting it would break "
                    "them. Try again when they are done, or pass --disturb-others or --no-faults."
                )
                return 2
            break
        log(f"other clients on PostgreSQL ({', '.join(busy)}); waiting for quiet…")
        time.sleep(5)
        waited += 5
    load_before = os.getloadavg()
    recreate_database(args.db_name)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections

    setup_s: dict[str, float] = {}
    began = time.monotonic()
    log(f"run {run_id}: migrating {args.db_name}, loading the demo, collecting static files")
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    setup_s["migrate_and_seed_demo"] = round(time.monotonic() - began, 1)
    if args.scale:
        began = time.monotonic()
        log(f"seed_scale {args.scale} (seed 1), then ANALYZE")
        call_command("seed_scale", **args.scale, seed=1, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        setup_s["seed_scale"] = round(time.monotonic() - began, 1)
    data = row_counts()
    log(f"data: {data}")
    began = time.monotonic()
    world = build_world(run_id)
    setup_s["tokens_sessions_open_items"] = round(time.monotonic() - began, 1)
    log(
        f"{len(world.actors)} practitioners with a token and a session, {len(world.circles)} "
        f"circles with an open proposal and poll; set-up times {setup_s} s"
    )
    connections.close_all()
    db = settings.DATABASES["default"]
    server_settings = {
        "DJANGO_SETTINGS_MODULE": env["DJANGO_SETTINGS_MODULE"],
        "DEBUG": settings.DEBUG,
        "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
        "CONN_MAX_AGE": db.get("CONN_MAX_AGE"),
        "CONN_HEALTH_CHECKS": db.get("CONN_HEALTH_CHECKS"),
        "EMAIL_BACKEND": settings.EMAIL_BACKEND,
    }

    server = Server(env, scratch, args.workers)
    outcomes: list[Outcome] = []
    faults: list[Fault] = []
    try:
        server.start()
        log(f"gunicorn on 127.0.0.1:{server.port} with {args.workers} workers; task worker up")
        warm = Builder(world, run_id, args.seed + 100)
        server.warm_up([warm.build(i, "read") for i in range(args.workers * 15)])
        if args.setup_only:
            log("set-up only: the server answered every warm-up read with 200; no load, no faults")
            server.stop()
            if not args.keep:
                drop_database(args.db_name)
            log(f"server and task worker logs: {scratch}")
            return 0
        pids_before = sorted(server.web_workers())
        t0 = time.monotonic() + 0.5  # the run's time 0, on the clock every timing uses
        started_at = datetime.now(UTC) + timedelta(seconds=0.5)

        def clock() -> float:
            return time.monotonic() - t0

        builder = Builder(world, run_id, args.seed)
        the_plan = plan(args.rate, args.duration, MIX, args.seed)
        stop = threading.Event()

        def inject() -> None:
            rng = random.Random(args.seed + 2)
            steps: list[tuple[float, Callable[[], Fault]]] = [
                (args.duration * 0.35, lambda: restart_database(clock)),
                (args.duration * 0.70, lambda: kill_web_worker(server, clock, rng)),
            ]
            for at, action in steps if args.faults else []:
                while clock() < at:
                    if stop.wait(0.05):
                        return
                fault = action()
                faults.append(fault)
                log(
                    f"  fault at {fault.started_s:.1f}s: {fault.name}, recovered {fault.recovered_s:.1f}s"
                )

        def watch_worker() -> None:
            while not stop.wait(0.5):
                server.supervise_worker(clock)

        def perform_and_release(req: Request, scheduled: float) -> Outcome:
            try:
                return perform(server.port, req, scheduled, clock)
            finally:
                builder.release(req.actor)

        threads = [threading.Thread(target=inject), threading.Thread(target=watch_worker)]
        for t in threads:
            t.start()
        log(f"sending {len(the_plan)} requests at {args.rate}/s for {args.duration}s")
        futures: list[Future[Outcome]] = []
        max_lag = 0.0
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            for seq, (offset, category) in enumerate(the_plan):
                delay = offset - clock()
                if delay > 0:
                    time.sleep(delay)
                max_lag = max(max_lag, clock() - offset)
                req = builder.build(seq, category)
                futures.append(pool.submit(perform_and_release, req, offset))
        elapsed = clock()
        outcomes = [f.result() for f in futures]
        stop.set()
        for t in threads:
            t.join()
        server.supervise_worker(clock)
        pids_after = sorted(server.web_workers())

        log("checking the database")
        found, traces = markers_found(run_id)
        writes = [
            WriteRecord(o.marker, o.kind, o.attempts)
            for o in outcomes
            if o.kind.startswith("write:") and o.ballot is None
        ]
        ballots = [
            BallotWrite(o.ballot[0], o.ballot[1], o.seq, o.ballot[2], o.attempts)
            for o in outcomes
            if o.ballot is not None
        ]
        account = account_writes(writes, found)
        per_kind = {
            k: asdict(account_writes([w for w in writes if w.kind == k], found))
            for k in sorted({w.kind for w in writes})
        }
        for row in per_kind.values():
            row.pop("unknown_markers")  # meaningful only over all kinds
        final, events = ballots_found(ballots, started_at)
        ballot_account = account_ballots(ballots, final, events)
        tasks = tasks_after(started_at, wait=60)
        connections.close_all()
        audit = verify_audit(env)
    finally:
        server.stop()

    load_after = os.getloadavg()
    windows = [f.window() for f in faults]
    summary = summarise(outcomes, windows, elapsed)
    lost = len(account.lost) + len(ballot_account.lost)
    defects = (
        summary["steady_state_error_count"]
        + lost
        + len(account.unexplained_duplicates)
        + len(account.unknown_markers)
        + sum(traces.values())
        + (audit["exit_code"] != 0)
    )
    report: dict[str, Any] = {
        "run": run_id,
        "started_at": started_at.isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "postgresql": pg_version(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
        },
        "config": {
            "rate_per_s": args.rate,
            "duration_s": args.duration,
            "gunicorn_workers": args.workers,
            "client_threads": args.concurrency,
            "seed": args.seed,
            "mix": MIX,
            "kinds": {"read": READ_KINDS, "write": WRITE_KINDS, "bad": BAD_KINDS},
            "grace_s": GRACE,
            "retry_for_s": RETRY_FOR,
            "server_settings": server_settings,
            "practitioners_with_tokens": len(world.actors),
            "database": args.db_name,
            "scale": args.scale,
            "data": data,
            "setup_s": setup_s,
            "circles": {
                s: {
                    "members": len(c.members),
                    "open_proposals": c.proposals,
                    "open_polls": len(c.polls),
                }
                for s, c in world.circles.items()
            },
        },
        "max_dispatch_lag_ms": round(max_lag * 1000, 1),
        "writes_deferred_to_reads": builder.writes_deferred,
        **summary,
        "faults": [
            {
                **asdict(f),
                "at_utc": (started_at + timedelta(seconds=f.started_s)).isoformat(
                    timespec="milliseconds"
                ),
                "window_s": [f.window().start, round(f.window().end, 3)],
            }
            for f in faults
        ],
        "web_worker_pids": {"before": pids_before, "after": pids_after},
        "task_worker_exits": server.worker_exits,
        "writes": {**asdict(account), "by_kind": per_kind},
        "ballots": asdict(ballot_account),
        "bad_input_traces_in_database": traces,
        "tasks": tasks,
        "audit_chain": audit,
        "server_logged_exceptions": server_errors(server.gunicorn_log),
        "task_worker_logged_exceptions": server_errors(server.worker_log),
        "task_worker_outages_ridden_out": [
            line.strip()
            for line in server.worker_log.read_text(errors="replace").splitlines()
            if line.startswith("The database is unavailable")
        ],
        "lost": lost,
        "defects": defects,
        "passed": defects == 0,
    }
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{args.report}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (REPORTS / f"{args.report}.md").write_text(markdown(report, args.report))
    if not args.keep:
        drop_database(args.db_name)
    log((REPORTS / f"{args.report}.md").read_text())
    log(f"server and task worker logs: {scratch}")
    return 0 if defects == 0 else 1


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


# --- the report -------------------------------------------------------------------------------


def _ms(v: Any) -> str:
    return "–" if v is None else f"{v:.1f}"


SETUP_STEPS = {
    "migrate_and_seed_demo": "migrate, seed_demo and collectstatic",
    "seed_scale": "seed_scale and ANALYZE",
    "tokens_sessions_open_items": "tokens, sessions and open proposals and polls",
}


def _scale_text(scale: Mapping[str, int] | None, data: Mapping[str, int] | None) -> str:
    """The set-up's data beyond the demo, for the report's first bullet."""
    text = ""
    if scale:
        text += (
            f", then `seed_scale --practitioners {scale['practitioners']} --circles "
            f"{scale['circles']} --records {scale['records']} --seed 1` on top of it and ANALYZE"
        )
    if data:
        text += (
            f" ({data.get('practitioners', 0):,} practitioners, {data.get('circles', 0):,} circles, "
            f"{data.get('positions', 0):,} positions, {data.get('notifications', 0):,} "
            f"notifications; {data.get('rows', 0):,} rows in all)"
        )
    return text


def markdown(r: dict[str, Any], name: str = "load") -> str:
    c = r["config"]
    w = r["writes"]
    b = r["ballots"]
    verdict = "PASSED" if r["passed"] else "FAILED"
    steady = r["steady_state_errors"]
    out = [
        "# Load test: a real server on loopback"
        + (", with faults" if r["faults"] else " (no faults injected)"),
        "",
        f"Run `{r['run']}` at {r['started_at']} on commit {r['commit']}; "
        f"{r['machine']['cpus']} CPUs, PostgreSQL {r['machine']['postgresql']}, everything on one "
        "machine (server, database, task worker and load generator share the CPUs). "
        "Load average (1, 5, 15 min) before the run "
        f"{r['machine']['load_average_before']}, after {r['machine']['load_average_after']}. "
        "Produced by `make load` (bench/load.py); the numbers are from this run.",
        "",
        f"**{verdict}**: {r['steady_state_error_count']} steady-state errors, {r['lost']} writes lost, "
        f"{len(w['unexplained_duplicates'])} unexplained duplicates, "
        f"{sum(r['bad_input_traces_in_database'].values())} traces of refused bad inputs, "
        f"audit chain {'intact' if r['audit_chain']['exit_code'] == 0 else 'BROKEN'}.",
        "",
        "## Set-up",
        "",
        f"- A fresh PostgreSQL database `{c.get('database', DB_NAME)}`: migrated, the demo "
        "federation loaded (`seed_demo`)"
        + _scale_text(c.get("scale"), c.get("data"))
        + ", every circle given an open proposal and an open poll if it had none, and an "
        f"API token and a signed-in session for each of the {c['practitioners_with_tokens']} "
        "practitioners in a circle. Dropped at the end."
        + (
            " Set-up took "
            + ", ".join(f"{SETUP_STEPS.get(k, k)} {v} s" for k, v in setup.items())
            + "."
            if (setup := c.get("setup_s"))
            else ""
        ),
        f"- gunicorn with {c['gunicorn_workers']} sync workers on 127.0.0.1, and the task worker "
        "(`manage.py run_worker`), both with the production settings: "
        + ", ".join(f"`{k}={v}`" for k, v in c["server_settings"].items())
        + ". `SECURE_SSL_REDIRECT=false` because loopback has no HTTPS proxy in front (prod's own "
        "switch); e-mail goes to Django's dummy backend (no SMTP server here).",
        f"- Open loop: {c['rate_per_s']} requests/s for {c['duration_s']} s, evenly spaced, each "
        f"sent at its time from a pool of {c['client_threads']} threads (stdlib `http.client`, a new "
        "connection per request). Latency runs from the scheduled send time to the final answer "
        "(after retries, for writes), so queueing in the client counts against the server. "
        f"Largest dispatch lag: {r['max_dispatch_lag_ms']} ms.",
        f"- Mix: {', '.join(f'{k} {v:.0%}' for k, v in c['mix'].items())}. Writes go through the "
        "API, one in flight per practitioner at a time (a person does one thing at a time; "
        f"{r['writes_deferred_to_reads']} planned writes became reads because every practitioner was "
        "mid-write). Each position, comment and standing-by statement carries a unique marker; "
        "ballots replace each other, so they are checked by final state and audit events.",
        "",
        "## Requests",
        "",
        "| | |",
        "|---|---|",
        f"| requests tried | {r['requests_tried']} |",
        f"| attempts, retries included | {r['attempts_including_retries']} |",
        f"| answered as expected in the end | {r['completed_as_expected']} |",
        f"| bad inputs tried | {r['bad_inputs_tried']} |",
        f"| writes tried (marked / ballots) | {w['tried']} / {b['tried']} |",
        f"| elapsed, first send to last answer | {r['elapsed_s']} s |",
        f"| throughput achieved | {r['throughput_rps']} requests/s |",
        f"| steady-state errors | {r['steady_state_error_count']} |",
        "",
        "## Latency (ms)",
        "",
        "| requests | count | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|",
    ]
    rows = [
        ("all", r["latency_all"]),
        ("steady state (outside fault windows)", r["latency_steady_state"]),
    ]
    rows += [(f"`{k}`", v) for k, v in r["latency_by_kind"].items()]
    for label, s in rows:
        out.append(
            f"| {label} | {s['count']} | {_ms(s['p50_ms'])} | {_ms(s['p95_ms'])} | "
            f"{_ms(s['p99_ms'])} | {_ms(s['max_ms'])} |"
        )
    out += [
        "",
        "## Bad inputs (each must get a 4xx, never a 5xx or a 2xx)",
        "",
        "| kind | tried | statuses outside fault windows | statuses in fault windows |",
        "|---|---|---|---|",
    ]
    in_faults = r["bad_input_statuses_in_fault_windows"]
    for kind in sorted(set(r["bad_input_statuses"]) | set(in_faults)):
        steady_part = r["bad_input_statuses"].get(kind, {})
        fault_part = in_faults.get(kind, {})
        tried = sum(steady_part.values()) + sum(fault_part.values())
        cells = [
            ", ".join(f"{s}: {n}" for s, n in part.items()) for part in (steady_part, fault_part)
        ]
        out.append(f"| `{kind}` | {tried} | {cells[0] or '–'} | {cells[1] or '–'} |")
    out += [
        "",
        "Kinds: malformed JSON; missing required fields; wrong types; an invalid choice (unknown "
        "stance, blank reason for a block, standing by yourself); another circle's proposal, poll, "
        "member or comment (by its own circle's URL and by yours); text over the field limits "
        "(comment > 10,000, reason > 5,000, basis > 300 characters); a body declared over 10 MB; no "
        "token, a wrong one or the wrong scheme; ids that do not exist or are absurd (2⁶³, -1). "
        "Each carries a marker; rows left in the database by refused inputs: "
        f"{sum(r['bad_input_traces_in_database'].values())}.",
        "",
        "## Faults injected",
        "",
        "| fault | at (UTC) | at (s) | recovered (s) | window (s) | detail |",
        "|---|---|---|---|---|---|",
    ]
    for f in r["faults"]:
        out.append(
            f"| {f['name']} | {f['at_utc'][11:23]} | {f['started_s']:.2f} | {f['recovered_s']:.2f} | "
            f"{f['window_s'][0]:.2f}–{f['window_s'][1]:.2f} | {f['detail']} |"
        )
    out += ["", "Errors during the fault windows (attempts; failed writes were retried):", ""]
    if not r["fault_window_errors"]:
        out.append("- none")
    for fault_name, errors in r["fault_window_errors"].items():
        listed = ", ".join(f"{k}: {n}" for k, n in sorted(errors.items()))
        first, last = r["fault_window_error_span_s"][fault_name]
        total = sum(errors.values())
        out.append(
            f"- {fault_name}: {total} failed attempts, sent from {first} s, the last answered at {last} s — {listed}"
        )
    exits = r["task_worker_exits"]
    out += [
        "",
        f"gunicorn workers before {r['web_worker_pids']['before']}, after "
        f"{r['web_worker_pids']['after']}. Task worker exits during the run: "
        + (
            ", ".join(f"at {e['at_s']} s with code {e['code']} (restarted)" for e in exits)
            if exits
            else "none"
        )
        + ". Database outages it rode out by itself (waiting and starting again, no restart): "
        + (
            "; ".join(r.get("task_worker_outages_ridden_out", []))
            if r.get("task_worker_outages_ridden_out")
            else "none"
        )
        + ".",
        "",
        "## What was lost",
        "",
        "| writes | tried | acknowledged (2xx) | in the database | lost | retry duplicates | "
        "unexplained duplicates | recorded without a 2xx | given up, absent |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, a in [*w["by_kind"].items(), ("all marked writes", w)]:
        out.append(
            f"| `{kind}` | {a['tried']} | {a['acknowledged']} | {a['present']} | {len(a['lost'])} | "
            f"{a['retry_duplicates']} | {len(a['unexplained_duplicates'])} | "
            f"{a['recorded_without_ack']} | {a['given_up_absent']} |"
        )
    out += [
        "",
        f"Markers in the database that the client never sent: {len(w['unknown_markers'])}.",
        "",
        f"Ballots: {b['tried']} sent, {b['acknowledged']} acknowledged, over {b['voter_polls']} "
        f"voter × poll pairs; stored ballot equals the last acknowledged one for "
        f"{b['final_matches']} of {b['voter_polls']}; {b['audit_events']} audit events "
        f"({b['extra_audit_events']} beyond the acknowledged ballots: attempts committed whose "
        f"answer was lost); lost: {len(b['lost'])}.",
        "",
        "**Lost: " + str(r["lost"]) + ".**",
    ]
    for item in (w["lost"] + b["lost"])[:20]:
        out.append(f"- {item}")
    t = r["tasks"]
    out += [
        "",
        "## Background tasks and the audit chain",
        "",
        f"- Tasks enqueued during the run, by status after the queue drained: {t['by_status']}; "
        f"due but not run: {t['due_but_not_run']}; stuck running: {t['stuck_running']}; failures: "
        f"{t['failed_exceptions'] or 'none'}.",
        f"- `manage.py verify_audit` after the run: exit {r['audit_chain']['exit_code']} — "
        + " / ".join(r["audit_chain"]["output"]),
        "- Exceptions in the web workers' log (whatever the status: Django also logs the refused "
        "oversize bodies, answered 400): "
        + (
            "; ".join(f"{e} ×{n}" for e, n in r["server_logged_exceptions"])
            if r["server_logged_exceptions"]
            else "none"
        )
        + ".",
        "- Exceptions in the task worker's log: "
        + (
            "; ".join(f"{e} ×{n}" for e, n in r["task_worker_logged_exceptions"])
            if r["task_worker_logged_exceptions"]
            else "none"
        )
        + ".",
    ]
    if steady:
        out += ["", "## Steady-state errors", ""]
        for e in steady[:30]:
            out.append(
                f"- #{e['seq']} `{e['kind']}` at {e['at_s']:.2f} s: {e['status']} {e['error']}"
            )
    out += [
        "",
        "## Definitions",
        "",
        f"- A fault's window runs from its start until its recovery is observed (PostgreSQL accepts "
        f"connections; gunicorn has a replacement worker) plus {GRACE:g} s. An attempt belongs to "
        "the window if its [sent, done] interval overlaps it. Errors outside every window are "
        "steady-state errors: there must be none.",
        "- Error: no response, a 5xx, or not the expected status (200 for reads, 2xx for writes, "
        f"4xx for bad inputs). A write without a response or with a 5xx is retried with the same "
        f"payload and marker, backing off, for up to {RETRY_FOR:g} s from its scheduled time.",
        "- Lost: the client got a 2xx and the record is not in the database. A marker found twice "
        "after an error is a retry duplicate (the first attempt committed but its answer was lost: "
        "the API has no idempotency keys); twice without an error before it is a defect.",
        "",
        f"Full numbers: `bench/reports/{name}.json`.",
        "",
    ]
    return "\n".join(out)


def parse_scale(text: str) -> dict[str, int]:
    """--scale PRACTITIONERS,CIRCLES,RECORDS: seed_scale's three sizes."""
    parts = [p.strip() for p in text.split(",")]
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 3 or any(n < 0 for n in numbers):
        raise argparse.ArgumentTypeError(
            "three whole numbers, practitioners,circles,records (e.g. 3000,400,300000)"
        )
    return dict(zip(("practitioners", "circles", "records"), numbers, strict=True))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=RATE, help="requests per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--concurrency", type=int, default=64, help="client threads")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--no-faults", dest="faults", action="store_false")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--db-name", default=DB_NAME, help=f"the scratch PostgreSQL database (default {DB_NAME})"
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--large",
        dest="scale",
        action="store_const",
        const=dict(LARGE),
        help="the demo plus seed_scale at make bench's large size "
        f"({LARGE['practitioners']},{LARGE['circles']},{LARGE['records']})",
    )
    size.add_argument(
        "--scale",
        type=parse_scale,
        metavar="P,C,R",
        help="the demo plus seed_scale --practitioners P --circles C --records R",
    )
    parser.add_argument(
        "--setup-only",
        action="store_true",
        help="build the database and world, start the server and task worker, warm them up, "
        "then stop: no load, no faults, PostgreSQL not restarted",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=300.0,
        help="seconds to wait for other PostgreSQL clients to finish before starting",
    )
    parser.add_argument(
        "--disturb-others",
        action="store_true",
        help="restart PostgreSQL even if other clients are still connected after the wait",
    )
    parser.add_argument(
        "--report", default="load", help="report name: bench/reports/<name>.md and .json"
    )
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.db_name):
        parser.error("--db-name: lower-case letters, digits and underscores")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
