"""Append to and read the hash-chained audit log."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from feedbackvault.domain.audit import AuditRecord, canonical_details, record_hash
from feedbackvault.storage.data_models import (
    AUDIT_ENTRY,
    AUDIT_HEAD,
    AuditEntry,
)
from feedbackvault.storage.driver_statements import (
    DriverCursor,
    DriverStatement,
    driver_cursor,
    insert_row,
    insert_sql,
    once_per_dialect,
    prepare,
)

HEAD_ID = 1
# Rows fetched per round trip while walking the whole chain.
VERIFY_BATCH = 5_000


@dataclass(frozen=True)
class _AppendStatements:
    lock_head: DriverStatement
    insert_entry: DriverStatement
    move_head: DriverStatement
    # PostgreSQL: the entry's insert and the head's move in one statement.
    insert_and_move: DriverStatement | None


@once_per_dialect
def _append_statements(dialect: Dialect) -> _AppendStatements:
    read_head = "SELECT seq, hash FROM audit_head WHERE id = :id"
    if dialect.name == "postgresql":
        # SQLite has no row locks: its writers already hold the database's write lock.
        read_head += " FOR UPDATE"
    move_head = "UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = :head_id"
    insert_and_move = None
    if dialect.name == "postgresql":
        entry, types = insert_sql(AUDIT_ENTRY)
        insert_and_move = prepare(dialect, f"WITH new_entry AS ({entry}) {move_head}", types)
    return _AppendStatements(
        lock_head=prepare(dialect, read_head, {}),
        insert_entry=insert_row(dialect, AUDIT_ENTRY),
        move_head=prepare(dialect, move_head, {}),
        insert_and_move=insert_and_move,
    )


class AuditAppender:
    """Appends to the audit log on one transaction's driver cursor."""

    def __init__(self, cursor: DriverCursor) -> None:
        self.cursor = cursor
        self.statements = _append_statements(cursor.dialect)

    def append(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        subject_ref: str | None = None,
        request_id: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> AuditRecord:
        """Append one entry, serialised on the chain head; return it as a plain record.

        Three statements (lock and read the head, insert, move the head), two on
        PostgreSQL: every write use case pays for this.
        """
        ((seq, prev_hash),) = self.cursor.fetchall(self.statements.lock_head, {"id": HEAD_ID})
        unsealed = AuditRecord(
            seq=seq + 1,
            at=at,
            actor=actor,
            action=action,
            subject_ref=subject_ref,
            request_id=request_id,
            details=canonical_details(details or {}),
            prev_hash=prev_hash,
            hash="",
        )
        record = replace(unsealed, hash=record_hash(unsealed))
        # A shallow copy: asdict() would deep-copy every string and datetime.
        values = {**vars(record), "head_id": HEAD_ID}
        if self.statements.insert_and_move is not None:
            self.cursor.run(self.statements.insert_and_move, values)
        else:
            self.cursor.run(self.statements.insert_entry, values)
            self.cursor.run(self.statements.move_head, values)
        return record


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
        record = AuditAppender(driver_cursor(self.session)).append(
            at=at,
            actor=actor,
            action=action,
            subject_ref=subject_ref,
            request_id=request_id,
            details=details,
        )
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

    def records(self, up_to: int) -> Iterator[AuditRecord]:
        """Yield the entries up to sequence number `up_to` in chain order, a batch at a time."""
        last = 0
        while True:
            batch = self.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.seq > last, AuditEntry.seq <= up_to)
                .order_by(AuditEntry.seq)
                .limit(VERIFY_BATCH)
            ).all()
            if not batch:
                return
            for entry in batch:
                yield to_record(entry)
            last = batch[-1].seq
            self.session.expunge_all()

    def find(
        self, *, subject_ref: str | None = None, request_id: str | None = None, limit: int = 1000
    ) -> list[AuditRecord]:
        """Return the entries about one subject or one request, oldest first."""
        query = select(AuditEntry).order_by(AuditEntry.seq).limit(limit)
        if subject_ref is not None:
            query = query.where(AuditEntry.subject_ref == subject_ref)
        if request_id is not None:
            query = query.where(AuditEntry.request_id == request_id)
        return [to_record(entry) for entry in self.session.scalars(query)]


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
