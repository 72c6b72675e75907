"""The command line: init, tokens, audit verify, policies, keys."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from feedbackvault.app import Services
from feedbackvault.cli import main
from feedbackvault.settings import Settings
from feedbackvault.storage.data_models import AuditEntry
from tests.support import bearer


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment that points the CLI at the test instance."""
    return {
        "FEEDBACKVAULT_INSTANCE_DIR": str(settings.instance_dir),
        "FEEDBACKVAULT_DATABASE_URL": settings.database_url,
        "FEEDBACKVAULT_KEYSTORE_URL": settings.keystore_url,
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run the CLI in-process and return its exit code and output."""
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_init_creates_private_keys_and_databases_and_is_idempotent(tmp_path: Path) -> None:
    env = {"FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path / "instance")}
    code, output = run(env, "init")
    assert code == 0 and "created" in output
    key_files = sorted((tmp_path / "instance" / "keys").iterdir())
    modes = {stat.S_IMODE(path.stat().st_mode) for path in key_files}
    before = {path.name: path.read_bytes() for path in key_files}
    code, output = run(env, "init")
    after = {p.name: p.read_bytes() for p in (tmp_path / "instance" / "keys").iterdir()}
    assert (code, modes, after) == (0, {0o600}, before)
    assert "kept existing" in output
    assert {"feedbackvault.db", "keystore.db"} <= {
        p.name for p in (tmp_path / "instance").iterdir()
    }


def test_token_is_printed_alone_on_last_line_and_works(
    cli_env: dict[str, str], services: Services
) -> None:
    code, output = run(cli_env, "tokens", "create", "--role", "analyst", "--name", "bi")
    token = output.strip().splitlines()[-1]
    assert code == 0 and token.startswith("fv_") and " " not in token
    assert services.tokens.authenticate(token) is not None
    assert bearer(token)["Authorization"].endswith(token)


def test_token_list_never_shows_secrets(cli_env: dict[str, str]) -> None:
    _, created = run(cli_env, "tokens", "create", "--role", "collector", "--name", "web")
    secret = created.strip().splitlines()[-1]
    code, listing = run(cli_env, "tokens", "list")
    assert code == 0 and "web\tcollector" in listing and secret not in listing


def test_revoked_token_no_longer_authenticates(cli_env: dict[str, str], services: Services) -> None:
    _, created = run(cli_env, "tokens", "create", "--role", "collector", "--name", "web")
    code, _ = run(cli_env, "tokens", "revoke", "web")
    assert code == 0
    assert services.tokens.authenticate(created.strip().splitlines()[-1]) is None


def test_duplicate_token_name_is_refused(cli_env: dict[str, str]) -> None:
    run(cli_env, "tokens", "create", "--role", "collector", "--name", "web")
    code, output = run(cli_env, "tokens", "create", "--role", "analyst", "--name", "web")
    assert code != 0 and "exists" in output


def test_audit_verify_exits_nonzero_naming_the_broken_entry(
    cli_env: dict[str, str], services: Services
) -> None:
    for name in ("a", "b", "c"):
        run(cli_env, "tokens", "create", "--role", "collector", "--name", name)
    assert run(cli_env, "audit", "verify")[0] == 0
    with services.stores.data() as unit:
        unit.session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="x"))
    result = CliRunner().invoke(main, ["audit", "verify"], env=cli_env)
    assert result.exit_code == 1
    assert "entry 2" in result.output


def test_keys_rotate_reports_the_new_kek(cli_env: dict[str, str], services: Services) -> None:
    old = services.key_provider.active_kek().kek_id
    code, output = run(cli_env, "keys", "rotate")
    assert code == 0 and f"retired {old}" in output


def test_policies_check_accepts_the_shipped_policies(cli_env: dict[str, str]) -> None:
    code, output = run(cli_env, "policies", "check")
    assert code == 0 and "3 purposes" in output


def test_policies_check_names_file_purpose_and_field(tmp_path: Path) -> None:
    (tmp_path / "purposes.yaml").write_text(
        "purposes:\n  svc:\n    description: x\n    legal_basis: consent\n"
        "    notice_versions: ['1']\n    retention: P1Q\n    personal_fields: []\n"
        "    metrics: [nps]\n    aggregate: true\n    on_expiry: delete\n"
    )
    result = CliRunner().invoke(main, ["policies", "check", str(tmp_path)])
    assert result.exit_code != 0
    assert all(part in result.output for part in ("purposes.yaml", "'svc'", "'retention'"))


def test_ropa_lists_every_purpose(cli_env: dict[str, str]) -> None:
    code, output = run(cli_env, "policies", "ropa")
    assert code == 0
    assert all(
        p in output for p in ("service-improvement", "product-research", "support-follow-up")
    )


def test_broken_policy_stops_start_up(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "purposes.yaml").write_text("purposes:\n  svc:\n    description: x\n")
    env = {
        "FEEDBACKVAULT_INSTANCE_DIR": str(settings.instance_dir),
        "FEEDBACKVAULT_DATABASE_URL": settings.database_url,
        "FEEDBACKVAULT_KEYSTORE_URL": settings.keystore_url,
        "FEEDBACKVAULT_POLICIES": str(tmp_path),
    }
    result = CliRunner().invoke(main, ["tokens", "list"], env=env)
    assert result.exit_code != 0
    assert "purposes.yaml" in result.output and "'svc'" in result.output


def test_policies_check_reports_every_mistake_in_one_run(tmp_path: Path) -> None:
    (tmp_path / "purposes.yaml").write_text(
        "controller: {name: V, contact: v@example.nl}\n"
        "aggregation: {k: 1}\n"
        "purposes:\n  svc:\n    description: x\n    legal_basis: whim\n"
        "    notice_versions: ['1']\n    retention: P1Q\n    personal_fields: [shoe_size]\n"
        "    metrics: [nps]\n    aggregate: true\n    on_expiry: delete\n"
        "    notices: {'1': {en: missing.md}}\n"
    )
    result = CliRunner().invoke(main, ["policies", "check", str(tmp_path)])
    assert result.exit_code != 0
    fields = [
        "'aggregation.k'",
        "'legal_basis'",
        "'retention'",
        "'personal_fields'",
        "'notices.1.en'",
    ]
    assert [field for field in fields if field in result.output] == fields
    assert "Traceback" not in result.output
