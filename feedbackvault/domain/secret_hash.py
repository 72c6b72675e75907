"""Hash the high-entropy secrets the service hands out (withdraw tokens, API tokens)."""

from __future__ import annotations

import hashlib


def hash_secret(secret: str) -> bytes:
    """Hash a high-entropy secret (withdraw token, API token) for storage."""
    # A random 256-bit secret needs no salt or stretching: SHA-256 cannot be guessed back.
    return hashlib.sha256(secret.encode("utf-8")).digest()
