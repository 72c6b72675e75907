"""`feedbackvault maintain` sweeps, collects orphans, rotates when due and destroys past grace."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from feedbackvault.app import Services
from feedbackvault.cli import main
from feedbackvault.crypto.keys import FileKeyProvider
from feedbackvault.storage.data_models import AuditEntry
from feedbackvault.storage.keystore_models import SubjectKey
from tests.support import FrozenClock, submission


def actions(services: Services, action: str) -> int:
    with services.stores.read() as unit:
        return sum(1 for r in unit.audit.find() if r.action == action)


def test_maintain_prints_every_step_and_rotates_only_when_due(
    services: Services, clock: FrozenClock
) -> None:
    services.key_rotation.rotate()
    first = services.maintenance.run()
    steps = [line.split(":")[0] for line in first]
    assert steps[-3:] == ["kek rotation", "kek destruction", "reminders"]
    assert "kek rotation: not due" in first
    clock.advance(days=7)
    assert any(line.startswith("kek rotation: rotated to") for line in services.maintenance.run())
    assert "kek rotation: not due" in services.maintenance.run()
    assert actions(services, "keys.rotated") == 2


def test_maintain_destroys_retired_keks_past_grace_and_keeps_data_readable(
    services: Services, client: FlaskClient, collector: dict[str, str], clock: FrozenClock
) -> None:
    assert client.post("/api/v1/responses", json=submission(), headers=collector).status_code == 201
    old = services.key_provider.active_kek().kek_id
    services.key_rotation.rotate()
    clock.advance(days=30)
    lines = services.maintenance.run()
    assert f"kek destruction: destroyed {old}" in lines
    with services.stores.keys_read() as unit:
        [key] = unit.session.scalars(select(SubjectKey))
    assert services.subject_keys.unwrap(key).subject_id == key.subject_id


def test_maintain_sweeps_expired_data_and_collects_orphaned_keys(
    services: Services, client: FlaskClient, collector: dict[str, str], clock: FrozenClock
) -> None:
    assert client.post("/api/v1/responses", json=submission(), headers=collector).status_code == 201
    services.subject_keys.resolve(services.stores, {"email": "verweesd@example.nl"})
    clock.advance(days=400)
    lines = services.maintenance.run()
    assert "retention sweep: subjects left with nothing were shredded: 1" in lines
    assert any(line.startswith("keys gc: 1 of 1 keyed subject older than") for line in lines), lines
    with services.stores.keys_read() as unit:
        assert list(unit.session.scalars(select(SubjectKey))) == []


def test_maintain_releases_each_closed_day_once(
    services: Services, client: FlaskClient, collector: dict[str, str], clock: FrozenClock
) -> None:
    assert client.post("/api/v1/responses", json=submission(), headers=collector).status_code == 201
    today = clock.now().date()

    def released() -> str:
        [line] = [line for line in services.maintenance.run() if line.startswith("releases:")]
        return line

    assert released().endswith(f"through {today - timedelta(days=1)}")
    clock.advance(days=1)
    first = released()
    assert first.endswith(f"through {today}") and " 0 cells" not in first, first
    assert " 0 cells over 0 days" in released()


def test_maintain_command_prints_what_it_did(services: Services) -> None:
    result = CliRunner().invoke(main, ["maintain"], env=dict(services.settings.environ))
    assert result.exit_code == 0
    assert "retention sweep: nothing has expired" in result.output
    assert "kek destruction: no retired key-encryption keys" in result.output


def test_two_maintain_jobs_at_once_rotate_once(services: Services) -> None:
    env = {**os.environ, **services.settings.environ, "FEEDBACKVAULT_KEK_ROTATION": "PT1S"}
    time.sleep(1.1)  # the KEK `init` made is now due
    command = [sys.executable, "-m", "feedbackvault.cli", "maintain"]
    jobs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [job.communicate(timeout=120) for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], [err.decode()[-2000:] for _, err in outputs]
    said = [out.decode() for out, _ in outputs]
    assert sum(text.count("kek rotation: rotated to") for text in said) == 1
    states = [v.state for v in FileKeyProvider(services.settings.keys_dir).kek_versions()]
    assert sorted(states) == ["active", "retired"]
    with services.stores.read() as unit:
        rotations = unit.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "keys.rotated")
        ).all()
    assert len(rotations) == 1
