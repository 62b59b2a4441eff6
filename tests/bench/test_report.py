"""The benchmark's pure parts (bench/run.py): reading wrk's output, ratios to the floor, the
targets' marks and the report's shape. The benchmark itself is `make bench`, never the suite."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from bench.run import (
    PAGE_CACHE_ENV,
    SIZES,
    TARGETS,
    WRK_SCRIPT,
    Gunicorn,
    WrkResult,
    app_log_name,
    area_of,
    areas,
    bar_chart,
    bench_environment,
    floor_order,
    floor_summary,
    markdown,
    marks,
    page_cache_modes,
    page_entry,
    parse_args,
    parse_wrk,
    ratio,
    report_files,
    served_numbers,
    with_cookies,
    wrk,
)

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.01ms    2.00ms  40.00ms   90.00%
  1000 requests in 10.00s, 1.00MB read
Requests/sec:    100.00
Transfer/sec:    102.40KB
WRK_JSON {"requests": 1000, "duration_us": 10000000, "bytes": 1048576, "non2xx": 3, \
"errors": {"connect": 0, "read": 1, "write": 0, "status": 3, "timeout": 2}, \
"latency_us": {"min": 900, "mean": 10012.5, "max": 40000, "p50": 9500, "p90": 12000, \
"p95": 15250, "p99": 30001}}
"""


def result(rps: float, p95: float = 10.0, p50: float = 5.0) -> WrkResult:
    return WrkResult(
        requests=int(rps * 10),
        duration_s=10.0,
        rps=rps,
        mean_ms=p50,
        p50_ms=p50,
        p90_ms=p95,
        p95_ms=p95,
        p99_ms=p95 * 2,
        max_ms=p95 * 3,
        non2xx=0,
        socket_errors=0,
    )


def test_parse_wrk_reads_the_json_line_in_milliseconds() -> None:
    r = parse_wrk(WRK_OUTPUT)
    assert r.requests == 1000
    assert r.duration_s == 10.0
    assert r.rps == 100.0
    assert (r.p50_ms, r.p90_ms, r.p95_ms, r.p99_ms) == (9.5, 12.0, 15.25, 30.0)
    assert r.max_ms == 40.0 and r.mean_ms == 10.01
    assert r.non2xx == 3
    assert r.socket_errors == 3  # read + timeout; wrk's own "status" count is non2xx's business
    assert not r.ok


def test_parse_wrk_refuses_output_without_the_line() -> None:
    with pytest.raises(ValueError, match="WRK_JSON"):
        parse_wrk("Running 10s test\nRequests/sec: 100\n")


def test_a_clean_run_is_ok_and_an_empty_one_is_not() -> None:
    assert result(100).ok
    assert not WrkResult(0, 1.0, 0.0, 0, 0, 0, 0, 0, 0, 0, 0).ok


def test_ratio_to_the_floor() -> None:
    assert ratio(50.0, 1000.0) == 0.05
    assert ratio(1.0, 3.0) == 0.3333
    assert ratio(None, 1000.0) is None
    assert ratio(50.0, None) is None
    assert ratio(50.0, 0.0) is None


def test_floor_summary_is_the_mean_of_its_runs() -> None:
    s = floor_summary([result(1000, p95=8), result(1200, p95=10)], [result(300, p95=3)])
    assert s == {
        "rps": 1100.0,
        "p95_ms": 9.0,
        "p50_ms": 5.0,
        "p95_single_ms": 3.0,
        "runs_rps": [1000, 1200],
    }


def test_floor_runs_before_between_and_after_the_pages() -> None:
    assert floor_order(5, 2) == [None, 0, 1, None, 2, 3, None, 4, None]
    assert floor_order(4, 2) == [None, 0, 1, None, 2, 3, None]
    assert floor_order(1, 6) == [None, 0, None]
    order = floor_order(16, 6)
    assert [i for i in order if i is not None] == list(range(16))
    assert order[0] is None and order[-1] is None
    gaps = "".join("F" if i is None else "p" for i in order).split("F")
    assert max(len(g) for g in gaps) == 6


def sized(queries: int, bytes_: int) -> dict[str, Any]:
    return {"url": "/x/", "status": 200, "queries": queries, "bytes": bytes_, "bytes_gzip": 100}


def served(rps: float, p95_single: float) -> dict[str, Any]:
    return {
        "rps": rps,
        "p50_ms": 20.0,
        "p95_ms": 40.0,
        "p99_ms": 60.0,
        "p95_single_ms": p95_single,
        "p50_single_ms": 10.0,
        "non2xx": 0,
    }


FLOORS = {"small": {"rps": 1000.0}, "large": {"rps": 800.0}}


