"""Compute and check the hash chain of the audit log (pure, no I/O)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

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
class Anchor:
    """A chain entry known from outside the service: a signed head, or a certificate's hash."""

    hash: str
    # None when only the hash is known (an erasure certificate's `audit_hash`).
    seq: int | None = None

    def __str__(self) -> str:
        """Name the anchor in a message."""
        where = "any entry" if self.seq is None else f"entry {self.seq}"
        return f"anchor {self.hash} ({where})"


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of checking the chain: intact, or the first broken entry and why."""

    entries: int
    broken_seq: int | None = None
    reason: str | None = None
    # The first anchor the chain no longer holds (a rollback, a truncated tail, a restore).
    missing_anchor: Anchor | None = None

    @property
    def intact(self) -> bool:
        """Tell whether every link held and every anchor was found."""
        return self.broken_seq is None and self.missing_anchor is None


def check_chain(
    records: Iterable[AuditRecord],
    head_seq: int,
    head_hash: str,
    anchors: Collection[Anchor] = (),
) -> ChainCheck:
    """Walk the chain in order; report the first entry altered or missing, then any lost anchor."""
    genesis = Anchor(GENESIS_HASH, 0)
    found: set[Anchor] = {a for a in anchors if a == genesis}
    check = check_head(check_stretch(_finding(records, anchors, found)), head_seq, head_hash)
    if not check.intact:
        return check
    for anchor in anchors:
        if anchor not in found:
            return ChainCheck(check.entries, missing_anchor=anchor)
    return check


def _finding(
    records: Iterable[AuditRecord], anchors: Collection[Anchor], found: set[Anchor]
) -> Iterable[AuditRecord]:
    """Pass the records on, adding to `found` each anchor one of them matches."""
    by_seq = {a.seq: a for a in anchors if a.seq is not None}
    by_hash = {a.hash: a for a in anchors if a.seq is None}
    for record in records:
        anchor = by_seq.get(record.seq)
        if anchor is not None and anchor.hash == record.hash:
            found.add(anchor)
        if record.hash in by_hash:
            found.add(by_hash[record.hash])
        yield record


@dataclass(frozen=True)
class ChainStretch:
    """How far a stretch of the chain links up: its last good entry, or where it breaks."""

    last_seq: int
    last_hash: str
    broken_seq: int | None = None
    reason: str | None = None


def check_stretch(
    records: Iterable[AuditRecord], after_seq: int = 0, after_hash: str = GENESIS_HASH
) -> ChainStretch:
    """Walk entries in order from the one after `after_seq` and stop at the first bad link."""
    expected_seq, expected_prev = after_seq + 1, after_hash
    for record in records:
        if record.seq != expected_seq:
            return ChainStretch(expected_seq - 1, expected_prev, expected_seq, "entry is missing")
        if record.prev_hash != expected_prev:
            return ChainStretch(
                expected_seq - 1, expected_prev, record.seq, "does not link to the entry before it"
            )
        if record_hash(record) != record.hash:
            return ChainStretch(
                expected_seq - 1, expected_prev, record.seq, "content does not match its hash"
            )
        expected_seq, expected_prev = record.seq + 1, record.hash
    return ChainStretch(expected_seq - 1, expected_prev)


def check_head(stretch: ChainStretch, head_seq: int, head_hash: str) -> ChainCheck:
    """Judge a stretch that ends the walk: broken, short of the head, or the head itself."""
    if stretch.broken_seq is not None:
        return ChainCheck(stretch.last_seq, stretch.broken_seq, stretch.reason)
    if head_seq != stretch.last_seq:
        return ChainCheck(
            stretch.last_seq,
            stretch.last_seq + 1,
            "entry is missing (the chain head is further on)",
        )
    if head_hash != stretch.last_hash:
        return ChainCheck(stretch.last_seq, head_seq, "does not match the chain head")
    return ChainCheck(stretch.last_seq)


@dataclass(frozen=True)
class AuditFilter:
    """What an audit listing is narrowed to; every field optional, dates whole UTC days."""

    action: str | None = None
    request_id: str | None = None
    subject_ref: str | None = None
    from_day: date | None = None
    to_day: date | None = None


@dataclass(frozen=True)
class AuditPage:
    """One page of the audit log, newest first, with the keys of its neighbours.

    `older_than` continues the listing below the last entry shown, `newer_than` above
    the first: keyset paging on `seq`, so page 10,000 costs what page 1 does.
    """

    entries: tuple[AuditRecord, ...]
    older_than: int | None
    newer_than: int | None
