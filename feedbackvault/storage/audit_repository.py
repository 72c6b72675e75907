"""Append to and read the hash-chained audit log."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, literal_column, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from feedbackvault.domain.audit import (
    AuditFilter,
    AuditPage,
    AuditRecord,
    canonical_details,
    record_hash,
)
from feedbackvault.storage.data_models import (
    AUDIT_ENTRY,
    AUDIT_HEAD,
    HOT_AUDIT_ACTION,
    AuditEntry,
)
from feedbackvault.storage.driver_statements import (
    DriverCursor,
    DriverStatement,
    driver_cursor,
    insert_row,
    once_per_dialect,
    prepare,
)

HEAD_ID = 1
# Rows fetched per round trip while walking the whole chain.
VERIFY_BATCH = 5_000
# An entry's time is read before it waits for the chain head, so concurrent appends
# may land a few places out of time order; a date filter widens its sequence range by
# this many entries (far more than writers ever wait at once) and then filters exactly.
DATE_SLACK = 1_000
# Entries read per round when searching the log for a moment.
SEARCH_FANOUT = 128


@dataclass(frozen=True)
class _AppendStatements:
    lock_head: DriverStatement
    insert_entry: DriverStatement
    move_head: DriverStatement
    # PostgreSQL: the whole append in one statement, the server computing the hash
    # and answering the entry's seq, hash and prev_hash.
    sealed_on_server: DriverStatement | None


# The JSON array `domain.audit.record_hash` hashes, written in SQL (CAST, since `::`
# would read as a marker): to_json escapes a
# string exactly as json.dumps(ensure_ascii=False) does (the same seven escapes and
# \u00XX for the other control characters; tests/foundation/test_audit_sealing.py
# proves it on hostile values), and the timestamp comes as Python's isoformat().
_CHAINED_JSON = """'[' || CAST(to_json(head.prev_hash) AS text) || ',' || CAST(head.seq AS text)
    || ',' || CAST(to_json(CAST(:at_iso AS text)) AS text)
    || ',' || CAST(to_json(CAST(:actor AS text)) AS text)
    || ',' || CAST(to_json(CAST(:action AS text)) AS text)
    || ',' || COALESCE(CAST(to_json(CAST(:subject_ref AS text)) AS text), 'null')
    || ',' || COALESCE(CAST(to_json(CAST(:request_id AS text)) AS text), 'null')
    || ',' || CAST(to_json(CAST(:details AS text)) AS text) || ']'"""


def _sealed_on_server(dialect: Dialect) -> DriverStatement:
    """Lock the head, hash the entry onto it, insert the entry and move the head: one statement.

    The head is locked first (FOR UPDATE): a concurrent appender waits there and then
    reads the head this one moved, so the chain cannot fork.
    """
    columns = [column.key for column in AUDIT_ENTRY.columns]
    given = {"seq": "sealed.seq", "prev_hash": "sealed.prev_hash", "hash": "sealed.hash"}
    sql = f"""
        WITH head AS (
            SELECT seq + 1 AS seq, hash AS prev_hash FROM audit_head
            WHERE id = :head_id FOR UPDATE
        ), sealed AS (
            SELECT head.seq, head.prev_hash,
                   encode(sha256(convert_to({_CHAINED_JSON}, 'UTF8')), 'hex') AS hash
            FROM head
        ), new_entry AS (
            INSERT INTO audit_entry ({", ".join(columns)})
            SELECT {", ".join(given.get(column, ":" + column) for column in columns)}
            FROM sealed
        )
        UPDATE audit_head SET seq = sealed.seq, hash = sealed.hash
        FROM sealed WHERE audit_head.id = :head_id
        RETURNING sealed.seq, sealed.hash, sealed.prev_hash
    """  # noqa: S608 - the tables' own names and markers only
    types = {column.key: column.type for column in AUDIT_ENTRY.columns}
    return prepare(dialect, " ".join(sql.split()), types)


@once_per_dialect
def _append_statements(dialect: Dialect) -> _AppendStatements:
    return _AppendStatements(
        # SQLite has no row locks: its writers already hold the database's write lock.
        lock_head=prepare(dialect, "SELECT seq, hash FROM audit_head WHERE id = :id", {}),
        insert_entry=insert_row(dialect, AUDIT_ENTRY),
        move_head=prepare(
            dialect, "UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = :id", {}
        ),
        sealed_on_server=_sealed_on_server(dialect) if dialect.name == "postgresql" else None,
    )


class AuditAppender:
    """Appends to the audit log on one transaction's driver cursor."""

    def __init__(self, cursor: DriverCursor) -> None:
        self.cursor = cursor
        self.statements = _append_statements(cursor.dialect)

    def send(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        subject_ref: str | None = None,
        request_id: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> Callable[[], AuditRecord]:
        """Append one entry, serialised on the chain head; return what reads it, sealed.

        On SQLite three statements (read the head, insert, move the head) under the
        database's write lock; on PostgreSQL one, the server computing the hash. In a
        pipeline (PostgreSQL) the statement goes out with whatever is sent next,
        typically the COMMIT, and only the reader waits for its answer: a caller that
        needs no hash (a submission) never calls it.
        """
        unsealed = _unlinked(at, actor, action, subject_ref, request_id, details)
        if self.statements.sealed_on_server is None:
            record = self._sealed_here(unsealed)
            return lambda: record
        sent = self.cursor.send(self.statements.sealed_on_server, _server_values(unsealed))

        def sealed() -> AuditRecord:
            [(seq, hash_, prev_hash)] = sent.rows()
            return replace(unsealed, seq=seq, hash=hash_, prev_hash=prev_hash)

        return sealed

    def _sealed_here(self, unsealed: AuditRecord) -> AuditRecord:
        """Link and hash an entry in Python and store it (SQLite, under its write lock)."""
        ((seq, prev_hash),) = self.cursor.fetchall(self.statements.lock_head, {"id": HEAD_ID})
        linked = replace(unsealed, seq=seq + 1, prev_hash=prev_hash)
        record = replace(linked, hash=record_hash(linked))
        # A shallow copy: asdict() would deep-copy every string and datetime.
        values = {**vars(record), "id": HEAD_ID}
        self.cursor.run(self.statements.insert_entry, values)
        self.cursor.run(self.statements.move_head, values)
        return record


def _unlinked(
    at: datetime,
    actor: str,
    action: str,
    subject_ref: str | None,
    request_id: str | None,
    details: Mapping[str, object] | None,
) -> AuditRecord:
    """An entry not yet linked into the chain: no sequence number, no hashes."""
    return AuditRecord(
        seq=0,
        at=at,
        actor=actor,
        action=action,
        subject_ref=subject_ref,
        request_id=request_id,
        details=canonical_details(details or {}),
        prev_hash="",
        hash="",
    )


def _server_values(record: AuditRecord) -> dict[str, object]:
    """The markers of the server-sealed append: the entry's columns and what its hash needs."""
    return {**vars(record), "at_iso": record.at.isoformat(), "head_id": HEAD_ID}


class AuditRepository:
    """The audit log inside one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        subject_ref: str | None = None,
        request_id: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> AuditEntry:
        """Append one entry in the caller's transaction, serialised on the chain head.

        The statements run on the driver's cursor (`AuditAppender`). The entry returned
        is a detached copy of the row, for its hash and sequence number.
        """
        # Pending ORM changes go first, as a query would autoflush them: rows are then
        # always locked before the head, never after it, so appends cannot deadlock.
        self.session.flush()
        record = AuditAppender(driver_cursor(self.session)).send(
            at=at,
            actor=actor,
            action=action,
            subject_ref=subject_ref,
            request_id=request_id,
            details=details,
        )()
        return AuditEntry(**vars(record))

    def head(self) -> tuple[int, str]:
        """Return the sequence number and hash of the newest entry."""
        row = (
            self.session.connection()
            .execute(select(AUDIT_HEAD.c.seq, AUDIT_HEAD.c.hash).where(AUDIT_HEAD.c.id == HEAD_ID))
            .one_or_none()
        )
        assert row is not None, "the audit head row is created by the first migration"
        return int(row.seq), str(row.hash)

    def records(self, up_to: int, after: int = 0) -> Iterator[AuditRecord]:
        """Yield the entries after `after` up to `up_to` in chain order, a batch at a time.

        Core rows, not ORM objects: verifying a million entries is then bounded by the
        hashing, not by building and expunging a million mapped objects.
        """
        last = after
        while True:
            batch = self._records(
                select(AUDIT_ENTRY)
                .where(AUDIT_ENTRY.c.seq > last, AUDIT_ENTRY.c.seq <= up_to)
                .order_by(AUDIT_ENTRY.c.seq)
                .limit(VERIFY_BATCH)
            )
            if not batch:
                return
            yield from batch
            last = batch[-1].seq

    def find(
        self,
        *,
        subject_ref: str | None = None,
        request_id: str | None = None,
        after: int | None = None,
        limit: int = 1000,
    ) -> list[AuditRecord]:
        """Return entries after seq `after`, oldest first: all, or one subject's or request's."""
        query = find_query(subject_ref=subject_ref, request_id=request_id, after=after, limit=limit)
        return [to_record(entry) for entry in self.session.scalars(query)]

    def creators(self, request_ids: Sequence[str]) -> dict[str, str]:
        """Return who created each of the requests (the actor of `request.created`)."""
        if not request_ids:
            return {}
        query = select(AuditEntry.request_id, AuditEntry.actor).where(
            AuditEntry.request_id.in_(list(request_ids)),
            AuditEntry.action == "request.created",
        )
        return {str(request_id): str(actor) for request_id, actor in self.session.execute(query)}

    def page(
        self,
        where: AuditFilter,
        *,
        older_than: int | None = None,
        newer_than: int | None = None,
        limit: int = 50,
    ) -> AuditPage:
        """Return one page of matching entries, newest first, keyed on `seq` (not offset).

        Action, request and subject filter in SQL (the last two by their indexes); a
        date range becomes a range of `seq` found by bisecting the primary key, since
        entries are appended in time order, so no index on `at` is needed.
        """
        table = AUDIT_ENTRY
        conditions: list[ColumnElement[bool]] = []
        if where.action is not None:
            conditions.append(table.c.action == where.action)
            if where.action != HOT_AUDIT_ACTION:
                # Stated so SQLite sees that the partial action index covers the query.
                conditions.append(table.c.action != literal_column(f"'{HOT_AUDIT_ACTION}'"))
        if where.request_id is not None:
            conditions.append(table.c.request_id == where.request_id)
        if where.subject_ref is not None:
            conditions.append(table.c.subject_ref == where.subject_ref)
        if where.from_day is not None:
            start = _midnight(where.from_day)
            conditions.append(table.c.seq >= self._first_seq_from(start) - DATE_SLACK)
            conditions.append(table.c.at >= start)
        if where.to_day is not None:
            end = _midnight(where.to_day + timedelta(days=1))
            conditions.append(table.c.seq < self._first_seq_from(end) + DATE_SLACK)
            conditions.append(table.c.at < end)
        query = select(table).where(*conditions).limit(limit + 1)
        # A request's or subject's few entries come from their index, then are sorted:
        # walking the primary key in order instead would read past most of the log.
        order: ColumnElement[int] = table.c.seq
        if where.request_id is not None or where.subject_ref is not None:
            order = table.c.seq + 0
        if newer_than is not None:
            rows = self._records(query.where(table.c.seq > newer_than).order_by(order))
            more_newer, rows = len(rows) > limit, rows[:limit]
            rows.reverse()
            more_older = True
        else:
            if older_than is not None:
                query = query.where(table.c.seq < older_than)
            rows = self._records(query.order_by(order.desc()))
            more_older, rows = len(rows) > limit, rows[:limit]
            more_newer = older_than is not None
        return AuditPage(
            entries=tuple(rows),
            older_than=rows[-1].seq if rows and more_older else None,
            newer_than=rows[0].seq if rows and more_newer else None,
        )

    def _records(self, query: Any) -> list[AuditRecord]:
        return [AuditRecord(**row._mapping) for row in self.session.connection().execute(query)]

    def _first_seq_from(self, moment: datetime) -> int:
        """Search the log for the first entry at or after a moment (the head + 1 if none).

        Like bisection, but each round reads SEARCH_FANOUT evenly spaced entries by
        primary key in one statement and keeps the gap the moment falls in: three
        rounds cover a million entries, where bisection needs twenty round trips.
        """
        low, high = 1, self.head()[0] + 1  # the answer lies in [low, high]
        while low < high:
            step = max(1, -(-(high - low) // SEARCH_FANOUT))
            probes = list(range(low, high, step))
            seen = self.session.connection().execute(
                select(AUDIT_ENTRY.c.seq, AUDIT_ENTRY.c.at)
                .where(AUDIT_ENTRY.c.seq.in_(probes))
                .order_by(AUDIT_ENTRY.c.seq)
            )
            before = low - 1
            for seq, at in seen:
                if at >= moment:
                    high = seq
                    break
                before = seq
            else:
                before = max(before, probes[-1])
            if step == 1:
                return high
            low = before + 1
        return low


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def find_query(
    *, subject_ref: str | None, request_id: str | None, after: int | None, limit: int
) -> Select[AuditEntry]:
    """Select one page of entries in chain order, after seq `after`, optionally filtered."""
    query = select(AuditEntry).order_by(AuditEntry.seq).limit(limit)
    if after is not None:
        query = query.where(AuditEntry.seq > after)
    if subject_ref is not None:
        query = query.where(AuditEntry.subject_ref == subject_ref)
    if request_id is not None:
        query = query.where(AuditEntry.request_id == request_id)
    return query


def to_record(entry: AuditEntry) -> AuditRecord:
    """Copy a row into the plain record the domain checks."""
    return AuditRecord(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        subject_ref=entry.subject_ref,
        request_id=entry.request_id,
        details=entry.details,
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )
