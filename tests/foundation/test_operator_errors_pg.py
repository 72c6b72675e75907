"""Operator mistakes that need a PostgreSQL server: a missing database, an unknown role."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import make_url

from tests.conftest import PG_URL


def run_init(tmp_path: Path, data_url: str, keys_url: str) -> subprocess.CompletedProcess[str]:
    """Run `feedbackvault init` in a real process, as an operator would."""
    env = {
        **os.environ,
        "FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path / "instance"),
        "FEEDBACKVAULT_DATABASE_URL": data_url,
        "FEEDBACKVAULT_KEYSTORE_URL": keys_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "feedbackvault.cli", "init"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_init_against_a_database_that_does_not_exist(tmp_path: Path) -> None:
    assert PG_URL
    base = make_url(PG_URL)
    missing = f"fv_absent_{uuid.uuid4().hex[:8]}"
    data_url = base.set(database=missing).render_as_string(hide_password=False)
    keys_url = base.set(database=f"{missing}_keys").render_as_string(hide_password=False)
    done = run_init(tmp_path, data_url, keys_url)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    # One paragraph (stdout may say the local keys were created first).
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert f"database '{missing}' named by FEEDBACKVAULT_DATABASE_URL does not exist" in done.stderr
    assert f"createdb -h {base.host} -p {base.port or 5432} -U {base.username}" in done.stderr
    assert "then run `feedbackvault init`" in done.stderr


def test_unknown_role_names_the_credentials(tmp_path: Path) -> None:
    assert PG_URL
    base = make_url(PG_URL)
    canary = "pw-canary-" + uuid.uuid4().hex[:6]
    data_url = base.set(username="no_such_role_fv", password=canary, database="postgres")
    keys_url = base.set(database="postgres_keys_absent")
    done = run_init(
        tmp_path,
        data_url.render_as_string(hide_password=False),
        keys_url.render_as_string(hide_password=False),
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "PostgreSQL refused user 'no_such_role_fv'" in done.stderr
    assert "Correct USER:PASSWORD" in done.stderr and canary not in done.stderr
