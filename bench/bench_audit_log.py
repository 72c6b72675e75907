"""Measure the console's audit log page over N chained entries, beside bare SQL.

Usage:
  python bench/bench_audit_log.py                      # SQLite in a temp instance, 1M entries
  python bench/bench_audit_log.py --database-url postgresql+psycopg://postgres@127.0.0.1/ba \
      --keystore-url postgresql+psycopg://postgres@127.0.0.1/ba_keys
  python bench/bench_audit_log.py --smoke              # tiny, to check it runs

The PostgreSQL databases must exist; their tables are migrated and emptied first.
Seeding bulk-inserts a valid hash chain (COPY on PostgreSQL, executemany on SQLite)
that looks like a year of traffic: 95% `response.recorded` with a subject ref, 3%
request steps with a request id, the rest token, retention and key acts, their times
rising over the 12 months before the benchmark's moment.

Each page is fetched through the Flask test client by a logged-in privacy officer
(session cookie, role check, the query, Jinja, the page's translations; no socket):
the first page, a page 10,000 entries deep (keyset, `older=`), and the filters by a
common and a rare action, by request, by subject and by one day. Beside them, bare
SQL for the first page (`ORDER BY seq DESC LIMIT 51`) over the same table, and the
chain check as the console runs it (a stretch per request, to the verdict). p50/p95
per page are printed and written as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from seeding import fresh_instance
from sqlalchemy import Engine, insert, text

from feedbackvault.app import Services, create_app
from feedbackvault.domain.audit import AuditRecord, canonical_details, record_hash
from feedbackvault.storage.data_models import AuditEntry

NOW = datetime(2027, 6, 1, tzinfo=UTC)
INSERT_CHUNK = 20_000
RESULTS = Path(__file__).resolve().parent / "results"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PASSWORD = "een lange zin als wachtwoord"
RARE = ("token.created", "retention.swept", "keys.rotated")
STEPS = ("request.created", "request.verified", "request.fulfilled")


def records(entries: int) -> Iterator[AuditRecord]:
    """Yield a valid chain of entries spread evenly over the year before NOW."""
    start = NOW - timedelta(days=365)
    step = timedelta(days=365) / max(entries, 1)
    prev = "0" * 64
    for seq in range(1, entries + 1):
        kind = seq % 100
        if kind < 95:
            action, subject, request = "response.recorded", f"{seq % 400_000:032x}", None
        elif kind < 98:
            action, subject, request = STEPS[seq % 3], None, f"req-{seq // 300:08d}"
        else:
            action, subject, request = RARE[seq % 3], None, None
        unsealed = AuditRecord(
            seq=seq,
            at=start + step * seq,
            actor="token:survey-frontend" if action == "response.recorded" else "token:dpo",
            action=action,
            subject_ref=subject,
            request_id=request,
            details=canonical_details({"survey_id": "checkout-2026"}),
            prev_hash=prev,
            hash="",
        )
        sealed = replace(unsealed, hash=record_hash(unsealed))
        prev = sealed.hash
        yield sealed


def chunks(entries: int) -> Iterator[list[dict[str, Any]]]:
    """Group the entries into insert batches."""
    batch: list[dict[str, Any]] = []
    for record in records(entries):
        batch.append(vars(record))
        if len(batch) == INSERT_CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(services: Services, entries: int) -> tuple[int, str]:
    """Insert the chain and move its head; return the head's seq and hash."""
    engine = services.databases.data_engine
    last: dict[str, Any] = {"seq": 0, "hash": "0" * 64}
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for batch in chunks(entries):
                columns = list(batch[0])
                with cursor.copy(f"COPY audit_entry ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in batch:
                        copy.write_row(
                            [
                                v.replace(tzinfo=None) if isinstance(v, datetime) else v
                                for v in (row[c] for c in columns)
                            ]
                        )
                last = batch[-1]
            raw.commit()
        finally:
            raw.close()
    else:
        for batch in chunks(entries):
            with services.stores.data() as unit:
                unit.session.execute(insert(AuditEntry), batch)
            last = batch[-1]
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_head SET seq = :seq, hash = :hash"),
            {"seq": last["seq"], "hash": last["hash"]},
        )
    return int(last["seq"]), str(last["hash"])


def analyse(engine: Engine) -> None:
    """Refresh the planner's statistics after the bulk load."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def timed(call: Callable[[], object], repeats: int, warmup: int = 3) -> dict[str, float]:
    """Run a call `warmup` then `repeats` times and return p50/p95/min in milliseconds."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))], 1),
        "min_ms": round(samples[0], 1),
    }


