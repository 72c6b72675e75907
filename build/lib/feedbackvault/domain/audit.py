"""Compute and check the hash chain of the audit log (pure, no I/O)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditRecord:
    """One audit entry as stored; `details` is canonical JSON without personal data."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject_ref: str | None
    request_id: str | None
    details: str
    prev_hash: str
    hash: str


def canonical_details(details: Mapping[str, object]) -> str:
    """Serialise audit details deterministically."""
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(record: AuditRecord) -> str:
    """Hash one entry together with the hash of the entry before it."""
    body = json.dumps(
        [
            record.prev_hash,
            record.seq,
            record.at.isoformat(),
            record.actor,
            record.action,
            record.subject_ref,
            record.request_id,
            record.details,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of checking the chain: intact, or the first broken entry and why."""

    entries: int
    broken_seq: int | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        """Tell whether every link held."""
        return self.broken_seq is None


def check_chain(records: Iterable[AuditRecord], head_seq: int, head_hash: str) -> ChainCheck:
    """Walk the chain in order and report the first entry that is altered or missing."""
    expected_seq, expected_prev, count = 1, GENESIS_HASH, 0
    for record in records:
        if record.seq != expected_seq:
            return ChainCheck(count, expected_seq, "entry is missing")
        if record.prev_hash != expected_prev:
            return ChainCheck(count, record.seq, "does not link to the entry before it")
        if record_hash(record) != record.hash:
            return ChainCheck(count, record.seq, "content does not match its hash")
        expected_seq, expected_prev, count = record.seq + 1, record.hash, count + 1
    if head_seq != expected_seq - 1:
        return ChainCheck(count, expected_seq, "entry is missing (the chain head is further on)")
    if head_hash != expected_prev:
        return ChainCheck(count, head_seq, "does not match the chain head")
    return ChainCheck(count)
