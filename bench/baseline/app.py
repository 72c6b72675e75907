"""Store feedback with no consent, crypto, audit or auth: the benchmarks' privacy-free ceiling.

It takes the same JSON body as feedbackvault's `POST /api/v1/responses`,
validates just enough to insert one row (scores and personal fields in plain
text), and computes NPS with one SQL aggregate. SQLite runs with the same
pragmas and `BEGIN IMMEDIATE` as feedbackvault, so the comparison measures
privacy, not tuning.

Run it: `BASELINE_DATABASE_URL=sqlite:////tmp/base.db gunicorn --pythonpath . \
'bench.baseline.app:create_app()'` after `python -m bench.baseline.app init`.
"""

from __future__ import annotations

import os
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import (
    DateTime,
    Index,
    SmallInteger,
    String,
    Text,
    case,
    func,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

# The same engine tuning as feedbackvault (WAL, IMMEDIATE writers), so the ceiling is fair.
from feedbackvault.storage.database import make_engine

URL_VARIABLE = "BASELINE_DATABASE_URL"
SCORE_RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
TEXT_FIELDS = {"email": 254, "name": 200, "customer_id": 100}


class Base(DeclarativeBase):
    """Declarative base of the baseline's one table."""


class Feedback(Base):
    """One response, everything in clear."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_survey_created", "survey_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(64))
    touchpoint: Mapped[str | None] = mapped_column(String(40))
    locale: Mapped[str | None] = mapped_column(String(35))
    nps: Mapped[int | None] = mapped_column(SmallInteger)
    csat: Mapped[int | None] = mapped_column(SmallInteger)
    ces: Mapped[int | None] = mapped_column(SmallInteger)
    email: Mapped[str | None] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(200))
    customer_id: Mapped[str | None] = mapped_column(String(100))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def init_schema(url: str) -> None:
    """Create the table (run once, before the workers start)."""
    engine = make_engine(url)
    try:
        Base.metadata.create_all(engine)
    finally:
        engine.dispose()


def nps_of(session: Session, survey_id: str) -> tuple[int, float | None]:
    """Return the number of NPS answers of a survey and its NPS, in one SQL aggregate."""
    promoters = func.sum(case((Feedback.nps >= 9, 1), else_=0))
    detractors = func.sum(case((Feedback.nps <= 6, 1), else_=0))
    row = session.execute(
        select(func.count(Feedback.nps), promoters, detractors).where(
            Feedback.survey_id == survey_id, Feedback.nps.is_not(None)
        )
    ).one()
    n = int(row[0])
    if n == 0:
        return 0, None
    return n, 100.0 * (int(row[1]) - int(row[2])) / n


def _problem(status: int, detail: str) -> ResponseReturnValue:
    return jsonify({"status": status, "detail": detail}), status


def _parse(body: Any) -> tuple[dict[str, Any] | None, str]:
    """Check just enough of a submission to insert it; return the row's values or a reason."""
    if not isinstance(body, dict):
        return None, "body must be a JSON object"
    answers = body.get("answers")
    respondent = body.get("respondent") or {}
    survey_id, purpose = body.get("survey_id"), body.get("purpose")
    if not isinstance(survey_id, str) or not isinstance(purpose, str):
        return None, "survey_id and purpose are required strings"
    if not isinstance(answers, dict) or not isinstance(respondent, dict):
        return None, "answers and respondent must be objects"
    values: dict[str, Any] = {"survey_id": survey_id[:100], "purpose": purpose[:64]}
    for metric, (low, high) in SCORE_RANGES.items():
        score = answers.get(metric)
        if score is not None and (type(score) is not int or not low <= score <= high):
            return None, f"{metric} must be an integer from {low} to {high}"
        values[metric] = score
    if all(values[metric] is None for metric in SCORE_RANGES):
        return None, "at least one score is required"
    for name, limit in TEXT_FIELDS.items():
        value = respondent.get(name)
        values[name] = value[:limit] if isinstance(value, str) else None
    comment = answers.get("comment")
    values["comment"] = comment if isinstance(comment, str) else None
    for name, limit in (("touchpoint", 40), ("locale", 35)):
        value = body.get(name)
        values[name] = value[:limit] if isinstance(value, str) else None
    return values, ""


def create_app(database_url: str | None = None) -> Flask:
    """Create the baseline app on `database_url` (default: `$BASELINE_DATABASE_URL`)."""
    url = database_url or os.environ.get(URL_VARIABLE)
    if not url:
        raise RuntimeError(f"set {URL_VARIABLE} or pass a database URL")
    sessions = sessionmaker(make_engine(url), expire_on_commit=False)
    app = Flask("baseline")

    @app.post("/responses")
    def submit() -> ResponseReturnValue:
        values, reason = _parse(request.get_json(silent=True))
        if values is None:
            return _problem(422, reason)
        row = Feedback(id=str(uuid.uuid4()), created_at=datetime.now(UTC), **values)
        with sessions.begin() as session:
            session.add(row)
        return jsonify({"response_id": row.id}), 201

    @app.get("/nps")
    def nps() -> ResponseReturnValue:
        survey_id = request.args.get("survey_id")
        if not survey_id:
            return _problem(422, "survey_id is required")
        with sessions() as session:
            n, score = nps_of(session, survey_id)
        return jsonify({"survey_id": survey_id, "n": n, "nps": score})

    return app


if __name__ == "__main__":
    # `python -m bench.baseline.app init [URL]`: create the schema before starting workers.
    if len(sys.argv) >= 2 and sys.argv[1] == "init":
        init_schema(sys.argv[2] if len(sys.argv) > 2 else os.environ[URL_VARIABLE])
    else:
        sys.exit("usage: python -m bench.baseline.app init [DATABASE_URL]")
