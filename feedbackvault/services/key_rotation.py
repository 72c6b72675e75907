"""Run the KEK lifecycle as a cloud KMS does: rotate (retire), destroy after the grace."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from feedbackvault.crypto.envelope import unwrap_dek, wrap_dek
from feedbackvault.crypto.keys import ACTIVE, DESTROYED, RETIRED, KekVersion, KeyProvider
from feedbackvault.domain.clock import Clock, isoformat_z
from feedbackvault.domain.durations import IsoDuration, add_duration
from feedbackvault.storage.units import Stores


@dataclass(frozen=True)
class Rotation:
    """What a rotation did."""

    new_kek_id: str
    keys_rewrapped: int
    retired_kek_ids: tuple[str, ...]
    # False when the provider cannot create keys (the environment's): the data keys
    # were rewrapped under the active key the operator listed first.
    created: bool = True


@dataclass
class Destruction:
    """What `keys destroy-retired` did and left, by KEK id."""

    destroyed: list[str] = field(default_factory=list)
    # Retired, grace not yet over: the id and the moment it may go.
    waiting: list[tuple[str, datetime]] = field(default_factory=list)
    # Past grace but still wrapping data keys (a rotation did not finish): rotate first.
    in_use: list[str] = field(default_factory=list)
    # Retired with no known retirement date: the grace cannot be counted.
    undated: list[str] = field(default_factory=list)
    # Past grace, but only the operator can destroy them (the environment provider).
    to_remove: list[str] = field(default_factory=list)


class KeyRotationService:
    """Rotate, list and destroy key-encryption keys without making a stored field unreadable."""

    def __init__(
        self,
        stores: Stores,
        provider: KeyProvider,
        clock: Clock,
        *,
        grace: IsoDuration,
        rotation: IsoDuration,
    ) -> None:
        self.stores = stores
        self.provider = provider
        self.clock = clock
        self.grace = grace
        self.rotation = rotation

    def versions(self) -> list[KekVersion]:
        """Describe every KEK: id, state and dates."""
        return self.provider.kek_versions()

    def rotate(self, actor: str = "cli") -> Rotation:
        """Create a new active KEK, retire the old one and rewrap every data key under the new.

        The old KEK is retired, not destroyed: a key-store backup from before the
        rotation still opens until `destroy_retired` runs after the grace period.
        With a read-only provider the data keys are rewrapped under its active key.
        """
        rotation = self._rotate(actor, only_when_due=False)
        assert rotation is not None, "an unconditional rotation always rotates"
        return rotation

    def rotate_when_due(self, actor: str = "maintain") -> Rotation | None:
        """Rotate when FEEDBACKVAULT_KEK_ROTATION has passed since the last rotation, else None.

        Asked again under the key store's lifecycle lock, so of two runs at once only
        the first rotates. A read-only provider is rotated by its operator (a new key
        listed first): then this rewraps the data keys still under an older one.
        """
        if not self.provider.writable:
            active = self.provider.active_kek().kek_id
            with self.stores.keys_read() as unit:
                older = unit.keys.kek_ids_in_use() - {active}
            return self._rotate(actor, only_when_due=False) if older else None
        if not self.rotation_due():
            return None
        return self._rotate(actor, only_when_due=True)

    def _rotate(self, actor: str, *, only_when_due: bool) -> Rotation | None:
        now = self.clock.now()
        with self.stores.keys() as unit:
            # One rotation or destruction at a time, whichever process runs it.
            unit.keys.lock_kek_lifecycle()
            if only_when_due and not self.rotation_due():
                return None
            versions = self.provider.kek_versions()
            before = {v.kek_id for v in versions if v.state == ACTIVE}
            held = {v.kek_id for v in versions if v.state != DESTROYED}
            created = self.provider.writable
            new = self.provider.create_kek(now) if created else self.provider.active_kek()
            # Keys under a KEK no longer held (a key store restored from too long ago)
            # open nowhere; they stay as they are and `/readyz` reports them.
            lost = unit.keys.kek_ids_in_use() - held - {new.kek_id}
            keks = {new.kek_id: new}
            rewrapped = 0
            for batch in unit.keys.batches_under_other_keks({new.kek_id, *lost}):
                for key in batch:
                    old = keks.get(key.kek_id) or keks.setdefault(
                        key.kek_id, self.provider.kek(key.kek_id)
                    )
                    dek = unwrap_dek(
                        old, key.wrapped_dek, subject_id=key.subject_id, dek_version=key.dek_version
                    )
                    wrapped = wrap_dek(
                        new, dek, subject_id=key.subject_id, dek_version=key.dek_version
                    )
                    unit.keys.rewrap(key, new.kek_id, wrapped)
                rewrapped += len(batch)
        retired = tuple(sorted(before - {new.kek_id})) if created else ()
        with self.stores.data() as data:
            data.audit.append(
                at=now,
                actor=actor,
                action="keys.rotated",
                details={
                    "new_kek_id": new.kek_id,
                    "keys_rewrapped": rewrapped,
                    "retired_kek_ids": list(retired),
                },
            )
        return Rotation(new.kek_id, rewrapped, retired, created)

    def last_rotation(self) -> datetime | None:
        """Return when the active KEK became active, if the provider knows."""
        active = next(v for v in self.provider.kek_versions() if v.state == ACTIVE)
        return active.created_at

    def missing_keks(self) -> set[str]:
        """Name the KEKs that wrap stored data keys but are no longer held (a restore too old)."""
        held = {v.kek_id for v in self.provider.kek_versions() if v.state != DESTROYED}
        with self.stores.keys_read() as unit:
            return unit.keys.kek_ids_in_use() - held

    def rotation_due(self) -> bool:
        """Tell whether FEEDBACKVAULT_KEK_ROTATION has passed since the last rotation."""
        last = self.last_rotation()
        return last is None or add_duration(last, self.rotation) <= self.clock.now()

    def final_by(self) -> datetime:
        """Return when a key shredded now is unreadable everywhere: next rotation plus grace.

        A copy of the wrapped key left in the key store's log or backups is wrapped under
        the active KEK (or an older one, destroyed sooner); the active KEK is retired at
        its scheduled rotation and destroyed a grace period later. A rotation already
        overdue counts from now.
        """
        now = self.clock.now()
        last = self.last_rotation()
        scheduled = now if last is None else max(add_duration(last, self.rotation), now)
        return add_duration(scheduled, self.grace)

    def destroy_retired(self, actor: str = "cli") -> Destruction:
        """Destroy every retired KEK whose grace has passed and that wraps no data key."""
        now = self.clock.now()
        report = Destruction()
        with self.stores.keys() as unit:
            unit.keys.lock_kek_lifecycle()
            in_use = unit.keys.kek_ids_in_use()
            for version in self.provider.kek_versions():
                if version.state != RETIRED:
                    continue
                if version.retired_at is None:
                    report.undated.append(version.kek_id)
                    continue
                ends = add_duration(version.retired_at, self.grace)
                if ends > now:
                    report.waiting.append((version.kek_id, ends))
                elif version.kek_id in in_use:
                    report.in_use.append(version.kek_id)
                elif not self.provider.writable:
                    report.to_remove.append(version.kek_id)
                else:
                    self.provider.destroy_kek(version.kek_id, now)
                    report.destroyed.append(version.kek_id)
        if report.destroyed:
            with self.stores.data() as unit:
                unit.audit.append(
                    at=now,
                    actor=actor,
                    action="keys.destroyed",
                    details={"destroyed_kek_ids": report.destroyed},
                )
        return report


def describe(version: KekVersion) -> str:
    """Write one line of `keys list`: id, state and its dates (`unknown` where not known)."""
    dates = [("created", version.created_at)]
    if version.state != ACTIVE:
        dates.append(("retired", version.retired_at))
    if version.state == DESTROYED:
        dates.append(("destroyed", version.destroyed_at))
    shown = [f"{label}={isoformat_z(at) if at else 'unknown'}" for label, at in dates]
    return " ".join([version.kek_id, version.state, *shown])


def rotation_line(rotation: Rotation) -> str:
    """Say what a rotation did, in one line."""
    if not rotation.created:
        return (
            f"rewrapped {rotation.keys_rewrapped} data keys under {rotation.new_kek_id} "
            "(the environment provider creates no key: list a new one first in "
            "FEEDBACKVAULT_KEK to rotate)"
        )
    return (
        f"rotated to {rotation.new_kek_id}: {rotation.keys_rewrapped} data keys rewrapped, "
        f"retired {', '.join(rotation.retired_kek_ids) or 'none'}"
    )


def destruction_lines(report: Destruction) -> list[str]:
    """Say what destroying retired KEKs did and why it left the others."""
    lines = [f"destroyed {kek_id}" for kek_id in report.destroyed]
    lines += [f"kept {kek_id}: grace ends {isoformat_z(ends)}" for kek_id, ends in report.waiting]
    lines += [
        f"kept {kek_id}: grace over but it still wraps data keys; run `keys rotate`"
        for kek_id in report.in_use
    ]
    lines += [
        f"kept {kek_id}: retirement date unknown; date it (file provider: "
        f"keys/{kek_id}.retired, environment: '@<date>' on its entry)"
        for kek_id in report.undated
    ]
    lines += [
        f"grace over for {kek_id}: remove its entry from FEEDBACKVAULT_KEK and the secret "
        "store it came from (the environment provider cannot destroy it)"
        for kek_id in report.to_remove
    ]
    return lines or ["no retired key-encryption keys"]
