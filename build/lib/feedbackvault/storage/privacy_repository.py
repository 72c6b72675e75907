"""Store data-subject requests (access, rectification, erasure) in the data database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from feedbackvault.storage.data_models import PRIVACY_REQUEST, PrivacyRequest
from feedbackvault.storage.driver_statements import (
    DriverCursor,
    DriverStatement,
    RowReader,
    columns_of,
    insert_row,
    once_per_dialect,
    prepare,
    row_reader,
)

# Statuses in which a request still has to be answered (and can become overdue).
OPEN_STATUSES = ("received", "verified")


class PrivacyRequestRepository:
    """Data-subject requests inside one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, request: PrivacyRequest) -> None:
        """Insert a new request."""
        self.session.add(request)
        self.session.flush()

    def get_for_update(self, request_id: str) -> PrivacyRequest | None:
        """Load a request and lock it until the transaction ends."""
        return self.session.scalars(
            select(PrivacyRequest).where(PrivacyRequest.id == request_id).with_for_update()
        ).first()

    def listing(self, status: str | None, now: datetime, limit: int) -> list[PrivacyRequest]:
        """List requests, oldest first; `overdue` means open and past its due date."""
        query: Select[tuple[PrivacyRequest]] = select(PrivacyRequest)
        if status == "overdue":
            query = query.where(
                PrivacyRequest.status.in_(OPEN_STATUSES), PrivacyRequest.due_at < now
            )
        elif status is not None:
            query = query.where(PrivacyRequest.status == status)
        query = query.order_by(PrivacyRequest.received_at, PrivacyRequest.id).limit(limit)
        return list(self.session.scalars(query))

    def queue(
        self, status: str | None, kind: str | None, now: datetime, limit: int, offset: int
    ) -> list[PrivacyRequest]:
        """List requests for the console's queue: open ones by due date, closed ones newest first.

        The earliest due date comes first, so overdue requests lead the queue.
        """
        query: Select[tuple[PrivacyRequest]] = select(PrivacyRequest)
        if status == "overdue":
            query = query.where(
                PrivacyRequest.status.in_(OPEN_STATUSES), PrivacyRequest.due_at < now
            )
        elif status is not None:
            query = query.where(PrivacyRequest.status == status)
        if kind is not None:
            query = query.where(PrivacyRequest.kind == kind)
        if status is None or status == "overdue" or status in OPEN_STATUSES:
            query = query.order_by(
                PrivacyRequest.status.not_in(OPEN_STATUSES),
                PrivacyRequest.due_at,
                PrivacyRequest.id,
            )
        else:
            query = query.order_by(PrivacyRequest.received_at.desc(), PrivacyRequest.id)
        return list(self.session.scalars(query.limit(limit).offset(offset)))

    def counts(self, now: datetime) -> dict[str, int]:
        """Count requests per status, and the open ones past their due date as `overdue`."""
        by_status = {
            str(status): int(count)
            for status, count in self.session.execute(
                select(PrivacyRequest.status, func.count()).group_by(PrivacyRequest.status)
            )
        }
        overdue = self.session.scalar(
            select(func.count()).where(
                PrivacyRequest.status.in_(OPEN_STATUSES), PrivacyRequest.due_at < now
            )
        )
        return {**by_status, "overdue": int(overdue or 0)}


@dataclass(frozen=True)
class _RequestStatements:
    insert: DriverStatement
    mark_verified: DriverStatement
    status: DriverStatement
    get: DriverStatement
    lock: DriverStatement
    complete: DriverStatement
    reader: RowReader


@once_per_dialect
def _request_statements(dialect: Dialect) -> _RequestStatements:
    types = {column.key: column.type for column in PRIVACY_REQUEST.columns}
    returned = columns_of(PRIVACY_REQUEST)
    mark_verified = (
        "UPDATE privacy_request SET status = 'verified', verified_at = :verified_at,"  # noqa: S608 - the table's own names
        " verification_method = :verification_method WHERE id = :id AND status = 'received'"
        f" RETURNING {returned}"
    )
    # SQLite has no row locks: the unit's transaction holds the database's write lock.
    lock = "FOR UPDATE" if dialect.name == "postgresql" else ""
    # Completed, with its identifier digests forgotten (`services.privacy_requests.close`).
    complete = (
        "UPDATE privacy_request SET status = 'completed', completed_at = :completed_at,"
        " subject_refs = :subject_refs, result = :result, email_digest = NULL,"
        " customer_id_digest = NULL WHERE id = :id"
    )
    return _RequestStatements(
        insert=insert_row(dialect, PRIVACY_REQUEST),
        mark_verified=prepare(dialect, mark_verified, types),
        status=prepare(dialect, "SELECT status FROM privacy_request WHERE id = :id", {}),
        get=prepare(dialect, f"SELECT {returned} FROM privacy_request WHERE id = :id", {}),  # noqa: S608 - the table's own names
        lock=prepare(
            dialect,
            f"SELECT {returned} FROM privacy_request WHERE id = :id {lock}",  # noqa: S608 - the table's own names
            {},
        ),
        complete=prepare(dialect, complete, types),
        reader=row_reader(dialect, PRIVACY_REQUEST),
    )


class PrivacyRequestRows:
    """The steps of a request that run on a transaction's driver cursor, pipelined.

    Creating and verifying a request are one round trip each on PostgreSQL (two for
    verifying), where the ORM's flush, its locking read and the commit cost five.
    """

    def __init__(self, cursor: DriverCursor) -> None:
        self.cursor = cursor
        self.statements = _request_statements(cursor.dialect)

    def add(self, request: PrivacyRequest) -> None:
        """Insert a new request (an object not added to any session); nothing is answered."""
        values = {column: getattr(request, column) for column in self.statements.reader.names}
        self.cursor.run(self.statements.insert, values)

    def mark_verified(self, request_id: str, at: datetime, method: str) -> PrivacyRequest | None:
        """Move a received request to verified in one statement; return it as it now is.

        Returns None when no request with that id is received (`status_of` tells why). A
        concurrent change of the same request waits for this one's commit, or this one
        for its commit, and then finds it no longer received.
        """
        values = {"id": request_id, "verified_at": at, "verification_method": method}
        rows = self.cursor.fetchall(self.statements.mark_verified, values)
        if not rows:
            return None
        return PrivacyRequest(**self.statements.reader.values(rows[0]))

    def get(self, request_id: str) -> PrivacyRequest | None:
        """Read a request by id (an object in no session), or None."""
        rows = self.cursor.fetchall(self.statements.get, {"id": request_id})
        return PrivacyRequest(**self.statements.reader.values(rows[0])) if rows else None

    def lock(self, request_id: str) -> Callable[[], PrivacyRequest | None]:
        """Send the read that locks a request until the transaction ends; return its reader.

        In a pipeline the read goes out with whatever is sent before the reader is
        called, and the reader then waits for it (None: no such request).
        """
        sent = self.cursor.send(self.statements.lock, {"id": request_id})

        def locked() -> PrivacyRequest | None:
            rows = sent.rows()
            return PrivacyRequest(**self.statements.reader.values(rows[0])) if rows else None

        return locked

    def complete(self, request: PrivacyRequest) -> None:
        """Store a request's completion as `close` set it on the object; nothing is answered."""
        values = {column: getattr(request, column) for column in self.statements.reader.names}
        self.cursor.run(self.statements.complete, values)

    def status_of(self, request_id: str) -> str | None:
        """Return a request's status, or None when there is no such request."""
        rows = self.cursor.fetchall(self.statements.status, {"id": request_id})
        return str(rows[0][0]) if rows else None
