"""Find, lock, erase and anonymise expired rows in set-based SQL, and shred keys in bulk.

Every statement here works on a whole batch of ids at once: the sweep has to
keep up with tens of thousands of expired rows a second, which row-by-row ORM
work cannot. On PostgreSQL the rows a batch works on are locked with
`FOR UPDATE SKIP LOCKED`, so several sweepers share the work without waiting
on each other; on SQLite every write transaction is `BEGIN IMMEDIATE`, which
already runs sweepers one after the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from feedbackvault.storage.data_models import Consent, ErasureTombstone, Response, Subject
from feedbackvault.storage.keystore_models import KeyTombstone, SubjectKey, SubjectLookup

# SQLite allows 32,766 bound parameters per statement; stay well below it.
SQLITE_IDS_PER_STATEMENT = 10_000
# A random UUID-shaped id for SQLite, which has no uuid function (PostgreSQL uses gen_random_uuid).
_SQLITE_RANDOM_ID = (
    "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2))"
    " || '-' || hex(randomblob(2)) || '-' || hex(randomblob(6)))"
)


# What an anonymised response expires at: never. Its real expiry would give away
# the exact moment it was recorded (recorded + retention), which anonymising drops.
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class ExpiringRow:
    """A locked response or consent the sweep is about to remove: pseudonymous ids only."""

    id: str
    purpose: str
    subject_id: str | None = None
    consent_id: str | None = None


def response_is_live(now: datetime) -> ColumnElement[bool]:
    """Select responses that may still be served with their link to a subject."""
    return and_(Response.expires_at > now, Response.anonymised_at.is_(None))


def response_counts(now: datetime) -> ColumnElement[bool]:
    """Select responses an aggregate may count: live ones and anonymised ones.

    Anonymised rows are no longer personal data (no subject, no consent, no
    comment, no exact time); keeping their scores is the point of `anonymise`.
    Expired rows the sweep has not reached yet are left out, like live rows
    whose consent expired (the sweep removes those with the consent).
    """
    consent_stands = or_(
        Response.consent_id.is_(None),
        exists().where(Consent.id == Response.consent_id, Consent.expires_at > now),
    )
    return or_(and_(response_is_live(now), consent_stands), Response.anonymised_at.is_not(None))


def consent_is_live(now: datetime) -> ColumnElement[bool]:
    """Select consent records that are still kept as proof of consent."""
    return Consent.expires_at > now


def insert_ignoring(session: Session, model: Any) -> Any:
    """Build an INSERT that skips rows whose primary key is already there (a re-run)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(model).on_conflict_do_nothing()
    return sqlite_insert(model).on_conflict_do_nothing()


