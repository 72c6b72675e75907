"""Security headers on every response: success, client and server errors, docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from sqlalchemy import make_url
from werkzeug.test import TestResponse

from feedbackvault.api.security_headers import API_CSP, STATIC_HEADERS, add_security_headers
from feedbackvault.app import Services, create_app
from feedbackvault.settings import Settings
from feedbackvault.storage.database import Databases
from tests.support import FrozenClock, submission

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def assert_hardened(response: TestResponse) -> None:
    """Assert the headers every answer must carry."""
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, name
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_created_response_is_hardened_and_has_no_stray_retry_after(
    client: FlaskClient, collector: dict[str, str]
) -> None:
    response = client.post("/api/v1/responses", json=submission(), headers=collector)
    assert response.status_code == 201
    assert_hardened(response)
    assert response.headers["Content-Security-Policy"] == API_CSP
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/api/v1/purposes", None, 401),
        ("get", "/no/such/page", None, 404),
        ("delete", "/api/v1/purposes", None, 405),
        ("post", "/api/v1/responses", {"survey_id": 1}, 401),
        ("get", "/healthz", None, 200),
        ("get", "/api/v1/openapi.json", None, 200),
        ("get", "/api/v1/receipts/public-key", None, 200),
    ],
)
def test_every_kind_of_answer_is_hardened(
    client: FlaskClient, method: str, path: str, body: object, status: int
) -> None:
    response = client.open(path, method=method.upper(), json=body)
    assert response.status_code == status
    assert_hardened(response)
    assert response.headers["Content-Security-Policy"] == API_CSP


def test_a_validation_problem_is_hardened(client: FlaskClient, collector: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/responses", json=submission(purpose="no-such-purpose"), headers=collector
    )
    assert response.status_code == 422
    assert_hardened(response)


def test_a_server_error_is_hardened(settings: Settings, clock: FrozenClock, tmp_path: Path) -> None:
    if settings.database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'missing-dir' / 'data.db'}"
    else:
        url = make_url(settings.database_url).set(port=1).render_as_string(hide_password=False)
    databases = Databases.from_urls(url, settings.keystore_url)
    services = Services.build(settings, clock=clock, databases=databases)
    client = create_app(services=services).test_client()
    response = client.get("/api/v1/purposes", headers={"Authorization": "Bearer fv_x"})
    databases.dispose()
    assert response.status_code == 503
    assert_hardened(response)
    assert response.headers["Retry-After"] == "5"


def test_the_docs_page_loads_only_its_own_assets_and_runs_no_inline_script(
    client: FlaskClient,
) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert_hardened(response)
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    page = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets
    for asset in (a for a in assets if a != "data:,"):
        assert asset.startswith("/"), asset
        assert not asset.startswith("//"), asset
        loaded = client.get(asset)
        loaded.close()
        assert loaded.status_code == 200, asset


def test_static_headers_a_view_set_are_kept_and_its_policy_is_replaced(app: Flask) -> None:
    preset = [
        ("Content-Type", "application/json"),
        ("cache-control", "private"),
        ("Content-Security-Policy", "default-src 'self'"),
        ("content-security-policy", "img-src *"),
    ]
    with app.test_request_context("/api/v1/purposes"):
        response = add_security_headers(Response("{}", 200, headers=preset))
    assert list(response.headers) == [
        ("Content-Type", "application/json"),
        ("cache-control", "private"),
        ("Content-Security-Policy", API_CSP),
        ("Content-Length", "2"),
        *((name, value) for name, value in STATIC_HEADERS.items() if name != "Cache-Control"),
    ]
