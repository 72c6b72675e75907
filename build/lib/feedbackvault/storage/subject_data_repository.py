"""Read, rectify and erase everything the data database holds on given subjects."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from feedbackvault.storage.anonymised import anonymised_assignments, anonymised_parameters
from feedbackvault.storage.bulk import array_literal
from feedbackvault.storage.data_models import (
    AUDIT_ENTRY,
    CONSENT,
    ERASURE_TOMBSTONE,
    RESPONSE,
)
from feedbackvault.storage.database import RESPONSES_HANDLED
from feedbackvault.storage.driver_statements import (
    DriverCursor,
    DriverStatement,
    Pending,
    RowReader,
    columns_of,
    once_per_dialect,
    prepare,
    row_reader,
)

# The use cases here read and write whole pages of rows: Core statements on the tables
# skip the ORM's identity map and unit of work, several times their cost per row.
# One row of a Core query, read by attribute like a mapped object.
StoredRow = Row[Any]


# The ciphertext columns of a response; anonymising or erasing clears all of them.
CIPHERTEXT_COLUMNS = ("email_ct", "name_ct", "customer_id_ct", "comment_ct")
# What an access export shows of a response (everything but its internal links).
EXPORTED_RESPONSE_COLUMNS = (
    "id", "subject_id", "survey_id", "purpose", "touchpoint", "locale", "nps", "csat", "ces",
    *CIPHERTEXT_COLUMNS, "created_at", "expires_at",
)  # fmt: skip
EXPORTED_CONSENT_COLUMNS = (
    "id", "purpose", "notice_version", "given_at", "recorded_at", "expires_at", "withdrawn_at",
    "receipt_signature",
)  # fmt: skip


# What is served of a subject: expired or anonymised rows never are, whatever the sweep
# has done yet. `{subjects}` is a list of markers, one per subject.
_LIVE_RESPONSES = (
    "FROM response WHERE subject_id IN ({subjects}) AND anonymised_at IS NULL AND expires_at > :now"
)
_LIVE_CONSENTS = "FROM consent WHERE subject_id IN ({subjects}) AND expires_at > :now"
_PAGES = {
    "responses": (RESPONSE, EXPORTED_RESPONSE_COLUMNS, _LIVE_RESPONSES + " AND id > :after"
                  " ORDER BY id LIMIT :limit"),
    "consents": (CONSENT, EXPORTED_CONSENT_COLUMNS, _LIVE_CONSENTS + " AND id > :after"
                 " ORDER BY id LIMIT :limit"),
    "history": (AUDIT_ENTRY, (), "FROM audit_entry WHERE subject_ref IN ({subjects})"
                " AND seq > :after ORDER BY seq LIMIT :limit"),
}  # fmt: skip
Section = Literal["responses", "consents", "history"]
# One exported row: its columns by name, as the ORM would load them.
ExportedRow = dict[str, Any]


class _ExportStatements:
    """The export's page and count queries for one dialect, one per number of subjects."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.readers = {
            section: row_reader(dialect, table, names)
            for section, (table, names, _) in _PAGES.items()
        }
        self._pages: dict[tuple[Section, int], DriverStatement] = {}
        self._counts: dict[int, DriverStatement] = {}

    def page(self, section: Section, subjects: int) -> DriverStatement:
        """Select the next page of a section's rows of `subjects` subjects."""
        shape = (section, subjects)
        if shape not in self._pages:
            table, names, rest = _PAGES[section]
            sql = f"SELECT {columns_of(table, names)} " + rest.format(subjects=_markers(subjects))
            self._pages[shape] = prepare(self.dialect, sql, _TYPES)
        return self._pages[shape]

    def counts(self, subjects: int) -> DriverStatement:
        """Count the live responses and the unexpired consents of `subjects` subjects."""
        if subjects not in self._counts:
            listed = _markers(subjects)
            sql = (
                f"SELECT (SELECT count(*) {_LIVE_RESPONSES.format(subjects=listed)}),"
                f" (SELECT count(*) {_LIVE_CONSENTS.format(subjects=listed)})"
            )
            self._counts[subjects] = prepare(self.dialect, sql, _TYPES)
        return self._counts[subjects]


# Only `now` needs its type's conversion (aware UTC to the stored naive UTC).
_TYPES = {"now": RESPONSE.c.expires_at.type}


def _markers(count: int) -> str:
    # No subjects: `IN (NULL)` matches no row (PostgreSQL rejects an empty list).
    return ", ".join(f":subject_{i}" for i in range(count)) or "NULL"


