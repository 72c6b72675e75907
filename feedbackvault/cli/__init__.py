"""The `feedbackvault` command line: one module per command group, all on `main`."""

from feedbackvault.cli import audit, keys, policies, releases, retention, setup, tokens
from feedbackvault.cli.root import main

__all__ = ["audit", "keys", "main", "policies", "releases", "retention", "setup", "tokens"]
