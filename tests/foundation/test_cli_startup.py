"""The command line loads only what a command needs (bench/bench_cli_startup.py has the times)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from feedbackvault.services import retention, sweep_limits
from feedbackvault.settings import Settings

PROBE = """
import json, sys
from feedbackvault.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded_modules(args: list[str], env: dict[str, str]) -> set[str]:
    """Run the CLI in a fresh interpreter and return the modules it imported."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_help_loads_neither_the_database_layer_nor_the_web_framework() -> None:
    modules = loaded_modules(["--help"], {})
    assert not {"sqlalchemy", "flask", "flask_smorest", "cryptography", "limits", "alembic"} & (
        modules
    )
    layers = ("feedbackvault.services", "feedbackvault.storage", "feedbackvault.app")
    light = {"feedbackvault.services", "feedbackvault.services.sweep_limits"}
    assert {m for m in modules if m.startswith(layers)} == light


def test_tokens_list_and_audit_verify_load_no_web_framework_and_no_submission_path(
    settings: Settings,
) -> None:
    env = {k: str(v) for k, v in settings.environ.items()}
    for command in (["tokens", "list"], ["audit", "verify"]):
        modules = loaded_modules(command, env)
        assert "sqlalchemy.orm" in modules  # it did reach the store
        unneeded = {
            "flask",
            "flask_smorest",
            "marshmallow",
            "limits",
            "alembic",
            "feedbackvault.api",
            "feedbackvault.services.collection",
            "feedbackvault.services.subject_rights",
            "feedbackvault.services.retention",
            "feedbackvault.scoring",
        }
        assert not unneeded & modules, (command, unneeded & modules)


def test_the_cli_shows_the_sweeps_own_limits() -> None:
    assert retention.DEFAULT_BATCH_SIZE is sweep_limits.DEFAULT_BATCH_SIZE
    assert retention.MAX_SWEEP_WORKERS is sweep_limits.MAX_SWEEP_WORKERS
