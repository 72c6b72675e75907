"""KEKs live as a cloud KMS's key versions: rotation retires, destruction waits for the grace."""

from __future__ import annotations

import sqlite3
from base64 import b64encode
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from feedbackvault.app import Services
from feedbackvault.cli import main
from feedbackvault.settings import Settings
from tests.support import FrozenClock, submission

BASE = "/api/v1/privacy"
KEY_TABLES = ("subject_key", "subject_lookup", "key_tombstone")


def access_export(
    client: FlaskClient, officer: dict[str, str], email: str
) -> tuple[int, dict[str, Any]]:
    """Run an access request through the API; return fulfil's status and body."""
    created = client.post(
        f"{BASE}/requests", json={"kind": "access", "subject": {"email": email}}, headers=officer
    ).get_json()
    client.post(f"{BASE}/requests/{created['id']}/verify", json={"method": "m"}, headers=officer)
    answer = client.post(f"{BASE}/requests/{created['id']}/fulfil", headers=officer)
    return answer.status_code, answer.get_json()


def back_up_key_store(services: Services) -> Callable[[], None]:
    """Back the key store up (a file copy on SQLite, a table dump on PostgreSQL); return restore."""
    engine: Engine = services.databases.keys_engine
    if engine.dialect.name == "sqlite":
        path = str(engine.url.database)
        backup = sqlite3.connect(":memory:")
        with sqlite3.connect(path) as live:
            live.backup(backup)

        def restore_file() -> None:
            services.databases.dispose()
            live = sqlite3.connect(path)
            try:
                backup.backup(live)
            finally:
                live.close()

        return restore_file
    with engine.connect() as connection:
        dump = {
            table: [
                dict(row) for row in connection.execute(text(f"SELECT * FROM {table}")).mappings()
            ]
            for table in KEY_TABLES
        }

    def restore_tables() -> None:
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(KEY_TABLES)}"))
            for table, rows in dump.items():
                if rows:
                    columns = ", ".join(rows[0])
                    markers = ", ".join(f":{c}" for c in rows[0])
                    connection.execute(
                        text(f"INSERT INTO {table} ({columns}) VALUES ({markers})"),
                        rows,
                    )

    return restore_tables


@pytest.fixture
def stored(client: FlaskClient, collector: dict[str, str]) -> None:
    """Store one response of an@example.nl."""
    assert client.post("/api/v1/responses", json=submission(), headers=collector).status_code == 201


@pytest.mark.usefixtures("stored")
def test_key_store_backup_from_before_a_rotation_restores_and_reads(
    services: Services, client: FlaskClient, officer: dict[str, str]
) -> None:
    restore = back_up_key_store(services)
    old = services.key_provider.active_kek().kek_id
    rotation = services.key_rotation.rotate()
    assert rotation.retired_kek_ids == (old,)
    restore()
    status, body = access_export(client, officer, "an@example.nl")
    assert status == 200
    assert [r["respondent"]["email"] for r in body["export"]["responses"]] == ["an@example.nl"]
    assert client.get("/readyz").status_code == 200


@pytest.mark.usefixtures("stored")
def test_restored_key_store_keeps_its_retired_kek_until_rewrapped(
    services: Services, clock: FrozenClock
) -> None:
    restore = back_up_key_store(services)
    old = services.key_provider.active_kek().kek_id
    services.key_rotation.rotate()
    restore()
    clock.advance(days=31)
    report = services.key_rotation.destroy_retired()
    assert (report.destroyed, report.in_use) == ([], [old])
    services.key_rotation.rotate()
    assert services.key_rotation.destroy_retired().destroyed == [old]


@pytest.mark.usefixtures("stored")
def test_key_store_older_than_a_destroyed_kek_is_not_ready_and_answers_503(
    services: Services, client: FlaskClient, officer: dict[str, str], clock: FrozenClock
) -> None:
    restore = back_up_key_store(services)
    services.key_rotation.rotate()
    clock.advance(days=30)
    assert len(services.key_rotation.destroy_retired().destroyed) == 1
    restore()
    services._kek_check = None  # the readiness answer is kept 30 s; ask afresh
    assert client.get("/readyz").status_code == 503
    answer = client.post(
        f"{BASE}/requests",
        json={"kind": "access", "subject": {"email": "an@example.nl"}},
        headers=officer,
    )
    assert (answer.status_code, answer.mimetype) == (503, "application/problem+json")
    # The lost keys stay as they are; rotation goes on for the rest, and says nothing opens them.
    lost = services.key_rotation.missing_keks()
    assert len(lost) == 1
    assert services.key_rotation.rotate().keys_rewrapped == 0
    assert services.key_rotation.missing_keks() == lost


