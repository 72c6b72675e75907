"""Erasure is final: no live key-store file keeps a shredded key, and the certificate says when."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from feedbackvault.app import Services
from feedbackvault.domain.durations import add_duration, parse_iso_duration
from feedbackvault.settings import Settings
from feedbackvault.storage.data_models import Consent, Response, Subject
from feedbackvault.storage.keystore_models import SubjectKey
from tests.support import FrozenClock, submission

BASE = "/api/v1/privacy"
EMAIL = "vergeet-mij@example.nl"


def store(client: FlaskClient, collector: dict[str, str], email: str = EMAIL) -> None:
    body = submission(respondent={"email": email}, answers={"nps": 8})
    assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201


def wrapped_keys(services: Services) -> list[bytes]:
    with services.stores.keys_read() as unit:
        return [bytes(k.wrapped_dek) for k in unit.session.scalars(select(SubjectKey))]


def live_key_store_bytes(settings: Settings) -> bytes:
    """Read the key store's database, write-ahead log and shared-memory index as they lie."""
    path = Path(settings.keystore_url.removeprefix("sqlite:///"))
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return b"".join(f.read_bytes() for f in files if f.exists())


def fulfil(
    client: FlaskClient, officer: dict[str, str], kind: str, body: dict[str, object] | None = None
) -> dict[str, object]:
    created = client.post(
        f"{BASE}/requests", json={"kind": kind, "subject": {"email": EMAIL}}, headers=officer
    ).get_json()
    client.post(f"{BASE}/requests/{created['id']}/verify", json={"method": "m"}, headers=officer)
    answer = client.post(f"{BASE}/requests/{created['id']}/fulfil", json=body, headers=officer)
    assert answer.status_code == 200, answer.get_json()
    return dict(answer.get_json())


def by_erasure(
    services: Services, client: FlaskClient, officer: dict[str, str], _: FrozenClock
) -> None:
    fulfil(client, officer, "erasure")


def by_rectification(
    services: Services, client: FlaskClient, officer: dict[str, str], _: FrozenClock
) -> None:
    # The old key version is destroyed; the new one is wrapped afresh.
    fulfil(client, officer, "rectification", {"respondent": {"email": "nieuw@example.nl"}})


def by_sweep(
    services: Services, client: FlaskClient, officer: dict[str, str], clock: FrozenClock
) -> None:
    clock.advance(days=400)
    assert services.retention.sweep().keys_destroyed == 1


def by_keys_gc(
    services: Services, client: FlaskClient, officer: dict[str, str], clock: FrozenClock
) -> None:
    # A submission that died between the key store and the data store leaves this key.
    with services.stores.data() as unit:
        unit.session.execute(Response.__table__.delete())  # type: ignore[attr-defined]
        unit.session.execute(Consent.__table__.delete())  # type: ignore[attr-defined]
        unit.session.execute(Subject.__table__.delete())  # type: ignore[attr-defined]
    clock.advance(hours=2)
    assert services.orphan_keys.collect().keys_destroyed == 1


Shredding = Callable[[Services, FlaskClient, dict[str, str], FrozenClock], None]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("shred", [by_erasure, by_rectification, by_sweep, by_keys_gc])
def test_no_live_key_store_file_keeps_a_shredded_key(
    services: Services,
    settings: Settings,
    client: FlaskClient,
    officer: dict[str, str],
    collector: dict[str, str],
    clock: FrozenClock,
    shred: Shredding,
) -> None:
    store(client, collector)
    [wrapped] = wrapped_keys(services)
    assert wrapped in live_key_store_bytes(settings)
    shred(services, client, officer, clock)
    assert wrapped not in wrapped_keys(services)
    assert wrapped not in live_key_store_bytes(settings)


def test_certificate_says_final_by_next_rotation_plus_grace(
    services: Services,
    client: FlaskClient,
    officer: dict[str, str],
    collector: dict[str, str],
    clock: FrozenClock,
) -> None:
    services.key_rotation.rotate()  # the active KEK's rotation is now the clock's moment
    rotated_at = clock.now()
    clock.advance(days=2)
    store(client, collector)
    certificate = fulfil(client, officer, "erasure")["certificate"]
    assert isinstance(certificate, dict)
    expected = add_duration(rotated_at, parse_iso_duration("P7D")) + timedelta(days=30)
    assert datetime.fromisoformat(str(certificate["final_by"])) == expected


def test_overdue_rotation_counts_final_by_from_now(
    services: Services,
    client: FlaskClient,
    officer: dict[str, str],
    collector: dict[str, str],
    clock: FrozenClock,
) -> None:
    services.key_rotation.rotate()
    clock.advance(days=10)
    store(client, collector)
    certificate = fulfil(client, officer, "erasure")["certificate"]
    assert isinstance(certificate, dict)
    final_by = datetime.fromisoformat(str(certificate["final_by"]))
    assert final_by == clock.now().replace(microsecond=0) + timedelta(days=30)
