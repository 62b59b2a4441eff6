"""gunicorn on loopback, started the same way by the benchmark (bench/run.py) and the load test
(bench/load.py): sync workers, a 30 s timeout, Django's output in one log file, in a session of
its own (so that stopping it stops its workers), ready once it answers and has all its workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 60.0  # seconds for gunicorn to answer with all its workers


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the parent pid is the 2nd field after the parenthesised command name
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry))
    return found


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM to the process's session, SIGKILL if it is still there after 30 s."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def gunicorn_command(app: str, *, workers: int, port: int, log: Path) -> list[str]:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return [
        str(gunicorn),
        app,
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"{HOST}:{port}",
        "--timeout",
        "30",
        "--error-logfile",
        str(log),
    ]


class Gunicorn:
    """A gunicorn server of sync workers on a free loopback port.

    `probe(port)` says whether an answer is the one that means "up"; `start()` waits (polling
    every `poll_every` seconds, up to START_TIMEOUT) for it and for every worker to be there.
    `spawn()` and `wait_ready()` are the two halves, for a caller that starts something else
    in between (the load test's task worker)."""

    def __init__(
        self,
        app: str,
        env: Mapping[str, str],
        workers: int,
        log: Path,
        *,
        probe: Callable[[int], bool],
        poll_every: float,
    ) -> None:
        self.app = app
        self.env = {**os.environ, **env}
        self.workers = workers
        self.log = log
        self.probe = probe
        self.poll_every = poll_every
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.spawn()
        self.wait_ready()

    def spawn(self) -> None:
        command = gunicorn_command(self.app, workers=self.workers, port=self.port, log=self.log)
        with self.log.open("ab") as log:  # Django's own error log goes to the workers' stderr
            self.proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        assert self.proc is not None, "spawn() first"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self.probe(self.port) and len(children(self.proc.pid)) == self.workers:
                return
            time.sleep(self.poll_every)
        raise RuntimeError(f"gunicorn {self.app} did not start; see {self.log}")

    def worker_pids(self) -> set[int]:
        assert self.proc is not None
        return children(self.proc.pid)

    def stop(self) -> None:
        stop_process(self.proc)
