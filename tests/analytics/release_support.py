"""Seed responses fast for release tests, and compute the live counts an attacker once saw."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert

from feedbackvault.app import Services
from feedbackvault.scoring import METRIC_SCALES
from feedbackvault.storage.data_models import CONSENT, RESPONSE

PURPOSE = "service-improvement"
RETENTION = timedelta(days=180)


def at(day: date, hour: int = 12) -> datetime:
    """Return a moment on a UTC day."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


def insert_responses(
    services: Services,
    survey_id: str,
    day: date,
    answers: Iterable[dict[str, int]],
    *,
    touchpoint: str | None = "checkout",
    hour: int = 12,
) -> list[str]:
    """Store consented responses as a submission would (no personal fields); return their ids."""
    created = at(day, hour)
    expires = created + RETENTION
    consents: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []
    for answer in answers:
        consent_id, response_id = str(uuid.uuid4()), str(uuid.uuid4())
        consents.append(
            {
                "id": consent_id,
                "subject_id": None,
                "purpose": PURPOSE,
                "notice_version": "2026-01",
                "given_at": created,
                "recorded_at": created,
                "expires_at": expires,
                "withdrawn_at": None,
                "withdraw_token_hash": uuid.uuid4().bytes * 2,
                "receipt_signature": "test",
                "responses_erased": None,
            }
        )
        responses.append(
            {
                "id": response_id,
                "subject_id": None,
                "consent_id": consent_id,
                "consent_expires_at": expires,
                "survey_id": survey_id,
                "purpose": PURPOSE,
                "touchpoint": touchpoint,
                "locale": None,
                "nps": answer.get("nps"),
                "csat": answer.get("csat"),
                "ces": answer.get("ces"),
                "created_at": created,
                "created_month": day.replace(day=1),
                "expires_at": expires,
                "anonymised_at": None,
            }
        )
    if responses:
        with services.databases.data_engine.begin() as connection:
            connection.execute(insert(CONSENT), consents)
            connection.execute(insert(RESPONSE), responses)
    return [row["id"] for row in responses]


def live_histograms(
    services: Services,
    survey_id: str,
    metric: str,
    group_by: str | None,
    start: date | None = None,
    end: date | None = None,
    k: int = 10,
) -> dict[str, dict[int, int]]:
    """Return what the old endpoints showed: exact live counts of the groups that pass k.

    Test-only: it proves each attack recovers its target exactly from live, k-suppressed
    counts, so the same attack failing against releases means something.
    """
    purposes = [purpose.id for purpose in services.policies if purpose.aggregate]
    with services.stores.read() as unit:
        rows = unit.aggregates.histograms(
            metric=metric,
            group_by=group_by,
            survey_id=survey_id,
            start=at(start, 0) if start else None,
            end=at(end + timedelta(days=1), 0) if end else None,
            now=services.clock.now(),
            purposes=purposes,
        )
    low, high = METRIC_SCALES[metric]
    groups: dict[str, dict[int, int]] = {}
    for row in rows:
        histogram = groups.setdefault(row.key, dict.fromkeys(range(low, high + 1), 0))
        histogram[row.value] += row.count
    return {
        key: dict(histogram) for key, histogram in groups.items() if sum(histogram.values()) >= k
    }


def category(value: int) -> str:
    """Name an NPS answer's category."""
    if value >= 9:
        return "promoter"
    return "passive" if value >= 7 else "detractor"


CATEGORIES = {
    "promoter": (9, 10),
    "passive": (7, 8),
    "detractor": (0, 1, 2, 3, 4, 5, 6),
}


def guess(difference: dict[int, float]) -> str:
    """Name the category an attacker picks from a differenced NPS histogram.

    The difference is one response's histogram plus noise; the attacker picks the category
    whose values gained the most per value (each value's noise is alike).
    """
    return max(
        CATEGORIES,
        key=lambda name: (
            sum(difference.get(v, 0) for v in CATEGORIES[name]) / len(CATEGORIES[name])
        ),
    )


def subtract(
    a: dict[int, int] | dict[int, float], b: dict[int, int] | dict[int, float]
) -> dict[int, float]:
    """Subtract histograms value by value."""
    return {value: a.get(value, 0) - b.get(value, 0) for value in set(a) | set(b)}


def summed(histograms: Sequence[dict[int, int]]) -> dict[int, int]:
    """Add histograms value by value."""
    total: dict[int, int] = {}
    for histogram in histograms:
        for value, count in histogram.items():
            total[value] = total.get(value, 0) + count
    return total
