"""Store subjects, consents and responses in the data database.

Rows are inserted with Core statements on the session's connection: submitting a
response is the hottest write path, and the ORM's unit of work costs several times
the INSERT it ends in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from feedbackvault.storage.data_models import (
    CONSENT,
    RESPONSE,
    SUBJECT,
    Consent,
    Response,
)
from feedbackvault.storage.database import insert_ignoring_conflicts, row_values


class ConsentRepository:
    """Consent records inside one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def ensure_subject(self, subject_id: str, created_at: datetime) -> None:
        """Insert the subject row unless it is already there (one round trip)."""
        statement = insert_ignoring_conflicts(self.session, SUBJECT)
        values = {"id": subject_id, "created_at": created_at}
        self.session.connection().execute(statement, values)

    def existing_subjects(self, subject_ids: Sequence[str]) -> set[str]:
        """Return those of these subject ids that have a subject row."""
        rows = self.session.connection().execute(
            select(SUBJECT.c.id).where(SUBJECT.c.id.in_(list(subject_ids)))
        )
        return {str(subject_id) for subject_id in rows.scalars()}

    def add(self, consent: Consent) -> None:
        """Insert a consent record (a new object; it is not attached to the session)."""
        self.session.connection().execute(insert(CONSENT), row_values(consent))

    def get_for_update(self, consent_id: str) -> Consent | None:
        """Load a consent record and lock it until the transaction ends."""
        return self.session.scalars(
            select(Consent).where(Consent.id == consent_id).with_for_update()
        ).first()


class ResponseRepository:
    """Responses inside one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, response: Response) -> None:
        """Insert a response (a new object; it is not attached to the session)."""
        self.session.connection().execute(insert(RESPONSE), row_values(response))

    def delete_for_consent(self, consent_id: str) -> int:
        """Delete every response given under one consent and count them."""
        result = self.session.execute(delete(Response).where(Response.consent_id == consent_id))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def count(self) -> int:
        """Count every stored response."""
        return int(self.session.scalar(select(func.count()).select_from(Response)) or 0)
