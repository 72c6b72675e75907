"""Measure the follow-up queue (`GET /api/v1/follow-ups`) with 100,000 open items, beside bare SQL.

Usage:
  python bench/bench_follow_up.py                    # SQLite in a temp instance
  python bench/bench_follow_up.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_fu \
      --keystore-url postgresql+psycopg://postgres@127.0.0.1/bench_fu_keys
  python bench/bench_follow_up.py --smoke            # tiny, to check it runs

The PostgreSQL databases must exist; their tables are migrated and emptied first.
Seeding inserts `--open` responses under `support-follow-up` (the purpose with
`follow_up: true`), spread over its 30-day retention, 10 per subject, every
personal field really encrypted under its subject's real data key (the listing
decrypts them), 1% of them already done with an encrypted note; and `--others`
responses under `service-improvement` (no follow-up), half with a subject, which
the queue must pass over.

Timed through the Flask test client (routing, token, parsing, the queue's SQL,
key unwrapping, decryption, the audit entries of every listing, JSON):

- `detractors`: the console's default, unhappy first, first page of 50;
- `newest`: newest first, first page;
- `deep`: the page after 40 pages of `newest` (the keyset cursor of page 41);
- `filtered`: `metric=csat&max_score=2&survey_id=...`, unhappy first;

beside the bare SQL of one page (the newest 50 rows of the purpose, no join, no
decryption, no audit) over the same rows and indexes. With `--without-index`
the endpoint is timed again after dropping `ix_response_follow_up`, to show what
the index buys. p50/p95 are printed and written as JSON to bench/results/.
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
from sqlalchemy import insert, text

from feedbackvault.app import Services, create_app
from feedbackvault.domain.ids import new_id
from feedbackvault.services.collection import seal
from feedbackvault.storage.data_models import (
    FOLLOW_UP_INDEX_WHERE,
    Consent,
    FollowUp,
    Response,
    Subject,
)
from feedbackvault.storage.keystore_models import SubjectKey

NOW = datetime(2027, 6, 1, tzinfo=UTC)
FOLLOW_UP_PURPOSE = "support-follow-up"
SURVEYS = ("support-2027", "returns-2027")
TOUCHPOINTS = ("phone", "chat", "email", "store")
PER_SUBJECT = 10
CHUNK = 10_000
RESULTS = Path(__file__).resolve().parent / "results"
# One page as bare SQL: the index's own condition, so it walks ix_response_follow_up too.
BARE_PAGE = (
    f"SELECT id, created_at FROM response WHERE purpose = :purpose AND {FOLLOW_UP_INDEX_WHERE}"
    " ORDER BY created_at DESC, id DESC LIMIT 50"
)


def _consent(consent_id: str, subject_id: str | None, purpose: str, at: datetime) -> dict[str, Any]:
    return {
        "id": consent_id, "subject_id": subject_id, "purpose": purpose,
        "notice_version": "2026-01", "given_at": at, "recorded_at": at,
        "expires_at": at + timedelta(days=400), "withdrawn_at": None,
        "withdraw_token_hash": os.urandom(32), "receipt_signature": "s" * 88,
    }  # fmt: skip


def _response(**values: Any) -> dict[str, Any]:
    at = values["created_at"]
    row = {
        "consent_expires_at": at + timedelta(days=400), "touchpoint": None, "locale": "nl-NL",
        "nps": None, "csat": None, "ces": None, "email_ct": None, "name_ct": None,
        "customer_id_ct": None, "comment_ct": None,
        "created_month": date(at.year, at.month, 1), "anonymised_at": None,
    }  # fmt: skip
    return row | values


def follow_up_rows(
    services: Services, count: int, rng: random.Random
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Yield batches of subjects, keys, consents, responses and done items, really encrypted."""
    batch: dict[str, list[dict[str, Any]]] = {
        "subject": [], "key": [], "consent": [], "response": [], "follow_up": [],
    }  # fmt: skip
    subject = None
    for index in range(count):
        # Within the purpose's 30 days, so every item is live at NOW.
        at = NOW - timedelta(seconds=rng.randrange(29 * 86_400))
        if index % PER_SUBJECT == 0:
            subject, key = services.subject_keys.new_key(new_id(at), 1)
            batch["subject"].append({"id": subject.subject_id, "created_at": at})
            batch["key"].append(key)
        assert subject is not None
        response_id, consent_id = new_id(at), new_id(at)
        sid = subject.subject_id

        def sealed(column: str, value: str, rid: str = response_id) -> bytes:
            return seal(subject, "response", column, rid, value)  # noqa: B023

        batch["consent"].append(_consent(consent_id, sid, FOLLOW_UP_PURPOSE, at))
        batch["response"].append(
            _response(
                id=response_id, subject_id=sid, consent_id=consent_id,
                survey_id=SURVEYS[index % 2], purpose=FOLLOW_UP_PURPOSE,
                touchpoint=TOUCHPOINTS[rng.randrange(len(TOUCHPOINTS))],
                csat=1 + rng.randrange(5), ces=1 + rng.randrange(7),
                email_ct=sealed("email_ct", f"klant{index // PER_SUBJECT}@example.nl"),
                name_ct=sealed("name_ct", f"Klant {index // PER_SUBJECT}"),
                customer_id_ct=sealed("customer_id_ct", f"C-{index // PER_SUBJECT}"),
                comment_ct=sealed("comment_ct", "Het duurde veel te lang voordat iemand reageerde.")
                if index % 2 == 0 else None,
                created_at=at, expires_at=at + timedelta(days=30),
            )
        )  # fmt: skip
        if index % 100 == 0:
            batch["follow_up"].append(
                {
                    "response_id": response_id, "subject_id": sid, "status": "done",
                    "note_ct": seal(subject, "follow_up", "note_ct", response_id, "Gebeld."),
                    "done_at": NOW, "done_by": "token:bench", "expires_at": at + timedelta(days=30),
                }
            )  # fmt: skip
        if len(batch["response"]) >= CHUNK and index % PER_SUBJECT == PER_SUBJECT - 1:
            yield batch
            batch = {name: [] for name in batch}
    if batch["response"]:
        yield batch