def entry(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "name": "member home",
        "who": "ruth@demo.circlework.org",
        "how": "/ signed in",
        "anonymous": False,
        "in_process": {"small": sized(9, 5000), "large": sized(9, 7000)},
        "served": {"small": served(200, 30), "large": served(100, 45)},
        "floors": FLOORS,
    }
    args.update(overrides)
    return page_entry(**args)


def test_page_entry_has_the_issues_keys_from_the_large_size() -> None:
    e = entry()
    assert {
        "name",
        "queries_small",
        "queries_large",
        "p50_ms_large",
        "p95_ms_large",
        "p99_ms_large",
        "rps_large",
        "ratio_to_floor",
        "bytes",
    } <= set(e)
    assert e["queries_small"] == 9 and e["queries_large"] == 9
    assert e["rps_large"] == 100 and e["p95_ms_large"] == 40.0
    assert e["ratio_to_floor"] == 0.125  # 100 / the large floor's 800, not the small one's
    assert e["by_size"]["small"]["ratio_to_floor"] == 0.2
    assert e["bytes"] == 7000
    assert e["marks"] == {
        "queries": True,
        "constant_queries": True,
        "bytes": True,
        "ratio": True,
        "p95_single": True,
    }


def test_each_target_fails_on_its_own() -> None:
    m = entry(in_process={"small": sized(9, 5000), "large": sized(13, 70_000)})["marks"]
    assert m["queries"] is False and m["constant_queries"] is False and m["bytes"] is False
    m = entry(in_process={"small": sized(13, 5000), "large": sized(13, 5000)})["marks"]
    assert m["queries"] is False and m["constant_queries"] is True
    m = entry(served={"large": served(79, 50.1)})["marks"]  # 79 / 800 < 0.1
    assert m["ratio"] is False and m["p95_single"] is False
    assert entry(served={"large": served(80, 50.0)})["marks"]["ratio"] is True


def test_bounds_are_inclusive() -> None:
    m = entry(in_process={"small": sized(12, 1), "large": sized(12, int(TARGETS["max_bytes"]))})
    assert m["marks"]["queries"] is True and m["marks"]["bytes"] is True


def test_anonymous_pages_need_three_times_the_share() -> None:
    signed_in = entry(served={"large": served(200, 10)})  # 0.25× the floor
    anonymous = entry(anonymous=True, who="anonymous", served={"large": served(200, 10)})
    assert signed_in["marks"]["ratio"] is True
    assert anonymous["marks"]["ratio"] is False
    assert entry(anonymous=True, served={"large": served(240, 10)})["marks"]["ratio"] is True


def test_only_the_small_size_leaves_the_large_keys_empty() -> None:
    e = entry(in_process={"small": sized(9, 5000)}, served={"small": served(200, 30)})
    assert e["queries_large"] is None and e["ratio_to_floor"] is None and e["rps_large"] is None
    assert e["bytes"] == 5000  # the only size measured
    assert e["marks"] == {
        "queries": True,
        "constant_queries": None,
        "bytes": True,
        "ratio": None,
        "p95_single": None,
    }


def test_a_page_that_failed_in_process_is_not_marked_as_passing() -> None:
    e = entry(in_process={"small": {"status": None, "error": "TemplateSyntaxError"}}, served={})
    assert e["queries_small"] is None and e["bytes"] is None
    assert set(e["marks"].values()) == {None}


def report(database: str, pages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "machine": "2 CPUs",
        "database": database,
        "sizes": {s: {"practitioners": 18, "circles": 4, "rows": 1000} for s in SIZES},
        "floor": {"rps": 800.0, "p95_ms": 9.0},
        "floor_by_size": {s: {"rps": 800.0, "p95_ms": 9.0, "runs_rps": [790, 810]} for s in SIZES},
        "pages": pages,
        "profiles": [
            {
                "page": "member home",
                "size": "large",
                "requests": 50,
                "ms_per_request": 12.5,
                "text": "40% render",
            }
        ],
    }


def test_report_json_is_postgresqls_and_each_database_has_its_file() -> None:
    sqlite, pg = report("sqlite", [entry()]), report("postgresql", [entry()])
    files = report_files([sqlite, pg])
    assert files == {"report-sqlite.json": sqlite, "report-postgresql.json": pg, "report.json": pg}
    assert report_files([sqlite])["report.json"] is sqlite
    json.dumps(files)  # plain JSON all the way down


