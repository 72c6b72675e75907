"""Create engines and transactions for the data database and the key store."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Insert,
    Table,
    create_engine,
    event,
    func,
    make_url,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from feedbackvault.storage.sqlite_connections import (
    BEGIN_OPTION,
    DATA_WAL_CHECKPOINT_PAGES,
    SQLITE_BUSY_TIMEOUT_MS,
    begin_immediate_quickly,
    tune_sqlite,
    wait_when_busy,
)

logger = logging.getLogger("feedbackvault.storage")
# Where a key-store session notes that its transaction destroyed data keys (`shredded`).
SHREDDED = "feedbackvault.shredded"
# How often the key store's checkpoint is tried, and the pause between. Each try already
# waits for readers of older snapshots up to the busy timeout.
SETTLE_ATTEMPTS = 2
SETTLE_PAUSE_S = 0.05
# The transaction-local mark under which the consent unlink trigger skips its search.
RESPONSES_HANDLED = "feedbackvault.responses_handled"
# Names one running PostgreSQL server: its cluster and the moment it started.
_SERVER = text("SELECT system_identifier, pg_postmaster_start_time() FROM pg_control_system()")
# How many heap pages a PostgreSQL session may ask the kernel for ahead of reading them.
# A subject's rows lie scattered, one per heap page: erasing or exporting a subject reads
# ~100 pages of each table in bitmap heap scans, which prefetch only with this above 1,
# PostgreSQL's default (tuned for one spinning disk). With 64, a cold subject's pages
# were read in half the time (bench/README).
PREFETCH_PAGES = 64
# Sets it only where the server was given no value: a configured or client one stands.
_PREFETCH = (
    "SELECT set_config(name, %s, false) FROM pg_settings"
    " WHERE name = 'effective_io_concurrency' AND source = 'default'"
)
# Driver errors that mean "the database cannot be reached or is busy": retryable, 503.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)


@contextmanager
def responses_unlinked_already(session: Session) -> Iterator[None]:
    """Tell the consent unlink trigger that the block's deletions leave it nothing to do.

    On PostgreSQL a statement trigger unlinks the responses that name deleted consent
    records (migrations 0008, 0010). A block that deletes or unlinks those responses
    itself, in the same transaction, sets this transaction-local mark around its
    consent deletion, and the trigger returns at once instead of probing
    `ix_response_consent_id` through the entries of the rows just changed. SQLite's
    row trigger has no such mark; there this does nothing. After a failure the
    transaction is aborted and ends with the mark, so it is not cleared then.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(select(func.set_config(RESPONSES_HANDLED, "on", true())))
    yield
    if postgres:
        session.execute(select(func.set_config(RESPONSES_HANDLED, "off", true())))


def insert_ignoring_conflicts(session: Session, table: Table) -> Insert:
    """Build an INSERT into a table that does nothing for rows whose key exists already.

    It takes the table, not the mapped class: an INSERT on the class goes through the ORM's
    bulk machinery, several times the cost of the plain statement.
    """
    make = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return make(table).on_conflict_do_nothing()


def one_of(column: ColumnElement[Any], values: Collection[str]) -> ColumnElement[bool]:
    """Match a column against the values: `=` for one, else `IN`.

    Requests almost always name one subject; an `IN` list is re-rendered on every
    execution (SQLAlchemy's "post-compile" step), a plain `=` is cached whole.
    """
    listed = list(values)
    return column == listed[0] if len(listed) == 1 else column.in_(listed)


def create_private_file(database: str | None) -> None:
    """Create an embedded database's file readable by its owner only (0600), if missing.

    SQLite would create it with the umask's mode (0644 as a rule), and gives its
    write-ahead log and shared-memory files the database file's mode.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        descriptor = os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError:
        # There already, or not creatable here: SQLite reports the latter when it connects.
        return
    os.close(descriptor)


def make_sqlite_files_private(url: str) -> list[str]:
    """Set an embedded database's files (database, log, shared memory) to 0600; name those changed.

    For instances whose files an older release created with the umask's mode.
    """
    if not url.startswith("sqlite"):
        return []
    database = make_url(url).database
    changed = []
    for path in (database, f"{database}-wal", f"{database}-shm") if database else ():
        try:
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, 0o600)
                changed.append(path)
        except FileNotFoundError:
            continue
    return changed


def is_sqlite(engine: Engine) -> bool:
    """Tell whether the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, wal_checkpoint_pages: int | None = None, **kwargs: Any) -> Engine:
    """Create an engine tuned for this service's access pattern.

    `wal_checkpoint_pages` applies to SQLite only (`tune_sqlite`).
    """
    if url.startswith("sqlite"):
        create_private_file(make_url(url).database)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        tune_sqlite(engine, wal_checkpoint_pages=wal_checkpoint_pages)
        return engine
    # No pre-ping: it costs a round trip per transaction. A connection found dead after
    # a database restart fails one request with a 503 and SQLAlchemy drops the pool.
    engine = create_engine(url, **kwargs)
    driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error

    @event.listens_for(engine, "connect")
    def _prefetch_scattered_pages(dbapi_connection: Any, _record: Any) -> None:
        # A server without posix_fadvise refuses any value but 0: its sessions keep that.
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(_PREFETCH, (str(PREFETCH_PAGES),))
        except driver_error:
            dbapi_connection.rollback()
        else:
            dbapi_connection.commit()
        finally:
            cursor.close()

    return engine


