"""Measure `GET /api/v1/scores` grouped by month over N responses, beside bare SQL.

Usage:
  python bench/bench_scores.py                       # SQLite in a temp instance, 1M responses
  python bench/bench_scores.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_scores \
      --keystore-url postgresql+psycopg://postgres@127.0.0.1/bench_scores_keys
  python bench/bench_scores.py --smoke               # tiny, to check it runs
  python bench/bench_scores.py --index ...           # also measure with a covering index

The PostgreSQL databases must exist; their tables are migrated and emptied first.
Seeding bulk-inserts (COPY on PostgreSQL, executemany on SQLite) rows that look
real: one survey, six touchpoints, created_at spread over the 12 months before
the benchmark's moment, 60% service-improvement, 30% product-research and 10%
support-follow-up (which may not be aggregated), every answer scored, half the
responses with a subject and ciphertext-sized personal fields, one consent per
response (the query joins them). Every expiry lies after the benchmark's moment,
so every aggregatable row counts: the worst case for the query.

Every closed day is released first (timed on its own: the endpoint's first call
would do it), then the endpoint is timed through the Flask test client (in
process: routing, authentication, parsing, reading the release cells, the
estimates, scoring, the audit append and JSON, but no socket), then a bare SQL
NPS over the same survey's rows with no filters or joins, both N times after a
warm-up; p50/p95 and their ratio are printed and written as JSON to
bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from seeding import fresh_instance
from sqlalchemy import Engine, insert, text

from feedbackvault.app import Services, create_app
from feedbackvault.domain.ids import new_id
from feedbackvault.storage.data_models import Consent, Response, Subject

NOW = datetime(2027, 6, 1, tzinfo=UTC)
SURVEY = "checkout-2026"
TOUCHPOINTS = ("checkout", "delivery", "returns", "support", "app", "store")
INSERT_CHUNK = 20_000
RESULTS = Path(__file__).resolve().parent / "results"
BARE_NPS = (
    "SELECT 100.0 * (SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END)"
    " - SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END)) / COUNT(nps)"
    " FROM response WHERE survey_id = :survey"
)
BARE_NPS_BY_MONTH = (
    "SELECT created_month, 100.0 * (SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END)"
    " - SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END)) / COUNT(nps)"
    " FROM response WHERE survey_id = :survey GROUP BY created_month"
)


# How far back responses are spread (--days; the figure is 3 years).
SPAN_DAYS = 365


def rows(responses: int) -> Iterator[tuple[dict[str, Any] | None, dict[str, Any], dict[str, Any]]]:
    """Yield (subject or None, consent, response) rows that look like real traffic."""
    rng = random.Random(20261124)
    purposes = ["service-improvement"] * 6 + ["product-research"] * 3 + ["support-follow-up"]
    for index in range(responses):
        recorded = NOW - timedelta(seconds=rng.randrange(SPAN_DAYS * 86_400))
        purpose = purposes[index % 10]
        # Ids as the service makes them: time-ordered, from the moment of recording.
        subject_id = new_id(recorded) if index % 2 == 0 else None
        consent_id = new_id(recorded)
        subject = {"id": subject_id, "created_at": recorded} if subject_id else None
        consent = {
            "id": consent_id,
            "subject_id": subject_id,
            "purpose": purpose,
            "notice_version": "2026-01",
            "given_at": recorded,
            "recorded_at": recorded,
            "expires_at": NOW + timedelta(days=400),
            "withdrawn_at": None,
            "withdraw_token_hash": os.urandom(32),
            "receipt_signature": "s" * 88,
        }
        # Skewed like real NPS answers: many 8-10s, a tail of detractors.
        nps = min(10, max(0, round(rng.gauss(7.8, 2.2))))
        response = {
            "id": new_id(recorded),
            "subject_id": subject_id,
            "consent_id": consent_id,
            "consent_expires_at": consent["expires_at"],
            "survey_id": SURVEY,
            "purpose": purpose,
            "touchpoint": TOUCHPOINTS[rng.randrange(len(TOUCHPOINTS))],
            "locale": "nl-NL",
            "nps": nps if purpose != "support-follow-up" else None,
            "csat": 1 + rng.randrange(5),
            "ces": 1 + rng.randrange(7),
            # Ciphertext sizes of a typical email, name, customer id and comment.
            "email_ct": os.urandom(62) if subject_id else None,
            "name_ct": os.urandom(52) if subject_id else None,
            "customer_id_ct": os.urandom(38) if subject_id else None,
            "comment_ct": os.urandom(140) if subject_id and index % 4 == 0 else None,
            "created_at": recorded,
            "created_month": date(recorded.year, recorded.month, 1),
            "expires_at": NOW + timedelta(days=1 + rng.randrange(365)),
            "anonymised_at": None,
        }
        yield subject, consent, response


def chunks(responses: int) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Group the rows into insert batches per table."""
    batch: dict[str, list[dict[str, Any]]] = {"subject": [], "consent": [], "response": []}
    for subject, consent, response in rows(responses):
        if subject:
            batch["subject"].append(subject)
        batch["consent"].append(consent)
        batch["response"].append(response)
        if len(batch["response"]) == INSERT_CHUNK:
            yield batch
            batch = {"subject": [], "consent": [], "response": []}
    if batch["response"]:
        yield batch


