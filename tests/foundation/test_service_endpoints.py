"""Health probes, purposes, OpenAPI and the per-request log line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import make_url

from feedbackvault.app import Services, create_app
from feedbackvault.settings import Settings
from feedbackvault.storage.database import Databases
from tests.support import FrozenClock, bearer, submission


def test_healthz_answers_without_auth(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_is_ready_with_databases_and_keys(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ready"})


def unreachable(settings: Settings, tmp_path: Path) -> str:
    """Return a data-database URL of the same kind that cannot be opened."""
    if settings.database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'missing-dir' / 'data.db'}"
    return str(make_url(settings.database_url).set(port=1))


def test_readyz_is_503_when_the_database_is_unreachable(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    databases = Databases.from_urls(unreachable(settings, tmp_path), settings.keystore_url)
    services = Services.build(settings, clock=clock, databases=databases)
    response = create_app(services=services).test_client().get("/readyz")
    databases.dispose()
    assert (response.status_code, response.get_json()) == (503, {"status": "unavailable"})


def test_purposes_lists_policy_fields(client: FlaskClient, analyst: dict[str, str]) -> None:
    purposes = {
        p["id"]: p for p in client.get("/api/v1/purposes", headers=analyst).get_json()["purposes"]
    }
    service = purposes["service-improvement"]
    assert (service["retention"], service["legal_basis"], service["notice_version"]) == (
        "P180D",
        "consent",
        "2026-01",
    )
    assert service["personal_fields"] == ["comment", "customer_id", "email", "name"]
    assert purposes["support-follow-up"]["aggregate"] is False


def test_purposes_needs_a_token(client: FlaskClient) -> None:
    assert client.get("/api/v1/purposes").status_code == 401


def test_openapi_documents_every_endpoint_and_bearer_auth(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/responses", "/api/v1/consents/withdraw", "/api/v1/purposes"} <= set(
        spec["paths"]
    )
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert client.get("/docs").status_code == 200


def test_each_request_logs_one_json_line_with_route_not_path(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="feedbackvault.request")
    client.get("/api/v1/openapi.json?email=someone@example.nl")
    records = [r for r in caplog.records if r.name == "feedbackvault.request"]
    assert len(records) == 1
    fields = records[0].fields  # type: ignore[attr-defined]
    assert (fields["route"], fields["status"]) == ("/api/v1/openapi.json", 200)
    assert "someone" not in json.dumps(fields)


def test_unreachable_database_gives_503_problem(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    healthy = Services.build(settings, clock=clock)
    token = healthy.tokens.create("collector", "web")
    healthy.databases.dispose()
    databases = Databases.from_urls(unreachable(settings, tmp_path), settings.keystore_url)
    services = Services.build(settings, clock=clock, databases=databases)
    client = create_app(services=services).test_client()
    response = client.post("/api/v1/responses", json=submission(), headers=bearer(token))
    databases.dispose()
    assert (response.status_code, response.mimetype) == (503, "application/problem+json")
    assert "sqlite" not in response.get_data(as_text=True).lower()
