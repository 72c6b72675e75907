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
    grace: timedelta = DEFAULT_GRACE
    # A dry run's count of what the orphans own: what a real run would destroy.
    keys_found: int = 0
    lookups_found: int = 0
    # Subjects (and their keys) keyed within the grace period: not checked, left alone.
    young_subjects: int = 0
    young_keys: int = 0


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
        checked = orphans = keys = lookups = keys_found = lookups_found = 0
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
                # A privacy-centre contact's key encrypts its address, not a subject's data.
                known |= unit.privacy_centre.existing_contacts(batch)
            found = [subject_id for subject_id in batch if subject_id not in known]
            orphans += len(found)
            if found and dry_run:
                with self.stores.keys_read() as unit:
                    owned = unit.keys.count_keys_and_lookups(found)
                keys_found, lookups_found = keys_found + owned[0], lookups_found + owned[1]
            elif found:
                destroyed = self._shred(found)
                keys, lookups = keys + destroyed[0], lookups + destroyed[1]
        with self.stores.keys_read() as unit:
            young_subjects, young_keys = unit.keys.count_keyed_since(cutoff)
        if not dry_run:
            with self.stores.data() as unit:
                unit.audit.append(
                    at=self.clock.now(),
                    actor=actor,
                    action="keys.orphans_shredded",
                    details={"orphans": orphans, "keys": keys, "lookups": lookups},
                )
        return OrphanReport(
            checked,
            orphans,
            keys,
            lookups,
            dry_run,
            grace=grace,
            keys_found=keys_found,
            lookups_found=lookups_found,
            young_subjects=young_subjects,
            young_keys=young_keys,
        )

    def _shred(self, subject_ids: list[str]) -> tuple[int, int]:
        """Destroy the keys and index entries of subjects found orphaned.

        The stores are separate databases, so one race remains: the returning
        respondent of an orphaned subject whose submission is between its key-store
        read and its data write at this very moment. Its personal fields are then
        encrypted under a destroyed key: that response's fields are lost, never exposed.
        """
        with self.stores.keys() as unit:
            return unit.shred.destroy(subject_ids)


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def describe_grace(grace: timedelta) -> str:
    """Say a grace period in whole minutes, as `--grace-minutes` takes it."""
    return _plural(int(grace.total_seconds() // 60), "minute")


def summary_line(report: OrphanReport) -> str:
    """Describe a collection for the command line, in the conditional for a dry run."""
    grace = describe_grace(report.grace)
    owns = "owns" if report.orphans == 1 else "own"
    checked = (
        f"{report.orphans:,} of {_plural(report.subjects_checked, 'keyed subject')} older "
        f"than the grace period ({grace}) {owns} no data"
    )
    if report.dry_run:
        would = (
            f"a real run would destroy {_plural(report.keys_found, 'key')} and "
            f"{_plural(report.lookups_found, 'index entry', 'index entries')}"
            if report.orphans
            else "a real run would destroy nothing"
        )
        line = f"keys gc (dry run, nothing destroyed): {checked}: {would}."
        if report.young_keys:
            line += (
                f" {_plural(report.young_keys, 'key')} of "
                f"{_plural(report.young_subjects, 'subject')} "
                f"{'is' if report.young_keys == 1 else 'are'} younger than {grace} and would be "
                "left alone, since a submission may still be writing their data; run again "
                f"after {grace} (or with a shorter --grace-minutes) to check them."
            )
        return line
    line = (
        f"keys gc: {checked}; destroyed {report.keys_destroyed} keys and "
        f"{report.lookups_destroyed} index entries."
    )
    if report.young_keys:
        line += (
            f" Left alone: {_plural(report.young_keys, 'key')} of "
            f"{_plural(report.young_subjects, 'subject')} younger than {grace}."
        )
    return line
