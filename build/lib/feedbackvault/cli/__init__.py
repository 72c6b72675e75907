"""The `feedbackvault` command line: one module per command group, all on `main`."""

from feedbackvault.cli import audit, keys, policies, retention, setup, tokens, users
from feedbackvault.cli.root import main

__all__ = ["audit", "keys", "main", "policies", "retention", "setup", "tokens", "users"]
