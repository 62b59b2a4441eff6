"""Benchmark of the foundation's key pages: queries, bytes and time per request as data grows.

Builds the demo federation plus N extra circles of 6 members in a scratch SQLite database, then
requests each key page through Django's test client. Writes bench/reports/foundation.md.
Run with `make bench`. Times are for comparison between runs on one machine, not for tests.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
scratch = Path(tempfile.mkdtemp()) / "bench.sqlite3"
os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

REPEAT = 30


def build(extra_circles: int) -> None:
    from circlework.circles.models import Federation
    from tests import factories

    federation = Federation.objects.get(slug="northern-practitioners-network")
    for i in range(extra_circles):
        founder = factories.make_practitioner(f"Bench Founder {i}")
        members = [factories.make_practitioner() for _ in range(5)]
        factories.make_circle(
            founder=founder, federation=federation, members=members, name=f"Bench Circle {i}"
        )


def measure(client: Client, url: str) -> tuple[int, int, float, float]:
    client.get(url)
    executed: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        executed.append(sql)
        return execute(sql, params, many, context)

    # An execute wrapper counts across the connection being closed at the end of the request.
    with connection.execute_wrapper(count):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return (
        len(executed),
        len(response.content),
        statistics.median(times),
        times[int(len(times) * 0.95) - 1],
    )


def main() -> None:
    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    from circlework.accounts.models import Practitioner

    ruth = Practitioner.objects.get(user__email="ruth@demo.circlework.org")
    rows: list[str] = []
    for extra in (0, 40):
        if extra:
            build(extra)
        client = Client()
        client.force_login(ruth.user)
        anon = Client()
        pages = [
            ("home (signed in)", client, "/"),
            ("circle overview", client, "/circles/leeds-wednesday-circle/"),
            ("circle history", client, "/circles/leeds-wednesday-circle/history/"),
            ("circle invitations", client, "/circles/leeds-wednesday-circle/invitations/"),
            ("federation", client, "/federations/northern-practitioners-network/"),
            (
                "federation notices",
                client,
                "/federations/northern-practitioners-network/notices/",
            ),
            ("inbox", client, "/me/notifications/"),
            ("profile preview", client, "/me/profile/preview/?as=public"),
            ("practitioner profile", anon, f"/practitioners/{ruth.pk}/"),
            ("API circles list", anon, "/api/v1/circles"),
        ]
        from circlework.circles.models import Circle

        for label, c, url in pages:
            q, size, median, p95 = measure(c, url)
            rows.append(
                f"| {Circle.objects.count()} | {label} | `{url}` | {q} | {size / 1024:.1f} | {median:.1f} | {p95:.1f} |"
            )
    report = ROOT / "bench" / "reports" / "foundation.md"
    report.write_text(
        "# Foundation benchmark\n\n"
        f"Django test client, SQLite, {REPEAT} requests per page after one warm-up; "
        "times in ms (median, p95). Circles = circles in the database.\n\n"
        "| circles | page | url | SQL queries | KB | median ms | p95 ms |\n|---|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\nTargets: ≤ 20 queries per key page whatever the data size (the federation page and the API list "
        "grow in rows, not in queries), ≤ 60 KB per page.\n"
    )
    print(report.read_text())


if __name__ == "__main__":
    main()
