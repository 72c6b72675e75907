"""Count what has expired and what outlives the policy, for the sweep's dry run and report.

Also the predicates every read path filters on, so that expired data is never
served whether or not the sweep has run yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, func, or_, select, text
from sqlalchemy.orm import Session

from feedbackvault.storage.bulk import is_postgres
from feedbackvault.storage.data_models import Consent, Response, Subject


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


class RetentionCounts:
    """Read-only counts over expiry, inside one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return is_postgres(self.session)

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

    def count_unexpired(self, now: datetime) -> tuple[int, datetime | None]:
        """Count the responses not expired yet, and say when the first of them expires."""
        query = select(func.count(), func.min(Response.expires_at)).where(response_is_live(now))
        count, first = self.session.execute(query).one()
        return int(count or 0), first

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

    def count_live_and_expiring(
        self, now: datetime, horizons: Sequence[datetime]
    ) -> dict[str, tuple[int, ...]]:
        """Count live responses per purpose, and how many of them expire before each horizon.

        The live count reads the covering aggregate index (purpose and expiry are in
        it); the expiring counts read a range of `ix_response_expires_at` up to the
        furthest horizon, so both stay index scans at a million responses.
        """
        live_query = (
            select(Response.purpose, func.count())
            .where(response_is_live(now))
            .group_by(Response.purpose)
        )
        live = {purpose: int(count) for purpose, count in self.session.execute(live_query)}
        counts: dict[str, tuple[int, ...]] = {
            purpose: (count, *(0 for _ in horizons)) for purpose, count in live.items()
        }
        if not horizons or not live:
            return counts
        expiring_query = (
            select(
                Response.purpose,
                *(func.sum(case((Response.expires_at <= h, 1), else_=0)) for h in horizons),
            )
            .where(
                Response.anonymised_at.is_(None),
                Response.expires_at > now,
                Response.expires_at <= max(horizons),
            )
            .group_by(Response.purpose)
        )
        for purpose, *expiring in self.session.execute(expiring_query):
            counts[purpose] = (live.get(purpose, 0), *(int(n or 0) for n in expiring))
        return counts

    def count_outliving(
        self, retentions: Mapping[str, tuple[int, float]], now: datetime, *, serial: bool = False
    ) -> dict[str, int]:
        """Count, per purpose, live responses stored to expire later than its retention now gives.

        `retentions` maps a purpose to (calendar months, seconds). Months are
        added by the calendar, clamped to the month's last day, as the policy
        does when a response is stored. One scan covers every purpose.

        `serial` keeps PostgreSQL from splitting the scan over parallel workers, for
        a count that runs beside the sweep: at 1,000,000 responses the parallel scan
        took 135 ms in three processes (~0.4 s of CPU), the serial one 256 ms in one,
        and on two cores the parallel workers took their time from the sweep's batches.
        """
        if serial and self._postgres:
            self.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
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
