"""The README's PostgreSQL test command works on a server without the database it names."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, make_url, text

from tests.conftest import PG_URL, admin_engine


def database_exists(name: str) -> bool:
    """Ask the server whether a database of this name exists."""
    assert PG_URL
    server = create_engine(make_url(PG_URL).set(database="postgres"))
    try:
        with server.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
    finally:
        server.dispose()
    return found is not None


def test_a_missing_test_database_is_created_and_an_existing_one_is_used() -> None:
    assert PG_URL
    name = f"fvtest_named_{uuid.uuid4().hex[:8]}"
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    assert not database_exists(name)
    try:
        for _ in range(2):  # created the first time, found the second
            engine = admin_engine(url)
            with engine.connect() as connection:
                assert connection.execute(text("SELECT current_database()")).scalar() == name
            engine.dispose()
        assert database_exists(name)
    finally:
        server = create_engine(
            make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
