"""Read the follow-up queue a page at a time, and record, re-encrypt and erase handled items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    false,
    func,
    not_,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from feedbackvault.storage.data_models import (
    AUDIT_ENTRY,
    CONSENT,
    FOLLOW_UP,
    RESPONSE,
)

DONE = "done"
# The score at or below which a response is unhappy, per metric: NPS detractors (0-6),
# CSAT below satisfied (4-5) and CES below agreeing it was easy (5-7), the complements
# of what the scoring module counts as good.
UNHAPPY_AT_MOST = {"nps": 6, "csat": 3, "ces": 4}
# Audit actions that show a subject's data to someone: the recipients of Art. 15(1)(c).
RECIPIENT_ACTIONS = ("follow_up.shown", "follow_up.done")


@dataclass(frozen=True)
class QueueFilter:
    """What a follow-up listing asks for; None leaves a filter out."""

    purposes: Sequence[str]
    status: str
    survey_id: str | None = None
    metric: str | None = None
    max_score: int | None = None


@dataclass(frozen=True)
class QueueRow:
    """One response of the queue as stored: scores in clear, personal fields as ciphertext."""

    response_id: str
    subject_id: str
    survey_id: str
    purpose: str
    touchpoint: str | None
    locale: str | None
    scores: dict[str, int]
    ciphertexts: dict[str, bytes]
    created_at: datetime
    expires_at: datetime
    status: str
    note_ct: bytes | None
    done_at: datetime | None
    done_by: str | None
    # 0: unhappy (listed first when asked), 1: the rest; 0 when bands are not asked for.
    band: int = 0


_CIPHERTEXTS = ("email_ct", "name_ct", "customer_id_ct", "comment_ct")
_METRICS = ("nps", "csat", "ces")
_COLUMNS = (
    RESPONSE.c.id, RESPONSE.c.subject_id, RESPONSE.c.survey_id, RESPONSE.c.purpose,
    RESPONSE.c.touchpoint, RESPONSE.c.locale, *(RESPONSE.c[m] for m in _METRICS),
    *(RESPONSE.c[c] for c in _CIPHERTEXTS), RESPONSE.c.created_at, RESPONSE.c.expires_at,
    FOLLOW_UP.c.status, FOLLOW_UP.c.note_ct, FOLLOW_UP.c.done_at, FOLLOW_UP.c.done_by,
)  # fmt: skip


def unhappy(metric: str | None) -> ColumnElement[bool]:
    """Tell in SQL whether a response is unhappy on the metric (on any metric when None)."""
    metrics = [metric] if metric else list(_METRICS)
    return or_(*(RESPONSE.c[m] <= UNHAPPY_AT_MOST[m] for m in metrics))


def _eligible(now: datetime) -> list[ColumnElement[bool]]:
    """What a response needs to be followed up: a subject, a contact field, nothing expired.

    A withdrawn consent's responses are deleted, and an erased subject's are deleted or
    anonymised (no subject); the consent record is still checked, so a response is
    never shown without standing consent, whatever the order of events.
    """
    return [
        # The condition of ix_response_follow_up (FOLLOW_UP_INDEX_WHERE), so both
        # databases see that the partial index holds every row the queue may list.
        RESPONSE.c.subject_id.is_not(None),
        or_(RESPONSE.c.email_ct.is_not(None), RESPONSE.c.customer_id_ct.is_not(None)),
        RESPONSE.c.anonymised_at.is_(None),
        RESPONSE.c.expires_at > now,
        CONSENT.c.withdrawn_at.is_(None),
        CONSENT.c.expires_at > now,
    ]


def _base(now: datetime) -> Select[Any]:
    return (
        select(*_COLUMNS, CONSENT.c.expires_at.label("consent_expires_at"))
        .select_from(RESPONSE)
        .join(CONSENT, CONSENT.c.id == RESPONSE.c.consent_id)
        .outerjoin(FOLLOW_UP, FOLLOW_UP.c.response_id == RESPONSE.c.id)
        .where(*_eligible(now))
    )


class FollowUpRepository:
    """The follow-up queue and the handled items, inside one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def page(
        self,
        wanted: QueueFilter,
        purpose: str,
        now: datetime,
        band: int | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[QueueRow]:
        """Return one purpose's next rows, newest first, after the keyset `after`.

        Walks ix_response_follow_up (purpose, created_at, id) backwards from `after`,
        so a page costs the rows it reads, however long the queue. `band` 0 keeps the
        unhappy responses on the filter's metric (any metric without one), 1 the rest.
        """
        query = page_query(wanted, purpose, now, band, after, limit)
        return [_row(row, band or 0) for row in self.session.execute(query)]

    def one(self, response_id: str, purposes: Sequence[str], now: datetime) -> QueueRow | None:
        """Return a response that may be followed up (open or done), or None."""
        if not purposes:
            return None
        query = _base(now).where(RESPONSE.c.id == response_id, RESPONSE.c.purpose.in_(purposes))
        if self.session.get_bind().dialect.name == "postgresql":
            # An erasure or withdrawal deleting the response waits for the note to be
            # stored, and then deletes it too (their follow-up deletion comes after).
            query = query.with_for_update(of=RESPONSE)
        row = self.session.execute(query).one_or_none()
        return _row(row) if row is not None else None

    def record_done(
        self,
        row: QueueRow,
        note_ct: bytes,
        done_at: datetime,
        done_by: str,
        expires_at: datetime,
    ) -> bool:
        """Store the item as done with its note; False when it was done already."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(FOLLOW_UP)
            .values(
                response_id=row.response_id,
                subject_id=row.subject_id,
                status=DONE,
                note_ct=note_ct,
                done_at=done_at,
                done_by=done_by,
                expires_at=expires_at,
            )
            .on_conflict_do_nothing(index_elements=["response_id"])
            .returning(FOLLOW_UP.c.response_id)
        )
        return self.session.execute(statement).first() is not None

    def notes_of(self, subject_id: str) -> list[tuple[str, bytes]]:
        """Return the (response id, note ciphertext) of every note of a subject."""
        rows = self.session.execute(
            select(FOLLOW_UP.c.response_id, FOLLOW_UP.c.note_ct).where(
                FOLLOW_UP.c.subject_id == subject_id, FOLLOW_UP.c.note_ct.is_not(None)
            )
        )
        return [(str(response_id), bytes(note)) for response_id, note in rows]

    def overwrite_note(self, response_id: str, note_ct: bytes) -> None:
        """Replace one note's ciphertext (re-encrypted under a new data-key version)."""
        self.session.execute(
            update(FOLLOW_UP).where(FOLLOW_UP.c.response_id == response_id).values(note_ct=note_ct)
        )

    def exported(self, subject_ids: Sequence[str], now: datetime) -> list[dict[str, Any]]:
        """Return the subjects' unexpired handled items, oldest first, for an access export."""
        if not subject_ids:
            return []
        rows = self.session.execute(
            select(FOLLOW_UP)
            .where(FOLLOW_UP.c.subject_id.in_(list(subject_ids)), FOLLOW_UP.c.expires_at > now)
            .order_by(FOLLOW_UP.c.done_at, FOLLOW_UP.c.response_id)
        )
        return [dict(row._mapping) for row in rows]

    def recipients(self, subject_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Return who was shown the subjects' data, and when, from the audit log."""
        if not subject_ids:
            return []
        rows = self.session.execute(
            select(
                AUDIT_ENTRY.c.at,
                AUDIT_ENTRY.c.actor,
                AUDIT_ENTRY.c.action,
                AUDIT_ENTRY.c.details,
            )
            .where(
                AUDIT_ENTRY.c.subject_ref.in_(list(subject_ids)),
                AUDIT_ENTRY.c.action.in_(RECIPIENT_ACTIONS),
            )
            .order_by(AUDIT_ENTRY.c.seq)
        )
        return [dict(row._mapping) for row in rows]

    def delete_expired(self, now: datetime) -> int:
        """Delete the handled items whose response or consent has expired; return how many."""
        result = self.session.execute(delete(FOLLOW_UP).where(FOLLOW_UP.c.expires_at <= now))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def delete_of_responses(self, response_ids: Sequence[str]) -> int:
        """Delete the handled items of responses that were just erased; return how many."""
        if not response_ids:
            return 0
        result = self.session.execute(
            delete(FOLLOW_UP).where(FOLLOW_UP.c.response_id.in_(list(response_ids)))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def page_query(
    wanted: QueueFilter,
    purpose: str,
    now: datetime,
    band: int | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> Select[Any]:
    """Build the query of `FollowUpRepository.page` (its plan is tested on both databases)."""
    query = _base(now).where(RESPONSE.c.purpose == purpose)
    if wanted.status == DONE:
        query = query.where(FOLLOW_UP.c.status == DONE)
    else:
        query = query.where(FOLLOW_UP.c.response_id.is_(None))
    if wanted.survey_id is not None:
        query = query.where(RESPONSE.c.survey_id == wanted.survey_id)
    if wanted.metric is not None:
        score = RESPONSE.c[wanted.metric]
        query = query.where(score.is_not(None))
        if wanted.max_score is not None:
            query = query.where(score <= wanted.max_score)
    if band is not None:
        query = query.where(unhappy(wanted.metric) if band == 0 else happy_rest(wanted.metric))
    if after is not None:
        query = query.where(tuple_(RESPONSE.c.created_at, RESPONSE.c.id) < tuple_(*after))
    return query.order_by(RESPONSE.c.created_at.desc(), RESPONSE.c.id.desc()).limit(limit)


def happy_rest(metric: str | None) -> ColumnElement[bool]:
    """Tell in SQL whether a response is not unhappy (no score in the unhappy range)."""
    return not_(func.coalesce(unhappy(metric), false()))


def _row(row: Any, band: int = 0) -> QueueRow:
    mapping = row._mapping
    consent_expiry = mapping["consent_expires_at"]
    return QueueRow(
        response_id=str(mapping["id"]),
        subject_id=str(mapping["subject_id"]),
        survey_id=str(mapping["survey_id"]),
        purpose=str(mapping["purpose"]),
        touchpoint=mapping["touchpoint"],
        locale=mapping["locale"],
        scores={m: int(mapping[m]) for m in _METRICS if mapping[m] is not None},
        ciphertexts={c: bytes(mapping[c]) for c in _CIPHERTEXTS if mapping[c] is not None},
        created_at=mapping["created_at"],
        expires_at=min(mapping["expires_at"], consent_expiry),
        status=str(mapping["status"] or "open"),
        note_ct=bytes(mapping["note_ct"]) if mapping["note_ct"] is not None else None,
        done_at=mapping["done_at"],
        done_by=mapping["done_by"],
        band=band,
    )
