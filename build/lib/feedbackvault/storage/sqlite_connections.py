"""Tune SQLite connections and take its write lock without the busy handler's long sleeps."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, event

# How long a SQLite writer waits for another to finish before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000
BEGIN_OPTION = "feedbackvault_begin"
# How long a writer polls for SQLite's write lock before falling back to the busy handler.
QUICK_LOCK_MS = 50
QUICK_LOCK_FIRST_PAUSE_S = 0.00002
QUICK_LOCK_MAX_PAUSE_S = 0.0005
# WAL pages a writer lets build up before it checkpoints them into the database file
# (SQLite's default is 1,000). See `tune_sqlite`.
DATA_WAL_CHECKPOINT_PAGES = 10_000
# Where a pooled SQLite connection keeps its busy timeout, read once.
BUSY_TIMEOUT_INFO = "feedbackvault.busy_timeout_ms"
# Where it keeps the busy timeout now set on it: 0 while it polls for the write lock.
BUSY_TIMEOUT_SET_INFO = "feedbackvault.busy_timeout_set_ms"


def tune_sqlite(engine: Engine, *, wal_checkpoint_pages: int | None = None) -> None:
    """Set every new connection's pragmas, and begin each transaction as its unit asks.

    `wal_checkpoint_pages` replaces SQLite's automatic checkpoint threshold. A
    submission dirties ~15 pages of the data store, so at the default a writer
    stopped every ~60 submissions to copy the WAL into the file and fsync both; at
    10,000 pages it stops a tenth as often, and copies each hot page (B-tree roots,
    right-hand leaves, the audit head) once per checkpoint instead of once per 60
    submissions. The WAL grows to ~40 MiB between checkpoints. The key store keeps the
    default: a shredded key's old page images stay in its WAL until overwritten, and
    a short WAL overwrites them sooner.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Erased rows must not linger in free pages of the file.
        cursor.execute("PRAGMA secure_delete=ON")
        if wal_checkpoint_pages is not None:
            cursor.execute(f"PRAGMA wal_autocheckpoint={int(wal_checkpoint_pages)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers queue on the
        # busy timeout instead of failing on a read-to-write lock upgrade.
        # Read-only units ask for DEFERRED and read a WAL snapshot beside writers.
        mode = connection.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        pooled = connection.connection
        if mode == "IMMEDIATE" and begin_immediate_quickly(pooled.dbapi_connection, pooled.info):
            return
        wait_when_busy(pooled.dbapi_connection, pooled.info)
        connection.exec_driver_sql(f"BEGIN {mode}")


def begin_immediate_quickly(dbapi_connection: Any, info: dict[Any, Any]) -> bool:
    """Try to take SQLite's write lock within a few milliseconds, polling finely.

    SQLite's own busy handler sleeps 1, 2, 5, 10 ... ms between attempts, while a
    writer here holds the lock for well under a millisecond: two gunicorn workers
    would spend most of their time asleep. This polls every 20-500 us for a short
    while instead; when it has not got the lock by then it returns False, with the
    connection's busy timeout back in force, and the caller waits on it as before
    (and fails as before after it).

    The polling needs a busy timeout of 0, and the connection keeps it while it
    writes (in WAL mode nothing in a write transaction waits on another lock):
    setting it and setting it back were two of the three statements here. Any
    other transaction puts the timeout back first (`wait_when_busy`).
    """
    cursor = dbapi_connection.cursor()
    try:
        if info.get(BUSY_TIMEOUT_SET_INFO) != 0:
            budget_ms = _busy_timeout(cursor, info)
            cursor.execute("PRAGMA busy_timeout=0")
            info[BUSY_TIMEOUT_SET_INFO] = 0
        else:
            budget_ms = info[BUSY_TIMEOUT_INFO]
        deadline = time.monotonic() + min(budget_ms, QUICK_LOCK_MS) / 1000
        pause = QUICK_LOCK_FIRST_PAUSE_S
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return True
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    break
            time.sleep(pause)
            pause = min(pause * 2, QUICK_LOCK_MAX_PAUSE_S)
    finally:
        cursor.close()
    wait_when_busy(dbapi_connection, info)
    return False


def _busy_timeout(cursor: Any, info: dict[Any, Any]) -> int:
    """Return the connection's own busy timeout in ms, read once per connection.

    It is set as the connection opens (`tune_sqlite`, and whatever a test adds).
    """
    budget_ms = info.get(BUSY_TIMEOUT_INFO)
    if budget_ms is None:
        (budget_ms,) = cursor.execute("PRAGMA busy_timeout").fetchone()
        info[BUSY_TIMEOUT_INFO] = budget_ms
    return int(budget_ms)


def wait_when_busy(dbapi_connection: Any, info: dict[Any, Any]) -> None:
    """Put the connection's busy timeout back in force if polling took it away."""
    if info.get(BUSY_TIMEOUT_SET_INFO) == 0:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={int(info[BUSY_TIMEOUT_INFO])}")
            info[BUSY_TIMEOUT_SET_INFO] = info[BUSY_TIMEOUT_INFO]
        finally:
            cursor.close()
