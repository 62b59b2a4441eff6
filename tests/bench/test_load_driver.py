"""The load driver's pure parts (bench/load.py): rate scheduling, percentiles, fault windows and
the accounting of lost writes. The load run itself is `make load`, never part of the suite."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.load import (
    DB_NAME,
    LARGE,
    MIX,
    Actor,
    Attempt,
    BallotWrite,
    Builder,
    CircleInfo,
    Outcome,
    Poll,
    Window,
    World,
    WriteRecord,
    _scale_text,
    account_ballots,
    account_writes,
    allocate,
    latency_summary,
    parse_args,
    percentile,
    plan,
    schedule,
    server_errors,
    summarise,
    window_of,
)


def ok(at: float = 1.0, status: int = 201) -> Attempt:
    return Attempt(at, at + 0.05, status)


def failed(at: float = 1.0, status: int | None = None) -> Attempt:
    return Attempt(at, at + 0.05, status, "ConnectionResetError")


# --- scheduling -------------------------------------------------------------------------------


def test_schedule_is_evenly_spaced_at_the_rate() -> None:
    times = schedule(40, 60)
    assert len(times) == 2400
    assert times[0] == 0
    assert times[-1] < 60
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(times)}
    assert gaps == {0.025}


def test_schedule_of_nothing() -> None:
    assert schedule(0, 60) == []
    assert schedule(10, 0) == []


@given(st.integers(0, 5000), st.dictionaries(st.sampled_from("abcdef"), st.floats(0.01, 10)))
def test_allocate_splits_the_total_exactly(total: int, shares: dict[str, float]) -> None:
    if not shares:
        return
    counts = allocate(total, shares)
    assert sum(counts.values()) == total
    weight = sum(shares.values())
    for key, share in shares.items():
        assert abs(counts[key] - total * share / weight) < 1


def test_plan_has_the_mix_it_says_and_is_reproducible() -> None:
    run = plan(15, 60, MIX, seed=5)
    assert [t for t, _ in run] == schedule(15, 60)
    kinds = [k for _, k in run]
    assert {k: kinds.count(k) for k in MIX} == {"read": 540, "write": 225, "bad": 135}
    assert plan(15, 60, MIX, seed=5) == run
    assert plan(15, 60, MIX, seed=6) != run


# --- percentiles ------------------------------------------------------------------------------


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # unsorted on purpose
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7
    assert percentile([], 50) is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2


@given(st.lists(st.floats(0, 1e6), min_size=1), st.floats(0.1, 100))
def test_percentile_is_a_value_with_p_percent_at_or_below(values: list[float], p: float) -> None:
    result = percentile(values, p)
    assert result in values
    at_or_below = sum(1 for v in values if v <= result)
    assert at_or_below / len(values) >= p / 100 - 1e-9
    assert percentile(values, min(100.0, p + 5)) >= result  # type: ignore[operator]


def test_latency_summary_in_milliseconds() -> None:
    summary = latency_summary([0.010, 0.020, 0.030, 1.5])
    assert summary == {
        "count": 4,
        "p50_ms": 20.0,
        "p95_ms": 1500.0,
        "p99_ms": 1500.0,
        "max_ms": 1500.0,
    }
    assert latency_summary([])["p99_ms"] is None


# --- fault windows and the split between steady-state and fault errors ------------------------


def test_window_of_counts_any_overlap() -> None:
    windows = [Window("db", 10.0, 12.0), Window("kill", 30.0, 31.0)]
    assert window_of(9.0, 9.9, windows) is None
    assert window_of(9.0, 10.0, windows) == "db"  # in flight when the fault started
    assert window_of(11.0, 11.5, windows) == "db"
    assert window_of(12.0, 13.0, windows) == "db"
    assert window_of(12.01, 13.0, windows) is None
    assert window_of(29.5, 40.0, windows) == "kill"


def test_summarise_separates_fault_window_errors_from_steady_state() -> None:
    windows = [Window("db", 10.0, 12.0)]
    outcomes = [
        Outcome(0, "read:api", "200", 1.0, [ok(1.0, 200)]),
        Outcome(1, "read:api", "200", 10.5, [failed(10.5, 500)]),  # in the window
        Outcome(2, "write:comment", "2xx", 11.0, [failed(11.0), failed(11.5), ok(12.5)]),
        Outcome(3, "read:home-member", "200", 20.0, [failed(20.0, 502)]),  # steady state
        Outcome(4, "bad:wrong-type", "4xx", 21.0, [ok(21.0, 422)]),
        Outcome(5, "bad:oversize-text", "4xx", 22.0, [ok(22.0, 201)]),  # accepted: an error
        Outcome(6, "bad:malformed-json", "4xx", 11.0, [failed(11.0, 500)]),  # database down
    ]
    summary = summarise(outcomes, windows, elapsed=30.0)
    assert summary["requests_tried"] == 7
    assert summary["attempts_including_retries"] == 9
    assert summary["fault_window_errors"] == {
        "db": {"read:api → 500": 1, "write:comment → no response": 2, "bad:malformed-json → 500": 1}
    }
    assert [(e["seq"], e["status"]) for e in summary["steady_state_errors"]] == [(3, 502), (5, 201)]
    assert summary["bad_inputs_tried"] == 3
    assert summary["bad_input_statuses_in_fault_windows"] == {"bad:malformed-json": {"500": 1}}
    assert summary["bad_input_statuses"] == {
        "bad:oversize-text": {"201": 1},
        "bad:wrong-type": {"422": 1},
    }
    # latency from the scheduled time to the final answer, retries included
    assert summary["latency_by_kind"]["write:comment"]["max_ms"] == 1550.0
    assert summary["latency_steady_state"]["count"] == 4


# --- lost-write accounting --------------------------------------------------------------------


def test_an_acknowledged_write_that_is_there_is_not_lost() -> None:
    account = account_writes([WriteRecord("m1", "write:comment", [ok()])], {"m1": 1})
    assert (account.acknowledged, account.present, account.lost) == (1, 1, [])


def test_an_acknowledged_write_that_is_missing_is_lost() -> None:
    account = account_writes([WriteRecord("m1", "write:comment", [ok()])], {})
    assert account.lost == ["m1"]


def test_duplicates_after_an_error_are_retry_duplicates_otherwise_defects() -> None:
    writes = [
        WriteRecord("retried", "write:comment", [failed(), failed(status=503), ok()]),
        WriteRecord("clean", "write:comment", [ok()]),
    ]
    account = account_writes(writes, {"retried": 2, "clean": 2})
    assert account.retry_duplicates == 1
    assert account.unexplained_duplicates == ["clean"]
    assert account.lost == []


def test_writes_never_acknowledged_are_reported_not_lost() -> None:
    writes = [
        WriteRecord("committed", "write:position", [failed(), failed()]),
        WriteRecord("absent", "write:position", [failed(), failed()]),
        WriteRecord("refused", "write:position", [Attempt(1, 1.1, 409, "conflict")]),
    ]
    account = account_writes(writes, {"committed": 1})
    assert account.lost == []
    assert account.recorded_without_ack == 1
    assert account.given_up_absent == 2
    assert account.acknowledged == 0


def test_a_marker_the_client_never_sent_is_reported() -> None:
    account = account_writes([WriteRecord("m1", "write:comment", [ok()])], {"m1": 1, "m9": 1})
    assert account.unknown_markers == ["m9"]


def test_a_4xx_before_the_ack_is_not_an_error_that_explains_a_duplicate() -> None:
    record = WriteRecord("m1", "write:comment", [Attempt(1, 1.1, 409, ""), ok()])
    assert not record.failed_before_ack
    assert WriteRecord("m2", "write:comment", [failed(status=500), ok()]).failed_before_ack


def ballot(seq: int, expected: str, attempts: list[Attempt], voter: int = 1) -> BallotWrite:
    return BallotWrite(voter=voter, poll=7, seq=seq, expected=expected, attempts=attempts)


def test_ballots_the_stored_one_is_the_last_acknowledged() -> None:
    writes = [ballot(1, "A", [ok()]), ballot(2, "B", [ok()])]
    good = account_ballots(writes, {(1, 7): "B"}, {(1, 7): 2})
    assert (good.final_matches, good.lost) == (1, [])
    stale = account_ballots(writes, {(1, 7): "A"}, {(1, 7): 2})
    assert len(stale.lost) == 1


def test_ballots_a_later_unacknowledged_ballot_may_be_the_stored_one() -> None:
    writes = [ballot(1, "A", [ok()]), ballot(2, "B", [failed(), failed()])]
    account = account_ballots(writes, {(1, 7): "B"}, {(1, 7): 2})
    assert account.lost == []
    assert account.extra_audit_events == 1


def test_ballots_need_an_audit_event_per_acknowledged_ballot() -> None:
    writes = [ballot(1, "A", [ok()]), ballot(2, "B", [ok()])]
    account = account_ballots(writes, {(1, 7): "B"}, {(1, 7): 1})
    assert account.lost == ["voter 1 on poll 7: 2 acknowledged, 1 audit events"]


# --- building requests ------------------------------------------------------------------------


def small_world() -> World:
    circles = {
        "a": CircleInfo("a", "fed", [1, 2, 3], [10], [Poll(20, "ranked", [1, 2, 3])], [30]),
        "b": CircleInfo("b", "fed", [4, 5], [11], [Poll(21, "time", [4, 5])], [31]),
    }
    actors = [
        Actor(1, "one@x", "t1", "s1", ["a"]),
        Actor(2, "two@x", "t2", "s2", ["a"]),
        Actor(3, "three@x", "t3", "s3", ["a"]),
        Actor(4, "four@x", "t4", "s4", ["b"]),
        Actor(5, "five@x", "t5", "s5", ["b"]),
    ]
    return World(actors=actors, circles=circles, outsider_token="t0")


def test_writes_carry_their_marker_and_never_two_at_once_for_one_practitioner() -> None:
    builder = Builder(small_world(), "abc123", seed=1)
    requests = [builder.build(seq, "write") for seq in range(5)]
    writers = [r.actor for r in requests]
    assert len(set(writers)) == 5 and None not in writers  # every practitioner busy once
    for r in requests:
        assert r.method == "POST" and r.expect == "2xx"
        if r.ballot is None:
            assert r.marker == f"load-abc123-w{r.seq:06d}"
            assert r.body is not None and r.marker.encode() in r.body
    sixth = builder.build(5, "write")  # nobody free: a read instead, and counted
    assert sixth.method == "GET" and builder.writes_deferred == 1
    builder.release(requests[0].actor)
    assert builder.build(6, "write").actor == requests[0].actor


def test_a_voters_successive_ballots_differ() -> None:
    builder = Builder(small_world(), "abc123", seed=1)
    poll = Poll(21, "time", [4, 5])
    shapes = [builder._ballot(poll, (4, 21))[1] for _ in range(20)]
    assert all(a != b for a, b in itertools.pairwise(shapes))
    body, shape = builder._ballot(Poll(20, "ranked", [1, 2, 3]), (1, 20))
    assert json.loads(shape) == body["ranking"]


def test_bad_inputs_expect_a_4xx_and_carry_a_bad_marker() -> None:
    builder = Builder(small_world(), "abc123", seed=3)
    for seq in range(200):
        r = builder.build(seq, "bad")
        assert r.kind.startswith("bad:")
        assert r.expect == "4xx" and r.actor is None
        assert r.marker == f"load-abc123-x{seq:06d}"


def test_server_errors_counts_what_each_request_ended_with(tmp_path) -> None:
    log = tmp_path / "gunicorn.log"
    log.write_text(
        "Internal Server Error: /x\n"
        "Traceback (most recent call last):\n"
        '  File "a.py", line 1, in f\n'
        "psycopg.errors.DeadlockDetected: deadlock detected\n"
        "DETAIL:  Process 1 waits for ShareLock\n"
        "\n"
        "The above exception was the direct cause of the following exception:\n"
        "\n"
        "Traceback (most recent call last):\n"
        '  File "b.py", line 2, in g\n'
        "django.db.utils.OperationalError: deadlock detected\n"
        "Bad Request: /y\n"
    )
    assert server_errors(log) == [("django.db.utils.OperationalError: deadlock detected", 1)]
    assert server_errors(tmp_path / "missing.log") == []


# --- the command line: the data it runs on, a set-up-only run -------------------------------


def test_by_default_the_load_runs_on_the_demo_alone() -> None:
    args = parse_args([])
    assert args.scale is None and args.db_name == DB_NAME
    assert not args.setup_only and args.faults


def test_large_is_make_benchs_large_size() -> None:
    from bench.run import parse_args as bench_args

    assert parse_args(["--large"]).scale == LARGE
    assert LARGE == {"practitioners": 3000, "circles": 400, "records": 300_000}
    assert bench_args([]).large == LARGE


def test_scale_takes_seed_scales_three_numbers() -> None:
    args = parse_args(["--scale", "300, 40,20000", "--setup-only", "--db-name", "cw_h3_load"])
    assert args.scale == {"practitioners": 300, "circles": 40, "records": 20000}
    assert args.setup_only and args.db_name == "cw_h3_load"


@pytest.mark.parametrize(
    "argv",
    [
        ["--scale", "300,40"],
        ["--scale", "300,40,many"],
        ["--scale", "300,-1,20000"],
        ["--large", "--scale", "1,1,1"],
        ["--db-name", "x; DROP DATABASE postgres"],
        ["--db-name", "Load"],
    ],
)
def test_bad_command_lines_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)


def test_the_set_up_says_what_data_it_ran_on() -> None:
    data = {"practitioners": 3018, "circles": 404, "positions": 70282, "rows": 347459}
    text = _scale_text(LARGE, data)
    assert "seed_scale --practitioners 3000 --circles 400 --records 300000 --seed 1" in text
    assert "3,018 practitioners, 404 circles" in text and "347,459 rows" in text
    assert _scale_text(None, None) == ""
    assert "seed_scale" not in _scale_text(None, data)
