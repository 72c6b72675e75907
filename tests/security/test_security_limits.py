"""Rate limits on the collect endpoints, the body size limit and their settings."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedbackvault.api.limits import token_key
from feedbackvault.app import Services, create_app
from feedbackvault.settings import Settings, SettingsError
from tests.security.live_server import free_port
from tests.support import FrozenClock, bearer, row_counts, submission

RESPONSES = "/api/v1/responses"


@pytest.fixture
def limited(settings: Settings, clock: FrozenClock) -> Iterator[Services]:
    """Services whose collect limits are 3 per token and 5 per address a minute."""
    tight = dataclasses.replace(
        settings, rate_limit_per_token="3/minute", rate_limit_per_address="5/minute"
    )
    built = Services.build(tight, clock=clock)
    yield built
    built.databases.dispose()


@pytest.fixture
def limited_client(limited: Services) -> FlaskClient:
    """A test client of the tightly limited app."""
    return create_app(services=limited).test_client()


def post_from(client: FlaskClient, token: str, address: str = "192.0.2.1") -> int:
    """Submit one response from a client address and return the status."""
    response = client.post(
        RESPONSES, json=submission(), headers=bearer(token), environ_base={"REMOTE_ADDR": address}
    )
    return response.status_code


def test_a_token_over_its_limit_gets_a_429_problem_and_stores_nothing(
    limited: Services, limited_client: FlaskClient
) -> None:
    token = limited.tokens.create("collector", "front-end")
    assert [post_from(limited_client, token) for _ in range(3)] == [201, 201, 201]
    before = row_counts(limited)
    refused = limited_client.post(RESPONSES, json=submission(), headers=bearer(token))
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["status"] == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert row_counts(limited) == before
    assert before["data.response"] == 3


def test_tokens_are_limited_independently(limited: Services, limited_client: FlaskClient) -> None:
    first = limited.tokens.create("collector", "first")
    second = limited.tokens.create("collector", "second")
    assert [post_from(limited_client, first, "192.0.2.1") for _ in range(4)][-1] == 429
    # Another token from another address is untouched by the first one's count.
    assert post_from(limited_client, second, "192.0.2.2") == 201


def test_addresses_are_limited_independently_of_tokens(
    limited: Services, limited_client: FlaskClient
) -> None:
    tokens = [limited.tokens.create("collector", f"t{i}") for i in range(3)]
    # Five requests from one address, spread over tokens so no token reaches its 3.
    statuses = [post_from(limited_client, tokens[i % 3], "198.51.100.7") for i in range(6)]
    assert statuses == [201, 201, 201, 201, 201, 429]
    assert post_from(limited_client, tokens[2], "198.51.100.8") == 201


def test_withdrawals_count_towards_the_collect_limit(
    limited: Services, limited_client: FlaskClient
) -> None:
    token = limited.tokens.create("collector", "front-end")
    receipt = limited_client.post(RESPONSES, json=submission(), headers=bearer(token)).get_json()[
        "receipt"
    ]
    body = {"receipt_id": receipt["receipt_id"], "withdraw_token": receipt["withdraw_token"]}
    statuses = [
        limited_client.post("/api/v1/consents/withdraw", json=body, headers=bearer(token))
        for _ in range(3)
    ]
    assert [s.status_code for s in statuses] == [200, 200, 429]


def test_reads_are_not_rate_limited(limited: Services, limited_client: FlaskClient) -> None:
    headers = bearer(limited.tokens.create("analyst", "reader"))
    statuses = {
        limited_client.get("/api/v1/purposes", headers=headers).status_code for _ in range(8)
    }
    assert statuses == {200}


def test_the_limit_key_is_the_tokens_hash_never_the_token(app: Flask) -> None:
    secret = "fv_example-secret-value"
    with app.test_request_context(headers=bearer(secret)):
        key = token_key()
    assert key == "token:" + hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in key


def test_a_body_over_the_size_limit_is_413_and_stores_nothing(
    services: Services, client: FlaskClient, collector: dict[str, str]
) -> None:
    before = row_counts(services)
    padding = "x" * services.settings.max_body_bytes
    response = client.post(RESPONSES, json=submission(survey_id=padding), headers=collector)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert row_counts(services) == before


def test_limits_are_read_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path),
            "FEEDBACKVAULT_RATE_LIMIT_PER_TOKEN": "50/second",
            "FEEDBACKVAULT_RATE_LIMIT_PER_ADDRESS": "10/second;100/minute",
            "FEEDBACKVAULT_RATE_LIMIT_STORAGE": "redis://:secret@cache:6379/0",
        }
    )
    assert (settings.rate_limit_per_token, settings.rate_limit_per_address) == (
        "50/second",
        "10/second;100/minute",
    )
    assert settings.rate_limit_storage.startswith("redis://")
    assert "secret" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RATE_LIMIT_PER_TOKEN", "lots"),
        ("RATE_LIMIT_PER_ADDRESS", "10 per fortnight"),
        ("RATE_LIMIT_STORAGE", "memcached://cache:11211"),
    ],
)
def test_bad_limit_settings_are_refused(tmp_path: Path, name: str, value: str) -> None:
    env = {"FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path), f"FEEDBACKVAULT_{name}": value}
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)


def test_counted_answers_describe_the_shortest_window_and_reads_get_no_counts(
    limited: Services, limited_client: FlaskClient
) -> None:
    token = limited.tokens.create("collector", "front-end")
    accepted = limited_client.post(RESPONSES, json=submission(), headers=bearer(token))
    assert (accepted.headers["X-RateLimit-Limit"], accepted.headers["X-RateLimit-Remaining"]) == (
        "3",
        "2",
    )
    assert int(accepted.headers["X-RateLimit-Reset"]) > 0
    assert "Retry-After" not in accepted.headers
    read = limited_client.get("/api/v1/purposes", headers=bearer(token))
    assert "X-RateLimit-Limit" not in read.headers


def test_with_redis_unreachable_each_worker_still_enforces_the_limit_in_memory(
    settings: Settings, clock: FrozenClock
) -> None:
    pytest.importorskip("redis")
    unreachable = dataclasses.replace(
        settings,
        rate_limit_per_token="3/minute",
        rate_limit_storage=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
    )
    services = Services.build(unreachable, clock=clock)
    try:
        client = create_app(services=services).test_client()
        token = services.tokens.create("collector", "front-end")
        statuses = [post_from(client, token) for _ in range(4)]
    finally:
        services.databases.dispose()
    assert statuses == [201, 201, 201, 429]
