"""Read, rectify and erase everything the data database holds on given subjects."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, func, select, update
from sqlalchemy.orm import Session

from feedbackvault.storage.anonymised import anonymised_values
from feedbackvault.storage.data_models import (
    AUDIT_ENTRY,
    CONSENT,
    ERASURE_TOMBSTONE,
    RESPONSE,
    SUBJECT,
)
from feedbackvault.storage.database import (
    insert_ignoring_conflicts,
    one_of,
    responses_unlinked_already,
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


def _live_responses(subject_ids: Collection[str], now: datetime) -> list[ColumnElement[bool]]:
    # Expired or anonymised rows are never served, whatever the sweep has done yet.
    return [
        one_of(RESPONSE.c.subject_id, subject_ids),
        RESPONSE.c.anonymised_at.is_(None),
        RESPONSE.c.expires_at > now,
    ]


def _live_consents(subject_ids: Collection[str], now: datetime) -> list[ColumnElement[bool]]:
    return [one_of(CONSENT.c.subject_id, subject_ids), CONSENT.c.expires_at > now]


class SubjectDataRepository:
    """A subject's responses, consents, audit history and tombstones in one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _rows(self, statement: Any) -> Sequence[StoredRow]:
        return self.session.connection().execute(statement).all()

    def response_page(
        self, subject_ids: Collection[str], now: datetime, after_id: str, limit: int
    ) -> Sequence[StoredRow]:
        """Return the next page of live responses of the subjects, by id, as plain rows."""
        columns = [RESPONSE.c[name] for name in EXPORTED_RESPONSE_COLUMNS]
        return self._rows(
            select(*columns)
            .where(*_live_responses(subject_ids, now), RESPONSE.c.id > after_id)
            .order_by(RESPONSE.c.id)
            .limit(limit)
        )

    def consent_page(
        self, subject_ids: Collection[str], now: datetime, after_id: str, limit: int
    ) -> Sequence[StoredRow]:
        """Return the next page of unexpired consent records of the subjects, by id."""
        columns = [CONSENT.c[name] for name in EXPORTED_CONSENT_COLUMNS]
        return self._rows(
            select(*columns)
            .where(*_live_consents(subject_ids, now), CONSENT.c.id > after_id)
            .order_by(CONSENT.c.id)
            .limit(limit)
        )

    def audit_page(
        self, subject_ids: Collection[str], after_seq: int, limit: int
    ) -> Sequence[StoredRow]:
        """Return the next page of audit entries about the subjects, in chain order."""
        return self._rows(
            select(AUDIT_ENTRY)
            .where(
                one_of(AUDIT_ENTRY.c.subject_ref, subject_ids),
                AUDIT_ENTRY.c.seq > after_seq,
            )
            .order_by(AUDIT_ENTRY.c.seq)
            .limit(limit)
        )

    def count_live(self, subject_ids: Collection[str], now: datetime) -> tuple[int, int]:
        """Count the live responses and unexpired consents of the subjects."""
        connection = self.session.connection()
        responses = connection.scalar(
            select(func.count()).select_from(RESPONSE).where(*_live_responses(subject_ids, now))
        )
        consents = connection.scalar(
            select(func.count()).select_from(CONSENT).where(*_live_consents(subject_ids, now))
        )
        return int(responses or 0), int(consents or 0)

    def sample_ciphertexts(
        self, subject_id: str, column: str, limit: int
    ) -> list[tuple[str, bytes]]:
        """Return a few (response id, ciphertext) pairs of one column, to confirm a match."""
        attribute = RESPONSE.c[column]
        rows = self._rows(
            select(RESPONSE.c.id, attribute)
            .where(RESPONSE.c.subject_id == subject_id, attribute.is_not(None))
            .limit(limit)
        )
        return [(str(row.id), bytes(row._mapping[column])) for row in rows]

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

    def erase_subjects(
        self, subject_ids: Collection[str], anonymise_purposes: Collection[str], now: datetime
    ) -> tuple[int, int, int]:
        """Anonymise or delete the subjects' responses, delete their consents and subject rows.

        One statement per table for all the subjects together. Returns (responses
        deleted, responses anonymised, consents deleted).
        """
        ids = list(subject_ids)
        if not ids:
            return 0, 0, 0
        connection = self.session.connection()
        postgres = connection.dialect.name == "postgresql"
        # Stripped as the sweep strips them, with fresh ids: the old ones are named in
        # audit entries beside the subject just erased.
        anonymised = connection.execute(
            update(RESPONSE)
            .where(
                one_of(RESPONSE.c.subject_id, ids),
                RESPONSE.c.purpose.in_(list(anonymise_purposes)),
            )
            .values(anonymised_values(now, postgres=postgres))
        )
        deleted = connection.execute(delete(RESPONSE).where(one_of(RESPONSE.c.subject_id, ids)))
        # A consent record is its response's, of the same subject (one response per
        # consent): both statements above left no response naming these records.
        with responses_unlinked_already(self.session):
            consents = connection.execute(delete(CONSENT).where(one_of(CONSENT.c.subject_id, ids)))
        connection.execute(delete(SUBJECT).where(one_of(SUBJECT.c.id, ids)))
        return deleted.rowcount, anonymised.rowcount, consents.rowcount

    def add_tombstones(self, subject_ids: Collection[str], at: datetime, reason: str) -> None:
        """Record that the subjects were erased; those recorded already keep their tombstone."""
        if not subject_ids:
            return
        # Insert-or-ignore: a concurrent erasure of the same subject may have written it first.
        self.session.connection().execute(
            insert_ignoring_conflicts(self.session, ERASURE_TOMBSTONE),
            [{"subject_id": sid, "erased_at": at, "reason": reason} for sid in subject_ids],
        )

    def tombstone_ids(self) -> list[str]:
        """List every erased subject id."""
        return list(self.session.connection().scalars(select(ERASURE_TOMBSTONE.c.subject_id)))
