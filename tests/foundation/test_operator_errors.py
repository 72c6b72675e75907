"""An operator's mistake gets one paragraph naming the fix, a non-zero exit and no traceback."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedbackvault.cli import main
from feedbackvault.settings import Settings

CANARY_PASSWORD = "s3cret-canary-pw"  # must never be echoed


def refused(env: dict[str, str], *args: str) -> str:
    """Run the CLI in-process; insist on exit 1 through a ClickException, return its output."""
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: "), result.output
    assert "Traceback" not in result.output
    # One paragraph: the message is a single line after click's "Error: ".
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment that points the CLI at the fresh, migrated test instance."""
    return {
        "FEEDBACKVAULT_INSTANCE_DIR": str(settings.instance_dir),
        "FEEDBACKVAULT_DATABASE_URL": settings.database_url,
        "FEEDBACKVAULT_KEYSTORE_URL": settings.keystore_url,
    }


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that is bound but not listening: connecting is refused."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])


def test_a_real_process_prints_no_traceback_for_an_unreachable_server(
    tmp_path: Path, closed_port: int
) -> None:
    url = f"postgresql+psycopg://fv:{CANARY_PASSWORD}@127.0.0.1:{closed_port}/feedbackvault"
    env = {
        **os.environ,
        "FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path / "instance"),
        "FEEDBACKVAULT_DATABASE_URL": url,
        "FEEDBACKVAULT_KEYSTORE_URL": url.replace("/feedbackvault", "/feedbackvault_keys"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "feedbackvault.cli", "init"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    assert f"cannot reach 127.0.0.1:{closed_port} (connection refused)" in done.stderr
    assert "FEEDBACKVAULT_DATABASE_URL" in done.stderr and "server is running" in done.stderr
    assert CANARY_PASSWORD not in done.stderr + done.stdout


def test_unreachable_key_store_is_named(cli_env: dict[str, str], closed_port: int) -> None:
    cli_env["FEEDBACKVAULT_KEYSTORE_URL"] = (
        f"postgresql+psycopg://fv:{CANARY_PASSWORD}@127.0.0.1:{closed_port}/keys"
    )
    output = refused(cli_env, "keys", "gc", "--dry-run")
    assert "named by FEEDBACKVAULT_KEYSTORE_URL" in output
    assert "DATABASE_URL" not in output and CANARY_PASSWORD not in output


@pytest.mark.parametrize(
    ("url", "fix"),
    [
        ("postgres//127.0.0.1/fv", "write it as postgresql+psycopg://"),
        ("postgres://postgres@127.0.0.1/fv", "write postgresql+psycopg://"),
        ("postgresql://postgres@127.0.0.1/fv", "write postgresql+psycopg://"),
        ("mysql://root@127.0.0.1/fv", "runs on PostgreSQL or SQLite"),
        ("://nothing", "write it as postgresql+psycopg://"),
    ],
)
def test_unusable_database_url(tmp_path: Path, url: str, fix: str) -> None:
    env = {
        "FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path),
        "FEEDBACKVAULT_DATABASE_URL": url,
        "FEEDBACKVAULT_KEYSTORE_URL": f"sqlite:///{tmp_path / 'keys.db'}",
    }
    output = refused(env, "init")
    assert "FEEDBACKVAULT_DATABASE_URL" in output and fix in output
    assert not (tmp_path / "keys.db").exists(), "nothing is created before the URL is checked"


@pytest.mark.parametrize(
    ("data", "keys"),
    [
        (
            "postgresql+psycopg://postgres@localhost/fv",
            "postgresql+psycopg://other:pw@127.0.0.1:5432/fv",
        ),
        (
            "postgresql+psycopg://postgres@db.internal:5432/fv",
            "postgresql+psycopg://u@DB.internal/fv",
        ),
        ("sqlite:///{tmp}/one.db", "sqlite:///{tmp}/./sub/../one.db"),
    ],
)
def test_key_store_equal_to_data_store_however_spelled(
    tmp_path: Path, data: str, keys: str
) -> None:
    (tmp_path / "sub").mkdir()
    env = {
        "FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path),
        "FEEDBACKVAULT_DATABASE_URL": data.format(tmp=tmp_path),
        "FEEDBACKVAULT_KEYSTORE_URL": keys.format(tmp=tmp_path),
    }
    output = refused(env, "init")
    assert "name the same database" in output
    assert "Point FEEDBACKVAULT_KEYSTORE_URL at a database of its own" in output
    assert "pw@" not in output


def test_server_database_without_key_store(tmp_path: Path) -> None:
    env = {
        "FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path),
        "FEEDBACKVAULT_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/fv",
    }
    output = refused(env, "tokens", "list")
    assert "FEEDBACKVAULT_KEYSTORE_URL is not set" in output and "set it to a second" in output


def test_tables_missing_says_run_init(tmp_path: Path) -> None:
    from feedbackvault.crypto.keys import FileKeyProvider

    FileKeyProvider.initialise(tmp_path / "keys")
    env = {"FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path)}
    output = refused(env, "tokens", "list")
    assert "tables are missing" in output and "Run `feedbackvault init`" in output


def test_sqlite_folder_missing(tmp_path: Path) -> None:
    env = {
        "FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path / "instance"),
        "FEEDBACKVAULT_DATABASE_URL": f"sqlite:///{tmp_path / 'absent' / 'data.db'}",
        "FEEDBACKVAULT_KEYSTORE_URL": f"sqlite:///{tmp_path / 'keys.db'}",
    }
    output = refused(env, "init")
    assert f"cannot open {tmp_path / 'absent' / 'data.db'} (FEEDBACKVAULT_DATABASE_URL)" in output
    assert "Create the folder" in output


def test_malformed_key_file(cli_env: dict[str, str], settings: Settings) -> None:
    (settings.keys_dir / "blind-index.key").write_text("not a key at all\n")
    output = refused(cli_env, "tokens", "list")
    assert "blind-index.key is corrupt" in output
    assert "Restore the file from your key backup" in output


def test_unreadable_key_file(cli_env: dict[str, str], settings: Settings) -> None:
    # A folder where the file should be cannot be read, even by root (chmod would not stop root).
    path = settings.keys_dir / "receipt-signing.key"
    path.unlink()
    path.mkdir()
    output = refused(cli_env, "audit", "verify")
    assert f"cannot read key file {path}" in output and "readable (mode 0600)" in output


def test_missing_key_folder_says_run_init(cli_env: dict[str, str], settings: Settings) -> None:
    for key in settings.keys_dir.iterdir():
        key.unlink()
    settings.keys_dir.rmdir()
    output = refused(cli_env, "tokens", "list")
    assert "does not exist" in output and "feedbackvault init" in output


def test_active_kek_naming_a_missing_key(cli_env: dict[str, str], settings: Settings) -> None:
    (settings.keys_dir / "active-kek").write_text("kek-20990101T000000000000Z-00000000\n")
    output = refused(cli_env, "tokens", "list")
    assert "names a key-encryption key that is not in" in output and "restore the key" in output


GOOD_KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({}, "FEEDBACKVAULT_KEK is not set"),
        ({"FEEDBACKVAULT_KEK": f"no-separator{GOOD_KEY}"}, "FEEDBACKVAULT_KEK entry 1"),
        ({"FEEDBACKVAULT_KEK": "kek-1:c2hvcnQ="}, "FEEDBACKVAULT_KEK entry 1"),
        ({"FEEDBACKVAULT_KEK": f"kek-1:{GOOD_KEY}"}, "FEEDBACKVAULT_BLIND_INDEX_KEY is not set"),
        (
            {"FEEDBACKVAULT_KEK": f"kek-1:{GOOD_KEY}", "FEEDBACKVAULT_BLIND_INDEX_KEY": "@@@"},
            "FEEDBACKVAULT_BLIND_INDEX_KEY is not valid base64",
        ),
    ],
)
def test_env_provider_variables(
    cli_env: dict[str, str], variables: dict[str, str], named: str
) -> None:
    env = {**cli_env, "FEEDBACKVAULT_KEY_PROVIDER": "env", **variables}
    output = refused(env, "tokens", "list")
    assert named in output and "base64.b64encode(os.urandom(32))" in output
    assert GOOD_KEY not in output


@pytest.mark.parametrize(
    ("name", "value", "fix"),
    [
        ("FEEDBACKVAULT_MAX_BODY_BYTES", "64k", "whole number of bytes above 0"),
        ("FEEDBACKVAULT_MAX_BODY_BYTES", "0", "whole number of bytes above 0"),
        ("FEEDBACKVAULT_LOG_LEVEL", "verbose", "one of DEBUG, INFO"),
        ("FEEDBACKVAULT_KEY_PROVIDER", "vault", "one of file, env"),
        ("FEEDBACKVAULT_RATE_LIMIT_PER_TOKEN", "lots", "like '600/minute'"),
        ("FEEDBACKVAULT_RATE_LIMIT_PER_ADDRESS", "10 a minute", "like '600/minute'"),
        ("FEEDBACKVAULT_RATE_LIMIT_STORAGE", "memcached://x", "redis://"),
        ("FEEDBACKVAULT_CORS_ORIGINS", "*", "exact origins"),
        ("FEEDBACKVAULT_POLICIES", "/nonexistent/policies", "policies check"),
    ],
)
def test_bad_setting(cli_env: dict[str, str], name: str, value: str, fix: str) -> None:
    output = refused({**cli_env, name: value}, "tokens", "list")
    assert name.removeprefix("FEEDBACKVAULT_") in output or "policy" in output
    assert fix in output


def test_serve_on_a_port_in_use(cli_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        output = refused(cli_env, "serve", "--port", str(port))
    assert f"cannot listen on 127.0.0.1:{port}" in output and "--port" in output


def test_serve_on_a_host_that_is_not_here(cli_env: dict[str, str]) -> None:
    output = refused(cli_env, "serve", "--host", "no-such-host.invalid", "--port", "8000")
    assert "is not an address of this machine" in output


def test_serve_refuses_an_instance_never_initialised(tmp_path: Path) -> None:
    from feedbackvault.crypto.keys import FileKeyProvider

    FileKeyProvider.initialise(tmp_path / "keys")
    output = refused({"FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path)}, "serve", "--port", "1")
    assert "schema is missing or not at this version" in output and "feedbackvault init" in output


def test_a_bug_still_shows_its_traceback() -> None:
    from feedbackvault.cli.errors import explain

    assert explain(ZeroDivisionError("a bug")) is None
    assert explain(RuntimeError("a bug")) is None


def test_instance_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "instance").write_text("not a folder")
    output = refused({"FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path / "instance")}, "init")
    assert str(tmp_path / "instance") in output and "must be folders (not files)" in output


def test_sqlite_url_at_a_file_that_is_not_a_database(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    stray = tmp_path / "notes.txt"
    stray.write_text(
        "this is not a database, just text that is long enough to have a header\n" * 10
    )
    output = refused(
        {**cli_env, "FEEDBACKVAULT_DATABASE_URL": f"sqlite:///{stray}"}, "tokens", "list"
    )
    assert f"sqlite:///{stray} (FEEDBACKVAULT_DATABASE_URL)" in output
    assert "is not a SQLite database" in output and "Correct the path" in output


def test_init_with_an_older_feedbackvault_than_the_schema(tmp_path: Path) -> None:
    import sqlite3

    env = {"FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path)}
    assert CliRunner().invoke(main, ["init"], env=env).exit_code == 0
    with sqlite3.connect(tmp_path / "feedbackvault.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    output = refused(env, "init")
    assert "migrated by a newer version of feedbackvault (revision 9999)" in output
    serving = refused(env, "serve", "--port", "1")
    assert "schema is missing or not at this version" in serving


def test_a_misspelt_setting_is_named_with_the_one_meant(tmp_path: Path) -> None:
    env = {
        "FEEDBACKVAULT_INSTANCE_DIR": str(tmp_path),
        "FEEDBACKVAULT_DATABSE_URL": "postgresql+psycopg://postgres@db.example/fv",
        "FEEDBACKVAULT_LOGLEVEL": "DEBUG",
        "FEEDBACKVAULT_TEST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/test",
    }
    result = CliRunner().invoke(main, ["init"], env=env, catch_exceptions=False)
    assert result.exit_code == 0  # a warning, not an error: the defaults are usable
    assert result.stderr.splitlines() == [
        "warning: FEEDBACKVAULT_DATABSE_URL is not a setting and is ignored; did you mean "
        "FEEDBACKVAULT_DATABASE_URL? (it is not set, so its default is used)",
        "warning: FEEDBACKVAULT_LOGLEVEL is not a setting and is ignored; did you mean "
        "FEEDBACKVAULT_LOG_LEVEL? (it is not set, so its default is used)",
    ]


def test_correctly_spelt_settings_raise_no_warning(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "FEEDBACKVAULT_LOG_LEVEL": "DEBUG", "FEEDBACKVAULT_MAX_BODY_BYTES": "1024"}
    result = CliRunner().invoke(main, ["tokens", "list"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and result.stderr == ""


def test_every_setting_the_service_reads_is_known_so_none_is_taken_for_a_typo() -> None:
    import re
    from pathlib import Path

    from feedbackvault.settings import SETTING_NAMES

    package = Path(__file__).resolve().parents[2] / "feedbackvault"
    read = set()
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        read |= {f"FEEDBACKVAULT_{name}" for name in re.findall(r"\{PREFIX\}([A-Z][A-Z_]+)", text)}
        read |= set(re.findall(r"FEEDBACKVAULT_[A-Z][A-Z_]*[A-Z]", text))
    read -= {"FEEDBACKVAULT_TEST", "FEEDBACKVAULT_TEST_"}
    assert sorted(read - set(SETTING_NAMES)) == []
