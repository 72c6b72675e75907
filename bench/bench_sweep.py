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
responses, consents, emptied subjects and their keys. Each of `--trials` sweeps
(3) runs on a fresh copy of the one seed; prints rows/s per trial and writes the
median and the range as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from seeding import FixedClock, fresh_instance
from sqlalchemy import Engine, Table, create_engine, make_url, text

from feedbackvault.app import Services
from feedbackvault.domain.ids import new_id
from feedbackvault.storage.data_models import Consent, Response, Subject
from feedbackvault.storage.keystore_models import SubjectKey, SubjectLookup

NOW = datetime(2027, 6, 1, tzinfo=UTC)
INSERT_CHUNK = 50_000
RESULTS = Path(__file__).resolve().parent / "results"


# The columns each seeded table gets, in the order the row builders below emit them.
COLUMNS: dict[Table, tuple[str, ...]] = {
    Subject.__table__: ("id", "created_at"),
    Consent.__table__: (
        "id",
        "subject_id",
        "purpose",
        "notice_version",
        "given_at",
        "recorded_at",
        "expires_at",
        "withdraw_token_hash",
        "receipt_signature",
    ),
    Response.__table__: (
        "id",
        "subject_id",
        "consent_id",
        "consent_expires_at",
        "survey_id",
        "purpose",
        "touchpoint",
        "locale",
        "nps",
        "csat",
        "email_ct",
        "comment_ct",
        "created_at",
        "created_month",
        "expires_at",
    ),
    SubjectKey.__table__: ("subject_id", "dek_version", "kek_id", "wrapped_dek", "created_at"),
    SubjectLookup.__table__: ("kind", "version", "digest", "subject_id"),
}
Rows = dict[Table, list[tuple[Any, ...]]]


def chunk_rows(start: int, stop: int, expired: int) -> tuple[Rows, Rows]:
    """Build responses start..stop with their consents and subjects, and the subjects' keys.

    Returns (data-store rows, key-store rows) per table, values as Python objects.
    """
    data: Rows = {table: [] for table in (Subject.__table__, Consent.__table__, Response.__table__)}
    keys: Rows = {SubjectKey.__table__: [], SubjectLookup.__table__: []}
    for index in range(start, stop):
        is_expired = index < expired
        purpose = "service-improvement" if index % 4 < 2 else "product-research"
        recorded = NOW - timedelta(days=400 if is_expired else 10, seconds=index % 86_400)
        expires = NOW - timedelta(seconds=1 + index) if is_expired else NOW + timedelta(days=170)
        # product-research keeps consent records three years: its subjects stay.
        consent_expires = expires if purpose == "service-improvement" else NOW + timedelta(days=700)
        # Ids as the service makes them: time-ordered, from the moment of recording.
        subject_id = new_id(recorded) if index % 2 == 0 else None
        consent_id = new_id(recorded)
        # About the size of a real field ciphertext: 14 bytes of header and nonce, 16 of tag.
        ciphertext = os.urandom(60) if subject_id else None
        if subject_id:
            data[Subject.__table__].append((subject_id, recorded))
            keys[SubjectKey.__table__].append((subject_id, 1, "bench", os.urandom(60), recorded))
            keys[SubjectLookup.__table__].append(("email", 1, os.urandom(32), subject_id))
        data[Consent.__table__].append(
            (
                consent_id,
                subject_id,
                purpose,
                "2026-01",
                recorded,
                recorded,
                consent_expires,
                os.urandom(32),
                "x" * 88,
            )
        )
        data[Response.__table__].append(
            (
                new_id(recorded),
                subject_id,
                consent_id,
                consent_expires,
                "bench",
                purpose,
                "web",
                "nl-NL",
                index % 11,
                1 + index % 5,
                ciphertext,
                ciphertext,
                recorded,
                date(recorded.year, recorded.month, 1),
                expires,
            )
        )
    return data, keys


def write_rows(engine: Engine, rows: Rows) -> None:
    """Write the rows of each table in one transaction: COPY on PostgreSQL, executemany else.

    Both go through the raw DBAPI connection: SQLAlchemy's executemany costs about a
    millisecond per response row here (11 minutes for 1,000,000), COPY a few microseconds.
    Values pass through each column type's own bind processing first (aware UTC
    datetimes become naive UTC, as the app stores them).
    """
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if engine.dialect.name == "sqlite":
            # The app's SQLite connections leave transactions to SQLAlchemy (autocommit
            # driver): without BEGIN every inserted row would be its own transaction.
            cursor.execute("BEGIN")
        for table, table_rows in rows.items():
            if not table_rows:
                continue
            columns = COLUMNS[table]
            prepared = _bind(engine, table, columns, table_rows)
            if engine.dialect.name == "postgresql":
                statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
                with connection.driver_connection.cursor().copy(statement) as copy:
                    for row in prepared:
                        copy.write_row(row)
            else:
                # SQLite's default 2 MB page cache thrashes on the random-uuid index inserts.
                cursor.execute("PRAGMA cache_size = -262144")
                marks = ", ".join("?" * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", prepared
                )
        connection.commit()
    finally:
        connection.close()