class RetentionRepository:
    """Expired responses, consents and emptied subjects inside one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def lock_expired_responses(self, now: datetime, limit: int) -> list[ExpiringRow]:
        """Lock up to `limit` expired, not yet anonymised responses, oldest expiry first."""
        query = (
            select(Response.id, Response.purpose, Response.subject_id, Response.consent_id)
            .where(Response.expires_at <= now, Response.anonymised_at.is_(None))
            .order_by(Response.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [ExpiringRow(*row) for row in self.session.execute(query)]

    def lock_responses_of_expired_consents(self, now: datetime, limit: int) -> list[ExpiringRow]:
        """Lock up to `limit` unexpired responses whose consent record has expired."""
        query = (
            select(Response.id, Response.purpose, Response.subject_id, Response.consent_id)
            .join(Consent, Consent.id == Response.consent_id)
            .where(Consent.expires_at <= now, response_is_live(now))
            .order_by(Consent.expires_at)
            .limit(limit)
            .with_for_update(of=Response, skip_locked=True)
        )
        return [ExpiringRow(*row) for row in self.session.execute(query)]

    def lock_expired_consents_among(
        self, consent_ids: Sequence[str], now: datetime
    ) -> list[ExpiringRow]:
        """Lock those of these consent records whose retention has ended."""
        found: list[ExpiringRow] = []
        for chunk in self._chunks(consent_ids):
            query = (
                select(Consent.id, Consent.purpose, Consent.subject_id)
                .where(self._in(Consent.id, chunk), Consent.expires_at <= now)
                .with_for_update(skip_locked=True)
            )
            found.extend(ExpiringRow(*row) for row in self.session.execute(query))
        return found

    def lock_expired_bare_consents(self, now: datetime, limit: int) -> list[ExpiringRow]:
        """Lock up to `limit` expired consent records no response refers to any more."""
        query = (
            select(Consent.id, Consent.purpose, Consent.subject_id)
            .where(Consent.expires_at <= now, ~exists().where(Response.consent_id == Consent.id))
            .order_by(Consent.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [ExpiringRow(*row) for row in self.session.execute(query)]

    def delete_responses(self, ids: Sequence[str]) -> int:
        """Delete the responses with these ids and count them."""
        return self._run_chunked(
            lambda chunk: delete(Response).where(self._in(Response.id, chunk)), ids
        )

    def anonymise_responses(self, ids: Sequence[str], now: datetime) -> int:
        """Strip responses down to scores, survey, touchpoint and month; count them.

        The row also gets a fresh random id: the old id is named in audit
        entries beside the subject, so keeping it would tie the anonymised
        scores back to a person. The expiry becomes NEVER: the real one is the
        recording moment plus the retention. The locale goes too: it adds nothing to an
        aggregate and a rare locale can single a respondent out in a small group.
        """
        new_id = (
            cast(func.gen_random_uuid(), String)
            if self._postgres
            else literal_column(_SQLITE_RANDOM_ID, String)
        )
        values: dict[str, Any] = {
            "id": new_id,
            "subject_id": None,
            "consent_id": None,
            "email_ct": None,
            "name_ct": None,
            "customer_id_ct": None,
            "comment_ct": None,
            "created_at": None,
            "locale": None,
            "anonymised_at": now,
            "expires_at": NEVER,
        }
        return self._run_chunked(
            lambda chunk: update(Response).where(self._in(Response.id, chunk)).values(values), ids
        )

    def delete_consents(self, ids: Sequence[str]) -> int:
        """Delete the consent records with these ids and count them."""
        return self._run_chunked(
            lambda chunk: delete(Consent).where(self._in(Consent.id, chunk)), ids
        )

    def lock_emptied_subjects(self, candidates: Sequence[str]) -> list[str]:
        """Lock those of these subjects no response and no consent refers to any more."""
        found: list[str] = []
        for chunk in self._chunks(sorted(set(candidates))):
            query = (
                select(Subject.id)
                .where(
                    self._in(Subject.id, chunk),
                    ~exists().where(Response.subject_id == Subject.id),
                    ~exists().where(Consent.subject_id == Subject.id),
                )
                .with_for_update(skip_locked=True)
            )
            found.extend(self.session.scalars(query))
        return found

    def delete_subjects(self, ids: Sequence[str], now: datetime, reason: str) -> int:
        """Delete subject rows and leave an erasure tombstone for each; count them.

        The tombstone keeps only the random id, so that replaying erasures
        after a backup restore shreds these subjects again.
        """
        if not ids:
            return 0
        rows = [{"subject_id": sid, "erased_at": now, "reason": reason} for sid in ids]
        for start in range(0, len(rows), SQLITE_IDS_PER_STATEMENT // 3):
            chunk = rows[start : start + SQLITE_IDS_PER_STATEMENT // 3]
            self.session.execute(insert_ignoring(self.session, ErasureTombstone), chunk)
        return self._run_chunked(
            lambda chunk: delete(Subject).where(self._in(Subject.id, chunk)), ids
        )

    def count_expired_responses(self, now: datetime) -> dict[str, int]:
        """Count expired, unswept responses per purpose."""
        query = (
            select(Response.purpose, func.count())
            .where(Response.expires_at <= now, Response.anonymised_at.is_(None))
            .group_by(Response.purpose)
        )
        return {purpose: int(count) for purpose, count in self.session.execute(query)}

    def count_live_responses_under_expired_consents(self, now: datetime) -> dict[str, int]:
        """Count unexpired responses whose consent record has expired, per purpose."""
        query = (
            select(Response.purpose, func.count())
            .join(Consent, Consent.id == Response.consent_id)
            .where(response_is_live(now), Consent.expires_at <= now)
            .group_by(Response.purpose)
        )
        return {purpose: int(count) for purpose, count in self.session.execute(query)}

    def count_expired_consents(self, now: datetime) -> dict[str, int]:
        """Count consent records whose retention has ended, per purpose."""
        query = (
            select(Consent.purpose, func.count())
            .where(Consent.expires_at <= now)
            .group_by(Consent.purpose)
        )
        return {purpose: int(count) for purpose, count in self.session.execute(query)}

    def count_subjects_left_empty(self, now: datetime) -> int:
        """Count subjects that would have nothing left once everything expired is swept."""
        consent_stands = or_(
            Response.consent_id.is_(None),
            exists().where(Consent.id == Response.consent_id, Consent.expires_at > now),
        )
        kept_response = exists().where(
            Response.subject_id == Subject.id, response_is_live(now), consent_stands
        )
        kept_consent = exists().where(Consent.subject_id == Subject.id, consent_is_live(now))
        query = select(func.count()).select_from(Subject).where(~kept_response, ~kept_consent)
        return int(self.session.scalar(query) or 0)

    def count_outliving(
        self, retentions: Mapping[str, tuple[int, float]], now: datetime
    ) -> dict[str, int]:
        """Count, per purpose, live responses stored to expire later than its retention now gives.

        `retentions` maps a purpose to (calendar months, seconds). Months are
        added by the calendar, clamped to the month's last day, as the policy
        does when a response is stored. One scan covers every purpose.
        """
        beyond = case(
            *(
                (Response.purpose == purpose, self._beyond(months, seconds))
                for purpose, (months, seconds) in retentions.items()
            ),
            else_=false(),
        )
        query = (
            select(Response.purpose, func.count())
            .where(response_is_live(now), Response.created_at.is_not(None), beyond)
            .group_by(Response.purpose)
        )
        return {purpose: int(count) for purpose, count in self.session.execute(query)}

    def _beyond(self, months: int, seconds: float) -> ColumnElement[bool]:
        if self._postgres:
            limit: ColumnElement[Any] = (
                Response.created_at
                + func.make_interval(0, months)
                + func.make_interval(0, 0, 0, 0, 0, 0, seconds)
            )
            return Response.expires_at > limit
        shifted = func.julianday(Response.created_at, f"+{months} months")
        last_day = func.julianday(
            Response.created_at, "start of month", f"+{months + 1} months", "-1 day"
        ) + (
            func.julianday(Response.created_at)
            - func.julianday(Response.created_at, "start of day")
        )
        # A millisecond of slack absorbs julianday's floating-point rounding.
        limit = func.min(shifted, last_day) + (seconds + 0.001) / 86_400.0
        return func.julianday(Response.expires_at) > limit

    def _in(self, column: Any, ids: Sequence[str]) -> ColumnElement[bool]:
        if self._postgres:
            # One array parameter instead of thousands of scalar ones.
            result: ColumnElement[bool] = column == any_(
                bindparam(None, list(ids), type_=ARRAY(String))
            )
            return result
        in_clause: ColumnElement[bool] = column.in_(list(ids))
        return in_clause

    def _chunks(self, ids: Sequence[str]) -> Iterable[Sequence[str]]:
        step = len(ids) if self._postgres else SQLITE_IDS_PER_STATEMENT
        for start in range(0, len(ids), max(step, 1)):
            yield ids[start : start + step]

    def _run_chunked(self, statement: Any, ids: Sequence[str]) -> int:
        total = 0
        for chunk in self._chunks(ids):
            result = self.session.execute(
                statement(chunk), execution_options={"synchronize_session": False}
            )
            total += int(result.rowcount)  # type: ignore[attr-defined]
        return total


class KeyShredRepository:
    """Destroy many subjects' keys and blind-index entries inside one key-store transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def shred(self, subject_ids: Sequence[str], now: datetime) -> tuple[int, int]:
        """Tombstone the subjects and delete their keys and lookups; count keys and lookups.

        Safe to repeat: a subject already tombstoned is not tombstoned twice.
        """
        keys = lookups = 0
        for start in range(0, len(subject_ids), SQLITE_IDS_PER_STATEMENT // 2):
            ids = list(subject_ids[start : start + SQLITE_IDS_PER_STATEMENT // 2])
            rows = [{"subject_id": sid, "erased_at": now} for sid in ids]
            self.session.execute(insert_ignoring(self.session, KeyTombstone), rows)
            deleted_keys = self.session.execute(
                delete(SubjectKey).where(SubjectKey.subject_id.in_(ids))
            )
            deleted_lookups = self.session.execute(
                delete(SubjectLookup).where(SubjectLookup.subject_id.in_(ids))
            )
            keys += int(deleted_keys.rowcount)  # type: ignore[attr-defined]
            lookups += int(deleted_lookups.rowcount)  # type: ignore[attr-defined]
        return keys, lookups