@dataclass(frozen=True)
class DriverConnection:
    """A pooled driver connection lent for one unit of work, and its dialect."""

    connection: Any
    dialect: Dialect


@contextmanager
def _as_sqlalchemy_errors(driver_error: type[Exception]) -> Iterator[None]:
    """Re-raise the driver's errors as SQLAlchemy's (so 503s map alike), parameters hidden."""
    try:
        yield
    except driver_error as exc:
        raise DBAPIError.instance(None, None, exc, driver_error, hide_parameters=True) from exc


@contextmanager
def driver_transaction(engine: Engine, *, no_begin: bool = False) -> Iterator[DriverConnection]:
    """Run one transaction on a pooled driver connection, without SQLAlchemy's Connection.

    For units that do all their work on the driver's cursor (a submission's): the
    Connection, its begin and commit events and transaction objects cost ~8% of a
    submission on SQLite (py-spy), where the pool checkout and the driver's own BEGIN
    and COMMIT are all the unit needs. The transaction begins as every other one does
    (IMMEDIATE on SQLite; on PostgreSQL the driver begins it with the first statement)
    and commits when the block ends, or rolls back when it raises; a connection that
    cannot even roll back is dropped from the pool. On an engine whose connections are
    in autocommit (PostgreSQL's claims pool) each statement is a transaction of its
    own; `no_begin` does the same on SQLite, whose connections leave beginning to
    this code.
    """
    driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error
    with _as_sqlalchemy_errors(driver_error):
        pooled = engine.raw_connection()
    connection = pooled.driver_connection
    assert connection is not None, "a connection just checked out is open"
    try:
        with _as_sqlalchemy_errors(driver_error):
            if is_sqlite(engine):
                if no_begin:
                    wait_when_busy(connection, pooled.info)
                elif not begin_immediate_quickly(connection, pooled.info):
                    connection.execute("BEGIN IMMEDIATE")
        yield DriverConnection(connection, engine.dialect)
        with _as_sqlalchemy_errors(driver_error):
            # After a COMMIT queued in a pipeline (PostgreSQL) there is nothing to send.
            connection.commit()
    except BaseException:
        try:
            connection.rollback()
        except driver_error:
            pooled.invalidate()
        raise
    finally:
        pooled.close()


