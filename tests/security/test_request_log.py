"""The request log line: its exact JSON shape, and the id it shares with the answer."""

from __future__ import annotations

import logging
import time

import pytest
from flask.testing import FlaskClient

from feedbackvault.api.request_log import JsonFormatter


def record(created: float) -> logging.LogRecord:
    """Build a request record made at `created` (seconds since the epoch)."""
    made = logging.LogRecord(
        "feedbackvault.request", logging.INFO, __file__, 1, "request", None, None
    )
    made.created = created
    made.fields = {"route": "/api/v1/responses", "status": 201, "token": None}  # type: ignore[attr-defined]
    return made


def test_a_line_is_compact_json_stamped_with_its_own_second() -> None:
    formatter = JsonFormatter()
    lines = [
        formatter.format(record(at)) for at in (1_800_000_000.2, 1_800_000_000.9, 1_800_000_001.0)
    ]
    stamps = [
        time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(at))
        for at in (1_800_000_000, 1_800_000_001)
    ]
    body = '"level":"info","logger":"feedbackvault.request","event":"request",' + (
        '"route":"/api/v1/responses","status":201,"token":null}'
    )
    assert lines == [f'{{"at":"{stamp}",{body}' for stamp in (stamps[0], stamps[0], stamps[1])]


def test_the_answer_carries_the_logged_request_id(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="feedbackvault.request")
    response = client.get("/healthz")
    (logged,) = [r for r in caplog.records if r.name == "feedbackvault.request"]
    request_id = logged.fields["request_id"]  # type: ignore[attr-defined]
    assert len(request_id) == 32 and response.headers["X-Request-Id"] == request_id