def seed_sqlite(services: Services, responses: int) -> None:
    """Insert the rows with executemany, a chunk per transaction."""
    for batch in chunks(responses):
        with services.stores.data() as unit:
            if batch["subject"]:
                unit.session.execute(insert(Subject), batch["subject"])
            unit.session.execute(insert(Consent), batch["consent"])
            unit.session.execute(insert(Response), batch["response"])


def seed_postgresql(engine: Engine, responses: int) -> None:
    """Stream the rows in with COPY, one transaction."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for batch in chunks(responses):
            for table in ("subject", "consent", "response"):
                if not batch[table]:
                    continue
                columns = list(batch[table][0])
                # Stored datetimes are naive UTC (storage/types.py).
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in batch[table]:
                        copy.write_row(
                            [
                                v.replace(tzinfo=None) if isinstance(v, datetime) else v
                                for v in (row[c] for c in columns)
                            ]
                        )
        raw.commit()
    finally:
        raw.close()


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


def measure(services: Services, repeats: int) -> dict[str, Any]:
    """Time the endpoint and the bare SQL; check the endpoint answered what the SQL says."""
    client = create_app(services=services).test_client()
    headers = {"Authorization": f"Bearer {services.tokens.create('analyst', uuid.uuid4().hex)}"}
    query = {"survey_id": SURVEY, "metric": "nps", "group_by": "month"}
    answers: list[Any] = []

    def endpoint() -> None:
        response = client.get("/api/v1/scores", query_string=query, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        answers.append(response.get_json())

    engine = services.databases.data_engine

    def bare(sql: str) -> Callable[[], object]:
        def run() -> object:
            with engine.connect() as connection:
                return connection.execute(text(sql), {"survey": SURVEY}).all()

        return run

    result = {
        "endpoint": timed(endpoint, repeats),
        "bare_sql": timed(bare(BARE_NPS), repeats),
        "bare_sql_by_month": timed(bare(BARE_NPS_BY_MONTH), repeats),
    }
    answer = answers[-1]
    result["overall_n"] = answer["overall"]["n"] if answer["overall"] else None
    result["groups"] = len(answer["groups"])
    result["ratio_to_bare_sql"] = round(
        result["endpoint"]["p50_ms"] / result["bare_sql"]["p50_ms"], 2
    )
    return result


def main() -> None:
    """Seed, time the endpoint beside bare SQL, print and write the result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--keystore-url")
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--days", type=int, default=365, help="days the responses span")
    parser.add_argument("--smoke", action="store_true", help="2,000 responses, 5 repeats")
    args = parser.parse_args()
    global SPAN_DAYS
    SPAN_DAYS = args.days
    if args.smoke:
        args.responses, args.repeats = 2_000, 5
    if bool(args.database_url) != bool(args.keystore_url):
        parser.error("--database-url and --keystore-url go together")

    with fresh_instance(
        "bench-scores-", NOW, args.database_url, args.keystore_url, ("data",)
    ) as services:
        engine = services.databases.data_engine
        dialect = engine.dialect.name
        print(f"{dialect}: seeding {args.responses:,} responses ...", flush=True)
        started = time.perf_counter()
        if dialect == "postgresql":
            seed_postgresql(engine, args.responses)
        else:
            seed_sqlite(services, args.responses)
        analyse(engine)
        print(f"seeded in {time.perf_counter() - started:.1f}s; releasing ...", flush=True)
        # Analysts read releases: every closed day is released once, first (the endpoint
        # would do it on its first call), and that one-off cost is reported on its own.
        started = time.perf_counter()
        published = services.releases.publish_closed_days()
        release_all_ms = round((time.perf_counter() - started) * 1000, 1)
        print(f"released {published.days} days in {release_all_ms} ms; timing ...", flush=True)
        result: dict[str, Any] = {
            "benchmark": "GET /api/v1/scores?metric=nps&group_by=month (Flask test client)",
            "dialect": dialect,
            "responses": args.responses,
            "days": args.days,
            "release_all_closed_days_ms": release_all_ms,
            "repeats": args.repeats,
            "timing": measure(services, args.repeats),
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
        name = f"scores-{dialect}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
        (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
