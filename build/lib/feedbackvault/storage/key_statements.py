"""The key-store statements of submissions and lookups, written once per dialect."""

from __future__ import annotations

from sqlalchemy.engine import Dialect

from feedbackvault.storage.driver_statements import (
    DriverStatement,
    insert_row,
    once_per_dialect,
    prepare,
)
from feedbackvault.storage.keystore_models import KEY_TOMBSTONE, SUBJECT_KEY

# The columns of an index entry, as the multi-row insert names its parameters.
LOOKUP_COLUMNS = ("kind", "version", "digest", "subject_id")


# Shredding subjects (`KeyRows.shred`). PostgreSQL: one statement over the ids as one
# array literal (`bulk.array_literal`), its data-modifying WITH clauses on three tables
# with no keys between them, answering (keys deleted, index entries deleted).
_SHRED_TOGETHER = """
    WITH ids AS (
        SELECT unnest(CAST(:ids AS varchar[])) AS subject_id
    ), tombstoned AS (
        INSERT INTO key_tombstone (subject_id, erased_at)
        SELECT subject_id, :erased_at FROM ids ON CONFLICT DO NOTHING
    ), keys AS (
        DELETE FROM subject_key WHERE subject_id IN (SELECT subject_id FROM ids) RETURNING 1
    ), entries AS (
        DELETE FROM subject_lookup WHERE subject_id IN (SELECT subject_id FROM ids) RETURNING 1
    )
    SELECT (SELECT count(*) FROM keys), (SELECT count(*) FROM entries)
"""
# SQLite: three statements over the ids as one JSON array, their row counts telling.
_SHRED_STEPS = (
    "INSERT INTO key_tombstone (subject_id, erased_at)"
    " SELECT value, :erased_at FROM json_each(:ids) WHERE true ON CONFLICT DO NOTHING",
    "DELETE FROM subject_key WHERE subject_id IN (SELECT value FROM json_each(:ids))",
    "DELETE FROM subject_lookup WHERE subject_id IN (SELECT value FROM json_each(:ids))",
)


class SubmissionStatements:
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
        # A claim's own entries: its subject id is new, so nothing else has any.
        self.drop_claimed_lookups = prepare(
            dialect, "DELETE FROM subject_lookup WHERE subject_id = :subject_id", {}
        )
        types = {"erased_at": KEY_TOMBSTONE.c.erased_at.type}
        if dialect.name == "postgresql":
            self.shred_together: DriverStatement | None = prepare(
                dialect, " ".join(_SHRED_TOGETHER.split()), types
            )
            self.shred_steps: tuple[DriverStatement, ...] = ()
        else:
            self.shred_together = None
            self.shred_steps = tuple(prepare(dialect, sql, types) for sql in _SHRED_STEPS)
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
            # One set of subjects, not `IN (found) OR IN (list)`: an OR of the two made
            # PostgreSQL scan the whole key table (1.5 ms at 10,000 subjects, growing
            # with them) where this probes its primary key once per subject.
            wanted = "SELECT subject_id FROM found"
            if also:
                wanted += " UNION ALL VALUES " + ", ".join(f"(:also_{i})" for i in range(also))
            # Only parameter markers go into the text.
            sql = f"""
                WITH found AS (
                    SELECT kind, subject_id FROM subject_lookup
                    WHERE version = :version AND ({matches or "1 = 0"})
                )
                SELECT kind, subject_id, NULL, NULL, NULL FROM found
                UNION ALL
                SELECT NULL, subject_id, dek_version, kek_id, wrapped_dek FROM subject_key
                WHERE subject_id IN ({wanted})
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
def submission_statements(dialect: Dialect) -> SubmissionStatements:
    """Return the statements of the dialect, built once per dialect."""
    return SubmissionStatements(dialect)
