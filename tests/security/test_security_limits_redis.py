"""With a Redis URL, processes share one count: the limit holds across workers."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from feedbackvault.app import Services, create_app
from feedbackvault.settings import Settings
from tests.security.live_server import free_port
from tests.support import FrozenClock, bearer, submission

redis = pytest.importorskip("redis")
REDIS_SERVER = shutil.which("redis-server")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Run a throwaway redis-server on 127.0.0.1 without persistence."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_two_app_processes_share_the_redis_count(
    settings: Settings, clock: FrozenClock, redis_url: str
) -> None:
    shared = dataclasses.replace(
        settings, rate_limit_per_token="3/minute", rate_limit_storage=redis_url
    )
    services = Services.build(shared, clock=clock)
    try:
        token = bearer(services.tokens.create("collector", "front-end"))
        # Two apps stand for two gunicorn workers: in memory each would allow 3.
        workers = [create_app(services=services).test_client() for _ in range(2)]
        statuses = [
            workers[i % 2].post("/api/v1/responses", json=submission(), headers=token).status_code
            for i in range(4)
        ]
    finally:
        services.databases.dispose()
    assert statuses == [201, 201, 201, 429]
    with redis.Redis.from_url(redis_url) as client:
        keys = client.keys("*")
    assert keys
    assert not [k for k in keys if b"fv_" in k]
