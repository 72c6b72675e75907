"""Read keys from environment variables (a read-only key provider for deployments)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from feedbackvault.crypto.errors import CryptoError, KeyNotFound, KeyProviderError
from feedbackvault.crypto.keys import (
    ACTIVE,
    REDACTED,
    RETIRED,
    KekVersion,
    KeyEncryptionKey,
    decode_key,
    kek_created_at,
    signing_key_from_seed,
)

ENV_KEK = "FEEDBACKVAULT_KEK"
ENV_BLIND_INDEX_KEY = "FEEDBACKVAULT_BLIND_INDEX_KEY"
ENV_RECEIPT_SIGNING_KEY = "FEEDBACKVAULT_RECEIPT_SIGNING_KEY"
ENV_AUDIT_ANCHOR_KEY = "FEEDBACKVAULT_AUDIT_ANCHOR_KEY"


class EnvKeyProvider:
    """Read keys from environment variables; rotation and destruction are done by editing them.

    FEEDBACKVAULT_KEK lists the active key first, then the retired ones, each entry
    optionally dated: `<id>:<key>@<ISO 8601>`, the moment the active key became
    active or a retired one was retired (schedules and grace count from it). The service cannot
    destroy a key it reads from the environment: destroying one means removing its
    entry here and from the secret store it came from.
    """

    writable = False

    def __init__(self, environ: Mapping[str, str]) -> None:
        """Parse the key variables, naming any bad variable but never its value."""
        self._environ = environ
        self._keks, self._dated = _parse_kek_variable(environ.get(ENV_KEK))
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

    def create_kek(self, now: datetime) -> KeyEncryptionKey:
        """Refuse, because the environment cannot be written from here."""
        raise KeyProviderError(_READ_ONLY_MESSAGE)

    def destroy_kek(self, kek_id: str, now: datetime) -> None:
        """Refuse, naming what the operator must remove instead."""
        raise KeyProviderError(
            f"cannot destroy {kek_id!r} from here: remove its entry from {ENV_KEK} "
            "and from the secret store it came from, then restart"
        )

    def kek_versions(self) -> list[KekVersion]:
        """Describe the listed keys: the first active, the rest retired."""
        first, *rest = self._keks
        since = self._dated.get(first.kek_id) or kek_created_at(first.kek_id)
        return [KekVersion(first.kek_id, ACTIVE, since)] + [
            KekVersion(k.kek_id, RETIRED, kek_created_at(k.kek_id), self._dated.get(k.kek_id))
            for k in rest
        ]

    def anchor_signing_key(self) -> Ed25519PrivateKey:
        """Return the key from FEEDBACKVAULT_AUDIT_ANCHOR_KEY (read when first asked for)."""
        return signing_key_from_seed(_parse_key_variable(self._environ, ENV_AUDIT_ANCHOR_KEY))

    def kek_ids(self) -> list[str]:
        """Return the listed ids, the active one first."""
        return [kek.kek_id for kek in self._keks]


_READ_ONLY_MESSAGE = (
    "the environment key provider is read-only; rotate by putting a new "
    f"'<kek_id>:<base64 key>@<now>' entry first in {ENV_KEK} (the old one after it, "
    "dated '@<now>' too), restarting, then running `feedbackvault keys rotate` to rewrap "
    "the data keys"
)


def _parse_kek_variable(
    value: str | None,
) -> tuple[tuple[KeyEncryptionKey, ...], dict[str, datetime]]:
    """Parse FEEDBACKVAULT_KEK as comma-separated '<kek_id>:<base64 key>[@<date>]' entries."""
    if value is None or not value.strip():
        raise KeyProviderError(
            f"{ENV_KEK} is not set; set it to '<kek_id>:<base64 of 32 random bytes>'"
        )
    keks: list[KeyEncryptionKey] = []
    retired_at: dict[str, datetime] = {}
    for position, entry in enumerate(value.split(","), start=1):
        kek_id, separator, encoded = entry.strip().partition(":")
        encoded, dated, date = encoded.partition("@")
        try:
            if not separator:
                raise ValueError("no ':' separator")
            kek = KeyEncryptionKey(kek_id=kek_id, material=decode_key(encoded))
            if dated:
                retired_at[kek_id] = _utc(datetime.fromisoformat(date.strip()))
        except (ValueError, CryptoError):
            # The entry may be a key pasted in the wrong place, so none of it is echoed.
            raise KeyProviderError(
                f"{ENV_KEK} entry {position} is not "
                "'<kek_id>:<base64 of 32 bytes>[@<ISO 8601 date with offset>]'"
            ) from None
        if any(existing.kek_id == kek.kek_id for existing in keks):
            raise KeyProviderError(f"{ENV_KEK} lists the id {kek.kek_id!r} more than once")
        keks.append(kek)
    return tuple(keks), retired_at


def _utc(moment: datetime) -> datetime:
    """Insist on a date with an offset (a retirement date without one is ambiguous)."""
    if moment.utcoffset() is None:
        raise ValueError("no UTC offset")
    return moment


def _parse_key_variable(environ: Mapping[str, str], name: str) -> bytes:
    """Parse one base64 32-byte key variable."""
    value = environ.get(name)
    if value is None or not value.strip():
        raise KeyProviderError(f"{name} is not set; set it to the base64 of 32 random bytes")
    try:
        return decode_key(value)
    except ValueError as exc:
        raise KeyProviderError(f"{name} is {exc}; it must be the base64 of 32 bytes") from None
