"""Tables of the data database: pseudonymous subjects, consents, responses, requests, audit."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from feedbackvault.storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The columns of ix_response_aggregate, in order (migration 0003 builds the same).
AGGREGATE_INDEX_COLUMNS = (
    "survey_id",
    "created_month",
    "nps",
    "csat",
    "ces",
    "touchpoint",
    "purpose",
    "expires_at",
    "anonymised_at",
    "created_at",
    "consent_id",
)


# The condition of ix_response_follow_up; the queue's query states it word for word.
FOLLOW_UP_INDEX_WHERE = (
    "subject_id IS NOT NULL AND (email_ct IS NOT NULL OR customer_id_ct IS NOT NULL)"
)


def _partial_index(name: str, column: str, condition: str, *, unique: bool = False) -> Index:
    """Index a column over the rows that meet a condition, on PostgreSQL and SQLite alike."""
    where = text(condition)
    return Index(name, column, unique=unique, postgresql_where=where, sqlite_where=where)


# SQLite: a table kept as one B-tree in primary-key order instead of rows plus a key
# index, so each insert writes one page fewer (data 0011, keystore 0002). For tables
# with small rows and a non-integer primary key.
WITHOUT_ROWID = ({"sqlite_with_rowid": False},)


# The act every submission appends (collection.py): left out of the action index.
HOT_AUDIT_ACTION = "response.recorded"
AUDIT_ACTION_INDEX_WHERE = f"action <> '{HOT_AUDIT_ACTION}'"


class DataBase(DeclarativeBase):
    """Declarative base of the data database."""

    metadata = MetaData(naming_convention=NAMING)


class Subject(DataBase):
    """A data subject: a random pseudonym and nothing personal."""

    __tablename__ = "subject"
    __table_args__ = WITHOUT_ROWID

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Consent(DataBase):
    """One opt-in consent, its signed receipt and its withdrawal."""

    __tablename__ = "consent"
    __table_args__ = (
        # Reads exclude the few withdrawn consents; this keeps finding them cheap.
        Index(
            "ix_consent_withdrawn",
            "withdrawn_at",
            postgresql_where=text("withdrawn_at IS NOT NULL"),
            sqlite_where=text("withdrawn_at IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # No foreign key (migration 0005): erasure and the sweep delete a subject only together
    # with, or after, everything that names it.
    subject_id: Mapped[str | None] = mapped_column(String(36), index=True)
    purpose: Mapped[str] = mapped_column(String(64))
    notice_version: Mapped[str] = mapped_column(String(64))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdraw_token_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    receipt_signature: Mapped[str] = mapped_column(String(128))
    # SHA-256 (hex) of the exact notice text the respondent was shown (migration 0015);
    # null for consents recorded before receipts named it.
    notice_sha256: Mapped[str | None] = mapped_column(String(64))
    responses_erased: Mapped[int | None] = mapped_column(Integer)


class Response(DataBase):
    """One feedback response: scores in clear, personal fields as per-subject ciphertext."""

    __tablename__ = "response"
    __table_args__ = (
        CheckConstraint("nps IS NULL OR (nps BETWEEN 0 AND 10)", name="nps_range"),
        CheckConstraint("csat IS NULL OR (csat BETWEEN 1 AND 5)", name="csat_range"),
        CheckConstraint("ces IS NULL OR (ces BETWEEN 1 AND 7)", name="ces_range"),
        # Everything an aggregate reads, led by the survey and ordered by month and score:
        # SQLite answers a survey's scores from this index alone, in group order, without
        # touching the wide rows (ciphertexts) or sorting (bench_scores.py: 626 -> ~150 ms
        # at 1,000,000 rows). PostgreSQL's parallel scan is as fast either way. Partial:
        # no aggregate counts an anonymised row, so anonymising adds no entry (0007).
        Index(
            "ix_response_aggregate",
            *AGGREGATE_INDEX_COLUMNS,
            postgresql_where=text("anonymised_at IS NULL"),
            sqlite_where=text("anonymised_at IS NULL"),
        ),
        # Partial: an anonymised row has no subject, no consent and no expiry to sweep,
        # so anonymising it adds no entry to these three (bench_sweep.py). Lookups by
        # subject or consent, the consent foreign key's SET NULL probes included, and the
        # sweep's search for expired rows all imply the condition, so both databases use them.
        _partial_index("ix_response_subject_id", "subject_id", "subject_id IS NOT NULL"),
        # Unique: every submission records its own consent (API.md: one receipt each), so
        # the sweep knows that a record whose response it removed is named by no other
        # (migration 0010).
        _partial_index(
            "ix_response_consent_id", "consent_id", "consent_id IS NOT NULL", unique=True
        ),
        _partial_index("ix_response_expires_at", "expires_at", "anonymised_at IS NULL"),
        # The follow-up queue of a purpose, newest first, a page at a time (keyset on
        # created_at and id). Partial, over the responses that hold a contact field: the
        # queue lists only those, and no other statement's condition implies it, so the
        # planner never takes it for an erasure's lookup by subject (test_pg_plans.py).
        Index(
            "ix_response_follow_up",
            "purpose",
            "created_at",
            "id",
            postgresql_where=text(FOLLOW_UP_INDEX_WHERE),
            sqlite_where=text(FOLLOW_UP_INDEX_WHERE),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # No foreign key (migration 0005): erasure and the sweep delete a subject only together
    # with, or after, everything that names it.
    subject_id: Mapped[str | None] = mapped_column(String(36))
    # No foreign key: a trigger unlinks the responses of a deleted consent record, so one
    # deleted behind the application's back drops them from aggregates, which count a
    # response only while it has one (migration 0008).
    consent_id: Mapped[str | None] = mapped_column(String(36))
    # The consent record's own expiry, copied when both are stored (it never changes), so
    # the sweep tells a standing consent from an expired one without looking the record
    # up: a lookup per swept response was half of a batch (migration 0009). Null when
    # unknown (rows from before 0009 that were not backfilled) and once anonymised.
    consent_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    survey_id: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(64))
    touchpoint: Mapped[str | None] = mapped_column(String(40))
    locale: Mapped[str | None] = mapped_column(String(35))
    nps: Mapped[int | None] = mapped_column(SmallInteger)
    csat: Mapped[int | None] = mapped_column(SmallInteger)
    ces: Mapped[int | None] = mapped_column(SmallInteger)
    email_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    name_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    customer_id_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    comment_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Null once anonymised: the exact moment can help re-identify a respondent.
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_month: Mapped[date] = mapped_column(Date)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PrivacyRequest(DataBase):
    """A data-subject request (access, rectification, erasure) and its lifecycle."""

    __tablename__ = "privacy_request"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    # Keyed blind-index digests of the identifiers given; cleared once the request closes.
    email_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    customer_id_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    subject_refs: Mapped[str | None] = mapped_column(Text)
    note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    extension_reason: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verification_method: Mapped[str | None] = mapped_column(String(200))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)


class PrivacyLink(DataBase):
    """A single-use link the privacy centre e-mailed: only the hash of its token is kept."""

    __tablename__ = "privacy_link"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # "confirm" (creates a request) or "download" (one access export).
    purpose: Mapped[str] = mapped_column(String(16))
    request_kind: Mapped[str | None] = mapped_column(String(20))
    contact_id: Mapped[str | None] = mapped_column(String(36))
    request_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PrivacyContact(DataBase):
    """Where to e-mail a privacy-centre requester: the address encrypted under its own key.

    The data key lives in the key store under the contact's id, so destroying it
    (when the answer has been sent, or the request closes otherwise) shreds the address.
    """

    __tablename__ = "privacy_contact"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str | None] = mapped_column(String(36), index=True)
    address_ct: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ErasureTombstone(DataBase):
    """The random id of an erased subject, kept so a restored backup can be erased again."""

    __tablename__ = "erasure_tombstone"

    subject_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(20))


# Subjects a sweep batch may have left with nothing, until a shredder has checked them.
# Written in the batch's own transaction, so an interrupted sweep leaves them for the
# next one (services/retention.py). No key: two sweepers may queue one subject at once,
# and a unique key would make the second wait for the first one's commit.
SHRED_QUEUE = Table(
    "shred_queue",
    DataBase.metadata,
    Column("subject_id", String(36), nullable=False),
    Column("queued_at", UTCDateTime(), nullable=False),
)


class FollowUp(DataBase):
    """A response that follow-up staff have handled: who, when, and their note as ciphertext."""

    __tablename__ = "follow_up"

    response_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # The response's subject: the note's associated data names it, and an erasure of the
    # subject deletes the row with its responses (no foreign key, as between the others).
    subject_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(10))
    # The note is personal data: encrypted under the subject's data key.
    note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(String(100))
    # The earlier of the response's and its consent record's expiry: the sweep deletes
    # the row then, with the response it is about.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class AuditEntry(DataBase):
    """One link of the append-only, hash-chained audit log."""

    __tablename__ = "audit_entry"
    # Every index here is one more page each append writes (0011): entries are looked
    # up by subject and by request, and most name no request. The console filters by
    # action (0017): every act but the one each submission writes, so ingest pays nothing.
    __table_args__ = (
        _partial_index("ix_audit_entry_request_id", "request_id", "request_id IS NOT NULL"),
        Index(
            "ix_audit_entry_action",
            "action",
            "seq",
            postgresql_where=text(AUDIT_ACTION_INDEX_WHERE),
            sqlite_where=text(AUDIT_ACTION_INDEX_WHERE),
        ),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    subject_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    request_id: Mapped[str | None] = mapped_column(String(36))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(DataBase):
    """The single row that serialises appends to the audit chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class ApiToken(DataBase):
    """A bearer token: its name, role and only the hash of its secret."""

    __tablename__ = "api_token"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReleaseCell(DataBase):
    """A frozen noisy histogram of one survey, metric, touchpoint cell and closed period.

    No column links it to a response or a subject; it is written once and never updated
    (migration 0013). The primary key is what makes two concurrent releases one.
    """

    __tablename__ = "release_cell"
    __table_args__ = WITHOUT_ROWID

    survey_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    metric: Mapped[str] = mapped_column(String(8), primary_key=True)
    # "day" or "month" (released, noisy); or "days": per label, the sum of a closed month's
    # day cells, derived once from them when the month is released (no new noise, no budget).
    # period is the day, or the month's first day.
    level: Mapped[str] = mapped_column(String(8), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    # A selected label, or "(none)", "(other)" (unselected labels) or "(all)" (a month).
    touchpoint: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Noisy count of every value of the scale, lowest first, comma-separated; may be < 0.
    counts: Mapped[str] = mapped_column(String(200))
    epsilon: Mapped[float] = mapped_column(Float)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # "days" rows only: how many day cells the sum adds up.
    cells: Mapped[int | None] = mapped_column(Integer)


class ReleaseSurvey(DataBase):
    """How far a survey's releases reach: every day from first_day to released_through."""

    __tablename__ = "release_survey"

    survey_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    first_day: Mapped[date] = mapped_column(Date)
    released_through: Mapped[date] = mapped_column(Date)


class ReleaseLabel(DataBase):
    """A touchpoint label selected privately, with the first day whose cells show it."""

    __tablename__ = "release_label"
    __table_args__ = WITHOUT_ROWID

    survey_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    touchpoint: Mapped[str] = mapped_column(String(40), primary_key=True)
    selected_on: Mapped[date] = mapped_column(Date)


class Account(DataBase):
    """A person's console account: e-mail, role and only an Argon2id hash of the password."""

    __tablename__ = "account"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Lower-cased; also the actor name in audit entries (`account:<email>`).
    email: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200))
    # A one-time password (new account, reset) must be replaced at the next login.
    must_change_password: Mapped[bool] = mapped_column(Boolean)
    failed_logins: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Raised on logout, password change, reset and disable: older sessions stop working.
    session_version: Mapped[int] = mapped_column(Integer)
    # The newest successful logins, as a JSON list of ISO times (newest first).
    recent_logins: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def _table(model: type[DataBase]) -> Table:
    """Return a model's Core table, for the paths that run Core statements."""
    return cast(Table, model.__table__)


# Core tables of the hot paths (ingest, subject rights, the sweep): one name each.
SUBJECT = _table(Subject)
CONSENT = _table(Consent)
RESPONSE = _table(Response)
ERASURE_TOMBSTONE = _table(ErasureTombstone)
PRIVACY_REQUEST = _table(PrivacyRequest)
AUDIT_ENTRY = _table(AuditEntry)
AUDIT_HEAD = _table(AuditHead)
RELEASE_CELL = _table(ReleaseCell)
RELEASE_SURVEY = _table(ReleaseSurvey)
RELEASE_LABEL = _table(ReleaseLabel)


FOLLOW_UP = _table(FollowUp)
