"""Benchmark of the key pages through a real server, against the bare-Django floor.

Run with `make bench` (options through BENCH_ARGS, e.g. `make bench BENCH_ARGS="--quick"`), or
`.venv/bin/python bench/run.py --help`. Writes bench/report.md and bench/report.json.

For each database (PostgreSQL and SQLite by default) and each size (small: migrate + seed_demo;
large: that plus `seed_scale`), in this order:
1. Counts the rows, and asks for every key page of bench/pages.py in-process (Django's test
   client, the production settings, the same database): the SQL queries of one request after a
   warm-up request, and the bytes of its answer (uncompressed, and gzipped if the app compresses).
2. Starts gunicorn with the production settings (config.settings.prod, fresh keys, behind an
   "HTTPS proxy": every request carries X-Forwarded-Proto: https) and, beside it, the floor
   (bench/floor: a Django project with no middleware and one "hello" view) with the very same
   gunicorn settings. Drives both with wrk: per page, -t2 -c8 for requests per second and
   p50/p95/p99, then -t1 -c1 (one request in flight) for p95_single. The floor is measured
   before the pages, after every few pages and after the last, and each page is reported as
   ratio_to_floor = its requests per second / the floor's (the mean of this size's floor runs).
   With --page-cache both (the default) the pages have two servers, CIRCLEWORK_PAGE_CACHE=0
   (first view) and =1 (repeat view), and each page is measured through one, then the other:
   the report's *_cached keys (rps_large_cached, ratio_to_floor_cached, ...) are the repeat
   view, the keys without the suffix the first view.
3. At the largest size, profiles the three slowest pages (by p50 with one request in flight)
   in-process with pyinstrument.

Report files (in bench/, or --output DIR): report-<database>.json for each database measured;
report.json is the PostgreSQL one (the shape of issue 13), or the only database measured;
report.md has them all. Times are for comparison between runs on one machine; tests assert only
query counts and page sizes (tests/perf/).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import math
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import server as loopback  # noqa: E402
from bench.load import (  # noqa: E402
    LARGE,  # the large size: seed_scale's three numbers, the load test's --large too
    PG_HOST,
    PG_PORT,
    Request,
    environment,
    git_commit,
    pg_connect,
    pg_ctl,
    pg_ready,
    pg_version,
    row_counts,
    send,
    server_errors,
)

BENCH = ROOT / "bench"
DB_NAME = "circlework_bench"
DATABASES = ("postgresql", "sqlite")
SIZES = ("small", "large")
# One sync worker per core: the measurement (2 workers on 2 cores). CPU-bound pages gain
# nothing from more workers than cores while wrk shares the machine; --workers changes it.
WORKERS = os.cpu_count() or 2
CONCURRENT = (2, 8)  # wrk threads, connections: throughput and p50/p95/p99
SINGLE = (1, 1)  # one request in flight: p95_single
FLOOR_EVERY = 6  # pages between two floor measurements
PROFILE_PAGES = 3
PROFILE_REQUESTS = 50
PROFILE_LINES = 25
REDIS_DEFAULT = "redis://127.0.0.1:6379/14"  # a Redis database of the benchmark's own
# The rendered-page cache (circlework/core/page_cache.py), switched per server by this variable:
# off = every request draws its page (a first view), on = a page already drawn for this visitor
# is handed out again (a repeat view). "both" measures each page through one server of each.
PAGE_CACHE_ENV = "CIRCLEWORK_PAGE_CACHE"
PAGE_CACHE_MODES = ("off", "on", "both")

# Issue 13's targets. tests/perf asserts the queries and bytes; the report marks them all.
TARGETS: dict[str, float] = {
    "max_queries": 12,  # per request, at every data size
    "max_bytes": 60 * 1024,  # the page's HTML or JSON, uncompressed, at the large size
    "signed_in_ratio": 0.1,  # × the floor's requests per second, at the large size
    "anonymous_ratio": 0.3,
    "max_p95_single_ms": 50.0,  # one request in flight, large size, PostgreSQL
}

# wrk's report: done() prints one JSON line; response() counts answers that are not 2xx (wrk
# itself counts only status > 399), summed over the threads in done().
WRK_SCRIPT = r"""
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  non2xx = 0
end
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end
function done(summary, latency, requests)
  local non = 0
  for _, t in ipairs(threads) do
    non = non + t:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p95": %d, "p99": %d}}\n',
    summary.requests, summary.duration, summary.bytes, non,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99)))
end
"""


# --- pure parts: wrk's output, ratios, marks, the report ------------------------------------


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    rps: float
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non2xx: int
    socket_errors: int  # connect, read, write and timeout errors

    @property
    def ok(self) -> bool:
        return self.requests > 0 and self.non2xx == 0 and self.socket_errors == 0


def parse_wrk(output: str) -> WrkResult:
    """The numbers of the WRK_JSON line that WRK_SCRIPT's done() prints."""
    for line in output.splitlines():
        if line.startswith("WRK_JSON "):
            data = json.loads(line[len("WRK_JSON ") :])
            break
    else:
        raise ValueError(f"no WRK_JSON line in wrk's output: {output[-500:]!r}")
    duration = data["duration_us"] / 1e6
    lat = data["latency_us"]
    err = data["errors"]

    def ms(us: float) -> float:
        return round(us / 1000, 2)

    return WrkResult(
        requests=data["requests"],
        duration_s=round(duration, 3),
        rps=round(data["requests"] / duration, 2) if duration > 0 else 0.0,
        mean_ms=ms(lat["mean"]),
        p50_ms=ms(lat["p50"]),
        p90_ms=ms(lat["p90"]),
        p95_ms=ms(lat["p95"]),
        p99_ms=ms(lat["p99"]),
        max_ms=ms(lat["max"]),
        non2xx=data["non2xx"],
        socket_errors=err["connect"] + err["read"] + err["write"] + err["timeout"],
    )


