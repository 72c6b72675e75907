"""Store wrapped data keys and blind-index digests in the key store."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from feedbackvault.storage.bulk import array_literal
from feedbackvault.storage.driver_statements import DriverCursor, driver_cursor
from feedbackvault.storage.key_statements import submission_statements
from feedbackvault.storage.keystore_models import (
    SUBJECT_KEY,
    SubjectKey,
    SubjectLookup,
)

# Keys rewrapped per round trip during rotation.
REWRAP_BATCH = 1_000
# The advisory lock id under which KEKs are rotated and destroyed (any constant of the app's).
KEK_LIFECYCLE_LOCK = 0x6B656B6C  # "kekl"


class WrappedKey(NamedTuple):
    """A subject's stored data key as read on the submission path (no mapped object)."""

    subject_id: str
    dek_version: int
    kek_id: str
    wrapped_dek: bytes


class KeyClaim(NamedTuple):
    """What claiming identifiers for a new subject found and did (`KeyRows.claim`)."""

    # Per identifier kind already indexed, the subject it points at; nothing was
    # written when any was.
    owners: dict[str, str]
    # The newest wrapped key of each owner that still has one.
    keys: dict[str, WrappedKey]
    # The kinds indexed to the new subject; its key was stored only if all of them were.
    indexed: tuple[str, ...]


