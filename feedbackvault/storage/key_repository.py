"""Store wrapped data keys and blind-index digests in the key store."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from feedbackvault.storage.database import ignoring_insert, row_values
from feedbackvault.storage.keystore_models import (
    SUBJECT_KEY,
    SUBJECT_LOOKUP,
    SubjectKey,
    SubjectLookup,
)

# The columns of an index entry, as the multi-row insert names its parameters.
LOOKUP_COLUMNS = ("kind", "version", "digest", "subject_id")

# Keys rewrapped per round trip during rotation.
REWRAP_BATCH = 1_000


class KeyRepository:
    """Subject keys and lookups inside one key-store transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def find_subject(self, kind: str, version: int, digest: bytes) -> str | None:
        """Return the subject an identifier digest points at."""
        return self.session.scalar(
            select(SubjectLookup.subject_id).where(
                SubjectLookup.kind == kind,
                SubjectLookup.version == version,
                SubjectLookup.digest == digest,
            )
        )

    def find_subjects(self, version: int, digests: Mapping[Any, bytes]) -> dict[str, str]:
        """Return, per identifier kind, the subject its digest points at (one query)."""
        if not digests:
            return {}
        kinds = tuple(str(kind) for kind in digests)
        parameters = {f"digest_{kind}": digest for kind, digest in digests.items()}
        rows = self.session.connection().execute(
            _lookup_statement(kinds), {"version": version, **parameters}
        )
        return {str(kind): str(subject_id) for kind, subject_id in rows}

    def add_lookups(self, lookups: Sequence[SubjectLookup]) -> bool:
        """Insert index entries in one statement; return False when a digest is taken already.

        Insert-or-ignore, so a race loser sees fewer rows come back than it inserted
        instead of an error that would end its transaction.
        """
        if not lookups:
            return True
        dialect = self.session.get_bind().dialect.name
        parameters = {
            f"{column}_{i}": getattr(lookup, column)
            for i, lookup in enumerate(lookups)
            for column in LOOKUP_COLUMNS
        }
        rows = self.session.connection().execute(
            _insert_lookups_statement(dialect, len(lookups)), parameters
        )
        return len(rows.all()) == len(lookups)

    def remove_lookups(
        self, version: int, subject_id: str, entries: Iterable[tuple[str, bytes]]
    ) -> None:
        """Delete the named index entries of one subject."""
        for kind, digest in entries:
            self.session.execute(
                delete(SubjectLookup).where(
                    SubjectLookup.kind == kind,
                    SubjectLookup.version == version,
                    SubjectLookup.digest == digest,
                    SubjectLookup.subject_id == subject_id,
                )
            )

    def add_key(self, key: SubjectKey) -> None:
        """Insert a subject's wrapped data key (a new object; not attached to the session)."""
        self.session.connection().execute(insert(SUBJECT_KEY), row_values(key))

    def key_of(self, subject_id: str) -> SubjectKey | None:
        """Return a detached copy of the newest wrapped data key of a subject."""
        row = (
            self.session.connection()
            .execute(
                select(SUBJECT_KEY)
                .where(SUBJECT_KEY.c.subject_id == subject_id)
                .order_by(SUBJECT_KEY.c.dek_version.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        return None if row is None else SubjectKey(**row)

    def subjects_keyed_before(self, cutoff: datetime, *, after: str, limit: int) -> list[str]:
        """List subjects whose first key is older than `cutoff`, by id after `after`."""
        query = (
            select(SUBJECT_KEY.c.subject_id)
            .where(SUBJECT_KEY.c.subject_id > after)
            .group_by(SUBJECT_KEY.c.subject_id)
            .having(func.min(SUBJECT_KEY.c.created_at) < cutoff)
            .order_by(SUBJECT_KEY.c.subject_id)
            .limit(limit)
        )
        rows = self.session.connection().execute(query)
        return [str(subject_id) for subject_id in rows.scalars()]

    def keys_of(self, subject_ids: Iterable[str]) -> dict[str, SubjectKey]:
        """Return the newest wrapped key of each subject named."""
        found: dict[str, SubjectKey] = {}
        rows = self.session.scalars(
            select(SubjectKey)
            .where(SubjectKey.subject_id.in_(list(subject_ids)))
            .order_by(SubjectKey.dek_version)
        )
        for row in rows:
            found[row.subject_id] = row
        return found

    def batches_under_other_keks(self, kek_id: str) -> Iterator[list[SubjectKey]]:
        """Yield batches of keys not yet wrapped under `kek_id`."""
        while True:
            batch = list(
                self.session.scalars(
                    select(SubjectKey)
                    .where(SubjectKey.kek_id != kek_id)
                    .order_by(SubjectKey.subject_id, SubjectKey.dek_version)
                    .limit(REWRAP_BATCH)
                )
            )
            if not batch:
                return
            yield batch

    def rewrap(self, key: SubjectKey, kek_id: str, wrapped: bytes) -> None:
        """Store a key rewrapped under another KEK."""
        self.session.execute(
            update(SubjectKey)
            .where(
                SubjectKey.subject_id == key.subject_id, SubjectKey.dek_version == key.dek_version
            )
            .values(kek_id=kek_id, wrapped_dek=wrapped)
        )

    def kek_ids_in_use(self) -> set[str]:
        """Name every KEK that still wraps at least one data key."""
        return set(self.session.scalars(select(SubjectKey.kek_id).distinct()))


@functools.cache
def _lookup_statement(kinds: tuple[str, ...]) -> Select[Any]:
    """Build, once per combination of kinds, the query for the owners of their digests."""
    matches = or_(
        *(
            and_(
                SUBJECT_LOOKUP.c.kind == kind,
                SUBJECT_LOOKUP.c.digest == bindparam(f"digest_{kind}"),
            )
            for kind in kinds
        )
    )
    return select(SUBJECT_LOOKUP.c.kind, SUBJECT_LOOKUP.c.subject_id).where(
        SUBJECT_LOOKUP.c.version == bindparam("version"), matches
    )


@functools.cache
def _insert_lookups_statement(dialect: str, count: int) -> ReturningInsert[Any]:
    """Build, once per dialect and row count, an insert-or-ignore of index entries.

    It returns the rows it inserted: a row count is not reliable for a multi-row
    INSERT on every driver (psycopg reports -1), the rows themselves are.
    """
    rows: list[dict[str, Any]] = [
        {column: bindparam(f"{column}_{i}") for column in LOOKUP_COLUMNS} for i in range(count)
    ]
    return ignoring_insert(dialect, SUBJECT_LOOKUP).values(rows).returning(SUBJECT_LOOKUP.c.kind)