def ratio(page_rps: float | None, floor_rps: float | None) -> float | None:
    if page_rps is None or not floor_rps:
        return None
    return round(page_rps / floor_rps, 4)


def mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def floor_summary(concurrent: Sequence[WrkResult], single: Sequence[WrkResult]) -> dict[str, Any]:
    """The floor of one size: the mean of its runs, and each run (their spread shows drift)."""
    return {
        "rps": mean([r.rps for r in concurrent]),
        "p95_ms": mean([r.p95_ms for r in concurrent]),
        "p50_ms": mean([r.p50_ms for r in concurrent]),
        "p95_single_ms": mean([r.p95_ms for r in single]),
        "runs_rps": [r.rps for r in concurrent],
    }


def floor_order(count: int, every: int) -> list[int | None]:
    """The measuring order: page indices, with None for a floor run before the first page, after
    every `every` pages, and after the last."""
    order: list[int | None] = [None]
    for i in range(count):
        order.append(i)
        if (i + 1) % every == 0 or i == count - 1:
            order.append(None)
    return order


def page_cache_modes(choice: str) -> list[bool]:
    """The page-cache settings to serve the pages with, in measuring order (off first)."""
    return {"off": [False], "on": [True], "both": [False, True]}[choice]


def app_log_name(size: str, cached: bool) -> str:
    return f"app-{size}{'-page-cache' if cached else ''}.log"


