"""CORS: off by default; on for configured survey origins, on collect routes only."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from feedbackvault.app import Services, create_app
from feedbackvault.settings import Settings, SettingsError
from tests.support import FrozenClock, submission

SURVEY = "https://survey.example.com"
OTHER = "https://evil.example.net"


def preflight(client: FlaskClient, path: str, origin: str) -> dict[str, str]:
    """Send a browser preflight for a POST with a bearer token; return the headers."""
    response = client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    return dict(response.headers)


@pytest.fixture
def cors_client(settings: Settings, clock: FrozenClock) -> Iterator[FlaskClient]:
    """A client of an app that admits the survey origin."""
    built = Services.build(dataclasses.replace(settings, cors_origins=(SURVEY,)), clock=clock)
    yield create_app(services=built).test_client()
    built.databases.dispose()


def test_cors_is_off_by_default(client: FlaskClient, collector: dict[str, str]) -> None:
    assert "Access-Control-Allow-Origin" not in preflight(client, "/api/v1/responses", SURVEY)
    response = client.post(
        "/api/v1/responses", json=submission(), headers={**collector, "Origin": SURVEY}
    )
    assert response.status_code == 201
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    "path", ["/api/v1/responses", "/api/v1/consents/withdraw", "/api/v1/receipts/public-key"]
)
def test_a_configured_origin_may_call_the_collect_routes(
    cors_client: FlaskClient, path: str
) -> None:
    headers = preflight(cors_client, path, SURVEY)
    assert headers["Access-Control-Allow-Origin"] == SURVEY
    assert "authorization" in headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in headers


def test_another_origin_gets_no_cors_grant(cors_client: FlaskClient) -> None:
    assert "Access-Control-Allow-Origin" not in preflight(cors_client, "/api/v1/responses", OTHER)


@pytest.mark.parametrize("path", ["/api/v1/purposes", "/api/v1/aggregates", "/api/v1/openapi.json"])
def test_other_routes_stay_closed_to_the_configured_origin(
    cors_client: FlaskClient, path: str
) -> None:
    response = cors_client.get(path, headers={"Origin": SURVEY})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_origins_are_read_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path),
            "FEEDBACKVAULT_CORS_ORIGINS": f" {SURVEY}/ , https://kiosk.example.com",
        }
    )
    assert settings.cors_origins == (SURVEY, "https://kiosk.example.com")


@pytest.mark.parametrize("value", ["*", "survey.example.com", f"{SURVEY},*"])
def test_wildcards_and_bare_hosts_are_refused(tmp_path: Path, value: str) -> None:
    env = {"FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path), "FEEDBACKVAULT_CORS_ORIGINS": value}
    with pytest.raises(SettingsError, match="CORS_ORIGINS"):
        Settings.from_env(env)
