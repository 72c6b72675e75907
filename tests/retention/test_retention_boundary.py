"""Expired responses stop being served at the second they expire, before any sweep runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from feedbackvault.app import Services
from feedbackvault.storage.data_models import Response
from tests.support import FrozenClock, row_counts, submission

# The shipped policy's aggregation threshold: a group needs this many responses.
K = 10
AGGREGATE_URL = "/api/v1/aggregates?survey_id=checkout-2026-q4&metric=nps"


def _submit_k(client: FlaskClient, collector: dict[str, str]) -> None:
    for index in range(K):
        # Varied scores: a group where everyone gave the same score is suppressed.
        body = submission(
            respondent={"email": f"r{index}@example.nl"},
            answers={"nps": index, "csat": 4, "ces": 6},
        )
        response = client.post("/api/v1/responses", json=body, headers=collector)
        assert response.status_code == 201, response.get_json()


def _seconds_until_expiry(services: Services) -> float:
    with services.stores.read() as unit:
        expires_at = unit.session.query(Response.expires_at).limit(1).scalar()
    assert expires_at is not None
    return (expires_at - services.clock.now()).total_seconds()


@pytest.mark.parametrize(("offset", "served"), [(-1, K), (+1, 0)])
def test_aggregates_drop_responses_the_second_they_expire(
    client: FlaskClient,
    services: Services,
    clock: FrozenClock,
    collector: dict[str, str],
    analyst: dict[str, str],
    offset: int,
    served: int,
) -> None:
    _submit_k(client, collector)
    clock.advance(seconds=_seconds_until_expiry(services) + offset)

    # Analysts see releases, whose noise hides exact counts (issue 19): what must hold is
    # that a release made now would count the responses until the second they expire.
    now = services.clock.now()
    purposes = [purpose.id for purpose in services.policies if purpose.aggregate]
    with services.stores.read() as unit:
        rows = unit.aggregates.day_counts(
            survey_id="checkout-2026-q4",
            start=now - timedelta(days=400),
            end=now,
            now=now,
            purposes=purposes,
        )
    assert client.get(AGGREGATE_URL, headers=analyst).status_code == 200
    assert sum(row.count for row in rows if row.metric == "nps") == served
    assert row_counts(services)["data.response"] == K  # no sweep has run


@pytest.mark.parametrize(("offset", "served"), [(-1, 1), (+1, 0)])
def test_access_export_read_drops_responses_the_second_they_expire(
    client: FlaskClient,
    services: Services,
    clock: FrozenClock,
    collector: dict[str, str],
    offset: int,
    served: int,
) -> None:
    assert client.post("/api/v1/responses", json=submission(), headers=collector).status_code == 201
    with services.stores.read() as unit:
        subject_id = unit.session.query(Response.subject_id).limit(1).scalar()
    assert subject_id is not None
    clock.advance(seconds=_seconds_until_expiry(services) + offset)

    with services.stores.read() as unit:
        now = services.clock.now()
        responses = unit.exports.page("responses", [subject_id], now, "", 100).rows()
        consents = unit.exports.page("consents", [subject_id], now, "", 100).rows()

    assert (len(responses), len(consents)) == (served, served)


@pytest.mark.parametrize(("offset", "due"), [(-1, 0), (0, 1)])
def test_sweep_takes_a_response_from_its_expiry_moment_on(
    client: FlaskClient,
    services: Services,
    clock: FrozenClock,
    collector: dict[str, str],
    offset: int,
    due: int,
) -> None:
    response = client.post("/api/v1/responses", json=submission(), headers=collector)
    assert response.status_code == 201
    clock.advance(seconds=_seconds_until_expiry(services) + offset)

    report = services.retention.sweep(dry_run=True)

    assert report.anonymised["service-improvement"] == due
