"""Compute keyed digests of identifiers for exact-match lookup without decryption."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from typing import Literal, get_args

from feedbackvault.crypto.errors import CryptoError

IdentifierKind = Literal["email", "customer_id"]

KEY_BYTES = 32
_KINDS: tuple[IdentifierKind, ...] = get_args(IdentifierKind)


def normalise_identifier(kind: IdentifierKind, value: str) -> str:
    """Put an identifier in the one form that is indexed."""
    if kind not in _KINDS:
        raise ValueError(f"unknown identifier kind {kind!r}")
    # Strip again after NFKC because it can turn compatibility spaces into plain ones.
    normalised = unicodedata.normalize("NFKC", value.strip()).strip()
    if kind == "email":
        # Casefolding can leave text that is not NFKC, so normalise once more.
        normalised = unicodedata.normalize("NFKC", normalised.casefold())
    return normalised


class BlindIndex:
    """Compute HMAC-SHA256 blind-index digests under a dedicated key."""

    def __init__(self, key: bytes, version: int = 1) -> None:
        """Prepare one keyed hash per identifier kind."""
        if len(key) != KEY_BYTES:
            raise CryptoError(f"a blind-index key must be exactly {KEY_BYTES} bytes")
        if version < 1:
            raise ValueError("blind-index version must be a positive integer")
        self._version = version
        # Hashing the key and domain prefix once and copying the state saves work per digest.
        self._prepared = {
            kind: hmac.new(
                key,
                f"feedbackvault/blind-index/v{version}/{kind}\x00".encode("ascii"),
                hashlib.sha256,
            )
            for kind in _KINDS
        }

    def __repr__(self) -> str:
        """Show the version and hide the key."""
        return f"BlindIndex(version={self._version}, key=<redacted>)"

    @property
    def version(self) -> int:
        """Return the version written beside each digest."""
        return self._version

    def digest(self, kind: IdentifierKind, value: str) -> bytes:
        """Return the 32-byte digest of the normalised identifier."""
        normalised = normalise_identifier(kind, value)
        if not normalised:
            raise ValueError("cannot index an empty identifier")
        mac = self._prepared[kind].copy()
        mac.update(normalised.encode("utf-8"))
        return mac.digest()
