"""A first end-to-end check of collection through HTTP."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.support import submission


def test_consented_response_is_stored(client: FlaskClient, collector: dict[str, str]) -> None:
    response = client.post("/api/v1/responses", json=submission(), headers=collector)
    assert response.status_code == 201, response.get_json()
