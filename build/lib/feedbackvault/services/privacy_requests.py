"""Shape, lock and close data-subject requests inside a data transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from feedbackvault.domain.audit import AuditRecord
from feedbackvault.domain.errors import Conflict, NotFound
from feedbackvault.storage.data_models import AuditEntry, PrivacyRequest
from feedbackvault.storage.units import DataUnit, PipelinedDataUnit

KINDS = ("access", "erasure", "rectification")
STATUSES = ("received", "verified", "completed", "rejected")
OPEN_STATUSES = ("received", "verified")


@dataclass(frozen=True)
class RequestState:
    """A data-subject request as officers see it: dates, status and pseudonymous refs only."""

    id: str
    kind: str
    status: str
    overdue: bool
    received_at: datetime
    due_at: datetime
    subject_refs: list[str]
    verified_at: datetime | None
    verification_method: str | None
    extended_at: datetime | None
    extension_reason: str | None
    completed_at: datetime | None
    rejected_at: datetime | None
    rejection_reason: str | None
    result: dict[str, Any] | None

    @classmethod
    def of(cls, row: PrivacyRequest, now: datetime) -> RequestState:
        """Copy a stored request, deriving whether it is overdue at `now`."""
        return cls(
            id=row.id,
            kind=row.kind,
            status=row.status,
            overdue=row.status in OPEN_STATUSES and row.due_at < now,
            received_at=row.received_at,
            due_at=row.due_at,
            subject_refs=refs_of(row),
            verified_at=row.verified_at,
            verification_method=row.verification_method,
            extended_at=row.extended_at,
            extension_reason=row.extension_reason,
            completed_at=row.completed_at,
            rejected_at=row.rejected_at,
            rejection_reason=row.rejection_reason,
            result=json.loads(row.result) if row.result else None,
        )


def refs_of(row: PrivacyRequest) -> list[str]:
    """Return the subject ids a request was matched to."""
    refs: list[str] = json.loads(row.subject_refs) if row.subject_refs else []
    return refs


def lock(unit: DataUnit, request_id: str) -> PrivacyRequest:
    """Load and lock a request, or raise NotFound."""
    row = unit.privacy.get_for_update(request_id)
    if row is None:
        raise NotFound("No privacy request with that id.")
    return row


def lock_verified(unit: DataUnit, request_id: str) -> PrivacyRequest:
    """Load and lock a request that may be fulfilled now (it must be verified)."""
    return fulfillable(unit.privacy.get_for_update(request_id))


def fulfillable(row: PrivacyRequest | None) -> PrivacyRequest:
    """Return a locked request that may be fulfilled now, or raise NotFound or Conflict."""
    if row is None:
        raise NotFound("No privacy request with that id.")
    if row.status != "verified":
        raise Conflict(f"Only a verified request can be fulfilled; this one is {row.status}.")
    return row


def record_step(
    unit: DataUnit,
    row: PrivacyRequest,
    *,
    at: datetime,
    actor: str,
    action: str,
    details: Mapping[str, object] | None = None,
) -> AuditEntry:
    """Audit one step of a request, naming its pseudonymous subject refs (never identifiers)."""
    return _audit_step(
        unit, row, row.status, refs_of(row), at=at, actor=actor, action=action, details=details
    )


def record_step_queued(
    unit: PipelinedDataUnit,
    row: PrivacyRequest,
    *,
    at: datetime,
    actor: str,
    action: str,
    details: Mapping[str, object] | None = None,
) -> None:
    """Audit one step as `record_step` does, in a pipelined unit: sent with its COMMIT."""
    unit.audit.send(
        at=at, actor=actor, action=action,
        **_step_entry(row, row.status, refs_of(row), details),
    )  # fmt: skip


def close(
    unit: DataUnit,
    row: PrivacyRequest,
    *,
    at: datetime,
    actor: str,
    subject_refs: Sequence[str],
    details: Mapping[str, object],
) -> AuditEntry:
    """Mark a request completed, forget its identifier digests and audit the fulfilment.

    The caller stores `row.result` (counts, or the erasure certificate with the entry's
    hash). The row is changed only after the audit append, so the commit writes the
    status, digests and result in one UPDATE instead of one before and one after it.
    """
    refs = list(subject_refs)
    entry = _audit_step(
        unit, row, "completed", refs, at=at, actor=actor, action="request.fulfilled",
        details=details,
    )  # fmt: skip
    _completed(row, at, refs)
    return entry


def close_pipelined(
    unit: PipelinedDataUnit,
    row: PrivacyRequest,
    *,
    at: datetime,
    actor: str,
    subject_refs: Sequence[str],
    details: Mapping[str, object],
) -> Callable[[], AuditRecord]:
    """Close a request as `close` does in a pipelined unit; return what reads its audit entry.

    The entry goes out with the unit's next round trip; only a caller that needs its
    hash waits for it. The caller sets `row.result` and stores the row
    (`unit.requests.complete`).
    """
    refs = list(subject_refs)
    sealed = unit.audit.send(
        at=at, actor=actor, action="request.fulfilled",
        **_step_entry(row, "completed", refs, details),
    )  # fmt: skip
    _completed(row, at, refs)
    return sealed


def _completed(row: PrivacyRequest, at: datetime, refs: list[str]) -> None:
    row.status, row.completed_at = "completed", at
    row.subject_refs = json.dumps(refs)
    # A closed request must not be able to find its subject again (e.g. after erasure).
    row.email_digest = row.customer_id_digest = None


def _audit_step(
    unit: DataUnit,
    row: PrivacyRequest,
    status: str,
    refs: Sequence[str],
    *,
    at: datetime,
    actor: str,
    action: str,
    details: Mapping[str, object] | None,
) -> AuditEntry:
    return unit.audit.append(
        at=at, actor=actor, action=action, **_step_entry(row, status, refs, details)
    )


class _StepEntry(TypedDict):
    subject_ref: str | None
    request_id: str
    details: dict[str, object]


def _step_entry(
    row: PrivacyRequest,
    status: str,
    refs: Sequence[str],
    details: Mapping[str, object] | None,
) -> _StepEntry:
    """Name what a step's audit entry says of its request: kind, status, pseudonymous refs."""
    payload: dict[str, object] = {"kind": row.kind, "status": status, **(details or {})}
    if len(refs) > 1:
        payload["subject_refs"] = list(refs)
    return {
        "subject_ref": refs[0] if refs else None,
        "request_id": row.id,
        "details": payload,
    }
