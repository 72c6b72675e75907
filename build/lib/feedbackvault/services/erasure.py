"""Erase subjects (GDPR Art. 17) across both stores, and re-apply erasures after a restore."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from feedbackvault.domain.clock import Clock, isoformat_z
from feedbackvault.domain.purposes import PolicySet
from feedbackvault.services.privacy_requests import RequestState, close_pipelined, fulfillable
from feedbackvault.services.subject_keys import SubjectKeys
from feedbackvault.services.subject_lookup import FoundSubjects
from feedbackvault.storage.units import DataUnit, Stores

# Subjects erased per statement when replaying many tombstones (bounded IN lists).
BATCH_SIZE = 500


@dataclass(frozen=True)
class ReplayReport:
    """What `erasures replay` found and re-applied."""

    tombstones: int
    responses_erased: int
    consents_erased: int
    keys_destroyed: int
    lookups_destroyed: int


class ErasureService:
    """Destroy a subject's data, keys and index entries, leaving only a tombstone."""

    def __init__(
        self, stores: Stores, policies: PolicySet, subject_keys: SubjectKeys, clock: Clock
    ) -> None:
        self.stores = stores
        self.policies = policies
        self.subject_keys = subject_keys
        self.clock = clock

    def erase(
        self, request_id: str, found: FoundSubjects, actor: str
    ) -> tuple[RequestState, dict[str, Any]]:
        """Erase the `found` subjects of a verified request; return its state and certificate.

        The data store goes first, in one transaction: the request is locked,
        tombstones written, responses anonymised (purposes with `on_expiry:
        anonymise`) or deleted, consents and subject rows deleted, the request
        completed and audited. On PostgreSQL that is three round trips: the lock
        and the erasure together, the audit entry (whose hash the certificate
        gives), then the completion with the COMMIT. The key store follows in its
        own transaction: tombstones, then keys and index entries shredded. A crash
        between the two leaves no readable data (the ciphertext is gone) and
        tombstones that `erasures replay`, or fulfilling the request again, use
        to finish the shredding.
        """
        now = self.clock.now().replace(microsecond=0)
        with self.stores.pipelined_data() as unit:
            locked = unit.requests.lock(request_id)
            erased = unit.erasure.erase(found.ids, self._anonymised_purposes(), now, "erasure")
            # Not verified (any more): the erasure is rolled back with the transaction.
            row = fulfillable(locked())
            deleted, anonymised, consents = erased()
            details = {
                "responses_erased": deleted + anonymised,
                "responses_deleted": deleted,
                "responses_anonymised": anonymised,
                "consents_erased": consents,
                "keys_destroyed": found.key_versions,
            }
            entry = close_pipelined(
                unit, row, at=now, actor=actor, subject_refs=found.ids, details=details
            )()
            certificate = {
                "request_id": row.id,
                "subject_ref": ",".join(found.ids) or None,
                "responses_erased": deleted + anonymised,
                "consents_erased": consents,
                "keys_destroyed": found.key_versions,
                "completed_at": isoformat_z(now),
                "audit_hash": entry.hash,
            }
            row.result = json.dumps(certificate)
            unit.requests.complete(row)
        state = RequestState.of(row, self.clock.now())
        self.shred(found.ids)
        return state, certificate

    def shred(self, subject_ids: Sequence[str]) -> tuple[int, int]:
        """Tombstone and shred the subjects' keys and index entries; return (keys, lookups)."""
        now = self.clock.now().replace(microsecond=0)
        with self.stores.pipelined_keys() as unit:
            return unit.keys.shred(subject_ids, now)

    def replay(self, actor: str) -> ReplayReport:
        """Make both stores agree that every tombstoned subject is erased (idempotent)."""
        with self.stores.read() as unit:
            data_ids = set(unit.subject_data.tombstone_ids())
        with self.stores.keys() as keys:
            key_ids = set(keys.key_erasures.tombstone_ids())
        subject_ids = sorted(data_ids | key_ids)
        responses = consents = 0
        with self.stores.data() as unit:
            for batch in _batches(subject_ids):
                deleted, anonymised, erased = self._erase_data(unit, batch, "replay")
                responses, consents = responses + deleted + anonymised, consents + erased
        keys_destroyed, lookups = self.shred(subject_ids)
        report = ReplayReport(len(subject_ids), responses, consents, keys_destroyed, lookups)
        if responses or consents or keys_destroyed or lookups:
            with self.stores.data() as unit:
                unit.audit.append(
                    at=self.clock.now(),
                    actor=actor,
                    action="erasures.replayed",
                    details={
                        "tombstones": report.tombstones,
                        "responses_erased": responses,
                        "consents_erased": consents,
                        "keys_destroyed": keys_destroyed,
                        "lookups_destroyed": lookups,
                    },
                )
        return report

    def _erase_data(
        self, unit: DataUnit, subject_ids: Sequence[str], reason: str
    ) -> tuple[int, int, int]:
        now = self.clock.now().replace(microsecond=0)
        return unit.erasure.erase(subject_ids, self._anonymised_purposes(), now, reason)()

    def _anonymised_purposes(self) -> list[str]:
        return [p.id for p in self.policies if p.on_expiry == "anonymise"]


def _batches(subject_ids: Sequence[str]) -> Iterator[Sequence[str]]:
    """Split subject ids into batches that keep each statement's IN list short."""
    for start in range(0, len(subject_ids), BATCH_SIZE):
        yield subject_ids[start : start + BATCH_SIZE]
