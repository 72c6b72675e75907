"""Store and read frozen release cells, how far each survey is released, and its labels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from feedbackvault.storage.data_models import (
    RELEASE_CELL,
    RELEASE_LABEL,
    RELEASE_SURVEY,
)

DAY = "day"
MONTH = "month"
# Per label, the sum of a closed month's day cells: derived, so reads need not add them up.
DAY_SUMS = "days"


@dataclass(frozen=True)
class SurveyReleases:
    """A survey's released range: every closed day from first_day to released_through."""

    survey_id: str
    first_day: date
    released_through: date


@dataclass(frozen=True)
class StoredCell:
    """One release cell as stored."""

    period: date
    touchpoint: str
    counts: tuple[int, ...]
    cells: int | None = None


@dataclass(frozen=True)
class NewCell:
    """A cell to store."""

    survey_id: str
    metric: str
    level: str
    period: date
    touchpoint: str
    counts: Sequence[int]
    epsilon: float
    cells: int | None = None


class ReleaseRepository:
    """Release cells and their bookkeeping, in one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def survey(self, survey_id: str) -> SurveyReleases | None:
        """Return how far a survey is released, or None before its first release."""
        row = self.session.execute(
            select(RELEASE_SURVEY).where(RELEASE_SURVEY.c.survey_id == survey_id)
        ).first()
        return _survey(row) if row else None

    def surveys(self) -> list[SurveyReleases]:
        """Return every released survey, by id."""
        rows = self.session.execute(select(RELEASE_SURVEY).order_by(RELEASE_SURVEY.c.survey_id))
        return [_survey(row) for row in rows]

    def lock_survey(self, survey_id: str, first_day: date, before: date) -> SurveyReleases:
        """Start a survey's releases if new, then lock its row until the transaction ends.

        Two releasers of one survey queue here (PostgreSQL: the row lock; SQLite: the write
        lock the transaction took when it began), and the second sees what the first did.
        """
        values = {"survey_id": survey_id, "first_day": first_day, "released_through": before}
        self.session.execute(self._insert_ignoring(RELEASE_SURVEY), [values])
        query = select(RELEASE_SURVEY).where(RELEASE_SURVEY.c.survey_id == survey_id)
        if self._dialect() == "postgresql":
            query = query.with_for_update()
        return _survey(self.session.execute(query).one())

    def advance(self, survey_id: str, through: date) -> None:
        """Record that every day up to `through` is released."""
        self.session.execute(
            update(RELEASE_SURVEY)
            .where(RELEASE_SURVEY.c.survey_id == survey_id)
            .values(released_through=through)
        )

    def labels(self, survey_id: str) -> dict[str, date]:
        """Return the survey's selected labels and the first day each was shown."""
        rows = self.session.execute(
            select(RELEASE_LABEL.c.touchpoint, RELEASE_LABEL.c.selected_on).where(
                RELEASE_LABEL.c.survey_id == survey_id
            )
        )
        return {row.touchpoint: row.selected_on for row in rows}

    def add_labels(self, survey_id: str, labels: Mapping[str, date]) -> None:
        """Record newly selected labels; a label selected before keeps its first day."""
        rows = [
            {"survey_id": survey_id, "touchpoint": label, "selected_on": day}
            for label, day in sorted(labels.items())
        ]
        if rows:
            self.session.execute(self._insert_ignoring(RELEASE_LABEL), rows)

    def add_cells(self, cells: Iterable[NewCell], at: datetime) -> int:
        """Store new cells, leaving any cell already released as it is; return how many."""
        rows = [
            {
                "survey_id": cell.survey_id,
                "metric": cell.metric,
                "level": cell.level,
                "period": cell.period,
                "touchpoint": cell.touchpoint,
                "counts": ",".join(str(count) for count in cell.counts),
                "epsilon": cell.epsilon,
                "released_at": at,
                "cells": cell.cells,
            }
            for cell in cells
        ]
        if rows:
            self.session.execute(self._insert_ignoring(RELEASE_CELL), rows)
        return len(rows)

    def cells(
        self, survey_id: str, metric: str, level: str, start: date, end: date
    ) -> list[StoredCell]:
        """Return a level's cells of one survey and metric with period in start..end."""
        return self.levels(survey_id, metric, (level,), start, end)[level]

    def levels(
        self, survey_id: str, metric: str, levels: Sequence[str], start: date, end: date
    ) -> dict[str, list[StoredCell]]:
        """Return the cells of several levels in one statement, by level, in key order."""
        query = (
            select(
                RELEASE_CELL.c.level,
                RELEASE_CELL.c.period,
                RELEASE_CELL.c.touchpoint,
                RELEASE_CELL.c.counts,
                RELEASE_CELL.c.cells,
            )
            .where(
                RELEASE_CELL.c.survey_id == survey_id,
                RELEASE_CELL.c.metric == metric,
                RELEASE_CELL.c.level.in_(levels),
                RELEASE_CELL.c.period >= start,
                RELEASE_CELL.c.period <= end,
            )
            .order_by(RELEASE_CELL.c.level, RELEASE_CELL.c.period, RELEASE_CELL.c.touchpoint)
        )
        found: dict[str, list[StoredCell]] = {level: [] for level in levels}
        # Plain tuples on the session's connection: no ORM layer for a read of many rows.
        for level, period, touchpoint, counts, cells in self.session.connection().execute(query):
            found[level].append(
                StoredCell(
                    period=period,
                    touchpoint=touchpoint,
                    counts=tuple(map(int, counts.split(","))),
                    cells=cells,
                )
            )
        return found

    def cell_count(self, survey_id: str) -> int:
        """Count the survey's stored cells."""
        return int(
            self.session.execute(
                select(func.count()).where(RELEASE_CELL.c.survey_id == survey_id)
            ).scalar_one()
        )

    def _insert_ignoring(self, table: Any) -> Any:
        """Build an INSERT (run once per row given) that skips rows whose key is taken."""
        if self._dialect() == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()

    def _dialect(self) -> str:
        """Name the SQL dialect of the session's database."""
        return self.session.get_bind().dialect.name


def _survey(row: Any) -> SurveyReleases:
    """Build a survey's released range from its row."""
    return SurveyReleases(
        survey_id=row.survey_id, first_day=row.first_day, released_through=row.released_through
    )