def _bind(
    engine: Engine, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    processors = [table.c[name].type.bind_processor(engine.dialect) for name in columns]
    if not any(processors):
        return rows
    return [
        tuple(p(value) if p else value for p, value in zip(processors, row, strict=True))
        for row in rows
    ]


def seed(services: Services, responses: int, expired: int) -> None:
    """Insert the responses, consents, subjects, keys and lookups, a chunk per transaction."""
    databases = services.databases
    for start in range(0, responses, INSERT_CHUNK):
        data, keys = chunk_rows(start, min(start + INSERT_CHUNK, responses), expired)
        write_rows(databases.data_engine, data)
        write_rows(databases.keys_engine, keys)
    for engine in (databases.data_engine, databases.keys_engine):
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
                # The seed's own page writes, to the database files and the disk, are
                # done before the clock starts, not in the kernel under the sweep (left
                # to run on, they moved the sweep's rate by a third from run to run).
                conn.execute(text("CHECKPOINT"))
        else:
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
    os.sync()


@contextmanager
def copy_of(services: Services, trial: int) -> Iterator[Services]:
    """Build services over a copy of the seeded databases, and remove the copy after.

    Seeding takes a minute and a half and a sweep two seconds, so each trial sweeps
    a copy of one seed: on PostgreSQL a database made from the seeded one as its
    template (file copy, without writing it all to the WAL), on SQLite copied files.
    """
    settings = services.settings
    urls = {"data": make_url(settings.database_url), "keys": make_url(settings.keystore_url)}
    copies = {store: url.set(database=f"{url.database}_t{trial}") for store, url in urls.items()}
    if urls["data"].get_backend_name() == "postgresql":
        admin = create_engine(urls["data"].set(database="postgres"), isolation_level="AUTOCOMMIT")
        names = [(str(copies[store].database), str(urls[store].database)) for store in urls]
        with admin.connect() as connection:
            for copy, seeded in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{copy}"'))
                connection.execute(
                    text(f'CREATE DATABASE "{copy}" TEMPLATE "{seeded}" STRATEGY FILE_COPY')
                )
            connection.execute(text("CHECKPOINT"))
    else:
        for store in urls:
            shutil.copyfile(str(urls[store].database), str(copies[store].database))
    os.sync()
    copied = Services.build(
        replace(
            settings,
            database_url=copies["data"].render_as_string(hide_password=False),
            keystore_url=copies["keys"].render_as_string(hide_password=False),
        ),
        clock=FixedClock(NOW),
    )
    try:
        yield copied
    finally:
        copied.databases.dispose()
        if urls["data"].get_backend_name() == "postgresql":
            with admin.connect() as connection:
                for copy, _seeded in names:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)'))
            admin.dispose()
        else:
            for store in urls:
                Path(str(copies[store].database)).unlink()


def main() -> None:
    """Seed once, sweep a copy of the seed per trial, print rows/s and write the result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--keystore-url")
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--expired", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument(
        "--workers", type=int, default=1, help="sweepers side by side (PostgreSQL only)"
    )
    parser.add_argument("--trials", type=int, default=3, help="sweeps, each of a fresh copy")
    parser.add_argument("--smoke", action="store_true", help="2,000 responses, 200 expired")
    args = parser.parse_args()
    if args.smoke:
        args.responses, args.expired, args.trials = 2_000, 200, 1
    if bool(args.database_url) != bool(args.keystore_url):
        parser.error("--database-url and --keystore-url go together")

    reports = []
    with fresh_instance("bench-sweep-", NOW, args.database_url, args.keystore_url) as services:
        dialect = services.stores.dialect
        print(f"{dialect}: seeding {args.responses:,} responses, {args.expired:,} expired ...")
        started = time.perf_counter()
        seed(services, args.responses, args.expired)
        print(f"seeded in {time.perf_counter() - started:.1f}s", flush=True)
        services.databases.dispose()  # a template database must have no connections
        for trial in range(args.trials):
            with copy_of(services, trial) as copied:
                report = copied.retention.sweep(batch_size=args.batch_size, workers=args.workers)
            print(f"trial {trial + 1}: {report.rows_per_second:,.0f} rows/s", flush=True)
            if report.responses_handled != args.expired:
                sys.exit(
                    f"expected {args.expired} responses handled, got {report.responses_handled}"
                )
            reports.append(report)

    rates = sorted(round(report.rows_per_second) for report in reports)
    report = reports[0]
    result = {
        "benchmark": "retention sweep",
        "dialect": dialect,
        "responses": args.responses,
        "expired": args.expired,
        "batch_size": args.batch_size,
        "workers": args.workers if dialect == "postgresql" else 1,
        "handled": report.responses_handled,
        "deleted": dict(report.deleted),
        "anonymised": dict(report.anonymised),
        "consents_removed": sum(report.consents_removed.values()),
        "subjects_shredded": report.subjects_shredded,
        "trials": len(reports),
        "seconds": sorted(round(report.seconds, 3) for report in reports),
        "rows_per_second": statistics.median(rates),
        "rows_per_second_min": rates[0],
        "rows_per_second_max": rates[-1],
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result, indent=2))
    if not args.smoke:
        RESULTS.mkdir(exist_ok=True)
        name = f"sweep-{dialect}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
        (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
