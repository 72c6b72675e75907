"""The analytics endpoints: roles, parameters, group keys, scores, audit and no personal data."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from feedbackvault.app import Services
from tests.support import FrozenClock, row_counts, submission

SURVEY = "checkout-2026-q4"
K = 10
MIXED = (9, 7, 3, 10, 6, 8, 9, 2, 10, 5, 9, 7)
PATHS = ("aggregates", "scores")
RESPONDENT = {
    "email": "canary.mail@example.nl",
    "name": "Canary Naamsen",
    "customer_id": "C-CANARY",
}
COMMENT = "canary comment text"


def seed(
    client: FlaskClient,
    collector: dict[str, str],
    count: int,
    *,
    touchpoint: str | None = "checkout",
    personal: bool = False,
) -> list[dict[str, Any]]:
    """Submit `count` responses with varied answers to every metric; return the 201 bodies."""
    bodies = []
    for i in range(count):
        answers: dict[str, Any] = {
            "nps": MIXED[i % len(MIXED)],
            "csat": 1 + i % 5,
            "ces": 1 + i % 7,
        }
        if personal:
            answers["comment"] = COMMENT
        body = submission(
            respondent=RESPONDENT if personal else None,
            answers=answers,
            touchpoint=touchpoint,
            locale=None,
        )
        response = client.post("/api/v1/responses", json=body, headers=collector)
        assert response.status_code == 201, response.get_json()
        bodies.append(response.get_json())
    return bodies


def get(client: FlaskClient, headers: dict[str, str], path: str, **params: str) -> Any:
    """Call an analytics endpoint and return the raw response."""
    return client.get(f"/api/v1/{path}", query_string=params, headers=headers)


def ok(client: FlaskClient, analyst: dict[str, str], path: str, **params: str) -> Any:
    """Call an analytics endpoint for the test survey and return its 200 JSON body."""
    response = get(client, analyst, path, survey_id=SURVEY, **params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def audit_entries(services: Services) -> list[tuple[str, str, dict[str, Any]]]:
    """Return (action, actor, details) of every audit entry, oldest first."""
    with services.databases.data_engine.connect() as connection:
        rows = connection.execute(
            text("SELECT action, actor, details FROM audit_entry ORDER BY seq")
        ).all()
    return [(row.action, row.actor, json.loads(row.details)) for row in rows]


@pytest.mark.parametrize("path", PATHS)
def test_no_token_is_401(client: FlaskClient, path: str) -> None:
    assert get(client, {}, path, survey_id=SURVEY, metric="nps").status_code == 401


@pytest.mark.parametrize(("path", "role"), list(itertools.product(PATHS, ["collector", "officer"])))
def test_other_roles_are_403(
    client: FlaskClient, request: pytest.FixtureRequest, path: str, role: str
) -> None:
    headers = request.getfixturevalue(role)
    assert get(client, headers, path, survey_id=SURVEY, metric="nps").status_code == 403


BAD_PARAMETERS: list[tuple[dict[str, str], str]] = [
    ({"metric": "nps"}, "survey_id"),
    ({"survey_id": SURVEY}, "metric"),
    ({"survey_id": SURVEY, "metric": "effort"}, "metric"),
    ({"survey_id": SURVEY, "metric": "nps", "group_by": "hour"}, "group_by"),
    ({"survey_id": SURVEY, "metric": "nps", "from": "2026-11-24T00:00:00Z"}, "from"),
    ({"survey_id": SURVEY, "metric": "nps", "to": "2026-11-24 12:00"}, "to"),
    ({"survey_id": SURVEY, "metric": "nps", "from": "20261124"}, "from"),
    ({"survey_id": SURVEY, "metric": "nps", "from": "2026-02-30"}, "from"),
    ({"survey_id": SURVEY, "metric": "nps", "from": "2026-11-25", "to": "2026-11-24"}, "from"),
    ({"survey_id": SURVEY, "metric": "nps", "response_id": "x"}, "response_id"),
    ({"survey_id": "../etc", "metric": "nps"}, "survey_id"),
]


@pytest.mark.parametrize(("path", "case"), list(itertools.product(PATHS, BAD_PARAMETERS)))
def test_bad_parameters_are_422_naming_the_parameter(
    client: FlaskClient,
    analyst: dict[str, str],
    services: Services,
    path: str,
    case: tuple[dict[str, str], str],
) -> None:
    params, field = case
    before = row_counts(services)
    response = get(client, analyst, path, **params)
    body = response.get_json()
    assert (response.status_code, response.mimetype, field in body["errors"]) == (
        422,
        "application/problem+json",
        True,
    )
    assert row_counts(services) == before  # a refused query is not audited as a release


@pytest.mark.parametrize("path", PATHS)
def test_a_parameter_given_twice_is_422_and_not_released(
    client: FlaskClient, analyst: dict[str, str], services: Services, path: str
) -> None:
    before = row_counts(services)
    response = client.get(
        f"/api/v1/{path}?survey_id={SURVEY}&metric=nps&metric=csat", headers=analyst
    )
    body = response.get_json()
    assert (response.status_code, response.mimetype) == (422, "application/problem+json")
    assert body["errors"] == {"metric": ["Give this parameter once."]}
    assert row_counts(services) == before


@pytest.mark.parametrize(
    ("group_by", "keys"),
    [
        ("day", ["2026-11-24", "2026-11-30", "2026-12-01"]),
        ("week", ["2026-11-23", "2026-11-30"]),
        ("month", ["2026-11-01", "2026-12-01"]),
    ],
)
def test_time_groups_are_keyed_by_their_first_day(
    client: FlaskClient,
    collector: dict[str, str],
    analyst: dict[str, str],
    clock: FrozenClock,
    group_by: str,
    keys: list[str],
) -> None:
    seed(client, collector, K)  # Tuesday 2026-11-24
    clock.advance(days=6, hours=13)  # Monday 2026-11-30, 23:00 UTC
    seed(client, collector, K)
    clock.advance(hours=2)  # Tuesday 2026-12-01, 01:00 UTC
    seed(client, collector, K)
    body = ok(client, analyst, "aggregates", metric="nps", group_by=group_by)
    assert [g["key"] for g in body["groups"]] == keys


def test_touchpoint_groups_include_responses_without_one(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str]
) -> None:
    seed(client, collector, K, touchpoint="checkout")
    seed(client, collector, K, touchpoint=None)
    body = ok(client, analyst, "aggregates", metric="csat", group_by="touchpoint")
    assert [(g["key"], g["n"]) for g in body["groups"]] == [("(none)", K), ("checkout", K)]


def test_from_and_to_are_inclusive_whole_utc_days(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str], clock: FrozenClock
) -> None:
    clock.advance(hours=13, minutes=59, seconds=59)  # 2026-11-24T23:59:59Z
    seed(client, collector, K)
    clock.advance(seconds=1)  # 2026-11-25T00:00:00Z
    seed(client, collector, K + 1)
    counts = [
        ok(client, analyst, "scores", metric="nps", **{"from": start, "to": end})["overall"]["n"]
        for start, end in [("2026-11-24", "2026-11-24"), ("2026-11-25", "2026-11-25")]
    ]
    assert counts == [K, K + 1]


def test_aggregates_list_every_value_of_the_scale(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str]
) -> None:
    seed(client, collector, K)
    (group,) = ok(client, analyst, "aggregates", metric="ces")["groups"]
    assert (group["key"], list(group["histogram"]), group["n"]) == (
        "all",
        [str(v) for v in range(1, 8)],
        K,
    )


def test_nps_scores_match_the_scoring_module(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str]
) -> None:
    seed(client, collector, K)
    body = ok(client, analyst, "scores", metric="nps", group_by="touchpoint")
    # MIXED[:10]: promoters 9,10,9,10 (4), detractors 3,6,2,5 (4): NPS 0.
    assert (
        body["overall"]["score"],
        body["groups"][0]["score"],
        "ces_agree" in body["overall"],
    ) == (
        0.0,
        0.0,
        False,
    )


def test_ces_scores_carry_ces_agree(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str]
) -> None:
    seed(client, collector, 14)  # ces 1..7 twice: mean 4, agree 6/14
    body = ok(client, analyst, "scores", metric="ces")
    overall = body["overall"]
    assert (overall["score"], overall["ces_agree"], body["groups"][0]["ces_agree"]) == (
        4.0,
        42.9,
        42.9,
    )


def test_empty_survey_releases_nothing(client: FlaskClient, analyst: dict[str, str]) -> None:
    body = ok(client, analyst, "scores", metric="nps", group_by="month")
    assert body == {
        "metric": "nps",
        "k": K,
        "overall": None,
        "groups": [],
        "suppressed_groups": 0,
    }


@pytest.mark.parametrize("path", PATHS)
def test_every_release_is_audited_with_its_parameters_only(
    client: FlaskClient,
    collector: dict[str, str],
    analyst: dict[str, str],
    services: Services,
    path: str,
) -> None:
    seed(client, collector, K)
    ok(client, analyst, path, metric="csat", group_by="week", to="2026-11-30")
    action, actor, details = audit_entries(services)[-1]
    assert (action, actor, details) == (
        f"{path}.released",
        "token:analytics",
        {
            "survey_id": SURVEY,
            "metric": "csat",
            "group_by": "week",
            "from": None,
            "to": "2026-11-30",
            "k": K,
            "epsilon": None,
        },
    )


def _parameter_matrix() -> list[dict[str, str]]:
    """Every metric and grouping, with and without a day range."""
    matrix = []
    for metric, group_by, window in itertools.product(
        ("nps", "csat", "ces"),
        (None, "touchpoint", "day", "week", "month"),
        ({}, {"from": "2026-11-01", "to": "2026-11-30"}),
    ):
        params = {"metric": metric, **window}
        if group_by:
            params["group_by"] = group_by
        matrix.append(params)
    return matrix


def test_no_analytics_answer_contains_an_id_or_personal_field(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str], services: Services
) -> None:
    bodies = seed(client, collector, K + 2, personal=True)
    with services.databases.data_engine.connect() as connection:
        subject_ids = (
            connection.execute(
                text("SELECT DISTINCT subject_id FROM response WHERE subject_id IS NOT NULL")
            )
            .scalars()
            .all()
        )
    forbidden = [
        *RESPONDENT.values(),
        COMMENT,
        *subject_ids,
        *(b["response_id"] for b in bodies),
        *(b["receipt"]["receipt_id"] for b in bodies),
    ]
    answers = [
        get(client, analyst, path, survey_id=SURVEY, **params).get_data(as_text=True)
        for path in PATHS
        for params in _parameter_matrix()
    ]
    leaks = [value for value in forbidden if any(value in answer for answer in answers)]
    # The seeded group really was released, so the answers had something to leak from.
    assert (leaks, all('"n": 12' in a or '"n":12' in a for a in answers)) == ([], True)


def test_openapi_documents_both_endpoints(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/aggregates", "/api/v1/scores"} <= set(paths)
