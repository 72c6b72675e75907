"""A key claim skips its own WAL flush only when the data commit after it flushes the same WAL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from feedbackvault.storage.database import Databases, make_engine


def synchronous_commit(connection: object) -> str:
    """Read the setting on a lent driver connection."""
    (value,) = connection.execute("SHOW synchronous_commit").fetchone()  # type: ignore[attr-defined]
    return str(value)


def test_claims_on_the_data_stores_server_do_not_wait_for_their_own_flush(
    pg_urls: tuple[str, str],
) -> None:
    databases = Databases.from_urls(*pg_urls)
    try:
        with databases.keys_statements() as claims:
            claim_setting = synchronous_commit(claims.connection)
            autocommit = claims.connection.autocommit
        with databases.keys_connection() as ordinary:
            ordinary_setting = synchronous_commit(ordinary.connection)
        with databases.data_connection() as data:
            data_setting = synchronous_commit(data.connection)
    finally:
        databases.dispose()
    assert (claim_setting, autocommit) == ("off", True)
    # Shredding and every other commit of either store still waits for its flush.
    assert (ordinary_setting, data_setting) == ("on", "on")


def test_claims_wait_for_their_flush_when_the_data_store_is_elsewhere(
    pg_urls: tuple[str, str], tmp_path: Path
) -> None:
    # A data store on another server (here SQLite) flushes nothing of the key store's WAL.
    elsewhere = make_engine(f"sqlite:///{tmp_path}/data.db")
    databases = Databases(elsewhere, create_engine(pg_urls[1]))
    try:
        with databases.keys_statements() as claims:
            setting = synchronous_commit(claims.connection)
            autocommit = claims.connection.autocommit
    finally:
        databases.dispose()
    assert (setting, autocommit) == ("on", True)
