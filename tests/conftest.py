"""Fixtures: a fresh instance per test on SQLite, and on PostgreSQL when configured.

Set FEEDBACKVAULT_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1/test)
to run every storage-backed test on PostgreSQL as well. The run creates two
fresh databases of its own on that server and drops them at the end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from feedbackvault.app import Services, create_app
from feedbackvault.crypto.keys import FileKeyProvider
from feedbackvault.settings import Settings
from feedbackvault.storage.database import Databases
from feedbackvault.storage.migrate import METADATA, upgrade
from tests.support import FrozenClock, bearer

PG_URL = os.environ.get("FEEDBACKVAULT_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
# Suites that need a real PostgreSQL server (gunicorn against it, SIGKILL, load):
# without a server URL they are not collected at all, rather than reported as skipped.
collect_ignore = (
    []
    if PG_URL
    else [
        "security/test_faults_kill.py",
        "security/test_load.py",
        "retention/test_retention_held_subject.py",
        "foundation/test_key_claims_race.py",
        "foundation/test_claims_wal.py",
        "foundation/test_pg_prefetch.py",
        "foundation/test_pg_plans.py",
        "foundation/test_pg_audit_append_only.py",
        "foundation/test_operator_errors_pg.py",
        "foundation/test_pg_test_setup.py",
    ]
)

# Property tests explore the same examples on every run, so a CI result never hangs on luck,
# and a slow shared machine does not trip Hypothesis's per-example deadline.
hypothesis_settings.register_profile("feedbackvault", derandomize=True, deadline=None)
hypothesis_settings.load_profile("feedbackvault")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate a pair of SQLite files once; each test copies them."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    databases = Databases.from_urls(
        f"sqlite:///{folder / 'feedbackvault.db'}", f"sqlite:///{folder / 'keystore.db'}"
    )
    upgrade(databases)
    databases.dispose()
    return folder


def admin_engine(url: str) -> Engine:
    """Return an autocommit engine on the database of `url`, creating it when it is missing.

    The run's own databases are created from this connection, so the database the URL
    names only has to be reachable; a fresh server has none called `test`, and the
    README's command should work there as it is.
    """
    base = make_url(url)
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            return engine
    except OperationalError as exc:
        if f'database "{base.database}" does not exist' not in str(exc):
            raise
    engine.dispose()
    server = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{base.database}"'))
    except ProgrammingError as exc:
        if "already exists" not in str(exc):  # a parallel run created it first
            raise
    finally:
        server.dispose()
    return create_engine(base, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_urls() -> Iterator[tuple[str, str]]:
    """Create two fresh PostgreSQL databases for this run, migrated, and drop them after."""
    assert PG_URL, "only requested when FEEDBACKVAULT_TEST_DATABASE_URL is set"
    base = make_url(PG_URL)
    suffix = uuid.uuid4().hex[:10]
    names = (f"fvtest_{suffix}_data", f"fvtest_{suffix}_keys")
    admin = admin_engine(PG_URL)
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    urls = tuple(base.set(database=name).render_as_string(hide_password=False) for name in names)
    databases = Databases.from_urls(urls[0], urls[1])
    upgrade(databases)
    databases.dispose()
    yield urls[0], urls[1]
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(databases: Databases) -> None:
    for store, engine in (("data", databases.data_engine), ("keystore", databases.keys_engine)):
        tables = ", ".join(f'"{t.name}"' for t in METADATA[store].sorted_tables)
        with engine.begin() as connection:
            # The audit log refuses TRUNCATE (migration 0012); the superuser's replica
            # role runs no triggers, as a fresh database for the next test needs.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text(f"TRUNCATE {tables}"))
            if store == "data":
                connection.execute(
                    text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :genesis)"),
                    {"genesis": "0" * 64},
                )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Name the database backend this test runs on."""
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings of a fresh instance: its own keys and empty, migrated databases."""
    instance = tmp_path / "instance"
    instance.mkdir()
    FileKeyProvider.initialise(instance / "keys")
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        for name in ("feedbackvault.db", "keystore.db"):
            shutil.copy(template / name, instance / name)
        env = {"FEEDBACKVAULT_INSTANCE_DIR": str(instance)}
    else:
        data_url, keys_url = request.getfixturevalue("pg_urls")
        databases = Databases.from_urls(data_url, keys_url)
        _truncate_postgres(databases)
        databases.dispose()
        env = {
            "FEEDBACKVAULT_INSTANCE_DIR": str(instance),
            "FEEDBACKVAULT_DATABASE_URL": data_url,
            "FEEDBACKVAULT_KEYSTORE_URL": keys_url,
        }
    return Settings.from_env(env)


@pytest.fixture
def clock() -> FrozenClock:
    """A clock frozen at 2026-11-24T10:00:00Z."""
    return FrozenClock()


@pytest.fixture
def services(settings: Settings, clock: FrozenClock) -> Iterator[Services]:
    """The composed services of a fresh instance."""
    built = Services.build(settings, clock=clock)
    yield built
    built.databases.dispose()


@pytest.fixture
def app(services: Services) -> Flask:
    """The Flask app over the fresh instance."""
    return create_app(services=services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def collector(services: Services) -> dict[str, str]:
    """Headers of a collector token."""
    return bearer(services.tokens.create("collector", "survey-frontend"))


@pytest.fixture
def officer(services: Services) -> dict[str, str]:
    """Headers of a privacy-officer token."""
    return bearer(services.tokens.create("privacy_officer", "dpo"))


@pytest.fixture
def analyst(services: Services) -> dict[str, str]:
    """Headers of an analyst token."""
    return bearer(services.tokens.create("analyst", "analytics"))