def test_markdown_has_a_table_row_and_a_bar_per_page_with_its_marks() -> None:
    good = entry(name="good page")
    bad = entry(name="bad page", in_process={"small": sized(9, 5000), "large": sized(20, 9000)})
    md = markdown([report("postgresql", [good, bad])])
    assert "## PostgreSQL" in md
    good_row = next(line for line in md.splitlines() if line.startswith("| good page "))
    bad_row = next(line for line in md.splitlines() if line.startswith("| bad page "))
    assert "✗" not in good_row and good_row.count("✓") == 5
    assert bad_row.count("✗") == 2  # more than 12 queries, and not the same at both sizes
    assert "1 of 2 pages meet every target" in md
    assert md.count("0.125×") == 2  # one bar each
    assert "40% render" in md
    assert "make bench" in md


def test_bar_chart_lengths_grow_with_the_ratio_on_a_log_scale() -> None:
    chart = bar_chart([("a", 0.01, 0.1), ("b", 0.1, 0.1), ("c", None, 0.3)], width=30)
    lines = chart.splitlines()[1:]
    a, b, c = (line.count("█") for line in lines)
    assert (a, b, c) == (10, 20, 0)  # one decade = 10 cells at width 30
    assert "not measured" in lines[2]
    assert all(("|" in line) or ("┃" in line) for line in lines)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 404 if self.path == "/missing" else 200
        body = b"hello"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (bin/ensure-wrk)")
