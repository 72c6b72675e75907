"""Rotating the KEK rewraps every data key; old KEKs are retired, destroyed after the grace."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from feedbackvault.app import Services
from feedbackvault.crypto.envelope import unwrap_dek
from feedbackvault.crypto.errors import DecryptionFailed, KeyNotFound
from feedbackvault.crypto.fields import FieldContext, decrypt_field
from feedbackvault.crypto.keys import KeyEncryptionKey
from feedbackvault.storage.data_models import Response
from feedbackvault.storage.keystore_models import SubjectKey
from tests.support import FrozenClock, submission

EMAILS = [f"rotate{i}@example.nl" for i in range(5)]


def decrypt_all_emails(services: Services) -> list[str]:
    """Decrypt the email of every stored response with the current keys."""
    with services.stores.data() as unit:
        rows = [(r.id, r.subject_id, r.email_ct) for r in unit.session.scalars(select(Response))]
    with services.stores.keys() as unit:
        opened = services.subject_keys.open_many(unit, [sid for _, sid, _ in rows if sid])
    plain = []
    for response_id, subject_id, ciphertext in rows:
        assert subject_id is not None and ciphertext is not None
        subject = opened[subject_id]
        context = FieldContext("response", "email_ct", response_id, subject_id)
        plain.append(decrypt_field(subject.dek, ciphertext, context))
    return sorted(plain)


@pytest.fixture
def stored(client: FlaskClient, collector: dict[str, str]) -> None:
    """Store one response per email."""
    for email in EMAILS:
        body = submission(respondent={"email": email})
        assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201


@pytest.mark.usefixtures("stored")
def test_rotating_twice_keeps_every_field_readable(services: Services) -> None:
    services.key_rotation.rotate()
    services.key_rotation.rotate()
    assert decrypt_all_emails(services) == sorted(EMAILS)


@pytest.mark.usefixtures("stored")
def test_old_kek_opens_no_wrapped_key_after_rotation(
    services: Services, clock: FrozenClock
) -> None:
    first = services.key_provider.active_kek()
    kept_material = KeyEncryptionKey(first.kek_id, bytes(first.material))
    services.key_rotation.rotate()
    second = services.key_provider.active_kek()
    services.key_rotation.rotate()
    with services.stores.keys() as unit:
        keys = list(unit.session.scalars(select(SubjectKey)))
    assert len(keys) == len(EMAILS)
    for key in keys:
        with pytest.raises(DecryptionFailed):
            unwrap_dek(
                kept_material,
                key.wrapped_dek,
                subject_id=key.subject_id,
                dek_version=key.dek_version,
            )
    for retired in (first.kek_id, second.kek_id):
        assert services.key_provider.kek(retired).kek_id == retired
    clock.advance(days=30)
    assert services.key_rotation.destroy_retired().destroyed == sorted(
        [first.kek_id, second.kek_id]
    )
    for retired in (first.kek_id, second.kek_id):
        with pytest.raises(KeyNotFound):
            services.key_provider.kek(retired)


@pytest.mark.usefixtures("stored")
def test_rotation_is_audited_without_key_material(services: Services) -> None:
    old = services.key_provider.active_kek()
    rotation = services.key_rotation.rotate()
    with services.stores.data() as unit:
        entries = [r for r in unit.audit.find() if r.action == "keys.rotated"]
    assert [e.details for e in entries] == [
        f'{{"keys_rewrapped":5,"new_kek_id":"{rotation.new_kek_id}",'
        f'"retired_kek_ids":["{old.kek_id}"]}}'
    ]
    assert old.material.hex() not in entries[0].details
