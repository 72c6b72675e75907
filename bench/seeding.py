"""Shared by the seeding benchmarks: a fixed clock and a fresh, empty instance."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from feedbackvault.app import Services
from feedbackvault.crypto.keys import FileKeyProvider
from feedbackvault.settings import Settings
from feedbackvault.storage.database import Databases
from feedbackvault.storage.migrate import METADATA, Store, upgrade


@dataclass
class FixedClock:
    """The benchmark's moment, chosen by each script relative to its seeded data."""

    moment: datetime

    def now(self) -> datetime:
        """Return the fixed moment."""
        return self.moment


def empty(databases: Databases, stores: tuple[Store, ...] = ("data", "keystore")) -> None:
    """Delete every row of a migrated instance, resetting the audit chain to its genesis."""
    engines = {"data": databases.data_engine, "keystore": databases.keys_engine}
    for store in stores:
        with engines[store].begin() as connection:
            if engines[store].dialect.name == "postgresql":
                # The audit log refuses deletes (migration 0012); replica role fires no trigger.
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            for table in reversed(METADATA[store].sorted_tables):
                if table.name != "audit_head":
                    connection.execute(table.delete())
            if store == "data":
                connection.execute(
                    text("UPDATE audit_head SET seq = 0, hash = :h"), {"h": "0" * 64}
                )


@contextmanager
def fresh_instance(
    prefix: str,
    moment: datetime,
    database_url: str | None = None,
    keystore_url: str | None = None,
    stores: tuple[Store, ...] = ("data", "keystore"),
) -> Iterator[Services]:
    """Build services over a temporary instance (SQLite, or the URLs given), migrated and empty."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        instance = Path(folder)
        FileKeyProvider.initialise(instance / "keys")
        # Request log lines would be timed too; the benchmarks keep only warnings.
        env = {"FEEDBACKVAULT_INSTANCE_DIR": str(instance), "FEEDBACKVAULT_LOG_LEVEL": "WARNING"}
        if database_url and keystore_url:
            env |= {
                "FEEDBACKVAULT_DATABASE_URL": database_url,
                "FEEDBACKVAULT_KEYSTORE_URL": keystore_url,
            }
        services = Services.build(Settings.from_env(env), clock=FixedClock(moment))
        try:
            upgrade(services.databases)
            empty(services.databases, stores)
            yield services
        finally:
            services.databases.dispose()
