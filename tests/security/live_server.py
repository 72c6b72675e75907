"""Run the service under gunicorn on 127.0.0.1 and drive it from submitter threads."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from feedbackvault.settings import Settings
from tests.support import submission

STARTUP_SECONDS = 30.0


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Build the environment of a server over the test instance's databases and keys."""
    env = dict(os.environ)
    env.update(
        {
            "FEEDBACKVAULT_INSTANCE_DIR": str(settings.instance_dir),
            "FEEDBACKVAULT_DATABASE_URL": settings.database_url,
            "FEEDBACKVAULT_KEYSTORE_URL": settings.keystore_url,
            "FEEDBACKVAULT_LOG_LEVEL": "WARNING",
            # The load and kill tests measure the store, not the throttle.
            "FEEDBACKVAULT_RATE_LIMIT_PER_TOKEN": "1000000/minute",
            "FEEDBACKVAULT_RATE_LIMIT_PER_ADDRESS": "1000000/minute",
        }
    )
    env.update(extra)
    return env


@dataclass
class Server:
    """A gunicorn process group serving the app."""

    port: int
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, env: dict[str, str], workers: int) -> Server:
        """Start gunicorn in its own process group and wait until it is ready."""
        port = free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "2",
                "feedbackvault.app:create_app()",
            ],
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = cls(port, process)
        server.wait_ready()
        return server

    def wait_ready(self) -> None:
        """Poll /readyz until it answers 200."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                connection.request("GET", "/readyz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                connection.close()
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("server did not become ready")

    def kill(self) -> None:
        """SIGKILL the whole process group: master and workers die mid-request."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop gracefully, falling back to SIGKILL."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def fresh_body(label: str) -> dict[str, Any]:
    """Build a submission of a new respondent, consented a minute ago (real time)."""
    given = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = submission()
    body["consent"]["given_at"] = given
    body["respondent"] = {"email": f"{label}@example.nl", "name": "Load Test"}
    return body


class Submitter(threading.Thread):
    """Post submissions over one keep-alive connection until told to stop."""

    def __init__(
        self, port: int, token: str, prefix: str, stop: threading.Event, max_requests: int
    ) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.token = token
        self.prefix = prefix
        self.stop_event = stop
        self.max_requests = max_requests
        self.statuses: Counter[int] = Counter()
        self.errors = 0

    def run(self) -> None:
        """Submit until stopped, counting statuses; a dropped connection is an error."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        sent = 0
        while not self.stop_event.is_set() and sent < self.max_requests:
            body = json.dumps(fresh_body(f"{self.prefix}-{sent}"))
            sent += 1
            try:
                connection.request("POST", "/api/v1/responses", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                self.statuses[response.status] += 1
            except (OSError, http.client.HTTPException):
                self.errors += 1
                connection.close()
                if self.stop_event.wait(0.05):
                    break
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.close()


def run_submitters(
    port: int,
    token: str,
    count: int,
    seconds: float,
    prefix: str,
    max_requests: int = 10_000,
    kill: Callable[[], None] | None = None,
) -> list[Submitter]:
    """Run `count` submitters for `seconds` (then `kill` mid-stream) and return them."""
    stop = threading.Event()
    submitters = [Submitter(port, token, f"{prefix}{i}", stop, max_requests) for i in range(count)]
    for submitter in submitters:
        submitter.start()
    stop.wait(seconds)
    if kill is not None:
        kill()
    stop.set()
    for submitter in submitters:
        submitter.join(timeout=30)
    return submitters


@contextlib.contextmanager
def serve_command(settings: Settings, workers: int = 1) -> Iterator[int]:
    """Run `feedbackvault serve` (gunicorn as the command configures it) on a free port."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "feedbackvault.cli", "serve",
            "--port", str(port), "--workers", str(workers),
        ],
        env=server_env(settings),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = Server(port, process)
    try:
        server.wait_ready()
        yield port
    finally:
        server.stop()