def other_rows(count: int, rng: random.Random) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Yield batches of responses under a purpose without follow-up (random ciphertext bytes)."""
    batch: dict[str, list[dict[str, Any]]] = {"subject": [], "consent": [], "response": []}
    for index in range(count):
        at = NOW - timedelta(seconds=rng.randrange(170 * 86_400))
        sid = new_id(at) if index % 2 == 0 else None
        if sid:
            batch["subject"].append({"id": sid, "created_at": at})
        consent_id = new_id(at)
        batch["consent"].append(_consent(consent_id, sid, "service-improvement", at))
        batch["response"].append(
            _response(
                id=new_id(at), subject_id=sid, consent_id=consent_id, survey_id=SURVEYS[0],
                purpose="service-improvement", nps=rng.randrange(11),
                email_ct=os.urandom(62) if sid else None, created_at=at,
                expires_at=at + timedelta(days=180),
            )
        )  # fmt: skip
        if len(batch["response"]) >= CHUNK:
            yield batch
            batch = {name: [] for name in batch}
    if batch["response"]:
        yield batch


def seed(services: Services, open_items: int, others: int) -> None:
    """Insert both kinds of rows, a chunk per transaction in each store."""
    rng = random.Random(20270601)
    models = {"subject": Subject, "consent": Consent, "response": Response, "follow_up": FollowUp}
    batches = [*follow_up_rows(services, open_items, rng), *other_rows(others, rng)]
    for batch in batches:
        if batch.get("key"):
            with services.stores.keys() as keys:
                keys.session.execute(insert(SubjectKey), batch["key"])
        with services.stores.data() as unit:
            for table, model in models.items():
                if batch.get(table):
                    unit.session.execute(insert(model), batch[table])


def analyse(services: Services) -> None:
    """Refresh the planner's statistics after the bulk load."""
    for engine in (services.databases.data_engine, services.databases.keys_engine):
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        else:
            with engine.begin() as connection:
                connection.execute(text("ANALYZE"))