def officer_client(services: Services) -> Any:
    """Log a new privacy officer in through the console's forms; return their test client."""
    settings = replace(services.settings, secret_key=secrets.token_urlsafe(48))
    client = create_app(settings, services=services).test_client()
    one_time = services.accounts.create("bench@voorbeeld.nl", "privacy_officer", name="Bench")

    def post(path: str, data: dict[str, str]) -> None:
        token = CSRF.search(client.get(path).get_data(as_text=True))
        assert token, path
        answer = client.post(path, data={"csrf_token": token.group(1), **data})
        assert answer.status_code == 302, (path, answer.status_code)

    post("/console/login", {"email": "bench@voorbeeld.nl", "password": one_time})
    change = {"current_password": one_time, "new_password": PASSWORD, "confirm": PASSWORD}
    post("/console/account/password", change)
    return client


def measure(services: Services, entries: int, repeats: int) -> dict[str, Any]:
    """Time each page (checking it lists entries) and the bare SQL of the first page."""
    client = officer_client(services)
    middle = NOW - timedelta(days=180)
    deep = max(entries - 10_000, 2)
    pages = {
        "first_page": "/console/audit",
        "10k_deep": f"/console/audit?older={deep}",
        "action_common": "/console/audit?action=response.recorded",
        "action_rare": "/console/audit?action=keys.rotated",
        "request": f"/console/audit?request=req-{(entries // 2) // 300:08d}",
        "subject": "/console/audit?subject=" + f"{(entries // 2) % 400_000:032x}",
        "one_day": f"/console/audit?from={middle:%Y-%m-%d}&to={middle:%Y-%m-%d}",
    }
    result: dict[str, Any] = {}
    for name, path in pages.items():

        def get(path: str = path) -> None:
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code)
            assert b'<table class="audit">' in answer.data, path

        result[name] = timed(get, repeats)
    engine = services.databases.data_engine

    def bare() -> object:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT * FROM audit_entry ORDER BY seq DESC LIMIT 51")
            ).all()

    result["bare_sql_first_page"] = timed(bare, repeats)
    result["first_page_ratio_to_bare_sql"] = round(
        result["first_page"]["p50_ms"] / max(result["bare_sql_first_page"]["p50_ms"], 0.1), 1
    )
    # Verify the chain as the console does: a stretch per request, to the verdict.
    started, slowest = time.perf_counter(), 0.0
    path, requests_made = "/console/audit/verify?lang=en", 0
    while True:
        begun = time.perf_counter()
        check = client.get(path)
        slowest = max(slowest, time.perf_counter() - begun)
        requests_made += 1
        assert check.status_code == 200
        more = re.search(rb'href="(/console/audit/verify\?at=[^"]+)"', check.data)
        if more is None:
            break
        path = more.group(1).decode().replace("&amp;", "&")
    result["verify_chain"] = {
        "total_s": round(time.perf_counter() - started, 1),
        "requests": requests_made,
        "slowest_request_s": round(slowest, 1),
    }
    # The seeded chain, then the officer's account, login and password change.
    intact = re.search(rb"intact up to #(\d+)", check.data)
    assert intact, "the seeded chain should verify intact"
    assert int(intact.group(1)) >= entries
    return result


def main() -> None:
    """Seed, time the pages beside bare SQL, print and write the result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--keystore-url")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--smoke", action="store_true", help="20,000 entries, 5 repeats")
    args = parser.parse_args()
    if args.smoke:
        args.entries, args.repeats = 20_000, 5
    if bool(args.database_url) != bool(args.keystore_url):
        parser.error("--database-url and --keystore-url go together")

    with fresh_instance("bench-audit-", NOW, args.database_url, args.keystore_url) as services:
        engine = services.databases.data_engine
        dialect = engine.dialect.name
        print(f"{dialect}: seeding {args.entries:,} audit entries ...", flush=True)
        started = time.perf_counter()
        seed(services, args.entries)
        analyse(engine)
        print(f"seeded in {time.perf_counter() - started:.1f}s; timing ...", flush=True)
        result: dict[str, Any] = {
            "benchmark": "GET /console/audit (Flask test client, logged-in privacy officer)",
            "dialect": dialect,
            "entries": args.entries,
            "repeats": args.repeats,
            "timing": measure(services, args.entries, args.repeats),
        }

    result |= {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result, indent=2))
    if not args.smoke:
        RESULTS.mkdir(exist_ok=True)
        name = f"audit-log-{dialect}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
        (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
