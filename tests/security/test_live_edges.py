"""Edges only a real server shows: chunked bodies over the limit and long request lines."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from feedbackvault.app import Services
from feedbackvault.settings import Settings
from tests.security.live_server import serve_command
from tests.support import row_counts, submission


@pytest.fixture
def served(settings: Settings) -> Iterator[int]:
    """Run `feedbackvault serve` (gunicorn as the command configures it) on a free port."""
    with serve_command(settings) as port:
        yield port


def call(
    port: int, method: str, path: str, body: bytes | None = None, **headers: str
) -> tuple[int, str, bytes]:
    """Send one request; return status, content type and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name.replace("_", "-"), value)
        if body is not None and "Transfer-Encoding" not in headers:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        if body is not None:
            if headers.get("Transfer-Encoding") == "chunked":
                for start in range(0, len(body), 4096):
                    piece = body[start : start + 4096]
                    connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                connection.send(b"0\r\n\r\n")
            else:
                connection.send(body)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("length", [2100, 4096, 8000])
def test_a_long_request_line_gets_a_problem_document(served: int, length: int) -> None:
    status, content_type, body = call(served, "GET", "/api/v1/privacy/requests/" + "a" * length)
    assert status in (404, 414)
    assert content_type == "application/problem+json"
    assert json.loads(body)["status"] == status


@pytest.mark.parametrize("chunked", [True, False])
def test_a_body_over_the_limit_is_413_chunked_or_not(
    served: int, services: Services, chunked: bool
) -> None:
    token = services.tokens.create("collector", "big")
    before = row_counts(services)
    body = submission()
    body["answers"]["comment"] = "x" * 70_000
    data = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Content_Type": "application/json"}
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
    status, content_type, answer = call(served, "POST", "/api/v1/responses", data, **headers)
    assert (status, content_type) == (413, "application/problem+json"), answer[:200]
    assert row_counts(services) == before


def test_a_chunked_body_under_the_limit_is_read_whole(served: int, services: Services) -> None:
    token = services.tokens.create("collector", "small")
    data = json.dumps(submission()).encode()
    headers = {
        "Authorization": f"Bearer {token}",
        "Content_Type": "application/json",
        "Transfer-Encoding": "chunked",
    }
    assert call(served, "POST", "/api/v1/responses", data, **headers)[0] == 201