def test_retired_kek_is_destroyed_only_after_its_grace(
    services: Services, clock: FrozenClock
) -> None:
    old = services.key_provider.active_kek().kek_id
    services.key_rotation.rotate()
    clock.advance(days=30, seconds=-1)
    early = services.key_rotation.destroy_retired()
    assert (early.destroyed, [kek for kek, _ in early.waiting]) == ([], [old])
    assert services.key_provider.kek(old).kek_id == old
    clock.advance(seconds=1)
    assert services.key_rotation.destroy_retired().destroyed == [old]
    with services.stores.data() as unit:
        actions = [r.action for r in unit.audit.find()]
    assert actions[-1] == "keys.destroyed"


def test_grace_is_read_from_the_environment(settings: Settings, clock: FrozenClock) -> None:
    env = {**settings.environ, "FEEDBACKVAULT_KEK_GRACE": "P1D"}
    services = Services.build(Settings.from_env(env), clock=clock)
    try:
        services.key_rotation.rotate()
        clock.advance(days=1)
        assert len(services.key_rotation.destroy_retired().destroyed) == 1
    finally:
        services.databases.dispose()


def test_keys_list_prints_one_line_per_kek_with_state_and_dates(
    services: Services, clock: FrozenClock
) -> None:
    first = services.key_provider.active_kek().kek_id
    services.key_rotation.rotate()
    second = services.key_provider.active_kek().kek_id
    clock.advance(days=1)
    services.key_rotation.rotate()
    clock.advance(days=30)
    services.key_rotation.destroy_retired()
    result = CliRunner().invoke(main, ["keys", "list"], env=dict(services.settings.environ))
    lines = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()}
    assert result.exit_code == 0 and len(lines) == 3
    assert lines[first][0] == "destroyed"
    assert lines[first][2:] == ["retired=2026-11-24T10:00:00Z", "destroyed=2026-12-25T10:00:00Z"]
    assert lines[second] == [
        "destroyed",
        "created=2026-11-24T10:00:00Z",
        "retired=2026-11-25T10:00:00Z",
        "destroyed=2026-12-25T10:00:00Z",
    ]
    assert [state for state, *_ in lines.values()].count("active") == 1


def test_cli_rotate_retires_and_destroy_retired_keeps_it_within_grace(
    services: Services,
) -> None:
    env = dict(services.settings.environ)
    old = services.key_provider.active_kek().kek_id
    rotated = CliRunner().invoke(main, ["keys", "rotate"], env=env)
    assert rotated.exit_code == 0 and f"retired {old}" in rotated.output
    kept = CliRunner().invoke(main, ["keys", "destroy-retired"], env=env)
    assert kept.exit_code == 0 and f"kept {old}: grace ends" in kept.output
    assert services.key_provider.kek(old).kek_id == old


@pytest.mark.usefixtures("stored")
def test_env_provider_rotation_rewraps_under_the_first_listed_kek_and_names_what_to_remove(
    services: Services, clock: FrozenClock
) -> None:
    old = services.key_provider.active_kek()
    raw = Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    seed = services.key_provider.signing_key().private_bytes(*raw)
    listed = (
        f"kek-new:{b64encode(bytes(range(32))).decode()}@2026-11-24T10:00:00Z,"
        f"{old.kek_id}:{b64encode(old.material).decode()}@2026-11-24T10:00:00Z"
    )
    env = {
        **services.settings.environ,
        "FEEDBACKVAULT_KEY_PROVIDER": "env",
        "FEEDBACKVAULT_KEK": listed,
        "FEEDBACKVAULT_BLIND_INDEX_KEY": b64encode(
            services.key_provider.blind_index_key()
        ).decode(),
        "FEEDBACKVAULT_RECEIPT_SIGNING_KEY": b64encode(seed).decode(),
    }
    from_env = Services.build(Settings.from_env(env), clock=clock)
    try:
        rotation = from_env.key_rotation.rotate()
        assert (rotation.created, rotation.new_kek_id, rotation.keys_rewrapped) == (
            False,
            "kek-new",
            1,
        )
        clock.advance(days=30)
        report = from_env.key_rotation.destroy_retired()
        assert (report.destroyed, report.to_remove) == ([], [old.kek_id])
        assert from_env.key_rotation.missing_keks() == set()
    finally:
        from_env.databases.dispose()