def test_the_wrk_script_reports_what_parse_wrk_reads(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script = tmp_path / "report.lua"
    script.write_text(WRK_SCRIPT)
    try:
        port = server.server_address[1]
        kw: dict[str, Any] = {"threads": 1, "connections": 1, "duration": 1, "script": script}
        ok = wrk(port, "/", {}, **kw)
        missing = wrk(port, "/missing", {}, **kw)
    finally:
        server.shutdown()
    assert ok.requests > 0 and ok.non2xx == 0 and ok.ok
    assert ok.p50_ms <= ok.p95_ms <= ok.p99_ms <= ok.max_ms
    assert missing.requests > 0 and missing.non2xx == missing.requests and not missing.ok


def test_marks_read_a_report_page_as_stored() -> None:
    stored = json.loads(json.dumps(entry(served={"large": served(50, 60)})))
    assert marks(stored) == stored["marks"]
    assert marks(stored)["ratio"] is False and marks(stored)["p95_single"] is False


class _Frame:
    def __init__(self, path: str, time: float, children: list[_Frame] | None = None) -> None:
        self.file_path = path
        self.time = time
        self.children = children or []


def test_profile_areas_put_each_sample_in_its_file_and_built_ins_in_their_callers() -> None:
    site = "/venv/site-packages"
    root = _Frame(
        f"{site}/django/core/handlers/base.py",
        10.0,
        [
            _Frame(
                f"{site}/django/db/backends/utils.py",
                4.0,
                [_Frame("<built-in>", 3.0), _Frame("", 1.0)],  # a C call, and its own time
            ),
            _Frame(f"{site}/django/template/base.py", 3.0),
            _Frame("/work/circlework/links/selectors.py", 2.0),
            _Frame("/usr/lib/python3.11/copy.py", 1.0),
        ],
    )
    assert area_of(f"{site}/django/db/models/sql/compiler.py").startswith("ORM")
    assert areas(root) == {
        "database driver and waiting": 0.4,
        "templates": 0.3,
        "Circlework's own code": 0.2,
        "other": 0.1,
    }


# --- the page cache: first view (off) and repeat view (on) -------------------------------------


CACHED_KEYS = {
    "p50_ms_large_cached",
    "p95_ms_large_cached",
    "p99_ms_large_cached",
    "rps_large_cached",
    "ratio_to_floor_cached",
    "p95_single_ms_large_cached",
}


def test_the_page_cache_is_measured_both_ways_by_default_off_first() -> None:
    assert parse_args([]).page_cache == "both"
    assert page_cache_modes("both") == [False, True]
    assert page_cache_modes("off") == [False]
    assert page_cache_modes("on") == [True]
    assert parse_args(["--page-cache", "off"]).page_cache == "off"
    with pytest.raises(SystemExit):
        parse_args(["--page-cache", "maybe"])
    assert app_log_name("large", False) == "app-large.log"
    assert app_log_name("large", True) != app_log_name("large", False)


def test_output_directory_defaults_to_bench(tmp_path: Path) -> None:
    assert parse_args([]).output == Path(__file__).resolve().parents[2] / "bench"
    assert parse_args(["--output", str(tmp_path)]).output == tmp_path


def test_in_process_and_the_floor_draw_every_page(tmp_path: Path) -> None:
    env = bench_environment("sqlite", tmp_path, "")
    assert env[PAGE_CACHE_ENV] == "0"  # the pages' servers set their own


def test_cached_keys_sit_beside_the_uncached_ones_which_stay_the_first_view() -> None:
    e = entry(served_cached={"small": served(600, 8), "large": served(400, 9)})
    assert set(e) >= CACHED_KEYS
    assert e["rps_large"] == 100 and e["ratio_to_floor"] == 0.125  # first view, as before
    assert e["rps_large_cached"] == 400 and e["ratio_to_floor_cached"] == 0.5
    assert e["p95_ms_large_cached"] == 40.0 and e["p95_single_ms_large_cached"] == 9
    assert e["by_size"]["small"]["ratio_to_floor_cached"] == 0.6
    assert e["by_size"]["large"]["rps_cached"] == 400
    # the targets are marked on the first view
    assert e["marks"] == entry()["marks"]
    json.dumps(e)


def test_without_a_repeat_view_the_cached_keys_are_empty() -> None:
    e = entry()
    assert all(e[k] is None for k in CACHED_KEYS)
    assert "rps_cached" not in e["by_size"]["large"]


def test_only_the_repeat_view_measured() -> None:
    e = entry(served={}, served_cached={"large": served(400, 9)})
    assert e["rps_large"] is None and e["ratio_to_floor"] is None
    assert e["rps_large_cached"] == 400
    assert e["marks"]["ratio"] is None


def test_markdown_shows_the_repeat_view_when_measured() -> None:
    both = entry(name="cached page", served_cached={"large": served(400, 9)})
    md = markdown([report("postgresql", [both])])
    assert "repeat view (page cache on)" in md
    row = next(line for line in md.splitlines() if line.startswith("| cached page "))
    header = next(line for line in md.splitlines() if line.startswith("| page |"))
    assert row.count("|") == header.count("|")
    assert "0.500" in row and "400" in row
    assert "first view" in md and md.count("0.500×") == 1  # the repeat view's own bar chart
    plain = markdown([report("postgresql", [entry(name="plain page")])])
    assert "repeat view (page cache on)" not in plain
    plain_row = next(line for line in plain.splitlines() if line.startswith("| plain page "))
    assert plain_row.count("|") == 14


def test_a_repeat_view_that_was_not_2xx_is_flagged() -> None:
    bad = served(400, 9) | {"non2xx": 3}
    md = markdown([report("postgresql", [entry(name="p", served_cached={"large": bad})])])
    assert "| p ⚠ " in md


def test_served_numbers_add_both_runs_errors() -> None:
    many = result(100)
    one = WrkResult(50, 10.0, 5.0, 2, 2, 3, 4, 5, 6, non2xx=2, socket_errors=1)
    n = served_numbers(many, one)
    assert n["rps"] == 100 and n["p95_single_ms"] == 4 and n["p50_single_ms"] == 2
    assert n["non2xx"] == 2 and n["socket_errors"] == 1 and n["requests"] == 1050


def test_a_repeat_view_sends_back_the_cookies_it_was_given() -> None:
    headers = {"Accept": "text/html", "Cookie": "sessionid=abc"}
    out = with_cookies(headers, {"csrftoken": "xyz"})
    assert out["Cookie"] == "sessionid=abc; csrftoken=xyz"
    assert headers["Cookie"] == "sessionid=abc"  # a copy
    assert with_cookies(out, {"sessionid": "new"})["Cookie"] == "sessionid=new; csrftoken=xyz"
    assert with_cookies({"Accept": "x"}, {}) == {"Accept": "x"}
    assert with_cookies({}, {"a": "1"}) == {"Cookie": "a=1"}


def test_the_shared_gunicorn_starts_answers_and_stops(tmp_path: Path) -> None:
    """bench/server.py through bench/run.py's Gunicorn, on the floor project (no database)."""
    server = Gunicorn("bench.floor.wsgi", {"ALLOWED_HOSTS": "127.0.0.1"}, 1, tmp_path / "f.log")
    try:
        server.start()
        assert len(server.worker_pids()) == 1
        assert server.warm_up("/", {}, 3) == [200, 200, 200]
        assert server.cookies("/", {}) == {}
    finally:
        server.stop()
    assert server.proc is not None and server.proc.poll() is not None


@pytest.mark.parametrize(
    ("load", "says"),
    [((0.9, 1.4), "within the CPU count"), ((1.2, 3.5), "above the CPU count")],
)
def test_the_report_says_whether_other_work_shared_the_machine(
    load: tuple[float, float], says: str
) -> None:
    r = report("postgresql", [entry()])
    r["machine_detail"] = {
        "cpus": 2,
        "load_average": [load[0], 0.0, 0.0],
        "load_average_after": [load[1], 0.0, 0.0],
    }
    md = markdown([r])
    assert says in md
    other = "above" if "within" in says else "within"
    assert f"{other} the CPU count" not in md
