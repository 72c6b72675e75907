"""Shred data keys that encrypt nothing: left behind when a submission failed half-way.

Submitting a response commits the subject's data key and blind-index entries in
the key store before the data store is written. When the process dies between the
two commits (SIGKILL, power loss), the key store keeps a key and index entries for
a subject the data store never heard of: a keyed digest of an email kept for no
purpose. `feedbackvault keys gc` finds such subjects (their oldest key older than a
grace period, so submissions still in flight are left alone) and destroys their
keys and index entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from feedbackvault.domain.clock import Clock
from feedbackvault.storage.units import Stores

# Subjects checked against the data store per round trip.
GC_BATCH = 1_000
# A key younger than this may belong to a submission that has not reached the data store yet.
DEFAULT_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class OrphanReport:
    """What a collection found and destroyed: counts only."""

    subjects_checked: int
    orphans: int
    keys_destroyed: int
    lookups_destroyed: int
    dry_run: bool


class OrphanKeyCollector:
    """Find and shred key-store subjects that own nothing in the data store."""

    def __init__(self, stores: Stores, clock: Clock) -> None:
        self.stores = stores
        self.clock = clock

    def collect(
        self, grace: timedelta = DEFAULT_GRACE, *, dry_run: bool = False, actor: str = "cli"
    ) -> OrphanReport:
        """Shred every subject key older than `grace` whose subject has no data row."""
        if grace < timedelta(0):
            raise ValueError("the grace period cannot be negative")
        cutoff = self.clock.now() - grace
        checked = orphans = keys = lookups = 0
        after = ""
        while True:
            with self.stores.keys_read() as unit:
                batch = unit.keys.subjects_keyed_before(cutoff, after=after, limit=GC_BATCH)
            if not batch:
                break
            after = batch[-1]
            checked += len(batch)
            with self.stores.read() as unit:
                known = unit.consents.existing_subjects(batch)
            found = [subject_id for subject_id in batch if subject_id not in known]
            orphans += len(found)
            if found and not dry_run:
                destroyed = self._shred(found)
                keys, lookups = keys + destroyed[0], lookups + destroyed[1]
        if not dry_run:
            with self.stores.data() as unit:
                unit.audit.append(
                    at=self.clock.now(),
                    actor=actor,
                    action="keys.orphans_shredded",
                    details={"orphans": orphans, "keys": keys, "lookups": lookups},
                )
        return OrphanReport(checked, orphans, keys, lookups, dry_run)

    def _shred(self, subject_ids: list[str]) -> tuple[int, int]:
        """Destroy the keys and index entries of subjects found orphaned.

        The stores are separate databases, so one race remains: the returning
        respondent of an orphaned subject whose submission is between its key-store
        read and its data write at this very moment. Its personal fields are then
        encrypted under a destroyed key: that response's fields are lost, never exposed.
        """
        with self.stores.keys() as unit:
            return unit.shred.destroy(subject_ids)