class KeyRows:
    """The key-store statements of a submission, on one transaction's driver cursor."""

    def __init__(self, cursor: DriverCursor) -> None:
        self.cursor = cursor
        self.statements = submission_statements(cursor.dialect)

    def find_subjects(self, version: int, digests: Mapping[Any, bytes]) -> dict[str, str]:
        """Return, per identifier kind, the subject its digest points at (one query)."""
        if not digests:
            return {}
        kinds = tuple(str(kind) for kind in digests)
        parameters: dict[str, Any] = {"version": version}
        for kind, digest in digests.items():
            parameters[f"kind_{kind}"], parameters[f"digest_{kind}"] = kind, digest
        statement = self.statements.find_owners(kinds)
        return {
            str(kind): str(subject_id)
            for kind, subject_id in self.cursor.fetchall(statement, parameters)
        }

    def shred(self, subject_ids: Sequence[str], at: datetime) -> tuple[int, int]:
        """Tombstone the subjects and delete their keys and index entries; count both.

        Safe to repeat: a subject tombstoned already keeps its tombstone. One statement
        on PostgreSQL, which in a pipelined unit goes out with the BEGIN; the COMMIT
        follows in a second round trip, where the session's shred took five.
        """
        if not subject_ids:
            return 0, 0
        self.cursor.shredded = True
        together = self.statements.shred_together
        if together is not None:
            values = {"ids": array_literal(subject_ids), "erased_at": at}
            [(keys, entries)] = self.cursor.fetchall(together, values)
            return int(keys), int(entries)
        values = {"ids": json.dumps(list(subject_ids)), "erased_at": at}
        tombstone, keys_of, entries_of = self.statements.shred_steps
        self.cursor.run(tombstone, values)
        keys = self.cursor.run(keys_of, values).rowcount
        return int(keys), int(self.cursor.run(entries_of, values).rowcount)

    def owners_and_keys(
        self, version: int, digests: Mapping[Any, bytes], also: Collection[str] = ()
    ) -> tuple[dict[str, str], dict[str, list[WrappedKey]]]:
        """Return who the digests point at and the data keys of those and the `also` subjects.

        One query: per identifier kind, the subject its digest points at; per subject
        that holds a key, every version it holds, oldest first.
        """
        kinds = tuple(str(kind) for kind in digests)
        extra = list(dict.fromkeys(also))
        if not kinds and not extra:
            return {}, {}
        parameters: dict[str, Any] = {"version": version}
        for kind, digest in digests.items():
            parameters[f"kind_{kind}"], parameters[f"digest_{kind}"] = kind, digest
        for i, subject_id in enumerate(extra):
            parameters[f"also_{i}"] = subject_id
        owners: dict[str, str] = {}
        held: dict[str, list[WrappedKey]] = {}
        statement = self.statements.owners_and_keys(kinds, len(extra))
        for kind, subject_id, dek_version, kek_id, wrapped in self.cursor.fetchall(
            statement, parameters
        ):
            if kind is not None:
                owners[str(kind)] = str(subject_id)
            else:
                key = WrappedKey(str(subject_id), int(dek_version), str(kek_id), bytes(wrapped))
                held.setdefault(key.subject_id, []).append(key)
        for versions in held.values():
            versions.sort(key=lambda key: key.dek_version)
        return owners, held

    def add_lookups(self, version: int, subject_id: str, digests: Mapping[Any, bytes]) -> bool:
        """Index a subject under one digest per kind; return False when a digest is taken.

        One statement, insert-or-ignore, so a race loser sees fewer rows come back than
        it inserted instead of an error that would end its transaction.
        """
        if not digests:
            return True
        parameters: dict[str, Any] = {}
        for i, (kind, digest) in enumerate(digests.items()):
            parameters[f"kind_{i}"], parameters[f"digest_{i}"] = kind, digest
            parameters[f"version_{i}"], parameters[f"subject_id_{i}"] = version, subject_id
        statement = self.statements.insert_lookups(len(digests))
        return len(self.cursor.fetchall(statement, parameters)) == len(digests)

    def add_key(self, key: Mapping[str, Any]) -> None:
        """Insert a subject's wrapped data key, given as the columns of `subject_key`."""
        self.cursor.run(self.statements.add_key, key)

    def claim(self, version: int, digests: Mapping[Any, bytes], key: Mapping[str, Any]) -> KeyClaim:
        """Find who the digests belong to or, when nobody, index them and store `key`.

        `key` is the new subject's wrapped data key (the columns of `subject_key`). When
        any digest is taken, nothing is written and the owners come back with their
        keys. When a concurrent claim takes a digest first, fewer kinds come back
        indexed than were given and the key is not stored: the caller takes the entries
        back and looks again. On PostgreSQL this is one statement, so on a connection
        in autocommit it is a whole transaction in one round trip; on SQLite it is two
        statements in the caller's transaction when nobody owns the digests, and four
        when somebody does (`_claim_in_steps`).
        """
        if not digests:
            self.add_key(key)
            return KeyClaim({}, {}, ())
        if self.cursor.dialect.name != "postgresql":
            return self._claim_in_steps(version, digests, key)
        parameters: dict[str, Any] = {**key, "version": version}
        for i, (kind, digest) in enumerate(digests.items()):
            parameters[f"kind_{i}"], parameters[f"digest_{i}"] = kind, digest
        statement = self.statements.claim(len(digests))
        owners: dict[str, str] = {}
        keys: dict[str, WrappedKey] = {}
        indexed: list[str] = []
        for kind, owner, dek_version, kek_id, wrapped in self.cursor.fetchall(
            statement, parameters
        ):
            if owner is None:
                indexed.append(str(kind))
                continue
            owners[str(kind)] = str(owner)
            if dek_version is not None:
                keys[str(owner)] = WrappedKey(str(owner), dek_version, kek_id, wrapped)
        return KeyClaim(owners, keys, tuple(indexed))

    def _claim_in_steps(
        self, version: int, digests: Mapping[Any, bytes], key: Mapping[str, Any]
    ) -> KeyClaim:
        """Claim inside the write lock (SQLite): insert the entries first, look only if taken.

        A new respondent (most submissions) costs two statements, the entries and the
        key, where looking first cost three; a returning one costs the insert that
        finds every digest taken, then the look and its key.
        """
        if self.add_lookups(version, key["subject_id"], digests):
            self.add_key(key)
            return KeyClaim({}, {}, tuple(str(kind) for kind in digests))
        # Some digest is taken: nothing of this claim may stay.
        self.cursor.run(self.statements.drop_claimed_lookups, {"subject_id": key["subject_id"]})
        owners = self.find_subjects(version, digests)
        found = (self.key_of(owner) for owner in set(owners.values()))
        return KeyClaim(owners, {k.subject_id: k for k in found if k is not None}, ())

    def key_of(self, subject_id: str) -> WrappedKey | None:
        """Return the newest wrapped data key of a subject.

        On the driver's cursor as a plain tuple: through Core and a detached mapped
        object this read cost a returning respondent ~5% of a submission (py-spy).
        """
        rows = self.cursor.fetchall(self.statements.newest_key, {"subject_id": subject_id})
        return WrappedKey(*rows[0]) if rows else None


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
        return KeyRows(driver_cursor(self.session)).find_subjects(version, digests)

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

    def add_key(self, key: Mapping[str, Any]) -> None:
        """Insert a subject's wrapped data key, given as the columns of `subject_key`."""
        KeyRows(driver_cursor(self.session)).add_key(key)

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

    def count_keyed_since(self, cutoff: datetime) -> tuple[int, int]:
        """Count the subjects whose first key is `cutoff` or younger, and all their keys."""
        young = (
            select(SUBJECT_KEY.c.subject_id, func.count().label("keys"))
            .group_by(SUBJECT_KEY.c.subject_id)
            .having(func.min(SUBJECT_KEY.c.created_at) >= cutoff)
            .subquery()
        )
        query = select(func.count(), func.coalesce(func.sum(young.c["keys"]), 0))
        subjects, keys = self.session.connection().execute(query.select_from(young)).one()
        return int(subjects), int(keys)

    def count_keys_and_lookups(self, subject_ids: Sequence[str]) -> tuple[int, int]:
        """Count the keys and blind-index entries these subjects own."""
        if not subject_ids:
            return 0, 0
        ids = list(subject_ids)
        keys = self.session.scalar(select(func.count()).where(SUBJECT_KEY.c.subject_id.in_(ids)))
        lookups = self.session.scalar(
            select(func.count()).select_from(SubjectLookup).where(SubjectLookup.subject_id.in_(ids))
        )
        return int(keys or 0), int(lookups or 0)

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

    def batches_under_other_keks(self, kek_ids: Collection[str]) -> Iterator[list[SubjectKey]]:
        """Yield batches of keys wrapped under none of `kek_ids`, until none is left."""
        while True:
            batch = list(
                self.session.scalars(
                    select(SubjectKey)
                    .where(SubjectKey.kek_id.not_in(list(kek_ids)))
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

    def lock_kek_lifecycle(self) -> None:
        """Hold the key store's KEK lifecycle lock until this transaction ends.

        PostgreSQL: a transaction-level advisory lock. SQLite: this unit already holds
        the database's write lock (BEGIN IMMEDIATE), which serialises writers anyway.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(select(func.pg_advisory_xact_lock(KEK_LIFECYCLE_LOCK)))
        else:
            # Begin now: the transaction's BEGIN IMMEDIATE is the lock.
            self.session.connection()

    def kek_ids_in_use(self) -> set[str]:
        """Name every KEK that still wraps at least one data key."""
        return set(self.session.scalars(select(SubjectKey.kek_id).distinct()))
