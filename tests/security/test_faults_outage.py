"""A store that cannot be reached: 503 problem documents, nothing stored, then recovery.

On PostgreSQL the database is really closed (`ALLOW_CONNECTIONS false` and its
sessions terminated); on SQLite another connection holds the write lock while the
app waits only briefly. Then the same app, with the same engines, answers 201 again.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, event, text

from feedbackvault.app import Services, create_app
from feedbackvault.settings import Settings
from feedbackvault.storage.database import Databases, make_engine
from tests.support import FrozenClock, row_counts, submission

# How long the SQLite app waits on a held lock before it answers 503.
SHORT_BUSY_MS = 200


def impatient_engine(url: str) -> Engine:
    """Make the service's engine, but one that gives up on a SQLite lock quickly."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _impatient(dbapi_connection: sqlite3.Connection, _record: object) -> None:
            dbapi_connection.execute(f"PRAGMA busy_timeout={SHORT_BUSY_MS}")

    return engine


@pytest.fixture
def outage_services(settings: Settings, clock: FrozenClock) -> Iterator[Services]:
    """Services over the test stores whose SQLite engines wait only briefly."""
    databases = Databases(
        impatient_engine(settings.database_url), impatient_engine(settings.keystore_url)
    )
    built = Services.build(settings, clock=clock, databases=databases)
    yield built
    databases.dispose()


@contextmanager
def unreachable(engine: Engine) -> Iterator[None]:
    """Make one store unreachable for real, and bring it back afterwards."""
    url = engine.url
    if engine.dialect.name == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    name = url.database
    admin = create_engine(
        os.environ["FEEDBACKVAULT_TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


@pytest.mark.parametrize("store", ["data", "keys"])
def test_an_unreachable_store_gives_503_stores_nothing_and_recovers(
    outage_services: Services, store: str
) -> None:
    services = outage_services
    client = create_app(services=services).test_client()
    headers = {"Authorization": f"Bearer {services.tokens.create('collector', 'front-end')}"}
    assert client.post("/api/v1/responses", json=submission(), headers=headers).status_code == 201
    before = row_counts(services)
    engine = services.databases.data_engine if store == "data" else services.databases.keys_engine
    with unreachable(engine):
        answers = [
            client.post(
                "/api/v1/responses",
                json=submission(respondent={"email": f"outage{i}@example.nl"}),
                headers=headers,
            )
            for i in range(3)
        ]
        ready = client.get("/readyz")
    for answer in answers:
        assert answer.status_code == 503
        assert answer.mimetype == "application/problem+json"
        assert answer.headers["Retry-After"] == "5"
        assert "outage" not in answer.get_data(as_text=True)
    assert ready.status_code == 503
    assert row_counts(services) == before
    # Same app, same engines: the pool reconnects once the store is back.
    assert client.post("/api/v1/responses", json=submission(), headers=headers).status_code == 201
    assert client.get("/readyz").status_code == 200
    after = row_counts(services)
    assert after["data.response"] == before["data.response"] + 1
