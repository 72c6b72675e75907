"""The shred queue: subjects a sweep batch may have emptied, checked and shredded apart.

A batch queues them in its own transaction (`RetentionRepository`); the sweep's
second connection takes them off (`take_queued`), deletes those nothing names any
more (`delete_emptied_subjects`) and queues again those another transaction holds
(`requeue_held`). Also the row-address helpers the sweep's statements share.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    any_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    text,
    true,
)

from feedbackvault.storage.bulk import add_tombstones, among, chunks, id_array, ids_to_rows
from feedbackvault.storage.data_models import (
    CONSENT,
    ERASURE_TOMBSTONE,
    RESPONSE,
    SHRED_QUEUE,
    SUBJECT,
)
from feedbackvault.storage.retention_counts import RetentionCounts


def queued_at(now: datetime) -> ColumnElement[datetime]:
    """Bind a moment as the shred queue's column type stores it."""
    return bindparam(None, now, type_=SHRED_QUEUE.c.queued_at.type)


def _names_nothing() -> ColumnElement[bool]:
    """Select subjects no response and no consent record names."""
    return ~exists().where(RESPONSE.c.subject_id == SUBJECT.c.id) & ~exists().where(
        CONSENT.c.subject_id == SUBJECT.c.id
    )


class ShredQueue(RetentionCounts):
    """The shred queue and the subjects it names, inside one data transaction."""

    def _address(self, table: Table) -> ColumnElement[Any]:
        """Name a row's physical address: PostgreSQL's ctid, SQLite's rowid.

        A SQLite table WITHOUT ROWID (the subject's) is stored by its primary key,
        which is then its address.
        """
        if self._postgres:
            return literal_column(f"{table.name}.ctid")
        if table.dialect_options["sqlite"]["with_rowid"] is False:
            [key] = table.primary_key.columns
            return key
        return literal_column(f"{table.name}.rowid")

    def _without_jit(self) -> None:
        """Turn PostgreSQL's JIT compilation off for the rest of the transaction.

        The estimates of a batch's thousands of index lookups pass jit_above_cost, and
        compiling a plan took longer (60 ms) than running it.
        """
        self.session.execute(text("SET LOCAL jit = off"))

    def _at(self, table: Table, addresses: Select[Any]) -> ColumnElement[bool]:
        """Match the rows whose address the one-column query returns (a Tid scan on PostgreSQL)."""
        if self._postgres:
            # `= ANY` of one array is always a Tid scan that fetches exactly those rows;
            # `ctid IN (SELECT ...)` leaves the planner a join to choose on a guessed size.
            return self._address(table) == any_(func.array(addresses.scalar_subquery()))
        return self._address(table).in_(addresses)

    def queue_subjects(self, subject_ids: Sequence[str], now: datetime) -> None:
        """Put subjects on the shred queue."""
        rows = [{"subject_id": subject_id, "queued_at": now} for subject_id in subject_ids]
        if rows:
            ids_to_rows(self.session, insert(SHRED_QUEUE), rows)

    def take_queued(self, limit: int) -> list[str]:
        """Take up to `limit` entries off the shred queue; return their subjects, once each.

        On PostgreSQL, entries another shredder has taken are skipped (SKIP LOCKED).
        The entries are gone when the transaction commits, so a shredder that fails
        leaves them for the next.
        """
        chosen = select(self._address(SHRED_QUEUE)).select_from(SHRED_QUEUE).limit(limit)
        if self._postgres:
            chosen = chosen.with_for_update(skip_locked=True)
        taken = self.session.scalars(
            delete(SHRED_QUEUE)
            .where(self._at(SHRED_QUEUE, chosen))
            .returning(SHRED_QUEUE.c.subject_id)
        )
        return sorted(set(taken))

    def requeue_held(self, subject_ids: Sequence[str], now: datetime) -> int:
        """Queue again those of these subjects that have a row and nothing naming it.

        Called with the candidates `delete_emptied_subjects` did not delete: such a
        one was empty but held by another transaction (a submission for a returning
        respondent, another shredder) and must be looked at again once that ends.
        """
        queued = 0
        for chunk in chunks(self.session, list(subject_ids)):
            still_empty = select(SUBJECT.c.id, queued_at(now)).where(
                among(self.session, SUBJECT.c.id, chunk), _names_nothing()
            )
            statement = insert(SHRED_QUEUE).from_select(["subject_id", "queued_at"], still_empty)
            # RETURNING to count them: psycopg gives no row count for INSERT ... SELECT here.
            queued += len(self.session.scalars(statement.returning(SHRED_QUEUE.c.subject_id)).all())
        return queued

    def count_queued(self) -> int:
        """Count the subjects waiting in the shred queue."""
        query = select(func.count(func.distinct(SHRED_QUEUE.c.subject_id)))
        return int(self.session.scalar(query) or 0)

    def delete_emptied_subjects(
        self, candidates: Sequence[str], now: datetime, reason: str
    ) -> list[str]:
        """Delete those candidate subjects no response and no consent refers to; return their ids.

        Each gets an erasure tombstone that keeps only its random id, so that replaying
        erasures after a backup restore shreds it again. On PostgreSQL a subject another
        transaction holds is skipped (SKIP LOCKED): that one still has work going on.
        """
        emptied = (
            select(self._address(SUBJECT).label("address"))
            .select_from(SUBJECT)
            .where(_names_nothing())
        )
        ids: list[str] = []
        if self._postgres:
            self._without_jit()
            emptied = emptied.with_for_update(skip_locked=True)
            ids = self._delete_subjects(self._among_by_key(sorted(candidates), emptied))
        else:
            for chunk in chunks(self.session, sorted(candidates)):
                ids += self._delete_subjects(emptied.where(SUBJECT.c.id.in_(list(chunk))))
        add_tombstones(self.session, ERASURE_TOMBSTONE, ids, {"erased_at": now, "reason": reason})
        return ids

    def _delete_subjects(self, addresses: Select[Any]) -> list[str]:
        statement = delete(SUBJECT).where(self._at(SUBJECT, addresses)).returning(SUBJECT.c.id)
        return list(self.session.scalars(statement))

    def _among_by_key(self, ids: Sequence[str], query: Select[Any]) -> Select[Any]:
        """Narrow a query on the subject table to `ids`, each looked up through the primary key.

        The ids go as one array that a LATERAL subquery walks: given the array's length,
        the planner preferred hashing it against a scan of the whole table (500,000
        subjects at 1,000,000 responses, ten times slower than the lookups).
        """
        wanted = func.unnest(id_array(ids)).table_valued("id").render_derived(name="wanted")
        picked = query.where(SUBJECT.c.id == wanted.c.id).lateral("picked")
        return select(picked.c.address).select_from(wanted).join(picked, true())
