"""Sweep expired responses and consents, and delete emptied subjects, in set-based SQL.

The sweep has to keep up with tens of thousands of expired rows a second, so rows
do not travel to Python and back: a batch is a few statements that pick, lock,
delete or anonymise, put the subjects that may have been left with nothing on the
shred queue (`shred_queue.py`) and return only counts per purpose.

On PostgreSQL the responses of a batch are one statement of data-modifying CTEs.
Rows are locked with `FOR UPDATE SKIP LOCKED`, so several sweepers share the work
without waiting on each other, and then changed through their physical address
(`ctid`): the lock keeps it valid until the commit, and a lookup by address skips
the primary-key index a lookup by id walks. Every part of such a statement reads
the same snapshot, so whether a subject is left with nothing is asked once the
batch has committed, by whoever takes it off the queue. SQLite has no
data-modifying CTEs and runs one writer at a time (`BEGIN IMMEDIATE`), so it
needs no locks: the picked rows go to a temporary table and a few statements
work from it by rowid.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    any_,
    column,
    delete,
    exists,
    false,
    func,
    insert,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.schema import CreateTable

from feedbackvault.storage.anonymised import anonymised_values
from feedbackvault.storage.data_models import (
    CONSENT,
    RESPONSE,
    SHRED_QUEUE,
)
from feedbackvault.storage.database import responses_unlinked_already
from feedbackvault.storage.retention_counts import response_is_live
from feedbackvault.storage.shred_queue import ShredQueue, queued_at

# The responses of one SQLite batch, by rowid: a temporary table of the connection
# (SQLite has no data-modifying CTEs), outside the schema the migrations build.
_SQLITE_PICKED = Table(
    "sweep_picked",
    MetaData(),
    Column("ref", Integer, primary_key=True),
    Column("purpose", String, nullable=False),
    Column("subject_id", String),
    Column("consent_id", String),
    Column("consent_live", Boolean, nullable=False),
    Column("anonymise", Boolean, nullable=False),
    prefixes=["TEMPORARY"],
)

# The kinds of row a PostgreSQL batch statement returns: (kind, purpose, count).
_DELETED, _ANONYMISED, _CONSENT = "deleted", "anonymised", "consent"


@dataclass
class SweptBatch:
    """What one batch removed, in counts per purpose.

    The subjects it may have emptied (those of its rows that held no consent still
    standing) went to the shred queue in the same transaction.
    """

    deleted: Counter[str] = field(default_factory=Counter)
    anonymised: Counter[str] = field(default_factory=Counter)
    consents_removed: Counter[str] = field(default_factory=Counter)

    @property
    def handled(self) -> int:
        """Count the responses and consent records the batch removed."""
        return sum((self.deleted + self.anonymised + self.consents_removed).values())


class RetentionRepository(ShredQueue):
    """Expired responses, consents and emptied subjects inside one data transaction."""

    def sweep_expired_responses(
        self, now: datetime, limit: int, anonymise: Sequence[str], *, anonymising: bool
    ) -> SweptBatch:
        """Remove up to `limit` expired responses, oldest expiry first, with their expired consents.

        Responses of the purposes in `anonymise` are anonymised, all others deleted;
        a batch takes only those to anonymise, or only the others (`anonymising`).
        A row whose consent record still stands, by the copy of the record's expiry
        the row carries (`consent_expires_at`), keeps the record and keeps the subject
        from being a candidate for shredding. Any other row's record is looked up by
        id, and deleted only if it has expired: a missing copy costs that lookup, and
        a row unlinked from its record has none to look up.
        """
        consent_live = RESPONSE.c.consent_id.is_not(None) & func.coalesce(
            RESPONSE.c.consent_expires_at > now, false()
        )
        of_mode = RESPONSE.c.purpose.in_(list(anonymise))
        pick = (
            self._picked_columns(consent_live, anonymise)
            .select_from(RESPONSE)
            .where(
                RESPONSE.c.expires_at <= now,
                RESPONSE.c.anonymised_at.is_(None),
                of_mode if anonymising else ~of_mode,
            )
            .order_by(RESPONSE.c.expires_at)
            .limit(limit)
        )
        return self._sweep_responses(pick, now)

    def sweep_unconsented_responses(
        self, now: datetime, limit: int, anonymise: Sequence[str]
    ) -> SweptBatch:
        """Remove up to `limit` unexpired responses whose consent record expired, and the record."""
        pick = (
            self._picked_columns(false(), anonymise)
            .select_from(RESPONSE.join(CONSENT, CONSENT.c.id == RESPONSE.c.consent_id))
            .where(CONSENT.c.expires_at <= now, response_is_live(now))
            .order_by(CONSENT.c.expires_at)
            .limit(limit)
        )
        return self._sweep_responses(pick, now)

    def sweep_bare_consents(self, now: datetime, limit: int) -> SweptBatch:
        """Delete up to `limit` expired consent records no response refers to any more.

        They are few (withdrawn consents, and those kept longer than their responses),
        so their purposes and subjects come back as rows.
        """
        chosen = (
            select(self._address(CONSENT).label("address"))
            .select_from(CONSENT)
            .where(
                CONSENT.c.expires_at <= now,
                ~exists().where(RESPONSE.c.consent_id == CONSENT.c.id),
            )
            .order_by(CONSENT.c.expires_at)
            .limit(limit)
        )
        if self._postgres:
            self._without_jit()
            chosen = chosen.with_for_update(skip_locked=True)
        removed = self.session.execute(
            delete(CONSENT)
            .where(self._at(CONSENT, chosen))
            .returning(CONSENT.c.purpose, CONSENT.c.subject_id)
        ).all()
        self.queue_subjects(sorted({row.subject_id for row in removed if row.subject_id}), now)
        return SweptBatch(consents_removed=Counter(row.purpose for row in removed))

    def _picked_columns(
        self, consent_live: ColumnElement[bool], anonymise: Sequence[str]
    ) -> Select[Any]:
        return select(
            self._address(RESPONSE).label("ref"),
            RESPONSE.c.purpose,
            RESPONSE.c.subject_id,
            RESPONSE.c.consent_id,
            consent_live.label("consent_live"),
            RESPONSE.c.purpose.in_(list(anonymise)).label("anonymise"),
        )

    def _sweep_responses(self, pick: Select[Any], now: datetime) -> SweptBatch:
        if self._postgres:
            return self._sweep_responses_in_one_statement(pick, now)
        return self._sweep_responses_in_steps(pick, now)

    def _sweep_responses_in_one_statement(self, pick: Select[Any], now: datetime) -> SweptBatch:
        """Lock, delete, anonymise and take the expired consents of a batch in one statement.

        Only counts per purpose and the candidate subject ids come back (measured per
        10,000 rows: shipping the rows to Python and their addresses back cost 0.1 s).
        The counts are of what the DELETE and UPDATE returned: a row another transaction
        changed after this statement's snapshot is locked but not seen by them, and is
        left for the next batch.
        """
        self._without_jit()
        picked = pick.with_for_update(of=RESPONSE, skip_locked=True).cte("picked")
        # The address as a column of `response` (not literal text), so that SQLAlchemy
        # sees the join with `picked` and renders DELETE ... USING, UPDATE ... FROM.
        at_picked = column("ctid", _selectable=RESPONSE) == picked.c.ref
        # Each returns, beside the purpose, the consent of every row it really handled.
        handled = (RESPONSE.c.purpose, picked.c.consent_id, picked.c.consent_live)
        deleted = (
            delete(RESPONSE)
            .where(at_picked, ~picked.c.anonymise)
            .returning(*handled)
            .cte("deleted")
        )
        anonymised = (
            update(RESPONSE)
            .where(at_picked, picked.c.anonymise)
            .values(anonymised_values(now, postgres=self._postgres))
            .returning(*handled)
            .cte("anonymised")
        )
        gone = union_all(
            select(deleted.c.consent_id, deleted.c.consent_live),
            select(anonymised.c.consent_id, anonymised.c.consent_live),
        ).subquery("gone")
        # Consents another transaction holds (a withdrawal) are skipped, not waited
        # for: a later sweep finds them bare. Waiting could deadlock with a withdrawal
        # that holds its consent and waits for one of this batch's responses.
        expired_consents = (
            select(self._address(CONSENT).label("address"))
            .select_from(CONSENT)
            .where(self._consent_of(gone), CONSENT.c.expires_at <= now)
            .with_for_update(skip_locked=True)
        )
        consents = (
            delete(CONSENT)
            .where(self._at(CONSENT, expired_consents))
            .returning(CONSENT.c.purpose)
            .cte("consents")
        )
        queued = self._queue_candidates(picked, now).cte("queued")
        outcome = union_all(
            _tally(_DELETED, deleted.c.purpose),
            _tally(_ANONYMISED, anonymised.c.purpose),
            _tally(_CONSENT, consents.c.purpose),
        ).add_cte(queued)
        # A record goes only with the response this statement removed, and no other
        # response names it (unique ix_response_consent_id): the unlink trigger has
        # nothing to find, so it is told to skip its search (migration 0010).
        with responses_unlinked_already(self.session):
            rows = self.session.execute(outcome).all()
        return _swept(rows)

    def _consent_of(self, rows: Any) -> ColumnElement[bool]:
        """Match the consent records of these rows not known to stand, by primary key."""
        ids = select(rows.c.consent_id).where(~rows.c.consent_live, rows.c.consent_id.is_not(None))
        if self._postgres:
            # One array, so the probes go through pk_consent whatever the planner guesses.
            return CONSENT.c.id == any_(func.array(ids.scalar_subquery()))
        return CONSENT.c.id.in_(ids)

    def _queue_candidates(self, picked: Any, now: datetime) -> Any:
        """Queue the subjects of picked rows that held no consent still standing."""
        candidates = (
            select(picked.c.subject_id, queued_at(now))
            .where(~picked.c.consent_live, picked.c.subject_id.is_not(None))
            .distinct()
        )
        return insert(SHRED_QUEUE).from_select(["subject_id", "queued_at"], candidates)

    def _sweep_responses_in_steps(self, pick: Select[Any], now: datetime) -> SweptBatch:
        """Run a batch on SQLite: pick into a temporary table, then a statement per step."""
        picked = _SQLITE_PICKED
        self.session.execute(CreateTable(picked, if_not_exists=True))
        self.session.execute(insert(picked).from_select(list(picked.c.keys()), pick))
        deleted = self.session.execute(
            delete(RESPONSE).where(
                self._at(RESPONSE, select(picked.c.ref).where(~picked.c.anonymise))
            )
        )
        anonymised = self.session.execute(
            update(RESPONSE)
            .where(self._at(RESPONSE, select(picked.c.ref).where(picked.c.anonymise)))
            .values(anonymised_values(now, postgres=self._postgres))
        )
        consents = self.session.scalars(
            delete(CONSENT)
            .where(self._consent_of(picked), CONSENT.c.expires_at <= now)
            .returning(CONSENT.c.purpose)
        )
        batch = SweptBatch(consents_removed=Counter(consents))
        per_mode = select(picked.c.anonymise, picked.c.purpose, func.count())
        for anonymise, purpose, count in self.session.execute(
            per_mode.group_by(picked.c.anonymise, picked.c.purpose)
        ):
            (batch.anonymised if anonymise else batch.deleted)[purpose] = count
        if (deleted.rowcount, anonymised.rowcount) != (  # type: ignore[attr-defined]
            batch.deleted.total(),
            batch.anonymised.total(),
        ):
            # SQLite runs one writer at a time; anything else is a bug, so roll back.
            raise RuntimeError("rows picked by the sweep changed under it")
        self.session.execute(self._queue_candidates(picked, now))
        # Emptied with the batch, so no subject id outlives it there (a failed batch
        # rolls its rows back with everything else).
        self.session.execute(delete(picked))
        return batch


def _tally(kind: str, purpose: ColumnElement[Any]) -> Select[Any]:
    """Count the rows a CTE returned per purpose, tagged with what happened to them."""
    return select(literal_column(f"'{kind}'"), purpose, func.count()).group_by(purpose)


def _swept(rows: Sequence[Any]) -> SweptBatch:
    """Collect the (kind, purpose, count) rows of a PostgreSQL batch."""
    batch = SweptBatch()
    tallies = {
        _DELETED: batch.deleted,
        _ANONYMISED: batch.anonymised,
        _CONSENT: batch.consents_removed,
    }
    for kind, purpose, count in rows:
        tallies[kind][purpose] = count
    return batch