def with_cookies(headers: Mapping[str, str], cookies: Mapping[str, str]) -> dict[str, str]:
    """The headers with `cookies` (name → value) added to their Cookie header, replacing any of
    the same name, as a browser sends back what it was given."""
    jar: dict[str, str] = {}
    for part in headers.get("Cookie", "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            jar[name] = value
    jar.update(cookies)
    out = dict(headers)
    if jar:
        out["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
    return out


def served_numbers(many: WrkResult, one: WrkResult) -> dict[str, Any]:
    """A page's served numbers at one size: `many` with -t2 -c8, `one` with one in flight."""
    return {
        "rps": many.rps,
        "p50_ms": many.p50_ms,
        "p95_ms": many.p95_ms,
        "p99_ms": many.p99_ms,
        "p95_single_ms": one.p95_ms,
        "p50_single_ms": one.p50_ms,
        "non2xx": many.non2xx + one.non2xx,
        "socket_errors": many.socket_errors + one.socket_errors,
        "requests": many.requests + one.requests,
    }


def target_ratio(anonymous: bool) -> float:
    return TARGETS["anonymous_ratio"] if anonymous else TARGETS["signed_in_ratio"]


def marks(page: Mapping[str, Any]) -> dict[str, bool | None]:
    """Pass (True), fail (False) or not measured (None) for each target of issue 13, from a
    page entry of the report (the large size's numbers; queries at every size measured)."""
    queries = [q for q in (page.get("queries_small"), page.get("queries_large")) if q is not None]
    r = page.get("ratio_to_floor")
    p95 = page.get("p95_single_ms_large")
    size = page.get("bytes")
    both = page.get("queries_small") is not None and page.get("queries_large") is not None
    return {
        "queries": max(queries) <= TARGETS["max_queries"] if queries else None,
        "constant_queries": page["queries_small"] == page["queries_large"] if both else None,
        "bytes": size <= TARGETS["max_bytes"] if size is not None else None,
        "ratio": r >= target_ratio(bool(page.get("anonymous"))) if r is not None else None,
        "p95_single": p95 <= TARGETS["max_p95_single_ms"] if p95 is not None else None,
    }


def page_entry(
    *,
    name: str,
    who: str,
    how: str,
    anonymous: bool,
    in_process: Mapping[str, Mapping[str, Any]],
    served: Mapping[str, Mapping[str, Any]],
    floors: Mapping[str, Mapping[str, Any]],
    served_cached: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """One page of report.json: issue 13's keys (the large size; None where it was not
    measured), then the numbers of every size under by_size.

    `served` is through a server with the page cache off (a first view), `served_cached` with
    it on (a repeat view): the *_cached keys, beside the uncached ones."""
    cached = served_cached or {}
    by_size: dict[str, dict[str, Any]] = {}
    for size in SIZES:
        if size not in in_process and size not in served and size not in cached:
            continue
        row: dict[str, Any] = dict(in_process.get(size, {}))
        run = served.get(size, {})
        row.update(run)
        floor_rps = floors.get(size, {}).get("rps")
        row["ratio_to_floor"] = ratio(run.get("rps"), floor_rps)
        repeat = cached.get(size, {})
        row.update({f"{k}_cached": v for k, v in repeat.items()})
        row["ratio_to_floor_cached"] = ratio(repeat.get("rps"), floor_rps)
        by_size[size] = row
    large = by_size.get("large", {})
    small = by_size.get("small", {})
    last = large or small
    entry: dict[str, Any] = {
        "name": name,
        "queries_small": small.get("queries"),
        "queries_large": large.get("queries"),
        "p50_ms_large": large.get("p50_ms"),
        "p95_ms_large": large.get("p95_ms"),
        "p99_ms_large": large.get("p99_ms"),
        "rps_large": large.get("rps"),
        "ratio_to_floor": large.get("ratio_to_floor"),
        "bytes": last.get("bytes"),
        "p95_single_ms_large": large.get("p95_single_ms"),
        "p50_ms_large_cached": large.get("p50_ms_cached"),
        "p95_ms_large_cached": large.get("p95_ms_cached"),
        "p99_ms_large_cached": large.get("p99_ms_cached"),
        "rps_large_cached": large.get("rps_cached"),
        "ratio_to_floor_cached": large.get("ratio_to_floor_cached"),
        "p95_single_ms_large_cached": large.get("p95_single_ms_cached"),
        "who": who,
        "anonymous": anonymous,
        "how": how,
        "by_size": by_size,
    }
    entry["marks"] = marks(entry)
    return entry


def _cell(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _mark(value: bool | None) -> str:
    return "–" if value is None else ("✓" if value else "✗")


def bar_chart(rows: Sequence[tuple[str, float | None, float]], width: int = 40) -> str:
    """A text bar per (label, ratio, target): the bar's length is the ratio on a log scale from
    0.001× to 1× the floor, with | where the target is."""
    lo, hi = math.log10(0.001), 0.0

    def pos(x: float) -> int:
        x = min(max(x, 0.001), 1.0)
        return round((math.log10(x) - lo) / (hi - lo) * width)

    label_width = max((len(r[0]) for r in rows), default=10)
    axis = [" "] * (width + 8)
    for tick, text in ((0.001, "0.001×"), (0.01, "0.01×"), (0.1, "0.1×"), (1.0, "1×")):
        axis[pos(tick) : pos(tick) + len(text)] = list(text)
    out = [f"{'':{label_width}}  {''.join(axis).rstrip()}"]
    for label, value, target in rows:
        cells = [" "] * (width + 1)
        if value is not None:
            for i in range(pos(value)):
                cells[i] = "█"
        t = pos(target)
        cells[t] = "|" if cells[t] == " " else "┃"
        shown = "not measured" if value is None else f"{value:.3f}×"
        out.append(f"{label:{label_width}}  {''.join(cells)} {shown}")
    return "\n".join(out)


def markdown(reports: Sequence[Mapping[str, Any]]) -> str:
    t = TARGETS
    out = [
        "# Benchmark: key pages through a real server, against the bare-Django floor",
        "",
        "Written by `make bench` (bench/run.py); numbers in bench/report.json "
        "(bench/report-<database>.json for each database). Method and how to run it: at the end.",
        "",
        f"Targets (issue 13): signed-in pages ≥ {t['signed_in_ratio']}× the floor's requests per "
        f"second and anonymous public pages ≥ {t['anonymous_ratio']}× at the large size; "
        f"p95 ≤ {t['max_p95_single_ms']:.0f} ms with one request in flight (large size, PostgreSQL); "
        f"≤ {int(t['max_queries'])} queries per page, the same at both sizes; "
        f"≤ {int(t['max_bytes']) // 1024} KB per page at the large size. ✓ met, ✗ not met, – not measured.",
        "",
    ]
    for r in reports:
        out += _database_section(r)
    out += [
        "## How to run it",
        "",
        "```sh",
        "make bench                                  # both databases and sizes, page cache off and on (~50 min)",
        'make bench BENCH_ARGS="--page-cache off"     # first views only (~30 min)',
        'make bench BENCH_ARGS="--quick --sizes small"   # smoke run: 2 s per wrk run',
        'make bench BENCH_ARGS="--database postgresql --practitioners 3000 --circles 400 --records 300000"',
        "```",
        "",
        "Options: `--database sqlite|postgresql|both`, `--sizes small,large`, `--duration` (seconds "
        "per wrk run, 10), `--workers` (gunicorn sync workers, one per core), `--practitioners`, "
        "`--circles`, `--records` (the large size's `seed_scale`), `--redis URL|none`, "
        "`--page-cache off|on|both` (both), `--output DIR` (bench/), `--quick`.",
        "",
        "## Method",
        "",
        "- Data: small = `migrate` + `seed_demo`; large = that + `seed_scale` (seed 1), then ANALYZE "
        "on PostgreSQL. A scratch database each time (PostgreSQL `circlework_bench`, SQLite in a "
        "temporary file), dropped at the end.",
        "- Queries and bytes: in-process, Django's test client with the production settings on the "
        "same database, one request after a warm-up request, queries counted with "
        "`connection.execute_wrapper` (session and user look-ups included, savepoints not).",
        "- Server: gunicorn `config.wsgi`, production settings (`config.settings.prod`, fresh keys, "
        "DEBUG off, HTTPS redirect on: every request says `X-Forwarded-Proto: https` as the proxy "
        "would), sync workers on 127.0.0.1, Redis cache and sessions when Redis answers "
        "(`--redis`). The floor, bench/floor (no middleware, one view, no database), under the same "
        "gunicorn settings.",
        f"- Page cache (`--page-cache`): the pages' server runs with `{PAGE_CACHE_ENV}=0` (first "
        f"view: every page drawn) or `=1` (repeat view: a page drawn before for the same visitor is "
        "handed out again); with `both`, two servers side by side and each page measured through "
        "the first, then the second. For the repeat view the requests also carry back the cookies "
        "the page's first answer set (the CSRF cookie of a page with a form), as a browser would. "
        "Queries, bytes and profiles are always in-process with the page cache off.",
        "- Load: wrk (Debian's), per page `-t2 -c8` for requests/s and p50/p95/p99, then `-t1 -c1` "
        "for p95 with one request in flight; requests carry the session cookie (signed-in pages) "
        "or `Authorization: Bearer` (API), `Accept-Encoding: gzip`. A run with answers other than "
        "2xx is marked ⚠. The floor is measured before the pages, after every "
        f"{FLOOR_EVERY} pages and after the last; ratio_to_floor = page req/s ÷ the mean floor "
        "req/s of the same size. wrk, gunicorn and the database share the machine.",
        "- Profile: pyinstrument, in-process, over the slowest pages at the largest size.",
        "",
    ]
    return "\n".join(out)


def _database_section(r: Mapping[str, Any]) -> list[str]:
    db = r["database"]
    title = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(db, db)
    out = [f"## {title}", "", f"Machine: {r['machine']}.", ""]
    started = r.get("started_at")
    if started:
        out += [f"Run {started}, commit {r.get('commit', '?')}, {_config_line(r)}.", ""]
    detail = r.get("machine_detail", {})
    if detail.get("load_average"):
        before = detail["load_average"][0]
        after = detail.get("load_average_after", [None])[0]
        cpus = detail.get("cpus")
        busy = isinstance(cpus, int) and max(before or 0, after or 0) > cpus
        verdict = (
            "above the CPU count, other work shared the machine and the times are inflated (the "
            "ratios less so: the floor shares it too)"
            if busy
            else "within the CPU count: little else ran beside the benchmark"
        )
        out += [
            f"Load average (1 min) before the run {_cell(before, 2)}, after {_cell(after, 2)} "
            f"on {cpus or '?'} CPUs: {verdict}.",
            "",
        ]
    sizes = r.get("sizes", {})
    floor = r.get("floor_by_size", {})
    out += ["| size | data | floor req/s (runs) | floor p95 ms | floor p95 ms, one in flight |"]
    out += ["|---|---|---|---|---|"]
    for size, counts in sizes.items():
        f = floor.get(size, {})
        data = ", ".join(
            f"{counts.get(k, 0):,} {k.replace('_', ' ')}"
            for k in ("practitioners", "circles", "positions", "notifications")
        )
        data += f"; {counts.get('rows', 0):,} rows in all"
        runs = ", ".join(_cell(x, 0) for x in f.get("runs_rps", []))
        out.append(
            f"| {size} | {data} | {_cell(f.get('rps'), 0)} ({runs}) | {_cell(f.get('p95_ms'))} "
            f"| {_cell(f.get('p95_single_ms'))} |"
        )
    repeat = any("rps_cached" in s for p in r["pages"] for s in p["by_size"].values())
    first = "first view (page cache off): " if repeat else ""
    out += [
        "",
        f"| page | who | queries small → large | KB | {first}p50 / p95 / p99 ms | req/s | × floor "
        "(small → large) | p95 ms, one in flight | "
        + (
            "repeat view (page cache on): p50 / p95 ms | req/s | × floor (small → large) "
            "| p95 ms, one in flight | "
            if repeat
            else ""
        )
        + "≤12 q | same q | ≤60 KB | × target | p95 ≤ 50 |",
        "|---|---|---|---|---|---|---|---|" + ("---|---|---|---|" if repeat else "") + "---|" * 5,
    ]
    for p in r["pages"]:
        last = p["by_size"].get("large") or p["by_size"].get("small") or {}
        small = p["by_size"].get("small", {})
        warn = (
            " ⚠"
            if any(
                s.get("non2xx") or s.get("non2xx_cached") or s.get("status", 200) != 200
                for s in p["by_size"].values()
            )
            else ""
        )
        repeat_cells = ""
        if repeat:
            repeat_cells = (
                f"{_cell(last.get('p50_ms_cached'))} / {_cell(last.get('p95_ms_cached'))} "
                f"| {_cell(last.get('rps_cached'), 0)} "
                f"| {_cell(small.get('ratio_to_floor_cached'), 3)} → "
                f"{_cell(p['by_size'].get('large', {}).get('ratio_to_floor_cached'), 3)} "
                f"| {_cell(last.get('p95_single_ms_cached'))} | "
            )
        m = p["marks"]
        kb = None if p.get("bytes") is None else p["bytes"] / 1024
        ratios = f"{_cell(small.get('ratio_to_floor'), 3)} → {_cell(p['by_size'].get('large', {}).get('ratio_to_floor'), 3)}"
        out.append(
            f"| {p['name']}{warn} | {'anonymous' if p['anonymous'] else p['who'].split('@')[0]} "
            f"| {_cell(p['queries_small'])} → {_cell(p['queries_large'])} | {_cell(kb)} "
            f"| {_cell(last.get('p50_ms'))} / {_cell(last.get('p95_ms'))} / {_cell(last.get('p99_ms'))} "
            f"| {_cell(last.get('rps'), 0)} | {ratios} | {_cell(last.get('p95_single_ms'))} "
            f"| {repeat_cells}{_mark(m['queries'])} | {_mark(m['constant_queries'])} | {_mark(m['bytes'])} "
            f"| {_mark(m['ratio'])} | {_mark(m['p95_single'])} |"
        )
    measured_at = "large" if "large" in sizes else "small"
    if measured_at == "small":
        out += ["", "Latency and × floor columns: small size (the large size was not measured)."]
    if repeat:
        out += [
            "",
            "First view: served with the page cache off, every request draws its page. Repeat "
            "view: the page cache on, the same visitor asking again for a page nobody changed "
            "(answered from the worker's memory; API answers are not kept). The targets are "
            "marked on the first view.",
        ]
    met = sum(all(v is not False for v in p["marks"].values()) for p in r["pages"])
    out += ["", f"{met} of {len(r['pages'])} pages meet every target measured.", ""]
    views = [("", "")]
    if repeat:
        views = [("", ", first view"), ("_cached", ", repeat view")]
    for suffix, title in views:
        chart_rows = []
        for p in r["pages"]:
            row = p["by_size"].get(measured_at, {})
            chart_rows.append(
                (p["name"], row.get(f"ratio_to_floor{suffix}"), target_ratio(p["anonymous"]))
            )
        out += [
            f"Requests per second as a share of the floor's ({measured_at} size{title}; "
            "| marks the target):",
            "",
            "```",
            bar_chart(chart_rows),
            "```",
            "",
        ]
    for prof in r.get("profiles", []):
        out += [
            f"Profile: {prof['page']} ({prof['size']} size, {prof['requests']} requests in-process, "
            f"{prof['ms_per_request']:.1f} ms each, wall clock): "
            + ", ".join(f"{k} {v:.0%}" for k, v in prof.get("areas", {}).items())
            + ". The functions the samples were in:",
            "",
            "```",
            prof["text"].rstrip(),
            "```",
            "",
        ]
    errors = r.get("server_errors") or []
    if errors:
        out += ["Exceptions in the server's log: " + "; ".join(f"{e} ×{n}" for e, n in errors), ""]
    return out


def _config_line(r: Mapping[str, Any]) -> str:
    c = r.get("config", {})
    return (
        f"gunicorn {c.get('workers')} sync workers, wrk {c.get('duration_s')} s per run, "
        f"cache {c.get('cache')}, page cache {c.get('page_cache', 'off')}, "
        f"large = seed_scale {c.get('large')}"
    )


def report_files(reports: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """File name → content: report-<database>.json for each, and report.json = the PostgreSQL
    report (or the only one)."""
    files: dict[str, Any] = {f"report-{r['database']}.json": r for r in reports}
    main = next((r for r in reports if r["database"] == "postgresql"), reports[0])
    files["report.json"] = main
    return files


# --- processes: gunicorn, wrk ----------------------------------------------------------------


PROXY_HEADERS = {"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"}


class Gunicorn(loopback.Gunicorn):
    """A gunicorn server of sync workers on loopback, the same flags for the app and the floor
    (bench/server.py, as the load test starts it); up once /robots.txt answers at all."""

    def __init__(self, app: str, env: Mapping[str, str], workers: int, log: Path) -> None:
        probe = Request(0, "probe", "GET", "/robots.txt", dict(PROXY_HEADERS), None, "200")
        super().__init__(
            app,
            env,
            workers,
            log,
            probe=lambda port: send(port, probe)[0] is not None,
            poll_every=0.3,
        )

    def cookies(self, path: str, headers: Mapping[str, str]) -> dict[str, str]:
        """The cookies one answer sets (name → value), e.g. the CSRF cookie of a page with a
        form, which a browser would send back on its next view."""
        conn = http.client.HTTPConnection(PG_HOST, self.port, timeout=30)
        try:
            conn.request("GET", path, headers={**PROXY_HEADERS, **headers})
            response = conn.getresponse()
            response.read()
            jar: SimpleCookie = SimpleCookie()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar.load(header)
            return {name: morsel.value for name, morsel in jar.items()}
        finally:
            conn.close()

    def warm_up(self, path: str, headers: Mapping[str, str], count: int) -> list[int | None]:
        """Several requests at a time, so that every worker has served the page before wrk."""
        req = Request(0, "warm-up", "GET", path, {**PROXY_HEADERS, **headers}, None, "200")
        with ThreadPoolExecutor(max_workers=self.workers * 2) as pool:
            return list(pool.map(lambda _: send(self.port, req)[0], range(count)))


def measure_target(
    target: Gunicorn,
    path: str,
    headers: Mapping[str, str],
    label: str,
    args: argparse.Namespace,
    script: Path,
    log: Callable[[str], None],
) -> tuple[WrkResult, WrkResult]:
    """Warm every worker up, then wrk with -t2 -c8 and with one request in flight."""
    statuses = target.warm_up(path, headers, args.workers * 4)
    if any(s != 200 for s in statuses):
        log(f"  {label}: warm-up answered {sorted(set(map(str, statuses)))}")
    many, one = (
        wrk(
            target.port,
            path,
            headers,
            threads=threads,
            connections=conns,
            duration=args.duration,
            script=script,
        )
        for threads, conns in (CONCURRENT, SINGLE)
    )
    log(
        f"  {label}: {many.rps:.0f} req/s, p50 {many.p50_ms} p95 {many.p95_ms} "
        f"p99 {many.p99_ms} ms; one in flight p95 {one.p95_ms} ms"
        + (f"; NOT 2xx: {many.non2xx + one.non2xx}" if many.non2xx + one.non2xx else "")
    )
    return many, one


def wrk(
    port: int,
    path: str,
    headers: Mapping[str, str],
    *,
    threads: int,
    connections: int,
    duration: int,
    script: Path,
) -> WrkResult:
    # wrk takes whole seconds
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, duration)}s"]
    command += ["--timeout", "30s", "-s", str(script)]
    for name, value in {**PROXY_HEADERS, **headers}.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://{PG_HOST}:{port}{path}")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-500:]}")
    return parse_wrk(done.stdout)


# --- one database, in its own process ---------------------------------------------------------


def machine() -> tuple[str, dict[str, Any]]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        memory = "? RAM"
    try:
        pg = f"PostgreSQL {pg_version()}"
    except OSError:
        pg = "PostgreSQL ?"
    detail = {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": pg,
        "sqlite": sqlite3.sqlite_version,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    text = (
        f"{os.cpu_count()} CPUs ({cpu}), {memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {pg}, SQLite {sqlite3.sqlite_version}"
    )
    return text, detail


def redis_url(choice: str) -> str:
    if choice == "none":
        return ""
    try:
        import redis

        redis.Redis.from_url(choice, socket_connect_timeout=1).ping()
        return choice
    except Exception:
        print(f"Redis at {choice} does not answer: no shared cache (each worker its own memory)")
        return ""


def bench_environment(database: str, scratch: Path, redis: str) -> dict[str, str]:
    env = environment(scratch)  # production settings and fresh keys, as the load test
    env["DATABASE_URL"] = (
        f"postgres://postgres@{PG_HOST}:{PG_PORT}/{DB_NAME}"
        if database == "postgresql"
        else f"sqlite:///{scratch / 'bench.sqlite3'}"
    )
    # Behind the HTTPS proxy, as in production: the redirect stays on and every request says
    # X-Forwarded-Proto: https (PROXY_HEADERS).
    env["SECURE_SSL_REDIRECT"] = "true"
    env["SITE_URL"] = f"https://{PG_HOST}"
    env["REDIS_URL"] = redis
    # In-process (queries, bytes, profiles) and the floor: every page drawn. The pages' servers
    # set it per --page-cache.
    env[PAGE_CACHE_ENV] = "0"
    return env


def recreate_database() -> None:
    with pg_connect() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database() -> None:
    with pg_connect() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


# Where a profile's time went, by the file each sample was in (a built-in counts in its caller's).
AREAS = (
    ("database driver and waiting", ("/psycopg/", "/django/db/backends/", "sqlite3")),
    ("ORM: building SQL and model objects", ("/django/db/",)),
    ("templates", ("/django/template/", "/templatetags/", "/template_partials/", "/forms/")),
    ("Circlework's own code", ("/circlework/",)),
    ("middleware, sessions, auth", ("/middleware", "/contrib/sessions/", "/contrib/auth/")),
    ("translation and formatting", ("/utils/translation/", "/utils/formats", "/humanize/")),
)


def area_of(path: str) -> str:
    for area, needles in AREAS:
        if any(n in path for n in needles):
            return area
    return "other"


def areas(root: Any) -> dict[str, float]:
    """Shares of a pyinstrument frame tree's time by AREAS, largest first."""
    found: dict[str, float] = {}

    def walk(frame: Any, caller: str) -> None:
        path = frame.file_path or caller
        if path == "<built-in>":
            path = caller
        if not frame.children:
            found[area_of(path)] = found.get(area_of(path), 0.0) + frame.time
        for child in frame.children:
            walk(child, path)

    walk(root, "")
    total = sum(found.values()) or 1.0
    return {k: round(v / total, 3) for k, v in sorted(found.items(), key=lambda kv: -kv[1])}


def profile(visitors: Any, page: Any, url: str, requests: int) -> dict[str, Any]:
    from pyinstrument import Profiler
    from pyinstrument.renderers import ConsoleRenderer

    visitors.get(page, url)
    profiler = Profiler(interval=0.0005)
    start = time.perf_counter()
    profiler.start()
    for _ in range(requests):
        visitors.get(page, url)
    profiler.stop()
    elapsed = time.perf_counter() - start
    session = profiler.last_session
    assert session is not None
    # Flat: the functions the samples were in (library frames counted in the nearest function
    # shown), as a share of the whole; the call tree's top is only the middleware chain.
    renderer = ConsoleRenderer(unicode=True, color=False, flat=True, time="percent_of_total")
    lines = renderer.render(session).splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if line.startswith("Profile at")), 0)
    top = [line for line in lines[start:] if line.strip()][:PROFILE_LINES]
    root = session.root_frame()
    return {
        "page": page.name,
        "url": url,
        "requests": requests,
        "ms_per_request": round(elapsed / requests * 1000, 2),
        "areas": areas(root) if root is not None else {},
        "text": "\n".join(top),
    }


def measure_database(args: argparse.Namespace) -> dict[str, Any]:
    database: str = args.database
    log: Callable[[str], None] = lambda text: print(f"[{database}] {text}", flush=True)  # noqa: E731
    scratch = Path(tempfile.mkdtemp(prefix=f"circlework-bench-{database}-"))
    env = bench_environment(database, scratch, args.redis)
    os.environ.update(env)
    machine_text, machine_detail = machine()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    if database == "postgresql":
        if not pg_ready():
            log("starting PostgreSQL")
            pg_ctl("start")
        recreate_database()
    floor = Gunicorn("bench.floor.wsgi", env, args.workers, scratch / "floor.log")
    modes = page_cache_modes(args.page_cache)
    apps: dict[bool, Gunicorn] = {}  # page cache on → its server
    script = scratch / "report.lua"
    script.write_text(WRK_SCRIPT)
    try:
        import django

        django.setup()
        from django.core.cache import cache
        from django.core.management import call_command, get_commands
        from django.db import connection, connections

        from bench import pages as key

        if "large" in args.sizes and "seed_scale" not in get_commands():
            raise SystemExit("manage.py seed_scale does not exist yet: run with --sizes small")
        t = time.monotonic()
        log("migrating, loading the demo, collecting static files")
        call_command("migrate", verbosity=0)
        call_command("seed_demo", verbosity=0)
        call_command("collectstatic", "--noinput", verbosity=0)
        log(f"  {time.monotonic() - t:.0f} s")
        floor.start()
        visitors = key.Visitors(secure=True, host=PG_HOST)
        in_process: dict[str, dict[str, dict[str, Any]]] = {p.name: {} for p in key.PAGES}
        served: dict[str, dict[str, dict[str, Any]]] = {p.name: {} for p in key.PAGES}
        served_cached: dict[str, dict[str, dict[str, Any]]] = {p.name: {} for p in key.PAGES}
        floors: dict[str, dict[str, Any]] = {}
        sizes: dict[str, dict[str, int]] = {}
        urls: dict[str, str] = {}
        for size in args.sizes:
            if size == "large":
                t = time.monotonic()
                log(f"seed_scale {args.large}")
                call_command("seed_scale", **args.large, seed=1)
                log(f"  {time.monotonic() - t:.0f} s")
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            cache.clear()  # seed_scale writes in bulk, past the services' invalidation
            sizes[size] = row_counts()
            log(f"{size}: {sizes[size]}")
            for page in key.PAGES:
                try:
                    urls[page.name] = page.find()
                    m = key.measure(visitors, page, urls[page.name])
                except Exception as exc:  # a page broken today: report it, measure the rest
                    urls.pop(page.name, None)
                    error = f"{type(exc).__name__}: {str(exc)[:200]}"
                    in_process[page.name][size] = {"status": None, "error": error}
                    log(f"  {page.name}: FAILED {error}")
                    continue
                zipped = visitors.get(page, urls[page.name], **{"Accept-Encoding": "gzip"})
                body = zipped.content
                if zipped.get("Content-Encoding") != "gzip":
                    body = gzip.compress(body)  # what a compressing proxy would send
                in_process[page.name][size] = {
                    "url": m.url,
                    "status": m.status,
                    "queries": m.queries,
                    "bytes": m.bytes,
                    "bytes_gzip": len(body),
                }
                log(f"  {page.name}: {m.status}, {m.queries} queries, {m.bytes} bytes")
            connections.close_all()
            # One server per page-cache setting, side by side; each page is measured through
            # each in turn (first view, then repeat view), between the same floor runs.
            for cached in modes:
                apps[cached] = Gunicorn(
                    "config.wsgi",
                    {**env, PAGE_CACHE_ENV: "1" if cached else "0"},
                    args.workers,
                    scratch / app_log_name(size, cached),
                )
                apps[cached].start()
            log(
                "gunicorn on "
                + ", ".join(
                    f"{a.port} (page cache {'on' if c else 'off'})" for c, a in apps.items()
                )
                + f" and the floor on {floor.port}, {args.workers} workers each"
            )
            floor_runs: tuple[list[WrkResult], list[WrkResult]] = ([], [])
            for index in floor_order(len(key.PAGES), FLOOR_EVERY):
                if index is None:
                    many, one = measure_target(floor, "/", {}, "floor", args, script, log)
                    floor_runs[0].append(many)
                    floor_runs[1].append(one)
                    continue
                page = key.PAGES[index]
                if page.name not in urls:
                    continue
                path = urls[page.name]
                headers = visitors.headers(page)
                cookie = visitors.session_cookie(page)
                if cookie:
                    headers["Cookie"] = cookie
                for cached in modes:
                    label = page.name + (" (repeat view)" if cached and len(modes) > 1 else "")
                    page_headers = dict(headers)
                    if cached:  # a repeat view: the browser sends back the cookies it was given
                        given = apps[cached].cookies(path, page_headers)
                        if given:
                            log(f"  {label}: sends back the cookies {', '.join(sorted(given))}")
                        page_headers = with_cookies(page_headers, given)
                    many, one = measure_target(
                        apps[cached], path, page_headers, label, args, script, log
                    )
                    (served_cached if cached else served)[page.name][size] = served_numbers(
                        many, one
                    )
            floors[size] = floor_summary(*floor_runs)
            for app in apps.values():
                app.stop()
            apps.clear()
            log(f"floor at {size}: {floors[size]}")
        largest = args.sizes[-1]
        timed = served_cached if modes == [True] else served
        slowest = sorted(
            (p for p in key.PAGES if largest in timed[p.name]),
            key=lambda p: -timed[p.name][largest]["p50_single_ms"],
        )[:PROFILE_PAGES]
        profiles = []
        for page in slowest:
            log(f"profiling {page.name}")
            prof = profile(visitors, page, urls[page.name], args.profile_requests)
            profiles.append({**prof, "size": largest})
        connections.close_all()
        logs = [scratch / app_log_name(s, c) for s in args.sizes for c in modes]
        errors: dict[str, int] = {}
        for app_log in logs:
            for line, n in server_errors(app_log):
                errors[line] = errors.get(line, 0) + n
        floor_main = floors.get("large") or floors[largest]
        report = {
            "machine": machine_text,
            "database": database,
            "sizes": sizes,
            "floor": {"rps": floor_main["rps"], "p95_ms": floor_main["p95_ms"]},
            "pages": [
                page_entry(
                    name=p.name,
                    who=p.who,
                    how=p.how,
                    anonymous=p.anonymous,
                    in_process=in_process[p.name],
                    served=served[p.name],
                    floors=floors,
                    served_cached=served_cached[p.name],
                )
                for p in key.PAGES
            ],
            "floor_by_size": floors,
            "profiles": profiles,
            "started_at": started_at,
            "commit": git_commit(),
            "machine_detail": {
                **machine_detail,
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
            },
            "config": {
                "workers": args.workers,
                "duration_s": args.duration,
                "wrk_concurrent": {"threads": CONCURRENT[0], "connections": CONCURRENT[1]},
                "wrk_single": {"threads": SINGLE[0], "connections": SINGLE[1]},
                "floor_every": FLOOR_EVERY,
                "large": args.large,
                "cache": "redis" if args.redis else "per-process memory",
                "page_cache": args.page_cache,
                "settings": "config.settings.prod",
            },
            "server_errors": sorted(errors.items(), key=lambda e: -e[1])[:10],
        }
        return report
    finally:
        for server in (*apps.values(), floor):
            server.stop()
        try:
            from django.db import connections as django_connections

            django_connections.close_all()
        except Exception:
            pass
        if database == "postgresql" and not args.keep:
            drop_database()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            log(f"kept {scratch}")


# --- the command -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", choices=[*DATABASES, "both"], default="both")
    parser.add_argument("--sizes", default=",".join(SIZES), help="small,large (or one of them)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn sync workers")
    parser.add_argument("--practitioners", type=int, default=LARGE["practitioners"])
    parser.add_argument("--circles", type=int, default=LARGE["circles"])
    parser.add_argument("--records", type=int, default=LARGE["records"])
    parser.add_argument("--redis", default=REDIS_DEFAULT, help="cache URL, or none")
    parser.add_argument(
        "--page-cache",
        choices=PAGE_CACHE_MODES,
        default="both",
        help=f"serve the pages with {PAGE_CACHE_ENV}=0 (off: first view), =1 (on: repeat view), "
        "or measure each page both ways (both)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=BENCH,
        help="directory for report.md and the report*.json files (default: bench/)",
    )
    parser.add_argument("--profile-requests", type=int, default=PROFILE_REQUESTS)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 s per wrk run")
    parser.add_argument("--keep", action="store_true", help="keep scratch databases and logs")
    parser.add_argument("--part", help=argparse.SUPPRESS)  # a child's JSON output
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if not sizes or any(s not in SIZES for s in sizes):
        parser.error(f"--sizes: a comma-separated choice of {', '.join(SIZES)}")
    args.sizes = [s for s in SIZES if s in sizes]
    args.large = {
        "practitioners": args.practitioners,
        "circles": args.circles,
        "records": args.records,
    }
    if args.quick:
        args.duration = min(args.duration, 2)
        args.profile_requests = min(args.profile_requests, 10)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: run bin/ensure-wrk (make bench does)")
        return 2
    if args.part:
        args.redis = redis_url(args.redis) if args.redis else ""
        report = measure_database(args)
        Path(args.part).write_text(json.dumps(report, indent=2, default=str) + "\n")
        return 0
    databases = list(DATABASES) if args.database == "both" else [args.database]
    passthrough = [a for a in (argv if argv is not None else sys.argv[1:])]
    reports = []
    scratch = Path(tempfile.mkdtemp(prefix="circlework-bench-"))
    try:
        for database in databases:
            part = scratch / f"{database}.json"
            child = [sys.executable, str(Path(__file__).resolve()), *passthrough]
            child += ["--database", database, "--part", str(part)]
            done = subprocess.run(child, cwd=ROOT, check=False)
            if done.returncode != 0:
                print(f"the {database} benchmark failed ({done.returncode})")
                return done.returncode
            reports.append(json.loads(part.read_text()))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out: Path = args.output
    out.mkdir(parents=True, exist_ok=True)
    for name, content in report_files(reports).items():
        (out / name).write_text(json.dumps(content, indent=2, default=str) + "\n")
    (out / "report.md").write_text(markdown(reports))
    print((out / "report.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
