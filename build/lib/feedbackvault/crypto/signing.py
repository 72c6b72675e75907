"""Sign consent receipts with Ed25519 so anyone holding the public key can check them."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def canonical_json(payload: Mapping[str, object]) -> bytes:
    """Serialise payload to the exact bytes that are signed."""
    # allow_nan=False because NaN and Infinity are not JSON and other verifiers reject them.
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


class ReceiptSigner:
    """Sign receipt payloads with an Ed25519 private key."""

    algorithm: ClassVar[str] = "Ed25519"

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        """Keep the private key and publish its public half."""
        self._private_key = private_key
        public_raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._public_key_b64 = base64.b64encode(public_raw).decode("ascii")

    def __repr__(self) -> str:
        """Show the public key and hide the private key."""
        return f"ReceiptSigner(algorithm={self.algorithm!r}, public_key={self._public_key_b64!r})"

    def sign(self, payload: Mapping[str, object]) -> str:
        """Return the base64 Ed25519 signature of the canonical JSON of payload."""
        signature = self._private_key.sign(canonical_json(payload))
        return base64.b64encode(signature).decode("ascii")

    def public_key_b64(self) -> str:
        """Return the base64 of the 32 raw public key bytes."""
        return self._public_key_b64


def verify_receipt(public_key_b64: str, payload: Mapping[str, object], signature_b64: str) -> bool:
    """Report whether signature_b64 is a valid signature of payload under the public key."""
    try:
        public_raw = base64.b64decode(public_key_b64, validate=True)
        signature = base64.b64decode(signature_b64, validate=True)
        public_key = Ed25519PublicKey.from_public_bytes(public_raw)
        public_key.verify(signature, canonical_json(payload))
    except (InvalidSignature, binascii.Error, ValueError, TypeError, RecursionError):
        return False
    return True
