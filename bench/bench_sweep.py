"""Measure retention-sweep throughput: N stored responses, M of them expired.

Usage:
  python bench/bench_sweep.py                       # SQLite in a temp instance, 1M / 100k
  python bench/bench_sweep.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_sweep \
      --keystore-url postgresql+psycopg://postgres@127.0.0.1/bench_sweep_keys
  python bench/bench_sweep.py --smoke              # tiny, to check it runs

The PostgreSQL databases must exist; their tables are migrated and emptied first.
Half the expired responses belong to an `anonymise` purpose, half to a `delete`
one; every second response has a subject with a data key and a blind-index
entry, and every response a consent record, so the sweep does its whole job:
responses, consents, emptied subjects and their keys. Prints rows/s and writes
JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from seeding import fresh_instance
from sqlalchemy import insert, text

from feedbackvault.app import Services
from feedbackvault.storage.data_models import Consent, Response, Subject
from feedbackvault.storage.keystore_models import SubjectKey, SubjectLookup

NOW = datetime(2027, 6, 1, tzinfo=UTC)
INSERT_CHUNK = 20_000
RESULTS = Path(__file__).resolve().parent / "results"


def seed(services: Services, responses: int, expired: int) -> None:
    """Insert the responses, consents, subjects, keys and lookups, a chunk per transaction."""
    for start in range(0, responses, INSERT_CHUNK):
        data: dict[str, list[dict[str, object]]] = {"subject": [], "consent": [], "response": []}
        keys: dict[str, list[dict[str, object]]] = {"key": [], "lookup": []}
        for index in range(start, min(start + INSERT_CHUNK, responses)):
            is_expired = index < expired
            purpose = "service-improvement" if index % 4 < 2 else "product-research"
            recorded = NOW - timedelta(days=400 if is_expired else 10, seconds=index % 86_400)
            expires = (
                NOW - timedelta(seconds=1 + index) if is_expired else NOW + timedelta(days=170)
            )
            # product-research keeps consent records three years: its subjects stay.
            consent_expires = (
                expires if purpose == "service-improvement" else NOW + timedelta(days=700)
            )
            subject_id = str(uuid.uuid4()) if index % 2 == 0 else None
            consent_id = str(uuid.uuid4())
            ciphertext = os.urandom(60) if subject_id else None
            if subject_id:
                data["subject"].append({"id": subject_id, "created_at": recorded})
                keys["key"].append(
                    {
                        "subject_id": subject_id,
                        "dek_version": 1,
                        "kek_id": "bench",
                        "wrapped_dek": os.urandom(60),
                        "created_at": recorded,
                    }
                )
                keys["lookup"].append(
                    {
                        "kind": "email",
                        "version": 1,
                        "digest": os.urandom(32),
                        "subject_id": subject_id,
                    }
                )
            data["consent"].append(
                {
                    "id": consent_id,
                    "subject_id": subject_id,
                    "purpose": purpose,
                    "notice_version": "2026-01",
                    "given_at": recorded,
                    "recorded_at": recorded,
                    "expires_at": consent_expires,
                    "withdraw_token_hash": os.urandom(32),
                    "receipt_signature": "x" * 88,
                }
            )
            data["response"].append(
                {
                    "id": str(uuid.uuid4()),
                    "subject_id": subject_id,
                    "consent_id": consent_id,
                    "survey_id": "bench",
                    "purpose": purpose,
                    "touchpoint": "web",
                    "locale": "nl-NL",
                    "nps": index % 11,
                    "csat": 1 + index % 5,
                    "email_ct": ciphertext,
                    "comment_ct": ciphertext,
                    "created_at": recorded,
                    "created_month": date(recorded.year, recorded.month, 1),
                    "expires_at": expires,
                }
            )
        with services.stores.data() as unit:
            if data["subject"]:
                unit.session.execute(insert(Subject), data["subject"])
            unit.session.execute(insert(Consent), data["consent"])
            unit.session.execute(insert(Response), data["response"])
        if keys["key"]:
            with services.stores.keys() as key_unit:
                key_unit.session.execute(insert(SubjectKey), keys["key"])
                key_unit.session.execute(insert(SubjectLookup), keys["lookup"])
    for engine in (services.databases.data_engine, services.databases.keys_engine):
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))


def main() -> None:
    """Seed, sweep, print rows/s and write the result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--keystore-url")
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--expired", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--smoke", action="store_true", help="2,000 responses, 200 expired")
    args = parser.parse_args()
    if args.smoke:
        args.responses, args.expired = 2_000, 200
    if bool(args.database_url) != bool(args.keystore_url):
        parser.error("--database-url and --keystore-url go together")

    with fresh_instance("bench-sweep-", NOW, args.database_url, args.keystore_url) as services:
        dialect = services.stores.dialect
        print(f"{dialect}: seeding {args.responses:,} responses, {args.expired:,} expired ...")
        started = time.perf_counter()
        seed(services, args.responses, args.expired)
        print(f"seeded in {time.perf_counter() - started:.1f}s; sweeping ...")
        report = services.retention.sweep(batch_size=args.batch_size)

    result = {
        "benchmark": "retention sweep",
        "dialect": dialect,
        "responses": args.responses,
        "expired": args.expired,
        "batch_size": args.batch_size,
        "handled": report.responses_handled,
        "deleted": dict(report.deleted),
        "anonymised": dict(report.anonymised),
        "consents_removed": sum(report.consents_removed.values()),
        "subjects_shredded": report.subjects_shredded,
        "seconds": round(report.seconds, 3),
        "rows_per_second": round(report.rows_per_second),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result, indent=2))
    if report.responses_handled != args.expired:
        sys.exit(f"expected {args.expired} responses handled, got {report.responses_handled}")
    if not args.smoke:
        RESULTS.mkdir(exist_ok=True)
        name = f"sweep-{dialect}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
        (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