def timed(call: Callable[[], object], repeats: int, warmup: int = 3) -> dict[str, float]:
    """Run a call `warmup` then `repeats` times; return wall-clock p50/p95/min and CPU p50 (ms).

    The process's CPU time beside the wall clock: on a shared, loaded machine the wall
    clock also counts the time other processes held the cores (and, on PostgreSQL, the
    server's own work, which the CPU figure leaves out).
    """
    for _ in range(warmup):
        call()
    samples, cpu = [], []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))], 2),
        "min_ms": round(samples[0], 2),
        "cpu_p50_ms": round(statistics.median(cpu), 2),
    }


def measure(services: Services, repeats: int, deep_pages: int) -> dict[str, Any]:
    """Time the queue's listings and the bare SQL page; check the pages hold live items."""
    client = create_app(services=services).test_client()
    headers = {"Authorization": f"Bearer {services.tokens.create('follow_up', uuid.uuid4().hex)}"}

    def listing(query: str) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            answer = client.get(f"/api/v1/follow-ups?{query}", headers=headers)
            assert answer.status_code == 200, answer.get_data(as_text=True)
            body: dict[str, Any] = answer.get_json()
            assert len(body["follow_ups"]) == 50, "a full page was expected"
            assert body["next"], "more pages were expected"
            assert body["follow_ups"][0]["respondent"]["email"].endswith("@example.nl")
            return body

        return run

    cursor = ""
    for _ in range(deep_pages):
        cursor = listing(f"order=newest&cursor={cursor}" if cursor else "order=newest")()["next"]
    queries = {
        "detractors": "order=detractors",
        "newest": "order=newest",
        "deep": f"order=newest&cursor={cursor}",
        "filtered": f"order=detractors&metric=csat&max_score=2&survey_id={SURVEYS[1]}",
    }
    engine = services.databases.data_engine

    def bare() -> object:
        with engine.connect() as connection:
            return connection.execute(text(BARE_PAGE), {"purpose": FOLLOW_UP_PURPOSE}).all()

    result: dict[str, Any] = {name: timed(listing(q), repeats) for name, q in queries.items()}
    result["bare_sql_page"] = timed(bare, repeats)
    result["ratio_p50_detractors_to_bare"] = round(
        result["detractors"]["p50_ms"] / max(result["bare_sql_page"]["p50_ms"], 0.01), 1
    )
    return result


def main() -> None:
    """Seed, time the queue beside bare SQL (and without its index), print and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--keystore-url")
    parser.add_argument("--open", type=int, default=100_000, dest="open_items")
    parser.add_argument("--others", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--without-index", action="store_true", help="also time without the index")
    parser.add_argument("--smoke", action="store_true", help="2,000 items, 500 others, 5 repeats")
    args = parser.parse_args()
    deep_pages = 40
    if args.smoke:
        args.open_items, args.others, args.repeats, deep_pages = 2_000, 500, 5, 3
    if bool(args.database_url) != bool(args.keystore_url):
        parser.error("--database-url and --keystore-url go together")

    with fresh_instance("bench-follow-up-", NOW, args.database_url, args.keystore_url) as services:
        dialect = services.databases.data_engine.dialect.name
        print(f"{dialect}: seeding {args.open_items:,} items, {args.others:,} others", flush=True)
        started = time.perf_counter()
        seed(services, args.open_items, args.others)
        analyse(services)
        print(f"seeded in {time.perf_counter() - started:.1f}s; timing ...", flush=True)
        result: dict[str, Any] = {
            "benchmark": "GET /api/v1/follow-ups, first page of 50 (Flask test client)",
            "dialect": dialect,
            "open_items": args.open_items,
            "others": args.others,
            "repeats": args.repeats,
            "target": "p95 <= 100 ms with 100,000 open items",
            "timing": measure(services, args.repeats, deep_pages),
        }
        if args.without_index:
            with services.databases.data_engine.begin() as connection:
                connection.execute(text("DROP INDEX ix_response_follow_up"))
            analyse(services)
            result["without_index"] = measure(services, max(5, args.repeats // 4), deep_pages)

    result |= {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result, indent=2))
    if not args.smoke:
        RESULTS.mkdir(exist_ok=True)
        name = f"follow-up-{dialect}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
        (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
