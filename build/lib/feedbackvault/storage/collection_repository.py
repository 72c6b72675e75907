"""Store subjects, consents and responses in the data database.

Rows are inserted on the driver's cursor (storage/driver_statements.py): submitting
a response is the hottest write path, and both the ORM's unit of work and Core's
execution cost several times the INSERT they end in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, TypedDict, get_args

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from feedbackvault.storage.data_models import (
    CONSENT,
    RESPONSE,
    SUBJECT,
    Consent,
    Response,
)
from feedbackvault.storage.driver_statements import (
    DriverCursor,
    DriverStatement,
    insert_row,
    insert_sql,
    once_per_dialect,
    prepare,
)


class ConsentRow(TypedDict, total=False):
    """A new consent record's columns; those left out are stored as NULL.

    Plain dicts, not mapped objects: building the ORM object cost ~20 us per row on
    the submission path, forty times the dict.
    """

    id: str
    subject_id: str | None
    purpose: str
    notice_version: str
    given_at: datetime
    recorded_at: datetime
    expires_at: datetime
    withdraw_token_hash: bytes
    receipt_signature: str


class ResponseRow(TypedDict, total=False):
    """A new response's columns; those left out (ciphertexts not given) are stored as NULL."""

    id: str
    subject_id: str | None
    consent_id: str
    consent_expires_at: datetime
    survey_id: str
    purpose: str
    touchpoint: str | None
    locale: str | None
    nps: int | None
    csat: int | None
    ces: int | None
    email_ct: bytes
    name_ct: bytes
    customer_id_ct: bytes
    comment_ct: bytes
    created_at: datetime
    created_month: date
    expires_at: datetime


# What a submission does with its subject's row: nothing (no personal data), insert
# it (a subject this submission created), or hold it (a known subject).
SubjectRow = Literal["none", "new", "held"]
# On PostgreSQL a DO UPDATE that updates nothing still locks the row it found until
# the transaction ends; SQLite runs one writer at a time anyway.
_HOLD = {
    "postgresql": "(id) DO UPDATE SET created_at = subject.created_at WHERE false",
    "sqlite": "DO NOTHING",
}


@dataclass(frozen=True)
class _Inserts:
    subject: DriverStatement
    subject_held: DriverStatement
    consent: DriverStatement
    response: DriverStatement
    # PostgreSQL: the subject's row, the consent and the response in one statement.
    together: dict[SubjectRow, DriverStatement]


@once_per_dialect
def _inserts(dialect: Dialect) -> _Inserts:
    return _Inserts(
        subject=insert_row(dialect, SUBJECT),
        subject_held=insert_row(
            dialect, SUBJECT, on_conflict=_HOLD[dialect.name], returning=("id",)
        ),
        consent=insert_row(dialect, CONSENT),
        response=insert_row(dialect, RESPONSE),
        together=(
            {row: _together(dialect, row) for row in get_args(SubjectRow)}
            if dialect.name == "postgresql"
            else {}
        ),
    )


def _together(dialect: Dialect, subject_row: SubjectRow) -> DriverStatement:
    """Insert a submission's rows in one statement (a held subject's returns 1 if it was missing).

    The subject's row, the only one another transaction can be waiting on, is taken
    in this statement, before the audit head is taken in a later one: rows before the
    head, as in every write, so appends cannot deadlock.
    """
    subject, subject_types = insert_sql(SUBJECT, "s_")
    consent, consent_types = insert_sql(CONSENT, "c_")
    response, response_types = insert_sql(RESPONSE, "r_")
    clauses = [f"new_consent AS ({consent})"]
    if subject_row == "new":
        clauses.insert(0, f"new_subject AS ({subject})")
    elif subject_row == "held":
        held = f"{subject} ON CONFLICT {_HOLD[dialect.name]} RETURNING id"
        clauses.insert(0, f"new_subject AS ({held})")
        response += " RETURNING (SELECT count(*) FROM new_subject)"
    sql = f"WITH {', '.join(clauses)} {response}"
    return prepare(dialect, sql, {**subject_types, **consent_types, **response_types})


class SubmissionRows:
    """The rows of a submission, written on one transaction's driver cursor."""

    def __init__(self, cursor: DriverCursor) -> None:
        self.cursor = cursor
        self.inserts = _inserts(cursor.dialect)

    def add_rows(self, consent: ConsentRow, response: ResponseRow, subject_row: SubjectRow) -> bool:
        """Insert a submission's consent and response, and its subject's row if it has one.

        `subject_row` says what to do with the subject's row (`hold_subject` for
        "held"). Returns False when a held subject's row was missing. On PostgreSQL this
        is one statement: each statement costs ~30 us of driver work and as much again
        on the server. Only a held subject's waits for an answer; the others are sent
        with the next statement that does (in a pipeline).
        """
        subject_id = response["subject_id"]
        if not self.inserts.together:
            held = True
            if subject_row == "new" and subject_id is not None:
                self.add_subject(subject_id, consent["recorded_at"])
            elif subject_row == "held" and subject_id is not None:
                held = self.hold_subject(subject_id, consent["recorded_at"])
            self.add_consent(consent)
            self.add_response(response)
            return held
        values: dict[str, object] = {"s_id": subject_id, "s_created_at": consent["recorded_at"]}
        values.update({"c_" + column: value for column, value in consent.items()})
        values.update({"r_" + column: value for column, value in response.items()})
        statement = self.inserts.together[subject_row]
        if subject_row != "held":
            self.cursor.run(statement, values)
            return True
        [(missing,)] = self.cursor.fetchall(statement, values)
        return not missing

    def add_subject(self, subject_id: str, created_at: datetime) -> None:
        """Insert the row of a subject created by this use case."""
        self.cursor.run(self.inserts.subject, {"id": subject_id, "created_at": created_at})

    def hold_subject(self, subject_id: str, created_at: datetime) -> bool:
        """Keep a known subject's row from being deleted until the transaction ends.

        Returns False when the row was missing (and is now inserted): the subject may
        have been shredded since its key was read, so the caller must not write under
        that key before looking the subject up again. While the row is held, the sweep
        (SKIP LOCKED) passes the subject over and erasure waits for the commit.
        """
        values = {"id": subject_id, "created_at": created_at}
        return not self.cursor.fetchall(self.inserts.subject_held, values)

    def add_consent(self, consent: ConsentRow) -> None:
        """Insert a consent record."""
        self.cursor.run(self.inserts.consent, consent)

    def add_response(self, response: ResponseRow) -> None:
        """Insert a response."""
        self.cursor.run(self.inserts.response, response)


class ConsentRepository:
    """Consent records inside one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def existing_subjects(self, subject_ids: Sequence[str]) -> set[str]:
        """Return those of these subject ids that have a subject row."""
        rows = self.session.connection().execute(
            select(SUBJECT.c.id).where(SUBJECT.c.id.in_(list(subject_ids)))
        )
        return {str(subject_id) for subject_id in rows.scalars()}

    def get_for_update(self, consent_id: str) -> Consent | None:
        """Load a consent record and lock it until the transaction ends."""
        return self.session.scalars(
            select(Consent).where(Consent.id == consent_id).with_for_update()
        ).first()


class ResponseRepository:
    """Responses inside one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def delete_for_consent(self, consent_id: str) -> int:
        """Delete every response given under one consent and count them."""
        result = self.session.execute(delete(Response).where(Response.consent_id == consent_id))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def count(self) -> int:
        """Count every stored response."""
        return int(self.session.scalar(select(func.count()).select_from(Response)) or 0)
