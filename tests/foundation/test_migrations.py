"""The migration head builds exactly the schema the models declare, keeping stored rows."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask.testing import FlaskClient
from sqlalchemy import inspect, select

from feedbackvault.app import Services
from feedbackvault.storage.data_models import Consent, Response
from feedbackvault.storage.migrate import METADATA, alembic_config, pending
from tests.support import submission


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