def _subject_values(subject_ids: Sequence[str]) -> dict[str, Any]:
    """Give the `_markers` of the subjects their values."""
    return {f"subject_{i}": sid for i, sid in enumerate(subject_ids)}


@once_per_dialect
def _export_statements(dialect: Dialect) -> _ExportStatements:
    return _ExportStatements(dialect)


class ExportRows:
    """Page through what an access export shows of subjects, on a transaction's driver cursor.

    Plain statements, not Core: an export reads three sections of ~100 rows each, and
    Core's per-row `Row` objects and per-statement set-up cost more than the rows'
    own conversion. In a pipeline (PostgreSQL) a section's page is sent at once and
    read when wanted, so the pages and a request's own steps share round trips.
    """

    def __init__(self, cursor: DriverCursor) -> None:
        self.cursor = cursor
        self.statements = _export_statements(cursor.dialect)

    def page(
        self,
        section: Section,
        subject_ids: Sequence[str],
        now: datetime,
        after: str | int,
        limit: int,
    ) -> PendingRows:
        """Send the query of the section's next page after `after` (an id, or a seq)."""
        values = {"now": now, "after": after, "limit": limit, **_subject_values(subject_ids)}
        statement = self.statements.page(section, len(subject_ids))
        return PendingRows(self.cursor.send(statement, values), self.statements.readers[section])

    def counts(self, subject_ids: Sequence[str], now: datetime) -> tuple[int, int]:
        """Count the subjects' live responses and unexpired consents."""
        values = {"now": now, **_subject_values(subject_ids)}
        [(responses, consents)] = self.cursor.fetchall(
            self.statements.counts(len(subject_ids)), values
        )
        return int(responses), int(consents)


@dataclass(frozen=True)
class _ErasureStatements:
    """An erasure's statements, over the subjects and purposes as one parameter each."""

    tombstone: DriverStatement
    anonymise: DriverStatement
    delete_responses: DriverStatement
    delete_consents: DriverStatement
    delete_subjects: DriverStatement
    # PostgreSQL: set and clear the mark of `database.responses_unlinked_already`.
    mark: tuple[DriverStatement, DriverStatement] | None


@once_per_dialect
def _erasure_statements(dialect: Dialect) -> _ErasureStatements:
    postgres = dialect.name == "postgresql"
    # A list as one value: PostgreSQL's array literal (`bulk.array_literal`), or JSON.
    among = (
        "IN (SELECT unnest(CAST(:{0} AS varchar[])))"
        if postgres
        else "IN (SELECT value FROM json_each(:{0}))"
    )
    subjects, purposes = among.format("ids"), among.format("purposes")
    types = {
        "now": ERASURE_TOMBSTONE.c.erased_at.type,
        "anonymised_at": RESPONSE.c.anonymised_at.type,
        "never": RESPONSE.c.expires_at.type,
    }
    ids = "unnest(CAST(:ids AS varchar[]))" if postgres else "value"
    source = "" if postgres else " FROM json_each(:ids) WHERE true"  # WHERE: SQLite's parser
    stripped = anonymised_assignments(postgres=postgres)
    # Only the tables' own names, markers and fixed SQL go into the text.
    statements = {
        # Insert-or-ignore: a concurrent erasure of the same subject may have written it first.
        "tombstone": "INSERT INTO erasure_tombstone (subject_id, erased_at, reason)"
        f" SELECT {ids}, :now, :reason{source} ON CONFLICT DO NOTHING",
        # Stripped as the sweep strips them, with fresh ids: the old ones are named in
        # audit entries beside the subject just erased.
        "anonymise": f"UPDATE response SET {stripped} WHERE subject_id {subjects}"  # noqa: S608
        f" AND purpose {purposes} RETURNING 1",
        "delete_responses": f"DELETE FROM response WHERE subject_id {subjects} RETURNING 1",  # noqa: S608
        "delete_consents": f"DELETE FROM consent WHERE subject_id {subjects} RETURNING 1",  # noqa: S608
        "delete_subjects": f"DELETE FROM subject WHERE id {subjects}",  # noqa: S608
    }
    marks = (
        tuple(
            prepare(dialect, f"SELECT set_config('{RESPONSES_HANDLED}', '{state}', true)", {})
            for state in ("on", "off")
        )
        if postgres
        else None
    )
    return _ErasureStatements(
        **{name: prepare(dialect, sql, types) for name, sql in statements.items()},
        mark=marks,  # type: ignore[arg-type]
    )


