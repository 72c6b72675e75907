"""Start the benchmarked apps under gunicorn and give them fresh databases."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
# High enough that a rate limiter never answers 429 during a benchmark.
UNLIMITED = "1000000/minute"
CLI = "from feedbackvault.cli import main; main()"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A gunicorn master and its workers on a free local port."""

    process: subprocess.Popen[bytes]
    port: int
    log: IO[bytes]

    @property
    def base_url(self) -> str:
        """Return `http://127.0.0.1:PORT`."""
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    @contextmanager
    def start(
        cls, app: str, gunicorn_args: list[str], env: dict[str, str], log_path: Path, probe: str
    ) -> Iterator[Server]:
        """Run gunicorn on `app` until the context ends; wait until `probe` answers."""
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--pythonpath",
            str(ROOT),
            "--timeout",
            "120",
            *gunicorn_args,
            app,
        ]
        log = log_path.open("wb")
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
        server = cls(process, port, log)
        try:
            server.wait_ready(probe, log_path)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()

    def wait_ready(self, probe: str, log_path: Path, timeout: float = 60.0) -> None:
        """Wait until the probe URL answers, or fail with the server's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.base_url + probe, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        tail = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"server did not start ({probe}); log tail:\n{tail}")

    def worker_pids(self) -> list[int]:
        """Return the pids of the master's worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


@contextmanager
def fresh_pg_databases(
    admin_url: str, prefix: str, names: tuple[str, ...]
) -> Iterator[dict[str, str]]:
    """Create `<prefix>_<random>_<name>` databases on the server; drop them afterwards."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    stem = f"{prefix}_{secrets.token_hex(4)}"
    created: list[str] = []
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{stem}_{name}"'))
                created.append(f"{stem}_{name}")
        base = make_url(admin_url)
        yield {
            name: base.set(database=f"{stem}_{name}").render_as_string(hide_password=False)
            for name in names
        }
    finally:
        with admin.connect() as connection:
            for database in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def feedbackvault_env(instance: Path, data_url: str, keys_url: str) -> dict[str, str]:
    """Return the environment of a feedbackvault instance with rate limits out of the way."""
    return {
        **os.environ,
        "FEEDBACKVAULT_INSTANCE_DIR": str(instance),
        "FEEDBACKVAULT_DATABASE_URL": data_url,
        "FEEDBACKVAULT_KEYSTORE_URL": keys_url,
        "FEEDBACKVAULT_RATE_LIMIT_PER_TOKEN": UNLIMITED,
        "FEEDBACKVAULT_RATE_LIMIT_PER_ADDRESS": UNLIMITED,
    }


def feedbackvault_cli(env: dict[str, str], *args: str) -> str:
    """Run the feedbackvault CLI and return its stdout (raise with stderr on failure)."""
    done = subprocess.run(
        [sys.executable, "-c", CLI, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"feedbackvault {' '.join(args[:2])} failed: {done.stderr[-1000:]}")
    return done.stdout


def prepare_feedbackvault(
    instance: Path, data_url: str, keys_url: str, role: str = "collector"
) -> tuple[dict[str, str], str]:
    """Run `feedbackvault init` and create a token; return the env and the token."""
    env = feedbackvault_env(instance, data_url, keys_url)
    feedbackvault_cli(env, "init")
    token = feedbackvault_cli(env, "tokens", "create", "--role", role, "--name", f"bench-{role}")
    return env, token.strip().splitlines()[-1]


def prepare_baseline(database_url: str) -> dict[str, str]:
    """Create the baseline's table; return the env its gunicorn needs."""
    env = {**os.environ, "BASELINE_DATABASE_URL": database_url}
    subprocess.run(
        [sys.executable, "-m", "bench.baseline.app", "init"], env=env, cwd=ROOT, check=True
    )
    return env
