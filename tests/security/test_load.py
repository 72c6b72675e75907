"""A bounded load test: gunicorn with three workers on PostgreSQL, eight submitters.

Afterwards the store holds exactly one response per 201 the clients saw, no
request got a 5xx or a dropped connection, and the audit chain verifies.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from feedbackvault.app import Services
from feedbackvault.services.audit import verify_chain
from feedbackvault.settings import Settings
from tests.security.live_server import Server, run_submitters, server_env

SUBMITTERS = 8
SECONDS = 8.0
# Per submitter: bounds the run on a fast machine.
MAX_REQUESTS = 2_000
pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


def test_concurrent_submitters_store_exactly_what_was_acknowledged(
    settings: Settings, services: Services
) -> None:
    token = services.tokens.create("collector", "load-test")
    server = Server.start(server_env(settings), workers=3)
    started = time.monotonic()
    try:
        submitters = run_submitters(
            server.port, token, SUBMITTERS, SECONDS, "load-", max_requests=MAX_REQUESTS
        )
    finally:
        elapsed = time.monotonic() - started
        server.stop()
    statuses = sum((s.statuses for s in submitters), start=type(submitters[0].statuses)())
    dropped = sum(s.errors for s in submitters)
    requests = sum(statuses.values())
    with services.databases.data_engine.connect() as connection:
        stored = connection.execute(text("SELECT COUNT(*) FROM response")).scalar_one()
    check = verify_chain(services.stores)
    print(
        f"\nload: {requests} requests in {elapsed:.1f}s ({requests / elapsed:.0f}/s) "
        f"from {SUBMITTERS} submitters; statuses {dict(statuses)}; dropped {dropped}; "
        f"stored {stored}; audit entries {check.entries}"
    )
    assert requests > SUBMITTERS
    assert dropped == 0
    assert not [status for status in statuses if status >= 500]
    assert stored == statuses[201]
    assert check.intact, check