@dataclass
class Databases:
    """The two engines of one deployment and their session factories."""

    data_engine: Engine
    keys_engine: Engine

    def __post_init__(self) -> None:
        self._data_sessions = sessionmaker(self.data_engine, expire_on_commit=False)
        self._key_sessions = sessionmaker(self.keys_engine, expire_on_commit=False)
        deferred = {BEGIN_OPTION: "DEFERRED"}
        self._read_sessions = sessionmaker(
            self.data_engine.execution_options(**deferred), expire_on_commit=False
        )
        self._key_read_sessions = sessionmaker(
            self.keys_engine.execution_options(**deferred), expire_on_commit=False
        )
        self._one_wal: bool | None = None
        self._one_wal_lock = threading.Lock()
        self._claims_engine = None if is_sqlite(self.keys_engine) else self._make_claims_engine()
        # SQLite's connections leave beginning to this code (`tune_sqlite`); SQLAlchemy's
        # AUTOCOMMIT would hand that back to the driver when it resets the connection.
        self._statement_sessions = (
            self._read_sessions
            if is_sqlite(self.data_engine)
            else sessionmaker(
                self.data_engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False,
            )
        )

    @classmethod
    def from_urls(cls, data_url: str, keys_url: str) -> Databases:
        """Create engines for both stores."""
        data_engine = make_engine(data_url, wal_checkpoint_pages=DATA_WAL_CHECKPOINT_PAGES)
        return cls(data_engine, make_engine(keys_url))

    @contextmanager
    def data(self) -> Iterator[Session]:
        """Run one transaction on the data database."""
        with self._data_sessions.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """Run one read-only transaction on the data database (no write lock on SQLite)."""
        with self._read_sessions.begin() as session:
            yield session

    @contextmanager
    def read_statements(self) -> Iterator[Session]:
        """Run reads on the data database that each need only their own snapshot.

        Each statement is a transaction of its own on PostgreSQL (one round trip, not
        three with BEGIN and COMMIT); on SQLite, where a transaction costs no round
        trip, it is one read-only transaction.
        """
        with self._statement_sessions.begin() as session:
            yield session

    @contextmanager
    def keys_read(self) -> Iterator[Session]:
        """Run one read-only transaction on the key store (no write lock on SQLite)."""
        with self._key_read_sessions.begin() as session:
            yield session

    @contextmanager
    def keys(self) -> Iterator[Session]:
        """Run one transaction on the key store; once it commits, settle any keys it destroyed."""
        with self._key_sessions.begin() as session:
            yield session
        if session.info.get(SHREDDED):
            self.settle_key_store()

    def settle_key_store(self) -> None:
        """Leave no copy of a destroyed data key in any live file of an embedded key store.

        SQLite: `secure_delete` zeroes what a shredding transaction deletes, but the old
        page images stay in the write-ahead log until it is overwritten. A TRUNCATE
        checkpoint copies the zeroed pages into the database file and empties the log,
        so the key is gone from every file when the act answers (~1 ms, bench/README).
        It waits for readers on older snapshots (the busy timeout), tried again while
        one still holds the log. A server database (PostgreSQL) keeps its WAL and
        backups out of reach: there the KEK's destruction after the grace is what makes
        those copies unreadable (README, "Erasure is final").
        """
        if not is_sqlite(self.keys_engine):
            return
        with driver_transaction(self.keys_engine, no_begin=True) as lent:
            for _attempt in range(SETTLE_ATTEMPTS):
                busy, _log, _moved = lent.connection.execute(
                    "PRAGMA wal_checkpoint(TRUNCATE)"
                ).fetchone()
                if not busy:
                    return
                time.sleep(SETTLE_PAUSE_S)
        logger.warning("key store checkpoint stayed busy; a destroyed key may stay in its log")

    @contextmanager
    def data_connection(self) -> Iterator[DriverConnection]:
        """Run one transaction on the data database on a driver connection."""
        with driver_transaction(self.data_engine) as connection:
            yield connection

    @contextmanager
    def keys_connection(self) -> Iterator[DriverConnection]:
        """Run one transaction on the key store on a driver connection."""
        with driver_transaction(self.keys_engine) as connection:
            yield connection

    @contextmanager
    def keys_statements(self) -> Iterator[DriverConnection]:
        """Lend a key-store driver connection on which each statement is a transaction of its own.

        On PostgreSQL the connection comes from the claims pool (`_make_claims_engine`).
        SQLite has no statement that both reads and conditionally writes several tables,
        so there the block is one ordinary transaction instead.
        """
        engine = self._claims_engine or self.keys_engine
        with driver_transaction(engine) as connection:
            yield connection

    def _make_claims_engine(self) -> Engine:
        """Pool key-store connections in autocommit, for claims and lookups.

        Claims on these connections may also not wait for their own flush.

        A submission's claim commits the new subject's key, then its data transaction
        commits the rows encrypted under it. When both stores live on one PostgreSQL
        server they write one WAL, and the data commit's flush, which the response waits
        for, covers the claim's earlier commit record too: the claim need not wait for a
        flush of its own (`synchronous_commit` off on these connections only). A crash
        before that flush loses both, never the key alone. On two servers, or when the
        server cannot be named, claims wait for their flush as every other commit does.
        Every other key-store commit (shredding above all) always waits.
        """
        engine = make_engine(
            self.keys_engine.url.render_as_string(hide_password=False),
            isolation_level="AUTOCOMMIT",
        )

        @event.listens_for(engine, "do_connect")
        def _on_connect(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
            if self._stores_share_one_wal():
                given = params.get("options", "")
                params["options"] = f"{given} -c synchronous_commit=off".strip()

        return engine

    def _stores_share_one_wal(self) -> bool:
        """Tell whether both stores are databases of one running PostgreSQL server (asked once)."""
        with self._one_wal_lock:
            if self._one_wal is None:
                servers = [_server_of(engine) for engine in (self.data_engine, self.keys_engine)]
                self._one_wal = servers[0] is not None and servers[0] == servers[1]
            return self._one_wal

    @contextmanager
    def keys_reads(self) -> Iterator[DriverConnection]:
        """Lend a key-store driver connection for reads that each need only their own snapshot.

        Every statement is a transaction of its own on both databases: a read costs one
        round trip on PostgreSQL (the claims pool, already in autocommit), not three
        with BEGIN and COMMIT, and takes no lock.
        """
        if self._claims_engine is not None:
            with driver_transaction(self._claims_engine) as connection:
                yield connection
        else:
            with driver_transaction(self.keys_engine, no_begin=True) as connection:
                yield connection

    def ping(self) -> bool:
        """Tell whether both databases answer."""
        try:
            for engine in (self.data_engine, self.keys_engine):
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.data_engine.dispose()
        self.keys_engine.dispose()
        if self._claims_engine is not None:
            self._claims_engine.dispose()


def _server_of(engine: Engine) -> tuple[Any, ...] | None:
    """Name the PostgreSQL server an engine talks to, or None (SQLite, or not allowed to ask)."""
    if engine.dialect.name != "postgresql":
        return None
    try:
        with engine.connect() as connection:
            return tuple(connection.execute(_SERVER).one())
    except DBAPIError:
        return None
