"""Find, lock, erase and anonymise expired rows in set-based SQL.

Every statement here works on a whole batch at once: the sweep has to keep up
with tens of thousands of expired rows a second, which row-by-row ORM work
cannot. Rows are locked first (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so
several sweepers share the work without waiting on each other; on SQLite every
write transaction is `BEGIN IMMEDIATE`, which already runs sweepers one after
the other), and then changed through their physical address (PostgreSQL's
`ctid`, SQLite's `rowid`): the lock keeps the address valid until the commit,
and a lookup by address skips the primary-key index the lookup by id walks.
Lists of ids go to PostgreSQL as one array parameter, joined through `unnest`
so that the planner probes the index once per id instead of scanning the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Table,
    TextClause,
    and_,
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
    text,
    true,
    update,
)
from sqlalchemy.orm import Session

from feedbackvault.storage.bulk import (
    add_tombstones,
    array_literal,
    chunks,
    id_array,
    is_postgres,
)
from feedbackvault.storage.data_models import (
    CONSENT,
    ERASURE_TOMBSTONE,
    RESPONSE,
    SUBJECT,
    Consent,
    Response,
    Subject,
)

# A random UUID-shaped id for SQLite, which has no uuid function (PostgreSQL uses gen_random_uuid).
_SQLITE_RANDOM_ID = (
    "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2))"
    " || '-' || hex(randomblob(2)) || '-' || hex(randomblob(6)))"
)


# What an anonymised response expires at: never. Its real expiry would give away
# the exact moment it was recorded (recorded + retention), which anonymising drops.
NEVER = datetime(9999, 12, 31, tzinfo=UTC)

# Where a locked row is: PostgreSQL's ctid (as text) or SQLite's rowid.
RowRef = str | int


@dataclass(frozen=True)
class ExpiringRow:
    """A locked response or consent the sweep is about to remove: pseudonymous ids only."""

    ref: RowRef
    purpose: str
    subject_id: str | None = None
    consent_id: str | None = None
    # A response's consent record still stands: its subject keeps something, so the
    # sweep neither looks that consent up again nor checks whether the subject emptied.
    consent_live: bool = False


@dataclass(frozen=True)
class EmptiedSubject:
    """A locked subject row that nothing refers to any more."""

    ref: RowRef
    id: str


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


class RetentionRepository:
    """Expired responses, consents and emptied subjects inside one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return is_postgres(self.session)

    def _ref(self, table: Table) -> ColumnElement[Any]:
        """Select a row's physical address, valid while this transaction holds its lock."""
        if self._postgres:
            return cast(literal_column(f"{table.name}.ctid"), String)
        return literal_column(f"{table.name}.rowid")

    def _at(self, table: Table, refs: Sequence[RowRef]) -> ColumnElement[bool] | TextClause:
        """Match rows by the addresses `_ref` gave (a Tid scan on PostgreSQL)."""
        if self._postgres:
            return text(f"{table.name}.ctid = ANY(CAST(:refs AS tid[]))").bindparams(
                bindparam("refs", array_literal(refs), type_=String)
            )
        matched: ColumnElement[bool] = literal_column(f"{table.name}.rowid").in_(list(refs))
        return matched

    def _lock_among(self, table: Table, ids: Sequence[str], query: Select[Any]) -> list[Any]:
        """Lock the rows `query` picks (it locks with SKIP LOCKED) whose `id` is among `ids`.

        On PostgreSQL the ids go as one array, and a LATERAL subquery looks each up
        through the primary key: given the array's length, the planner preferred
        hashing it against a scan of the whole table (500,000 subjects at 1,000,000
        responses, ten times slower than the lookups).
        """
        key = table.c.id
        if not self._postgres:
            found: list[Any] = []
            for chunk in chunks(self.session, ids):
                found.extend(self.session.execute(query.where(key.in_(list(chunk)))).all())
            return found
        # Thousands of index probes add up to an estimate past jit_above_cost; compiling
        # the plan took longer (60 ms) than running it. SET LOCAL ends with the transaction.
        self.session.execute(text("SET LOCAL jit = off"))
        wanted = func.unnest(id_array(ids)).table_valued("id").render_derived(name="wanted")
        picked = query.where(key == wanted.c.id).lateral("picked")
        return list(
            self.session.execute(select(picked).select_from(wanted).join(picked, true())).all()
        )

    def _locked(self, query: Select[Any]) -> list[ExpiringRow]:
        return [ExpiringRow(*row) for row in self.session.execute(query).all()]

    def lock_expired_responses(self, now: datetime, limit: int) -> list[ExpiringRow]:
        """Lock up to `limit` expired, not yet anonymised responses, oldest expiry first.

        Each row says whether its consent record still stands (its expiry, fixed at
        collection, is still ahead), read through the consent's primary key in the same
        statement: only the others are looked up again, to be locked and deleted.
        """
        columns = (
            RESPONSE.c.purpose,
            RESPONSE.c.subject_id,
            RESPONSE.c.consent_id,
        )
        consent_live = func.coalesce(CONSENT.c.expires_at > now, false())
        query = (
            select(self._ref(RESPONSE), *columns, consent_live)
            .select_from(RESPONSE.outerjoin(CONSENT, CONSENT.c.id == RESPONSE.c.consent_id))
            .where(RESPONSE.c.expires_at <= now, RESPONSE.c.anonymised_at.is_(None))
            .order_by(RESPONSE.c.expires_at)
            .limit(limit)
            .with_for_update(of=RESPONSE, skip_locked=True)
        )
        return self._locked(query)

    def lock_responses_of_expired_consents(self, now: datetime, limit: int) -> list[ExpiringRow]:
        """Lock up to `limit` unexpired responses whose consent record has expired."""
        columns = (
            RESPONSE.c.purpose,
            RESPONSE.c.subject_id,
            RESPONSE.c.consent_id,
        )
        query = (
            select(self._ref(RESPONSE), *columns)
            .join(CONSENT, CONSENT.c.id == RESPONSE.c.consent_id)
            .where(CONSENT.c.expires_at <= now, response_is_live(now))
            .order_by(CONSENT.c.expires_at)
            .limit(limit)
            .with_for_update(of=RESPONSE, skip_locked=True)
        )
        return self._locked(query)

    def lock_expired_consents_among(
        self, consent_ids: Sequence[str], now: datetime
    ) -> list[ExpiringRow]:
        """Lock those of these consent records whose retention has ended."""
        query = (
            select(self._ref(CONSENT), CONSENT.c.purpose, CONSENT.c.subject_id)
            .where(CONSENT.c.expires_at <= now)
            .with_for_update(skip_locked=True)
        )
        rows = self._lock_among(CONSENT, sorted(set(consent_ids)), query)
        return [ExpiringRow(*row) for row in rows]

    def lock_expired_bare_consents(self, now: datetime, limit: int) -> list[ExpiringRow]:
        """Lock up to `limit` expired consent records no response refers to any more."""
        query = (
            select(self._ref(CONSENT), CONSENT.c.purpose, CONSENT.c.subject_id)
            .where(
                CONSENT.c.expires_at <= now,
                ~exists().where(RESPONSE.c.consent_id == CONSENT.c.id),
            )
            .order_by(CONSENT.c.expires_at)
            .limit(limit)
            .with_for_update(of=CONSENT, skip_locked=True)
        )
        return self._locked(query)

    def delete_responses(self, rows: Sequence[ExpiringRow]) -> int:
        """Delete these locked responses and count them."""
        return self._run_chunked(RESPONSE, lambda at: delete(RESPONSE).where(at), rows)

    def anonymise_responses(self, rows: Sequence[ExpiringRow], now: datetime) -> int:
        """Strip locked responses down to scores, survey, touchpoint and month; count them.

        The row also gets a fresh random id: the old id is named in audit
        entries beside the subject, so keeping it would tie the anonymised
        scores back to a person. (It costs next to nothing: clearing the
        indexed links already makes PostgreSQL write a new entry in every index
        of the row.) The expiry becomes NEVER: the real one is the recording
        moment plus the retention. The locale goes too: it adds nothing to an
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
            RESPONSE, lambda at: update(RESPONSE).where(at).values(values), rows
        )

    def delete_consents(self, rows: Sequence[ExpiringRow]) -> int:
        """Delete these locked consent records and count them."""
        return self._run_chunked(CONSENT, lambda at: delete(CONSENT).where(at), rows)

    def lock_emptied_subjects(self, candidates: Sequence[str]) -> list[EmptiedSubject]:
        """Lock those of these subjects no response and no consent refers to any more."""
        query = (
            select(self._ref(SUBJECT), SUBJECT.c.id)
            .where(
                ~exists().where(RESPONSE.c.subject_id == SUBJECT.c.id),
                ~exists().where(CONSENT.c.subject_id == SUBJECT.c.id),
            )
            .with_for_update(of=SUBJECT, skip_locked=True)
        )
        rows = self._lock_among(SUBJECT, sorted(set(candidates)), query)
        return [EmptiedSubject(*row) for row in rows]

    def delete_subjects(
        self, subjects: Sequence[EmptiedSubject], now: datetime, reason: str
    ) -> int:
        """Delete locked subject rows and leave an erasure tombstone for each; count them.

        The tombstone keeps only the random id, so that replaying erasures
        after a backup restore shreds these subjects again.
        """
        if not subjects:
            return 0
        ids = [subject.id for subject in subjects]
        values = {"erased_at": now, "reason": reason}
        add_tombstones(self.session, ERASURE_TOMBSTONE, ids, values)
        return self._run_chunked(SUBJECT, lambda at: delete(SUBJECT).where(at), subjects)

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

    def _run_chunked(self, table: Table, statement: Any, rows: Sequence[Any]) -> int:
        total = 0
        for chunk in chunks(self.session, [row.ref for row in rows]):
            result = self.session.execute(statement(self._at(table, chunk)))
            total += int(result.rowcount)  # type: ignore[attr-defined]
        return total
