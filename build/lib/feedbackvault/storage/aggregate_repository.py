"""Count score histograms per group in SQL, so no response row ever leaves the database."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    func,
    literal,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from feedbackvault.storage.data_models import Consent, Response

GROUPINGS = ("touchpoint", "day", "week", "month")
# The key of responses sent without a touchpoint: parentheses cannot occur in a label.
NO_TOUCHPOINT = "(none)"
# The key of the one group of an ungrouped query (API.md).
ALL = "all"
_METRIC_COLUMNS = {"nps": Response.nps, "csat": Response.csat, "ces": Response.ces}


@dataclass(frozen=True)
class HistogramCount:
    """How many counted responses of one group gave one score value."""

    key: str
    value: int
    count: int


class AggregateRepository:
    """Histogram queries over the responses that may be aggregated, in one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def histograms(
        self,
        *,
        metric: str,
        group_by: str | None,
        survey_id: str,
        start: datetime | None,
        end: datetime | None,
        now: datetime,
        purposes: Collection[str],
    ) -> list[HistogramCount]:
        """Count (group key, score value) pairs of live, consented, aggregatable responses.

        `start` is inclusive and `end` exclusive. A response counts only while it is not
        anonymised or expired, its purpose may feed aggregates, and its consent record
        exists (erasure removes it), stands and is unexpired. Expired rows are filtered
        here rather than trusted to the retention sweep, which may not have run yet.
        """
        if not purposes:
            return []
        column = _METRIC_COLUMNS[metric]
        key = self._key(group_by)
        # The consents that no longer stand are few (withdrawal also deletes its
        # responses), so the query excludes them rather than joining every live
        # consent. NOT IN over that small set, found through ix_consent_withdrawn and
        # ix_consent_expires_at, is one hashed lookup per row on PostgreSQL and a
        # small temporary index on SQLite (bench_scores.py: 2x faster than a join).
        # Two SELECTs, not one with OR: SQLite answers an OR by scanning every consent
        # (120 ms at 1,000,000), each half alone through its index.
        lapsing = union_all(
            select(Consent.id).where(Consent.withdrawn_at.is_not(None)),
            select(Consent.id).where(Consent.expires_at <= now),
        )
        consent_stands = Response.consent_id.not_in(lapsing)
        query = (
            select(key.label("key"), column.label("value"), func.count().label("n"))
            .select_from(Response)
            .where(
                Response.survey_id == survey_id,
                Response.purpose.in_(sorted(purposes)),
                Response.anonymised_at.is_(None),
                Response.created_at.is_not(None),
                self._unindexed(Response.expires_at) > now,
                column.is_not(None),
                # Erasing a consent record unlinks its responses (ON DELETE SET NULL).
                Response.consent_id.is_not(None),
                consent_stands,
            )
            # PostgreSQL refuses a constant in GROUP BY, so the ungrouped key is only selected.
            .group_by(*([column] if group_by is None else [key, column]))
        )
        if start is not None:
            query = query.where(Response.created_at >= start)
        if end is not None:
            query = query.where(Response.created_at < end)
        if self._dialect() == "postgresql":
            # Compiling this one-off scan with LLVM costs more (~120 ms) than it saves.
            self.session.execute(text("SET LOCAL jit = off"))
        return [
            HistogramCount(key=_key_text(row.key), value=int(row.value), count=int(row.n))
            for row in self.session.execute(query)
        ]

    def _key(self, group_by: str | None) -> ColumnElement[Any]:
        """Build the dialect's SQL expression for a group's key."""
        if group_by is None:
            return literal(ALL, String)
        if group_by == "touchpoint":
            return func.coalesce(Response.touchpoint, NO_TOUCHPOINT)
        if group_by == "month":
            # Kept at submission as the first day of the UTC month; cheaper than a date function.
            return Response.created_month.expression
        if group_by not in ("day", "week"):
            raise ValueError(f"unknown grouping {group_by!r}; expected one of {GROUPINGS}")
        if self._dialect() == "postgresql":
            # created_at is naive UTC, so truncation happens in UTC; ISO weeks start on Monday.
            return func.date_trunc(literal_column(f"'{group_by}'"), Response.created_at)
        if group_by == "day":
            return func.date(Response.created_at, type_=String)
        # SQLite: move to the coming Sunday (or stay on one), then back six days to its Monday.
        return func.date(Response.created_at, "weekday 0", "-6 days", type_=String)

    def _unindexed(self, column: Any) -> ColumnElement[Any]:
        """Keep SQLite from reaching rows through this column's index."""
        if self._dialect() != "sqlite":
            return column  # type: ignore[no-any-return]
        # Nearly every live row is unexpired, yet SQLite would walk ix_response_expires_at
        # and fetch each row by rowid: 5x slower than scanning the table. A unary + is
        # SQLite's idiom for "do not use an index for this term".
        return UnaryExpression(column.expression, operator=custom_op("+"), type_=column.type)

    def _dialect(self) -> str:
        """Name the SQL dialect of the session's database."""
        return self.session.get_bind().dialect.name


def _key_text(key: object) -> str:
    """Render a group key as text: dates as ISO dates, labels as they are."""
    if isinstance(key, datetime):
        return key.date().isoformat()
    if isinstance(key, date):
        return key.isoformat()
    return str(key)
