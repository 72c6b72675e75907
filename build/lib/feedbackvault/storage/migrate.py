"""Apply the Alembic migrations of both stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, engine_from_config, pool

from feedbackvault.storage.data_models import DataBase
from feedbackvault.storage.database import Databases
from feedbackvault.storage.keystore_models import KeyStoreBase

Store = Literal["data", "keystore"]
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
METADATA: dict[Store, MetaData] = {"data": DataBase.metadata, "keystore": KeyStoreBase.metadata}


def alembic_config(store: Store, engine: Engine | None = None) -> Config:
    """Build the Alembic configuration of one store, bound to an engine when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR / store))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(databases: Databases) -> None:
    """Bring both stores to the newest migration."""
    command.upgrade(alembic_config("data", databases.data_engine), "head")
    command.upgrade(alembic_config("keystore", databases.keys_engine), "head")


def pending(databases: Databases) -> list[Store]:
    """List the stores whose schema is behind the newest migration."""
    behind: list[Store] = []
    stores: tuple[tuple[Store, Engine], ...] = (
        ("data", databases.data_engine),
        ("keystore", databases.keys_engine),
    )
    for store, engine in stores:
        head = ScriptDirectory.from_config(alembic_config(store)).get_current_head()
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        if current != head:
            behind.append(store)
    return behind


def run_env(context: Any, store: Store) -> None:
    """Run an Alembic env.py for one store (called from migrations/<store>/env.py)."""
    config = context.config
    engine = config.attributes.get("engine")
    if engine is None:
        # Plain `alembic -c ...` use: the URL comes from the ini file.
        engine = engine_from_config(
            config.get_section(config.config_ini_section, {}),
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=METADATA[store],
            render_as_batch=engine.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
