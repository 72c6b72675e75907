"""Store wrapped data keys and blind-index digests in the key store."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    delete,
    func,
    select,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from feedbackvault.storage.driver_statements import (
    DriverCursor,
    DriverStatement,
    driver_cursor,
    insert_row,
    once_per_dialect,
    prepare,
)
from feedbackvault.storage.keystore_models import (
    SUBJECT_KEY,
    SubjectKey,
    SubjectLookup,
)

# The columns of an index entry, as the multi-row insert names its parameters.
LOOKUP_COLUMNS = ("kind", "version", "digest", "subject_id")

# Keys rewrapped per round trip during rotation.
REWRAP_BATCH = 1_000


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
        self.statements = _submission_statements(cursor.dialect)

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
        in autocommit it is a whole transaction in one round trip; elsewhere it is three
        statements in the caller's transaction.
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
        owners = self.find_subjects(version, digests)
        if owners:
            found = (self.key_of(owner) for owner in set(owners.values()))
            return KeyClaim(owners, {k.subject_id: k for k in found if k is not None}, ())
        if not self.add_lookups(version, key["subject_id"], digests):
            raise AssertionError("a digest was taken inside the write lock")
        self.add_key(key)
        return KeyClaim({}, {}, tuple(str(kind) for kind in digests))

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


class _SubmissionStatements:
    """The submission path's key-store statements for one dialect, each built when first used.

    They run on the driver's cursor (storage/driver_statements.py). The multi-row
    insert had a second reason: SQLAlchemy gives a multi-row VALUES no cache key and
    compiled it again on every submission (a tenth of its time, py-spy).
    """

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.add_key = insert_row(dialect, SUBJECT_KEY)
        self.newest_key = prepare(
            dialect,
            "SELECT subject_id, dek_version, kek_id, wrapped_dek FROM subject_key"
            " WHERE subject_id = :subject_id ORDER BY dek_version DESC LIMIT 1",
            {},
        )
        self._find_owners: dict[tuple[str, ...], DriverStatement] = {}
        self._owners_and_keys: dict[tuple[tuple[str, ...], int], DriverStatement] = {}
        self._insert_lookups: dict[int, DriverStatement] = {}
        self._claims: dict[int, DriverStatement] = {}

    def claim(self, count: int) -> DriverStatement:
        """Find the owners of `count` digests, or index them and store the key (PostgreSQL).

        Data-modifying WITH clauses all run, on one snapshot; the key's insert counts
        the entries the index insert returned, so a lost race stores no key. Rows come
        back as (kind, owner, key columns) per entry found, then (kind, NULL, ...) per
        entry indexed.
        """
        if count not in self._claims:
            markers = range(count)
            matches = " OR ".join(f"(kind = :kind_{i} AND digest = :digest_{i})" for i in markers)
            entries = ", ".join(f"(:kind_{i}, CAST(:digest_{i} AS bytea))" for i in markers)
            key_columns = [column.key for column in SUBJECT_KEY.columns]
            # Only parameter markers, column names and the entry count go into the text.
            sql = f"""
                WITH found AS (
                    SELECT kind, subject_id FROM subject_lookup
                    WHERE version = :version AND ({matches})
                ), indexed AS (
                    INSERT INTO subject_lookup (kind, version, digest, subject_id)
                    SELECT entry.kind, :version, entry.digest, :subject_id
                    FROM (VALUES {entries}) AS entry (kind, digest)
                    WHERE NOT EXISTS (SELECT FROM found)
                    ON CONFLICT DO NOTHING
                    RETURNING kind
                ), keyed AS (
                    INSERT INTO subject_key ({", ".join(key_columns)})
                    SELECT {", ".join(":" + column for column in key_columns)}
                    WHERE (SELECT count(*) FROM indexed) = {count}
                )
                SELECT found.kind, found.subject_id, newest.dek_version, newest.kek_id,
                       newest.wrapped_dek
                FROM found LEFT JOIN LATERAL (
                    SELECT dek_version, kek_id, wrapped_dek FROM subject_key
                    WHERE subject_key.subject_id = found.subject_id
                    ORDER BY dek_version DESC LIMIT 1
                ) AS newest ON true
                UNION ALL
                SELECT kind, NULL, NULL, NULL, NULL FROM indexed
            """  # noqa: S608
            types = {column.key: column.type for column in SUBJECT_KEY.columns}
            self._claims[count] = prepare(self.dialect, " ".join(sql.split()), types)
        return self._claims[count]

    def find_owners(self, kinds: tuple[str, ...]) -> DriverStatement:
        """Select the kind and subject of the entries matching one digest per kind."""
        if kinds not in self._find_owners:
            matches = " OR ".join(f"(kind = :kind_{k} AND digest = :digest_{k})" for k in kinds)
            # Only parameter markers go into the text.
            sql = "SELECT kind, subject_id FROM subject_lookup WHERE version = :version AND "
            sql += f"({matches})"
            self._find_owners[kinds] = prepare(self.dialect, sql, {})
        return self._find_owners[kinds]

    def owners_and_keys(self, kinds: tuple[str, ...], also: int) -> DriverStatement:
        """Select the entries matching one digest per kind, then the keys of their subjects.

        Entry rows are (kind, subject, NULL, NULL, NULL); key rows (NULL, subject, key
        columns), in no order. `also` more subjects' keys come too.
        """
        shape = (kinds, also)
        if shape not in self._owners_and_keys:
            matches = " OR ".join(f"(kind = :kind_{k} AND digest = :digest_{k})" for k in kinds)
            wanted = ["subject_id IN (SELECT subject_id FROM found)"]
            if also:
                wanted.append(f"subject_id IN ({', '.join(f':also_{i}' for i in range(also))})")
            # Only parameter markers go into the text.
            sql = f"""
                WITH found AS (
                    SELECT kind, subject_id FROM subject_lookup
                    WHERE version = :version AND ({matches or "1 = 0"})
                )
                SELECT kind, subject_id, NULL, NULL, NULL FROM found
                UNION ALL
                SELECT NULL, subject_id, dek_version, kek_id, wrapped_dek FROM subject_key
                WHERE {" OR ".join(wanted)}
            """  # noqa: S608
            self._owners_and_keys[shape] = prepare(self.dialect, " ".join(sql.split()), {})
        return self._owners_and_keys[shape]

    def insert_lookups(self, count: int) -> DriverStatement:
        """Insert-or-ignore `count` index entries, returning those inserted.

        A row count is not reliable for a multi-row INSERT on every driver (psycopg
        reports -1); the rows returned are.
        """
        if count not in self._insert_lookups:
            rows = ", ".join(
                "(" + ", ".join(f":{column}_{i}" for column in LOOKUP_COLUMNS) + ")"
                for i in range(count)
            )
            sql = f"INSERT INTO subject_lookup ({', '.join(LOOKUP_COLUMNS)}) VALUES {rows}"  # noqa: S608 - markers only
            self._insert_lookups[count] = prepare(
                self.dialect, sql + " ON CONFLICT DO NOTHING RETURNING kind", {}
            )
        return self._insert_lookups[count]


@once_per_dialect
def _submission_statements(dialect: Dialect) -> _SubmissionStatements:
    return _SubmissionStatements(dialect)
