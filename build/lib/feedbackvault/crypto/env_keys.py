"""Read keys from environment variables (a read-only key provider for deployments)."""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from feedbackvault.crypto.errors import CryptoError, KeyNotFound, KeyProviderError
from feedbackvault.crypto.keys import (
    REDACTED,
    KeyEncryptionKey,
    decode_key,
    signing_key_from_seed,
)

ENV_KEK = "FEEDBACKVAULT_KEK"
ENV_BLIND_INDEX_KEY = "FEEDBACKVAULT_BLIND_INDEX_KEY"
ENV_RECEIPT_SIGNING_KEY = "FEEDBACKVAULT_RECEIPT_SIGNING_KEY"


class EnvKeyProvider:
    """Read keys from environment variables; rotation is done by editing them."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        """Parse the key variables, naming any bad variable but never its value."""
        self._keks = _parse_kek_variable(environ.get(ENV_KEK))
        self._blind_index_key = _parse_key_variable(environ, ENV_BLIND_INDEX_KEY)
        self._signing_key = signing_key_from_seed(
            _parse_key_variable(environ, ENV_RECEIPT_SIGNING_KEY)
        )

    def __repr__(self) -> str:
        """Show the key ids and hide the keys."""
        return f"EnvKeyProvider(kek_ids={self.kek_ids()!r}, keys={REDACTED})"

    def active_kek(self) -> KeyEncryptionKey:
        """Return the first key-encryption key listed in FEEDBACKVAULT_KEK."""
        return self._keks[0]

    def kek(self, kek_id: str) -> KeyEncryptionKey:
        """Return the listed key-encryption key with this id or raise KeyNotFound."""
        for kek in self._keks:
            if kek.kek_id == kek_id:
                return kek
        raise KeyNotFound(f"key-encryption key {kek_id!r} is not listed in {ENV_KEK}")

    def blind_index_key(self) -> bytes:
        """Return the key from FEEDBACKVAULT_BLIND_INDEX_KEY."""
        return self._blind_index_key

    def signing_key(self) -> Ed25519PrivateKey:
        """Return the key from FEEDBACKVAULT_RECEIPT_SIGNING_KEY."""
        return self._signing_key

    def create_kek(self) -> KeyEncryptionKey:
        """Refuse, because the environment cannot be written from here."""
        raise KeyProviderError(_READ_ONLY_MESSAGE)

    def retire_kek(self, kek_id: str) -> None:
        """Refuse, because the environment cannot be written from here."""
        raise KeyProviderError(f"cannot retire {kek_id!r}: {_READ_ONLY_MESSAGE}")

    def kek_ids(self) -> list[str]:
        """Return the listed ids, the active one first."""
        return [kek.kek_id for kek in self._keks]


_READ_ONLY_MESSAGE = (
    "the environment key provider is read-only; rotate by putting a new "
    f"'<kek_id>:<base64 key>' entry first in {ENV_KEK}, restarting, rewrapping the data "
    "keys, then removing the old entry"
)


def _parse_kek_variable(value: str | None) -> tuple[KeyEncryptionKey, ...]:
    """Parse FEEDBACKVAULT_KEK as comma-separated '<kek_id>:<base64 key>' entries."""
    if value is None or not value.strip():
        raise KeyProviderError(
            f"{ENV_KEK} is not set; set it to '<kek_id>:<base64 of 32 random bytes>'"
        )
    keks: list[KeyEncryptionKey] = []
    for position, entry in enumerate(value.split(","), start=1):
        kek_id, separator, encoded = entry.strip().partition(":")
        try:
            if not separator:
                raise ValueError("no ':' separator")
            kek = KeyEncryptionKey(kek_id=kek_id, material=decode_key(encoded))
        except (ValueError, CryptoError):
            # The entry may be a key pasted in the wrong place, so none of it is echoed.
            raise KeyProviderError(
                f"{ENV_KEK} entry {position} is not '<kek_id>:<base64 of 32 bytes>'"
            ) from None
        if any(existing.kek_id == kek.kek_id for existing in keks):
            raise KeyProviderError(f"{ENV_KEK} lists the id {kek.kek_id!r} more than once")
        keks.append(kek)
    return tuple(keks)


def _parse_key_variable(environ: Mapping[str, str], name: str) -> bytes:
    """Parse one base64 32-byte key variable."""
    value = environ.get(name)
    if value is None or not value.strip():
        raise KeyProviderError(f"{name} is not set; set it to the base64 of 32 random bytes")
    try:
        return decode_key(value)
    except ValueError as exc:
        raise KeyProviderError(f"{name} is {exc}; it must be the base64 of 32 bytes") from None
