"""Time the console's request queue and a request's page over 10,000 requests.

Seeds `--requests` data-subject requests through `SubjectRightsService.create`
(a third of them made overdue by moving the clock), logs a privacy officer in
and times server-rendered pages through the app in-process (no network, so the
numbers are the app's and the database's): the queue's first page, the
overdue filter and one request's page, beside the API's own listing of 50
requests over the same store as a baseline. Prints p50 and p95 per page.
The target (issue 21) is p95 <= 100 ms for the queue at 10,000 requests.

    python bench/bench_console.py [--pg-url ADMIN_URL] [--requests 10000] [--repeat 50] [--smoke]
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_ingest import database_urls

TARGET_P95_MS = 100.0
PASSWORD = "bench password of some length"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class SteppedClock:
    """A clock the seeding moves forward, so requests have spread-out due dates."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        """Return the current moment."""
        return self.moment


def percentile(samples: list[float], share: float) -> float:
    """Return the nearest-rank percentile of `samples`."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def run(
    database: str, pg_url: str | None, count: int, repeat: int
) -> list[tuple[str, float, float]]:
    """Seed `count` requests on one database and time each page `repeat` times."""
    from feedbackvault.app import Services, create_app
    from feedbackvault.crypto.keys import FileKeyProvider
    from feedbackvault.settings import Settings
    from feedbackvault.storage.database import Databases
    from feedbackvault.storage.migrate import upgrade

    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fvbench-")))
        urls = stack.enter_context(database_urls(database, pg_url, workdir))
        instance = workdir / "instance"
        instance.mkdir()
        FileKeyProvider.initialise(instance / "keys")
        env = {
            "FEEDBACKVAULT_INSTANCE_DIR": str(instance),
            "FEEDBACKVAULT_DATABASE_URL": urls["data"],
            "FEEDBACKVAULT_KEYSTORE_URL": urls["keys"],
            "FEEDBACKVAULT_SECRET_KEY": secrets.token_urlsafe(48),
            "FEEDBACKVAULT_LOG_LEVEL": "WARNING",
        }
        settings = Settings.from_env(env)
        databases = Databases.from_urls(settings.database_url, settings.keystore_url)
        upgrade(databases)
        databases.dispose()
        clock = SteppedClock(datetime(2026, 10, 1, 9, 0, tzinfo=UTC))
        services = Services.build(settings, clock=clock)
        stack.callback(services.databases.dispose)
        started = time.perf_counter()
        kinds = ("access", "erasure", "rectification")
        last = ""
        for number in range(count):
            # Spread over 45 days: about a third end up overdue at the end.
            clock.moment += timedelta(seconds=45 * 86_400 / count)
            state = services.subject_rights.create(
                kinds[number % 3], {"customer_id": f"C-{number}"}, None, "token:bench"
            )
            last = state.id
        seeded = time.perf_counter() - started
        one_time = services.accounts.create("bench@voorbeeld.nl", "privacy_officer")
        account = services.accounts.login("bench@voorbeeld.nl", one_time)
        services.accounts.change_password(account.id, one_time, PASSWORD)
        token = services.tokens.create("privacy_officer", "bench")
        app = create_app(services=services)
        browser = app.test_client()
        login_page = browser.get("/console/login").get_data(as_text=True)
        found = CSRF.search(login_page)
        assert found, "the login page has no CSRF token"
        answer = browser.post(
            "/console/login",
            data={
                "csrf_token": found.group(1),
                "email": "bench@voorbeeld.nl",
                "password": PASSWORD,
            },
        )
        assert answer.status_code == 302, answer.status_code
        api = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        pages: list[tuple[str, Callable[[], int]]] = [
            ("API listing, 50 (baseline)",
             lambda: api.get("/api/v1/privacy/requests?limit=50", headers=headers).status_code),
            ("console queue, first page", lambda: browser.get("/console/requests").status_code),
            ("console queue, overdue",
             lambda: browser.get("/console/requests?status=overdue").status_code),
            ("console request page", lambda: browser.get(f"/console/requests/{last}").status_code),
        ]  # fmt: skip
        print(f"{database}: seeded {count} requests in {seeded:.1f} s")
        results = []
        for name, fetch in pages:
            assert fetch() == 200, name  # warm caches and compiled templates once
            samples = []
            for _ in range(repeat):
                began = time.perf_counter()
                assert fetch() == 200, name
                samples.append((time.perf_counter() - began) * 1000)
            results.append((name, statistics.median(samples), percentile(samples, 0.95)))
        return results


def main() -> int:
    """Run on SQLite, and on PostgreSQL when an admin URL is given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pg-url", help="PostgreSQL admin URL; fresh databases are made and dropped"
    )
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, to keep the bench working"
    )
    args = parser.parse_args()
    if args.smoke:
        args.requests, args.repeat = 150, 5
    databases = ["sqlite", *(["postgresql"] if args.pg_url else [])]
    failed = False
    for database in databases:
        for name, p50, p95 in run(database, args.pg_url, args.requests, args.repeat):
            verdict = (
                "" if "baseline" in name else ("  ok" if p95 <= TARGET_P95_MS else "  OVER TARGET")
            )
            failed |= verdict == "  OVER TARGET"
            print(f"  {name:<30} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms{verdict}")
    return 1 if failed and not args.smoke else 0


if __name__ == "__main__":
    sys.exit(main())
