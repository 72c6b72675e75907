"""Consent receipts verify with the published key using only `cryptography`."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask.testing import FlaskClient

from tests.support import submission


def verify(public_key_b64: str, receipt: dict[str, Any]) -> bool:
    """Verify a receipt exactly as API.md tells a third party to."""
    signed = {k: v for k, v in receipt.items() if k not in ("signature", "withdraw_token")}
    message = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    try:
        key.verify(base64.b64decode(receipt["signature"]), message.encode("utf-8"))
    except InvalidSignature:
        return False
    return True


@pytest.fixture
def receipt(client: FlaskClient, collector: dict[str, str]) -> dict[str, Any]:
    """Submit a response and return its receipt."""
    response = client.post("/api/v1/responses", json=submission(), headers=collector)
    return dict(response.get_json()["receipt"])


@pytest.fixture
def public_key(client: FlaskClient) -> str:
    """Fetch the published receipt key without authentication."""
    body = client.get("/api/v1/receipts/public-key").get_json()
    assert body["algorithm"] == "Ed25519"
    assert len(base64.b64decode(body["public_key"])) == 32
    return str(body["public_key"])


def test_receipt_verifies_with_published_key(receipt: dict[str, Any], public_key: str) -> None:
    assert verify(public_key, receipt)


@pytest.mark.parametrize(
    ("field", "forged"),
    [
        ("purpose", "product-research"),
        ("notice_version", "2026-02"),
        ("given_at", "2026-11-24T09:58:00Z"),
        ("recorded_at", "2026-11-24T10:00:01Z"),
        ("receipt_id", "00000000-0000-0000-0000-000000000000"),
    ],
)
def test_tampered_receipt_does_not_verify(
    field: str, forged: str, receipt: dict[str, Any], public_key: str
) -> None:
    assert not verify(public_key, {**receipt, field: forged})


def test_receipt_with_added_field_does_not_verify(receipt: dict[str, Any], public_key: str) -> None:
    assert not verify(public_key, {**receipt, "scope": "all"})


def test_withdraw_token_is_stored_only_as_hash(
    receipt: dict[str, Any], client: FlaskClient
) -> None:
    from feedbackvault.api.context import services

    with client.application.app_context():
        stored = services().stores
        with stored.data() as unit:
            from feedbackvault.storage.data_models import Consent

            consent = unit.session.get(Consent, receipt["receipt_id"])
    assert consent is not None
    assert receipt["withdraw_token"].encode() not in consent.withdraw_token_hash
    assert len(consent.withdraw_token_hash) == 32
