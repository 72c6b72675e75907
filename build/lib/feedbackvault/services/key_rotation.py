"""Rotate the key-encryption key: rewrap every data key, then retire the old KEKs."""

from __future__ import annotations

from dataclasses import dataclass

from feedbackvault.crypto.envelope import unwrap_dek, wrap_dek
from feedbackvault.crypto.keys import KeyProvider
from feedbackvault.domain.clock import Clock
from feedbackvault.storage.units import Stores


@dataclass(frozen=True)
class Rotation:
    """What a rotation did."""

    new_kek_id: str
    keys_rewrapped: int
    retired_kek_ids: tuple[str, ...]


class KeyRotationService:
    """Replace the KEK without making any stored field unreadable."""

    def __init__(self, stores: Stores, provider: KeyProvider, clock: Clock) -> None:
        self.stores = stores
        self.provider = provider
        self.clock = clock

    def rotate(self, actor: str = "cli") -> Rotation:
        """Create a new active KEK, rewrap every data key under it and retire the rest."""
        new = self.provider.create_kek()
        rewrapped = 0
        with self.stores.keys() as unit:
            for batch in unit.keys.batches_under_other_keks(new.kek_id):
                for key in batch:
                    old = self.provider.kek(key.kek_id)
                    dek = unwrap_dek(
                        old, key.wrapped_dek, subject_id=key.subject_id, dek_version=key.dek_version
                    )
                    wrapped = wrap_dek(
                        new, dek, subject_id=key.subject_id, dek_version=key.dek_version
                    )
                    unit.keys.rewrap(key, new.kek_id, wrapped)
                rewrapped += len(batch)
            in_use = unit.keys.kek_ids_in_use()
        # Only after the rewrap has committed may the old KEKs go: a crash
        # before this line leaves them in place, and the next rotation retires them.
        retired = tuple(k for k in self.provider.kek_ids() if k != new.kek_id and k not in in_use)
        for kek_id in retired:
            self.provider.retire_kek(kek_id)
        with self.stores.data() as unit:
            unit.audit.append(
                at=self.clock.now(),
                actor=actor,
                action="keys.rotated",
                details={
                    "new_kek_id": new.kek_id,
                    "keys_rewrapped": rewrapped,
                    "retired_kek_ids": list(retired),
                },
            )
        return Rotation(new.kek_id, rewrapped, retired)
