"""Enforce retention: erase or anonymise what has expired and shred subjects left empty.

Reads never depend on this sweep: every read path filters on `expires_at`
(storage/retention_counts.py: `response_is_live`, `response_counts`), so
expired data stops being served at the second it expires. The sweep then
removes it for good, in batches, each batch its own transaction, so it can be
interrupted and run again, and run in several processes at once.

Decisions, in one place:
- A purpose no longer in the policy gives no `on_expiry`; its expired rows
  are deleted (the safe default) and the report names the purpose.
- A consent record expires on its own clock (`consent_retention`). If it
  expires while a response given under it is still live, that response has
  lost its proof of consent and is swept with it, per its purpose's mode.
- A retention changed in the policy applies to responses stored afterwards.
  Stored responses keep the `expires_at` they were given, which is the
  retention the respondent was told; the sweep counts those a shortened
  policy would already have expired, so a privacy officer can act on them.
- A subject no response and no consent refers to any more is deleted and its
  data key and blind-index entries destroyed (crypto-shredding on expiry),
  with a KeyTombstone in the key store and an ErasureTombstone (reason
  "expiry") in the data store, so replaying erasures after a restore shreds
  it again. A batch queues the subjects it may have emptied (the shred
  queue, in its own transaction); a shredder checks and shreds them on a
  connection of its own, beside the batches on PostgreSQL (where each sweeper,
  its batches done, helps with what is left) and after each batch on SQLite.
  One held by a submission for a returning respondent, or by another
  transaction, is queued again; what an interrupted sweep leaves
  queued, the next one shreds first.
- Anonymising keeps scores, survey, touchpoint and month; it drops subject,
  consent, ciphertexts, exact time and locale, gives the row a fresh id (the
  old one is in audit entries beside the subject; the new one is random but
  for the moment of the sweep, which `anonymised_at` holds anyway) and sets
  `expires_at` to NEVER (the real one is recording time plus retention).
- The audit log gets counts per purpose, never ids of subjects or rows.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from feedbackvault.domain.clock import Clock
from feedbackvault.domain.purposes import PolicySet
from feedbackvault.storage.retention_repository import SweptBatch
from feedbackvault.storage.units import DataUnit, Stores

# Responses per batch: large enough that per-transaction costs vanish, small
# enough that a batch holds its row locks for about a second (measured: 2,000
# to 20,000 sweep at the same rate, so the middle is taken).
DEFAULT_BATCH_SIZE = 10_000
# Sweepers one process may run side by side (each holds two pooled connections at most).
MAX_SWEEP_WORKERS = 4
# Queued subjects the shredder checks and shreds per transaction.
SHRED_BATCH_SIZE = 5_000
# How long an idle shredder waits for more (each committed batch wakes it at once).
SHRED_POLL_SECONDS = 0.05
# What an expired row of a purpose missing from the policy gets: the safe choice.
UNKNOWN_PURPOSE_MODE = "delete"
# What a sweep removes, stage after stage, each until a batch finds nothing: expired
# responses to delete, then those to anonymise (both with their expired consent
# records), then live responses whose consent record expired first, then consent
# records no response refers to (withdrawn ones, and those kept longer than their
# responses). The common case is all handled in the first two, through indexes on
# expires_at and ids. Deleting first leaves room: once those deletions have committed,
# PostgreSQL prunes the dead rows from a page as the next stage reads it, and the
# anonymised version of a row fits on its own page. Anonymised first, each went to a
# different page with a gap somewhere in the table (bench_sweep.py: anonymising 5,000
# rows dirtied 5,057 pages; after the deletions 10,000 rows dirtied about 200, and the
# whole sweep ran a quarter faster).
SWEEP_STAGES = ("expired-delete", "expired-anonymise", "unconsented", "bare")
# The audit actor of the sweep (a job, not a person or token).
SWEEP_ACTOR = "retention-sweep"
ERASURE_REASON = "expiry"


@dataclass
class SweepReport:
    """What a sweep did (or, in a dry run, would do), in counts: never ids or personal data."""

    dry_run: bool
    deleted: Counter[str] = field(default_factory=Counter)
    anonymised: Counter[str] = field(default_factory=Counter)
    # Live responses swept because their consent record expired first (also counted above).
    consent_expired_responses: Counter[str] = field(default_factory=Counter)
    consents_removed: Counter[str] = field(default_factory=Counter)
    subjects_shredded: int = 0
    keys_destroyed: int = 0
    lookups_destroyed: int = 0
    unknown_purposes: set[str] = field(default_factory=set)
    # Live responses stored under a longer retention than the policy now gives.
    outliving_policy: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    seconds: float = 0.0

    def absorb(self, other: SweepReport) -> None:
        """Add the counts of another sweeper's report to this one."""
        self.deleted.update(other.deleted)
        self.anonymised.update(other.anonymised)
        self.consent_expired_responses.update(other.consent_expired_responses)
        self.consents_removed.update(other.consents_removed)
        self.subjects_shredded += other.subjects_shredded
        self.keys_destroyed += other.keys_destroyed
        self.lookups_destroyed += other.lookups_destroyed
        self.unknown_purposes |= other.unknown_purposes
        self.batches += other.batches

    @property
    def responses_handled(self) -> int:
        """Count the responses deleted or anonymised."""
        return sum(self.deleted.values()) + sum(self.anonymised.values())

    @property
    def rows_per_second(self) -> float:
        """Return the responses handled per second of the run."""
        return self.responses_handled / self.seconds if self.seconds > 0 else 0.0


