"""schemathesis against a live `feedbackvault serve`: the answers are the ones the OpenAPI declares.

Every role's token (and none) runs schemathesis' coverage, fuzzing and stateful
phases with a small `--max-examples` and three checks: no 5xx, every status
declared for its operation, every body valid against its declared schema. The
document has no blanket `default` response, so an undeclared status fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from feedbackvault.app import Services
from feedbackvault.services.tokens import ROLES
from feedbackvault.settings import Settings
from tests.security.live_server import serve_command

CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
MAX_EXAMPLES = "5"
CASES = re.compile(r"(\d+) generated, (\d+) passed")


def run_schemathesis(port: int, token: str | None, folder: Path) -> tuple[int, str]:
    """Run the schemathesis CLI once in `folder` (its caches stay out of the checkout)."""
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"http://127.0.0.1:{port}/api/v1/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        "1",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        "--generation-database",
        "none",
    ]
    if token is not None:
        command += ["--header", f"Authorization: Bearer {token}"]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, cwd=folder
    )
    return done.returncode, done.stdout + done.stderr


def test_every_role_gets_only_declared_answers(
    settings: Settings,
    services: Services,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tokens: dict[str, str | None] = {role: services.tokens.create(role, role) for role in ROLES}
    tokens["anonymous"] = None
    figures = {}
    with serve_command(settings, workers=2) as port:
        for role, token in tokens.items():
            code, output = run_schemathesis(port, token, tmp_path)
            found = CASES.search(output)
            assert code == 0 and found, output[-4000:]
            generated, passed = int(found[1]), int(found[2])
            assert generated == passed > 100, output[-4000:]
            figures[role] = generated
    with capsys.disabled():
        print(f"\nschemathesis ({settings.database_url.split(':')[0]}): {figures}, failures 0")