class ErasureRows:
    """Erase everything the data database holds on subjects, on a transaction's driver cursor.

    Tombstones first, then the subjects' responses anonymised (the purposes given)
    or deleted, their consent records and their subject rows: one statement per
    table for all the subjects together. In a pipeline (PostgreSQL) they all go
    out in one round trip, with whatever is sent around them.
    """

    def __init__(self, cursor: DriverCursor) -> None:
        self.cursor = cursor
        self.statements = _erasure_statements(cursor.dialect)

    def erase(
        self,
        subject_ids: Sequence[str],
        anonymise_purposes: Sequence[str],
        now: datetime,
        reason: str,
    ) -> Callable[[], tuple[int, int, int]]:
        """Send the erasure; return what reads (responses deleted, anonymised, consents deleted)."""
        if not subject_ids:
            return lambda: (0, 0, 0)
        postgres = self.statements.mark is not None
        listed = array_literal if postgres else _json_list
        values = {
            "ids": listed(subject_ids), "purposes": listed(anonymise_purposes), "now": now,
            "reason": reason, **anonymised_parameters(now),
        }  # fmt: skip
        run, send, statements = self.cursor.run, self.cursor.send, self.statements
        run(statements.tombstone, values)
        anonymised = send(statements.anonymise, values)
        deleted = send(statements.delete_responses, values)
        # A consent record is its response's, of the same subject (one response per
        # consent): both statements above left no response naming these records.
        if statements.mark is not None:
            run(statements.mark[0], {})
        consents = send(statements.delete_consents, values)
        if statements.mark is not None:
            run(statements.mark[1], {})
        run(statements.delete_subjects, values)
        return lambda: (len(deleted.rows()), len(anonymised.rows()), len(consents.rows()))


def _json_list(values: Iterable[str]) -> str:
    return json.dumps(list(values))


@once_per_dialect
def _sample_statements(dialect: Dialect) -> dict[str, DriverStatement]:
    # Only the fixed ciphertext column names go into the text.
    return {
        column: prepare(
            dialect,
            f"SELECT id, {column} FROM response WHERE subject_id = :subject_id"  # noqa: S608
            f" AND {column} IS NOT NULL LIMIT :limit",
            {},
        )
        for column in CIPHERTEXT_COLUMNS
    }


class CiphertextSamples:
    """Read a few of a subject's ciphertexts of one column, to confirm an index match."""

    def __init__(self, cursor: DriverCursor) -> None:
        self.cursor = cursor
        self.statements = _sample_statements(cursor.dialect)

    def of(self, subject_id: str, column: str, limit: int) -> list[tuple[str, bytes]]:
        """Return up to `limit` (response id, ciphertext) pairs of the column."""
        values = {"subject_id": subject_id, "limit": limit}
        rows = self.cursor.fetchall(self.statements[column], values)
        return [(str(row_id), bytes(ciphertext)) for row_id, ciphertext in rows]


class PendingRows:
    """A page sent ahead, read into `ExportedRow`s when asked for."""

    def __init__(self, pending: Pending, reader: RowReader) -> None:
        self._pending = pending
        self._reader = reader

    def rows(self) -> list[ExportedRow]:
        """Wait for the page (in a pipeline) and convert its rows."""
        return [self._reader.values(row) for row in self._pending.rows()]


class SubjectDataRepository:
    """A subject's responses, consents, audit history and tombstones in one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _rows(self, statement: Any) -> Sequence[StoredRow]:
        return self.session.connection().execute(statement).all()

    def held_page(
        self, subject_id: str, after_id: str, limit: int
    ) -> list[tuple[str, dict[str, bytes]]]:
        """Return the next page of a subject's responses (expired too) with their ciphertexts."""
        columns = [RESPONSE.c[name] for name in CIPHERTEXT_COLUMNS]
        rows = self._rows(
            select(RESPONSE.c.id, *columns)
            .where(RESPONSE.c.subject_id == subject_id, RESPONSE.c.id > after_id)
            .order_by(RESPONSE.c.id)
            .limit(limit)
        )
        return [
            (
                str(row.id),
                {
                    name: bytes(row._mapping[name])
                    for name in CIPHERTEXT_COLUMNS
                    if row._mapping[name] is not None
                },
            )
            for row in rows
        ]

    def overwrite_fields(self, response_id: str, values: Mapping[str, bytes]) -> None:
        """Overwrite ciphertext columns of one response in place."""
        self.session.connection().execute(
            update(RESPONSE).where(RESPONSE.c.id == response_id).values(**values)
        )

    def tombstone_ids(self) -> list[str]:
        """List every erased subject id."""
        return list(self.session.connection().scalars(select(ERASURE_TOMBSTONE.c.subject_id)))
