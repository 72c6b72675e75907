"""A release counts only live, consented, aggregatable, unexpired and unerased responses.

Eligibility is decided at the moment a cell is released (API.md), so each test asks what a
release made at the test's moment would count: the exact input of the noisy cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import text

from feedbackvault.app import Services
from tests.support import FrozenClock, submission

SURVEY = "checkout-2026-q4"
K = 10
MIXED = (9, 7, 3, 10, 6, 8, 9, 2, 10, 5, 9, 7)


def seed(
    client: FlaskClient,
    collector: dict[str, str],
    scores: Sequence[int],
    *,
    metric: str = "nps",
    purpose: str = "service-improvement",
    respondent: dict[str, str] | None = None,
    touchpoint: str = "checkout",
) -> list[dict[str, Any]]:
    """Submit one response per score through the API and return the 201 bodies."""
    bodies = []
    for value in scores:
        body = submission(
            purpose=purpose,
            respondent=respondent,
            answers={metric: value},
            touchpoint=touchpoint,
            locale=None,
        )
        response = client.post("/api/v1/responses", json=body, headers=collector)
        assert response.status_code == 201, response.get_json()
        bodies.append(response.get_json())
    return bodies


def overall_n(services: Services, metric: str = "nps") -> int:
    """Return how many of the survey's responses a release made now would count."""
    now = services.clock.now()
    purposes = [purpose.id for purpose in services.policies if purpose.aggregate]
    with services.stores.read() as unit:
        rows = unit.aggregates.day_counts(
            survey_id=SURVEY,
            start=datetime(2000, 1, 1, tzinfo=UTC),
            end=now + timedelta(days=1),
            now=now,
            purposes=purposes,
        )
    return sum(row.count for row in rows if row.metric == metric)


def execute(services: Services, sql: str, **params: Any) -> None:
    """Change stored rows directly, as another process or a restored backup would."""
    with services.databases.data_engine.begin() as connection:
        connection.execute(text(sql), params)


def test_withdrawn_consent_leaves_aggregates(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str], services: Services
) -> None:
    seed(client, collector, MIXED[:K])
    (receipt,) = (b["receipt"] for b in seed(client, collector, [0]))
    withdrawn = client.post(
        "/api/v1/consents/withdraw",
        json={"receipt_id": receipt["receipt_id"], "withdraw_token": receipt["withdraw_token"]},
        headers=collector,
    )
    assert withdrawn.status_code == 200
    assert overall_n(services) == K


def test_withdrawn_consent_is_filtered_even_if_its_responses_remain(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str], services: Services
) -> None:
    seed(client, collector, MIXED[:K])
    (body,) = seed(client, collector, [0])
    # Withdrawal deletes the rows today; the query must not depend on it.
    execute(
        services,
        "UPDATE consent SET withdrawn_at = :at WHERE id = :id",
        at=services.clock.now().replace(tzinfo=None),
        id=body["receipt"]["receipt_id"],
    )
    assert overall_n(services) == K


def test_expired_responses_leave_aggregates_before_any_sweep(
    client: FlaskClient,
    collector: dict[str, str],
    analyst: dict[str, str],
    clock: FrozenClock,
    services: Services,
) -> None:
    seed(client, collector, MIXED[:K])  # service-improvement: P180D
    clock.advance(days=100)
    seed(client, collector, MIXED[:K])
    clock.advance(days=80)  # the first batch expires exactly now
    assert overall_n(services) == K


def test_responses_count_until_the_moment_they_expire(
    client: FlaskClient,
    collector: dict[str, str],
    analyst: dict[str, str],
    clock: FrozenClock,
    services: Services,
) -> None:
    seed(client, collector, MIXED[:K])
    clock.advance(days=180, seconds=-1)
    assert overall_n(services) == K


def test_expired_consent_leaves_aggregates(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str], services: Services
) -> None:
    seed(client, collector, MIXED[:K])
    (body,) = seed(client, collector, [0])
    past = (services.clock.now() - timedelta(seconds=1)).replace(tzinfo=None)
    execute(
        services,
        "UPDATE consent SET expires_at = :at WHERE id = :id",
        at=past,
        id=body["receipt"]["receipt_id"],
    )
    assert overall_n(services) == K


def test_responses_of_a_purpose_without_aggregate_never_count(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str], services: Services
) -> None:
    seed(client, collector, [5, 4, 3, 5, 4, 2, 5, 4, 1, 5], metric="csat")
    seed(client, collector, [5, 4, 3, 5, 4], metric="csat", purpose="support-follow-up")
    assert overall_n(services, "csat") == K


def test_responses_of_an_erased_subject_never_count(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str], services: Services
) -> None:
    seed(client, collector, MIXED[:K])
    respondent = {"email": "an@example.nl", "name": "An de Vries", "customer_id": "C-1042"}
    seed(client, collector, [0, 1], respondent=respondent)
    # Erasure destroys the subject's consent records; even a response row left behind
    # (by a partial erasure, or restored from a backup) then has no consent to stand on.
    execute(services, "DELETE FROM consent WHERE subject_id IS NOT NULL")
    execute(services, "DELETE FROM subject")
    assert overall_n(services) == K


def test_anonymised_responses_never_count(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str], services: Services
) -> None:
    seed(client, collector, MIXED[:K])
    (body,) = seed(client, collector, [0])
    execute(
        services,
        "UPDATE response SET anonymised_at = :at, created_at = NULL WHERE id = :id",
        at=services.clock.now().replace(tzinfo=None),
        id=body["response_id"],
    )
    assert overall_n(services) == K


def test_other_surveys_never_count(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str], services: Services
) -> None:
    seed(client, collector, MIXED[:K])
    body = submission(survey_id="another-survey", respondent=None, answers={"nps": 0})
    assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    assert overall_n(services) == K


def test_responses_without_the_metric_never_count(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str], services: Services
) -> None:
    seed(client, collector, MIXED[:K])
    seed(client, collector, [5], metric="csat")
    assert overall_n(services) == K
