"""The migration head builds exactly the schema the models declare, keeping stored rows."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask.testing import FlaskClient
from sqlalchemy import Engine, inspect, select

from feedbackvault.app import Services
from feedbackvault.storage.data_models import Consent, Response, Subject
from feedbackvault.storage.database import Databases, is_sqlite
from feedbackvault.storage.migrate import METADATA, alembic_config, pending
from feedbackvault.storage.sqlite_connections import DATA_WAL_CHECKPOINT_PAGES
from tests.support import row_counts, submission


def test_migrated_schema_matches_models(services: Services) -> None:
    differences = {}
    for store, engine in (
        ("data", services.databases.data_engine),
        ("keystore", services.databases.keys_engine),
    ):
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences[store] = compare_metadata(context, METADATA[store])  # type: ignore[arg-type]
    assert differences == {"data": [], "keystore": []}


def test_fresh_instance_is_at_head(services: Services) -> None:
    assert pending(services.databases) == []


def test_consent_expiry_copy_is_backfilled_onto_stored_responses(
    services: Services, client: FlaskClient, collector: dict[str, str]
) -> None:
    answer = client.post("/api/v1/responses", json=submission(), headers=collector)
    assert answer.status_code == 201
    config = alembic_config("data", services.databases.data_engine)
    command.downgrade(config, "0008")
    try:
        with services.databases.data_engine.connect() as connection:
            assert "consent_expires_at" not in {
                column["name"] for column in inspect(connection).get_columns("response")
            }
    finally:
        command.upgrade(config, "head")

    with services.stores.read() as unit:
        copy, kept = unit.session.execute(
            select(Response.consent_expires_at, Consent.expires_at).join(
                Consent, Consent.id == Response.consent_id
            )
        ).one()
    assert copy == kept


def _without_rowid(engine: Engine) -> set[str]:
    """Name the SQLite tables stored WITHOUT ROWID."""
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type='table'")
        return {name for name, sql in rows if "WITHOUT ROWID" in sql.upper()}


def test_fewer_pages_migrations_keep_subjects_and_their_keys(
    services: Services, client: FlaskClient, collector: dict[str, str]
) -> None:
    body = submission()
    assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    before = row_counts(services)
    databases = services.databases
    data_config = alembic_config("data", databases.data_engine)
    keys_config = alembic_config("keystore", databases.keys_engine)
    command.downgrade(data_config, "0010")
    command.downgrade(keys_config, "0001")
    try:
        if is_sqlite(databases.data_engine):
            assert "subject" not in _without_rowid(databases.data_engine)
        if is_sqlite(databases.keys_engine):
            assert _without_rowid(databases.keys_engine) == set()
    finally:
        command.upgrade(data_config, "head")
        command.upgrade(keys_config, "head")

    assert row_counts(services) == before
    if is_sqlite(databases.data_engine):
        assert "subject" in _without_rowid(databases.data_engine)
    if is_sqlite(databases.keys_engine):
        assert _without_rowid(databases.keys_engine) == {"subject_key", "subject_lookup"}
    # The returning respondent finds the same subject and opens its key.
    again = services.subject_keys.resolve(services.stores, body["respondent"])
    with services.stores.read() as unit:
        [subject_id] = unit.session.scalars(select(Subject.id)).all()
    assert (again.subject_id, again.created) == (subject_id, False)


def test_only_the_data_store_checkpoints_its_wal_less_often(tmp_path: Path) -> None:
    # A SQLite setting: PostgreSQL has no such pragma.
    databases = Databases.from_urls(f"sqlite:///{tmp_path}/data.db", f"sqlite:///{tmp_path}/k.db")
    pages = {}
    try:
        for store, engine in (("data", databases.data_engine), ("keys", databases.keys_engine)):
            with engine.connect() as connection:
                pages[store] = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    finally:
        databases.dispose()
    assert pages == {"data": DATA_WAL_CHECKPOINT_PAGES, "keys": 1000}
