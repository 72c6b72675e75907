"""PostgreSQL sessions prefetch a scan's scattered heap pages, unless told otherwise."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from feedbackvault.storage.database import PREFETCH_PAGES, Databases, make_engine


def prefetch_of(engine: Engine) -> str:
    """Read the setting a new session of the engine runs with."""
    with engine.connect() as connection:
        return str(connection.execute(text("SHOW effective_io_concurrency")).scalar_one())


@pytest.fixture
def configured_database(pg_urls: tuple[str, str]) -> Iterator[str]:
    """A fresh database whose owner set effective_io_concurrency for it."""
    base = make_url(pg_urls[0])
    name = f"fvtest_{uuid.uuid4().hex[:10]}_prefetch"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        connection.execute(text(f'ALTER DATABASE "{name}" SET effective_io_concurrency = 3'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_every_pool_of_both_stores_prefetches(pg_urls: tuple[str, str]) -> None:
    databases = Databases.from_urls(*pg_urls)
    try:
        with databases.data_connection() as data:
            (data_value,) = data.connection.execute("SHOW effective_io_concurrency").fetchone()
        with databases.keys_statements() as claims:
            (claims_value,) = claims.connection.execute("SHOW effective_io_concurrency").fetchone()
        keys_value = prefetch_of(databases.keys_engine)
    finally:
        databases.dispose()
    assert {data_value, claims_value, keys_value} == {str(PREFETCH_PAGES)}


def test_a_value_set_for_the_database_stands(configured_database: str) -> None:
    engine = make_engine(configured_database)
    try:
        assert prefetch_of(engine) == "3"
    finally:
        engine.dispose()


def test_a_value_the_client_asks_for_stands(pg_urls: tuple[str, str]) -> None:
    url = make_url(pg_urls[0]).update_query_dict({"options": "-c effective_io_concurrency=7"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        assert prefetch_of(engine) == "7"
    finally:
        engine.dispose()
