"""The purposes overview: live responses per purpose and how many expire within 7 and 30 days."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from feedbackvault.app import Services
from feedbackvault.services.purpose_overview import purpose_overview
from tests.support import FrozenClock, submission

SUPPORT: dict[str, Any] = {"answers": {"csat": 4}, "purpose": "support-follow-up"}


def submit(client: FlaskClient, collector: dict[str, str], **overrides: Any) -> None:
    response = client.post("/api/v1/responses", json=submission(**overrides), headers=collector)
    assert response.status_code == 201, response.get_json()


def counts(services: Services) -> dict[str, tuple[int, int, int]]:
    return {
        row.purpose.id: (row.live, row.expiring_7_days, row.expiring_30_days)
        for row in purpose_overview(services.stores, services.policies, services.clock)
    }


def test_every_purpose_is_listed_even_when_empty(services: Services) -> None:
    assert counts(services) == {
        "product-research": (0, 0, 0),
        "service-improvement": (0, 0, 0),
        "support-follow-up": (0, 0, 0),
    }


@pytest.mark.parametrize(
    ("days_later", "expected"),
    [
        # Stored at day 0 with 30 days' retention: outside 7 days until day 23.
        (22, (2, 0, 2)),
        (23, (2, 2, 2)),
        # Expired on day 30: no longer live, nor forecast.
        (30, (0, 0, 0)),
    ],
)
def test_the_forecast_counts_at_its_boundaries(
    client: FlaskClient,
    collector: dict[str, str],
    services: Services,
    clock: FrozenClock,
    days_later: int,
    expected: tuple[int, int, int],
) -> None:
    for _ in range(2):
        submit(client, collector, **SUPPORT)
    submit(client, collector)
    clock.advance(days=days_later)
    assert counts(services)["support-follow-up"] == expected
    assert counts(services)["service-improvement"][0] == 1


def test_a_forecast_horizon_is_inclusive_to_the_second(
    client: FlaskClient, collector: dict[str, str], services: Services, clock: FrozenClock
) -> None:
    submit(client, collector, **SUPPORT)
    clock.advance(days=23, seconds=-1)
    assert counts(services)["support-follow-up"] == (1, 0, 1)
    clock.advance(seconds=2)
    assert counts(services)["support-follow-up"] == (1, 1, 1)


def test_withdrawn_and_erased_responses_are_not_live(
    client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    created = client.post("/api/v1/responses", json=submission(), headers=collector).get_json()
    submit(client, collector)
    receipt = created["receipt"]
    withdrawn = client.post(
        "/api/v1/consents/withdraw",
        json={"receipt_id": receipt["receipt_id"], "withdraw_token": receipt["withdraw_token"]},
        headers=collector,
    )
    assert withdrawn.status_code == 200
    assert counts(services)["service-improvement"][0] == 1
