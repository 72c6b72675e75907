"""Alembic environment of the keystore store."""

from alembic import context

from feedbackvault.storage.migrate import run_env

run_env(context, "keystore")
