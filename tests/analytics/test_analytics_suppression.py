"""Disclosure control: small, single-valued and complementary groups are never released."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from flask.testing import FlaskClient

from feedbackvault.domain.disclosure import disclose, is_safe_cell
from tests.support import FrozenClock, submission

SURVEY = "checkout-2026-q4"
K = 10
# Varied NPS answers: no group built from these is ever single-valued.
MIXED = (9, 7, 3, 10, 6, 8, 9, 2, 10, 5, 9, 7)


def seed(
    client: FlaskClient, collector: dict[str, str], scores: Sequence[int], touchpoint: str
) -> None:
    """Submit one anonymous response per NPS score through the API."""
    for value in scores:
        body = submission(
            respondent=None, answers={"nps": value}, touchpoint=touchpoint, locale=None
        )
        response = client.post("/api/v1/responses", json=body, headers=collector)
        assert response.status_code == 201, response.get_json()


def get(client: FlaskClient, analyst: dict[str, str], path: str, **params: str) -> Any:
    """Query an analytics endpoint for the test survey's NPS and return the JSON body."""
    response = client.get(
        f"/api/v1/{path}",
        query_string={"survey_id": SURVEY, "metric": "nps", **params},
        headers=analyst,
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# Pure disclosure rules.


def test_group_of_k_minus_one_is_not_a_safe_cell() -> None:
    assert not is_safe_cell({9: 5, 3: 4}, K)


def test_group_of_k_is_a_safe_cell() -> None:
    assert is_safe_cell({9: 5, 3: 5}, K)


def test_single_valued_group_of_any_size_is_not_a_safe_cell() -> None:
    assert not is_safe_cell({9: 500, 3: 0}, K)


def test_one_suppressed_sibling_takes_the_next_smallest_with_it() -> None:
    groups = {"a": {9: 6, 3: 6}, "b": {9: 10, 3: 10}, "c": {9: 1, 3: 2}, "d": {9: 7, 3: 4}}
    result = disclose(groups, K)
    assert (sorted(result.published), result.suppressed) == (["a", "b"], 2)


def test_two_suppressed_siblings_that_together_stay_small_take_a_third() -> None:
    groups = {"a": {9: 1, 3: 1}, "b": {9: 2, 3: 1}, "c": {9: 6, 3: 6}, "d": {9: 20, 3: 20}}
    result = disclose(groups, K)
    assert (sorted(result.published), result.suppressed) == (["d"], 3)


def test_suppressed_siblings_that_share_one_score_are_not_left_recoverable() -> None:
    # a and b are both single-valued at 9: their union, total minus c and d, would be too.
    groups = {"a": {9: 12}, "b": {9: 15}, "c": {9: 6, 3: 6}, "d": {9: 20, 3: 20}}
    result = disclose(groups, K)
    assert "c" not in result.published


def test_no_group_is_suppressed_when_every_group_is_safe() -> None:
    groups = {"a": {9: 6, 3: 6}, "b": {9: 10, 3: 10}}
    assert disclose(groups, K).suppressed == 0


# Through the API, on every backend.


def test_touchpoint_with_k_minus_one_responses_is_suppressed_and_counted(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str]
) -> None:
    seed(client, collector, MIXED[:K], "checkout")
    seed(client, collector, MIXED[:K], "delivery")
    seed(client, collector, MIXED[: K - 1], "returns")
    seed(client, collector, MIXED[: K + 2], "support")
    body = get(client, analyst, "aggregates", group_by="touchpoint")
    # returns (k-1) is suppressed; checkout and delivery tie as the next smallest (k each):
    # checkout goes by key order, so delivery and support are released.
    assert (
        [g["key"] for g in body["groups"]],
        [g["n"] for g in body["groups"]],
        body["suppressed_groups"],
    ) == (["delivery", "support"], [K, K + 2], 2)


def test_touchpoint_with_exactly_k_responses_is_released(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str]
) -> None:
    seed(client, collector, MIXED[:K], "checkout")
    body = get(client, analyst, "aggregates", group_by="touchpoint")
    assert body["groups"] == [
        {
            "key": "checkout",
            "n": K,
            "histogram": {str(v): sum(1 for s in MIXED[:K] if s == v) for v in range(11)},
        }
    ]


def test_ungrouped_query_under_k_is_suppressed_in_both_endpoints(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str]
) -> None:
    seed(client, collector, MIXED[: K - 1], "checkout")
    aggregates = get(client, analyst, "aggregates")
    scores = get(client, analyst, "scores")
    assert (aggregates["groups"], aggregates["suppressed_groups"], scores["overall"]) == (
        [],
        1,
        None,
    )


def test_group_where_everyone_gave_the_same_score_is_suppressed(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str]
) -> None:
    seed(client, collector, [10] * (K + 5), "checkout")
    seed(client, collector, MIXED[:K], "delivery")
    seed(client, collector, MIXED[:K] + MIXED[:K], "support")
    body = get(client, analyst, "scores", group_by="touchpoint")
    # checkout is single-valued; delivery (the next smallest) goes with it, so that
    # overall minus support cannot reveal checkout's unanimous 10s.
    assert ([g["key"] for g in body["groups"]], body["suppressed_groups"]) == (["support"], 2)


def test_complementary_suppression_keeps_overall_minus_groups_from_revealing_a_group(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str]
) -> None:
    seed(client, collector, MIXED[:3], "checkout")
    seed(client, collector, MIXED[:K], "delivery")
    seed(client, collector, MIXED[:K] + MIXED[:2], "support")
    body = get(client, analyst, "scores", group_by="touchpoint")
    published_n = sum(g["n"] for g in body["groups"])
    # Whatever overall minus the published groups reveals must itself be a k-sized cell.
    assert body["overall"]["n"] - published_n >= K


def test_boundary_shifted_by_less_than_a_day_is_refused(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str]
) -> None:
    response = client.get(
        "/api/v1/scores",
        query_string={
            "survey_id": SURVEY,
            "metric": "nps",
            "from": "2026-11-24T10:00:01Z",
            "to": "2026-11-30",
        },
        headers=analyst,
    )
    assert (response.status_code, list(response.get_json()["errors"])) == (422, ["from"])


def test_differencing_two_overlapping_ranges_cannot_isolate_one_response(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str], clock: FrozenClock
) -> None:
    seed(client, collector, MIXED[:K], "checkout")  # 2026-11-24
    clock.advance(days=1)
    seed(client, collector, [0], "checkout")  # 2026-11-25: one lone response
    short = get(client, analyst, "aggregates", group_by="day", to="2026-11-24")
    long = get(client, analyst, "aggregates", group_by="day", to="2026-11-25")
    # Per day, the lone response's day is suppressed, and so is its only sibling.
    assert (short["groups"][0]["key"], long["groups"], long["suppressed_groups"]) == (
        "2026-11-24",
        [],
        2,
    )


def test_day_holding_a_single_response_is_never_released(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str], clock: FrozenClock
) -> None:
    for _day in range(3):
        seed(client, collector, MIXED[:K], "checkout")
        clock.advance(days=1)
    seed(client, collector, [0], "checkout")
    body = get(client, analyst, "aggregates", group_by="day")
    # 2026-11-27 holds the lone response; 2026-11-24 (the first of the k-sized days) goes too.
    assert ([g["key"] for g in body["groups"]], body["suppressed_groups"]) == (
        ["2026-11-25", "2026-11-26"],
        2,
    )


@pytest.mark.parametrize("path", ["aggregates", "scores"])
def test_release_reports_the_policy_k(
    client: FlaskClient, analyst: dict[str, str], path: str
) -> None:
    assert get(client, analyst, path)["k"] == K
