"""Alembic environment of the data store."""

from alembic import context

from feedbackvault.storage.migrate import run_env

run_env(context, "data")