class RetentionService:
    """Sweep expired responses and consents, and shred subjects left with nothing."""

    def __init__(self, stores: Stores, policies: PolicySet, clock: Clock) -> None:
        self.stores = stores
        self.policies = policies
        self.clock = clock

    def sweep(
        self, *, batch_size: int = DEFAULT_BATCH_SIZE, dry_run: bool = False, workers: int = 1
    ) -> SweepReport:
        """Erase or anonymise everything expired, batch by batch, and report counts.

        On PostgreSQL the subjects the batches empty are shredded beside them on a
        connection of its own, and `workers` sweepers take batches side by side, each
        on its own connection (the row locks with SKIP LOCKED share the work out, as
        between processes). A sweeper whose batches are done shreds too, so the last
        batches' subjects are not left to the one shredder while a core idles. Most of
        a batch is the database's work, so each keeps a core busy. SQLite runs one
        writer at a time, so there it all runs in turn.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if not 1 <= workers <= MAX_SWEEP_WORKERS:
            raise ValueError(f"workers must be from 1 to {MAX_SWEEP_WORKERS}")
        started = time.perf_counter()
        report = SweepReport(dry_run=dry_run)
        with ThreadPoolExecutor(max_workers=workers + 2, thread_name_prefix="sweep") as pool:
            # A read of live rows only, which the sweep does not touch: it runs beside it.
            outliving = pool.submit(self._outliving_policy, serial=not dry_run)
            if dry_run:
                self._preview(report)
            elif self.stores.dialect == "postgresql":
                self._sweep_side_by_side(pool, report, batch_size, workers)
            else:
                self._sweep_in_turn(report, batch_size)
            report.outliving_policy = outliving.result()
        report.seconds = time.perf_counter() - started
        return report

    def mode_of(self, purpose_id: str) -> str:
        """Return what happens to an expired response of this purpose."""
        purpose = self.policies.get(purpose_id)
        return purpose.on_expiry if purpose is not None else UNKNOWN_PURPOSE_MODE

    def _sweep_in_turn(self, report: SweepReport, batch_size: int) -> None:
        """Shred what an earlier sweep left queued, then after each batch what it queued."""
        self._shred_queue(report)
        self._run_stages(report, batch_size, after_batch=lambda: self._shred_queue(report))

    def _sweep_side_by_side(
        self, pool: ThreadPoolExecutor, report: SweepReport, batch_size: int, workers: int
    ) -> None:
        done, woken = threading.Event(), threading.Event()
        shredding = SweepReport(dry_run=False)
        shredder = pool.submit(self._shred_until_done, shredding, done, woken)
        parts = [SweepReport(dry_run=False) for _ in range(workers)]
        try:
            running = [
                pool.submit(self._sweep_then_shred, part, batch_size, woken) for part in parts
            ]
            for sweeper in running:
                sweeper.result()  # re-raises a sweeper's failure here
        finally:
            done.set()
            woken.set()
        shredder.result()
        for part in (*parts, shredding):
            report.absorb(part)

    def _sweep_then_shred(
        self, report: SweepReport, batch_size: int, woken: threading.Event
    ) -> None:
        """Run the stages, waking the shredder after each batch, then help it with the queue."""
        self._run_stages(report, batch_size, after_batch=woken.set)
        # The last batches' subjects: the shredder is often still busy with those of the
        # batch before (bench_sweep.py at 1,000,000 responses: ~220 ms per 5,000, a
        # ninth of the sweep, with the sweeper's core idle). Taking them in smaller
        # parts to share them out cost more per part than it saved.
        self._shred_queue(report)

    def _run_stages(
        self, report: SweepReport, batch_size: int, after_batch: Callable[[], object]
    ) -> None:
        """Run the stages in order, each until a batch finds nothing (SWEEP_STAGES)."""
        for stage in SWEEP_STAGES:
            while self._one_batch(report, batch_size, stage):
                after_batch()

    def _shred_until_done(
        self, report: SweepReport, done: threading.Event, woken: threading.Event
    ) -> None:
        """Shred queued subjects as batches queue them, until the sweepers are done.

        A subject two sweepers' batches shared is queued by both; checked after the
        first commit it still has the other's rows and is dropped, checked after the
        second it is empty. So whichever commits last has it shredded.
        """
        while True:
            # Read before the pass: once set, every batch has committed its queue entries.
            finished = done.is_set()
            taken, requeued = self._shred_batch(report)
            if taken > requeued:
                continue
            if finished:
                return  # what is left is held elsewhere; the next sweep takes it
            woken.wait(SHRED_POLL_SECONDS)
            woken.clear()

    def _shred_queue(self, report: SweepReport) -> None:
        """Shred queued subjects until only those held by other transactions are left."""
        while True:
            taken, requeued = self._shred_batch(report)
            if taken == requeued:
                return

    def _shred_batch(self, report: SweepReport) -> tuple[int, int]:
        """Check and shred a batch of queued subjects; return how many were taken and requeued."""
        with self.stores.data() as unit:
            queued = unit.retention.take_queued(SHRED_BATCH_SIZE)
            if not queued:
                return 0, 0
            shredded = self._shred(unit, queued, report)
            held = [subject_id for subject_id in queued if subject_id not in shredded]
            requeued = unit.retention.requeue_held(held, self.clock.now()) if held else 0
        return len(queued), requeued

    def _one_batch(self, report: SweepReport, batch_size: int, stage: str) -> int:
        """Sweep a batch in its own transaction; return the rows it removed."""
        with self.stores.data() as unit:
            now = self.clock.now()
            batch = self._take(unit, stage, now, batch_size)
            via_consent = batch.deleted + batch.anonymised if stage == "unconsented" else Counter()
            unknown = sorted(
                p for p in {*batch.deleted, *batch.consents_removed} if self.policies.get(p) is None
            )
            if batch.handled:
                unit.audit.append(
                    at=now,
                    actor=SWEEP_ACTOR,
                    action="retention.swept",
                    details={
                        "deleted": dict(sorted(batch.deleted.items())),
                        "anonymised": dict(sorted(batch.anonymised.items())),
                        "consent_expired_responses": dict(sorted(via_consent.items())),
                        "consents_removed": dict(sorted(batch.consents_removed.items())),
                        "unknown_purposes": unknown,
                    },
                )
                report.batches += 1
        report.deleted.update(batch.deleted)
        report.anonymised.update(batch.anonymised)
        report.consent_expired_responses.update(via_consent)
        report.consents_removed.update(batch.consents_removed)
        report.unknown_purposes.update(unknown)
        return batch.handled

    def _take(self, unit: DataUnit, stage: str, now: datetime, batch_size: int) -> SweptBatch:
        """Remove one batch of what a stage sweeps."""
        if stage == "bare":
            return unit.retention.sweep_bare_consents(now, batch_size)
        # Every other purpose, those gone from the policy included, is deleted.
        anonymise = [purpose.id for purpose in self.policies if purpose.on_expiry == "anonymise"]
        if stage == "unconsented":
            return unit.retention.sweep_unconsented_responses(now, batch_size, anonymise)
        return unit.retention.sweep_expired_responses(
            now, batch_size, anonymise, anonymising=stage == "expired-anonymise"
        )

    def _shred(self, unit: DataUnit, candidates: list[str], report: SweepReport) -> set[str]:
        """Delete and crypto-shred those candidate subjects that have nothing left."""
        now = self.clock.now()
        subject_ids = unit.retention.delete_emptied_subjects(candidates, now, ERASURE_REASON)
        if not subject_ids:
            return set()
        # The keys commit first: should the data transaction then fail, the
        # subject rows stay (keyless) and are found again; never the reverse,
        # a deleted subject whose keys survive.
        with self.stores.keys() as key_unit:
            keys, lookups = key_unit.shred.shred(subject_ids, now)
        unit.audit.append(
            at=now,
            actor=SWEEP_ACTOR,
            action="retention.shredded",
            details={
                "subjects_shredded": len(subject_ids),
                "keys_destroyed": keys,
                "lookups_destroyed": lookups,
            },
        )
        report.subjects_shredded += len(subject_ids)
        report.keys_destroyed += keys
        report.lookups_destroyed += lookups
        return set(subject_ids)

    def _preview(self, report: SweepReport) -> None:
        with self.stores.read() as unit:
            now = self.clock.now()
            expired = unit.retention.count_expired_responses(now)
            via_consent = unit.retention.count_live_responses_under_expired_consents(now)
            consents = unit.retention.count_expired_consents(now)
            subjects = unit.retention.count_subjects_left_empty(now)
        for purpose, count in (Counter(expired) + Counter(via_consent)).items():
            target = report.deleted if self.mode_of(purpose) == "delete" else report.anonymised
            target[purpose] += count
        report.consent_expired_responses.update(via_consent)
        report.consents_removed.update(consents)
        report.subjects_shredded = subjects
        report.unknown_purposes.update(
            p for p in {*expired, *via_consent, *consents} if self.policies.get(p) is None
        )

    def _outliving_policy(self, *, serial: bool) -> dict[str, int]:
        retentions = {
            purpose.id: (
                purpose.retention.total_months,
                purpose.retention.clock_part.total_seconds(),
            )
            for purpose in self.policies
        }
        with self.stores.read() as unit:
            return unit.retention.count_outliving(retentions, self.clock.now(), serial=serial)


def summary_lines(report: SweepReport, policies: PolicySet) -> list[str]:
    """Describe a sweep report in plain lines for the command line."""
    verb = "would be" if report.dry_run else "were"
    lines: list[str] = []
    purposes = sorted({*report.deleted, *report.anonymised, *report.consents_removed})
    for purpose in purposes:
        lines.append(
            f"{purpose}: {report.deleted[purpose]} deleted, {report.anonymised[purpose]} "
            f"anonymised ({report.consent_expired_responses[purpose]} of them because the "
            f"consent expired first), {report.consents_removed[purpose]} consent records removed"
        )
    if not purposes:
        lines.append("nothing has expired")
    lines.append(f"subjects left with nothing {verb} shredded: {report.subjects_shredded}")
    for purpose in sorted(report.unknown_purposes):
        lines.append(
            f"note: purpose {purpose!r} is no longer in the policy; its rows {verb} deleted"
        )
    for purpose, count in sorted(report.outliving_policy.items()):
        current = policies.get(purpose)
        retention = current.retention.text if current else "?"
        lines.append(
            f"note: {count} live {purpose} responses keep the longer retention they were "
            f"stored with; the policy now says {retention} for new responses. They expire "
            "as promised at collection; erase them on request if that is too long."
        )
    if not report.dry_run:
        lines.append(
            f"{report.responses_handled} responses in {report.seconds:.2f}s "
            f"({report.rows_per_second:,.0f} rows/s, {report.batches} batches)"
        )
    return lines
