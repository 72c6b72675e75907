"""Receive, verify, extend, reject and fulfil data-subject requests (GDPR Art. 12-17)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from feedbackvault.domain.audit import AuditRecord
from feedbackvault.domain.clock import Clock
from feedbackvault.domain.durations import add_calendar_months
from feedbackvault.domain.errors import Conflict, NotFound, ValidationFailed
from feedbackvault.domain.ids import new_id
from feedbackvault.domain.purposes import PolicySet
from feedbackvault.services.access_export import AccessExport
from feedbackvault.services.erasure import ErasureService
from feedbackvault.services.privacy_requests import (
    KINDS,
    OPEN_STATUSES,
    RequestState,
    close_pipelined,
    fulfillable,
    lock,
    record_step,
    record_step_queued,
    refs_of,
)
from feedbackvault.services.rectification import RectificationService
from feedbackvault.services.subject_keys import SubjectKeys
from feedbackvault.services.subject_lookup import FoundSubjects, SubjectFinder
from feedbackvault.storage.data_models import PrivacyRequest
from feedbackvault.storage.units import DataUnit, Stores

# GDPR Art. 12(3): answer within one month, extendable once by two further months.
RESPONSE_MONTHS = 1
MAX_EXTENSION_MONTHS = 2
RECTIFIABLE_FIELDS = ("email", "name", "customer_id")


@dataclass(frozen=True)
class Fulfilment:
    """The outcome of fulfilling a request: its state and what the kind produced."""

    state: RequestState
    certificate: dict[str, Any] | None = None
    rectified: dict[str, Any] | None = None
    export: Iterator[bytes] | None = None


class SubjectRightsService:
    """The data-subject request lifecycle for privacy officers."""

    def __init__(
        self, stores: Stores, policies: PolicySet, subject_keys: SubjectKeys, clock: Clock
    ) -> None:
        self.stores = stores
        self.subject_keys = subject_keys
        self.clock = clock
        self.finder = SubjectFinder(stores, subject_keys)
        self.exports = AccessExport(stores, policies, subject_keys, clock)
        self.erasure = ErasureService(stores, policies, subject_keys, clock)
        self.rectification = RectificationService(stores, subject_keys, clock)

    def create(
        self, kind: str, identifiers: Mapping[str, str], note: str | None, actor: str
    ) -> RequestState:
        """Record a new request; only digests of its identifiers are stored, and no note text."""
        if kind not in KINDS:
            raise ValidationFailed({"kind": [f"Must be one of: {', '.join(KINDS)}."]})
        digests = self.subject_keys.digests(identifiers)
        if not digests:
            raise ValidationFailed({"subject": ["Give an email or a customer_id."]})
        now = self.clock.now().replace(microsecond=0)
        # Found before the write, in statements of their own: the refs are what the
        # stores held when the request came in, and fulfilling it looks again.
        with self.stores.read_statements() as reads:
            subject_refs = self.finder.find(reads, digests).ids
        row = PrivacyRequest(
            id=new_id(now),
            kind=kind,
            status="received",
            email_digest=digests.get("email"),
            customer_id_digest=digests.get("customer_id"),
            subject_refs=json.dumps(subject_refs),
            received_at=now,
            due_at=add_calendar_months(now, RESPONSE_MONTHS),
        )
        details: dict[str, object] = {
            "identifiers": sorted(digests),
            "subjects_found": len(subject_refs),
        }
        if note:
            # The note is free text that may name the subject: keep only its length.
            details["note_chars"] = len(note)
        with self.stores.pipelined_data() as unit:
            unit.requests.add(row)
            record_step_queued(
                unit, row, at=now, actor=actor, action="request.created", details=details
            )
        return RequestState.of(row, now)

    def listing(self, status: str | None, limit: int) -> list[RequestState]:
        """List requests by status, or those overdue; never any personal field."""
        now = self.clock.now()
        with self.stores.read() as unit:
            return [RequestState.of(row, now) for row in unit.privacy.listing(status, now, limit)]

    def queue(
        self, status: str | None, kind: str | None, limit: int, offset: int = 0
    ) -> list[RequestState]:
        """List requests for the console: open ones by due date (overdue first), then closed."""
        now = self.clock.now()
        with self.stores.read() as unit:
            rows = unit.privacy.queue(status, kind, now, limit, offset)
            return [RequestState.of(row, now) for row in rows]

    def creators(self, request_ids: Sequence[str]) -> dict[str, str]:
        """Name who recorded each request (a token, an account, the privacy centre)."""
        with self.stores.read() as unit:
            return unit.audit.creators(request_ids)

    def counts(self) -> dict[str, int]:
        """Count requests per status, with the open ones past due as `overdue`."""
        with self.stores.read() as unit:
            return unit.privacy.counts(self.clock.now())

    def erasure_preview(self, request_id: str) -> dict[str, int]:
        """Count what fulfilling a verified erasure would destroy, changing nothing."""
        row = self._snapshot(request_id)
        if row.kind != "erasure" or row.status != "verified":
            raise Conflict("Only a verified erasure request can be previewed.")
        with self.stores.read_statements() as reads:
            found = self._subjects(reads, row)
            responses, consents = reads.exports.counts(found.ids, self.clock.now())
        return {
            "subjects": len(found.ids),
            "responses": responses,
            "consents": consents,
            "keys": found.key_versions,
        }

    def get(self, request_id: str) -> RequestState:
        """Return one request."""
        with self.stores.read_statements() as unit:
            row = unit.request_rows.get(request_id)
            if row is None:
                raise NotFound("No privacy request with that id.")
            return RequestState.of(row, self.clock.now())

    def verify(self, request_id: str, method: str, actor: str) -> RequestState:
        """Record that the subject's identity was checked."""
        now = self.clock.now().replace(microsecond=0)
        with self.stores.pipelined_data() as unit:
            row = unit.requests.mark_verified(request_id, now, method)
            if row is None:
                status = unit.requests.status_of(request_id)
                if status is None:
                    raise NotFound("No privacy request with that id.")
                raise Conflict(f"Only a received request can be verified; this one is {status}.")
            record_step_queued(
                unit, row, at=now, actor=actor, action="request.verified",
                details={"method": method},
            )  # fmt: skip
        return RequestState.of(row, now)

    def extend(self, request_id: str, months: int, reason: str, actor: str) -> RequestState:
        """Extend an open request once by one or two months from its original due date."""
        if not 1 <= months <= MAX_EXTENSION_MONTHS:
            raise ValidationFailed({"months": ["Must be 1 or 2."]})
        now = self.clock.now().replace(microsecond=0)
        with self.stores.data() as unit:
            row = lock(unit, request_id)
            if row.status not in OPEN_STATUSES:
                raise Conflict(f"Only an open request can be extended; this one is {row.status}.")
            if row.extended_at is not None:
                raise Conflict("This request was already extended once.")
            row.due_at = add_calendar_months(row.received_at, RESPONSE_MONTHS + months)
            row.extended_at, row.extension_reason = now, reason
            record_step(
                unit,
                row,
                at=now,
                actor=actor,
                action="request.extended",
                details={"months": months, "due_at": row.due_at.isoformat()},
            )
            return RequestState.of(row, now)

    def reject(self, request_id: str, reason: str, actor: str) -> RequestState:
        """Reject an open request with a reason, forgetting its identifier digests."""
        now = self.clock.now().replace(microsecond=0)
        with self.stores.data() as unit:
            row = lock(unit, request_id)
            if row.status not in OPEN_STATUSES:
                raise Conflict(f"Only an open request can be rejected; this one is {row.status}.")
            row.status, row.rejected_at, row.rejection_reason = "rejected", now, reason
            row.email_digest = row.customer_id_digest = None
            record_step(unit, row, at=now, actor=actor, action="request.rejected")
            return RequestState.of(row, now)

    def fulfil(
        self, request_id: str, actor: str, respondent: Mapping[str, str] | None = None
    ) -> Fulfilment:
        """Fulfil a verified request by its kind (409 otherwise).

        Fulfilling a completed erasure or rectification again finishes its
        key-store half (after a crash between the stores) and answers the same
        result; any other completed request is a conflict.
        """
        row = self._snapshot(request_id)
        if row.kind != "rectification" and respondent is not None:
            raise ValidationFailed({"respondent": ["Only a rectification takes corrected fields."]})
        if row.status == "completed" and row.kind in ("erasure", "rectification"):
            return self._finish_again(row)
        if row.status != "verified":
            raise Conflict(f"Only a verified request can be fulfilled; this one is {row.status}.")
        corrected = _corrected(respondent) if row.kind == "rectification" else {}
        # Found from the request as read: its digests and refs change only when it
        # closes, and each kind locks it and checks it is still verified.
        with self.stores.read_statements() as reads:
            found = self._subjects(reads, row)
        if row.kind == "rectification":
            rectified = self.rectification.rectify(row.id, found.keyed, corrected, actor)
            return Fulfilment(self.get(row.id), rectified=rectified)
        if row.kind == "erasure":
            state, certificate = self.erasure.erase(row.id, found, actor)
            return Fulfilment(state, certificate=certificate)
        return self._answer_access(row.id, found, actor)

    def _answer_access(self, request_id: str, found: FoundSubjects, actor: str) -> Fulfilment:
        """Complete an access request and stream its export.

        The request is completed with its counts in the data transaction that reads
        the first page of every section: on PostgreSQL the lock goes out with the
        response and consent pages, and the completion, its audit entry, the history
        page and the COMMIT together after them. A subject with fewer than a page of
        rows is answered from that transaction and one key-store read.
        """
        now = self.clock.now()
        subjects = found.keyed
        with self.stores.pipelined_data() as unit:
            locked = unit.requests.lock(request_id)
            start, counts = self.exports.start(unit.exports, subjects, now)
            request = fulfillable(locked())
            request.result = json.dumps(counts)
            at = now.replace(microsecond=0)
            close_pipelined(
                unit, request, at=at, actor=actor, subject_refs=subjects, details=counts
            )
            unit.requests.complete(request)
            # Sent after the append, so the history holds the fulfilment itself.
            history = self.exports.history_page(unit.exports, subjects, now)
            unit.cursor.queue_commit()
            start = replace(start, history=history())
        state = RequestState.of(request, now)
        return Fulfilment(state, export=self.exports.json_chunks(subjects, found.keys, start))

    def export(self, request_id: str, fmt: str, actor: str) -> Iterator[bytes]:
        """Audit the download, then stream a completed access request's export as JSON or zip."""
        now = self.clock.now().replace(microsecond=0)
        with self.stores.data() as unit:
            row = lock(unit, request_id)
            if row.kind != "access" or row.status != "completed":
                raise Conflict("Only a completed access request has an export.")
            record_step(
                unit, row, at=now, actor=actor, action="request.export_downloaded",
                details={"format": fmt},
            )  # fmt: skip
            subjects = refs_of(row)
        with self.stores.key_reads() as keys:
            _, held = self.subject_keys.owners_and_keys(keys, {}, subjects)
        # Subjects erased since the request was answered have nothing left to export.
        opened = {sid: self.subject_keys.unwrap(versions[-1]) for sid, versions in held.items()}
        live = [sid for sid in subjects if sid in opened]
        if fmt == "csv":
            return self.exports.zip_chunks(live, opened)
        return self.exports.json_chunks(live, opened)

    def audit(self, *, request_id: str | None, subject_ref: str | None) -> list[AuditRecord]:
        """Return the audit entries about one request or one pseudonymous subject."""
        if (request_id is None) == (subject_ref is None):
            raise ValidationFailed({"request_id": ["Give exactly one of request_id, subject_ref."]})
        with self.stores.read() as unit:
            return unit.audit.find(request_id=request_id, subject_ref=subject_ref)

    def _snapshot(self, request_id: str) -> PrivacyRequest:
        with self.stores.read_statements() as unit:
            row = unit.request_rows.get(request_id)
        if row is None:
            raise NotFound("No privacy request with that id.")
        return row

    def _subjects(self, unit: DataUnit, row: PrivacyRequest) -> FoundSubjects:
        """Union the subjects found now with those matched when the request came in."""
        digests: dict[Any, bytes] = {}
        if row.email_digest is not None:
            digests["email"] = row.email_digest
        if row.customer_id_digest is not None:
            digests["customer_id"] = row.customer_id_digest
        return self.finder.find(unit, digests, earlier=refs_of(row))

    def _finish_again(self, row: PrivacyRequest) -> Fulfilment:
        if row.kind == "erasure":
            self.erasure.shred(refs_of(row))
        else:
            self.rectification.retire_old_keys(refs_of(row))
        result = json.loads(row.result) if row.result else {}
        state = self.get(row.id)
        if row.kind == "erasure":
            return Fulfilment(state, certificate=result)
        return Fulfilment(state, rectified=result)


def _corrected(respondent: Mapping[str, str] | None) -> dict[str, str]:
    values = {k: v for k, v in (respondent or {}).items() if k in RECTIFIABLE_FIELDS and v}
    if not values:
        raise ValidationFailed({"respondent": ["Give at least one of email, name, customer_id."]})
    return values
