"""Wrap and unwrap per-subject data keys under a key-encryption key."""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from feedbackvault.crypto.errors import CryptoError, DecryptionFailed
from feedbackvault.crypto.keys import KeyEncryptionKey

DEK_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16

_DOMAIN = b"feedbackvault/dek/v1\x00"
_MAX_DEK_VERSION = 2**32 - 1


def generate_dek() -> bytes:
    """Return a fresh random 256-bit data key."""
    return os.urandom(DEK_BYTES)


def _associated_data(kek_id: str, subject_id: str, dek_version: int) -> bytes:
    """Bind a wrapped key to its subject, its version and the key that wraps it."""
    if not 0 <= dek_version <= _MAX_DEK_VERSION:
        raise ValueError("dek_version must fit in an unsigned 32-bit integer")
    parts = [subject_id.encode("utf-8"), struct.pack(">I", dek_version), kek_id.encode("utf-8")]
    # Length prefixes keep the encoding unambiguous whatever bytes the ids contain.
    return _DOMAIN + b"".join(struct.pack(">I", len(part)) + part for part in parts)


def wrap_dek(kek: KeyEncryptionKey, dek: bytes, *, subject_id: str, dek_version: int) -> bytes:
    """Encrypt a data key under kek as nonce followed by AES-256-GCM ciphertext."""
    if len(dek) != DEK_BYTES:
        raise CryptoError(f"a data key must be exactly {DEK_BYTES} bytes")
    nonce = os.urandom(NONCE_BYTES)
    aad = _associated_data(kek.kek_id, subject_id, dek_version)
    return nonce + AESGCM(kek.material).encrypt(nonce, dek, aad)


def unwrap_dek(
    kek: KeyEncryptionKey, wrapped: bytes, *, subject_id: str, dek_version: int
) -> bytes:
    """Decrypt a wrapped data key, raising DecryptionFailed if it does not open."""
    aad = _associated_data(kek.kek_id, subject_id, dek_version)
    if len(wrapped) != NONCE_BYTES + DEK_BYTES + TAG_BYTES:
        raise DecryptionFailed("wrapped data key has the wrong length")
    nonce, body = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
    try:
        return AESGCM(kek.material).decrypt(nonce, body, aad)
    except InvalidTag:
        raise DecryptionFailed(
            "wrapped data key did not open: wrong key-encryption key, subject or version, "
            "or it was altered"
        ) from None
