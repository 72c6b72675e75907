"""The migration head builds exactly the schema the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from feedbackvault.app import Services
from feedbackvault.storage.migrate import METADATA, pending


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
