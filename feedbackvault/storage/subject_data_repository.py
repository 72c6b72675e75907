"""Read, rectify and erase everything the data database holds on given subjects."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedbackvault.storage.data_models import (
    AuditEntry,
    Consent,
    ErasureTombstone,
    Response,
    Subject,
)

# The ciphertext columns of a response; anonymising or erasing clears all of them.
CIPHERTEXT_COLUMNS = ("email_ct", "name_ct", "customer_id_ct", "comment_ct")


def _live_responses(subject_ids: Collection[str], now: datetime) -> list[ColumnElement[bool]]:
    # Expired or anonymised rows are never served, whatever the sweep has done yet.
    return [
        Response.subject_id.in_(list(subject_ids)),
        Response.anonymised_at.is_(None),
        Response.expires_at > now,
    ]


class SubjectDataRepository:
    """A subject's responses, consents, audit history and tombstones in one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def response_page(
        self, subject_ids: Collection[str], now: datetime, after_id: str, limit: int
    ) -> list[Response]:
        """Return the next page of live responses of the subjects, by id."""
        query = (
            select(Response)
            .where(*_live_responses(subject_ids, now), Response.id > after_id)
            .order_by(Response.id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def consent_page(
        self, subject_ids: Collection[str], now: datetime, after_id: str, limit: int
    ) -> list[Consent]:
        """Return the next page of unexpired consent records of the subjects, by id."""
        query = (
            select(Consent)
            .where(
                Consent.subject_id.in_(list(subject_ids)),
                Consent.expires_at > now,
                Consent.id > after_id,
            )
            .order_by(Consent.id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def audit_page(
        self, subject_ids: Collection[str], after_seq: int, limit: int
    ) -> list[AuditEntry]:
        """Return the next page of audit entries about the subjects, in chain order."""
        query = (
            select(AuditEntry)
            .where(AuditEntry.subject_ref.in_(list(subject_ids)), AuditEntry.seq > after_seq)
            .order_by(AuditEntry.seq)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def count_live(self, subject_ids: Collection[str], now: datetime) -> tuple[int, int]:
        """Count the live responses and unexpired consents of the subjects."""
        responses = self.session.scalar(
            select(func.count()).select_from(Response).where(*_live_responses(subject_ids, now))
        )
        consents = self.session.scalar(
            select(func.count())
            .select_from(Consent)
            .where(Consent.subject_id.in_(list(subject_ids)), Consent.expires_at > now)
        )
        return int(responses or 0), int(consents or 0)

    def sample_ciphertexts(
        self, subject_id: str, column: str, limit: int
    ) -> list[tuple[str, bytes]]:
        """Return a few (response id, ciphertext) pairs of one column, to confirm a match."""
        attribute = getattr(Response, column)
        rows = self.session.execute(
            select(Response.id, attribute)
            .where(Response.subject_id == subject_id, attribute.is_not(None))
            .limit(limit)
        )
        return [(row_id, bytes(value)) for row_id, value in rows]

    def held_page(
        self, subject_id: str, after_id: str, limit: int
    ) -> list[tuple[str, dict[str, bytes]]]:
        """Return the next page of a subject's responses (expired too) with their ciphertexts."""
        columns = [getattr(Response, name) for name in CIPHERTEXT_COLUMNS]
        rows = self.session.execute(
            select(Response.id, *columns)
            .where(Response.subject_id == subject_id, Response.id > after_id)
            .order_by(Response.id)
            .limit(limit)
        )
        return [
            (
                row[0],
                {
                    name: bytes(value)
                    for name, value in zip(CIPHERTEXT_COLUMNS, row[1:], strict=True)
                    if value is not None
                },
            )
            for row in rows
        ]

    def overwrite_fields(self, response_id: str, values: Mapping[str, bytes]) -> None:
        """Overwrite ciphertext columns of one response in place."""
        self.session.execute(update(Response).where(Response.id == response_id).values(**values))

    def erase_subject(
        self, subject_id: str, anonymise_purposes: Collection[str], now: datetime
    ) -> tuple[int, int, int]:
        """Anonymise or delete a subject's responses, delete its consents and subject row.

        Returns (responses deleted, responses anonymised, consents deleted).
        """
        cleared: dict[str, object] = dict.fromkeys(CIPHERTEXT_COLUMNS)
        anonymised = self.session.execute(
            update(Response)
            .where(
                Response.subject_id == subject_id,
                Response.purpose.in_(list(anonymise_purposes)),
            )
            .values(subject_id=None, consent_id=None, created_at=None, anonymised_at=now, **cleared)
        )
        deleted = self.session.execute(delete(Response).where(Response.subject_id == subject_id))
        consents = self.session.execute(delete(Consent).where(Consent.subject_id == subject_id))
        self.session.execute(delete(Subject).where(Subject.id == subject_id))
        return (
            int(deleted.rowcount),  # type: ignore[attr-defined]
            int(anonymised.rowcount),  # type: ignore[attr-defined]
            int(consents.rowcount),  # type: ignore[attr-defined]
        )

    def add_tombstone(self, subject_id: str, at: datetime, reason: str) -> bool:
        """Record that a subject was erased; return False when it already was."""
        if self.session.get(ErasureTombstone, subject_id) is not None:
            return False
        try:
            with self.session.begin_nested():
                self.session.add(
                    ErasureTombstone(subject_id=subject_id, erased_at=at, reason=reason)
                )
        except IntegrityError:
            # A concurrent erasure of the same subject wrote it first.
            return False
        return True

    def tombstone_ids(self) -> list[str]:
        """List every erased subject id."""
        return list(self.session.scalars(select(ErasureTombstone.subject_id)))
